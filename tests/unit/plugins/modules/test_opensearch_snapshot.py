# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Decisions of opensearch_snapshot (names, retention, restore targets), checked without a server."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime

import pytest

from ansible_collections.rdmops.invenio.plugins.module_utils.opensearch_snapshots import (
    DateMathError,
    expand_index_patterns,
    java_replacement,
    missing_from_snapshot,
    parse_age,
    plan_restore,
    resolve_snapshot_name,
    restore_conflicts,
    restore_targets,
    safety_snapshot_name,
    select_for_pruning,
)
from ansible_collections.rdmops.invenio.plugins.module_utils.opensearch_client import OpenSearchModuleError
from ansible_collections.rdmops.invenio.plugins.modules.opensearch_snapshot import SnapshotModule, failure_text, summarise

NOW = datetime.datetime(2026, 11, 23, 5, 42, 17, tzinfo=datetime.timezone.utc)
DAY_MS = 86400 * 1000
NOW_MS = int(NOW.timestamp() * 1000)


# ---- names -------------------------------------------------------------------------------

@pytest.mark.parametrize('name, expected', [
    ('plain-name', 'plain-name'),
    ('<nightly-{now/d}>', 'nightly-2026.11.23'),
    ('<nightly-{now/d-1d}>', 'nightly-2026.11.22'),
    ('<stats-{now/M{yyyy.MM}}>', 'stats-2026.11'),
    ('<stats-{now/M-1M{yyyy-MM}}>', 'stats-2026-10'),
    ('<h-{now/h{yyyy.MM.dd.HH}}>', 'h-2026.11.23.05'),
    ('<t-{now{yyyyMMdd-HHmmss}}>', 't-20261123-054217'),
    ('<w-{now+2d/w}>', 'w-2026.11.23'),
    ('<w-{now-1d/w}>', 'w-2026.11.16'),
    ('<y-{now/y{yy}}>', 'y-26'),
    ('<tz-{now/d{yyyy.MM.dd|-06:00}}>', 'tz-2026.11.22'),
    ('<tz-{now/d{yyyy.MM.dd|UTC}}>', 'tz-2026.11.23'),
    ('<a-{now/d}-b-{now/M{MM}}>', 'a-2026.11.23-b-11'),
    ('<esc-\\{x\\}-{now/d}>', 'esc-{x}-2026.11.23'),
])
def test_date_math_resolves_like_opensearch(name, expected):
    assert resolve_snapshot_name(name, NOW) == expected


def test_month_arithmetic_clamps_to_the_end_of_the_month():
    moment = datetime.datetime(2026, 3, 31, tzinfo=datetime.timezone.utc)
    assert resolve_snapshot_name('<m-{now-1M}>', moment) == 'm-2026.02.28'


@pytest.mark.parametrize('name', ['<x-{then/d}>', '<x-{now/q}>', '<x-{now/d{yyyy.QQ}}>', '<x-{now/d>', '<x-}>',
                                  '<x-{now{yyyy|Europe/Paris}}>'])
def test_unreadable_date_math_is_refused(name):
    with pytest.raises(DateMathError):
        resolve_snapshot_name(name, NOW)


# ---- retention ---------------------------------------------------------------------------

def snap(name, days_ago, state='SUCCESS'):
    return {'snapshot': name, 'state': state, 'start_time_in_millis': NOW_MS - days_ago * DAY_MS}


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


@pytest.mark.parametrize('text, seconds', [('30d', 2592000), ('12h', 43200), ('8w', 4838400), ('90m', 5400), ('45s', 45), (' 2d ', 172800)])
def test_ages_read_like_opensearch_time_values(text, seconds):
    assert parse_age(text) == seconds


@pytest.mark.parametrize('text', ['30', 'd', '1.5d', '3 months', '-1d'])
def test_unreadable_ages_are_refused(text):
    with pytest.raises(ValueError):
        parse_age(text)


# ---- restore -----------------------------------------------------------------------------

IN_SNAPSHOT = ['inv-events-stats-record-view-2026-11', 'inv-events-stats-file-download-2026-11',
               'inv-stats-file-download-2026-11', 'inv-stats-record-view-2026-11', 'inv-rdmrecords-records-v7']


