# -*- coding: utf-8 -*-
# Copyright: rdmops.invenio developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pure logic of rdmops.invenio.postgresql_wal_archiving: no server, no Ansible, unit-testable."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

# Order matters: it is the order of the ALTER SYSTEM statements and of the diff.
MANAGED_SETTINGS = ('wal_level', 'archive_mode', 'archive_command', 'archive_timeout', 'max_wal_senders')
# Context "postmaster": a new value is only used after a server restart.
RESTART_SETTINGS = frozenset(('wal_level', 'archive_mode', 'max_wal_senders'))

_TIME_UNITS_IN_SECONDS = {'us': 1e-6, 'ms': 1e-3, 's': 1, 'min': 60, 'h': 3600, 'd': 86400}
_DURATION = re.compile(r'^\s*(-?\d+(?:\.\d+)?)\s*([a-z]*)\s*$')
_BOOL_ON = ('on', 'true', 'yes', '1', 't', 'y')
_BOOL_OFF = ('off', 'false', 'no', '0', 'f', 'n')
_STANZA = re.compile(r'^[A-Za-z0-9][A-Za-z0-9_.-]*$')
WAL_SEGMENT = re.compile(r'^[0-9A-F]{24}$')


class InvalidValue(ValueError):
    """A wanted value PostgreSQL would reject or that makes archiving unsafe."""


def parse_duration_seconds(value, name='archive_timeout'):
    """Seconds in a PostgreSQL time value whose base unit is seconds: 60, '60', '60s', '1min', '1h', '500ms'.

    Rounds sub-second input to whole seconds the way the server does (half away from zero).
    """
    if isinstance(value, bool):
        raise InvalidValue('%s must be a duration such as 60, "60s" or "5min", not a boolean' % name)
    if isinstance(value, int):
        seconds = float(value)
    elif isinstance(value, float):
        seconds = value
    else:
        match = _DURATION.match(str(value).lower())
        if not match or (match.group(2) and match.group(2) not in _TIME_UNITS_IN_SECONDS):
            raise InvalidValue('%s must be a duration such as 60, "60s" or "5min" (units: %s), got %r'
                               % (name, ', '.join(sorted(_TIME_UNITS_IN_SECONDS)), value))
        seconds = float(match.group(1)) * _TIME_UNITS_IN_SECONDS.get(match.group(2) or 's')
    if seconds < 0:
        raise InvalidValue('%s must be 0 (no forced segment switch) or a positive duration, got %r' % (name, value))
    return int(seconds + 0.5)


def normalize_archive_mode(value):
    text = str(value).strip().lower()
    if text in _BOOL_ON:
        return 'on'
    if text in _BOOL_OFF:
        return 'off'
    if text == 'always':
        return 'always'
    raise InvalidValue('archive_mode must be on, off or always, got %r' % (value,))


def normalize_wal_level(value):
    text = str(value).strip().lower()
    # PostgreSQL still accepts the pre-9.6 names as synonyms of replica.
    if text in ('archive', 'hot_standby'):
        return 'replica'
    if text in ('minimal', 'replica', 'logical'):
        return text
    raise InvalidValue('wal_level must be minimal, replica or logical, got %r' % (value,))


def normalize_int(value, name):
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        raise InvalidValue('%s must be a whole number, got %r' % (name, value))
    if number < 0:
        raise InvalidValue('%s must not be negative, got %r' % (name, value))
    return number


def normalize_setting(name, value):
    """The comparable form of a setting as written in a config file or shown by pg_settings; None stays None."""
    if value is None:
        return None
    if name == 'wal_level':
        return normalize_wal_level(value)
    if name == 'archive_mode':
        return normalize_archive_mode(value)
    if name == 'archive_timeout':
        return parse_duration_seconds(value)
    if name == 'max_wal_senders':
        return normalize_int(value, name)
    return str(value)


