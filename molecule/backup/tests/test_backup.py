"""pgBackRest backs the primary up to an encrypted repository on the backup host, and the
playbooks take backups and restore to a point in time, to the latest state, and onto a fresh host.

Every test takes what it relies on from fixtures (a full backup in the repository, the probe
table, a restore behind the primary's timeline), so any one runs alone or in any order
(RDMOPS_TEST_ORDER=reverse runs them last to first). The move to a fresh host is one class: its
fixtures take the procedure's steps in order, and when the class is done they move the database
back onto backup-db and leave backup-fresh without a cluster of the site, as the other tests
expect to find them.
"""
import json
import os
import shlex
import shutil
import subprocess
import sys
import time

import pytest
import testinfra
import yaml

sys.path.insert(0, os.path.join(os.environ.get('MOLECULE_PROJECT_DIRECTORY', os.getcwd()), 'tests'))
from support.playbooks import playbook as run_playbook  # noqa: E402 (the harness lives with the project's tests)

INVENTORY = os.environ['MOLECULE_INVENTORY_FILE']
PROJECT = os.environ.get('MOLECULE_PROJECT_DIRECTORY', os.getcwd())
CREDENTIALS = os.path.join(os.environ['MOLECULE_EPHEMERAL_DIRECTORY'], 'credentials')
STANZA = 'main'
PG_PATH = '/var/lib/postgresql/15/main'
PG_UNIT = 'postgresql@15-main.service'
PROBE_DB = 'invenio'


def connect(name):
    return testinfra.get_host(f'ansible://{name}?ansible_inventory={INVENTORY}')


@pytest.fixture(scope='module')
def db():
    return connect('backup-db')


@pytest.fixture(scope='module')
def repo():
    return connect('backup-repo')


@pytest.fixture(scope='module')
def fresh():
    return connect('backup-fresh')


def sql(db, query, database=PROBE_DB):
    return db.check_output(
        f'runuser -u postgres -- psql -d {database} -XAtq -v ON_ERROR_STOP=1 -c {shlex.quote(query)}')


def repo_info(repo):
    out = repo.check_output(f'runuser -u pgbackrest -- pgbackrest --stanza={STANZA} --output=json info')
    return json.loads(out)[0]


def playbook(name, *args, inventory=INVENTORY, **extra_vars):
    return run_playbook(name, *args, inventory=inventory, **extra_vars)


