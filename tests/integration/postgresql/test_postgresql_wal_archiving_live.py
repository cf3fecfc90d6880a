"""rdmops.invenio.postgresql_wal_archiving against a real PostgreSQL 15, run through ansible-playbook."""

import os
import re
import socket

from psycopg import sql


def configured(pg, name):
    """What postgresql.auto.conf / postgresql.conf say, as the server reads them now."""
    rows = pg.sql('SELECT setting FROM pg_file_settings WHERE name = %s ORDER BY seqno', (name,))
    return rows[-1][0] if rows else None


def live(pg, name):
    return pg.sql('SELECT setting FROM pg_settings WHERE name = %s', (name,))[0][0]


def enable(pg, **extra):
    return pg.run_module(pg.module_args(archive_command=pg.copy_command(), archive_timeout='60s', **extra))


def test_enabling_archiving_needs_a_restart_and_a_second_run_changes_nothing(fresh):
    first = enable(fresh)
    assert not first.get('failed'), first.get('msg')
    assert first['changed'] is True
    assert first['restart_required'] is True
    assert 'archive_mode' in first['pending_restart']
    assert first['diff']['before']['archive_mode'] == 'off'
    assert first['diff']['after'] == dict(first['diff']['before'], archive_mode='on', archive_command=fresh.copy_command(),
                                          archive_timeout=60)
    assert configured(fresh, 'archive_mode') == 'on'
    assert configured(fresh, 'archive_command') == fresh.copy_command()
    # Before the restart the server still shows the placeholder, which must not count as a difference.
    assert live(fresh, 'archive_command') == '(disabled)'
    assert live(fresh, 'archive_mode') == 'off'

    again = fresh.run_module(fresh.module_args(archive_command=fresh.copy_command(), archive_timeout='1min'))
    assert not again.get('failed'), again.get('msg')
    assert again['changed'] is False
    assert again['queries'] == []
    assert again['restart_required'] is True

    fresh.restart()
    after_restart = fresh.run_module(fresh.module_args(archive_command=fresh.copy_command(), archive_timeout=60))
    assert after_restart['changed'] is False
    assert after_restart['restart_required'] is False
    assert after_restart['archiver']['active'] is True


def test_check_mode_reports_the_change_and_changes_nothing(fresh):
    auto_conf = os.path.join(fresh.data, 'postgresql.auto.conf')
    before = open(auto_conf).read()
    result = fresh.run_module(fresh.module_args(pgbackrest_stanza='main', archive_timeout='5min', max_wal_senders=5),
                              check=True)
    assert not result.get('failed'), result.get('msg')
    assert result['changed'] is True
    assert result['restart_required'] is True
    assert result['diff']['after']['archive_command'] == 'pgbackrest --stanza=main archive-push %p'
    assert result['diff']['after']['archive_timeout'] == 300
    assert any('pgbackrest --stanza=main archive-push %p' in q for q in result['queries'])
    assert open(auto_conf).read() == before
    assert configured(fresh, 'archive_mode') is None
    assert live(fresh, 'archive_mode') == 'off'


def test_verify_proves_archiving_works_after_the_restart(fresh):
    assert enable(fresh)['restart_required'] is True
    fresh.restart()
    start = fresh.sql('SELECT archived_count FROM pg_stat_archiver')[0][0]
    fresh.sql('CREATE TABLE IF NOT EXISTS verify_probe (n int); INSERT INTO verify_probe VALUES (1)')
    result = enable(fresh, verify=True, verify_timeout=60)
    assert not result.get('failed'), result.get('msg')
    assert result['changed'] is False
    assert re.match(r'^[0-9A-F]{24}$', result['verified_wal'])
    assert result['verified_wal'] in fresh.archived_files()
    assert result['archiver']['archived_count'] > start
    assert result['archiver']['healthy'] is True
    assert result['archiver']['active'] is True
    assert result['archiver']['archive_lag_seconds'] >= 0


def test_verify_refuses_while_the_restart_is_pending(fresh):
    result = enable(fresh, verify=True)
    assert result.get('failed') is True
    assert 'restart PostgreSQL' in result['msg']
    assert 'archive_mode' in result['msg']
    assert 'Traceback' not in result.get('module_stderr', '') + result['msg']