# The unit the module keeps a duration-valued setting in (parse_duration_seconds returns seconds).
_MODULE_UNITS = {'archive_timeout': 's'}


def _in_server_unit(name, value, unit):
    """value (module unit) expressed in the unit pg_settings reports for the setting, rounded like the server."""
    module_unit = _MODULE_UNITS.get(name)
    if not module_unit or not unit or unit == module_unit or unit not in _TIME_UNITS_IN_SECONDS:
        return value
    scaled = value * _TIME_UNITS_IN_SECONDS[module_unit] / _TIME_UNITS_IN_SECONDS[unit]
    return int(scaled + 0.5)


def check_server_limits(wanted, limits):
    """Refuse a wanted value that the server's own limits rule out, before anything is written.

    wanted: {setting: normalized value} from desired_settings().
    limits: {setting: {'vartype', 'unit', 'min_val', 'max_val', 'enumvals'}} as pg_settings reports them.
    ALTER SYSTEM commits each statement on its own, so a value refused half-way would leave the earlier ones
    written. Checks that live in server code (check hooks) are not visible here; the module undoes what it wrote
    when one of those refuses a value.
    """
    for name in MANAGED_SETTINGS:
        if name not in wanted or name not in limits:
            continue
        row = limits[name]
        value = wanted[name]
        vartype = row.get('vartype')
        if vartype == 'enum':
            allowed = list(row.get('enumvals') or [])
            if allowed and str(value) not in allowed:
                raise InvalidValue('%s = %s is not accepted by this server, which allows one of: %s; nothing was changed'
                                   % (name, value, ', '.join(allowed)))
        elif vartype in ('integer', 'real') and row.get('min_val') is not None and row.get('max_val') is not None:
            unit = row.get('unit') or ''
            number = _in_server_unit(name, value, unit)
            low, high = float(row['min_val']), float(row['max_val'])
            if not low <= number <= high:
                shown = ('%s %s' % (number, unit)).strip()
                raise InvalidValue('%s = %s is outside the range this server accepts, %s .. %s%s; nothing was changed'
                                   % (name, shown, row['min_val'], row['max_val'], (' ' + unit) if unit else ''))


def pgbackrest_archive_command(stanza):
    if not stanza or not _STANZA.match(stanza):
        raise InvalidValue('pgbackrest_stanza must be a pgBackRest stanza name (letters, digits, "_", "-", "."), got %r'
                           % (stanza,))
    return 'pgbackrest --stanza=%s archive-push %%p' % stanza


def desired_settings(params):
    """Validate the module parameters (before any connection) and return {setting: normalized wanted value}.

    Settings the user left unset are absent: the module leaves them as they are.
    """
    wanted = {}
    enabled = params.get('state', 'enabled') == 'enabled'
    command = params.get('archive_command')
    stanza = params.get('pgbackrest_stanza')
    if command is not None and stanza is not None:
        raise InvalidValue('archive_command and pgbackrest_stanza are mutually exclusive: set one of them')
    if stanza is not None:
        command = pgbackrest_archive_command(stanza)

    if enabled:
        if command is None or not command.strip():
            raise InvalidValue('state=enabled needs the command that copies each WAL segment away: set archive_command '
                               '(for example "test ! -f /backup/wal/%f && cp %p /backup/wal/%f") or pgbackrest_stanza; '
                               'archive_mode on without a command makes WAL pile up in pg_wal until the disk fills')
        wanted['archive_mode'] = normalize_archive_mode(params.get('archive_mode') or 'on')
        if wanted['archive_mode'] == 'off':
            raise InvalidValue('archive_mode off contradicts state=enabled: use state=disabled to stop archiving')
        wanted['wal_level'] = normalize_wal_level(params.get('wal_level') or 'replica')
        if wanted['wal_level'] == 'minimal':
            raise InvalidValue('wal_level minimal does not write enough WAL for archiving: use replica (or logical) '
                               'with state=enabled')
        wanted['archive_command'] = command
    else:
        wanted['archive_mode'] = 'off'
        if params.get('wal_level') is not None:
            wanted['wal_level'] = normalize_wal_level(params['wal_level'])
        if command is not None:
            wanted['archive_command'] = command
        if params.get('verify'):
            raise InvalidValue('verify=true checks that archiving works, which cannot succeed with state=disabled')

    if params.get('archive_timeout') is not None:
        wanted['archive_timeout'] = parse_duration_seconds(params['archive_timeout'])
    if params.get('max_wal_senders') is not None:
        wanted['max_wal_senders'] = normalize_int(params['max_wal_senders'], 'max_wal_senders')
        if wanted.get('wal_level') == 'minimal' and wanted['max_wal_senders'] > 0:
            raise InvalidValue('wal_level minimal requires max_wal_senders 0 (the server refuses to start otherwise)')
    if params.get('verify_timeout') is not None and params['verify_timeout'] <= 0:
        raise InvalidValue('verify_timeout must be a positive number of seconds, got %r' % (params['verify_timeout'],))
    return wanted


