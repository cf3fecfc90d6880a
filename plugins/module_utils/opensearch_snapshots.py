# -*- coding: utf-8 -*-
# Copyright: rdmops.invenio developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Decisions of the OpenSearch snapshot modules, as pure functions (no server, no Ansible).

Each function takes what the cluster reported and what the user asked for and returns what
should happen; the modules only fetch, call these and apply.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import calendar
import datetime
import fnmatch
import posixpath
import re

# --------------------------------------------------------------------------------------------
# Repository settings
# --------------------------------------------------------------------------------------------


def setting_to_string(value):
    """Render one setting value the way GET /_snapshot/{repo} reports it (every scalar a string)."""
    if isinstance(value, bool):
        return 'true' if value else 'false'
    if isinstance(value, (list, tuple)):
        return [setting_to_string(item) for item in value]
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def flatten_settings(settings, prefix=''):
    """{'a': {'b': 1}} -> {'a.b': 1}: OpenSearch stores settings flat whichever way they were sent."""
    flat = {}
    for key, value in (settings or {}).items():
        full = '%s.%s' % (prefix, key) if prefix else str(key)
        if isinstance(value, dict):
            flat.update(flatten_settings(value, full))
        else:
            flat[full] = value
    return flat


def normalise_settings(settings):
    """Flatten and stringify repository settings so that what the user wrote compares with what GET returns."""
    return dict((key, setting_to_string(value)) for key, value in flatten_settings(settings).items() if value is not None)


def repository_changes(current, wanted_type, wanted_settings):
    """Compare a repository definition with the wanted one.

    current is {'type': ..., 'settings': {...}} as GET returns it, or None when the repository
    does not exist. Only the settings the user gave are compared: OpenSearch fills in others
    (and the user may not care about them). Returns a dict with 'action' ('create', 'update'
    or None), 'type_changed' and 'settings', the {key: (current, wanted)} pairs that differ.
    """
    wanted = normalise_settings(wanted_settings)
    if current is None:
        return dict(action='create', type_changed=False, settings=dict((k, (None, v)) for k, v in wanted.items()))
    have = normalise_settings(current.get('settings') or {})
    differing = dict((key, (have.get(key), value)) for key, value in wanted.items() if have.get(key) != value)
    type_changed = (current.get('type') or '') != wanted_type
    return dict(action='update' if (differing or type_changed) else None, type_changed=type_changed, settings=differing)


def location_allowed(location, path_repo):
    """True when an fs repository location lies inside one of a node's path.repo entries.

    A relative location resolves against the first path.repo entry, as OpenSearch does.
    """
    if not path_repo:
        return False
    roots = [posixpath.normpath(root) for root in path_repo]
    if posixpath.isabs(location):
        target = posixpath.normpath(location)
    else:
        target = posixpath.normpath(posixpath.join(roots[0], location))
    for root in roots:
        if target == root or target.startswith(root.rstrip('/') + '/'):
            return True
    return False


def nodes_rejecting_location(location, node_path_repo):
    """Names of the nodes whose path.repo does not cover location (node_path_repo: {name: [paths]})."""
    return sorted(name for name, roots in node_path_repo.items() if not location_allowed(location, roots))


# --------------------------------------------------------------------------------------------
# Snapshot names with date math: <nightly-{now/d}> or <stats-{now/M{yyyy.MM}}>
# --------------------------------------------------------------------------------------------

_MATH_UNITS = 'yMwdhHms'
_MATH_RE = re.compile(r'([+-])(\d+)([%s])|/([%s])' % (_MATH_UNITS, _MATH_UNITS))
_FORMAT_TOKENS = [
    ('yyyy', '%Y'), ('uuuu', '%Y'), ('YYYY', '%G'), ('yy', '%y'), ('uu', '%y'),
    ('MM', '%m'), ('dd', '%d'), ('HH', '%H'), ('mm', '%M'), ('ss', '%S'), ('ww', '%V'),
]


class DateMathError(ValueError):
    """The name's date math expression cannot be evaluated."""


