"""Reading `pgbackrest info --output=json`: the shapes pgBackRest 2.45 prints for a healthy
stanza, a missing one and an unreachable repository."""
import pytest

from ansible_collections.rdmops.invenio.plugins.module_utils._pgbackrest import InfoError, summarize


def backup(label, kind, start, prior=None):
    return {
        'archive': {'start': '000000010000000000000003', 'stop': '000000010000000000000004'},
        'backrest': {'format': 5, 'version': '2.45'},
        'database': {'id': 1, 'repo-key': 1},
        'error': False,
        'info': {'delta': 23000000, 'repository': {'delta': 3000000, 'size': 3100000}, 'size': 23100000},
        'label': label,
        'lsn': {'start': '0/3000028', 'stop': '0/4000050'},
        'prior': prior,
        'reference': None,
        'timestamp': {'start': start, 'stop': start + 7},
        'type': kind,
    }


HEALTHY = [{
    'archive': [
        {'database': {'id': 1, 'repo-key': 1}, 'id': '15-1', 'max': '000000010000000000000009', 'min': '000000010000000000000003'},
    ],
    'backup': [backup('20261203-101500F', 'full', 1764756900),
               backup('20261203-101500F_20261203-111500I', 'incr', 1764760500, prior='20261203-101500F')],
    'cipher': 'aes-256-cbc',
    'db': [{'id': 1, 'repo-key': 1, 'system-id': 7579000000000000001, 'version': '15'}],
    'name': 'main',
    'repo': [{'cipher': 'aes-256-cbc', 'key': 1, 'status': {'code': 0, 'message': 'ok'}}],
    'status': {'code': 0, 'lock': {'backup': {'held': False}}, 'message': 'ok'},
}]


def test_a_healthy_stanza_is_restorable_and_names_its_newest_backup():
    info = summarize(HEALTHY, 'main')
    assert info['exists'] and info['reachable'] and info['restorable']
    assert [b['label'] for b in info['backups']] == ['20261203-101500F', '20261203-101500F_20261203-111500I']
    assert info['newest']['type'] == 'incr' and info['newest']['prior'] == '20261203-101500F'
    assert info['newest']['duration_seconds'] == 7 and info['newest']['repository_delta'] == 3000000
    assert info['system_id'] == '7579000000000000001' and info['pg_version'] == '15'
    assert (info['wal_min'], info['wal_max']) == ('000000010000000000000003', '000000010000000000000009')


def test_after_a_restore_onto_another_cluster_the_newest_database_counts():
    data = [dict(HEALTHY[0], db=HEALTHY[0]['db'] + [{'id': 2, 'repo-key': 1, 'system-id': 7579000000000000002, 'version': '15'}],
                 archive=HEALTHY[0]['archive'] + [{'database': {'id': 2, 'repo-key': 1}, 'id': '15-2',
                                                   'max': '000000020000000000000011', 'min': '000000020000000000000010'}])]
    info = summarize(data, 'main')
    assert info['system_id'] == '7579000000000000002'
    assert info['wal_max'] == '000000020000000000000011'


def test_a_missing_stanza_exists_not_and_restores_nothing():
    data = [{'archive': [], 'backup': [], 'cipher': 'none', 'db': [], 'name': 'main',
             'repo': [{'cipher': 'none', 'key': 1, 'status': {'code': 1, 'message': 'missing stanza path'}}],
             'status': {'code': 1, 'lock': {'backup': {'held': False}}, 'message': 'missing stanza path'}}]
    info = summarize(data, 'main')
    assert not info['exists'] and info['reachable'] and not info['restorable']
    assert info['newest'] is None and info['system_id'] is None


def test_an_unreachable_repository_says_why():
    data = [{'archive': [], 'backup': [], 'cipher': 'none', 'db': [], 'name': 'main',
             'repo': [{'cipher': 'none', 'key': 1, 'status': {'code': 99, 'message': '[HostConnectError] unable to connect'}}],
             'status': {'code': 99, 'lock': {'backup': {'held': False}}, 'message': 'other'}}]
    info = summarize(data, 'main')
    assert not info['reachable'] and not info['restorable']
    assert info['repo_messages'] == ['[HostConnectError] unable to connect']


def test_a_stanza_without_backups_is_not_restorable():
    data = [dict(HEALTHY[0], backup=[], status={'code': 2, 'message': 'no valid backups'})]
    info = summarize(data, 'main')
    assert info['exists'] and not info['restorable']


@pytest.mark.parametrize('data, words', [({}, 'JSON list'), (HEALTHY, "no stanza 'other'")])
def test_output_that_is_not_the_stanza_is_refused_with_a_reason(data, words):
    with pytest.raises(InfoError, match=words):
        summarize(data, 'other' if data else 'main')
