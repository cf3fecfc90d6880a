# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What module_utils/postgresql_connection.py passes to psycopg and tells a person when it cannot connect,
checked without a server."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.rdmops.invenio.plugins.module_utils.postgresql_connection import (
    connection_kwargs,
    describe_connection_error,
)


CONN = dict(login_host='db.example.org', login_unix_socket=None, port=5433, login_user='postgres', login_password='x',
            db='postgres', ssl_mode='prefer', ca_cert=None, connect_timeout=10)


def test_unreachable_server_message_names_host_port_and_what_to_check():
    msg = describe_connection_error('connection failed: connection to server at "10.0.0.5", port 5433 failed: '
                                    'Connection refused', CONN)
    assert msg.startswith('cannot connect to PostgreSQL at db.example.org:5433')
    assert 'listen_addresses' in msg and 'login_host' in msg


def test_wrong_password_message_names_the_user_not_the_password():
    msg = describe_connection_error('FATAL:  password authentication failed for user "postgres"', CONN)
    assert 'rejected the password of user "postgres"' in msg and 'login_password' in msg
    assert "'x'" not in msg


def test_socket_connection_is_named_by_directory():
    msg = describe_connection_error('No such file or directory', dict(CONN, login_host=None, login_unix_socket='/run/pg'))
    assert 'unix socket /run/pg (port 5433)' in msg


def test_missing_pg_hba_entry_is_told_apart():
    assert 'no pg_hba.conf entry' in describe_connection_error('FATAL:  no pg_hba.conf entry for host "10.0.0.9"', CONN)


def test_connection_kwargs_prefer_host_over_socket_and_pass_tls_options():
    kwargs = connection_kwargs(dict(CONN, login_unix_socket='/run/pg', ssl_mode='verify-full', ca_cert='/etc/ca.pem'))
    assert kwargs['host'] == 'db.example.org'
    assert kwargs['sslmode'] == 'verify-full' and kwargs['sslrootcert'] == '/etc/ca.pem'
    assert 'host' not in connection_kwargs(dict(CONN, login_host=None))
