# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Decisions of module_utils/opensearch_snapshots.py (repository settings, snapshot names, restore targets and
conflicts, safety snapshots), checked without a server. Retention: test_opensearch_snapshots_retention.py."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime

import pytest

from ansible_collections.rdmops.invenio.plugins.module_utils.opensearch_snapshots import (
    DateMathError,
    expand_index_patterns,
    java_replacement,
    location_allowed,
    missing_from_snapshot,
    nodes_rejecting_location,
    normalise_settings,
    plan_restore,
    repository_changes,
    resolve_snapshot_name,
    restore_conflicts,
    restore_targets,
    safety_snapshot_name,
)

NOW = datetime.datetime(2026, 11, 23, 5, 42, 17, tzinfo=datetime.timezone.utc)


# ---- repository settings -----------------------------------------------------------------

def test_values_are_normalised_to_the_strings_opensearch_returns():
    assert normalise_settings({'compress': True, 'readonly': False, 'max_restore_bytes_per_sec': '40mb',
                               'chunk_size': 1024, 'ratio': 1.5, 'whole': 2.0, 'skip': None}) == {
        'compress': 'true', 'readonly': 'false', 'max_restore_bytes_per_sec': '40mb',
        'chunk_size': '1024', 'ratio': '1.5', 'whole': '2'}


def test_nested_settings_compare_with_their_dotted_form():
    assert normalise_settings({'a': {'b': 1, 'c': {'d': True}}}) == {'a.b': '1', 'a.c.d': 'true'}
    assert repository_changes({'type': 's3', 'settings': {'a.b': '1'}}, 's3', {'a': {'b': 1}})['action'] is None


def test_missing_repository_is_created_with_every_given_setting():
    changes = repository_changes(None, 'fs', {'location': '/srv/snap', 'compress': True})
    assert changes['action'] == 'create'
    assert changes['settings'] == {'location': (None, '/srv/snap'), 'compress': (None, 'true')}


def test_same_settings_in_python_types_are_no_change(CURRENT):
    assert repository_changes(CURRENT, 'fs', {'location': '/srv/snap/invenio', 'compress': True,
                                              'max_snapshot_bytes_per_sec': '40mb'})['action'] is None


def test_settings_the_user_did_not_give_are_not_compared(CURRENT):
    assert repository_changes(CURRENT, 'fs', {'location': '/srv/snap/invenio'})['action'] is None


def test_a_changed_setting_is_an_update_naming_old_and_new_value(CURRENT):
    changes = repository_changes(CURRENT, 'fs', {'location': '/srv/snap/invenio', 'compress': False})
    assert changes['action'] == 'update'
    assert changes['settings'] == {'compress': ('true', 'false')}
    assert changes['type_changed'] is False


def test_a_new_setting_is_an_update(CURRENT):
    changes = repository_changes(CURRENT, 'fs', {'location': '/srv/snap/invenio', 'readonly': True})
    assert changes['settings'] == {'readonly': (None, 'true')}


def test_a_changed_type_is_an_update(CURRENT):
    changes = repository_changes(CURRENT, 's3', {'bucket': 'b'})
    assert changes['action'] == 'update' and changes['type_changed'] is True


def test_list_values_compare_element_wise_as_strings():
    assert repository_changes({'type': 'url', 'settings': {'urls': ['1', 'true']}}, 'url', {'urls': [1, True]})['action'] is None


def test_location_must_lie_under_path_repo():
    assert location_allowed('/srv/snap/invenio', ['/srv/snap'])
    assert location_allowed('/srv/snap', ['/srv/snap/'])
    assert location_allowed('invenio', ['/srv/snap'])
    assert not location_allowed('/srv/snapshots-other', ['/srv/snap'])
    assert not location_allowed('/srv/snap/../etc', ['/srv/snap'])
    assert not location_allowed('/srv/snap', [])


def test_nodes_whose_path_repo_does_not_cover_the_location_are_named():
    nodes = {'search1': ['/srv/snap'], 'search2': [], 'search3': ['/mnt/other', '/srv/snap']}
    assert nodes_rejecting_location('/srv/snap/invenio', nodes) == ['search2']


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


# ---- the safety snapshot taken before a restore deletes ----------------------------------

def test_a_safety_snapshot_must_hold_every_index_and_stream_about_to_be_deleted():
    streams = {'logs': ['.ds-logs-000001', '.ds-logs-000002']}
    complete = {'indices': ['a', '.ds-logs-000001', '.ds-logs-000002'], 'data_streams': ['logs']}
    assert missing_from_snapshot(complete, ['a'], ['logs'], streams) == []
    assert missing_from_snapshot({'indices': ['.ds-logs-000001']}, ['a'], ['logs'], streams) == ['.ds-logs-000002', 'a', 'logs']


def test_the_safety_snapshot_is_named_for_the_restore_and_the_moment():
    assert safety_snapshot_name('stats-2026.11.23', NOW) == 'before-restore-of-stats-2026.11.23-20261123t054217000000z'
