# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Decisions of module_utils/wal_archiving.py for postgresql_wal_archiving (wanted values, diff, restart, health,
messages, putting back), checked without a server."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime

import pytest

from ansible_collections.rdmops.invenio.plugins.module_utils.wal_archiving import (
    InvalidValue,
    alter_system,
    apply_changes,
    archiver_status,
    archiving_active,
    check_server_limits,
    check_startable,
    command_warnings,
    compute_changes,
    configured_settings,
    desired_settings,
    live_settings,
    normalize_setting,
    parse_duration_seconds,
    pending_restart,
    privilege_message,
    restore_outcome,
    restore_plan,
    segment_archived,
    sql_value,
    verify_failure_message,
)

COPY = 'test ! -f /srv/wal/%f && cp %p /srv/wal/%f'
NOW = datetime.datetime(2026, 11, 23, 6, 0, 0, tzinfo=datetime.timezone.utc)


def params(**overrides):
    base = dict(state='enabled', archive_mode='on', wal_level=None, archive_command=None, pgbackrest_stanza=None,
                archive_timeout=None, max_wal_senders=None, verify=False, verify_timeout=60)
    base.update(overrides)
    return base


def pg_rows(**values):
    """pg_settings rows as the module reads them; live value and reset_val equal unless given as a tuple."""
    rows = {}
    for name, value in values.items():
        setting, reset_val = value if isinstance(value, tuple) else (value, value)
        rows[name] = dict(setting=setting, reset_val=reset_val, pending_restart=False)
    return rows


FRESH_SERVER = pg_rows(wal_level='replica', archive_mode='off', archive_command=('(disabled)', ''),
                       archive_timeout='0', max_wal_senders='10')


# ---- value normalisation -----------------------------------------------------------------

@pytest.mark.parametrize('value, seconds', [
    (60, 60), ('60', 60), ('60s', 60), ('1min', 60), (' 1 min ', 60), ('1h', 3600), ('1d', 86400),
    ('1500ms', 2), ('400ms', 0), (0, 0), ('0', 0), ('2MIN', 120),
])
def test_archive_timeout_is_compared_in_seconds(value, seconds):
    assert parse_duration_seconds(value) == seconds


@pytest.mark.parametrize('value', [-1, '-5s', '-1min'])
def test_negative_archive_timeout_is_refused(value):
    with pytest.raises(InvalidValue, match='archive_timeout must be 0 .* or a positive duration'):
        parse_duration_seconds(value)


@pytest.mark.parametrize('value', ['soon', '5 parsecs', '1week', True, ''])
def test_unparsable_archive_timeout_is_refused(value):
    with pytest.raises(InvalidValue, match='archive_timeout must be a duration'):
        parse_duration_seconds(value)


@pytest.mark.parametrize('name, raw, expected', [
    ('archive_mode', 'on', 'on'), ('archive_mode', 'true', 'on'), ('archive_mode', True, 'on'), ('archive_mode', 'True', 'on'),
    ('archive_mode', 'off', 'off'), ('archive_mode', 'false', 'off'), ('archive_mode', 'always', 'always'),
    ('wal_level', 'hot_standby', 'replica'), ('wal_level', 'archive', 'replica'), ('wal_level', 'LOGICAL', 'logical'),
    ('max_wal_senders', '10', 10), ('archive_command', '', ''), ('archive_command', None, None),
])
def test_settings_are_normalised_like_the_server_reads_them(name, raw, expected):
    assert normalize_setting(name, raw) == expected


# ---- validation before connecting ----------------------------------------------------------

def test_enabled_defaults_to_replica_and_archive_mode_on():
    assert desired_settings(params(archive_command=COPY)) == dict(archive_mode='on', wal_level='replica', archive_command=COPY)


def test_pgbackrest_stanza_builds_the_archive_push_command():
    wanted = desired_settings(params(pgbackrest_stanza='main', archive_timeout='1min', max_wal_senders=5))
    assert wanted['archive_command'] == 'pgbackrest --stanza=main archive-push %p'
    assert wanted['archive_timeout'] == 60
    assert wanted['max_wal_senders'] == 5


