"""PostgreSQL serves the InvenioRDM database to the listed application hosts and to nobody else."""
import os
import shlex
import uuid

import pytest
import testinfra
import testinfra.utils.ansible_runner

INVENTORY = os.environ['MOLECULE_INVENTORY_FILE']
RUNNER = testinfra.utils.ansible_runner.AnsibleRunner(INVENTORY)
DB_HOSTS = RUNNER.get_hosts('invenio_db')
APP_HOSTS = RUNNER.get_hosts('invenio_app')
OUTSIDER_HOSTS = RUNNER.get_hosts('outsiders')

PORT = 5432
DATABASE = 'invenio'
USER = 'invenio'
UNIT = 'postgresql@15-main'
PASSWORD_FILE = os.path.join(os.environ['MOLECULE_EPHEMERAL_DIRECTORY'], 'credentials', 'postgresql_invenio_password')


def connect(name):
    return testinfra.get_host(f'ansible://{name}?ansible_inventory={INVENTORY}')


def invenio_password():
    with open(PASSWORD_FILE, encoding='utf-8') as handle:
        return handle.read().strip()


def network_address(db):
    """The database host's address on the scenario network (the one besides loopback)."""
    addresses = [a for a in db.check_output('hostname -I').split() if ':' not in a and not a.startswith('127.')]
    assert len(addresses) == 1, addresses
    return addresses[0]


def superuser_query(db, sql):
    return db.check_output(f'runuser -u postgres -- psql -p {PORT} -XAtq -v ON_ERROR_STOP=1 -c {shlex.quote(sql)}')


def remote_psql(client, db_address, password, sql, user=USER, database=DATABASE):
    """Run psql on a client host against the database host; the password is passed in the environment (test only)."""
    conninfo = f'host={db_address} port={PORT} dbname={database} user={user} connect_timeout=5'
    return client.run(
        f'PGPASSWORD={shlex.quote(password)} psql {shlex.quote(conninfo)} -XAtq -v ON_ERROR_STOP=1 -c {shlex.quote(sql)}'
    )


@pytest.fixture(scope='module', params=DB_HOSTS)
def db(request):
    return connect(request.param)


def test_every_role_has_hosts():
    assert DB_HOSTS and APP_HOSTS and OUTSIDER_HOSTS


def test_cluster_runs_and_starts_at_boot(db):
    assert db.service(UNIT).is_running
    assert db.service(UNIT).is_enabled
    assert db.service('postgresql').is_enabled


def test_listens_only_on_the_configured_addresses(db):
    sockets = {s for s in db.socket.get_listening_sockets() if s.endswith(f':{PORT}') and not s.startswith('unix')}
    assert sockets == {f'tcp://127.0.0.1:{PORT}', f'tcp://{network_address(db)}:{PORT}'}


@pytest.mark.parametrize('app_name', APP_HOSTS)
def test_app_host_connects_and_creates_a_table(db, app_name):
    table = f'rdmops_probe_{uuid.uuid4().hex[:8]}'
    result = remote_psql(
        connect(app_name), network_address(db), invenio_password(),
        f'CREATE TABLE {table} (id int); INSERT INTO {table} VALUES (42); SELECT id FROM {table}; DROP TABLE {table};',
    )
    assert result.rc == 0, result.stderr
    assert result.stdout.strip() == '42'


@pytest.mark.parametrize('app_name', APP_HOSTS)
def test_wrong_password_is_refused(db, app_name):
    result = remote_psql(connect(app_name), network_address(db), invenio_password() + 'x', 'SELECT 1')
    assert result.rc != 0
    assert f'password authentication failed for user "{USER}"' in result.stderr


@pytest.mark.parametrize('app_name', APP_HOSTS)
def test_app_host_reaches_nothing_but_the_invenio_database_as_its_owner(db, app_name):
    client, address, password = connect(app_name), network_address(db), invenio_password()
    other_database = remote_psql(client, address, password, 'SELECT 1', database='postgres')
    superuser = remote_psql(client, address, password, 'SELECT 1', user='postgres')
    for result in (other_database, superuser):
        assert result.rc != 0
        assert 'no pg_hba.conf entry for host' in result.stderr


@pytest.mark.parametrize('outsider_name', OUTSIDER_HOSTS)
def test_outsider_is_refused_by_pg_hba(db, outsider_name):
    result = remote_psql(connect(outsider_name), network_address(db), invenio_password(), 'SELECT 1')
    assert result.rc != 0
    assert 'no pg_hba.conf entry for host' in result.stderr


def test_invenio_role_has_least_privilege(db):
    attributes = superuser_query(
        db,
        f"SELECT rolcanlogin, rolsuper, rolcreatedb, rolcreaterole, rolreplication, rolbypassrls "
        f"FROM pg_roles WHERE rolname = '{USER}'",
    )
    assert attributes == 't|f|f|f|f|f'
    owner = superuser_query(db, f"SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = '{DATABASE}'")
    assert owner == USER


def test_password_is_stored_as_a_scram_verifier(db):
    assert superuser_query(db, f"SELECT left(rolpassword, 14) FROM pg_authid WHERE rolname = '{USER}'") == 'SCRAM-SHA-256$'
    assert superuser_query(db, 'SHOW password_encryption') == 'scram-sha-256'


def test_public_cannot_connect_to_the_invenio_database(db):
    assert superuser_query(db, f"SELECT has_database_privilege('public', '{DATABASE}', 'CONNECT')") == 'f'


def test_shared_buffers_is_a_quarter_of_the_configured_memory(db):
    memory_mb = int(RUNNER.get_variables(db.backend.host)['postgresql_memory_mb'])
    shared_buffers_mb = superuser_query(
        db, "SELECT setting::bigint * pg_size_bytes(unit) / 1048576 FROM pg_settings WHERE name = 'shared_buffers'"
    )
    assert int(shared_buffers_mb) == memory_mb // 4
