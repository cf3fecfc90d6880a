"""Reaching the scenario's hosts by name and reading the site secrets the credentials role made,
for tests that act from one host against another."""
import functools
import os
import pathlib

import testinfra

INVENTORY = os.environ['MOLECULE_INVENTORY_FILE']


@functools.cache
def connect(name):
    return testinfra.get_host(f'ansible://{name}', ansible_inventory=INVENTORY)


@functools.cache
def network_address(name):
    facts = connect(name).ansible('setup', 'gather_subset=!all,network', check=False)['ansible_facts']
    return facts['ansible_default_ipv4']['address']


def secret(name):
    path = pathlib.Path(os.environ['MOLECULE_EPHEMERAL_DIRECTORY'], 'credentials', name)
    return path.read_text(encoding='utf-8').strip()
