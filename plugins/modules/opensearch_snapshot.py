#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: rdmops.invenio developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: opensearch_snapshot
short_description: Take, delete, restore and prune OpenSearch snapshots
version_added: 0.1.0
description:
  - V(present) takes a snapshot of the indices matching O(indices) unless a snapshot of that name already
    exists (then nothing changes). The name may hold OpenSearch date math such as C(<nightly-{now/d}>); the module
    resolves it (in UTC) before it looks for an existing snapshot, so one run a day takes one snapshot a day.
  - A snapshot that ends C(PARTIAL) or C(FAILED), whether just taken or found under the name, fails the task
    unless O(allow_partial=true); delete a failed one with O(state=absent) and run again.
  - V(absent) deletes the snapshot (aborting it if it is still running).
  - V(restored) restores indices from the snapshot. OpenSearch cannot restore onto an open index, so when a target
    index exists and is open the task fails, unless O(existing_index) says to close or delete exactly those
    target indices first. Restoring is an action, not a state, so it reports a change every time it runs.
  - V(pruned) applies retention to the snapshots of the repository (or only those whose name starts with
    O(name_prefix)); the newest successful snapshot and running snapshots are never deleted.
author:
  - rdmops.invenio developers (@rdmops)
extends_documentation_fragment:
  - rdmops.invenio.opensearch
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
  platform:
    platforms: posix
options:
  repository:
    description:
      - Name of a registered snapshot repository (see M(rdmops.invenio.opensearch_snapshot_repository)).
    type: str
    required: true
  name:
    description:
      - Snapshot name, lower case. May use date math, for example C(<nightly-{now/d}>) (format C(yyyy.MM.dd)) or
        C(<stats-{now/M{yyyy.MM}}>); supported format letters are C(yyyy), C(yy), C(MM), C(dd), C(HH), C(mm),
        C(ss), C(ww), and a time zone may follow as C({now/d{yyyy.MM.dd|+01:00}}).
      - Required unless O(state=pruned).
    type: str
  state:
    description:
      - V(present) takes the snapshot, V(absent) deletes it, V(restored) restores from it, V(pruned) deletes old
        snapshots according to O(keep_last) and O(max_age).
    type: str
    choices: [present, absent, restored, pruned]
    default: present
  indices:
    description:
      - Index or data stream names or patterns (C(*) wildcards, a leading C(-) excludes) to snapshot or to restore.
      - A data stream in a snapshot is restored by its name, which brings back its backing indices and the stream.
      - Omitted, a snapshot covers every index and a restore every index in the snapshot.
    type: list
    elements: str
  include_global_state:
    description:
      - Whether to store (V(present)) or restore (V(restored)) the cluster state (templates, persistent settings).
      - Omitted, OpenSearch decides (store it when taking, do not restore it when restoring). Restoring it
        replaces the cluster's templates.
    type: bool
  ignore_unavailable:
    description:
      - Skip index names that do not exist instead of failing.
    type: bool
    default: false
  partial:
    description:
      - Take the snapshot even if some primary shards are unavailable (the snapshot then ends C(PARTIAL)).
    type: bool
    default: false
  allow_partial:
    description:
      - Accept a C(PARTIAL) or C(FAILED) snapshot instead of failing the task, and allow restoring from a
        C(PARTIAL) one.
    type: bool
    default: false
  metadata:
    description:
      - Free-form metadata stored with a new snapshot (who took it and why).
    type: dict
  wait:
    description:
      - Wait for the snapshot or the restore to finish. Without waiting, the result reports C(IN_PROGRESS) and
        PARTIAL/FAILED cannot be detected.
    type: bool
    default: true
  wait_timeout:
    description:
      - Seconds to wait for a snapshot or restore to finish before failing. The operation carries on in the
        cluster.
    type: int
    default: 3600
  rename_pattern:
    description:
      - Regular expression (Java syntax) matched against each restored index name; used with
        O(rename_replacement) to restore under another name.
    type: str
  rename_replacement:
    description:
      - Replacement for O(rename_pattern); C($1) refers to the first group.
    type: str
  existing_index:
    description:
      - What to do when a restore target exists and is open, or a target data stream exists. V(fail) stops
        before touching anything, V(close) closes exactly those indices (the restore replaces their contents;
        data streams cannot be closed), V(delete) deletes exactly those indices and data streams.
      - With V(delete) the module first takes a safety snapshot of exactly those indices and data streams in
        O(repository) (named C(before-restore-of-<name>-<UTC time>), always waited for, without the cluster
        state) and deletes nothing unless it ends C(SUCCESS) holding every one of them (and each data stream's
        backing indices). Documents written to them between that snapshot and the delete are not in it.
      - When the restore request then fails, the module restores the deleted indices and data streams from the
        safety snapshot and deletes it, or reopens the indices V(close) closed; the error says what it did and
        what is left. It keeps the safety snapshot, and names it, when the deleted data could not be put back or
        the restore finished with failed shards. After a successful restore the safety snapshot is deleted, or
        kept with a warning when O(wait=false) (the restore is still running).
    type: str
    choices: [fail, close, delete]
    default: fail
  keep_last:
    description:
      - With O(state=pruned), keep at most this many of the newest snapshots.
    type: int
  max_age:
    description:
      - With O(state=pruned), delete snapshots that started longer ago than this, such as V(30d), V(12h), V(8w)
        (units s, m, h, d, w).
      - With O(keep_last) as well, a snapshot is deleted when either rule selects it.
    type: str
  name_prefix:
    description:
      - With O(state=pruned), only snapshots whose name starts with this take part in retention; others are left
        alone and not listed.
    type: str
