# -*- coding: utf-8 -*-
# Copyright: rdmops.invenio developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Connection to an OpenSearch cluster shared by the rdmops.invenio OpenSearch modules.

The modules talk to the REST API through ``OpenSearchApi.request`` only, so that every
failure passes through ``describe_error``, which turns what OpenSearch (or the network)
answered into a message a person can act on.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re
import traceback

from ansible.module_utils.basic import missing_required_lib
from urllib.parse import quote

OPENSEARCH_IMPORT_ERROR = None
try:
    from opensearchpy import OpenSearch
    from opensearchpy.exceptions import ConnectionError as OpenSearchConnectionError
    from opensearchpy.exceptions import SSLError as OpenSearchSSLError
    from opensearchpy.exceptions import TransportError
except ImportError:
    OPENSEARCH_IMPORT_ERROR = traceback.format_exc()
    OpenSearch = None

    class TransportError(Exception):
        """Stands in for opensearchpy's exception so this file imports without the library."""

    class OpenSearchConnectionError(TransportError):
        """Stands in for opensearchpy's exception so this file imports without the library."""

    class OpenSearchSSLError(OpenSearchConnectionError):
        """Stands in for opensearchpy's exception so this file imports without the library."""


def opensearch_argument_spec():
    """Connection options every OpenSearch module accepts (documented in the opensearch doc fragment)."""
    return dict(
        hosts=dict(type='list', elements='str', default=['http://127.0.0.1:9200']),
        username=dict(type='str'),
        password=dict(type='str', no_log=True),
        ca_path=dict(type='path'),
        client_cert=dict(type='path'),
        client_key=dict(type='path'),
        validate_certs=dict(type='bool', default=True),
        timeout=dict(type='int', default=30),
    )


OPENSEARCH_REQUIRED_TOGETHER = [('username', 'password'), ('client_cert', 'client_key')]


class OpenSearchModuleError(Exception):
    """A failure already phrased for the person running the play."""

    def __init__(self, msg, status=None, error_type=None, reason=None):
        super(OpenSearchModuleError, self).__init__(msg)
        self.msg = msg
        self.status = status
        self.error_type = error_type
        self.reason = reason


def path(*parts):
    """Build a REST path from raw parts, escaping each one (snapshot names may hold <, >, {, })."""
    return '/' + '/'.join(quote(str(part), safe=',*') for part in parts)


def error_details(info):
    """(type, reason) of the root cause in an OpenSearch error body; (None, text) for anything else."""
    if isinstance(info, dict):
        error = info.get('error')
        if isinstance(error, dict):
            causes = error.get('root_cause') or []
            first = causes[0] if causes and isinstance(causes[0], dict) else error
            error_type = first.get('type') or error.get('type')
            reason = first.get('reason') or error.get('reason')
            # The top-level reason is often the more complete one (it carries the node list on
            # verification failures); keep both when they differ.
            top_reason = error.get('reason')
            if top_reason and reason and top_reason != reason and reason not in top_reason:
                reason = '%s (%s)' % (reason, top_reason)
            elif top_reason and not reason:
                reason = top_reason
            return error_type, reason
        if error is not None:
            return None, str(error)
    if info is None:
        return None, None
    return None, str(info)


def describe_error(status, error_type, reason, hosts, username=None, action=None, connection_error=False, tls_error=False):
    """Phrase a failed request so that it says what went wrong and what to change.

    status is the HTTP status (or None when no answer came back), error_type and reason come
    from OpenSearch's error body, hosts are the URLs tried, action says what the module was
    doing ("registering snapshot repository 'backups'").
    """
    doing = (' while %s' % action) if action else ''
    tried = ', '.join(hosts or [])
    if tls_error and 'WRONG_VERSION_NUMBER' in str(reason):
        return ('TLS connection to OpenSearch failed%s (hosts tried: %s): %s. The node answers plain HTTP there: '
                'use an http:// URL, or enable TLS on the node.' % (doing, tried, reason))
    if tls_error:
        return ('TLS connection to OpenSearch failed%s (hosts tried: %s): %s. Set ca_path to the CA that signed the '
                'node certificates (or client_cert/client_key if the cluster requires them); validate_certs=false '
                'disables the check.' % (doing, tried, reason))
    if connection_error or status is None or status == 'N/A':
        return ('Could not reach OpenSearch at any of the hosts tried (%s)%s: %s. Check that the service runs and '
                'listens there, and that the URL scheme (http or https) and port are right.' % (tried, doing, reason))
    if status == 401:
        if username:
            return ("OpenSearch rejected the credentials of user '%s' (HTTP 401)%s: the password is wrong or the user "
                    "does not exist in the cluster's security configuration." % (username, doing))
        return ('OpenSearch requires authentication (HTTP 401)%s: set username and password, or client_cert and '
                'client_key.' % doing)
    if status == 403:
        who = ("User '%s'" % username) if username else 'The anonymous or certificate user'
        return ('%s is authenticated but not allowed to do this (HTTP 403)%s: its role lacks the permission. '
                'OpenSearch said: %s. Map the user to a role with the cluster:admin/repository/* and '
                'cluster:admin/snapshot/* permissions (the built-in manage_snapshots role) and the index permissions '
                'the operation needs.' % (who, doing, reason))
    return 'OpenSearch answered HTTP %s%s: %s: %s' % (status, doing, error_type or 'error', reason)


