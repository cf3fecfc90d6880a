"""galaxy.yml declares every collection the roles and playbooks call, and only those, with
version ranges that hold the versions the pinned ansible package ships (the ones the tests
run), so `ansible-galaxy collection install` brings what the collection needs."""
import json
import pathlib
import re
import subprocess

import pytest
import yaml
from ansible.galaxy.dependency_resolution.versioning import meets_requirements

TOP = pathlib.Path(__file__).resolve().parents[2]
SELF = "rdmops.invenio"
# namespace.collection.name, not part of a path, a file name or a longer dotted word
FQCN = re.compile(r"(?<![\w./@-])([a-z][a-z0-9_]*)\.([a-z][a-z0-9_]*)\.([a-z][a-z0-9_]*)(?![\w.-])")
NOT_COLLECTIONS = {"ansible.builtin", SELF}


def declared():
    return yaml.safe_load((TOP / "galaxy.yml").read_text(encoding="utf-8"))["dependencies"] or {}


@pytest.fixture(scope="module")
def shipped():
    """{collection: version} of the collections installed beside ansible-core (the ansible package's)."""
    listing = subprocess.run(["ansible-galaxy", "collection", "list", "--format", "json"], check=True,
                             capture_output=True, text=True).stdout
    versions = {}
    for collections in json.loads(listing).values():
        for name, info in collections.items():
            versions.setdefault(name, info["version"])
    return versions


@pytest.fixture(scope="module")
def used(shipped):
    """{namespace.collection: files} over the roles' tasks, handlers, vars and templates and the
    playbooks: module names, filters, lookups and tests alike. A dotted name counts when its
    namespace is a collection namespace (variables such as ansible_facts.default_ipv4.address
    are not)."""
    namespaces = {name.split(".")[0] for name in shipped} | {SELF.split(".")[0]}
    found = {}
    paths = [p for p in (TOP / "roles").rglob("*") if p.suffix in (".yml", ".yaml", ".j2") and "node_modules" not in p.parts]
    for path in sorted(paths + list((TOP / "playbooks").rglob("*.yml"))):
        for namespace, collection, _ in FQCN.findall(path.read_text(encoding="utf-8")):
            if namespace in namespaces:
                found.setdefault(f"{namespace}.{collection}", set()).add(str(path.relative_to(TOP)))
    return found


SAMPLE = """\
- name: A module, a lookup and a filter
  community.postgresql.postgresql_query:
    query: "{{ lookup('community.general.random_string') | ansible.utils.ipaddr }}"
  vars:
    address: "{{ ansible_facts.default_ipv4.address }}"
    dest: /etc/systemd/system/redis-server.service.d/rdmops.conf
    src: redis-server.service.d-rdmops.conf.j2
"""


def test_the_scan_reads_modules_lookups_and_filters_but_not_variables_or_paths():
    found = {f"{namespace}.{collection}" for namespace, collection, _ in FQCN.findall(SAMPLE)}
    assert found == {"community.postgresql", "community.general", "ansible.utils", "ansible_facts.default_ipv4"}


def test_the_scan_finds_the_collections_the_roles_call(used):
    assert {"ansible.builtin", "community.postgresql", SELF} <= set(used)
    assert "ansible_facts.default_ipv4" not in used


def test_every_collection_used_is_declared(used):
    undeclared = {name: sorted(files) for name, files in used.items()
                  if name not in NOT_COLLECTIONS and name not in declared()}
    assert undeclared == {}


def test_every_declared_collection_is_used(used):
    assert sorted(set(declared()) - set(used)) == []


@pytest.mark.parametrize("collection", sorted(declared()))
def test_the_declared_range_holds_the_shipped_version(shipped, collection):
    assert collection in shipped, f"{collection} is not installed with the ansible package"
    assert meets_requirements(shipped[collection], declared()[collection]), (collection, shipped[collection])
