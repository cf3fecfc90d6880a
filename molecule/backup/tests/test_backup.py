"""pgBackRest backs the primary up to an encrypted repository on the backup host, and the
playbooks take backups and restore to a point in time.

The tests run in file order: configuration first, then the playbooks, then the archiving
outage, then the timers' backups (which must work on the restored timeline too).
"""
import json
import os
import shlex
import subprocess
import time

import pytest
import testinfra

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


def sql(db, query, database=PROBE_DB):
    return db.check_output(
        f'runuser -u postgres -- psql -d {database} -XAtq -v ON_ERROR_STOP=1 -c {shlex.quote(query)}')


def repo_info(repo):
    out = repo.check_output(f'runuser -u pgbackrest -- pgbackrest --stanza={STANZA} --output=json info')
    return json.loads(out)[0]


def playbook(name, **extra_vars):
    """Run one of the collection's playbooks against the scenario's inventory, as a user would."""
    cmd = ['ansible-playbook', '-i', INVENTORY, os.path.join(PROJECT, 'playbooks', name)]
    if extra_vars:
        cmd += ['-e', json.dumps(extra_vars)]
    env = dict(os.environ, ANSIBLE_NOCOLOR='1', ANSIBLE_FORCE_COLOR='0')
    result = subprocess.run(cmd, capture_output=True, text=True, check=False, timeout=900, env=env)
    # Whitespace normalised: the YAML callback folds long messages.
    result.output = ' '.join((result.stdout + result.stderr).split())
    return result


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


def wait_for(predicate, timeout, interval=3):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(interval)


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
    assert 'Sun *-*-* 01:00:00' in repo.file('/etc/systemd/system/pgbackrest-backup@full.timer').content_string


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
    result = playbook('backup.yml', backup_type='full')
    assert result.returncode == 0, result.output
    new = [b for b in repo_info(repo)['backup'] if b['label'] not in before]
    assert [b['type'] for b in new] == ['full']
    assert new[0]['label'] in result.output
    assert 'WAL archive' in result.output


def test_point_in_time_restore_keeps_exactly_the_rows_committed_before_the_target(db):
    sql(db, 'CREATE TABLE IF NOT EXISTS restore_probe (id int PRIMARY KEY, committed_at timestamptz NOT NULL)')
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

    result = playbook('restore.yml', restore_confirm=True, restore_target_time=target,
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
def test_restore_to_a_named_restore_point_or_an_lsn(db, kind):
    first, second = (20, 21) if kind == 'name' else (30, 31)
    sql(db, f'INSERT INTO restore_probe VALUES ({first}, clock_timestamp())')
    if kind == 'name':
        target = f'rdmops-test-{first}'
        sql(db, f"SELECT pg_create_restore_point('{target}')")
    else:
        target = sql(db, 'SELECT pg_current_wal_insert_lsn()')
    sql(db, f'INSERT INTO restore_probe VALUES ({second}, clock_timestamp())')
    archive_current_segment(db)
    expected = sql(db, f'SELECT id FROM restore_probe WHERE id <> {second} ORDER BY id').splitlines()

    result = playbook('restore.yml', restore_confirm=True, **{f'restore_target_{kind}': target})
    assert result.returncode == 0, result.output
    assert f'--type={kind} --target={target} --target-action=promote' in result.output
    assert sql(db, 'SELECT id FROM restore_probe ORDER BY id').splitlines() == expected
    assert str(first) in expected


# --- archiving health --------------------------------------------------------------------------

def test_archiving_reports_unhealthy_while_the_repository_is_unreachable_then_recovers(db, repo):
    status = wait_for(lambda: archiver_status(db)['healthy'] and archiver_status(db), 120)
    assert status and status['active']
    failed_before = status['failed_count']
    repo.check_output('systemctl stop ssh.service')
    try:
        sql(db, 'INSERT INTO restore_probe VALUES (10, clock_timestamp())')
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
def test_backups_started_by_the_timers_service_appear_in_the_repository(repo, kind):
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
