#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: rdmops.invenio developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: postgresql_wal_archiving
short_description: Enable, disable and verify PostgreSQL WAL archiving
version_added: 0.1.0
description:
  - Keeps C(wal_level), C(archive_mode), C(archive_command), C(archive_timeout) and C(max_wal_senders) of a
    PostgreSQL server at the wanted values with C(ALTER SYSTEM) followed by C(pg_reload_conf()).
  - Compares the wanted values with the B(configured) ones (C(pg_file_settings), falling back to
    C(pg_settings.reset_val)), not with the live placeholder C((disabled)) PostgreSQL shows for
    C(archive_command) while archiving is off, so a second run reports no change even before the restart.
  - Durations are compared in seconds, so V(60), V(60s) and V(1min) are the same C(archive_timeout).
  - C(wal_level), C(archive_mode) and C(max_wal_senders) only take effect after a server restart; the module never
    restarts the server but reports RV(restart_required).
  - Reports the archiver status from C(pg_stat_archiver) with a derived health flag, and can prove that archiving
    works by switching to a new WAL segment and waiting until the archiver reports it (O(verify)).
  - Parameters are validated before connecting, so a wrong value fails without touching the server. After
    connecting, every wanted value is checked against the server's own limits (C(pg_settings) columns C(vartype),
    C(unit), C(min_val), C(max_val), C(enumvals)) before the first C(ALTER SYSTEM), in check mode too; the error
    names the setting, the value and the allowed range.
  - C(ALTER SYSTEM) cannot run in a transaction, so each statement is committed on its own. When one still fails
    after others were written (a check the server makes beyond those limits, such as C(max_wal_senders) counting
    against the backend limit, a missing privilege, a server error), the module sets the entries of
    C(postgresql.auto.conf) back to what they were (C(ALTER SYSTEM RESET) where there was none), reloads, and its
    error says whether the file holds the same entries in the same order as before, or exactly what is left.
options:
  state:
    description:
      - V(enabled) turns archiving on with O(archive_command) or O(pgbackrest_stanza).
      - V(disabled) sets C(archive_mode) to V(off); the other settings change only when given.
    type: str
    choices: [enabled, disabled]
    default: enabled
  archive_mode:
    description:
      - C(archive_mode) with O(state=enabled). V(always) also archives while the server is a standby.
    type: str
    choices: ['on', always]
    default: 'on'
  wal_level:
    description:
      - C(wal_level). Defaults to V(replica) with O(state=enabled) and is left as it is with O(state=disabled)
        unless given.
      - V(minimal) is refused with O(state=enabled) because it does not write enough WAL to restore from an archive.
    type: str
    choices: [minimal, replica, logical]
  archive_command:
    description:
      - Shell command that copies one WAL segment away; C(%p) is the segment's path, C(%f) its file name.
      - It must exit 0 only when the copy is safely stored, and fail when the target file already exists.
      - Required with O(state=enabled) unless O(pgbackrest_stanza) is set.
    type: str
  pgbackrest_stanza:
    description:
      - Build C(archive_command) for pgBackRest, C(pgbackrest --stanza=<stanza> archive-push %p).
    type: str
  archive_timeout:
    description:
      - Force a switch to a new WAL segment after this long, which bounds how much committed data only exists on
        the server (the recovery point objective of archiving alone).
      - An integer (seconds) or a PostgreSQL duration such as V(60s), V(5min) or V(1h). V(0) disables it.
      - Left as it is when not given.
    type: raw
  max_wal_senders:
    description:
      - C(max_wal_senders), the number of concurrent WAL streaming connections (replicas, C(pg_basebackup)).
      - Left as it is when not given.
    type: int
  verify:
    description:
      - After configuring, run C(pg_switch_wal()) and wait until the archiver reports that segment as archived.
      - Fails with the archiver's last error when it does not happen within O(verify_timeout).
      - Needs archiving to be active, that is no restart pending; fails clearly otherwise. Skipped in check mode.
    type: bool
    default: false
  verify_timeout:
    description:
      - Seconds O(verify) waits for the segment to be archived.
    type: int
    default: 60
