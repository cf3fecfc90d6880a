#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: rdmops.invenio developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: opensearch_snapshot_repository
short_description: Register, update, verify or remove an OpenSearch snapshot repository
version_added: 0.1.0
description:
  - Registers a snapshot repository (C(PUT /_snapshot/<name>)) when it is missing or when one of the settings
    given in O(settings) differs from what the cluster reports, and removes it with O(state=absent).
  - Only the settings listed in O(settings) are compared. OpenSearch reports every setting value as a string,
    so V(true) matches V("true") and V(40) matches V("40"); nested dictionaries compare with their flattened
    dotted keys.
  - When the repository is (re)registered, it is defined by exactly O(type) and O(settings); settings the
    cluster had that are not listed are dropped.
  - With O(verify=true) every run ends with C(POST /_snapshot/<name>/_verify) and fails naming the nodes that
    could not write to the repository. Verification also runs when nothing changed, so that a repository that
    became unwritable (a full or unmounted disk) is reported; it is skipped in check mode.
  - When verification fails after this run registered or changed the repository, the module undoes that. It
    removes a repository it created, or registers the previous definition again, then reads the repository back
    and says in its error whether the cluster reports it as before the run. A repository that was already
    defined that way is left as it is.
  - Removing a repository only unregisters it; the snapshot files stay where they are.
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
  name:
    description:
      - Name of the repository.
    type: str
    required: true
  state:
    description:
      - V(present) registers or updates the repository, V(absent) unregisters it.
    type: str
    choices: [present, absent]
    default: present
  type:
    description:
      - Repository type. V(fs) (a shared file system directory that must lie under C(path.repo) on every node)
        and V(url) (read-only) are built in; V(s3), V(azure), V(gcs) and V(hdfs) need the matching
        C(repository-*) plugin on every node.
      - A free string rather than a fixed list, because plugins add types; a type the cluster does not know
        fails with a message saying which plugin is missing.
      - Required when O(state=present).
    type: str
  settings:
    description:
      - Type-specific settings passed through as they are, for example C(location), C(compress),
        C(chunk_size), C(max_snapshot_bytes_per_sec) for V(fs), or C(bucket), C(base_path), C(client) for V(s3).
      - Secrets such as S3 keys belong in the OpenSearch keystore, not here.
    type: dict
    default: {}
  verify:
    description:
      - Verify that every node can write to the repository, and fail naming the nodes that cannot.
      - A registration or change made by this run that fails verification is undone (see the description).
    type: bool
    default: true
seealso:
  - module: rdmops.invenio.opensearch_snapshot
'''

EXAMPLES = r'''
- name: Backups of the search indices go to the shared backup directory
  rdmops.invenio.opensearch_snapshot_repository:
    hosts: ['https://search1.example.org:9200']
    ca_path: /etc/opensearch/root-ca.pem
    username: snapshot-admin
    password: "{{ opensearch_snapshot_password }}"
    name: invenio-backups
    type: fs
    settings:
      location: /srv/opensearch-snapshots/invenio
      compress: true
      max_snapshot_bytes_per_sec: 40mb

- name: Snapshots of the statistics indices go to object storage
  rdmops.invenio.opensearch_snapshot_repository:
    name: invenio-s3
    type: s3
    settings:
      bucket: invenio-search-snapshots
      base_path: production
      client: default

- name: The old repository is no longer registered
  rdmops.invenio.opensearch_snapshot_repository:
    name: legacy
    state: absent
'''

RETURN = r'''
repository:
  description:
    - The repository definition as the cluster reports it after the run (every setting value a string),
      or what it would be in check mode. Empty when the repository is absent.
  returned: always
  type: dict
  sample:
    type: fs
    settings:
      location: /srv/opensearch-snapshots/invenio
      compress: "true"
verified_nodes:
  description:
    - Names of the nodes that proved they can write to the repository. Empty when not verified.
  returned: always
  type: list
  elements: str
  sample: ['search1']