@pytest.mark.parametrize('overrides, message', [
    (dict(), 'state=enabled needs the command that copies each WAL segment away'),
    (dict(archive_command='   '), 'state=enabled needs the command'),
    (dict(archive_command=COPY, pgbackrest_stanza='main'), 'mutually exclusive'),
    (dict(pgbackrest_stanza='main; rm -rf /'), 'pgbackrest_stanza must be a pgBackRest stanza name'),
    (dict(archive_command=COPY, wal_level='minimal'), 'wal_level minimal does not write enough WAL for archiving'),
    (dict(archive_command=COPY, archive_timeout=-30), 'archive_timeout must be 0'),
    (dict(archive_command=COPY, max_wal_senders=-1), 'max_wal_senders must not be negative'),
    (dict(archive_command=COPY, verify=True, verify_timeout=0), 'verify_timeout must be a positive number'),
    (dict(state='disabled', verify=True), 'verify=true checks that archiving works'),
    (dict(state='disabled', wal_level='minimal', max_wal_senders=3), 'wal_level minimal requires max_wal_senders 0'),
])
def test_invalid_requests_are_refused_with_the_fix(overrides, message):
    with pytest.raises(InvalidValue, match=message.replace('(', r'\(').replace(')', r'\)')):
        desired_settings(params(**overrides))


def test_disabled_only_turns_archive_mode_off_unless_told_more():
    assert desired_settings(params(state='disabled')) == dict(archive_mode='off')
    assert desired_settings(params(state='disabled', wal_level='minimal', max_wal_senders=0)) == dict(
        archive_mode='off', wal_level='minimal', max_wal_senders=0)


def test_a_command_without_placeholders_is_accepted_with_a_warning():
    assert desired_settings(params(archive_command='/bin/false'))['archive_command'] == '/bin/false'
    assert command_warnings('/bin/false') == [
        "archive_command '/bin/false' uses neither %p nor %f, so it cannot know which WAL segment to copy"]
    assert command_warnings(COPY) == []
    assert command_warnings('') == []


# ---- current state and the diff -------------------------------------------------------------

def test_the_disabled_placeholder_is_not_the_configured_command():
    current = configured_settings(FRESH_SERVER, file_settings_rows=[])
    assert current == dict(wal_level='replica', archive_mode='off', archive_command='', archive_timeout=0, max_wal_senders=10)


def test_pending_alter_system_values_count_as_configured():
    # After ALTER SYSTEM and a reload, before the restart: pg_settings still has the old postmaster values.
    files = [('max_wal_senders', '10'), ('archive_mode', 'on'), ('archive_command', COPY), ('archive_timeout', '1min')]
    current = configured_settings(FRESH_SERVER, files)
    assert current['archive_mode'] == 'on'
    assert current['archive_command'] == COPY
    assert current['archive_timeout'] == 60
    assert compute_changes(current, desired_settings(params(archive_command=COPY, archive_timeout='60s'))) == []


def test_later_files_win_as_in_the_server():
    files = [('archive_timeout', '5min'), ('archive_timeout', '30s')]  # postgresql.conf, then postgresql.auto.conf
    assert configured_settings(FRESH_SERVER, files)['archive_timeout'] == 30


def test_without_pg_file_settings_reset_val_is_used():
    assert configured_settings(FRESH_SERVER, None)['archive_command'] == ''


def test_changes_are_listed_in_statement_order_with_before_and_after():
    current = configured_settings(FRESH_SERVER, [])
    wanted = desired_settings(params(archive_command=COPY, archive_timeout='1min', max_wal_senders=10))
    changes = compute_changes(current, wanted)
    assert changes == [('archive_mode', 'off', 'on'), ('archive_command', '', COPY), ('archive_timeout', 0, 60)]
    after = apply_changes(current, changes)
    assert after == dict(current, archive_mode='on', archive_command=COPY, archive_timeout=60)
    assert current['archive_mode'] == 'off'  # before is not modified


def test_settings_left_unset_are_not_changed():
    current = dict(wal_level='logical', archive_mode='on', archive_command=COPY, archive_timeout=300, max_wal_senders=3)
    assert compute_changes(current, desired_settings(params(state='enabled', archive_command=COPY, wal_level='logical'))) == []
    assert compute_changes(current, desired_settings(params(state='disabled'))) == [('archive_mode', 'on', 'off')]


def test_archive_timeout_is_written_with_its_unit():
    assert sql_value('archive_timeout', 60) == '60s'
    assert sql_value('max_wal_senders', 5) == '5'
    assert sql_value('archive_mode', 'on') == 'on'


# ---- restart --------------------------------------------------------------------------------

