#!/usr/bin/env bash
# ansible-test sanity for the collection's plugins.
# ansible-test insists on running from .../ansible_collections/NAMESPACE/NAME and reads the real
# path, so it runs on a copy of the tracked and new (not ignored) files. Its own tool versions
# go into a venv of their own (its --venv mode needs a download this network does not allow).
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
cache=${RDMOPS_CACHE:-$HOME/.cache/rdmops-invenio}
core=$(grep -E '^ansible-core==' "$top/requirements.txt")
venv=$cache/sanity-venv-${core#ansible-core==}
if [ ! -x "$venv/bin/ansible-test" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q "$core"
fi
pip_version=$(grep -oP "pip='\K[0-9.]+" "$venv"/lib/python3*/site-packages/ansible_test/_internal/python_requirements.py)
mkdir -p ~/.ansible/test/cache
cp "$top/scripts/dev/ansible_test_get_pip.py" ~/.ansible/test/cache/get_pip_${pip_version//./_}.py
# Outside the checkout (ansible-test would take the checkout's git root for the collection's),
# one copy per checkout so that two checkouts side by side do not share it.
dest=$cache/sanity/$(printf %s "$top" | sha256sum | cut -c1-12)/ansible_collections/rdmops/invenio
rm -rf "$dest"
mkdir -p "$dest"
(cd "$top" && git ls-files -z --cached --others --exclude-standard | tar --null -T - -cf - --ignore-failed-read 2>/dev/null) | tar -xf - -C "$dest"
cd "$dest"
PATH=$venv/bin:$PATH ansible-test sanity --local --python 3.11 --requirements --color no "$@"