def test_patterns_select_and_exclude_indices():
    assert expand_index_patterns(['inv-events-stats-*'], IN_SNAPSHOT) == [
        'inv-events-stats-file-download-2026-11', 'inv-events-stats-record-view-2026-11']
    assert expand_index_patterns(['inv-*stats-*', '-inv-stats-record-view-*'], IN_SNAPSHOT) == [
        'inv-events-stats-file-download-2026-11', 'inv-events-stats-record-view-2026-11', 'inv-stats-file-download-2026-11']
    assert expand_index_patterns(['inv-stats-record-view-2026-11,inv-rdmrecords-records-v7'], IN_SNAPSHOT) == [
        'inv-rdmrecords-records-v7', 'inv-stats-record-view-2026-11']
    assert expand_index_patterns(None, ['b', 'a']) == ['a', 'b']
    assert expand_index_patterns(['nomatch-*'], IN_SNAPSHOT) == []


def test_java_replacements_become_python_templates():
    assert java_replacement('restored-$1') == 'restored-\\g<1>'
    assert java_replacement('${name}-copy') == '\\g<name>-copy'
    assert java_replacement('cost\\$1') == 'cost$1'
    with pytest.raises(ValueError):
        java_replacement('bad-$x')


def test_targets_keep_names_without_rename():
    selection = restore_targets(IN_SNAPSHOT, ['inv-stats-file-*'])
    assert selection['indices'] == {'inv-stats-file-download-2026-11': 'inv-stats-file-download-2026-11'}
    assert selection['request'] == ['inv-stats-file-download-2026-11'] and selection['data_streams'] == {}


def test_targets_follow_the_rename_pattern():
    targets = restore_targets(IN_SNAPSHOT, ['inv-*stats-*'], '^inv-(.+)$', 'restored-$1')['indices']
    assert targets['inv-events-stats-record-view-2026-11'] == 'restored-events-stats-record-view-2026-11'
    assert len(targets) == 4


WITH_STREAM = IN_SNAPSHOT + ['.ds-inv-job-logs-000001', '.ds-inv-job-logs-000002', '.ds-inv-job-logs-archive-000001']


def test_a_data_stream_is_restored_by_name_with_its_backing_indices():
    selection = restore_targets(WITH_STREAM, ['inv-job-logs'], data_streams=['inv-job-logs', 'inv-job-logs-archive'])
    assert selection['data_streams'] == {'inv-job-logs': 'inv-job-logs'}
    assert sorted(selection['indices']) == ['.ds-inv-job-logs-000001', '.ds-inv-job-logs-000002']
    assert selection['request'] == ['inv-job-logs']


def test_a_pattern_picks_indices_and_streams_and_renames_both_like_opensearch():
    selection = restore_targets(WITH_STREAM, ['inv-job-logs', 'inv-stats-record-*'], 'inv-(.+)', 'copy-$1', data_streams=['inv-job-logs'])
    assert selection['data_streams'] == {'inv-job-logs': 'copy-job-logs'}
    assert selection['indices']['.ds-inv-job-logs-000002'] == '.ds-copy-job-logs-000002'
    assert selection['request'] == ['inv-stats-record-view-2026-11', 'inv-job-logs']


def test_everything_in_the_snapshot_when_no_pattern_is_given():
    selection = restore_targets(WITH_STREAM, None, data_streams=['inv-job-logs'])
    assert len(selection['indices']) == len(WITH_STREAM)
    assert '.ds-inv-job-logs-000001' not in selection['request'] and 'inv-job-logs' in selection['request']
    assert '.ds-inv-job-logs-archive-000001' in selection['request']


def test_an_existing_data_stream_must_be_deleted_not_closed():
    targets = {'.ds-s-000001': '.ds-s-000001', 'a': 'a'}
    existing = {'.ds-s-000001': 'open', 'a': 'open'}
    streams = {'s': 's'}
    failed = plan_restore(targets, existing, 'fail', streams, {'s': ['.ds-s-000001']})
    assert 'data streams s' in failed['error'] and 'open indices a' in failed['error']
    refused = plan_restore(targets, existing, 'close', streams, {'s': ['.ds-s-000001']})
    assert 'cannot be closed' in refused['error'] and refused['close'] == []
    deleting = plan_restore(targets, existing, 'delete', streams, {'s': ['.ds-s-000001'], 'other': ['.ds-other-000001']})
    assert deleting['delete_streams'] == ['s'] and deleting['delete'] == ['a'] and deleting['error'] is None


