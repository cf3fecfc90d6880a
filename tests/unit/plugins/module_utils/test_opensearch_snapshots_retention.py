"""Retention in module_utils/opensearch_snapshots.py: ages, rules and which snapshots go. One retention
code path: the opensearch_snapshot module and the timer's opensearch-snapshot program decide with
these same functions, and agree on keep_last and on snapshots still running."""
import configparser
import importlib.machinery
import importlib.util
import os
import sys

import pytest

from ansible_collections.rdmops.invenio.plugins.module_utils import opensearch_snapshots
from ansible_collections.rdmops.invenio.plugins.module_utils.opensearch_snapshots import (
    RUNNING_STATES,
    parse_age,
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


@pytest.mark.parametrize('text, seconds', [('30d', 2592000), ('12h', 43200), ('8w', 4838400), ('90m', 5400), ('45s', 45), (' 2d ', 172800)])
def test_ages_read_like_opensearch_time_values(text, seconds):
    assert parse_age(text) == seconds


@pytest.mark.parametrize('text', ['30', 'd', '1.5d', '3 months', '-1d'])
def test_unreadable_ages_are_refused(text):
    with pytest.raises(ValueError):
        parse_age(text)


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


SNAPSHOTS = [snap('nightly-5', 5), snap('nightly-1', 1), snap('nightly-3', 3), snap('nightly-2', 2), snap('nightly-4', 4),
             snap('manual-before-upgrade', 40)]


def test_keep_last_keeps_the_newest_n():
    delete, keep = select_for_pruning(SNAPSHOTS, NOW_MS, keep_last=2, name_prefix='nightly-')
    assert keep == ['nightly-1', 'nightly-2']
    assert delete == ['nightly-3', 'nightly-4', 'nightly-5']


def test_snapshots_outside_the_prefix_are_untouched_and_unlisted():
    delete, keep = select_for_pruning(SNAPSHOTS, NOW_MS, keep_last=1, name_prefix='nightly-')
    assert 'manual-before-upgrade' not in delete + keep


def test_max_age_deletes_only_older_snapshots():
    delete, keep = select_for_pruning(SNAPSHOTS, NOW_MS, max_age_seconds=parse_age('3d') + 60)
    assert delete == ['nightly-4', 'nightly-5', 'manual-before-upgrade']
    assert keep == ['nightly-1', 'nightly-2', 'nightly-3']


def test_either_rule_suffices_to_delete():
    delete, keep = select_for_pruning(SNAPSHOTS, NOW_MS, keep_last=4, max_age_seconds=parse_age('2d') + 60)
    assert keep == ['nightly-1', 'nightly-2']
    assert len(delete) == 4


def test_the_newest_successful_snapshot_is_never_deleted():
    snapshots = [snap('n-1', 1, 'FAILED'), snap('n-2', 2, 'PARTIAL'), snap('n-3', 50), snap('n-4', 60)]
    delete, keep = select_for_pruning(snapshots, NOW_MS, keep_last=1, max_age_seconds=parse_age('30d'))
    assert keep == ['n-1', 'n-3']
    assert delete == ['n-2', 'n-4']


def test_running_snapshots_are_never_deleted():
    delete, keep = select_for_pruning([snap('a', 0, 'IN_PROGRESS'), snap('b', 90), snap('c', 91)], NOW_MS, keep_last=1)
    assert keep == ['a', 'b'] and delete == ['c']


def test_nothing_to_prune_deletes_nothing():
    everything = ['nightly-1', 'nightly-2', 'nightly-3', 'nightly-4', 'nightly-5', 'manual-before-upgrade']
    assert select_for_pruning(SNAPSHOTS, NOW_MS, keep_last=10) == ([], everything)
    assert select_for_pruning([], NOW_MS, keep_last=1) == ([], [])


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
