# -*- coding: utf-8 -*-
# Copyright: rdmops.invenio developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    # Connection options of every rdmops.invenio PostgreSQL module (module_utils/postgresql_connection.py).
    DOCUMENTATION = r'''
options:
  login_host:
    description:
      - Host name or IP address of the PostgreSQL server.
      - When neither O(login_host) nor O(login_unix_socket) is set, libpq connects through its default Unix socket.
    type: str
    aliases: [host]
  login_unix_socket:
    description:
      - Directory holding the server's Unix socket, for example V(/var/run/postgresql).
      - Ignored when O(login_host) is set.
    type: str
  port:
    description:
      - TCP port of the server; with a Unix socket it selects the socket file.
    type: int
    default: 5432
    aliases: [login_port]
  login_user:
    description:
      - Role to connect as.
    type: str
    default: postgres
  login_password:
    description:
      - Password of O(login_user). Leave unset for peer or certificate authentication.
    type: str
  db:
    description:
      - Database to connect to.
    type: str
    default: postgres
    aliases: [login_db]
  ssl_mode:
    description:
      - libpq C(sslmode) of the connection.
      - Use V(verify-full) with O(ca_cert) when the server is reached over a network you do not control.
    type: str
    default: prefer
    choices: [disable, allow, prefer, require, verify-ca, verify-full]
  ca_cert:
    description:
      - File with the certificate authorities that may sign the server certificate (libpq C(sslrootcert)).
    type: path
    aliases: [ssl_rootcert]
  connect_timeout:
    description:
      - Seconds to wait for the connection before giving up.
    type: int
    default: 10
requirements:
  - psycopg >= 3.1 (psycopg 3) on the managed host
notes:
  - The module talks to the server with psycopg 3 (C(import psycopg)); psycopg2 is not used.
'''