def command_warnings(command):
    """Advice about an archive_command PostgreSQL accepts but that probably does not archive anything."""
    if command and command.strip() and '%p' not in command and '%f' not in command:
        return ['archive_command %r uses neither %%p nor %%f, so it cannot know which WAL segment to copy' % (command,)]
    return []


def configured_settings(pg_settings_rows, file_settings_rows=None):
    """The value each managed setting is CONFIGURED to, normalized.

    pg_settings_rows: {name: {'setting', 'reset_val', ...}} from pg_settings.
    file_settings_rows: [(name, setting)] from pg_file_settings ordered by seqno (all rows: a postmaster setting
    waiting for a restart carries the error "setting could not be applied"),
    or None when the login role may not read that view.

    pg_file_settings re-reads postgresql.conf and postgresql.auto.conf at query time, so it already holds a value
    set by ALTER SYSTEM but not yet active (postmaster settings before restart). pg_settings.setting is not used:
    it reads "(disabled)" for archive_command while archive_mode is off.
    """
    configured = {}
    for name in MANAGED_SETTINGS:
        row = pg_settings_rows.get(name)
        if row is not None:
            configured[name] = row.get('reset_val')
    if file_settings_rows is not None:
        for name, value in file_settings_rows:
            if name in MANAGED_SETTINGS:
                configured[name] = value  # later rows (postgresql.auto.conf) win, as in the server
    return dict((name, normalize_setting(name, configured.get(name))) for name in MANAGED_SETTINGS)


def live_settings(pg_settings_rows):
    """The values the running server uses for the settings that need a restart, normalized."""
    return dict((name, normalize_setting(name, pg_settings_rows[name]['setting']))
                for name in RESTART_SETTINGS if name in pg_settings_rows)


def compute_changes(current, desired):
    """Ordered list of (setting, before, after) where the configured value differs from the wanted one."""
    return [(name, current.get(name), desired[name]) for name in MANAGED_SETTINGS
            if name in desired and current.get(name) != desired[name]]


def apply_changes(current, changes):
    after = dict(current)
    for name, _before, value in changes:
        after[name] = value
    return after


def check_startable(after):
    """Refuse a combination the server would refuse to start with (settings not given keep their current value)."""
    if after.get('wal_level') != 'minimal':
        return
    if after.get('archive_mode') in ('on', 'always'):
        raise InvalidValue('wal_level minimal cannot be combined with archive_mode %s: PostgreSQL would not start'
                           % after['archive_mode'])
    if after.get('max_wal_senders'):
        raise InvalidValue('wal_level minimal needs max_wal_senders 0, but it is configured to %s and PostgreSQL would '
                           'not start: also set max_wal_senders: 0' % after['max_wal_senders'])


