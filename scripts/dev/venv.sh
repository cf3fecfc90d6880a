#!/usr/bin/env bash
# Create or refresh .venv from requirements.txt; a stamp keyed by the file's hash makes a
# second run free.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
venv=$top/.venv
stamp=$venv/.requirements-$(sha256sum "$top/requirements.txt" | cut -c1-12)
[ -f "$stamp" ] && exit 0
python3 -m venv "$venv"
"$venv/bin/pip" install -q --upgrade pip
"$venv/bin/pip" install -q -r "$top/requirements.txt"
rm -f "$venv"/.requirements-*
touch "$stamp"
