# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""opensearch_snapshot's own code (what it reports, how it undoes a failed restore's preparation), checked against
a fake API. Its decisions are in module_utils/opensearch_snapshots.py, tested in tests/unit/plugins/module_utils/."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.rdmops.invenio.plugins.module_utils.opensearch_client import OpenSearchModuleError
from ansible_collections.rdmops.invenio.plugins.modules.opensearch_snapshot import SnapshotModule, failure_text, summarise


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