# Settings whose list ALTER SYSTEM SET re-quotes element by element, so a value read back from postgresql.auto.conf
# would not be written as it was (the same names pg_dump treats as quoted lists).
LIST_QUOTED_SETTINGS = frozenset(('local_preload_libraries', 'search_path', 'session_preload_libraries',
                                  'shared_preload_libraries', 'temp_tablespaces', 'unix_socket_directories'))


def alter_system(entries, name, value):
    """postgresql.auto.conf entries [(name, value)] after ALTER SYSTEM SET name = value (RESET when value is None).

    Since PostgreSQL 12 SET removes every entry of that name and appends the new one at the end; RESET only removes.
    """
    kept = [entry for entry in entries if entry[0] != name]
    return kept if value is None else kept + [(name, value)]


def restore_plan(before, written, rewritable):
    """ALTER SYSTEM steps that give postgresql.auto.conf its entries `before` back after this run SET `written`.

    before: [(name, value)] of postgresql.auto.conf before the run, in file order.
    written: names this run set, in the order it set them.
    rewritable: names the run did not touch but may set again to their current value (known to the server,
    allowed for the login role, and not in LIST_QUOTED_SETTINGS).
    Setting a name back moves it to the end of the file, so every entry from the first written one on is set
    again in file order; when one of those may not be set, only the written names are put back (their values
    are right, their place is not). Returns [(name, value or None for RESET)].
    """
    written = list(written)
    resets = [(name, None) for name in written if name not in dict(before)]
    first = next((index for index, (name, _value) in enumerate(before) if name in written), None)
    if first is None:
        return resets
    tail = before[first:]
    if all(name in written or name in rewritable for name, _value in tail):
        return resets + tail
    return resets + [(name, value) for name, value in before if name in written]


def _entry_text(name, entries):
    values = [value for entry_name, value in entries if entry_name == name]
    return '%s = %r' % (name, values[-1]) if values else '%s: no entry' % name


def _fix_statement(name, before):
    values = [value for entry_name, value in before if entry_name == name]
    if not values:
        return 'ALTER SYSTEM RESET %s' % name
    return "ALTER SYSTEM SET %s = '%s'" % (name, values[-1].replace("'", "''"))


def restore_outcome(before, now, written, configured_before=None, reloaded=True):
    """The sentence a failed run ends with: what it had written and whether postgresql.auto.conf is as before.

    before, now: [(name, value)] of postgresql.auto.conf before the run and after putting back, None when unknown
    (pg_file_settings not readable). written: names the run had set. configured_before: {name: value} the run
    compared against, shown when the file could not be read. reloaded: whether pg_reload_conf() worked after
    putting back (the failed run had not reloaded, so the running server never read what it wrote).
    """
    reload_text = ('reloaded the configuration' if reloaded else
                   'could not reload the configuration (nor had the run, so the server has not read what it wrote)')
    if not written:
        return 'Nothing had been written: the server is configured as before the run.'
    names = ', '.join(written)
    if before is None:
        was = ', '.join('%s was %r' % (name, (configured_before or {}).get(name)) for name in written)
        return ('It had already written %s to postgresql.auto.conf (not reloaded) and did NOT put them back: '
                'login_user may not read pg_file_settings, so the module cannot tell what that file held before '
                '(configured values before the run: %s). Put them back as a superuser (ALTER SYSTEM SET to the previous value, or ALTER SYSTEM RESET '
                'where postgresql.auto.conf had no entry), then SELECT pg_reload_conf().' % (names, was))
    if now == before:
        return ('It had already written %s; it put them back and %s: postgresql.auto.conf holds the same entries, in '
                'the same order, as before the run.' % (names, reload_text))
    if now is None:
        return ('It had already written %s and could not check postgresql.auto.conf after putting them back; before the '
                'run it held: %s.' % (names, '; '.join(_entry_text(name, before) for name in written)))
    wrong = [name for name in written if _entry_text(name, now) != _entry_text(name, before)]
    if wrong:
        return ('It had already written %s and could not put back %s: postgresql.auto.conf has %s (before the run: %s). '
                'Fix it as a superuser with: %s; SELECT pg_reload_conf().'
                % (names, ', '.join(wrong), '; '.join(_entry_text(name, now) for name in wrong),
                   '; '.join(_entry_text(name, before) for name in wrong),
                   '; '.join(_fix_statement(name, before) for name in wrong)))
    return ('It had already written %s; it put back their values and %s, but postgresql.auto.conf lists its entries '
            'in another order than before the run (now: %s; before: %s): an entry after them cannot be set again '
            'unchanged (a list setting, one the server does not know, or one login_user may not alter).'
            % (names, reload_text, ', '.join(name for name, _v in now), ', '.join(name for name, _v in before)))


