"""Running the collection's playbooks from scenario tests, as a user runs them."""
import json
import os
import subprocess

PROJECT = os.environ.get('MOLECULE_PROJECT_DIRECTORY', os.getcwd())


def playbook(name, *args, inventory=None, timeout=900, **extra_vars):
    """Run one of the collection's playbooks (or a path) against an inventory (the scenario's by
    default): args are passed as given (e.g. '-e', 'restore_confirm=true'), extra_vars as JSON.
    The result has `output`, stdout and stderr with whitespace normalised (the YAML callback folds
    long messages)."""
    path = name if os.path.isabs(name) else os.path.join(PROJECT, 'playbooks', name)
    cmd = ['ansible-playbook', '-i', inventory or os.environ['MOLECULE_INVENTORY_FILE'], path, *args]
    if extra_vars:
        cmd += ['-e', json.dumps(extra_vars)]
    env = dict(os.environ, ANSIBLE_NOCOLOR='1', ANSIBLE_FORCE_COLOR='0')
    result = subprocess.run(cmd, capture_output=True, text=True, check=False, timeout=timeout, env=env)
    result.output = ' '.join((result.stdout + result.stderr).split())
    return result