notes:
  - C(ALTER SYSTEM) needs a superuser or, on PostgreSQL 15 and later, C(GRANT ALTER SYSTEM ON PARAMETER) for each
    changed setting plus C(EXECUTE) on C(pg_reload_conf()); the module checks this before changing anything.
  - A role that is not a superuser also needs C(SELECT) on C(pg_file_settings) and C(EXECUTE) on
    C(pg_show_all_file_settings()) to see values that wait for a restart; without them the module warns and reports
    those values as changed until the restart. Without them a failed run also cannot put back what it had
    written; its error then lists those settings and their previous configured values.
  - C(ALTER SYSTEM SET) moves an entry to the end of C(postgresql.auto.conf) (PostgreSQL 12 and later), so putting
    values back sets every entry from the first one the run wrote again, in file order. When one of those cannot
    be written back unchanged (a list setting such as C(shared_preload_libraries), a setting the server does not
    know, or one the role may not alter), only the values come back and the error names the new order.
  - Restart the server (for example with a handler) when RV(restart_required) is true, then run the module again
    with O(verify=true) to prove archiving works.
attributes:
  check_mode:
    support: full
    description: Reports what would change, changes nothing, and does not run O(verify).
  diff_mode:
    support: full
    description: RV(diff) holds the configured values of the managed settings before and after.
extends_documentation_fragment:
  - rdmops.invenio.postgresql
seealso:
  - name: PostgreSQL continuous archiving
    description: How archive_command, archive_mode and archive_timeout work together.
    link: https://www.postgresql.org/docs/15/continuous-archiving.html
  - name: pg_stat_archiver
    description: The view the archiver status comes from.
    link: https://www.postgresql.org/docs/15/monitoring-stats.html#MONITORING-PG-STAT-ARCHIVER-VIEW
author:
  - rdmops.invenio developers (@rdmops)
'''

EXAMPLES = r'''
- name: WAL segments are archived by pgBackRest
  rdmops.invenio.postgresql_wal_archiving:
    pgbackrest_stanza: main
    archive_timeout: 60s
    login_unix_socket: /var/run/postgresql
  become: true
  become_user: postgres
  register: postgresql_archiving
  notify: Restart PostgreSQL

- name: WAL segments are copied to a local directory, at least once a minute
  rdmops.invenio.postgresql_wal_archiving:
    archive_command: 'test ! -f /var/lib/postgresql/wal-archive/%f && cp %p /var/lib/postgresql/wal-archive/%f'
    archive_timeout: 1min
    max_wal_senders: 10
    login_host: db.example.org
    login_user: postgres
    login_password: "{{ postgresql_superuser_password }}"
    ssl_mode: verify-full
    ca_cert: /etc/ssl/certs/internal-ca.pem

- name: Restart PostgreSQL now so archiving becomes active
  ansible.builtin.meta: flush_handlers

- name: Archiving works (a fresh WAL segment reaches the archive within 2 minutes)
  rdmops.invenio.postgresql_wal_archiving:
    pgbackrest_stanza: main
    archive_timeout: 60s
    login_unix_socket: /var/run/postgresql
    verify: true
    verify_timeout: 120
  become: true
  become_user: postgres

- name: WAL archiving is off
  rdmops.invenio.postgresql_wal_archiving:
    state: disabled
    login_unix_socket: /var/run/postgresql
  become: true
  become_user: postgres
'''

RETURN = r'''
diff:
  description: Configured values of the managed settings before and after the run (durations in seconds).
  returned: always
  type: dict
  sample:
    before: {wal_level: replica, archive_mode: 'off', archive_command: '', archive_timeout: 0, max_wal_senders: 10}
    after:
      wal_level: replica
      archive_mode: 'on'
      archive_command: pgbackrest --stanza=main archive-push %p
      archive_timeout: 60
      max_wal_senders: 10
changes:
  description: Names of the settings that were (or in check mode would be) changed.
  returned: always
  type: list
  elements: str
  sample: [archive_mode, archive_command, archive_timeout]
queries:
  description: ALTER SYSTEM and reload statements run (in check mode, those that would run).
  returned: always
  type: list
  elements: str
  sample: ["ALTER SYSTEM SET \"archive_mode\" = 'on'", "SELECT pg_reload_conf()"]
restart_required:
  description:
    - True when a setting that needs a restart (C(wal_level), C(archive_mode), C(max_wal_senders)) is configured
      to a value the running server does not use yet. Restart PostgreSQL to activate it.
  returned: always
  type: bool
  sample: true
