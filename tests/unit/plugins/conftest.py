"""Data shared by the tests of plugins/modules/ and of plugins/module_utils/."""
import pytest


@pytest.fixture
def CURRENT():
    """What GET /_snapshot/backups answers for an fs repository registered with compress: true,
    max_snapshot_bytes_per_sec: 40mb and chunk_size: 1g (OpenSearch 2.x).

    Named like the module constant it was, so the assertions that use it read as before."""
    return {'type': 'fs', 'settings': {'location': '/srv/snap/invenio', 'compress': 'true',
                                       'max_snapshot_bytes_per_sec': '40mb', 'chunk_size': '1g'}}
