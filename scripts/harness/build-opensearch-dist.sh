#!/usr/bin/env bash
# Build the OpenSearch test distribution the Molecule scenarios install: an archive with the
# layout of an official OpenSearch 2.x tarball, assembled from Maven Central (no OpenSearch
# server is packaged for Debian, PyPI or npm, and artifacts.opensearch.org is not reachable
# here). Downloads and the result are cached per version, so a second run downloads nothing.
#   usage: build-opensearch-dist.sh            -> prints the absolute path of the .tar.gz
#   env:   OPENSEARCH_VERSION (default below), RDMOPS_CACHE, RDMOPS_MAVEN_REPO
set -euo pipefail

version=${OPENSEARCH_VERSION:-2.19.4}
here=$(cd "$(dirname "$0")" && pwd)
cache=${RDMOPS_CACHE:-$HOME/.cache/rdmops-invenio}/opensearch/$version
tarball=$cache/opensearch-$version-assembled.tar.gz
# The archive is rebuilt when the recipe (this script or the assembler) changes.
recipe=$(cat "$0" "$here/opensearch-dist/assemble.py" | sha256sum | cut -c1-16)

if [ -f "$tarball" ] && [ -f "$tarball.sha512" ] && [ "$(cat "$tarball.recipe" 2>/dev/null)" = "$recipe" ]; then
  echo "$tarball"
  exit 0
fi

mkdir -p "$cache"
echo "build-opensearch-dist: assembling OpenSearch $version in $cache" >&2
python3 "$here/opensearch-dist/assemble.py" "$version" "$cache" "$tarball"
(cd "$cache" && sha512sum "$(basename "$tarball")" >"$tarball.sha512.part")
mv "$tarball.sha512.part" "$tarball.sha512"
echo "$recipe" >"$tarball.recipe"
echo "$tarball"