def pending_restart(configured, live):
    """Names of postmaster settings whose configured value the running server does not use yet."""
    return sorted(name for name in RESTART_SETTINGS if name in live and configured.get(name) != live[name])


def sql_value(name, value):
    """Text to put in ALTER SYSTEM SET for a normalized value."""
    if name == 'archive_timeout':
        return '%ds' % value
    return str(value)


def archiving_active(live, archive_command):
    """True when the running server archives: archive_mode on/always in effect and a command configured."""
    return live.get('archive_mode') in ('on', 'always') and bool(archive_command and archive_command.strip())


def archiver_status(stats, now, active):
    """Status of the archiver from a pg_stat_archiver row (dict with datetime values) at server time `now`."""
    status = dict(
        active=bool(active),
        archived_count=stats.get('archived_count') or 0,
        last_archived_wal=stats.get('last_archived_wal'),
        last_archived_time=stats.get('last_archived_time'),
        failed_count=stats.get('failed_count') or 0,
        last_failed_wal=stats.get('last_failed_wal'),
        last_failed_time=stats.get('last_failed_time'),
    )
    archived, failed = status['last_archived_time'], status['last_failed_time']
    failing = failed is not None and (archived is None or failed > archived)
    status['healthy'] = not failing
    status['archive_lag_seconds'] = round((now - archived).total_seconds(), 3) if archived is not None else None
    for key in ('last_archived_time', 'last_failed_time'):
        if status[key] is not None:
            status[key] = status[key].isoformat()
    return status


def segment_archived(target_segment, last_archived_wal):
    """True when the archiver reported target_segment or a later one (names sort by timeline, then position)."""
    if not last_archived_wal or not WAL_SEGMENT.match(last_archived_wal):
        return False
    return last_archived_wal >= target_segment


def verify_failure_message(target_segment, timeout, status):
    msg = 'WAL segment %s was not archived within %s seconds' % (target_segment, timeout)
    if status.get('last_failed_wal'):
        details = (status['last_failed_wal'], status['last_failed_time'], status['failed_count'],
                   status.get('last_archived_wal') or 'none')
        msg += ('; the archiver last failed on %s at %s (failed_count %s, last archived: %s): check archive_command '
                'and the PostgreSQL log' % details)
    else:
        msg += ('; the archiver reports no failure (failed_count %s, last archived: %s): archive_command may be slow '
                'or hanging, raise verify_timeout or check the PostgreSQL log'
                % (status.get('failed_count', 0), status.get('last_archived_wal') or 'none'))
    return msg


def privilege_message(user, names, superuser_only=False):
    names = ', '.join(names)
    if superuser_only:
        return ('login_user "%s" may not run ALTER SYSTEM: before PostgreSQL 15 it needs a superuser; connect as one '
                '(for example postgres over the local socket)' % user)
    return ('login_user "%s" may not change %s with ALTER SYSTEM: connect as a superuser, or on PostgreSQL 15+ '
            'grant it as a superuser with: GRANT ALTER SYSTEM ON PARAMETER %s TO "%s"; '
            'GRANT EXECUTE ON FUNCTION pg_reload_conf() TO "%s"' % (user, names, names, user, user))
