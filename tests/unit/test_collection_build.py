"""`ansible-galaxy collection build` works and ships the collection without caches, secrets or
test output."""
import pathlib
import subprocess
import tarfile

import pytest

TOP = pathlib.Path(__file__).resolve().parents[2]
NEVER_SHIPPED = (".venv/", ".cache/", "artifacts/", "tests/output/", ".pytest_cache/", ".git/")


@pytest.fixture(scope="module")
def members(tmp_path_factory):
    out = tmp_path_factory.mktemp("build")
    # Planted where a developer's run leaves such things: the build must leave them out.
    planted = [TOP / "inventories" / "dev" / "credentials" / "planted-by-test", TOP / "artifacts" / "planted-by-test"]
    created = [path for path in planted if not path.exists()]
    for path in created:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("not a real secret\n")
    try:
        subprocess.run(["ansible-galaxy", "collection", "build", "--output-path", str(out)], cwd=TOP, check=True,
                       capture_output=True, text=True)
    finally:
        for path in created:
            path.unlink()
    (tarball,) = out.glob("rdmops-invenio-*.tar.gz")
    with tarfile.open(tarball) as archive:
        return [member.name for member in archive.getmembers()]


def test_build_contains_the_collection(members):
    for expected in ("MANIFEST.json", "FILES.json", "meta/runtime.yml", "roles/credentials/tasks/main.yml",
                     "playbooks/site.yml", "README.md"):
        assert any(name == expected or name.endswith("/" + expected) for name in members), expected


def is_forbidden(name):
    path = "/" + name + "/"
    return (any("/" + part in path for part in NEVER_SHIPPED)
            or "/.molecule/" in path
            or (name.startswith("inventories/") and "/credentials/" in path))


def test_build_leaves_out_caches_secrets_and_test_output(members):
    assert [name for name in members if is_forbidden(name)] == []