pending_restart:
  description: The settings behind RV(restart_required).
  returned: always
  type: list
  elements: str
  sample: [archive_mode]
archiver:
  description: Status of the WAL archiver from C(pg_stat_archiver), read at the end of the run.
  returned: always
  type: dict
  contains:
    active:
      description: Whether the running server archives (C(archive_mode) in effect and a command configured).
      type: bool
      sample: true
    healthy:
      description:
        - False when the last failure is more recent than the last success (or nothing succeeded after a failure).
      type: bool
      sample: true
    archived_count:
      description: Segments archived since the statistics were reset.
      type: int
      sample: 42
    last_archived_wal:
      description: Name of the last segment archived, or null.
      type: str
      sample: 00000001000000000000002A
    last_archived_time:
      description: When it was archived (ISO 8601), or null.
      type: str
      sample: '2026-11-23T06:10:01.123456+00:00'
    failed_count:
      description: Failed attempts since the statistics were reset.
      type: int
      sample: 0
    last_failed_wal:
      description: Segment of the last failed attempt, or null.
      type: str
      sample: null
    last_failed_time:
      description: When the last attempt failed (ISO 8601), or null.
      type: str
      sample: null
    archive_lag_seconds:
      description: Seconds since the last successful archive (server clock), or null when nothing was archived yet.
      type: float
      sample: 12.5
verified_wal:
  description: The segment O(verify) switched to and saw archived.
  returned: when O(verify=true) and not in check mode
  type: str
  sample: 00000001000000000000002B
