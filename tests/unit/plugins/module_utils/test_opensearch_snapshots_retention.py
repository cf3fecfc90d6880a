"""One retention code path: the opensearch_snapshot module and the timer's opensearch-snapshot
program decide with the same functions of module_utils/opensearch_snapshots.py, and agree on
keep_last and on snapshots still running."""
import configparser
import importlib.machinery
import importlib.util
import os
import sys

import pytest

from ansible_collections.rdmops.invenio.plugins.module_utils import opensearch_snapshots
from ansible_collections.rdmops.invenio.plugins.module_utils.opensearch_snapshots import (
    RUNNING_STATES,
    retention_rules,
    select_for_pruning,
)

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))))
PROGRAM = os.path.join(ROOT, 'roles', 'opensearch_snapshots', 'files', 'opensearch-snapshot')
NOW_MS = 1764720000000
DAY_MS = 86400 * 1000


def snap(name, days_ago, state='SUCCESS'):
    return {'snapshot': name, 'state': state, 'start_time_in_millis': NOW_MS - days_ago * DAY_MS, 'start_time': f'-{days_ago}d'}


@pytest.fixture(scope='module')
def program(tmp_path_factory):
    """The timer's program as the role installs it: beside a copy of module_utils/opensearch_snapshots.py."""
    installed = tmp_path_factory.mktemp('libexec')
    (installed / 'opensearch-snapshot').write_bytes(open(PROGRAM, 'rb').read())
    (installed / 'opensearch_snapshots.py').write_bytes(open(opensearch_snapshots.__file__, 'rb').read())
    loader = importlib.machinery.SourceFileLoader('opensearch_snapshot_program', str(installed / 'opensearch-snapshot'))
    spec = importlib.util.spec_from_loader(loader.name, loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    yield module
    sys.modules.pop('opensearch_snapshots', None)
    sys.path.remove(str(installed))


@pytest.mark.parametrize('keep_last, max_age, expected', [
    (14, '30d', (14, 30 * 86400)),
    (None, '8w', (None, 8 * 7 * 86400)),
    (3, '', (3, None)),
    (3, None, (3, None)),
])
def test_retention_rules_accept_a_count_and_or_an_age(keep_last, max_age, expected):
    assert retention_rules(keep_last, max_age) == expected


@pytest.mark.parametrize('keep_last, max_age, words', [
    (0, '30d', 'keep_last must be 1 or more'),
    (-2, None, 'keep_last must be 1 or more'),
    (None, '', 'needs keep_last and/or max_age'),
    (None, None, 'needs keep_last and/or max_age'),
    (None, '30', "max_age '30' is not a time value"),
])
def test_retention_rules_refuse_what_would_delete_all_or_nothing(keep_last, max_age, words):
    with pytest.raises(ValueError, match=words):
        retention_rules(keep_last, max_age)


@pytest.mark.parametrize('state', RUNNING_STATES)
def test_no_running_state_is_ever_deleted(state):
    delete, keep = select_for_pruning([snap('a', 40, state), snap('b', 1), snap('c', 2)], NOW_MS, keep_last=1, max_age_seconds=86400 * 30)
    assert 'a' in keep and delete == ['c']


def test_the_program_decides_with_the_module_utils_functions(program):
    assert program.select_for_pruning.__code__.co_code == select_for_pruning.__code__.co_code
    assert program.retention_rules.__code__.co_code == retention_rules.__code__.co_code
    assert not hasattr(program, 'select_for_deletion'), 'the program must not keep a retention copy of its own'


class RecordingCluster:
    """Stands in for the HTTP layer only: answers the listing, records deletions."""

    def __init__(self, snapshots):
        self.snapshots = snapshots
        self.deleted = []

    def request(self, method, path, body=None, accept=(), timeout=None):
        if method == 'GET':
            return 200, {'snapshots': self.snapshots}
        self.deleted.append(path.rsplit('/', 1)[-1])
        return 200, {}


def test_the_program_prunes_exactly_what_the_module_would(program, monkeypatch):
    snapshots = [snap('scheduled-1', 1), snap('scheduled-2', 2, 'STARTED'), snap('scheduled-3', 3), snap('scheduled-4', 4, 'INIT'),
                 snap('scheduled-5', 5), snap('manual', 90)]
    monkeypatch.setattr(program.time, 'time', lambda: NOW_MS / 1000)
    job = program.Job.__new__(program.Job)
    job.repository, job.prefix, job.timeout = 'invenio-search', 'scheduled-', 60
    job.cluster = RecordingCluster(snapshots)
    job.prune(2, None)
    expected, _ = select_for_pruning(snapshots, NOW_MS, keep_last=2, name_prefix='scheduled-')
    assert job.cluster.deleted == expected == ['scheduled-3', 'scheduled-5']


@pytest.mark.parametrize('keep_last, max_age, words', [('0', '30d', 'keep_last must be 1 or more'), ('', '', 'needs keep_last')])
def test_the_program_refuses_the_settings_the_module_refuses(program, tmp_path, capsys, keep_last, max_age, words):
    config = configparser.ConfigParser()
    config['retention'] = {'keep_last': keep_last, 'max_age': max_age}
    path = tmp_path / 'snapshot.conf'
    with open(path, 'w') as handle:
        config.write(handle)
    assert program.main(['--config', str(path), 'prune']) == 1
    assert words in capsys.readouterr().err