seealso:
  - module: rdmops.invenio.opensearch_snapshot_repository
'''

EXAMPLES = r'''
- name: Tonight's snapshot of the usage statistics exists
  rdmops.invenio.opensearch_snapshot:
    repository: invenio-backups
    name: "<stats-{now/d}>"
    indices:
      - "invenio-events-stats-*"
      - "invenio-stats-*"
    include_global_state: false
    metadata:
      taken_by: ansible

- name: Only the last 14 nightly snapshots are kept, and none older than 30 days
  rdmops.invenio.opensearch_snapshot:
    repository: invenio-backups
    state: pruned
    name_prefix: stats-
    keep_last: 14
    max_age: 30d

- name: The statistics of 2026-11 are back under their own names (replacing any open copy)
  rdmops.invenio.opensearch_snapshot:
    repository: invenio-backups
    name: stats-2026.11.30
    state: restored
    indices: ["invenio-*stats-*-2026-11"]
    existing_index: close

- name: A copy of the statistics is restored beside the live indices for comparison
  rdmops.invenio.opensearch_snapshot:
    repository: invenio-backups
    name: stats-2026.11.30
    state: restored
    indices: ["invenio-events-stats-*"]
    rename_pattern: "(.+)"
    rename_replacement: "restored-$1"

- name: The failed test snapshot is gone
  rdmops.invenio.opensearch_snapshot:
    repository: invenio-backups
    name: test-1
    state: absent
'''

RETURN = r'''
name:
  description: The snapshot name after date math was resolved.
  returned: unless state is pruned
  type: str
  sample: stats-2026.11.23