def archiver_status(db):
    """The archiver status as rdmops.invenio.postgresql_wal_archiving reports it (check mode: changes nothing)."""
    env = dict(os.environ, ANSIBLE_LOAD_CALLBACK_PLUGINS='1', ANSIBLE_STDOUT_CALLBACK='ansible.posix.json')
    args = json.dumps({'pgbackrest_stanza': STANZA, 'archive_timeout': '30s', 'login_unix_socket': '/var/run/postgresql'})
    result = subprocess.run(
        ['ansible', 'backup-db', '-i', INVENTORY, '--check', '-b', '--become-user', 'postgres',
         '-m', 'rdmops.invenio.postgresql_wal_archiving', '-a', args],
        capture_output=True, text=True, env=env, check=False, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    task = json.loads(result.stdout)['plays'][0]['tasks'][0]['hosts']['backup-db']
    assert task['changed'] is False, task
    return task['archiver']


def switch_wal(db):
    return sql(db, 'SELECT pg_walfile_name(pg_switch_wal())', database='postgres')


def timeline(host):
    """The timeline the server writes WAL on now (the checkpoint's may still be the previous one)."""
    return int(sql(host, 'SELECT substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8)', 'postgres'), 16)


def set_aside_dirs(host):
    return set(host.run(f'ls -d {PG_PATH}.before-restore-*').stdout.split())


def pg_invocation(host):
    return host.check_output(f'systemctl show -p InvocationID --value {PG_UNIT}')


def dump_digest(host):
    """Digest of a plain dump of the InvenioRDM database (schema and rows); the fixed restrict
    key keeps pg_dump's random per-run one out of the comparison."""
    return host.check_output(f'runuser -u postgres -- pg_dump --restrict-key=rdmopstest {PROBE_DB} | sha256sum')


def write_probe_rows(host, *ids):
    """Commit rows with these ids now (a row left by an earlier run is written again)."""
    listed = ', '.join(str(i) for i in ids)
    sql(host, f'DELETE FROM restore_probe WHERE id IN ({listed})')
    sql(host, 'INSERT INTO restore_probe VALUES ' + ', '.join(f'({i}, clock_timestamp())' for i in ids))


def restore_latest():
    result = playbook('restore.yml', '-e', 'restore_confirm=true')
    assert result.returncode == 0, result.output


def wait_for(predicate, timeout, interval=3):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(interval)


@pytest.fixture(scope='module')
def full_backup(repo):
    """The repository holds a full backup: restores and differential backups start from one.
    When it holds none, the full timer's service takes one."""
    if not any(backup['type'] == 'full' for backup in repo_info(repo).get('backup', [])):
        repo.check_output('systemctl start pgbackrest-backup@full.service')


@pytest.fixture(scope='module')
def probe_table(db):
    """The table whose rows show what a restore brought back."""
    sql(db, 'CREATE TABLE IF NOT EXISTS restore_probe (id int PRIMARY KEY, committed_at timestamptz NOT NULL)')


@pytest.fixture(scope='module')
def restored_primary(db, full_backup):
    """The primary runs on a timeline a restore began: what runs on it must work there too."""
    if timeline(db) == 1:
        restore_latest()


@pytest.fixture
def restored_since_the_last_backup(db, repo, full_backup):
    """The primary runs on a timeline that began after the newest backup, so bringing it back
    means replaying WAL across a timeline switch. Checked anew for each test: backups move it."""
    newest = repo_info(repo)['backup'][-1]
    if timeline(db) <= int(newest['archive']['start'][:8], 16):
        restore_latest()


# --- configuration -----------------------------------------------------------------------------

def test_repository_is_encrypted_and_only_the_repository_host_holds_the_passphrase(db, repo):
    with open(os.path.join(CREDENTIALS, 'pgbackrest_cipher_passphrase'), encoding='utf-8') as handle:
        passphrase = handle.read().strip()
    assert len(passphrase) >= 40
    # Repository host: only in a runtime file of the repository owner, rendered from the credential.
    runtime = repo.file('/run/pgbackrest/cipher.conf')
    assert runtime.user == 'pgbackrest' and runtime.mode == 0o600
    assert f'repo1-cipher-pass={passphrase}' in runtime.content_string
    assert repo.file('/etc/credstore.encrypted/pgbackrest_cipher_passphrase').exists
    assert passphrase not in repo.file('/etc/pgbackrest.conf').content_string
    assert repo.run(f'grep -rF {shlex.quote(passphrase)} /etc /var/lib/pgbackrest /var/log').rc == 1
    assert passphrase not in repo.check_output('systemctl show -p Environment pgbackrest-secrets.service pgbackrest-backup@full.service')
    # Primary: nowhere.
    assert db.run(f'grep -rF {shlex.quote(passphrase)} /etc /var/lib/postgresql /var/spool/pgbackrest').rc == 1
    assert not db.file('/etc/credstore.encrypted/pgbackrest_cipher_passphrase').exists
    # Archived WAL is stored encrypted (OpenSSL salted format), not as plain lz4.
    segment = repo.check_output(f'find /var/lib/pgbackrest/archive/{STANZA} -name "0000*.lz4" -print -quit')
    assert segment
    assert repo.check_output(f'head -c 8 {segment}') == 'Salted__'
    assert repo_info(repo)['cipher'] == 'aes-256-cbc'


def test_configuration_files_are_not_world_readable(db, repo):
    for host, group in ((db, 'postgres'), (repo, 'pgbackrest')):
        config = host.file('/etc/pgbackrest.conf')
        assert config.mode == 0o640 and config.group == group
    assert repo.file('/var/lib/pgbackrest').mode == 0o750
    assert repo.file('/var/lib/pgbackrest').user == 'pgbackrest'


def test_ssh_keys_run_only_pgbackrest_remote_processes(db, repo):
    for host, user, peer in ((db, 'postgres', 'backup-repo'), (repo, 'pgbackrest', 'backup-db')):
        peer_user = 'pgbackrest' if user == 'postgres' else 'postgres'
        attempt = host.run(f'runuser -u {user} -- ssh {peer_user}@{peer} id')
        assert attempt.rc != 0
        assert 'pgbackrest-remote-only: refused' in attempt.stderr
        assert 'uid=' not in attempt.stdout
        known = host.file(f'{"/var/lib/postgresql" if user == "postgres" else "/var/lib/pgbackrest"}/.ssh/known_hosts')
        assert known.content_string.strip().splitlines()[-1].startswith(f'{peer} ssh-ed25519 ')
    line = repo.file('/var/lib/pgbackrest/.ssh/authorized_keys').content_string.strip()
    assert line.startswith('restrict,command="/usr/local/libexec/pgbackrest-remote-only" ssh-ed25519 ')


def test_stanza_exists_and_check_passes(repo):
    assert repo_info(repo)['status']['code'] in (0, 2)
    repo.check_output(f'runuser -u pgbackrest -- pgbackrest --stanza={STANZA} check')


def test_backup_timers_are_scheduled(repo):
    for kind in ('full', 'diff', 'incr'):
        timer = repo.service(f'pgbackrest-backup@{kind}.timer')
        assert timer.is_enabled and timer.is_running
    assert 'OnCalendar=*-02-29 01:00:00' in repo.file('/etc/systemd/system/pgbackrest-backup@full.timer').content_string


# --- playbooks ---------------------------------------------------------------------------------

def test_restore_refuses_without_confirmation_and_touches_nothing(db):
    started = db.check_output(f'systemctl show -p ExecMainStartTimestampMonotonic --value {PG_UNIT}')
    set_aside = db.run(f'ls -d {PG_PATH}.before-restore-*').stdout
    result = playbook('restore.yml')
    assert result.returncode != 0
    assert 'Refusing to restore' in result.output
    assert 'restore_confirm=true' in result.output
    assert db.check_output(f'systemctl show -p ExecMainStartTimestampMonotonic --value {PG_UNIT}') == started
    assert db.run(f'ls -d {PG_PATH}.before-restore-*').stdout == set_aside


def test_backup_playbook_takes_a_full_backup_now(repo):
    before = {b['label'] for b in repo_info(repo).get('backup', [])}
    result = playbook('backup.yml', pgbackrest_backup_type='full')
    assert result.returncode == 0, result.output
    new = [b for b in repo_info(repo)['backup'] if b['label'] not in before]
    assert [b['type'] for b in new] == ['full']
    assert new[0]['label'] in result.output
    assert 'WAL archive' in result.output


def test_point_in_time_restore_keeps_exactly_the_rows_committed_before_the_target(db, full_backup, probe_table):
    sql(db, 'TRUNCATE restore_probe')
    sql(db, 'INSERT INTO restore_probe VALUES (1, clock_timestamp())')
    time.sleep(2)
    sql(db, 'INSERT INTO restore_probe VALUES (2, clock_timestamp())')
    time.sleep(1)
    target = sql(db, "SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US') || '+00'")
    time.sleep(1)
    sql(db, 'INSERT INTO restore_probe VALUES (3, clock_timestamp())')
    rows = sql(db, "SELECT id, committed_at < timestamptz '" + target + "' FROM restore_probe ORDER BY id").splitlines()
    assert rows == ['1|t', '2|t', '3|f']
    # The commit of row 3 must be in the archive, or recovery could not see that the target was passed.
    archive_current_segment(db)
    # Stands in for an InvenioRDM service: the restore must stop it first and start it again.
    app = 'invenio-rdm-probe.service'
    db.check_output(f"printf '[Service]\\nExecStart=/bin/sleep infinity\\n' > /etc/systemd/system/{app}"
                    f' && systemctl daemon-reload && systemctl start {app}')
    app_before = db.check_output(f'systemctl show -p InvocationID --value {app}')
    set_aside_before = set(db.run(f'ls -d {PG_PATH}.before-restore-*').stdout.split())

    result = playbook('restore.yml', restore_confirm=True, pgbackrest_restore_target_time=target,
                      restore_application_hosts='invenio_db')
    assert result.returncode == 0, result.output

    assert sql(db, 'SELECT id FROM restore_probe ORDER BY id').splitlines() == ['1', '2']
    assert sql(db, 'SELECT pg_is_in_recovery()', 'postgres') == 'f'
    assert int(sql(db, 'SELECT timeline_id FROM pg_control_checkpoint()', 'postgres')) > 1
    set_aside = sorted(set(db.check_output(f'ls -d {PG_PATH}.before-restore-*').split()) - set_aside_before)
    assert len(set_aside) == 1 and db.file(f'{set_aside[0]}/PG_VERSION').exists
    assert 'Previous data directory: ' + set_aside[0] in result.output
    # The application unit was stopped for the restore and started again afterwards.
    assert db.service(app).is_running
    assert db.check_output(f'systemctl show -p InvocationID --value {app}') != app_before
    db.run(f'systemctl stop {app} && rm /etc/systemd/system/{app} && systemctl daemon-reload')


def archive_current_segment(db):
    segment = switch_wal(db)
    assert wait_for(lambda: sql(db, 'SELECT last_archived_wal FROM pg_stat_archiver', 'postgres') >= segment, 120)


@pytest.mark.parametrize('kind', ['name', 'lsn'])
def test_restore_to_a_named_restore_point_or_an_lsn(db, full_backup, probe_table, kind):
    first, second = (20, 21) if kind == 'name' else (30, 31)
    write_probe_rows(db, first)
    if kind == 'name':
        # Unique per run: recovery stops at the first point of that name it replays.
        target = f'rdmops-test-{first}-{time.time_ns()}'
        sql(db, f"SELECT pg_create_restore_point('{target}')")
    else:
        target = sql(db, 'SELECT pg_current_wal_insert_lsn()')
    write_probe_rows(db, second)
    archive_current_segment(db)
    expected = sql(db, f'SELECT id FROM restore_probe WHERE id <> {second} ORDER BY id').splitlines()

    result = playbook('restore.yml', restore_confirm=True, **{f'pgbackrest_restore_target_{kind}': target})
    assert result.returncode == 0, result.output
    assert f'--type={kind} --target={target} --target-action=promote' in result.output
    assert sql(db, 'SELECT id FROM restore_probe ORDER BY id').splitlines() == expected
    assert str(first) in expected


def test_restore_to_the_latest_state_keeps_every_archived_commit(db, probe_table, restored_since_the_last_backup):
    # Written after the last backup and after a restore: only replaying the WAL of every
    # timeline since that backup brings them back.
    write_probe_rows(db, 40, 41)
    archive_current_segment(db)
    expected = sql(db, 'SELECT id FROM restore_probe ORDER BY id').splitlines()
    assert {'40', '41'} <= set(expected)
    timeline_before = timeline(db)
    set_aside_before = set_aside_dirs(db)
    # A file PostgreSQL ignores: it must leave with the old data directory.
    db.check_output(f'touch {PG_PATH}/rdmops-before-latest-restore')

    result = playbook('restore.yml', '-e', 'restore_confirm=true')
    assert result.returncode == 0, result.output
    assert 'Restored to the end of the archived WAL onto backup-db' in result.output

    assert sql(db, 'SELECT id FROM restore_probe ORDER BY id').splitlines() == expected
    assert sql(db, 'SELECT pg_is_in_recovery()', 'postgres') == 'f'
    assert timeline(db) > timeline_before
    set_aside = sorted(set_aside_dirs(db) - set_aside_before)
    assert len(set_aside) == 1
    assert db.file(f'{set_aside[0]}/rdmops-before-latest-restore').exists
    assert not db.file(f'{PG_PATH}/rdmops-before-latest-restore').exists


@pytest.mark.parametrize('args, refusal', [
    # backup-fresh is not (yet) the primary of the site.
    (['-e', 'restore_host=backup-fresh'], 'Refusing to restore onto backup-fresh: the repository backs up backup-db'),
    # backup-db holds the very cluster the stanza backs up: calling it fresh is a mistake
    # (typically: the new host was not put first in invenio_db).
    (['-e', 'pgbackrest_restore_fresh_host=true'], 'pgbackrest_restore_fresh_host=true, but it already holds the cluster stanza main backs up'),
    (['-e', 'pgbackrest_restore_fresh_host=maybe'],
     "argument 'pgbackrest_restore_fresh_host' is of type str and we were unable to convert to bool: The value 'maybe' is not a valid boolean"),
    (['-e', 'pgbackrest_stanza=mian'], 'Refusing to restore onto backup-db: stanza mian has no backup to restore (missing stanza path)'),
    (['-e', 'postgresql_version=14'], 'Refusing to restore onto backup-db: PostgreSQL 14 is not installed there'),
], ids=['not-the-primary', 'not-fresh', 'flag-not-boolean', 'no-backup', 'no-postgresql'])
def test_restore_refuses_what_it_cannot_do_and_touches_nothing(db, fresh, full_backup, args, refusal):
    started = pg_invocation(db)
    set_aside = set_aside_dirs(db)
    result = playbook('restore.yml', '-e', 'restore_confirm=true', *args)
    assert result.returncode != 0
    assert refusal in result.output
    assert 'Nothing has been changed' in result.output
    assert pg_invocation(db) == started
    assert set_aside_dirs(db) == set_aside
    assert fresh.run(f'ls -d {PG_PATH}.before-restore-*').rc != 0


# --- archiving health --------------------------------------------------------------------------

def test_archiving_reports_unhealthy_while_the_repository_is_unreachable_then_recovers(db, repo, probe_table):
    status = wait_for(lambda: archiver_status(db)['healthy'] and archiver_status(db), 120)
    assert status and status['active']
    failed_before = status['failed_count']
    repo.check_output('systemctl stop ssh.service')
    try:
        write_probe_rows(db, 10)
        switch_wal(db)

        def failing():
            current = archiver_status(db)
            return current if current['failed_count'] > failed_before and not current['healthy'] else None
        down = wait_for(failing, 120, interval=5)
        assert down, archiver_status(db)
        assert down['last_failed_wal']
    finally:
        repo.check_output('systemctl start ssh.service')

    def healthy():
        switch_wal(db)
        current = archiver_status(db)
        return current if current['healthy'] else None
    up = wait_for(healthy, 180, interval=10)
    assert up, archiver_status(db)
    assert up['last_archived_time'] > down['last_failed_time']


# --- timers ------------------------------------------------------------------------------------

@pytest.mark.parametrize('kind', ['diff', 'incr'])
def test_backups_started_by_the_timers_service_appear_in_the_repository(repo, restored_primary, kind):
    before = {b['label'] for b in repo_info(repo)['backup']}
    repo.check_output(f'systemctl start pgbackrest-backup@{kind}.service')
    new = [b for b in repo_info(repo)['backup'] if b['label'] not in before]
    assert [b['type'] for b in new] == [kind]
    assert 'backup command end: completed successfully' in repo.check_output(
        f'journalctl -u pgbackrest-backup@{kind}.service --no-pager -o cat')
    assert repo.service(f'pgbackrest-backup@{kind}.service').is_valid


@pytest.mark.parametrize('unit, ceiling', [('pgbackrest-backup@full.service', 1.4), ('pgbackrest-secrets.service', 1.0)])
def test_backup_units_run_sandboxed(repo, systemd_exposure, unit, ceiling):
    assert systemd_exposure(repo, unit) <= ceiling


# --- the database moves to a fresh host ----------------------------------------------------------
# docs/playbooks/restore.md, "Onto a fresh host": the operator makes the fresh host the first (here
# the only) host of invenio_db and drops the old primary from the inventory, converges the site
# with pgbackrest_manage_stanza=false, then runs restore.yml with pgbackrest_restore_fresh_host=true.

CONVERGE = os.path.join(os.environ['MOLECULE_SCENARIO_DIRECTORY'], 'converge.yml')


def move_back_to_backup_db(fresh):
    """The same move the other way, as an operator would undo it: the scenario's inventory is
    converged again (backup-db is the repository's primary once more) and the latest state is
    restored onto backup-db, which still holds the cluster the stanza backs up. backup-fresh is
    left with a new empty cluster, as PostgreSQL's package made it (UTF-8, C.UTF-8: the locale of
    this shell would give SQL_ASCII): fresh again."""
    result = playbook(CONVERGE)
    assert result.returncode == 0, result.output
    restore_latest()
    fresh.check_output(f'pg_dropcluster --stop 15 main && rm -rf {PG_PATH}.before-restore-* '
                       '&& pg_createcluster --locale C.UTF-8 15 main')


def later_tests_follow(request):
    """Whether the session runs tests after the last one of the requesting class."""
    items = request.session.items
    last = max(index for index, item in enumerate(items) if item.cls is request.cls)
    return last < len(items) - 1


class TestTheDatabaseMovesToAFreshHost:
    """The procedure's steps are the class's fixtures, taken in order whatever test asks first;
    what a step leaves that a later step changes is read right after it."""

    @pytest.fixture(scope='class')
    def fresh_site(self, request, db, fresh, full_backup, probe_table):
        """The site after steps 1 and 2 of the procedure, and what the old primary held before them.
        When the class is done and tests follow it, the database moves back onto backup-db (a
        converge and a restore: minutes that a run ending with this class does not spend)."""
        # The newest commit on the old primary, archived: the restore must bring it over.
        write_probe_rows(db, 50)
        archive_current_segment(db)
        before = {
            'rows': sql(db, 'SELECT id FROM restore_probe ORDER BY id').splitlines(),
            'dump': dump_digest(db),
            'pg_invocation': pg_invocation(db),
            'set_aside': set_aside_dirs(db),
            'timeline': timeline(db),
        }
        assert '50' in before['rows']

        with open(INVENTORY, encoding='utf-8') as handle:
            hosts = yaml.safe_load(handle)['all']['hosts']
        site = os.path.join(os.environ['MOLECULE_EPHEMERAL_DIRECTORY'], 'fresh-site')
        shutil.rmtree(site, ignore_errors=True)
        shutil.copytree(os.path.join(os.path.dirname(INVENTORY), 'group_vars'), os.path.join(site, 'group_vars'))
        inventory = os.path.join(site, 'hosts.yml')
        with open(inventory, 'w', encoding='utf-8') as handle:
            yaml.safe_dump({'all': {
                'hosts': {name: hosts[name] for name in ('backup-fresh', 'backup-repo')},
                'children': {'invenio_db': {'hosts': {'backup-fresh': None}},
                             'invenio_backup': {'hosts': {'backup-repo': None}}},
            }}, handle)

        try:
            result = playbook(CONVERGE, '-e', 'pgbackrest_manage_stanza=false', inventory=inventory)
            assert result.returncode == 0, result.output
            yield {'inventory': inventory, 'before': before}
        finally:
            if later_tests_follow(request):
                move_back_to_backup_db(fresh)

    @pytest.fixture(scope='class')
    def restore_without_the_flag(self, fresh_site, fresh):
        """A restore onto the fresh host without pgbackrest_restore_fresh_host=true, tried before the real
        one (which needs the flag) has replaced the host's own cluster."""
        started = pg_invocation(fresh)
        result = playbook('restore.yml', '-e', 'restore_confirm=true', inventory=fresh_site['inventory'])
        return {'result': result, 'started': started, 'invocation_after': pg_invocation(fresh),
                'set_aside_listing': fresh.run(f'ls -d {PG_PATH}.before-restore-*')}

    @pytest.fixture(scope='class')
    def fresh_restore(self, fresh_site, restore_without_the_flag, fresh):
        """Step 3, and the new primary's data right after it (before any test writes to it)."""
        result = playbook('restore.yml', '-e', 'restore_confirm=true', '-e', 'pgbackrest_restore_fresh_host=true',
                          inventory=fresh_site['inventory'])
        assert result.returncode == 0, result.output
        return {'result': result, 'rows': sql(fresh, 'SELECT id FROM restore_probe ORDER BY id').splitlines(),
                'dump': dump_digest(fresh)}

    def test_restore_refuses_a_fresh_host_unless_told_it_is_one(self, restore_without_the_flag):
        result = restore_without_the_flag['result']
        assert result.returncode != 0
        assert 'is not the one stanza main backs up' in result.output
        assert 'run again with -e pgbackrest_restore_fresh_host=true' in result.output
        assert restore_without_the_flag['invocation_after'] == restore_without_the_flag['started']
        assert restore_without_the_flag['set_aside_listing'].rc != 0

    def test_fresh_host_restore_holds_exactly_the_data_of_the_old_primary(self, fresh_site, fresh_restore, fresh):
        result = fresh_restore['result']
        assert result.returncode == 0, result.output
        assert 'Restored to the end of the archived WAL onto the fresh host backup-fresh' in result.output
        assert 'PgBackRest check passes against the restored primary' in result.output

        before = fresh_site['before']
        assert fresh_restore['rows'] == before['rows']
        assert fresh_restore['dump'] == before['dump']
        assert sql(fresh, 'SELECT pg_is_in_recovery()', 'postgres') == 'f'
        assert timeline(fresh) > before['timeline']
        # The fresh host's own empty cluster is kept aside too.
        set_aside = fresh.check_output(f'ls -d {PG_PATH}.before-restore-*').split()
        assert len(set_aside) == 1 and fresh.file(f'{set_aside[0]}/PG_VERSION').exists

    def test_the_new_primary_accepts_writes_and_archives_them(self, fresh_restore, fresh, repo):
        write_probe_rows(fresh, 60)
        assert sql(fresh, 'SELECT count(*) FROM restore_probe WHERE id = 60') == '1'
        archive_current_segment(fresh)
        repo.check_output(f'runuser -u pgbackrest -- pgbackrest --stanza={STANZA} check')
        assert repo_info(repo)['archive'][-1]['max'][:8] == f'{timeline(fresh):08X}'

    def test_the_repository_backs_up_the_new_primary(self, fresh_site, fresh_restore, fresh, repo):
        before = {b['label'] for b in repo_info(repo)['backup']}
        result = playbook('backup.yml', '-e', 'pgbackrest_backup_type=incr', inventory=fresh_site['inventory'])
        assert result.returncode == 0, result.output
        new = [b for b in repo_info(repo)['backup'] if b['label'] not in before]
        assert [b['type'] for b in new] == ['incr']
        # Its WAL starts on the new primary's timeline: the backup was taken from backup-fresh.
        assert new[0]['archive']['start'][:8] == f'{timeline(fresh):08X}'

    def test_the_old_primary_is_untouched_and_cut_off_from_the_repository(self, fresh_site, db):
        # A restore run with the old inventory, which still names backup-db, is refused before it starts.
        result = playbook('restore.yml', '-e', 'restore_confirm=true')
        assert result.returncode != 0
        assert 'Refusing to restore onto backup-db: it cannot read stanza main from the repository' in result.output
        assert 'Permission denied (publickey' in result.output
        before = fresh_site['before']
        assert pg_invocation(db) == before['pg_invocation']
        assert set_aside_dirs(db) == before['set_aside']
        assert sql(db, 'SELECT id FROM restore_probe ORDER BY id').splitlines() == before['rows']
        assert dump_digest(db) == before['dump']
        # Its WAL now diverges from the new primary's: the repository no longer accepts its key.
        attempt = db.run(f'runuser -u postgres -- pgbackrest --stanza={STANZA} info')
        assert 'Permission denied (publickey' in attempt.stdout + attempt.stderr