def _add_months(moment, months):
    month_index = moment.month - 1 + months
    year = moment.year + month_index // 12
    month = month_index % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def _apply_math(moment, math):
    position = 0
    while position < len(math):
        match = _MATH_RE.match(math, position)
        if not match:
            raise DateMathError("cannot read date math '%s' at '%s'" % (math, math[position:]))
        position = match.end()
        if match.group(4):
            unit = match.group(4)
            if unit == 'y':
                moment = moment.replace(month=1, day=1, hour=0, minute=0, second=0, microsecond=0)
            elif unit == 'M':
                moment = moment.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
            elif unit == 'w':
                moment = (moment - datetime.timedelta(days=moment.weekday())).replace(hour=0, minute=0, second=0, microsecond=0)
            elif unit == 'd':
                moment = moment.replace(hour=0, minute=0, second=0, microsecond=0)
            elif unit in 'hH':
                moment = moment.replace(minute=0, second=0, microsecond=0)
            elif unit == 'm':
                moment = moment.replace(second=0, microsecond=0)
            else:
                moment = moment.replace(microsecond=0)
            continue
        amount = int(match.group(2)) * (1 if match.group(1) == '+' else -1)
        unit = match.group(3)
        if unit == 'y':
            moment = _add_months(moment, 12 * amount)
        elif unit == 'M':
            moment = _add_months(moment, amount)
        else:
            seconds = {'w': 604800, 'd': 86400, 'h': 3600, 'H': 3600, 'm': 60, 's': 1}[unit]
            moment = moment + datetime.timedelta(seconds=seconds * amount)
    return moment


def _format(moment, pattern):
    out = []
    position = 0
    while position < len(pattern):
        for token, directive in _FORMAT_TOKENS:
            if pattern.startswith(token, position):
                out.append(moment.strftime(directive))
                position += len(token)
                break
        else:
            char = pattern[position]
            if char.isalpha():
                raise DateMathError("date format letter '%s' in '%s' is not supported (use yyyy, yy, MM, dd, HH, mm, ss, ww)" % (char, pattern))
            out.append(char)
            position += 1
    return ''.join(out)


def _split_expression(body):
    """Split '<static{math{format}}static>' contents into literal text and expressions."""
    parts = []
    literal = []
    position = 0
    while position < len(body):
        char = body[position]
        if char == '\\' and position + 1 < len(body):
            literal.append(body[position + 1])
            position += 2
            continue
        if char == '}':
            raise DateMathError("unbalanced '}' in '%s'" % body)
        if char != '{':
            literal.append(char)
            position += 1
            continue
        depth = 0
        end = position
        while end < len(body):
            if body[end] == '{':
                depth += 1
            elif body[end] == '}':
                depth -= 1
                if depth == 0:
                    break
            end += 1
        if depth != 0:
            raise DateMathError("unbalanced '{' in '%s'" % body)
        if literal:
            parts.append(('text', ''.join(literal)))
            literal = []
        parts.append(('math', body[position + 1:end]))
        position = end + 1
    if literal:
        parts.append(('text', ''.join(literal)))
    return parts


def resolve_snapshot_name(name, now):
    """Resolve OpenSearch date math in a snapshot name at the given UTC datetime.

    '<nightly-{now/d}>' -> 'nightly-2026.11.23'; '<m-{now/M{yyyy.MM}}>' -> 'm-2026.11';
    '<x-{now/d{yyyy.MM.dd|+01:00}}>' applies a UTC offset. A name without '<...>' is returned as is.
    """
    if not (name.startswith('<') and name.endswith('>')):
        return name
    out = []
    for kind, text in _split_expression(name[1:-1]):
        if kind == 'text':
            out.append(text)
            continue
        fmt = 'yyyy.MM.dd'
        offset = None
        brace = text.find('{')
        math = text
        if brace != -1:
            if not text.endswith('}'):
                raise DateMathError("cannot read '{%s}'" % text)
            math = text[:brace]
            fmt = text[brace + 1:-1]
            if '|' in fmt:
                fmt, offset = fmt.split('|', 1)
        if not math.startswith('now'):
            raise DateMathError("date math must start with 'now': '{%s}'" % text)
        moment = now
        if offset:
            match = re.match(r'^(?:UTC|Z|GMT)?([+-])(\d{2}):?(\d{2})$', offset)
            if offset in ('UTC', 'Z', 'GMT'):
                match = None
            elif not match:
                raise DateMathError("time zone '%s' is not supported: use UTC or an offset like +01:00" % offset)
            if match:
                delta = datetime.timedelta(hours=int(match.group(2)), minutes=int(match.group(3)))
                moment = now + delta if match.group(1) == '+' else now - delta
        moment = _apply_math(moment, math[3:])
        out.append(_format(moment, fmt))
    return ''.join(out)


# --------------------------------------------------------------------------------------------
# Retention
# --------------------------------------------------------------------------------------------

_AGE_UNITS = {'s': 1, 'm': 60, 'h': 3600, 'd': 86400, 'w': 604800}
# States of a snapshot still being taken; retention never deletes one of these.
RUNNING_STATES = ('IN_PROGRESS', 'STARTED', 'INIT')


def parse_age(text):
    """'30d' -> seconds. Units: s, m, h, d, w (as in OpenSearch time values)."""
    match = re.match(r'^\s*(\d+)\s*([smhdw])\s*$', str(text))
    if not match:
        raise ValueError("max_age '%s' is not a time value such as 12h, 30d or 8w" % text)
    return int(match.group(1)) * _AGE_UNITS[match.group(2)]