def test_a_failing_archive_command_is_unhealthy_and_fails_verify(fresh):
    enable(fresh)
    fresh.restart()
    failing = fresh.run_module(fresh.module_args(archive_command='/bin/false', verify=True, verify_timeout=8))
    assert failing.get('failed') is True
    status = failing['archiver']
    assert status['failed_count'] > 0
    assert status['last_failed_wal']
    assert status['last_failed_wal'] in failing['msg']
    assert 'was not archived within 8 seconds' in failing['msg']
    assert configured(fresh, 'archive_command') == '/bin/false'

    report = fresh.run_module(fresh.module_args(archive_command='/bin/false'))
    assert not report.get('failed'), report.get('msg')
    assert report['changed'] is False
    assert report['archiver']['healthy'] is False
    assert report['archiver']['failed_count'] > 0
    assert any('neither %p nor %f' in w for w in report.get('warnings', []))


def test_disabling_archiving(fresh):
    enable(fresh)
    fresh.restart()
    result = fresh.run_module(fresh.module_args(state='disabled'))
    assert not result.get('failed'), result.get('msg')
    assert result['changed'] is True
    assert result['changes'] == ['archive_mode']
    assert result['restart_required'] is True
    assert result['diff']['after']['archive_mode'] == 'off'
    fresh.restart()
    assert live(fresh, 'archive_mode') == 'off'
    again = fresh.run_module(fresh.module_args(state='disabled'))
    assert again['changed'] is False
    assert again['restart_required'] is False
    assert again['archiver']['active'] is False


def test_wrong_password_is_a_clean_error(pg):
    result = pg.run_module(pg.module_args(archive_command=pg.copy_command()), password='not-the-password')
    assert result.get('failed') is True
    assert 'rejected the password of user "postgres"' in result['msg']
    assert '127.0.0.1:%d' % pg.port in result['msg']
    assert 'not-the-password' not in str(result)
    assert 'Traceback' not in str(result)


def test_unreachable_server_names_host_port_and_fix(pg):
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        closed_port = sock.getsockname()[1]
    result = pg.run_module(pg.module_args(archive_command=pg.copy_command(), port=closed_port, connect_timeout=3))
    assert result.get('failed') is True
    assert 'cannot connect to PostgreSQL at 127.0.0.1:%d' % closed_port in result['msg']
    assert 'listen_addresses' in result['msg']
    assert 'Traceback' not in str(result)


def test_non_superuser_is_told_which_grant_is_missing(fresh):
    password = 'pw-' + os.urandom(8).hex()
    fresh.sql('DROP ROLE IF EXISTS wal_operator')
    fresh.sql("CREATE ROLE wal_operator LOGIN PASSWORD '%s'" % password)
    args = fresh.module_args(archive_command=fresh.copy_command(), login_user='wal_operator')
    denied = fresh.run_module(args, password=password)
    assert denied.get('failed') is True
    assert 'login_user "wal_operator" may not change' in denied['msg']
    assert 'GRANT ALTER SYSTEM ON PARAMETER' in denied['msg']
    assert configured(fresh, 'archive_mode') is None

    fresh.sql('GRANT ALTER SYSTEM ON PARAMETER wal_level, archive_mode, archive_command TO wal_operator')
    fresh.sql('GRANT EXECUTE ON FUNCTION pg_reload_conf() TO wal_operator')
    granted = fresh.run_module(args, password=password)
    assert not granted.get('failed'), granted.get('msg')
    assert granted['changed'] is True
    assert configured(fresh, 'archive_mode') == 'on'
    # Without pg_file_settings the value waiting for the restart is invisible: the module says so and how to fix it.
    assert any('pg_file_settings' in w for w in granted.get('warnings', []))

    fresh.sql('GRANT SELECT ON pg_file_settings TO wal_operator')
    fresh.sql('GRANT EXECUTE ON FUNCTION pg_show_all_file_settings() TO wal_operator')
    again = fresh.run_module(args, password=password)
    assert not again.get('failed'), again.get('msg')
    assert again['changed'] is False
    assert again['restart_required'] is True
    assert not any('pg_file_settings' in w for w in again.get('warnings', []))