changes:
  description:
    - The compared settings that differed, each as a list of the current and the wanted value.
  returned: when state is present
  type: dict
  sample: {compress: ["false", "true"]}
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.rdmops.invenio.plugins.module_utils.opensearch_client import (
    OPENSEARCH_REQUIRED_TOGETHER,
    OpenSearchApi,
    OpenSearchModuleError,
    nodes_named_in,
    opensearch_argument_spec,
    path,
)
from ansible_collections.rdmops.invenio.plugins.module_utils.opensearch_snapshots import (
    nodes_rejecting_location,
    normalise_settings,
    repository_changes,
)

BUILT_IN_TYPES = ('fs', 'url')
PLUGIN_FOR_TYPE = {'s3': 'repository-s3', 'azure': 'repository-azure', 'gcs': 'repository-gcs', 'hdfs': 'repository-hdfs'}


def describe_definition(definition):
    """The part of a repository definition that diff and return show: type and flattened string settings."""
    if not definition:
        return {}
    return dict(type=definition.get('type'), settings=normalise_settings(definition.get('settings') or {}))


def path_repo_message(name, location, node_path_repo, reason):
    rejecting = nodes_rejecting_location(location, node_path_repo) if node_path_repo else []
    if rejecting:
        where = '; '.join("node '%s' has path.repo %s" % (node, node_path_repo[node] or '(empty)') for node in rejecting)
    else:
        where = 'the node(s) did not list it in path.repo'
    return ("Repository '%s': location '%s' is outside path.repo on %s (%s). Add the directory or a parent of it "
            "to path.repo in opensearch.yml on every node and restart the nodes. OpenSearch said: %s"
            % (name, location, ', '.join(rejecting) or 'the cluster', where, reason))


def unknown_type_message(name, repo_type, reason):
    plugin = PLUGIN_FOR_TYPE.get(repo_type)
    hint = ("install the %s plugin on every node (bin/opensearch-plugin install %s) and restart them" % (plugin, plugin)
            if plugin else "use fs or url, or install the plugin that provides this type on every node")
    return ("Repository '%s': type '%s' is not known to this cluster: %s. OpenSearch said: %s"
            % (name, repo_type, hint, reason))


def explain_put_failure(api, name, repo_type, settings, error):
    reason = error.reason or error.msg
    if error.status is not None and 'path.repo' in (reason or ''):
        location = str(normalise_settings(settings).get('location', ''))
        return path_repo_message(name, location, api.node_path_repo(), reason)
    if error.status is not None and 'repository type' in (reason or '') and 'does not exist' in (reason or ''):
        return unknown_type_message(name, repo_type, reason)
    return error.msg


def verify(api, name):
    """Run repository verification; return the verified node names or raise with the failing nodes named."""
    try:
        answer = api.request('POST', path('_snapshot', name, '_verify'), action="verifying repository '%s'" % name)
    except OpenSearchModuleError as error:
        if error.status is None or error.status in (401, 403):
            raise
        nodes = api.node_names()
        failing = nodes_named_in(error.reason or '', nodes)
        if not failing and ('cluster-manager' in (error.reason or '') or 'master' in (error.reason or '')):
            failing = ['%s (the cluster-manager node)' % (api.cluster_manager_name() or '?')]
        raise OpenSearchModuleError(
            "Repository '%s': verification failed: node(s) %s could not write to it. Make the "
            "location writable by the OpenSearch service user on every node (a shared file system for clusters of "
            "more than one node). OpenSearch said: %s." % (name, ', '.join(failing) or '(not named by OpenSearch)', error.reason or error.msg),
            status=error.status, error_type=error.error_type, reason=error.reason)
    return sorted(node.get('name') or node_id for node_id, node in ((answer or {}).get('nodes') or {}).items())


def definition_text(definition):
    described = describe_definition(definition)
    settings = ', '.join('%s=%s' % item for item in sorted(described['settings'].items()))
    return 'type %s%s' % (described['type'], (', ' + settings) if settings else '')