def test_only_open_existing_targets_conflict():
    targets = {'a': 'a', 'b': 'b', 'c': 'c'}
    assert restore_conflicts(targets, {'a': 'open', 'b': 'close', 'z': 'open'}) == (['a'], ['b'])


def test_a_restore_onto_open_indices_fails_by_default_and_names_them():
    plan = plan_restore({'a': 'a', 'b': 'b'}, {'a': 'open', 'b': 'open', 'other': 'open'})
    assert plan['close'] == [] and plan['delete'] == []
    assert 'open indices a, b' in plan['error'] and 'existing_index' in plan['error'] and 'rename_pattern' in plan['error']


def test_close_or_delete_touch_exactly_the_open_targets():
    existing = {'a': 'open', 'b': 'close', 'other': 'open'}
    assert plan_restore({'a': 'a', 'b': 'b', 'c': 'c'}, existing, 'close')['close'] == ['a']
    plan = plan_restore({'a': 'a', 'b': 'b', 'c': 'c'}, existing, 'delete')
    assert plan['delete'] == ['a'] and plan['close'] == [] and plan['error'] is None


def test_no_conflict_no_action():
    plan = plan_restore({'a': 'restored-a'}, {'a': 'open'}, 'fail')
    assert plan == dict(close=[], delete=[], delete_streams=[], error=None, closed_targets=[], open_conflicts=[], stream_conflicts=[])


# ---- reporting ---------------------------------------------------------------------------

def test_summary_keeps_what_a_person_needs_with_sorted_indices():
    info = {'snapshot': 's', 'uuid': 'u', 'state': 'SUCCESS', 'indices': ['b', 'a'], 'shards': {'total': 2, 'failed': 0, 'successful': 2},
            'duration_in_millis': 12, 'version': '2.19.6', 'version_id': 1}
    summary = summarise(info)
    assert summary['indices'] == ['a', 'b'] and summary['state'] == 'SUCCESS' and 'version_id' not in summary
    assert summarise(None) == {}


def test_failure_text_lists_shard_failures():
    info = {'failures': [{'index': 'a', 'shard_id': 0, 'reason': 'disk full'}]}
    assert failure_text(info) == 'a[0]: disk full'
    assert failure_text({}) == 'no shard failure reported'


# ---- a restore that fails after closing or deleting -------------------------------------------

class FakeApi(object):
    """Answers requests from a {(method, path): answer or OpenSearchModuleError} table and records them."""

    def __init__(self, answers):
        self.answers = answers
        self.calls = []

    def request(self, method, url, **_kwargs):
        self.calls.append((method, url))
        answer = self.answers.get((method, url))
        if isinstance(answer, OpenSearchModuleError):
            raise answer
        return answer


class FakeModule(object):
    check_mode = False

    def __init__(self):
        self.params = dict(repository='backups', wait_timeout=60, timeout=30)


def undo(answers, done, safety='before-restore-of-s1-20261123t054217000000z'):
    api = FakeApi(answers)
    result = dict(changed=True, restore=dict(safety_snapshot=safety, safety_snapshot_kept=bool(safety)))
    message = SnapshotModule(FakeModule(), api).undo_preparation(safety, dict(dict(delete=[], delete_streams=[], close=[]), **done), result)
    return message, result, api.calls


SAFETY = 'before-restore-of-s1-20261123t054217000000z'
REFUSED = OpenSearchModuleError('OpenSearch answered HTTP 500 while putting back: repository_exception: disk full.')


def test_a_safety_snapshot_must_hold_every_index_and_stream_about_to_be_deleted():
    streams = {'logs': ['.ds-logs-000001', '.ds-logs-000002']}
    complete = {'indices': ['a', '.ds-logs-000001', '.ds-logs-000002'], 'data_streams': ['logs']}
    assert missing_from_snapshot(complete, ['a'], ['logs'], streams) == []
    assert missing_from_snapshot({'indices': ['.ds-logs-000001']}, ['a'], ['logs'], streams) == ['.ds-logs-000002', 'a', 'logs']