def test_invalid_values_fail_before_connecting(pg):
    # The port is closed: a message about the value proves validation ran before any connection attempt.
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        closed_port = sock.getsockname()[1]
    cases = [
        (dict(archive_command=pg.copy_command(), archive_timeout=-5), 'archive_timeout must be 0'),
        (dict(archive_command=pg.copy_command(), wal_level='minimal'), 'wal_level minimal does not write enough WAL'),
        (dict(), 'state=enabled needs the command'),
        (dict(archive_command=pg.copy_command(), pgbackrest_stanza='main'), 'mutually exclusive'),
    ]
    for extra, expected in cases:
        result = pg.run_module(pg.module_args(port=closed_port, **extra))
        assert result.get('failed') is True, extra
        assert expected in result['msg'], (extra, result['msg'])
        assert 'cannot connect' not in result['msg']


# ---- a failed run leaves the server configured as it found it ---------------------------------

def server_configuration(pg):
    """postgresql.auto.conf byte for byte and every pg_file_settings row, to compare before and after a failed run."""
    with open(os.path.join(pg.data, 'postgresql.auto.conf'), 'rb') as handle:
        content = handle.read()
    rows = pg.sql('SELECT seqno, name, setting, sourcefile, sourceline, applied, error FROM pg_file_settings ORDER BY seqno')
    return content, rows


def alter_system(pg, **values):
    for name, value in values.items():
        pg.sql(sql.SQL('ALTER SYSTEM SET {} = {}').format(sql.Identifier(name), sql.Literal(value)))
    pg.sql('SELECT pg_reload_conf()')


def create_role(pg, name, grants):
    password = 'pw-' + os.urandom(8).hex()
    pg.sql("CREATE ROLE %s LOGIN PASSWORD '%s'" % (name, password))
    for grant in grants:
        pg.sql(grant % name)
    return password


def test_an_archive_timeout_past_the_server_maximum_fails_before_anything_is_written(fresh):
    # The report of issue #9: archiving off, nothing in postgresql.auto.conf.
    before = server_configuration(fresh)
    assert before[0].count(b'\n') == 2  # the two comment lines ALTER SYSTEM writes, no setting
    result = fresh.run_module(fresh.module_args(state='enabled', archive_command='/bin/true', archive_timeout='99999999999999'))
    assert result.get('failed') is True
    assert result['msg'] == ('archive_timeout = 99999999999999 s is outside the range this server accepts, '
                             '0 .. 1073741823 s; nothing was changed')
    assert server_configuration(fresh) == before


def test_max_wal_senders_past_its_maximum_fails_before_anything_is_written(fresh):
    alter_system(fresh, archive_command=fresh.copy_command(), work_mem='8MB')
    before = server_configuration(fresh)
    result = fresh.run_module(fresh.module_args(archive_command='/bin/true', archive_timeout='60s', max_wal_senders=262144))
    assert result.get('failed') is True
    assert result['msg'] == 'max_wal_senders = 262144 is outside the range this server accepts, 0 .. 262143; nothing was changed'
    assert server_configuration(fresh) == before


def test_check_mode_refuses_a_value_past_the_server_limits_too(fresh):
    before = server_configuration(fresh)
    result = fresh.run_module(fresh.module_args(archive_command='/bin/true', max_wal_senders=262144), check=True)
    assert result.get('failed') is True
    assert 'max_wal_senders = 262144 is outside the range' in result['msg']
    assert server_configuration(fresh) == before


def test_a_value_the_server_refuses_after_earlier_statements_is_undone(fresh):
    # max_wal_senders 262143 is within pg_settings' range, but PostgreSQL's own check (max_connections +
    # autovacuum_max_workers + max_worker_processes + 1 + max_wal_senders <= 262143) refuses it at ALTER SYSTEM,
    # after archive_mode, archive_command and archive_timeout were written.
    alter_system(fresh, archive_command=fresh.copy_command(), work_mem='8MB', archive_timeout='5min')
    before = server_configuration(fresh)
    result = fresh.run_module(fresh.module_args(archive_command="/bin/true 'quoted' \\ %p", archive_timeout='60s',
                                                max_wal_senders=262143))
    assert result.get('failed') is True
    assert result['msg'] == (
        'PostgreSQL reported an error: invalid value for parameter "max_wal_senders": 262143. '
        'It had already written archive_mode, archive_command, archive_timeout; it put them back and reloaded the '
        'configuration: postgresql.auto.conf holds the same entries, in the same order, as before the run.')
    assert result['changed'] is False
    assert server_configuration(fresh) == before
    assert live(fresh, 'archive_timeout') == '300'