def retention_rules(keep_last=None, max_age=None):
    """Validate retention settings; return (keep_last, max_age_seconds), None meaning no such rule.

    keep_last counts snapshots and must be 1 or more when given; max_age is a time value ('30d').
    An empty max_age is no age rule. At least one rule must be given: retention without a rule
    would delete nothing, which is never what a caller asking for retention meant.
    """
    if keep_last is not None and (isinstance(keep_last, bool) or int(keep_last) < 1):
        raise ValueError('keep_last must be 1 or more (the newest successful snapshot is always kept); '
                         'leave it out for no count limit, got %r' % (keep_last,))
    max_age_seconds = parse_age(max_age) if max_age not in (None, '') else None
    if keep_last is None and max_age_seconds is None:
        raise ValueError('retention needs keep_last and/or max_age: with neither, nothing would ever be deleted')
    return (int(keep_last) if keep_last is not None else None), max_age_seconds


def select_for_pruning(snapshots, now_ms, keep_last=None, max_age_seconds=None, name_prefix=None):
    """Decide which snapshots retention deletes.

    snapshots: the list GET /_snapshot/{repo}/_all returns (dicts with snapshot, state,
    start_time_in_millis). Only snapshots whose name starts with name_prefix take part.
    A snapshot is deleted when it is not among the keep_last newest, or when it started more
    than max_age_seconds before now_ms; either rule suffices. Snapshots still running (any of
    RUNNING_STATES) are never deleted, nor is the newest SUCCESS snapshot. Returns (delete,
    keep): name lists, newest first.
    """
    candidates = [snap for snap in snapshots if not name_prefix or snap.get('snapshot', '').startswith(name_prefix)]
    candidates.sort(key=lambda snap: (snap.get('start_time_in_millis') or 0, snap.get('snapshot')), reverse=True)
    newest_success = next((snap['snapshot'] for snap in candidates if snap.get('state') == 'SUCCESS'), None)
    delete, keep = [], []
    for rank, snap in enumerate(candidates):
        name = snap.get('snapshot')
        too_many = keep_last is not None and rank >= keep_last
        too_old = max_age_seconds is not None and (now_ms - (snap.get('start_time_in_millis') or now_ms)) > max_age_seconds * 1000
        protected = name == newest_success or snap.get('state') in RUNNING_STATES
        if (too_many or too_old) and not protected:
            delete.append(name)
        else:
            keep.append(name)
    return delete, keep


# --------------------------------------------------------------------------------------------
# Restore
# --------------------------------------------------------------------------------------------


def expand_index_patterns(patterns, names):
    """The names matching OpenSearch-style patterns: '*' wildcards, '-pattern' excludes, in order."""
    if not patterns:
        return sorted(names)
    selected = []
    for pattern in patterns:
        for part in [p.strip() for p in pattern.split(',') if p.strip()]:
            if part.startswith('-') and selected:
                selected = [name for name in selected if not fnmatch.fnmatchcase(name, part[1:])]
            else:
                selected.extend(name for name in names if fnmatch.fnmatchcase(name, part) and name not in selected)
    return sorted(selected)


def java_replacement(replacement):
    """Turn a Java regex replacement ('restored_$1') into a Python re.sub template."""
    out = []
    position = 0
    while position < len(replacement):
        char = replacement[position]
        if char == '\\' and position + 1 < len(replacement):
            out.append(replacement[position + 1].replace('\\', '\\\\'))
            position += 2
            continue
        if char == '$':
            named = re.match(r'\{(\w+)\}', replacement[position + 1:])
            number = re.match(r'\d+', replacement[position + 1:])
            if named:
                out.append('\\g<%s>' % named.group(1))
                position += 1 + named.end()
                continue
            if number:
                out.append('\\g<%s>' % number.group(0))
                position += 1 + number.end()
                continue
            raise ValueError("rename_replacement '%s': '$' must be followed by a group number or {name}" % replacement)
        out.append('\\\\' if char == '\\' else char)
        position += 1
    return ''.join(out)


def _renamer(rename_pattern, rename_replacement):
    if not rename_pattern:
        return lambda name: name
    regex = re.compile(rename_pattern)
    template = java_replacement(rename_replacement or '')
    return lambda name: regex.sub(template, name)


def backing_indices(stream, snapshot_indices):
    """The backing indices of a data stream among a snapshot's indices (.ds-<stream>-NNNNNN)."""
    return sorted(name for name in snapshot_indices if re.match(r'^\.ds-%s-\d+$' % re.escape(stream), name))


