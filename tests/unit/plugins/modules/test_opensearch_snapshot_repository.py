# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""opensearch_snapshot_repository's own code (the definition it shows, its messages, putting back a registration
whose verification failed), checked against a fake API. Its decisions are in module_utils/opensearch_snapshots.py
and module_utils/opensearch_client.py, tested in tests/unit/plugins/module_utils/."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.rdmops.invenio.plugins.module_utils.opensearch_client import OpenSearchModuleError
from ansible_collections.rdmops.invenio.plugins.modules.opensearch_snapshot_repository import (
    describe_definition,
    path_repo_message,
    put_back,
    unknown_type_message,
)


def test_definition_shown_in_diff_is_flat_and_stringified():
    assert describe_definition({'type': 'fs', 'settings': {'compress': True, 'x': {'y': 2}}}) == {
        'type': 'fs', 'settings': {'compress': 'true', 'x.y': '2'}}
    assert describe_definition(None) == {}


def test_path_repo_message_names_the_setting_the_nodes_and_their_values():
    msg = path_repo_message('backups', '/tmp/elsewhere', {'search1': ['/srv/snap'], 'search2': ['/tmp']},
                            "[backups] location [/tmp/elsewhere] doesn't match any of the locations specified by path.repo")
    assert 'path.repo' in msg and 'search1' in msg and "['/srv/snap']" in msg
    assert 'search2' not in msg.split('OpenSearch said')[0]
    assert 'restart' in msg


def test_unknown_type_message_names_the_missing_plugin():
    msg = unknown_type_message('b', 's3', '[b] repository type [s3] does not exist')
    assert 'repository-s3' in msg and "type 's3'" in msg
    assert 'fs or url' in unknown_type_message('b', 'nfs', '[b] repository type [nfs] does not exist')


# ---- undoing a registration whose verification failed --------------------------------------------

class FakeApi(object):
    """Answers requests from a {(method, path): answer or OpenSearchModuleError} table and records them."""

    def __init__(self, answers):
        self.answers = answers
        self.calls = []

    def request(self, method, url, body=None, **_kwargs):
        self.calls.append((method, url, body))
        answer = self.answers.get((method, url))
        if isinstance(answer, OpenSearchModuleError):
            raise answer
        return answer


def test_a_repository_created_in_this_run_is_removed_again():
    api = FakeApi({('GET', '/_snapshot/backups'): None})
    message, now = put_back(api, 'backups', None)
    assert ('DELETE', '/_snapshot/backups', None) in api.calls
    assert message == ("The module had registered it in this run and removed it again: the cluster has no repository "
                       "'backups', as before the run.")
    assert now == {}


def test_a_changed_repository_gets_its_previous_definition_back(CURRENT):
    api = FakeApi({('GET', '/_snapshot/backups'): {'backups': CURRENT}})
    message, now = put_back(api, 'backups', CURRENT)
    assert ('PUT', '/_snapshot/backups', {'type': 'fs', 'settings': CURRENT['settings']}) in api.calls
    assert message == ('The module had changed its definition in this run and registered the previous one again (type fs, '
                       'chunk_size=1g, compress=true, location=/srv/snap/invenio, max_snapshot_bytes_per_sec=40mb): the '
                       'cluster reports it as before the run.')
    assert now == describe_definition(CURRENT)


def test_an_undo_that_fails_says_what_may_be_left():
    refused = OpenSearchModuleError("User 'ops' is authenticated but not allowed to do this (HTTP 403).")
    message, now = put_back(FakeApi({('DELETE', '/_snapshot/backups'): refused}), 'backups', None)
    assert message == ("The module had registered it in this run and could not undo that: User 'ops' is authenticated but not "
                       "allowed to do this (HTTP 403). Repository 'backups' may be left as this run registered it.")
    assert now is None


def test_an_undo_the_cluster_does_not_reflect_names_both_definitions(CURRENT):
    other = {'type': 'fs', 'settings': {'location': '/srv/snap/other'}}
    message, now = put_back(FakeApi({('GET', '/_snapshot/backups'): {'backups': other}}), 'backups', CURRENT)
    assert message == ('The module had changed its definition in this run and tried to undo that, but the cluster now reports '
                       'type fs, location=/srv/snap/other (before the run: type fs, chunk_size=1g, compress=true, '
                       'location=/srv/snap/invenio, max_snapshot_bytes_per_sec=40mb).')
    assert now == describe_definition(other)