snapshot:
  description:
    - The snapshot as the cluster reports it. In check mode, for a snapshot still to be taken, only
      C(snapshot), C(state) (V(NOT_TAKEN)) and C(indices) (the requested patterns).
  returned: unless state is pruned; empty when the snapshot does not exist
  type: dict
  contains:
    snapshot:
      description: Name.
      type: str
      sample: stats-2026.11.23
    uuid:
      description: Unique id.
      type: str
    state:
      description: C(SUCCESS), C(PARTIAL), C(FAILED), C(IN_PROGRESS) or C(INCOMPATIBLE).
      type: str
      sample: SUCCESS
    indices:
      description: Indices in the snapshot, sorted.
      type: list
      elements: str
      sample: ['invenio-events-stats-record-view-2026-11']
    shards:
      description: Shard counts C(total), C(successful), C(failed).
      type: dict
      sample: {total: 2, successful: 2, failed: 0}
    duration_in_millis:
      description: How long the snapshot took.
      type: int
      sample: 412
    start_time:
      description: When it started (ISO 8601, UTC).
      type: str
    end_time:
      description: When it ended (ISO 8601, UTC).
      type: str
    failures:
      description: Shard failures as OpenSearch reports them.
      type: list
      elements: dict
    include_global_state:
      description: Whether the cluster state is in the snapshot.
      type: bool
    metadata:
      description: Metadata stored with the snapshot.
      type: dict
restore:
  description: What the restore did or, in check mode, would do.
  returned: when state is restored
  type: dict
  contains:
    indices:
      description: Target index names, sorted.
      type: list
      elements: str
      sample: ['restored-invenio-stats-file-download-2026-11']
    renamed:
      description: Map of index in the snapshot to the name it is restored as.
      type: dict
    data_streams:
      description: Target data stream names, sorted (a data stream is restored with its backing indices).
      type: list
      elements: str
      sample: ['invenio-job-logs']
    closed:
      description: Open target indices closed before restoring (O(existing_index=close)).
      type: list
      elements: str
    deleted:
      description: Open target indices deleted before restoring (O(existing_index=delete)).
      type: list
      elements: str
    deleted_data_streams:
      description: Existing target data streams deleted before restoring (O(existing_index=delete)).
      type: list
      elements: str
    safety_snapshot:
      description:
        - Name of the snapshot of the deleted indices and data streams taken just before deleting them
          (O(existing_index=delete)); null when nothing was deleted and in check mode.
      type: str
      sample: before-restore-of-stats-2026.11.30-20261201t101500123456z
    safety_snapshot_kept:
      description:
        - Whether RV(restore.safety_snapshot) is still in the repository. It is deleted after a successful restore
          (when waited for) and after a failed one whose deleted data was put back.
      type: bool
    shards:
      description: Shard counts of the restore, when waited for.
      type: dict
deleted:
  description: Snapshots deleted (or, in check mode, that would be) by retention, newest first.
  returned: when state is pruned
  type: list
  elements: str
  sample: ['stats-2026.10.01']
kept:
  description: Snapshots retention keeps, newest first (only those matching O(name_prefix)).
  returned: when state is pruned
  type: list
  elements: str
  sample: ['stats-2026.11.23', 'stats-2026.11.22']
