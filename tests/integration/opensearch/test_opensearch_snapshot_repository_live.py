# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""rdmops.invenio.opensearch_snapshot_repository against a real OpenSearch 2.x node."""

from __future__ import absolute_import, division, print_function

import os
import socket
import subprocess

MODULE = 'opensearch_snapshot_repository'


def location(opensearch, name):
    return os.path.join(opensearch.path_repo, name)


def test_a_new_fs_repository_is_registered_and_verified(opensearch, run_module):
    result = run_module(MODULE, dict(name='it-create', type='fs', settings=dict(location=location(opensearch, 'create'), compress=True)))
    assert result.get('failed') is not True, result.get('msg')
    assert result['changed'] is True
    assert result['repository'] == {'type': 'fs', 'settings': {'location': location(opensearch, 'create'), 'compress': 'true'}}
    assert result['verified_nodes'] == ['rdmops-it-node']
    assert result['diff']['before'] == {}
    live = opensearch.request('GET', '/_snapshot/it-create')
    assert live['it-create']['settings']['compress'] == 'true'


def test_the_same_definition_again_changes_nothing(opensearch, run_module):
    args = dict(name='it-idem', type='fs', settings=dict(location=location(opensearch, 'idem'), compress=True,
                                                         max_snapshot_bytes_per_sec='40mb', chunk_size='64mb'))
    first = run_module(MODULE, args)
    assert first['changed'] is True, first.get('msg')
    second = run_module(MODULE, args)
    assert second.get('failed') is not True, second.get('msg')
    assert second['changed'] is False
    assert second['changes'] == {}
    assert second['verified_nodes'] == ['rdmops-it-node']


def test_a_changed_setting_is_applied_and_shown_in_the_diff(opensearch, run_module):
    args = dict(name='it-update', type='fs', settings=dict(location=location(opensearch, 'update'), compress=False))
    assert run_module(MODULE, args)['changed'] is True
    args['settings']['compress'] = True
    result = run_module(MODULE, args)
    assert result['changed'] is True
    assert result['changes'] == {'compress': ['false', 'true']}
    assert result['diff']['before']['settings']['compress'] == 'false'
    assert result['diff']['after']['settings']['compress'] == 'true'
    assert opensearch.request('GET', '/_snapshot/it-update')['it-update']['settings']['compress'] == 'true'


def test_check_mode_reports_without_registering(opensearch, run_module):
    args = dict(name='it-check', type='fs', settings=dict(location=location(opensearch, 'check')))
    result = run_module(MODULE, args, check=True)
    assert result['changed'] is True
    assert result['repository']['settings']['location'] == location(opensearch, 'check')
    assert 'it-check' not in opensearch.request('GET', '/_snapshot/_all')
    assert run_module(MODULE, args)['changed'] is True
    args['settings']['compress'] = True
    checked = run_module(MODULE, args, check=True)
    assert checked['changed'] is True and checked['diff']['after']['settings']['compress'] == 'true'
    assert 'compress' not in opensearch.request('GET', '/_snapshot/it-check')['it-check']['settings']


def test_a_location_outside_path_repo_is_explained(opensearch, run_module):
    outside = os.path.join(opensearch.base, 'not-in-path-repo')
    result = run_module(MODULE, dict(name='it-outside', type='fs', settings=dict(location=outside)))
    assert result['failed'] is True
    assert 'path.repo' in result['msg'] and 'rdmops-it-node' in result['msg'] and outside in result['msg']
    assert opensearch.path_repo in result['msg']
    checked = run_module(MODULE, dict(name='it-outside', type='fs', settings=dict(location=outside)), check=True)
    assert checked['failed'] is True and 'path.repo' in checked['msg'] and 'rdmops-it-node' in checked['msg']
    assert 'it-outside' not in opensearch.request('GET', '/_snapshot/_all')


def test_an_unknown_repository_type_names_the_missing_plugin(run_module):
    result = run_module(MODULE, dict(name='it-s3', type='s3', settings=dict(bucket='nowhere')))
    assert result['failed'] is True
    assert "type 's3'" in result['msg'] and 'repository-s3' in result['msg']


def readonly_location(opensearch, name):
    """A directory under path.repo the node (user rdmops-test) cannot write to."""
    path = location(opensearch, name)
    os.makedirs(path)
    os.chown(path, 0, 0)
    os.chmod(path, 0o555)
    return path