def restore_targets(snapshot_indices, patterns=None, rename_pattern=None, rename_replacement=None, data_streams=()):
    """Work out what a restore selects and the names it restores them as.

    Patterns match index names and data stream names in the snapshot. A data stream is restored
    by its name (OpenSearch restores its backing indices and recreates the stream; restoring a
    backing index by name would not), so a selected stream brings its backing indices along.
    OpenSearch applies the rename to stream names and to backing index names alike.

    Returns a dict: 'indices' {index in the snapshot: restored name} for every index that will
    be restored, 'data_streams' {stream: restored name}, 'request' the names to send.
    """
    rename = _renamer(rename_pattern, rename_replacement)
    streams = [name for name in expand_index_patterns(patterns, list(snapshot_indices) + list(data_streams)) if name in data_streams]
    covered = set()
    for stream in streams:
        covered.update(backing_indices(stream, snapshot_indices))
    plain = [name for name in expand_index_patterns(patterns, snapshot_indices) if name not in covered]
    indices = sorted(set(plain) | covered)
    return dict(indices=dict((name, rename(name)) for name in indices),
                data_streams=dict((name, rename(name)) for name in streams),
                request=sorted(plain) + sorted(streams))


def safety_snapshot_name(name, now):
    """Name of the snapshot taken of the indices existing_index=delete deletes before restoring `name` over them.

    Unique to the microsecond (UTC) and lower case, as snapshot names must be.
    """
    return 'before-restore-of-%s-%s' % (name, now.strftime('%Y%m%dt%H%M%S%fz'))


def missing_from_snapshot(info, indices, streams, existing_streams):
    """Sorted names among the indices and data streams about to be deleted that a snapshot does not hold.

    info is the snapshot as OpenSearch reports it ('indices', 'data_streams'); existing_streams is {stream: [its
    backing indices]} in the cluster, each of which the snapshot must hold too.
    """
    held, held_streams = set(info.get('indices') or []), set(info.get('data_streams') or [])
    missing = set(name for name in indices if name not in held)
    for stream in streams:
        if stream not in held_streams:
            missing.add(stream)
        missing.update(index for index in existing_streams.get(stream) or [] if index not in held)
    return sorted(missing)


def restore_conflicts(targets, existing):
    """Split restore targets by what exists: existing is {index: 'open' | 'close'}.

    Returns (open_conflicts, closed_targets): sorted names of the target indices that exist
    and are open (a restore onto them fails) and those that exist closed (restore overwrites them).
    """
    target_names = set(targets.values())
    open_conflicts = sorted(name for name in target_names if existing.get(name) == 'open')
    closed = sorted(name for name in target_names if existing.get(name) == 'close')
    return open_conflicts, closed


def plan_restore(targets, existing, existing_index='fail', stream_targets=None, existing_streams=None):
    """What a restore must do first.

    targets: {index in snapshot: restored name}; existing: {index: 'open' | 'close'} in the
    cluster; stream_targets: {stream in snapshot: restored name}; existing_streams: {stream in
    the cluster: [its backing indices]}. Returns {'close': [...], 'delete': [...],
    'delete_streams': [...], 'error': message or None, ...}: only open target indices and target
    data streams that already exist are ever closed or deleted.
    """
    existing_streams = existing_streams or {}
    stream_conflicts = sorted(set(name for name in (stream_targets or {}).values() if name in existing_streams))
    inside = set()
    for stream in stream_conflicts:
        inside.update(existing_streams[stream])
    open_conflicts, closed = restore_conflicts(targets, existing)
    open_conflicts = [name for name in open_conflicts if name not in inside]
    plan = dict(close=[], delete=[], delete_streams=[], error=None, closed_targets=closed,
                open_conflicts=open_conflicts, stream_conflicts=stream_conflicts)
    if not open_conflicts and not stream_conflicts:
        return plan
    what = []
    if open_conflicts:
        what.append('open indices %s' % ', '.join(open_conflicts))
    if stream_conflicts:
        what.append('data streams %s' % ', '.join(stream_conflicts))
    if existing_index == 'delete':
        plan['delete'] = open_conflicts
        plan['delete_streams'] = stream_conflicts
    elif existing_index == 'close' and not stream_conflicts:
        plan['close'] = open_conflicts
    elif existing_index == 'close':
        plan['error'] = ('Restore would overwrite existing data streams %s, and a data stream cannot be closed. '
                         'Set existing_index=delete to delete them first, or restore under other names with '
                         'rename_pattern and rename_replacement.' % ', '.join(stream_conflicts))
    else:
        plan['error'] = ('Restore would overwrite %s. OpenSearch cannot restore onto an open index or an existing '
                         'data stream. Set existing_index=close to close the indices (the restore replaces their contents), '
                         'existing_index=delete to delete them first, or restore under other names with '
                         'rename_pattern and rename_replacement.' % ' and '.join(what))
    return plan
