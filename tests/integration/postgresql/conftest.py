"""A throwaway PostgreSQL 15 cluster for the module tests, and a way to run modules the way Ansible does.

The cluster is initdb'd into a temporary directory as an unprivileged user (initdb refuses root: as root the
system user `rdmops-test` is created if missing and used through runuser), listens on 127.0.0.1 and a free port
with scram-sha-256 authentication and a password generated for this run, and is stopped and removed at the end.
Needs Debian's postgresql-15 package (/usr/lib/postgresql/15/bin).
"""

import json
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile

import psycopg
import pytest

PG_BIN = os.environ.get('RDMOPS_TEST_PG_BIN', '/usr/lib/postgresql/15/bin')
TEST_USER = 'rdmops-test'
PASSWORD_ENV = 'RDMOPS_TEST_PGPASSWORD'
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))


def free_port():
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


class Cluster:
    def __init__(self, base):
        self.base = base
        self.data = os.path.join(base, 'data')
        self.archive = os.path.join(base, 'archive')
        self.socket_dir = os.path.join(base, 'socket')
        self.log_dir = os.path.join(base, 'log')
        self.log = os.path.join(self.log_dir, 'postgresql.log')
        self.port = free_port()
        self.host = '127.0.0.1'
        self.password = secrets.token_urlsafe(24)
        self.as_root = os.geteuid() == 0

    # -- server control -------------------------------------------------
    def run_as_owner(self, *argv):
        prefix = ['runuser', '-u', TEST_USER, '--'] if self.as_root else []
        return subprocess.run(prefix + list(argv), check=True, capture_output=True, text=True, timeout=120)

    def initdb(self):
        if self.as_root:
            try:
                pwd.getpwnam(TEST_USER)
            except KeyError:
                subprocess.run(['useradd', '--system', '--no-create-home', '--home-dir', '/nonexistent',
                                '--shell', '/usr/sbin/nologin', TEST_USER], check=True)
            os.chmod(self.base, 0o711)
        for path in (self.data, self.archive, self.socket_dir, self.log_dir):
            os.mkdir(path, 0o700)
        pwfile = os.path.join(self.base, 'pwfile')
        with open(os.open(pwfile, os.O_WRONLY | os.O_CREAT, 0o600), 'w') as handle:
            handle.write(self.password + '\n')
        if self.as_root:
            owner = pwd.getpwnam(TEST_USER)
            for path in (self.data, self.archive, self.socket_dir, self.log_dir, pwfile):
                os.chown(path, owner.pw_uid, owner.pw_gid)
        try:
            self.run_as_owner(os.path.join(PG_BIN, 'initdb'), '-D', self.data, '-U', 'postgres', '--pwfile', pwfile,
                              '--auth-local=scram-sha-256', '--auth-host=scram-sha-256', '--no-sync', '-E', 'UTF8')
        finally:
            os.unlink(pwfile)
        with open(os.path.join(self.data, 'postgresql.conf'), 'a') as conf:
            conf.write("\nlisten_addresses = '127.0.0.1'\nport = %d\nunix_socket_directories = '%s'\n"
                       "fsync = off\nshared_buffers = 16MB\nmax_connections = 20\n" % (self.port, self.socket_dir))

    def pg_ctl(self, *args):
        return self.run_as_owner(os.path.join(PG_BIN, 'pg_ctl'), '-D', self.data, '-l', self.log, '-w', *args)

    def start(self):
        self.pg_ctl('start')

    def restart(self):
        self.pg_ctl('restart', '-m', 'fast')

    def stop(self):
        self.pg_ctl('stop', '-m', 'immediate')

    # -- direct SQL, to arrange and check state independently of the module --
    def connect(self, user='postgres', password=None):
        return psycopg.connect(host=self.host, port=self.port, user=user, password=password or self.password,
                               dbname='postgres', autocommit=True)

    def sql(self, query, params=None):
        with self.connect() as conn:
            cur = conn.execute(query, params)
            return cur.fetchall() if cur.description else None

    def reset(self):
        """Back to a server that does not archive: ALTER SYSTEM RESET ALL, restart, empty archive."""
        self.sql('ALTER SYSTEM RESET ALL')
        self.restart()
        for name in os.listdir(self.archive):
            os.unlink(os.path.join(self.archive, name))

    def archived_files(self):
        return sorted(os.listdir(self.archive))

    def copy_command(self):
        return 'test ! -f {0}/%f && cp %p {0}/%f'.format(self.archive)

    # -- the module, run by ansible-playbook -------------------------------
    def module_args(self, **args):
        base = dict(login_host=self.host, port=self.port, login_user='postgres',
                    login_password="{{ lookup('ansible.builtin.env', '%s') }}" % PASSWORD_ENV)
        base.update(args)
        return base

    def run_module(self, args, check=False, password=None, module='rdmops.invenio.postgresql_wal_archiving'):
        """Run one task with ansible-playbook and return its result dict (with 'failed' and 'msg' on failure)."""
        play = [dict(hosts='localhost', gather_facts=False,
                     tasks=[{'name': 'module under test', module: args, 'check_mode': check, 'ignore_errors': True}])]
        playbook = os.path.join(self.base, 'play-%s.json' % secrets.token_hex(4))
        with open(playbook, 'w') as handle:
            json.dump(play, handle)
        env = dict(os.environ, ANSIBLE_STDOUT_CALLBACK='json', ANSIBLE_LOCALHOST_WARNING='false',
                   ANSIBLE_INVENTORY_UNPARSED_WARNING='false', ANSIBLE_NOCOLOR='1')
        env[PASSWORD_ENV] = password if password is not None else self.password
        env.setdefault('ANSIBLE_COLLECTIONS_PATH', os.path.join(REPO, '.cache', 'collections'))
        bindir = os.path.dirname(sys.executable)
        env['PATH'] = bindir + os.pathsep + env.get('PATH', '')
        proc = subprocess.run([os.path.join(bindir, 'ansible-playbook'), '-i', 'localhost,', '-c', 'local',
                               '-e', 'ansible_python_interpreter=%s' % sys.executable, playbook],
                              capture_output=True, text=True, timeout=300, env=env, cwd=REPO, check=False)
        os.unlink(playbook)
        try:
            output = json.loads(proc.stdout)
            return output['plays'][0]['tasks'][0]['hosts']['localhost']
        except (ValueError, KeyError, IndexError):
            raise AssertionError('ansible-playbook gave no task result (rc %s)\nstdout:\n%s\nstderr:\n%s'
                                 % (proc.returncode, proc.stdout[-3000:], proc.stderr[-3000:]))


@pytest.fixture(scope='session')
def pg():
    if not os.path.exists(os.path.join(PG_BIN, 'initdb')):
        pytest.fail('PostgreSQL 15 server binaries not found in %s: install Debian package postgresql-15 '
                    '(scripts/harness/host-bootstrap.sh does)' % PG_BIN)
    base = tempfile.mkdtemp(prefix='rdmops-pg-')
    cluster = Cluster(base)
    try:
        cluster.initdb()
        cluster.start()
    except subprocess.CalledProcessError as exc:
        log = open(cluster.log).read() if os.path.exists(cluster.log) else ''
        shutil.rmtree(base, ignore_errors=True)
        pytest.fail('throwaway PostgreSQL did not start: %s\n%s\n%s' % (exc, exc.stderr, log[-2000:]))
    yield cluster
    try:
        cluster.stop()
    finally:
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def fresh(pg):
    """The cluster, not archiving, with an empty archive directory."""
    pg.reset()
    return pg