def test_a_repository_nodes_cannot_write_fails_verification_naming_the_node_and_is_removed_again(opensearch, run_module):
    readonly = readonly_location(opensearch, 'readonly')
    result = run_module(MODULE, dict(name='it-readonly', type='fs', settings=dict(location=readonly)))
    assert result['failed'] is True
    assert result['msg'].startswith("Repository 'it-readonly': verification failed: node(s) rdmops-it-node (the cluster-manager node) could not write to it.")
    assert result['msg'].endswith("The module had registered it in this run and removed it again: the cluster has no "
                                  "repository 'it-readonly', as before the run.")
    assert result['changed'] is False and result['repository'] == {}
    assert 'it-readonly' not in opensearch.request('GET', '/_snapshot/_all')
    without = run_module(MODULE, dict(name='it-readonly', type='fs', settings=dict(location=readonly), verify=False))
    assert without.get('failed') is not True and without['changed'] is True and without['verified_nodes'] == []
    again = run_module(MODULE, dict(name='it-readonly', type='fs', settings=dict(location=readonly)))
    assert again['failed'] is True and again['changed'] is False
    assert again['msg'].endswith('It was registered this way before the run; nothing was changed.')
    assert opensearch.request('GET', '/_snapshot/it-readonly')['it-readonly']['settings']['location'] == readonly


def test_a_changed_definition_that_fails_verification_is_put_back(opensearch, run_module):
    writable = location(opensearch, 'revert')
    settings = dict(location=writable, compress=True, max_snapshot_bytes_per_sec='40mb')
    first = run_module(MODULE, dict(name='it-revert', type='fs', settings=settings))
    assert first.get('failed') is not True, first.get('msg')
    before = opensearch.request('GET', '/_snapshot/it-revert')
    readonly = readonly_location(opensearch, 'revert-readonly')
    result = run_module(MODULE, dict(name='it-revert', type='fs', settings=dict(location=readonly, compress=False)))
    assert result['failed'] is True
    assert result['msg'].startswith("Repository 'it-revert': verification failed: node(s) rdmops-it-node (the cluster-manager node) could not write to it.")
    assert result['msg'].endswith(
        'The module had changed its definition in this run and registered the previous one again (type fs, '
        'compress=true, location=%s, max_snapshot_bytes_per_sec=40mb): the cluster reports it as before the run.' % writable)
    assert result['changed'] is False
    assert result['repository'] == result['diff']['before'] == result['diff']['after']
    assert opensearch.request('GET', '/_snapshot/it-revert') == before


def test_a_repository_is_removed_once(opensearch, run_module):
    assert run_module(MODULE, dict(name='it-remove', type='fs', settings=dict(location=location(opensearch, 'remove'))))['changed']
    checked = run_module(MODULE, dict(name='it-remove', state='absent'), check=True)
    assert checked['changed'] is True and 'it-remove' in opensearch.request('GET', '/_snapshot/_all')
    removed = run_module(MODULE, dict(name='it-remove', state='absent'))
    assert removed['changed'] is True and removed['diff']['after'] == {}
    assert 'it-remove' not in opensearch.request('GET', '/_snapshot/_all')
    assert run_module(MODULE, dict(name='it-remove', state='absent'))['changed'] is False


def test_an_unreachable_cluster_names_the_hosts_tried(run_module):
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        port = sock.getsockname()[1]
    hosts = ['http://127.0.0.1:%d' % port]
    result = run_module(MODULE, dict(name='x', type='fs', settings=dict(location='/x'), timeout=5), hosts=hosts)
    assert result['failed'] is True
    assert 'Could not reach OpenSearch' in result['msg'] and hosts[0] in result['msg']


def test_a_missing_opensearch_py_is_reported_as_such(run_module, tmp_path):
    """A Python without opensearch-py (a fresh venv without site packages) gets Ansible's missing-library message."""
    venv = tmp_path / 'bare'
    subprocess.run(['python3', '-m', 'venv', '--without-pip', str(venv)], check=True)
    python = str(venv / 'bin' / 'python')
    assert subprocess.run([python, '-c', 'import opensearchpy'], stderr=subprocess.DEVNULL, check=False).returncode != 0
    saved = run_module.env['ANSIBLE_PYTHON_INTERPRETER']
    run_module.env['ANSIBLE_PYTHON_INTERPRETER'] = python
    try:
        result = run_module(MODULE, dict(name='x', type='fs'))
    finally:
        run_module.env['ANSIBLE_PYTHON_INTERPRETER'] = saved
    assert result['failed'] is True and 'opensearch-py' in result['msg']
