# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Decisions of opensearch_snapshot_repository, checked without a server."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.rdmops.invenio.plugins.module_utils.opensearch_client import (
    OpenSearchModuleError,
    describe_error,
    error_details,
    nodes_named_in,
    path,
)
from ansible_collections.rdmops.invenio.plugins.module_utils.opensearch_snapshots import (
    location_allowed,
    nodes_rejecting_location,
    normalise_settings,
    repository_changes,
)
from ansible_collections.rdmops.invenio.plugins.modules.opensearch_snapshot_repository import (
    describe_definition,
    path_repo_message,
    put_back,
    unknown_type_message,
)

# What GET /_snapshot/backups answers for an fs repository registered with compress: true,
# max_snapshot_bytes_per_sec: 40mb and chunk_size: 1g (OpenSearch 2.x).
CURRENT = {'type': 'fs', 'settings': {'location': '/srv/snap/invenio', 'compress': 'true',
                                      'max_snapshot_bytes_per_sec': '40mb', 'chunk_size': '1g'}}


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


def test_same_settings_in_python_types_are_no_change():
    assert repository_changes(CURRENT, 'fs', {'location': '/srv/snap/invenio', 'compress': True,
                                              'max_snapshot_bytes_per_sec': '40mb'})['action'] is None


def test_settings_the_user_did_not_give_are_not_compared():
    assert repository_changes(CURRENT, 'fs', {'location': '/srv/snap/invenio'})['action'] is None


def test_a_changed_setting_is_an_update_naming_old_and_new_value():
    changes = repository_changes(CURRENT, 'fs', {'location': '/srv/snap/invenio', 'compress': False})
    assert changes['action'] == 'update'
    assert changes['settings'] == {'compress': ('true', 'false')}
    assert changes['type_changed'] is False


def test_a_new_setting_is_an_update():
    changes = repository_changes(CURRENT, 'fs', {'location': '/srv/snap/invenio', 'readonly': True})
    assert changes['settings'] == {'readonly': (None, 'true')}


def test_a_changed_type_is_an_update():
    changes = repository_changes(CURRENT, 's3', {'bucket': 'b'})
    assert changes['action'] == 'update' and changes['type_changed'] is True


def test_list_values_compare_element_wise_as_strings():
    assert repository_changes({'type': 'url', 'settings': {'urls': ['1', 'true']}}, 'url', {'urls': [1, True]})['action'] is None


def test_definition_shown_in_diff_is_flat_and_stringified():
    assert describe_definition({'type': 'fs', 'settings': {'compress': True, 'x': {'y': 2}}}) == {
        'type': 'fs', 'settings': {'compress': 'true', 'x.y': '2'}}
    assert describe_definition(None) == {}


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


def test_auth_failures_name_the_user_and_the_likely_fix():
    msg = describe_error(401, 'security_exception', 'Unauthorized', ['https://s1:9200'], 'snap', "registering repository 'b'")
    assert "user 'snap'" in msg and 'password' in msg and "registering repository 'b'" in msg
    assert 'set username and password' in describe_error(401, None, 'Unauthorized', ['h'], None)
    msg = describe_error(403, 'security_exception', 'no permissions for [cluster:admin/repository/put] and User [name=snap]',
                         ['h'], 'snap')
    assert "User 'snap'" in msg and 'cluster:admin/repository/put' in msg and 'role' in msg


def test_unreachable_cluster_names_every_host_tried():
    msg = describe_error(None, None, 'Connection refused', ['http://a:9200', 'http://b:9200'], connection_error=True)
    assert 'http://a:9200, http://b:9200' in msg and 'Connection refused' in msg
    assert 'ca_path' in describe_error(None, None, 'certificate verify failed', ['https://a:9200'], tls_error=True)


def test_error_details_prefers_the_root_cause_and_keeps_the_full_reason():
    info = {'error': {'root_cause': [{'type': 'repository_exception', 'reason': '[b] short'}],
                      'type': 'repository_verification_exception', 'reason': '[b] long [[nodeid1234, boom]]'}, 'status': 500}
    error_type, reason = error_details(info)
    assert error_type == 'repository_exception'
    assert '[b] short' in reason and 'nodeid1234' in reason
    assert error_details({'error': 'plain'}) == (None, 'plain')
    assert error_details('text') == (None, 'text')


def test_nodes_are_recognised_by_id_or_name_in_a_verification_error():
    nodes = {'Ab3dEfGh12345678': 'search1', 'Zz9yXwVu87654321': 'search2'}
    reason = "[b] [[Ab3dEfGh12345678, 'RemoteTransportException[[search1][127.0.0.1:9300]]']]"
    assert nodes_named_in(reason, nodes) == ['search1']
    assert nodes_named_in('store location is not accessible on the node [{search2}{x}]', nodes) == ['search2']
    assert nodes_named_in('', nodes) == []


def test_rest_paths_escape_each_part():
    assert path('_snapshot', 'b', 'nightly-2026.11.23') == '/_snapshot/b/nightly-2026.11.23'
    assert path('_snapshot', 'b', '<x-{now/d}>') == '/_snapshot/b/%3Cx-%7Bnow%2Fd%7D%3E'
    assert path('a,b', '_close') == '/a,b/_close'


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


def test_a_changed_repository_gets_its_previous_definition_back():
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


def test_an_undo_the_cluster_does_not_reflect_names_both_definitions():
    other = {'type': 'fs', 'settings': {'location': '/srv/snap/other'}}
    message, now = put_back(FakeApi({('GET', '/_snapshot/backups'): {'backups': other}}), 'backups', CURRENT)
    assert message == ('The module had changed its definition in this run and tried to undo that, but the cluster now reports '
                       'type fs, location=/srv/snap/other (before the run: type fs, chunk_size=1g, compress=true, '
                       'location=/srv/snap/invenio, max_snapshot_bytes_per_sec=40mb).')
    assert now == describe_definition(other)