'''

import datetime
import re
import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.rdmops.invenio.plugins.module_utils.opensearch_client import (
    OPENSEARCH_REQUIRED_TOGETHER,
    OpenSearchApi,
    OpenSearchModuleError,
    opensearch_argument_spec,
    path,
)
from ansible_collections.rdmops.invenio.plugins.module_utils.opensearch_snapshots import (
    DateMathError,
    missing_from_snapshot,
    plan_restore,
    resolve_snapshot_name,
    restore_targets,
    retention_rules,
    safety_snapshot_name,
    select_for_pruning,
)

POLL_SECONDS = 1


def summarise(info):
    """The parts of GET /_snapshot/{repo}/{name} a person needs."""
    if not info:
        return {}
    keys = ('snapshot', 'uuid', 'state', 'shards', 'duration_in_millis', 'start_time', 'end_time',
            'failures', 'include_global_state', 'metadata')
    summary = dict((key, info.get(key)) for key in keys if key in info)
    summary['indices'] = sorted(info.get('indices') or [])
    return summary


def failure_text(info):
    failures = info.get('failures') or []
    if not failures:
        return info.get('reason') or 'no shard failure reported'
    return '; '.join('%s[%s]: %s' % (item.get('index'), item.get('shard_id'), item.get('reason')) for item in failures[:10])


class SnapshotModule(object):

    def __init__(self, module, api):
        self.module = module
        self.api = api
        self.params = module.params
        self.repository = module.params['repository']

    def fail(self, msg, **result):
        self.module.fail_json(msg=msg, **result)

    def get_snapshot(self, name):
        try:
            answer = self.api.request('GET', path('_snapshot', self.repository, name),
                                      action="reading snapshot '%s' of repository '%s'" % (name, self.repository))
        except OpenSearchModuleError as error:
            if error.error_type == 'snapshot_missing_exception':
                return None
            if error.error_type == 'repository_missing_exception':
                self.fail("Repository '%s' is not registered: register it first with "
                          "rdmops.invenio.opensearch_snapshot_repository." % self.repository)
            raise
        snapshots = (answer or {}).get('snapshots') or []
        return snapshots[0] if snapshots else None

    def list_snapshots(self):
        try:
            answer = self.api.request('GET', path('_snapshot', self.repository, '_all'),
                                      action="listing snapshots of repository '%s'" % self.repository)
        except OpenSearchModuleError as error:
            if error.error_type == 'repository_missing_exception':
                self.fail("Repository '%s' is not registered: register it first with "
                          "rdmops.invenio.opensearch_snapshot_repository." % self.repository)
            raise
        return (answer or {}).get('snapshots') or []

    def wait_for(self, name):
        deadline = time.monotonic() + self.params['wait_timeout']
        while True:
            info = self.get_snapshot(name)
            if info is None or info.get('state') != 'IN_PROGRESS':
                return info
            if time.monotonic() >= deadline:
                self.fail("Snapshot '%s' is still IN_PROGRESS after %s seconds (wait_timeout); it carries on in the "
                          "cluster." % (name, self.params['wait_timeout']), changed=True, snapshot=summarise(info), name=name)
            time.sleep(POLL_SECONDS)

    def check_outcome(self, name, info, result):
        state = (info or {}).get('state')
        if state in ('PARTIAL', 'FAILED', 'INCOMPATIBLE') and not self.params['allow_partial']:
            self.fail("Snapshot '%s' in repository '%s' ended %s: %s. Fix the cause, delete it (state=absent) and take it "
                      "again, or set allow_partial=true to accept it." % (name, self.repository, state, failure_text(info)), **result)

    def resolved_name(self):
        try:
            return resolve_snapshot_name(self.params['name'], datetime.datetime.now(datetime.timezone.utc))
        except DateMathError as error:
            self.fail("Snapshot name '%s': %s" % (self.params['name'], error))

    # ----------------------------------------------------------------------------------------

    def present(self):
        name = self.resolved_name()
        result = dict(changed=False, name=name)
        info = self.get_snapshot(name)
        before = dict(snapshot=name, state=info.get('state') if info else 'absent')
        if info is not None:
            if info.get('state') == 'IN_PROGRESS' and self.params['wait'] and not self.module.check_mode:
                info = self.wait_for(name)
            result['snapshot'] = summarise(info)
            result['diff'] = dict(before=before, after=before)
            if self.params['wait']:
                self.check_outcome(name, info, result)
            return result

        result['changed'] = True
        wanted = dict(snapshot=name, state='NOT_TAKEN', indices=self.params['indices'] or ['*'])
        if self.module.check_mode:
            result['snapshot'] = wanted
            result['diff'] = dict(before=before, after=dict(snapshot=name, state='SUCCESS', indices=wanted['indices']))
            return result

        body = dict(ignore_unavailable=self.params['ignore_unavailable'], partial=self.params['partial'])
        if self.params['indices']:
            body['indices'] = ','.join(self.params['indices'])
        if self.params['include_global_state'] is not None:
            body['include_global_state'] = self.params['include_global_state']
        if self.params['metadata']:
            body['metadata'] = self.params['metadata']
        self.api.request('PUT', path('_snapshot', self.repository, name), params={'wait_for_completion': 'false'}, body=body,
                         action="taking snapshot '%s' in repository '%s'" % (name, self.repository))
        info = self.wait_for(name) if self.params['wait'] else self.get_snapshot(name)
        result['snapshot'] = summarise(info)
        result['diff'] = dict(before=before, after=dict(snapshot=name, state=(info or {}).get('state'), indices=result['snapshot'].get('indices')))
        if self.params['wait']:
            self.check_outcome(name, info, result)
        return result

    def absent(self):
        name = self.resolved_name()
        result = dict(changed=False, name=name, snapshot={})
        info = self.get_snapshot(name)
        if info is None:
            result['diff'] = dict(before={}, after={})
            return result
        result['changed'] = True
        result['diff'] = dict(before=dict(snapshot=name, state=info.get('state'), indices=sorted(info.get('indices') or [])), after={})
        if not self.module.check_mode:
            self.api.request('DELETE', path('_snapshot', self.repository, name), timeout=max(self.params['wait_timeout'], self.params['timeout']),
                             action="deleting snapshot '%s' of repository '%s'" % (name, self.repository))
        return result

    def existing_indices(self):
        answer = self.api.request('GET', '/_cat/indices', params={'format': 'json', 'h': 'index,status', 'expand_wildcards': 'all'},
                                  action='listing indices')
        return dict((row.get('index'), row.get('status')) for row in (answer or []))

    def existing_data_streams(self):
        answer = self.api.request('GET', '/_data_stream', action='listing data streams')
        return dict((stream.get('name'), [item.get('index_name') for item in stream.get('indices') or []])
                    for stream in (answer or {}).get('data_streams') or [])

    def restored(self):
        name = self.resolved_name()
        info = self.get_snapshot(name)
        if info is None:
            names = [snap.get('snapshot') for snap in self.list_snapshots()][-5:]
            self.fail("Snapshot '%s' is not in repository '%s' (newest there: %s)." % (name, self.repository, ', '.join(names) or 'none'))
        state = info.get('state')
        if state not in ('SUCCESS', 'PARTIAL') or (state == 'PARTIAL' and not self.params['allow_partial']):
            self.fail("Snapshot '%s' is %s and cannot be restored%s." % (
                name, state, ' without allow_partial=true' if state == 'PARTIAL' else ''), snapshot=summarise(info), name=name)
        try:
            selection = restore_targets(info.get('indices') or [], self.params['indices'], self.params['rename_pattern'],
                                        self.params['rename_replacement'], data_streams=info.get('data_streams') or [])
        except (ValueError, TypeError, re.error) as error:
            self.fail('Cannot work out the restored index names: %s' % error)
        targets, stream_targets = selection['indices'], selection['data_streams']
        if not targets:
            self.fail("No index or data stream in snapshot '%s' matches %s; it holds: %s." % (
                name, ', '.join(self.params['indices'] or []),
                ', '.join(sorted((info.get('indices') or []) + (info.get('data_streams') or []))) or 'nothing'))
        existing = self.existing_indices()
        existing_streams = self.existing_data_streams() if stream_targets else {}
        plan = plan_restore(targets, existing, self.params['existing_index'], stream_targets, existing_streams)
        restore = dict(indices=sorted(set(targets.values())), renamed=targets, data_streams=sorted(set(stream_targets.values())),
                       closed=plan['close'], deleted=plan['delete'], deleted_data_streams=plan['delete_streams'])
        result = dict(changed=False, name=name, snapshot=summarise(info), restore=restore)
        before = dict((target, existing.get(target, 'absent')) for target in restore['indices'])
        before.update((stream, 'data stream' if stream in existing_streams else 'absent') for stream in restore['data_streams'])
        result['diff'] = dict(before=dict(indices=before),
                              after=dict(indices=dict((target, 'restored from %s' % name) for target in before)))
        restore.update(safety_snapshot=None, safety_snapshot_kept=False)
        if plan['error']:
            self.fail(plan['error'], **result)
        result['changed'] = True
        if self.module.check_mode:
            return result

        doomed = plan['delete'] + plan['delete_streams']
        safety = self.take_safety_snapshot(name, plan, existing_streams, result) if doomed else None
        restore.update(safety_snapshot=safety, safety_snapshot_kept=bool(safety))
        done = dict(delete_streams=[], close=[], delete=[])
        try:
            if plan['delete_streams']:
                self.api.request('DELETE', path('_data_stream', ','.join(plan['delete_streams'])),
                                 action='deleting data streams %s before the restore' % ', '.join(plan['delete_streams']))
                done['delete_streams'] = plan['delete_streams']
            if plan['close']:
                self.api.request('POST', path(','.join(plan['close']), '_close'), action='closing %s before the restore' % ', '.join(plan['close']))
                done['close'] = plan['close']
            if plan['delete']:
                self.api.request('DELETE', path(','.join(plan['delete'])), action='deleting %s before the restore' % ', '.join(plan['delete']))
                done['delete'] = plan['delete']
            answer = self.api.request('POST', path('_snapshot', self.repository, name, '_restore'),
                                      params={'wait_for_completion': 'true' if self.params['wait'] else 'false'},
                                      body=self.restore_body(selection['request']),
                                      timeout=self.params['wait_timeout'] if self.params['wait'] else None,
                                      action="restoring snapshot '%s' of repository '%s'" % (name, self.repository))
        except OpenSearchModuleError as error:
            self.fail('%s. %s' % (error.msg.rstrip('.'), self.undo_preparation(safety, done, result)), **result)
        restored = (answer or {}).get('snapshot') or {}
        if restored:
            restore['shards'] = restored.get('shards')
            failed = (restored.get('shards') or {}).get('failed') or 0
            if failed:
                kept = (" The replaced data of %s is in snapshot '%s' of repository '%s', which the module keeps."
                        % (', '.join(doomed), safety, self.repository)) if safety else ''
                self.fail("Restore of snapshot '%s' finished with %s failed shard(s) of %s; check the cluster log and "
                          "GET /_cat/recovery.%s" % (name, failed, (restored.get('shards') or {}).get('total'), kept), **result)
        if safety and not self.params['wait']:
            self.module.warn("The safety snapshot '%s' of %s is kept while the restore runs (wait=false): delete it with "
                             "state=absent once the restore has finished." % (safety, ', '.join(doomed)))
        elif safety:
            try:
                self.delete_snapshot(safety)
                restore['safety_snapshot_kept'] = False
            except OpenSearchModuleError as error:
                self.module.warn("The restore succeeded, but the safety snapshot '%s' taken before deleting %s could not be "
                                 "deleted: %s Delete it with state=absent." % (safety, ', '.join(doomed), error.msg))
        return result

    def restore_body(self, names):
        body = dict(indices=','.join(names), ignore_unavailable=self.params['ignore_unavailable'], partial=self.params['allow_partial'])
        if self.params['rename_pattern']:
            body['rename_pattern'] = self.params['rename_pattern']
            body['rename_replacement'] = self.params['rename_replacement']
        if self.params['include_global_state'] is not None:
            body['include_global_state'] = self.params['include_global_state']
        return body

    def delete_snapshot(self, name):
        self.api.request('DELETE', path('_snapshot', self.repository, name), timeout=max(self.params['wait_timeout'], self.params['timeout']),
                         action="deleting snapshot '%s' of repository '%s'" % (name, self.repository))

    def take_safety_snapshot(self, name, plan, existing_streams, result):
        """Snapshot exactly the indices and data streams existing_index=delete is about to delete; fail if that fails.

        ignore_unavailable gets a data stream name past the security plugin's index lookup (as restore-search.yml does);
        the snapshot is then checked to hold every index and stream to be deleted.
        """
        doomed = plan['delete'] + plan['delete_streams']
        safety = safety_snapshot_name(name, datetime.datetime.now(datetime.timezone.utc))
        try:
            answer = self.api.request('PUT', path('_snapshot', self.repository, safety), params={'wait_for_completion': 'true'},
                                      body=dict(indices=','.join(doomed), include_global_state=False, ignore_unavailable=True,
                                                partial=False, metadata=dict(taken_by='rdmops.invenio.opensearch_snapshot',
                                                                             reason='before restoring %s over these indices' % name)),
                                      timeout=self.params['wait_timeout'],
                                      action="taking safety snapshot '%s' of %s" % (safety, ', '.join(doomed)))
        except OpenSearchModuleError as error:
            try:
                started = self.get_snapshot(safety)
            except OpenSearchModuleError:
                started = {'state': 'unknown (it could not be read)'}
            left = (" Snapshot '%s' is in repository '%s' (state %s): delete it with state=absent." % (
                safety, self.repository, started.get('state'))) if started else ''
            self.fail('%s. Nothing was deleted or restored: existing_index=delete first snapshots what it deletes.%s'
                      % (error.msg.rstrip('.'), left), **dict(result, changed=bool(started)))
        info = (answer or {}).get('snapshot') or {}
        missing = missing_from_snapshot(info, plan['delete'], plan['delete_streams'], existing_streams)
        if info.get('state') != 'SUCCESS' or missing:
            kept = False
            try:
                self.delete_snapshot(safety)
                cleanup = 'it is deleted again'
            except OpenSearchModuleError as error:
                kept = True
                cleanup = 'it could not be deleted (%s): delete it with state=absent' % error.msg.rstrip('.')
            outcome = ('does not hold %s' % ', '.join(missing)) if missing else 'ended %s (%s)' % (info.get('state'), failure_text(info))
            self.fail("Safety snapshot '%s' of %s %s and %s. Nothing was deleted or restored: existing_index=delete first "
                      "snapshots what it deletes." % (safety, ', '.join(doomed), outcome, cleanup), **dict(result, changed=kept))
        return safety

    def undo_preparation(self, safety, done, result):
        """After a failed restore request: put back what was deleted, reopen what was closed; say what happened.

        Sets result['changed'] to whether anything is left different from before the run.
        """
        said = []
        left = False
        deleted = done['delete'] + done['delete_streams']
        if deleted:
            names, them = ', '.join(deleted), 'it' if len(deleted) == 1 else 'them'
            try:
                answer = self.api.request('POST', path('_snapshot', self.repository, safety, '_restore'),
                                          params={'wait_for_completion': 'true'},
                                          body=dict(indices=','.join(deleted), include_global_state=False, ignore_unavailable=True),
                                          timeout=self.params['wait_timeout'],
                                          action="putting back %s from safety snapshot '%s'" % (names, safety))
                shards = ((answer or {}).get('snapshot') or {}).get('shards') or {}
                if shards.get('failed'):
                    raise OpenSearchModuleError('%s of %s shard(s) failed' % (shards.get('failed'), shards.get('total')))
                indices = self.existing_indices()
                streams = self.existing_data_streams() if done['delete_streams'] else {}
                absent = [index for index in done['delete'] if index not in indices] + \
                    [stream for stream in done['delete_streams'] if stream not in streams]
                if absent:
                    raise OpenSearchModuleError('OpenSearch did not bring back %s' % ', '.join(absent))
            except OpenSearchModuleError as error:
                left = True
                said.append("It had deleted %s before restoring and could not put %s back (%s). The data is in snapshot '%s' "
                            "of repository '%s', which the module keeps: restore it with state=restored, name=%s."
                            % (names, them, error.msg.rstrip('.'), safety, self.repository, safety))
            else:
                said.append("It had deleted %s before restoring and put %s back from the safety snapshot '%s' taken just "
                            "before." % (names, them, safety))
        if safety and not left:
            try:
                self.delete_snapshot(safety)
                result['restore']['safety_snapshot_kept'] = False
                said.append("The safety snapshot '%s' is deleted again." % safety)
            except OpenSearchModuleError as error:
                left = True
                said.append("The safety snapshot '%s' could not be deleted (%s): delete it with state=absent."
                            % (safety, error.msg.rstrip('.')))
        if done['close']:
            names, them = ', '.join(done['close']), 'it' if len(done['close']) == 1 else 'them'
            try:
                self.api.request('POST', path(','.join(done['close']), '_open'), action='opening %s again' % names)
                said.append('It had closed %s before restoring and opened %s again.' % (names, them))
            except OpenSearchModuleError as error:
                left = True
                said.append('It had closed %s before restoring and could not open %s again (%s): open %s with POST /%s/_open.'
                            % (names, them, error.msg.rstrip('.'), them, ','.join(done['close'])))
        result['changed'] = left
        if not deleted and not done['close']:
            said.insert(0, 'Nothing had been closed or deleted.')
        return ' '.join(said)

    def pruned(self):
        try:
            keep_last, max_age = retention_rules(self.params['keep_last'], self.params['max_age'])
        except ValueError as error:
            self.fail(str(error))
        snapshots = self.list_snapshots()
        delete, keep = select_for_pruning(snapshots, int(time.time() * 1000), keep_last=keep_last,
                                          max_age_seconds=max_age, name_prefix=self.params['name_prefix'])
        result = dict(changed=bool(delete), deleted=delete, kept=keep,
                      diff=dict(before=dict(snapshots=sorted(delete + keep)), after=dict(snapshots=sorted(keep))))
        if delete and not self.module.check_mode:
            for name in delete:
                self.api.request('DELETE', path('_snapshot', self.repository, name), timeout=max(self.params['wait_timeout'], self.params['timeout']),
                                 action="deleting snapshot '%s' of repository '%s'" % (name, self.repository))
        return result


def main():
    argument_spec = opensearch_argument_spec()
    argument_spec.update(
        repository=dict(type='str', required=True),
        name=dict(type='str'),
        state=dict(type='str', choices=['present', 'absent', 'restored', 'pruned'], default='present'),
        indices=dict(type='list', elements='str'),
        include_global_state=dict(type='bool'),
        ignore_unavailable=dict(type='bool', default=False),
        partial=dict(type='bool', default=False),
        allow_partial=dict(type='bool', default=False),
        metadata=dict(type='dict'),
        wait=dict(type='bool', default=True),
        wait_timeout=dict(type='int', default=3600),
        rename_pattern=dict(type='str'),
        rename_replacement=dict(type='str'),
        existing_index=dict(type='str', choices=['fail', 'close', 'delete'], default='fail'),
        keep_last=dict(type='int'),
        max_age=dict(type='str'),
        name_prefix=dict(type='str'),
    )
    module = AnsibleModule(
        argument_spec=argument_spec,
        required_together=OPENSEARCH_REQUIRED_TOGETHER + [('rename_pattern', 'rename_replacement')],
        required_if=[
            ('state', 'present', ('name',)),
            ('state', 'absent', ('name',)),
            ('state', 'restored', ('name',)),
            ('state', 'pruned', ('keep_last', 'max_age'), True),
        ],
        supports_check_mode=True,
    )
    api = OpenSearchApi(module)
    runner = SnapshotModule(module, api)
    try:
        result = getattr(runner, module.params['state'])()
    except OpenSearchModuleError as error:
        module.fail_json(msg=error.msg)
    module.exit_json(**result)


if __name__ == '__main__':
    main()