def test_restart_is_required_while_a_postmaster_setting_waits():
    live = live_settings(FRESH_SERVER)
    assert live == dict(wal_level='replica', archive_mode='off', max_wal_senders=10)
    configured = dict(wal_level='replica', archive_mode='on', archive_command=COPY, archive_timeout=60, max_wal_senders=10)
    assert pending_restart(configured, live) == ['archive_mode']
    assert pending_restart(dict(configured, archive_mode='off', archive_timeout=120), live) == []


def test_archiving_is_active_only_with_mode_in_effect_and_a_command():
    assert archiving_active(dict(archive_mode='on'), COPY)
    assert archiving_active(dict(archive_mode='always'), COPY)
    assert not archiving_active(dict(archive_mode='off'), COPY)
    assert not archiving_active(dict(archive_mode='on'), '')


# ---- archiver health --------------------------------------------------------------------------

def stats(archived=None, failed=None, archived_count=0, failed_count=0):
    return dict(archived_count=archived_count, failed_count=failed_count,
                last_archived_wal='000000010000000000000003' if archived else None, last_archived_time=archived,
                last_failed_wal='000000010000000000000004' if failed else None, last_failed_time=failed)


def test_nothing_archived_yet_is_healthy_without_lag():
    status = archiver_status(stats(), NOW, active=True)
    assert status['healthy'] is True
    assert status['archive_lag_seconds'] is None
    assert status['archived_count'] == 0


def test_lag_is_seconds_since_the_last_success():
    status = archiver_status(stats(archived=NOW - datetime.timedelta(seconds=75), archived_count=3), NOW, active=True)
    assert status['healthy'] is True
    assert status['archive_lag_seconds'] == 75.0
    assert status['last_archived_time'] == '2026-11-23T05:58:45+00:00'


def test_a_failure_after_the_last_success_is_unhealthy():
    status = archiver_status(stats(archived=NOW - datetime.timedelta(minutes=5), failed=NOW - datetime.timedelta(seconds=10),
                                   archived_count=3, failed_count=4), NOW, active=True)
    assert status['healthy'] is False
    assert status['failed_count'] == 4
    assert status['last_failed_time'] == '2026-11-23T05:59:50+00:00'


def test_a_failure_before_the_last_success_has_recovered():
    status = archiver_status(stats(archived=NOW - datetime.timedelta(seconds=10), failed=NOW - datetime.timedelta(minutes=5),
                                   archived_count=3, failed_count=1), NOW, active=True)
    assert status['healthy'] is True


def test_failing_from_the_start_is_unhealthy():
    assert archiver_status(stats(failed=NOW, failed_count=2), NOW, active=True)['healthy'] is False


# ---- verify ----------------------------------------------------------------------------------

@pytest.mark.parametrize('target, last, done', [
    ('000000010000000000000005', '000000010000000000000005', True),
    ('000000010000000000000005', '000000010000000000000006', True),
    ('000000010000000000000005', '000000010000000000000004', False),
    ('000000010000000000000005', '000000020000000000000001', True),  # later timeline
    ('000000010000000000000005', None, False),
    ('000000010000000000000005', '00000002.history', False),
])
def test_segment_counts_as_archived_when_it_or_a_later_one_is_reported(target, last, done):
    assert segment_archived(target, last) is done


def test_verify_timeout_names_the_last_failed_segment():
    status = archiver_status(stats(failed=NOW, failed_count=6), NOW, active=True)
    msg = verify_failure_message('000000010000000000000005', 8, status)
    assert msg.startswith('WAL segment 000000010000000000000005 was not archived within 8 seconds')
    assert 'last failed on 000000010000000000000004 at 2026-11-23T06:00:00+00:00 (failed_count 6' in msg


def test_verify_timeout_without_failures_points_at_a_slow_command():
    msg = verify_failure_message('000000010000000000000005', 8, archiver_status(stats(), NOW, active=True))
    assert 'reports no failure' in msg and 'verify_timeout' in msg


# ---- messages about privileges ---------------------------------------------------------------

def test_privilege_message_gives_the_grant_to_run():
    msg = privilege_message('archiver', ['archive_mode', 'archive_command'])
    assert 'GRANT ALTER SYSTEM ON PARAMETER archive_mode, archive_command TO "archiver"' in msg
    assert 'superuser' in msg
    assert 'before PostgreSQL 15 it needs a superuser' in privilege_message('archiver', ['archive_mode'], superuser_only=True)


