# -*- coding: utf-8 -*-
# Copyright: rdmops.invenio developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Reading `pgbackrest info --output=json` (pgBackRest 2.x), as pure functions: no server, no Ansible.

Private to this collection: the layout of what it returns may change with the modules using it.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

# pgBackRest's stanza status codes (info command): 0 ok, 1 missing stanza path, 2 no valid
# backups, 3 missing stanza data, 4 different cipher type, 5 database mismatch across repos,
# 6 backup/expire running, 99 other (the per-repository status says which).
STANZA_MISSING_CODES = (1, 3)
STANZA_UNREACHABLE_CODE = 99


class InfoError(ValueError):
    """The text is not pgBackRest's JSON info output for the stanza."""


def _backup(entry):
    info = entry.get('info') or {}
    repository = info.get('repository') or {}
    timestamp = entry.get('timestamp') or {}
    archive = entry.get('archive') or {}
    lsn = entry.get('lsn') or {}
    start, stop = timestamp.get('start'), timestamp.get('stop')
    return dict(
        label=entry.get('label'),
        type=entry.get('type'),
        prior=entry.get('prior'),
        start=start,
        stop=stop,
        duration_seconds=(stop - start) if isinstance(start, int) and isinstance(stop, int) else None,
        size=info.get('size'),
        delta=info.get('delta'),
        repository_size=repository.get('size'),
        repository_delta=repository.get('delta'),
        wal_start=archive.get('start'),
        wal_stop=archive.get('stop'),
        lsn_start=lsn.get('start'),
        lsn_stop=lsn.get('stop'),
        error=bool(entry.get('error')),
    )


def summarize(data, stanza):
    """What a person (or a playbook) needs from the parsed JSON list: the named stanza's state."""
    if not isinstance(data, list):
        raise InfoError('pgbackrest info did not return a JSON list')
    entry = next((item for item in data if isinstance(item, dict) and item.get('name') == stanza), None)
    if entry is None:
        raise InfoError("pgbackrest info has no stanza '%s' (it listed: %s)"
                        % (stanza, ', '.join(str(item.get('name')) for item in data if isinstance(item, dict)) or 'none'))
    status = entry.get('status') or {}
    code = status.get('code')
    backups = [_backup(item) for item in entry.get('backup') or []]
    databases = sorted(entry.get('db') or [], key=lambda db: db.get('id') or 0)
    current_db = databases[-1] if databases else {}
    archives = [item for item in entry.get('archive') or [] if (item.get('database') or {}).get('id') == current_db.get('id')]
    repos = [dict(key=repo.get('key'), cipher=repo.get('cipher'), code=(repo.get('status') or {}).get('code'),
                  message=(repo.get('status') or {}).get('message')) for repo in entry.get('repo') or []]
    problems = [repo['message'] for repo in repos if repo['code'] not in (0, None)]
    return dict(
        stanza=stanza,
        status_code=code,
        status_message=status.get('message'),
        exists=code not in STANZA_MISSING_CODES,
        reachable=code != STANZA_UNREACHABLE_CODE,
        restorable=code == 0 and bool(backups),
        repo_messages=problems or [repo['message'] for repo in repos if repo['message']],
        cipher=entry.get('cipher'),
        system_id=str(current_db['system-id']) if current_db.get('system-id') is not None else None,
        pg_version=current_db.get('version'),
        backups=backups,
        newest=backups[-1] if backups else None,
        wal_min=archives[-1].get('min') if archives else None,
        wal_max=archives[-1].get('max') if archives else None,
    )
