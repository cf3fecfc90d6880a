# rdmops.invenio: `make demo` deploys an all-in-one site into a local systemd container;
# `make test` runs every check. Both install what they need first.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c

export RDMOPS_CACHE ?= $(HOME)/.cache/rdmops-invenio
VENV := $(CURDIR)/.venv
export PATH := $(VENV)/bin:$(PATH)
# Per checkout: two checkouts (worktrees) side by side must not point one link at each other.
export ANSIBLE_COLLECTIONS_PATH := $(CURDIR)/.cache/collections
export ARTIFACTS ?= $(CURDIR)/artifacts
# Lanes separated by "|" run side by side, a lane's scenarios one after another
# (scripts/harness/molecule-lanes.sh); `make molecule SCENARIOS=backup` runs one.
SCENARIOS ?= default | credentials services backup search
COLLECTION_LINK := $(ANSIBLE_COLLECTIONS_PATH)/ansible_collections/rdmops/invenio

.PHONY: check test lint unit sanity integration molecule demo venv host image \
        opensearch-dist collection build clean bench bench-search bench-app

venv: $(VENV)/.ok
$(VENV)/.ok: requirements.txt scripts/dev/venv.sh
	scripts/dev/timed.sh "python toolchain (.venv)" scripts/dev/venv.sh
	touch $@

# The roles and plugins are addressed as rdmops.invenio.*: make this checkout that collection.
# ansible-lint installs a copy into its cache ($ANSIBLE_HOME, by default ~/.ansible) unless it
# finds a link to this directory there; a copy would go stale, a shared one would be another checkout's.
LINT_COLLECTION_LINK := $(CURDIR)/.ansible/collections/ansible_collections/rdmops/invenio
collection:
	mkdir -p $(dir $(COLLECTION_LINK))
	ln -sfn $(CURDIR) $(COLLECTION_LINK)
	mkdir -p $(dir $(LINT_COLLECTION_LINK)); rm -rf $(LINT_COLLECTION_LINK); ln -s $(CURDIR) $(LINT_COLLECTION_LINK)

host:
	scripts/dev/timed.sh "host bootstrap (docker, debootstrap)" scripts/harness/host-bootstrap.sh

image: host
	@echo "base image: $$(scripts/harness/build-base-image.sh bookworm)"

opensearch-dist: venv
	scripts/harness/build-opensearch-dist.sh

check: lint unit sanity

# Plugins get pep8/pylint from ansible-test sanity; the rest of the Python is checked here,
# the programs the roles install among it (found by suffix or by shebang: some have no .py).
ROLE_PYTHON := $(shell find roles -path '*/files/*' -type f -not -path '*/node_modules/*' \
  \( -name '*.py' -o -exec sh -c 'head -n 1 "$$1" | grep -q "^\#!.*python"' sh {} \; \) -print | sort)
PYTHON_OUTSIDE_PLUGINS := tests molecule scripts $(ROLE_PYTHON)
lint: venv collection
	scripts/dev/timed.sh "yamllint" yamllint -s .
	ANSIBLE_HOME=$(CURDIR)/.ansible scripts/dev/timed.sh "ansible-lint" ansible-lint
	scripts/dev/timed.sh "pyflakes + pycodestyle" sh -c 'python -m pyflakes $(PYTHON_OUTSIDE_PLUGINS) && \
	  python -m pycodestyle --max-line-length=160 $(PYTHON_OUTSIDE_PLUGINS)'

unit: venv collection
	scripts/dev/timed.sh "unit tests" pytest -q -n auto tests/unit

sanity: venv collection
	scripts/dev/timed.sh "ansible-test sanity" scripts/dev/sanity.sh plugins/

integration: venv collection host
	scripts/dev/timed.sh "module integration tests" pytest -q -n auto --dist loadfile tests/integration

molecule: venv collection host
	export RDMOPS_BASE_IMAGE=$$(scripts/dev/timed.sh "base image bookworm" scripts/harness/build-base-image.sh bookworm); \
	export RDMOPS_BASE_IMAGE_TRIXIE=$$(scripts/dev/timed.sh "base image trixie" scripts/harness/build-base-image.sh trixie); \
	export RDMOPS_OPENSEARCH_ARCHIVE=$$(scripts/dev/timed.sh "opensearch distribution" scripts/harness/build-opensearch-dist.sh); \
	scripts/dev/timed.sh "molecule, every lane (wall time)" scripts/harness/molecule-lanes.sh "$(SCENARIOS)"

# Every phase's wall time lands in $(ARTIFACTS)/timings.txt, printed at the end.
test:
	rm -f $(ARTIFACTS)/timings.txt
	scripts/dev/timed.sh "make test (wall time)" $(MAKE) --no-print-directory check integration molecule
	@echo "== make test phases"; cat $(ARTIFACTS)/timings.txt

demo: venv collection host
	scripts/demo/demo.sh

build: venv
	ansible-galaxy collection build --force --output-path $(CURDIR)

clean:
	rm -rf $(ARTIFACTS) rdmops-invenio-*.tar.gz tests/output

bench: venv collection host
	scripts/bench/pgbackrest.sh
	$(MAKE) --no-print-directory bench-search
	$(MAKE) --no-print-directory bench-app

# OpenSearch snapshot, restore and copy to the backup host against plain copies (docs/benchmarks.md).
bench-search: venv collection host
	scripts/bench/opensearch.sh

# The all-in-one site: converge phases, re-converge, request rates against nginx alone (docs/benchmarks.md).
bench-app: venv collection host
	scripts/bench/app.sh
