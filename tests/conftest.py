"""Make `ansible_collections.rdmops.invenio` importable for the unit and integration tests:
`make` links this checkout into the first entry of ANSIBLE_COLLECTIONS_PATH."""
import os
import sys

for entry in reversed(os.environ.get("ANSIBLE_COLLECTIONS_PATH", "").split(os.pathsep)):
    if entry and entry not in sys.path:
        sys.path.insert(0, entry)