# ---- combinations the server would not start with --------------------------------------------

def test_minimal_wal_level_needs_no_wal_senders_and_no_archiving():
    configured = dict(wal_level='minimal', archive_mode='off', archive_command='', archive_timeout=0, max_wal_senders=10)
    with pytest.raises(InvalidValue, match='also set max_wal_senders: 0'):
        check_startable(configured)
    with pytest.raises(InvalidValue, match='cannot be combined with archive_mode on'):
        check_startable(dict(configured, archive_mode='on', max_wal_senders=0))
    check_startable(dict(configured, max_wal_senders=0))
    check_startable(dict(configured, wal_level='replica'))


# ---- the server's own limits, checked before the first ALTER SYSTEM ----------------------------

# pg_settings (name: vartype, unit, min_val, max_val, enumvals) as psycopg returns them from PostgreSQL 15.18.
PG15_LIMITS = {
    'archive_command': dict(vartype='string', unit=None, min_val=None, max_val=None, enumvals=None),
    'archive_mode': dict(vartype='enum', unit=None, min_val=None, max_val=None, enumvals=['always', 'on', 'off']),
    'archive_timeout': dict(vartype='integer', unit='s', min_val='0', max_val='1073741823', enumvals=None),
    'max_wal_senders': dict(vartype='integer', unit=None, min_val='0', max_val='262143', enumvals=None),
    'wal_level': dict(vartype='enum', unit=None, min_val=None, max_val=None, enumvals=['minimal', 'replica', 'logical']),
}


def test_values_inside_the_server_limits_pass():
    wanted = desired_settings(params(archive_command=COPY, archive_timeout='1073741823', max_wal_senders=262143))
    check_server_limits(wanted, PG15_LIMITS)
    check_server_limits(desired_settings(params(archive_command=COPY, archive_timeout=0, max_wal_senders=0)), PG15_LIMITS)


@pytest.mark.parametrize('overrides, message', [
    (dict(archive_timeout='99999999999999'),
     'archive_timeout = 99999999999999 s is outside the range this server accepts, 0 .. 1073741823 s; nothing was changed'),
    (dict(archive_timeout='1073741824s'), 'archive_timeout = 1073741824 s is outside the range'),
    (dict(archive_timeout='20000000min'), 'archive_timeout = 1200000000 s is outside the range'),
    (dict(max_wal_senders=262144),
     'max_wal_senders = 262144 is outside the range this server accepts, 0 .. 262143; nothing was changed'),
])
def test_a_value_past_the_server_limits_is_refused_naming_setting_value_and_range(overrides, message):
    wanted = desired_settings(params(archive_command=COPY, **overrides))
    with pytest.raises(InvalidValue) as caught:
        check_server_limits(wanted, PG15_LIMITS)
    assert message in str(caught.value)


def test_the_range_is_compared_in_the_unit_the_server_reports():
    minutes = dict(PG15_LIMITS, archive_timeout=dict(PG15_LIMITS['archive_timeout'], unit='min', max_val='10'))
    check_server_limits(dict(archive_timeout=600), minutes)
    with pytest.raises(InvalidValue, match=r'archive_timeout = 11 min is outside the range this server accepts, 0 \.\. 10 min'):
        check_server_limits(dict(archive_timeout=630), minutes)


def test_an_enum_value_the_server_does_not_list_is_refused():
    older = dict(PG15_LIMITS, wal_level=dict(PG15_LIMITS['wal_level'], enumvals=['minimal', 'replica']))
    with pytest.raises(InvalidValue, match='wal_level = logical is not accepted by this server, which allows one of: '
                                           'minimal, replica; nothing was changed'):
        check_server_limits(dict(wal_level='logical'), older)
    check_server_limits(dict(wal_level='replica', archive_mode='always'), PG15_LIMITS)


def test_settings_the_server_does_not_report_are_left_to_the_server():
    check_server_limits(dict(max_wal_senders=10 ** 9), {})


# ---- putting back what a failed run had written -------------------------------------------------

def replay(entries, steps):
    for name, value in steps:
        entries = alter_system(entries, name, value)
    return entries