NODE_ID_RE = re.compile(r'^[A-Za-z0-9_-]{8,}$')


def nodes_named_in(text, nodes):
    """Names of the nodes (from a {node_id: name} map) whose id or name appears in text."""
    if not text:
        return []
    found = []
    for node_id, name in sorted(nodes.items(), key=lambda item: item[1] or ''):
        if (node_id and node_id in text) or (name and re.search(r'[\[{\s]%s[\]}\s,]' % re.escape(name), text)):
            found.append(name or node_id)
    return found


class OpenSearchApi(object):
    """A thin wrapper over opensearch-py's transport that raises OpenSearchModuleError."""

    def __init__(self, module):
        self.module = module
        params = module.params
        if OPENSEARCH_IMPORT_ERROR:
            module.fail_json(msg=missing_required_lib('opensearch-py'), exception=OPENSEARCH_IMPORT_ERROR)
        self.hosts = params['hosts']
        self.username = params.get('username')
        kwargs = dict(
            hosts=self.hosts,
            timeout=params['timeout'],
            max_retries=max(len(self.hosts) - 1, 0),
            retry_on_timeout=False,
            verify_certs=params['validate_certs'],
            ssl_show_warn=False,
        )
        if not params['validate_certs']:
            kwargs['ssl_assert_hostname'] = False
        if params.get('ca_path'):
            kwargs['ca_certs'] = params['ca_path']
        if params.get('client_cert'):
            kwargs['client_cert'] = params['client_cert']
            kwargs['client_key'] = params['client_key']
        if self.username:
            kwargs['http_auth'] = (self.username, params['password'])
        try:
            self.client = OpenSearch(**kwargs)
        except Exception as exc:  # opensearch-py validates hosts and TLS files here
            module.fail_json(msg='Could not set up the OpenSearch client for %s: %s' % (', '.join(self.hosts), exc))

    def request(self, method, url, params=None, body=None, action=None, ignore=(), timeout=None):
        """Send one request; return the decoded body, or None for a status listed in ignore."""
        query = dict(params or {})
        if timeout:
            query['request_timeout'] = timeout
        try:
            return self.client.transport.perform_request(method, url, params=query, body=body)
        except OpenSearchSSLError as exc:
            raise OpenSearchModuleError(
                describe_error(None, None, str(exc.info), self.hosts, self.username, action, tls_error=True))
        except OpenSearchConnectionError as exc:
            raise OpenSearchModuleError(
                describe_error(None, None, '%s' % (exc.info,), self.hosts, self.username, action, connection_error=True))
        except TransportError as exc:
            status = exc.status_code
            if status in ignore:
                return None
            error_type, reason = error_details(exc.info)
            if reason is None:
                reason = str(exc.error)
            raise OpenSearchModuleError(
                describe_error(status, error_type, reason, self.hosts, self.username, action),
                status=status, error_type=error_type, reason=reason)

    def node_names(self):
        """{node_id: node_name} for every node in the cluster ({} if the caller may not read it)."""
        try:
            answer = self.request('GET', '/_nodes', params={'filter_path': 'nodes.*.name'})
        except OpenSearchModuleError:
            return {}
        return dict((node_id, node.get('name')) for node_id, node in ((answer or {}).get('nodes') or {}).items())

    def cluster_manager_name(self):
        """Name of the elected cluster-manager node, or None if it cannot be read."""
        try:
            answer = self.request('GET', '/_cat/cluster_manager', params={'format': 'json', 'h': 'node'})
        except OpenSearchModuleError:
            return None
        return answer[0].get('node') if answer else None

    def node_path_repo(self):
        """{node_name: [path.repo entries]} for every node ({} if the caller may not read node settings)."""
        try:
            answer = self.request('GET', '/_nodes/settings', params={'filter_path': 'nodes.*.name,nodes.*.settings.path.repo'})
        except OpenSearchModuleError:
            return {}
        result = {}
        for node_id, node in ((answer or {}).get('nodes') or {}).items():
            repo = ((node.get('settings') or {}).get('path') or {}).get('repo') or []
            if not isinstance(repo, list):
                repo = [part.strip() for part in str(repo).split(',') if part.strip()]
            result[node.get('name') or node_id] = repo
        return result
