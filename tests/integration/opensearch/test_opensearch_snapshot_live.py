# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""rdmops.invenio.opensearch_snapshot against a real OpenSearch 2.x node, with indices shaped like
InvenioRDM's usage statistics (the data the database cannot rebuild).

The tests run in file order and share one repository and one snapshot, like an operator's
backup and restore drill: snapshot, lose the indices, restore, compare.
"""

from __future__ import absolute_import, division, print_function

import datetime
import os
import time

import pytest

MODULE = 'opensearch_snapshot'
REPO = 'it-backups'
PREFIX = 'rdmit-'
EVENTS = PREFIX + 'events-stats-record-view-2026-11'
AGGREGATES = PREFIX + 'stats-file-download-2026-11'
UNRELATED = PREFIX + 'rdmrecords-records-record-v7.0.0'


def event_docs():
    docs = {}
    for number in range(60):
        recid = 'abcd-%04d' % (number % 7)
        docs['%s-%02d' % (recid, number)] = {
            'timestamp': '2026-11-%02dT%02d:%02d:00' % (1 + number % 28, number % 24, number % 60),
            'recid': recid, 'parent_recid': 'parent-%d' % (number % 3), 'visitor_id': 'v%03d' % (number % 11),
            'unique_id': 'ui_%s' % recid, 'unique_session_id': 'sess-%d' % (number % 13), 'is_robot': number % 10 == 0,
            'country': ['DE', 'FR', 'CH'][number % 3], 'via_api': number % 4 == 0,
        }
    return docs


def aggregate_docs():
    docs = {}
    for number in range(25):
        docs['file-%02d' % number] = {
            'timestamp': '2026-11-%02dT00:00:00' % (1 + number), 'unique_id': 'bucket-%d_file-%d.pdf' % (number % 5, number),
            'count': 3 * number + 1, 'unique_count': number + 1, 'volume': 1024.5 * number,
            'file_key': 'file-%d.pdf' % number, 'bucket_id': 'bucket-%d' % (number % 5), 'is_parent': False,
        }
    return docs


MAPPINGS = {
    EVENTS: {'properties': {'timestamp': {'type': 'date'}, 'recid': {'type': 'keyword'}, 'parent_recid': {'type': 'keyword'},
                            'visitor_id': {'type': 'keyword'}, 'unique_id': {'type': 'keyword'},
                            'unique_session_id': {'type': 'keyword'}, 'is_robot': {'type': 'boolean'},
                            'country': {'type': 'keyword'}, 'via_api': {'type': 'boolean'}}},
    AGGREGATES: {'properties': {'timestamp': {'type': 'date'}, 'unique_id': {'type': 'keyword'}, 'count': {'type': 'integer'},
                                'unique_count': {'type': 'integer'}, 'volume': {'type': 'double'},
                                'file_key': {'type': 'keyword'}, 'bucket_id': {'type': 'keyword'}, 'is_parent': {'type': 'boolean'}}},
}


@pytest.fixture(scope='module')
def stats(opensearch, run_module):
    """The repository and two populated statistics indices; returns {index: {id: source}}."""
    result = run_module('opensearch_snapshot_repository',
                        dict(name=REPO, type='fs', settings=dict(location=os.path.join(opensearch.path_repo, 'backups'), compress=True)))
    assert result.get('failed') is not True, result.get('msg')
    contents = {EVENTS: event_docs(), AGGREGATES: aggregate_docs()}
    for index, docs in contents.items():
        opensearch.request('PUT', '/' + index, {'settings': {'number_of_shards': 1, 'number_of_replicas': 0},
                                                'mappings': MAPPINGS[index]})
        opensearch.bulk_index(index, docs)
    opensearch.request('PUT', '/' + UNRELATED, {'settings': {'number_of_shards': 1, 'number_of_replicas': 0}})
    opensearch.bulk_index(UNRELATED, {'r1': {'title': 'kept as it is'}})
    return contents


def today(fmt='%Y.%m.%d'):
    return datetime.datetime.now(datetime.timezone.utc).strftime(fmt)


def assert_contents(opensearch, expected, renamed=None):
    for index, docs in expected.items():
        target = (renamed or {}).get(index, index)
        assert opensearch.request('GET', '/%s/_count' % target)['count'] == len(docs)
        assert opensearch.documents(target) == docs


def test_a_snapshot_of_the_statistics_is_taken(opensearch, run_module, stats):
    result = run_module(MODULE, dict(repository=REPO, name='<it-stats-{now/d}>', indices=[PREFIX + '*stats-*'],
                                     include_global_state=False, metadata={'taken_by': 'integration-test'}))
    assert result.get('failed') is not True, result.get('msg')
    assert result['changed'] is True
    assert result['name'] == 'it-stats-' + today()
    snap = result['snapshot']
    assert snap['state'] == 'SUCCESS'
    assert snap['indices'] == [EVENTS, AGGREGATES]
    assert snap['shards'] == {'total': 2, 'failed': 0, 'successful': 2}
    assert snap['metadata'] == {'taken_by': 'integration-test'}
    assert isinstance(snap['duration_in_millis'], int)
    assert result['diff']['before']['state'] == 'absent' and result['diff']['after']['state'] == 'SUCCESS'
    listed = opensearch.request('GET', '/_snapshot/%s/%s' % (REPO, result['name']))['snapshots'][0]
    assert listed['state'] == 'SUCCESS' and sorted(listed['indices']) == [EVENTS, AGGREGATES]


def test_taking_the_same_snapshot_again_changes_nothing(run_module, stats):
    result = run_module(MODULE, dict(repository=REPO, name='<it-stats-{now/d}>', indices=[PREFIX + '*stats-*']))
    assert result.get('failed') is not True, result.get('msg')
    assert result['changed'] is False
    assert result['snapshot']['state'] == 'SUCCESS'


def test_check_mode_does_not_take_a_snapshot(opensearch, run_module, stats):
    result = run_module(MODULE, dict(repository=REPO, name='it-check-only', indices=[EVENTS]), check=True)
    assert result['changed'] is True and result['snapshot']['state'] == 'NOT_TAKEN'
    names = [snap['snapshot'] for snap in opensearch.request('GET', '/_snapshot/%s/_all' % REPO)['snapshots']]
    assert 'it-check-only' not in names


def test_lost_indices_are_restored_with_identical_documents(opensearch, run_module, stats):
    opensearch.request('DELETE', '/%s,%s' % (EVENTS, AGGREGATES))
    assert EVENTS not in opensearch.index_states()
    checked = run_module(MODULE, dict(repository=REPO, name='it-stats-' + today(), state='restored', indices=[PREFIX + '*stats-*']),
                         check=True)
    assert checked['changed'] is True and checked['restore']['indices'] == [EVENTS, AGGREGATES]
    assert EVENTS not in opensearch.index_states()

    result = run_module(MODULE, dict(repository=REPO, name='it-stats-' + today(), state='restored', indices=[PREFIX + '*stats-*']))
    assert result.get('failed') is not True, result.get('msg')
    assert result['changed'] is True
    assert result['restore']['indices'] == [EVENTS, AGGREGATES]
    assert result['restore']['shards'] == {'total': 2, 'failed': 0, 'successful': 2}
    assert result['diff']['before']['indices'] == {EVENTS: 'absent', AGGREGATES: 'absent'}
    assert_contents(opensearch, stats)
    sample = opensearch.request('GET', '/%s/_doc/abcd-0003-10' % EVENTS)
    assert sample['_source']['recid'] == 'abcd-0003' and sample['_source']['country'] == 'FR'


def test_a_restore_onto_open_indices_fails_and_touches_nothing(opensearch, run_module, stats):
    result = run_module(MODULE, dict(repository=REPO, name='it-stats-' + today(), state='restored', indices=[PREFIX + '*stats-*']))
    assert result['failed'] is True
    assert EVENTS in result['msg'] and AGGREGATES in result['msg'] and 'existing_index' in result['msg']
    states = opensearch.index_states()
    assert states[EVENTS] == 'open' and states[AGGREGATES] == 'open'
    checked = run_module(MODULE, dict(repository=REPO, name='it-stats-' + today(), state='restored', indices=[PREFIX + '*stats-*'],
                                      existing_index='close'), check=True)
    assert checked['changed'] is True and checked['restore']['closed'] == [EVENTS, AGGREGATES]
    assert opensearch.index_states()[EVENTS] == 'open'


def test_existing_index_close_replaces_exactly_the_targets(opensearch, run_module, stats):
    opensearch.bulk_index(EVENTS, {'written-after-snapshot': {'recid': 'new', 'timestamp': '2026-11-30T00:00:00'}})
    result = run_module(MODULE, dict(repository=REPO, name='it-stats-' + today(), state='restored', indices=[EVENTS],
                                     existing_index='close'))
    assert result.get('failed') is not True, result.get('msg')
    assert result['restore']['closed'] == [EVENTS] and result['restore']['deleted'] == []
    assert_contents(opensearch, {EVENTS: stats[EVENTS]})
    states = opensearch.index_states()
    assert states[EVENTS] == 'open' and states[AGGREGATES] == 'open' and states[UNRELATED] == 'open'


def test_existing_index_delete_replaces_exactly_the_targets(opensearch, run_module, stats):
    opensearch.request('DELETE', '/%s/_doc/file-03?refresh=true' % AGGREGATES)
    result = run_module(MODULE, dict(repository=REPO, name='it-stats-' + today(), state='restored', indices=[AGGREGATES],
                                     existing_index='delete'))
    assert result.get('failed') is not True, result.get('msg')
    assert result['restore']['deleted'] == [AGGREGATES] and result['restore']['closed'] == []
    assert_contents(opensearch, {AGGREGATES: stats[AGGREGATES]})
    assert opensearch.documents(UNRELATED) == {'r1': {'title': 'kept as it is'}}


LATE = {'written-after-snapshot': {'recid': 'late', 'timestamp': '2026-11-30T00:00:00'}}


def snapshot_names(opensearch, repository):
    return sorted(snap['snapshot'] for snap in opensearch.request('GET', '/_snapshot/%s/_all' % repository)['snapshots'])


def restore_refused_on(opensearch, run_module, blocked, **args):
    """Run a restore whose request OpenSearch refuses after the module has closed or deleted what it had to.

    The index `blocked` (one of the targets) is replaced by an alias of that name on UNRELATED. The module plans with
    the list of indices, where an alias does not appear; OpenSearch refuses to restore an index under a name an
    alias has, and refuses the whole request. The alias is removed again afterwards (`blocked` stays absent).
    """
    opensearch.request('DELETE', '/' + blocked)
    opensearch.request('POST', '/_aliases', {'actions': [{'add': {'index': UNRELATED, 'alias': blocked}}]})
    try:
        return run_module(MODULE, dict(args, state='restored'))
    finally:
        opensearch.request('POST', '/_aliases', {'actions': [{'remove': {'index': UNRELATED, 'alias': blocked}}]})


def test_a_restore_refused_after_the_delete_puts_the_deleted_index_back(opensearch, run_module, stats):
    opensearch.bulk_index(EVENTS, LATE)
    snapshots = snapshot_names(opensearch, REPO)
    result = restore_refused_on(opensearch, run_module, AGGREGATES, repository=REPO, name='it-stats-' + today(),
                                indices=[EVENTS, AGGREGATES], existing_index='delete')
    assert result['failed'] is True
    safety = result['restore']['safety_snapshot']
    assert safety.startswith('before-restore-of-it-stats-%s-' % today())
    assert result['msg'] == (
        "OpenSearch answered HTTP 400 while restoring snapshot 'it-stats-%s' of repository '%s': invalid_index_name_exception: "
        "Invalid index name [%s], already exists as alias. It had deleted %s before restoring and put it back from the "
        "safety snapshot '%s' taken just before. The safety snapshot '%s' is deleted again."
        % (today(), REPO, AGGREGATES, EVENTS, safety, safety))
    assert result['restore']['deleted'] == [EVENTS] and result['restore']['safety_snapshot_kept'] is False
    assert result['changed'] is False
    assert opensearch.documents(EVENTS) == dict(stats[EVENTS], **LATE)  # the data the restore was to replace
    assert opensearch.index_states()[EVENTS] == 'open'
    assert snapshot_names(opensearch, REPO) == snapshots

    replaced = run_module(MODULE, dict(repository=REPO, name='it-stats-' + today(), state='restored', indices=[EVENTS, AGGREGATES],
                                       existing_index='delete'))
    assert replaced.get('failed') is not True, replaced.get('msg')
    assert replaced['restore']['deleted'] == [EVENTS]
    assert replaced['restore']['safety_snapshot'].startswith('before-restore-of-it-stats-' + today() + '-')
    assert_contents(opensearch, stats)
    assert snapshot_names(opensearch, REPO) == snapshots


def test_a_restore_refused_after_closing_opens_the_indices_again(opensearch, run_module, stats):
    opensearch.bulk_index(EVENTS, LATE)
    result = restore_refused_on(opensearch, run_module, AGGREGATES, repository=REPO, name='it-stats-' + today(),
                                indices=[EVENTS, AGGREGATES], existing_index='close')
    assert result['failed'] is True
    assert result['msg'] == (
        "OpenSearch answered HTTP 400 while restoring snapshot 'it-stats-%s' of repository '%s': invalid_index_name_exception: "
        "Invalid index name [%s], already exists as alias. It had closed %s before restoring and opened it again."
        % (today(), REPO, AGGREGATES, EVENTS))
    assert result['restore']['closed'] == [EVENTS] and result['restore']['safety_snapshot'] is None
    assert result['changed'] is False
    assert opensearch.index_states()[EVENTS] == 'open'
    assert opensearch.documents(EVENTS) == dict(stats[EVENTS], **LATE)
    restored = run_module(MODULE, dict(repository=REPO, name='it-stats-' + today(), state='restored', indices=[EVENTS, AGGREGATES],
                                       existing_index='close'))
    assert restored.get('failed') is not True, restored.get('msg')
    assert_contents(opensearch, stats)


def test_a_renamed_restore_sits_beside_the_live_indices(opensearch, run_module, stats):
    result = run_module(MODULE, dict(repository=REPO, name='it-stats-' + today(), state='restored', indices=[PREFIX + '*stats-*'],
                                     rename_pattern=PREFIX + '(.+)', rename_replacement='restored-$1'))
    assert result.get('failed') is not True, result.get('msg')
    renamed = {EVENTS: 'restored-events-stats-record-view-2026-11', AGGREGATES: 'restored-stats-file-download-2026-11'}
    assert result['restore']['renamed'] == renamed
    assert_contents(opensearch, stats, renamed)
    assert_contents(opensearch, stats)


def test_a_partial_snapshot_fails_unless_allowed(opensearch, run_module, stats):
    opensearch.request('PUT', '/%sunassigned?wait_for_active_shards=0' % PREFIX, {'settings': {
        'number_of_shards': 1, 'number_of_replicas': 0, 'index.routing.allocation.require._name': 'no-such-node'}})
    args = dict(repository=REPO, name='it-partial', indices=[PREFIX + 'unassigned', AGGREGATES], partial=True)
    result = run_module(MODULE, args)
    assert result['failed'] is True
    assert 'PARTIAL' in result['msg'] and 'allow_partial' in result['msg']
    assert result['snapshot']['state'] == 'PARTIAL'
    args['allow_partial'] = True
    accepted = run_module(MODULE, args)
    assert accepted.get('failed') is not True, accepted.get('msg')
    assert accepted['changed'] is False and accepted['snapshot']['state'] == 'PARTIAL'
    opensearch.request('DELETE', '/%sunassigned' % PREFIX)


def test_a_snapshot_is_deleted_once(opensearch, run_module, stats):
    args = dict(repository=REPO, name='it-partial', state='absent')
    checked = run_module(MODULE, args, check=True)
    assert checked['changed'] is True
    assert run_module(MODULE, args)['changed'] is True
    names = [snap['snapshot'] for snap in opensearch.request('GET', '/_snapshot/%s/_all' % REPO)['snapshots']]
    assert 'it-partial' not in names
    assert run_module(MODULE, args)['changed'] is False


def test_restoring_a_missing_snapshot_says_what_exists(run_module, stats):
    result = run_module(MODULE, dict(repository=REPO, name='no-such-snapshot', state='restored'))
    assert result['failed'] is True and 'no-such-snapshot' in result['msg'] and 'it-stats-' in result['msg']


def test_a_data_stream_like_invenio_job_logs_is_restored_as_a_stream(opensearch, run_module, stats):
    stream = PREFIX + 'job-logs'
    repo = run_module('opensearch_snapshot_repository',
                      dict(name='it-streams', type='fs', settings=dict(location=os.path.join(opensearch.path_repo, 'streams'))))
    assert repo.get('failed') is not True, repo.get('msg')
    opensearch.request('PUT', '/_index_template/%s' % stream, {
        'index_patterns': [stream + '*'], 'data_stream': {},
        'template': {'settings': {'number_of_shards': 1, 'number_of_replicas': 0}}})
    for number in range(12):
        opensearch.request('POST', '/%s/_doc?refresh=true' % stream,
                           {'@timestamp': '2026-11-%02dT10:00:00Z' % (number + 1), 'job_id': 'job-%d' % number, 'level': 'INFO'})
    taken = run_module(MODULE, dict(repository='it-streams', name='jobs', indices=[stream]))
    assert taken.get('failed') is not True, taken.get('msg')
    assert taken['snapshot']['indices'] == ['.ds-%s-000001' % stream]

    refused = run_module(MODULE, dict(repository='it-streams', name='jobs', state='restored', indices=[stream]))
    assert refused['failed'] is True and 'data streams %s' % stream in refused['msg']
    closing = run_module(MODULE, dict(repository='it-streams', name='jobs', state='restored', indices=[stream], existing_index='close'))
    assert closing['failed'] is True and 'cannot be closed' in closing['msg']

    opensearch.request('POST', '/%s/_doc?refresh=true' % stream, {'@timestamp': '2026-11-30T10:00:00Z', 'job_id': 'late'})
    replaced = run_module(MODULE, dict(repository='it-streams', name='jobs', state='restored', indices=[stream], existing_index='delete'))
    assert replaced.get('failed') is not True, replaced.get('msg')
    assert replaced['restore']['deleted_data_streams'] == [stream] and replaced['restore']['data_streams'] == [stream]
    streams = dict((item['name'], item) for item in opensearch.request('GET', '/_data_stream')['data_streams'])
    assert stream in streams
    assert opensearch.request('GET', '/%s/_count' % stream)['count'] == 12

    copy = run_module(MODULE, dict(repository='it-streams', name='jobs', state='restored', indices=[stream],
                                   rename_pattern=PREFIX + '(.+)', rename_replacement='copy-$1'))
    assert copy.get('failed') is not True, copy.get('msg')
    assert copy['restore']['data_streams'] == ['copy-job-logs']
    assert opensearch.request('GET', '/copy-job-logs/_count')['count'] == 12
    assert opensearch.request('GET', '/%s/_count' % stream)['count'] == 12


def test_a_data_stream_deleted_for_a_refused_restore_is_put_back(opensearch, run_module, stats):
    stream, blocked = PREFIX + 'job-logs', PREFIX + 'blocked'
    opensearch.request('PUT', '/' + blocked, {'settings': {'number_of_shards': 1, 'number_of_replicas': 0}})
    opensearch.bulk_index(blocked, {'b1': {'title': 'restored under a name an alias takes'}})
    taken = run_module(MODULE, dict(repository='it-streams', name='jobs-and-blocked', indices=[stream, blocked]))
    assert taken.get('failed') is not True, taken.get('msg')
    opensearch.request('POST', '/%s/_doc?refresh=true' % stream, {'@timestamp': '2026-11-30T11:00:00Z', 'job_id': 'after-the-snapshot'})
    documents = opensearch.documents(stream)
    assert len(documents) == 13
    snapshots = snapshot_names(opensearch, 'it-streams')
    result = restore_refused_on(opensearch, run_module, blocked, repository='it-streams', name='jobs-and-blocked',
                                indices=[stream, blocked], existing_index='delete')
    assert result['failed'] is True
    safety = result['restore']['safety_snapshot']
    assert result['msg'].endswith("already exists as alias. It had deleted %s before restoring and put it back from the safety "
                                  "snapshot '%s' taken just before. The safety snapshot '%s' is deleted again." % (stream, safety, safety))
    assert result['restore']['deleted_data_streams'] == [stream] and result['changed'] is False
    assert stream in [item['name'] for item in opensearch.request('GET', '/_data_stream')['data_streams']]
    assert opensearch.documents(stream) == documents
    assert snapshot_names(opensearch, 'it-streams') == snapshots


def test_pruning_keeps_the_newest_n(opensearch, run_module, stats):
    for number in range(1, 5):
        taken = run_module(MODULE, dict(repository=REPO, name='prune-%d' % number, indices=[AGGREGATES]))
        assert taken['changed'] is True and taken['snapshot']['state'] == 'SUCCESS', taken.get('msg')
        time.sleep(0.05)
    args = dict(repository=REPO, state='pruned', keep_last=2, name_prefix='prune-')
    checked = run_module(MODULE, args, check=True)
    assert checked['changed'] is True and checked['deleted'] == ['prune-2', 'prune-1'] and checked['kept'] == ['prune-4', 'prune-3']
    result = run_module(MODULE, args)
    assert result['changed'] is True and result['deleted'] == ['prune-2', 'prune-1']
    names = sorted(snap['snapshot'] for snap in opensearch.request('GET', '/_snapshot/%s/_all' % REPO)['snapshots'])
    assert names == ['it-stats-' + today(), 'prune-3', 'prune-4']
    again = run_module(MODULE, args)
    assert again['changed'] is False and again['deleted'] == []


def test_max_age_never_deletes_the_newest_successful_snapshot(opensearch, run_module, stats):
    time.sleep(1.5)
    result = run_module(MODULE, dict(repository=REPO, state='pruned', max_age='1s', name_prefix='prune-'))
    assert result['changed'] is True and result['deleted'] == ['prune-3'] and result['kept'] == ['prune-4']
    names = sorted(snap['snapshot'] for snap in opensearch.request('GET', '/_snapshot/%s/_all' % REPO)['snapshots'])
    assert names == ['it-stats-' + today(), 'prune-4']
