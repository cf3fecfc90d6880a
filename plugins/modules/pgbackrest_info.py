#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: rdmops.invenio developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: pgbackrest_info
short_description: Read the state of a pgBackRest stanza and its backups
version_added: 0.1.0
description:
  - Runs C(pgbackrest --stanza=STANZA --output=json info) and returns what playbooks and people need from it, parsed,
    instead of Jinja over the raw JSON - whether the stanza exists and is reachable, its backups (newest last), the
    system identifier and version of the database it backs up, and the WAL range in the archive.
  - Read-only; the same in check mode. Run it as an account that may read the repository (the repository owner on
    the repository host, or C(postgres) on the primary, which reads it over SSH).
options:
  stanza:
    description: Name of the stanza.
    type: str
    required: true
  config:
    description: pgBackRest configuration file; default is pgBackRest's own (C(/etc/pgbackrest.conf) and its include directory).
    type: path
attributes:
  check_mode:
    support: full
    description: Reads only.
  diff_mode:
    support: none
    description: Nothing changes, so there is no difference to show.
author:
  - rdmops.invenio developers (@rdmops)
'''

EXAMPLES = r'''
- name: The repository holds a backup to restore
  rdmops.invenio.pgbackrest_info:
    stanza: main
  become: true
  become_user: pgbackrest
  register: repository

- name: Newest backup
  ansible.builtin.debug:
    msg: "{{ repository.newest.label }} ({{ repository.newest.type }}), {{ repository.backups | length }} backups"
  when: repository.restorable
'''

RETURN = r'''
stanza:
  description: The stanza asked for.
  returned: always
  type: str
  sample: main
status_code:
  description: pgBackRest's stanza status code (0 ok, 1 or 3 missing stanza, 2 no valid backup, 99 repository unreachable).
  returned: always
  type: int
  sample: 0
status_message:
  description: pgBackRest's words for the status.
  returned: always
  type: str
  sample: ok
exists:
  description: The stanza exists in the repository.
  returned: always
  type: bool
reachable:
  description: False when pgBackRest could not read a repository (status 99); RV(repo_messages) says why.
  returned: always
  type: bool
restorable:
  description: The stanza is ok and holds at least one backup.
  returned: always
  type: bool
repo_messages:
  description: Status messages of the repositories, the failing ones when some failed.
  returned: always
  type: list
  elements: str
cipher:
  description: Cipher of the repository (C(none) when unencrypted).
  returned: always
  type: str
  sample: aes-256-cbc
system_id:
  description: System identifier of the database the stanza currently backs up, as a string.
  returned: always
  type: str
  sample: "7440000000000000000"
pg_version:
  description: PostgreSQL version of that database.
  returned: always
  type: str
  sample: "15"
backups:
  description: Every backup, oldest first.
  returned: always
  type: list
  elements: dict
  contains:
    label:
      description: Backup label.
      type: str
      sample: 20261203-101500F
    type:
      description: full, diff or incr.
      type: str
    start:
      description: Start time (Unix seconds).
      type: int
    stop:
      description: Stop time (Unix seconds).
      type: int
    duration_seconds:
      description: stop - start.
      type: int
    size:
      description: Database size in the backup (bytes).
      type: int
    repository_delta:
      description: Bytes this backup added to the repository.
      type: int
    wal_start:
      description: First WAL segment the backup needs.
      type: str
    wal_stop:
      description: Last WAL segment the backup needs.
      type: str
newest:
  description: The newest backup (as in RV(backups)), or null.
  returned: always
  type: dict
wal_min:
  description: Oldest WAL segment archived for the current database.
  returned: always
  type: str
wal_max:
  description: Newest WAL segment archived for the current database.
  returned: always
  type: str
'''

import json

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.rdmops.invenio.plugins.module_utils._pgbackrest import InfoError, summarize


def main():
    module = AnsibleModule(
        argument_spec=dict(
            stanza=dict(type='str', required=True),
            config=dict(type='path'),
        ),
        supports_check_mode=True,
    )
    stanza = module.params['stanza']
    binary = module.get_bin_path('pgbackrest', required=False)
    if binary is None:
        module.fail_json(msg='pgbackrest is not installed on this host: converge the pgbackrest role first')
    command = [binary, '--stanza=%s' % stanza, '--output=json']
    if module.params['config']:
        command.append('--config=%s' % module.params['config'])
    command.append('info')
    rc, out, err = module.run_command(command)
    if rc != 0:
        detail = ' '.join(line.strip() for line in (err or out).strip().splitlines()) or 'no output'
        module.fail_json(msg="pgbackrest info of stanza '%s' failed (exit code %s): %s" % (stanza, rc, detail), rc=rc)
    try:
        summary = summarize(json.loads(out), stanza)
    except (ValueError, InfoError) as error:
        module.fail_json(msg="cannot read pgbackrest info of stanza '%s': %s" % (stanza, error))
    module.exit_json(changed=False, **summary)


if __name__ == '__main__':
    main()
