# -*- coding: utf-8 -*-
# Copyright: rdmops.invenio developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Connection handling shared by the rdmops.invenio PostgreSQL modules (psycopg 3)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import traceback

from ansible.module_utils.basic import missing_required_lib

try:
    import psycopg
except ImportError:
    psycopg = None
    PSYCOPG_IMPORT_ERROR = traceback.format_exc()
else:
    PSYCOPG_IMPORT_ERROR = None

SSL_MODES = ['disable', 'allow', 'prefer', 'require', 'verify-ca', 'verify-full']


def connection_argument_spec():
    """Options every module using this file accepts; documented by the rdmops.invenio.postgresql fragment."""
    return dict(
        login_host=dict(type='str', aliases=['host']),
        login_unix_socket=dict(type='str'),
        port=dict(type='int', default=5432, aliases=['login_port']),
        login_user=dict(type='str', default='postgres'),
        login_password=dict(type='str', no_log=True),
        db=dict(type='str', default='postgres', aliases=['login_db']),
        ssl_mode=dict(type='str', default='prefer', choices=SSL_MODES),
        ca_cert=dict(type='path', aliases=['ssl_rootcert']),
        connect_timeout=dict(type='int', default=10),
    )


def connection_kwargs(params):
    """Translate module parameters into keyword arguments for psycopg.connect()."""
    kwargs = dict(
        port=params['port'],
        user=params['login_user'],
        dbname=params['db'],
        sslmode=params['ssl_mode'],
        connect_timeout=params['connect_timeout'],
        application_name='ansible-rdmops.invenio',
    )
    # libpq takes a socket directory as the host; an explicit host wins over the socket.
    host = params.get('login_host') or params.get('login_unix_socket')
    if host:
        kwargs['host'] = host
    if params.get('login_password'):
        kwargs['password'] = params['login_password']
    if params.get('ca_cert'):
        kwargs['sslrootcert'] = params['ca_cert']
    return kwargs


def server_label(params):
    """How to name the server in messages: host:port or the socket directory and port."""
    if params.get('login_host'):
        return '%s:%s' % (params['login_host'], params['port'])
    return 'unix socket %s (port %s)' % (params.get('login_unix_socket') or 'default directory', params['port'])


def describe_connection_error(message, params):
    """Turn a libpq connection error into a sentence naming the cause and the fix."""
    text = str(message).strip()
    lower = text.lower()
    where = server_label(params)
    user = params['login_user']
    if 'password authentication failed' in lower or 'no password supplied' in lower or 'fe_sendauth' in lower:
        return ('PostgreSQL at %s rejected the password of user "%s": check login_user and login_password '
                '(server said: %s)' % (where, user, text))
    if 'no pg_hba.conf entry' in lower:
        return ('PostgreSQL at %s has no pg_hba.conf entry allowing user "%s" to reach database "%s" from this host: '
                'add one or connect through another host or socket (server said: %s)' % (where, user, params['db'], text))
    if 'database' in lower and 'does not exist' in lower:
        return 'database "%s" does not exist on %s: set db to an existing database (server said: %s)' % (params['db'], where, text)
    if 'role' in lower and 'does not exist' in lower:
        return 'role "%s" does not exist on %s: set login_user to an existing role (server said: %s)' % (user, where, text)
    if 'ssl' in lower or 'certificate' in lower:
        return ('TLS connection to PostgreSQL at %s failed with ssl_mode=%s: check ssl_mode, ca_cert and the server '
                'certificate (server said: %s)' % (where, params['ssl_mode'], text))
    return ('cannot connect to PostgreSQL at %s: check that the server is running and listening there '
            '(listen_addresses, port), that login_host/login_unix_socket and port are right, and that no firewall '
            'blocks the connection; connect_timeout is %ss (libpq said: %s)' % (where, params['connect_timeout'], text))


def ensure_psycopg(module):
    """Fail the module with Ansible's standard message when psycopg 3 is not importable."""
    if psycopg is None:
        module.fail_json(msg=missing_required_lib('psycopg'), exception=PSYCOPG_IMPORT_ERROR)


def connect(module, autocommit=True):
    """Open a connection or fail the module with a clear message (never a traceback)."""
    ensure_psycopg(module)
    try:
        return psycopg.connect(autocommit=autocommit, **connection_kwargs(module.params))
    except psycopg.Error as exc:
        module.fail_json(msg=describe_connection_error(exc, module.params))
    return None  # not reached: fail_json exits