def put_back(api, name, previous):
    """Undo this run's registration after a failed verification.

    previous is the definition GET returned before the run, or None when the run created the repository. Returns a
    sentence for the error and describe_definition() of what the cluster has afterwards, None when unknown.
    """
    what = 'registered it in this run' if previous is None else 'changed its definition in this run'
    try:
        if previous is None:
            api.request('DELETE', path('_snapshot', name), action="removing repository '%s' again" % name)
        else:
            api.request('PUT', path('_snapshot', name), params={'verify': 'false'},
                        body=dict(type=previous.get('type'), settings=previous.get('settings') or {}),
                        action="registering the previous definition of repository '%s' again" % name)
        answer = api.request('GET', path('_snapshot', name), ignore=(404,), action="reading repository '%s'" % name)
    except OpenSearchModuleError as error:
        return ("The module had %s and could not undo that: %s Repository '%s' may be left as this run registered it."
                % (what, error.msg, name), None)
    now = (answer or {}).get(name)
    if describe_definition(now) == describe_definition(previous):
        if previous is None:
            return ("The module had registered it in this run and removed it again: the cluster has no repository '%s', "
                    "as before the run." % name, {})
        return ("The module had changed its definition in this run and registered the previous one again (%s): "
                "the cluster reports it as before the run." % definition_text(previous), describe_definition(now))
    return ("The module had %s and tried to undo that, but the cluster now reports %s (before the run: %s)."
            % (what, definition_text(now) if now else 'no repository', definition_text(previous) if previous else 'no repository'),
            describe_definition(now))


def run(module, api):
    params = module.params
    name = params['name']
    result = dict(changed=False, repository={}, verified_nodes=[])

    answer = api.request('GET', path('_snapshot', name), ignore=(404,), action="reading repository '%s'" % name)
    current = (answer or {}).get(name)
    before = describe_definition(current)

    if params['state'] == 'absent':
        if current is not None:
            result['changed'] = True
            if not module.check_mode:
                api.request('DELETE', path('_snapshot', name), action="removing repository '%s'" % name)
        result['diff'] = dict(before=before, after={})
        return result

    repo_type = params['type']
    settings = params['settings'] or {}
    changes = repository_changes(current, repo_type, settings)
    result['changes'] = dict((key, [have, want]) for key, (have, want) in changes['settings'].items())
    wanted = dict(type=repo_type, settings=normalise_settings(settings))

    if changes['action']:
        result['changed'] = True
        if module.check_mode:
            if repo_type == 'fs' and 'location' in settings:
                node_path_repo = api.node_path_repo()
                location = str(settings['location'])
                if node_path_repo and nodes_rejecting_location(location, node_path_repo):
                    module.fail_json(msg=path_repo_message(name, location, node_path_repo, 'not tried in check mode'), **result)
        else:
            try:
                api.request('PUT', path('_snapshot', name), params={'verify': 'false'},
                            body=dict(type=repo_type, settings=settings),
                            action="registering repository '%s'" % name)
            except OpenSearchModuleError as error:
                result['changed'] = False
                module.fail_json(msg=explain_put_failure(api, name, repo_type, settings, error), **result)

    if module.check_mode:
        result['repository'] = wanted if changes['action'] else before
    else:
        answer = api.request('GET', path('_snapshot', name), action="reading repository '%s'" % name)
        result['repository'] = describe_definition((answer or {}).get(name))
    result['diff'] = dict(before=before, after=result['repository'])

    if params['verify'] and not module.check_mode:
        try:
            result['verified_nodes'] = verify(api, name)
        except OpenSearchModuleError as error:
            if not changes['action']:
                module.fail_json(msg='%s It was registered this way before the run; nothing was changed.' % error.msg, **result)
            undone, now = put_back(api, name, current)
            if now is not None:
                result['repository'] = now
                result['changed'] = now != before
            result['diff'] = dict(before=before, after=result['repository'])
            module.fail_json(msg='%s %s' % (error.msg, undone), **result)
    return result


def main():
    argument_spec = opensearch_argument_spec()
    argument_spec.update(
        name=dict(type='str', required=True),
        state=dict(type='str', choices=['present', 'absent'], default='present'),
        type=dict(type='str'),
        settings=dict(type='dict', default={}),
        verify=dict(type='bool', default=True),
    )
    module = AnsibleModule(
        argument_spec=argument_spec,
        required_together=OPENSEARCH_REQUIRED_TOGETHER,
        required_if=[('state', 'present', ('type',))],
        supports_check_mode=True,
    )
    api = OpenSearchApi(module)
    try:
        result = run(module, api)
    except OpenSearchModuleError as error:
        module.fail_json(msg=error.msg)
    module.exit_json(**result)


if __name__ == '__main__':
    main()
