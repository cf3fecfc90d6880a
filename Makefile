# rdmops.invenio: `make demo` deploys an all-in-one site into a local systemd container;
# `make test` runs every check. Both install what they need first.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c

export RDMOPS_CACHE ?= $(HOME)/.cache/rdmops-invenio
VENV := $(CURDIR)/.venv
export PATH := $(VENV)/bin:$(PATH)
export ANSIBLE_COLLECTIONS_PATH := $(RDMOPS_CACHE)/collections
ARTIFACTS ?= $(CURDIR)/artifacts
SCENARIOS ?= services
COLLECTION_LINK := $(ANSIBLE_COLLECTIONS_PATH)/ansible_collections/rdmops/invenio

.PHONY: check test lint unit sanity integration molecule demo bench venv host image \
        opensearch-dist collection build clean

venv: $(VENV)/.ok
$(VENV)/.ok: requirements.txt scripts/venv.sh
	scripts/venv.sh
	touch $@

# The roles and plugins are addressed as rdmops.invenio.*: make this checkout that collection.
collection:
	mkdir -p $(dir $(COLLECTION_LINK))
	ln -sfn $(CURDIR) $(COLLECTION_LINK)

host:
	scripts/host-bootstrap.sh

image: host
	@echo "base image: $$(scripts/build-base-image.sh bookworm)"

opensearch-dist: venv
	scripts/build-opensearch-dist.sh

check: lint unit sanity

lint: venv collection
	yamllint -s .
	ansible-lint

unit: venv collection
	pytest -q tests/unit

sanity: venv collection
	scripts/sanity.sh

integration: venv collection host
	pytest -q tests/integration

molecule: venv collection host
	export RDMOPS_BASE_IMAGE=$$(scripts/build-base-image.sh bookworm); \
	for s in $(SCENARIOS); do scripts/timed.sh "molecule $$s" molecule test -s $$s; done

test: check integration molecule

demo: venv collection host
	scripts/demo.sh

bench: venv collection host
	scripts/bench.sh

build: venv
	ansible-galaxy collection build --force --output-path $(CURDIR)

clean:
	rm -rf $(ARTIFACTS) rdmops-invenio-*.tar.gz tests/output