def test_alter_system_set_moves_the_entry_to_the_end_and_reset_removes_it():
    # What PostgreSQL 15 did to postgresql.auto.conf (checked with ALTER SYSTEM on 15.18).
    entries = [('archive_mode', 'on'), ('work_mem', '8MB'), ('archive_command', 'cp %p /a/%f')]
    assert alter_system(entries, 'archive_mode', 'always') == [
        ('work_mem', '8MB'), ('archive_command', 'cp %p /a/%f'), ('archive_mode', 'always')]
    assert alter_system(entries, 'work_mem', None) == [('archive_mode', 'on'), ('archive_command', 'cp %p /a/%f')]


@pytest.mark.parametrize('before, writes', [
    ([], [('archive_mode', 'on'), ('archive_command', '/bin/true')]),
    ([('archive_mode', 'off'), ('work_mem', '8MB'), ('archive_command', COPY), ('archive_timeout', '60s')],
     [('archive_mode', 'on'), ('archive_command', '/bin/true')]),
    ([('work_mem', '8MB'), ('archive_timeout', '1min')], [('archive_mode', 'on'), ('archive_timeout', '60s')]),
    ([('wal_level', 'logical')], [('wal_level', 'replica')]),
])
def test_putting_back_gives_the_file_its_entries_in_their_order(before, writes):
    after = replay(before, writes)
    assert after != before
    steps = restore_plan(before, [name for name, _value in writes], rewritable=set(name for name, _value in before))
    assert replay(after, steps) == before


def test_entries_written_after_the_first_changed_one_are_set_again_only_when_allowed():
    before = [('archive_command', COPY), ('shared_preload_libraries', 'a,b'), ('archive_timeout', '60s')]
    after = replay(before, [('archive_mode', 'on'), ('archive_command', '/bin/true')])
    steps = restore_plan(before, ['archive_mode', 'archive_command'], rewritable=set())
    assert ('shared_preload_libraries', 'a,b') not in steps
    restored = replay(after, steps)
    assert dict(restored) == dict(before)
    assert restored == [('shared_preload_libraries', 'a,b'), ('archive_timeout', '60s'), ('archive_command', COPY)]


def test_nothing_to_put_back_when_nothing_was_written():
    assert restore_plan([('archive_mode', 'on')], [], rewritable=set()) == []


def test_outcome_when_nothing_had_been_written():
    assert restore_outcome([], [], []) == 'Nothing had been written: the server is configured as before the run.'


def test_outcome_when_the_file_is_as_before():
    before = [('archive_mode', 'off')]
    msg = restore_outcome(before, list(before), ['archive_mode', 'archive_command'])
    assert msg == ('It had already written archive_mode, archive_command; it put them back and reloaded the configuration: '
                   'postgresql.auto.conf holds the same entries, in the same order, as before the run.')


def test_outcome_says_when_the_reload_after_putting_back_failed():
    msg = restore_outcome([], [], ['archive_mode'], reloaded=False)
    assert msg == ('It had already written archive_mode; it put them back and could not reload the configuration (nor '
                   'had the run, so the server has not read what it wrote): postgresql.auto.conf holds the same entries, '
                   'in the same order, as before the run.')


def test_outcome_names_what_could_not_be_put_back_and_the_statement_that_would():
    before = [('archive_command', "it's")]
    now = [('archive_command', '/bin/true'), ('archive_mode', 'on')]
    msg = restore_outcome(before, now, ['archive_mode', 'archive_command'])
    assert 'could not put back archive_mode, archive_command' in msg
    assert "archive_mode = 'on'; archive_command = '/bin/true' (before the run: archive_mode: no entry; " \
           "archive_command = \"it's\")" in msg
    assert "ALTER SYSTEM RESET archive_mode; ALTER SYSTEM SET archive_command = 'it''s'" in msg


def test_outcome_when_only_the_order_differs():
    before = [('archive_command', COPY), ('shared_preload_libraries', 'a,b')]
    now = [('shared_preload_libraries', 'a,b'), ('archive_command', COPY)]
    msg = restore_outcome(before, now, ['archive_command'])
    assert 'put back their values' in msg
    assert 'now: shared_preload_libraries, archive_command; before: archive_command, shared_preload_libraries' in msg


def test_outcome_without_pg_file_settings_says_nothing_was_put_back():
    msg = restore_outcome(None, None, ['archive_mode'], dict(archive_mode='off'))
    assert 'did NOT put them back' in msg and "archive_mode was 'off'" in msg and 'pg_file_settings' in msg