def test_the_safety_snapshot_is_named_for_the_restore_and_the_moment():
    assert safety_snapshot_name('stats-2026.11.23', NOW) == 'before-restore-of-stats-2026.11.23-20261123t054217000000z'


RESTORED = {'snapshot': {'shards': {'total': 2, 'failed': 0}}}
CLUSTER = {('GET', '/_cat/indices'): [{'index': 'a', 'status': 'open'}, {'index': '.ds-logs-000001', 'status': 'open'}],
           ('GET', '/_data_stream'): {'data_streams': [{'name': 'logs', 'indices': [{'index_name': '.ds-logs-000001'}]}]}}


def test_deleted_indices_are_put_back_and_the_safety_snapshot_deleted():
    answers = dict(CLUSTER)
    answers[('POST', '/_snapshot/backups/%s/_restore' % SAFETY)] = RESTORED
    message, result, calls = undo(answers,
                                  dict(delete=['a'], delete_streams=['logs']))
    assert message == ("It had deleted a, logs before restoring and put them back from the safety snapshot '%s' taken just "
                       "before. The safety snapshot '%s' is deleted again." % (SAFETY, SAFETY))
    assert ('DELETE', '/_snapshot/backups/%s' % SAFETY) in calls
    assert result['changed'] is False and result['restore']['safety_snapshot_kept'] is False


def test_when_the_deleted_indices_cannot_be_put_back_the_safety_snapshot_is_kept_and_named():
    message, result, calls = undo({('POST', '/_snapshot/backups/%s/_restore' % SAFETY): REFUSED}, dict(delete=['a']))
    assert message == ("It had deleted a before restoring and could not put it back (OpenSearch answered HTTP 500 while putting "
                       "back: repository_exception: disk full). The data is in snapshot '%s' of repository 'backups', which "
                       "the module keeps: restore it with state=restored, name=%s." % (SAFETY, SAFETY))
    assert ('DELETE', '/_snapshot/backups/%s' % SAFETY) not in calls
    assert result['changed'] is True and result['restore']['safety_snapshot_kept'] is True


def test_a_put_back_that_skips_something_counts_as_not_put_back():
    answers = {('POST', '/_snapshot/backups/%s/_restore' % SAFETY): RESTORED, ('GET', '/_cat/indices'): [],
               ('GET', '/_data_stream'): {'data_streams': []}}
    message, result, calls = undo(answers, dict(delete=['a'], delete_streams=['logs']))
    assert 'could not put them back (OpenSearch did not bring back a, logs)' in message
    assert "which the module keeps" in message and result['changed'] is True
    assert ('DELETE', '/_snapshot/backups/%s' % SAFETY) not in calls


def test_failed_shards_while_putting_back_count_as_not_put_back():
    message, result, _calls = undo({('POST', '/_snapshot/backups/%s/_restore' % SAFETY): {'snapshot': {'shards': {'total': 2, 'failed': 1}}}},
                                   dict(delete=['a', 'b']))
    assert 'could not put them back (1 of 2 shard(s) failed)' in message
    assert result['changed'] is True


def test_closed_indices_are_opened_again_or_named_with_the_request_that_opens_them():
    message, result, calls = undo({}, dict(close=['a', 'b']), safety=None)
    assert message == 'It had closed a, b before restoring and opened them again.'
    assert calls == [('POST', '/a,b/_open')] and result['changed'] is False
    message, result, _calls = undo({('POST', '/a/_open'): REFUSED}, dict(close=['a']), safety=None)
    assert message == ('It had closed a before restoring and could not open it again (OpenSearch answered HTTP 500 while '
                       'putting back: repository_exception: disk full): open it with POST /a/_open.')
    assert result['changed'] is True


def test_a_failure_before_anything_was_deleted_only_removes_the_safety_snapshot():
    message, result, calls = undo({}, {})
    assert message == "Nothing had been closed or deleted. The safety snapshot '%s' is deleted again." % SAFETY
    assert calls == [('DELETE', '/_snapshot/backups/%s' % SAFETY)] and result['changed'] is False