'''

import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.rdmops.invenio.plugins.module_utils.postgresql_connection import (
    connect,
    connection_argument_spec,
    ensure_psycopg,
    psycopg,
)
from ansible_collections.rdmops.invenio.plugins.module_utils.wal_archiving import (
    MANAGED_SETTINGS,
    LIST_QUOTED_SETTINGS,
    InvalidValue,
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
    pending_restart,
    privilege_message,
    restore_outcome,
    restore_plan,
    segment_archived,
    sql_value,
    verify_failure_message,
)

if psycopg is not None:
    from psycopg import sql


def read_settings(cursor):
    """pg_settings rows and, when readable, the configured values from pg_file_settings."""
    cursor.execute('SELECT name, setting, reset_val, pending_restart, vartype, unit, min_val, max_val, enumvals '
                   'FROM pg_catalog.pg_settings WHERE name = ANY(%s)', (list(MANAGED_SETTINGS),))
    keys = ('setting', 'reset_val', 'pending_restart', 'vartype', 'unit', 'min_val', 'max_val', 'enumvals')
    rows = dict((row[0], dict(zip(keys, row[1:]))) for row in cursor.fetchall())
    try:
        cursor.execute('SELECT name, setting FROM pg_catalog.pg_file_settings '
                       'WHERE name = ANY(%s) ORDER BY seqno', (list(MANAGED_SETTINGS),))
        file_rows = cursor.fetchall()
    except psycopg.errors.InsufficientPrivilege:
        file_rows = None
    return rows, file_rows


def read_archiver(cursor, active):
    cursor.execute('SELECT archived_count, last_archived_wal, last_archived_time, failed_count, last_failed_wal, '
                   'last_failed_time, now() FROM pg_catalog.pg_stat_archiver')
    row = cursor.fetchone()
    keys = ('archived_count', 'last_archived_wal', 'last_archived_time', 'failed_count', 'last_failed_wal',
            'last_failed_time')
    return archiver_status(dict(zip(keys, row[:6])), row[6], active)


def read_auto_conf(cursor):
    """[(name, value)] of postgresql.auto.conf in file order, as the server reads the file now."""
    cursor.execute('SELECT name, setting FROM pg_catalog.pg_file_settings WHERE sourcefile LIKE %s ORDER BY seqno',
                   ('%/postgresql.auto.conf',))
    return list(cursor.fetchall())


def is_superuser(cursor):
    cursor.execute('SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = current_user')
    return cursor.fetchone()[0]


def alterable(cursor, names):
    """The settings among names that login_user may change with ALTER SYSTEM."""
    if is_superuser(cursor):
        return set(names)
    if cursor.connection.info.server_version < 150000:
        return set()
    cursor.execute('SELECT n FROM unnest(%s::text[]) AS n WHERE has_parameter_privilege(n, %s)', (list(names), 'ALTER SYSTEM'))
    return set(row[0] for row in cursor.fetchall())


def missing_privileges(cursor, user, names):
    """A message when login_user may not ALTER SYSTEM the given settings or reload, else None."""
    if is_superuser(cursor):
        return None
    if cursor.connection.info.server_version < 150000:
        return privilege_message(user, names, superuser_only=True)
    allowed = alterable(cursor, names)
    cursor.execute("SELECT has_function_privilege('pg_catalog.pg_reload_conf()', 'EXECUTE')")
    if allowed == set(names) and cursor.fetchone()[0]:
        return None
    return privilege_message(user, [name for name in names if name not in allowed] or names)


def error_message(exc, user, names):
    """What the server refused, with the grant to run when a privilege was missing."""
    if isinstance(exc, psycopg.errors.InsufficientPrivilege):
        return 'login_user "%s" lacks a privilege: %s. %s' % (user, str(exc).strip(), privilege_message(user, names))
    return 'PostgreSQL reported an error: %s' % str(exc).strip()


def put_back(cursor, before, written):
    """Undo this run's ALTER SYSTEM statements.

    Returns the entries postgresql.auto.conf holds afterwards (None when unknown) and whether the reload worked.
    """
    if before is None or not written:
        return None, False
    others = [name for name, _value in before if name not in written and name not in LIST_QUOTED_SETTINGS]
    rewritable = set()
    try:
        if others:
            cursor.execute('SELECT name FROM pg_catalog.pg_settings WHERE name = ANY(%s)', (others,))
            rewritable = alterable(cursor, [row[0] for row in cursor.fetchall()])
    except psycopg.Error:
        rewritable = set()
    for name, value in restore_plan(before, written, rewritable):
        try:
            if value is None:
                cursor.execute(sql.SQL('ALTER SYSTEM RESET {}').format(sql.Identifier(name)))
            else:
                cursor.execute(sql.SQL('ALTER SYSTEM SET {} = {}').format(sql.Identifier(name), sql.Literal(value)))
        except psycopg.Error:
            continue  # restore_outcome() reports every entry that is not as before
    try:
        cursor.execute('SELECT pg_catalog.pg_reload_conf()')
        reloaded = True
    except psycopg.Error:
        reloaded = False
    try:
        return read_auto_conf(cursor), reloaded
    except psycopg.Error:
        return None, reloaded


def wait_for_archive(module, cursor, active, timeout):
    """Switch WAL and wait until the archiver reports the switched segment; fail with its last error otherwise."""
    try:
        cursor.execute('SELECT pg_catalog.pg_walfile_name(pg_catalog.pg_switch_wal())')
    except psycopg.errors.InsufficientPrivilege:
        module.fail_json(msg='login_user "%s" may not run pg_switch_wal() for verify: connect as a superuser or '
                             'GRANT EXECUTE ON FUNCTION pg_switch_wal() TO "%s"'
                             % (module.params['login_user'], module.params['login_user']))
    target = cursor.fetchone()[0]
    deadline = time.monotonic() + timeout
    while True:
        status = read_archiver(cursor, active)
        if segment_archived(target, status['last_archived_wal']):
            return target, status
        if time.monotonic() >= deadline:
            module.fail_json(msg=verify_failure_message(target, timeout, status), archiver=status)
        time.sleep(0.5)


def main():
    argument_spec = connection_argument_spec()
    argument_spec.update(
        state=dict(type='str', default='enabled', choices=['enabled', 'disabled']),
        archive_mode=dict(type='str', default='on', choices=['on', 'always']),
        wal_level=dict(type='str', choices=['minimal', 'replica', 'logical']),
        archive_command=dict(type='str'),
        pgbackrest_stanza=dict(type='str'),
        archive_timeout=dict(type='raw'),
        max_wal_senders=dict(type='int'),
        verify=dict(type='bool', default=False),
        verify_timeout=dict(type='int', default=60),
    )
    module = AnsibleModule(
        argument_spec=argument_spec,
        mutually_exclusive=[('archive_command', 'pgbackrest_stanza')],
        supports_check_mode=True,
    )
    params = module.params
    try:
        desired = desired_settings(params)
    except InvalidValue as exc:
        module.fail_json(msg=str(exc))
    for warning in command_warnings(desired.get('archive_command')):
        module.warn(warning)
    ensure_psycopg(module)

    conn = connect(module)
    try:
        with conn.cursor() as cursor:
            rows, file_rows = read_settings(cursor)
            missing = [name for name in MANAGED_SETTINGS if name not in rows]
            if missing:
                module.fail_json(msg='login_user "%s" cannot see the settings %s: connect as a superuser or a member of '
                                     'pg_read_all_settings' % (params['login_user'], ', '.join(missing)))
            try:
                check_server_limits(desired, rows)
            except InvalidValue as exc:
                module.fail_json(msg=str(exc))
            before = configured_settings(rows, file_rows)
            live = live_settings(rows)
            changes = compute_changes(before, desired)
            after = apply_changes(before, changes)
            try:
                check_startable(after)
            except InvalidValue as exc:
                module.fail_json(msg=str(exc), diff=dict(before=before, after=after))
            queries = [sql.SQL('ALTER SYSTEM SET {} = {}').format(sql.Identifier(name), sql.Literal(sql_value(name, value)))
                       for name, _before, value in changes]
            executed = [q.as_string(conn) for q in queries]
            if changes:
                executed.append('SELECT pg_reload_conf()')
                problem = missing_privileges(cursor, params['login_user'], [name for name, _b, _a in changes])
                if problem:
                    module.fail_json(msg=problem)
                if not module.check_mode:
                    # ALTER SYSTEM cannot run inside a transaction: each statement is committed on its own, so a
                    # failure half-way is undone statement by statement.
                    auto_before = read_auto_conf(cursor) if file_rows is not None else None
                    written = []
                    try:
                        for (name, _before, _after), query in zip(changes, queries):
                            cursor.execute(query)
                            written.append(name)
                        cursor.execute('SELECT pg_catalog.pg_reload_conf()')
                    except psycopg.Error as exc:
                        auto_now, reloaded = put_back(cursor, auto_before, written)
                        refused = error_message(exc, params['login_user'], list(desired))
                        outcome = restore_outcome(auto_before, auto_now, written, before, reloaded)
                        module.fail_json(msg='%s. %s' % (refused, outcome),
                                         changed=bool(written) and (auto_before is None or auto_now != auto_before))

            if file_rows is None:
                module.warn('login_user "%s" cannot read pg_file_settings, so values set by ALTER SYSTEM that wait for a '
                            'restart look unset and are reported as changed again until the restart: connect as a superuser '
                            'or GRANT SELECT ON pg_file_settings and EXECUTE ON FUNCTION pg_show_all_file_settings() to it'
                            % params['login_user'])
            pending = pending_restart(after, live)
            if file_rows is None and not changes:
                # Without pg_file_settings a value set by ALTER SYSTEM is invisible until restart: trust the server's flag.
                pending = sorted(set(pending) | set(n for n in live if rows[n]['pending_restart']))
            active = archiving_active(live, after['archive_command'])
            result = dict(
                changed=bool(changes),
                changes=[name for name, _b, _a in changes],
                diff=dict(before=before, after=after),
                queries=executed,
                restart_required=bool(pending),
                pending_restart=pending,
            )

            if params['verify'] and not module.check_mode:
                reason = None
                if pending:
                    reason = ('the server still runs with the old %s: restart PostgreSQL (restart_required is true) and '
                              'run again with verify=true' % ', '.join(pending))
                elif not active:
                    reason = 'the running server does not archive (archive_mode off or archive_command empty)'
                if reason:
                    module.fail_json(msg='verify needs active archiving, but %s' % reason,
                                     archiver=read_archiver(cursor, active), **result)
                result['verified_wal'], result['archiver'] = wait_for_archive(module, cursor, active,
                                                                              params['verify_timeout'])
            else:
                result['archiver'] = read_archiver(cursor, active)
    except psycopg.Error as exc:
        module.fail_json(msg=error_message(exc, params['login_user'], list(desired)))
    finally:
        conn.close()
    module.exit_json(**result)


if __name__ == '__main__':
    main()
