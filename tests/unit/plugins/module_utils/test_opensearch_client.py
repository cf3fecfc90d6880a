# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What module_utils/opensearch_client.py tells a person about a failed request, and the REST paths it builds,
checked without a server."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.rdmops.invenio.plugins.module_utils.opensearch_client import (
    describe_error,
    error_details,
    nodes_named_in,
    path,
)


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