def test_a_privilege_missing_for_the_last_setting_only_writes_nothing(fresh):
    password = create_role(fresh, 'wal_partial', [
        'GRANT ALTER SYSTEM ON PARAMETER wal_level, archive_mode, archive_command, archive_timeout TO %s',
        'GRANT EXECUTE ON FUNCTION pg_reload_conf() TO %s',
        'GRANT SELECT ON pg_file_settings TO %s',
        'GRANT EXECUTE ON FUNCTION pg_show_all_file_settings() TO %s'])
    alter_system(fresh, work_mem='8MB')
    before = server_configuration(fresh)
    result = fresh.run_module(fresh.module_args(archive_command=fresh.copy_command(), archive_timeout='60s',
                                                max_wal_senders=5, login_user='wal_partial'), password=password)
    assert result.get('failed') is True
    assert result['msg'] == (
        'login_user "wal_partial" may not change max_wal_senders with ALTER SYSTEM: connect as a superuser, or on '
        'PostgreSQL 15+ grant it as a superuser with: GRANT ALTER SYSTEM ON PARAMETER max_wal_senders TO "wal_partial"; '
        'GRANT EXECUTE ON FUNCTION pg_reload_conf() TO "wal_partial"')
    assert server_configuration(fresh) == before


def test_without_pg_file_settings_a_failed_run_says_what_it_left_written(fresh):
    password = create_role(fresh, 'wal_blind', [
        'GRANT ALTER SYSTEM ON PARAMETER wal_level, archive_mode, archive_command, archive_timeout, max_wal_senders TO %s',
        'GRANT EXECUTE ON FUNCTION pg_reload_conf() TO %s'])
    result = fresh.run_module(fresh.module_args(archive_command='/bin/true', max_wal_senders=262143, login_user='wal_blind'),
                              password=password)
    assert result.get('failed') is True
    assert result['msg'] == (
        'PostgreSQL reported an error: invalid value for parameter "max_wal_senders": 262143. '
        'It had already written archive_mode, archive_command to postgresql.auto.conf (not reloaded) and did NOT put '
        'them back: login_user may not read pg_file_settings, so the module cannot tell what that file held before '
        "(configured values before the run: archive_mode was 'off', archive_command was ''). Put them back as a "
        'superuser (ALTER SYSTEM SET to the previous value, or ALTER SYSTEM RESET where postgresql.auto.conf had no '
        'entry), then SELECT pg_reload_conf().')
    assert result['changed'] is True
    assert configured(fresh, 'archive_mode') == 'on'
    assert configured(fresh, 'archive_command') == '/bin/true'
    assert configured(fresh, 'max_wal_senders') is None


def test_when_an_entry_cannot_be_set_again_the_values_come_back_and_the_order_change_is_named(fresh):
    # ALTER SYSTEM SET re-quotes a list setting, so the module does not set shared_preload_libraries again; the
    # archive_command it put back then ends up after it.
    alter_system(fresh, archive_command=fresh.copy_command(), shared_preload_libraries='pg_stat_statements,auto_explain')
    before_rows = server_configuration(fresh)[1]
    result = fresh.run_module(fresh.module_args(archive_command='/bin/true', max_wal_senders=262143))
    assert result.get('failed') is True
    assert result['msg'] == (
        'PostgreSQL reported an error: invalid value for parameter "max_wal_senders": 262143. '
        'It had already written archive_mode, archive_command; it put back their values and reloaded the configuration, '
        'but postgresql.auto.conf lists its entries in another order than before the run (now: shared_preload_libraries, '
        'archive_command; before: archive_command, shared_preload_libraries): an entry after them cannot be set again '
        'unchanged (a list setting, one the server does not know, or one login_user may not alter).')
    after_rows = server_configuration(fresh)[1]
    auto_conf = [(row[1], row[2]) for row in before_rows if row[3].endswith('postgresql.auto.conf')]
    assert sorted((row[1], row[2]) for row in after_rows if row[3].endswith('postgresql.auto.conf')) == sorted(auto_conf)
    assert dict(auto_conf)['shared_preload_libraries'] == '"pg_stat_statements,auto_explain"'  # as ALTER SYSTEM wrote it
