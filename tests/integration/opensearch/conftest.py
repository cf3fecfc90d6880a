# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A real single-node OpenSearch 2.x for the snapshot module tests, and a way to run modules as Ansible does.

The node comes from scripts/harness/build-opensearch-dist.sh (an archive with the official layout,
cached), is unpacked into a private temporary directory and runs as the unprivileged system
user rdmops-test (OpenSearch refuses to run as root) with the host's Java 17, on loopback and
free ports, with path.repo pointing at a temporary directory. It is stopped and removed when
the test session ends.
"""

from __future__ import absolute_import, division, print_function

import json
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tarfile
import tempfile
import textwrap
import time
import urllib.error
import urllib.request

import pytest

REPO_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..', '..'))
TEST_USER = 'rdmops-test'
NODE_NAME = 'rdmops-it-node'
START_TIMEOUT = 240


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def ensure_test_user():
    try:
        return pwd.getpwnam(TEST_USER)
    except KeyError:
        subprocess.run(['useradd', '--system', '--no-create-home', '--home-dir', '/nonexistent',
                        '--shell', '/usr/sbin/nologin', TEST_USER], check=True)
        return pwd.getpwnam(TEST_USER)


def java_home():
    java = shutil.which('java')
    if not java:
        raise RuntimeError('java is not installed: apt-get install openjdk-17-jre-headless')
    return os.path.dirname(os.path.dirname(os.path.realpath(java)))


def build_distribution():
    script = os.path.join(REPO_ROOT, 'scripts', 'harness', 'build-opensearch-dist.sh')
    done = subprocess.run([script], check=True, stdout=subprocess.PIPE, text=True)
    return done.stdout.strip().splitlines()[-1]


def chown_tree(top, uid, gid):
    os.chown(top, uid, gid)
    for root, dirs, files in os.walk(top):
        for entry in dirs + files:
            os.lchown(os.path.join(root, entry), uid, gid)


class OpenSearchNode(object):
    """One running node: where it listens and where its files are."""

    def __init__(self, base, home, port, process, log_path):
        self.base = base
        self.home = home
        self.port = port
        self.url = 'http://127.0.0.1:%d' % port
        self.process = process
        self.log_path = log_path
        self.path_repo = os.path.join(base, 'snapshots')

    def request(self, method, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.url + path, data=data, method=method,
                                     headers={'Content-Type': 'application/json'})
        try:
            with urllib.request.urlopen(req, timeout=60) as answer:
                return json.loads(answer.read() or b'null')
        except urllib.error.HTTPError as error:
            raise AssertionError('%s %s -> %s %s' % (method, path, error.code, error.read().decode()))

    def bulk_index(self, index, docs):
        """Index {id: source} documents in one _bulk request and make them searchable."""
        lines = []
        for doc_id, source in sorted(docs.items()):
            lines.append(json.dumps({'index': {'_index': index, '_id': doc_id}}))
            lines.append(json.dumps(source))
        req = urllib.request.Request(self.url + '/_bulk?refresh=true', data=('\n'.join(lines) + '\n').encode(), method='POST',
                                     headers={'Content-Type': 'application/x-ndjson'})
        with urllib.request.urlopen(req, timeout=60) as answer:
            result = json.loads(answer.read())
        assert result['errors'] is False, result

    def documents(self, index):
        """{id: source} of every document of an index (the test indices hold fewer than 1000)."""
        answer = self.request('POST', '/%s/_search' % index, {'size': 1000, 'query': {'match_all': {}}})
        return dict((hit['_id'], hit['_source']) for hit in answer['hits']['hits'])

    def index_states(self):
        """{index: 'open' | 'close'} for every index."""
        return dict((row['index'], row['status']) for row in self.request('GET', '/_cat/indices?format=json&h=index,status&expand_wildcards=all'))

    def log_tail(self, lines=60):
        try:
            with open(self.log_path) as handle:
                return ''.join(handle.readlines()[-lines:])
        except OSError:
            return '(no log)'


def start_node(base):
    user = ensure_test_user()
    tarball = build_distribution()
    with tarfile.open(tarball) as archive:
        top = archive.getmembers()[0].name.split('/')[0]
        if hasattr(tarfile, 'data_filter'):
            archive.extractall(os.path.join(base, 'dist'), filter='data')
        else:
            archive.extractall(os.path.join(base, 'dist'))
    home = os.path.join(base, 'dist', top)
    conf = os.path.join(base, 'config')
    shutil.copytree(os.path.join(home, 'config'), conf)
    for name in ('data', 'logs', 'tmp', 'snapshots'):
        os.makedirs(os.path.join(base, name))
    port, transport_port = free_port(), free_port()
    with open(os.path.join(conf, 'opensearch.yml'), 'w') as handle:
        handle.write(textwrap.dedent('''\
            cluster.name: rdmops-integration
            node.name: {node}
            discovery.type: single-node
            network.host: 127.0.0.1
            http.port: {port}
            transport.port: {transport}
            path.data: {base}/data
            path.logs: {base}/logs
            path.repo: ["{base}/snapshots"]
            action.destructive_requires_name: true
            # The archive ships the security plugin (as the official one does); these tests talk
            # plain HTTP to a throw-away node. The molecule services scenario runs the modules
            # against a secured node (TLS, CA, basic auth).
            plugins.security.disabled: true
            ''').format(node=NODE_NAME, port=port, transport=transport_port, base=base))
    chown_tree(base, user.pw_uid, user.pw_gid)
    os.chmod(base, 0o750)

    env = {
        'PATH': '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
        'OPENSEARCH_JAVA_HOME': java_home(),
        'OPENSEARCH_PATH_CONF': conf,
        'OPENSEARCH_TMPDIR': os.path.join(base, 'tmp'),
        'OPENSEARCH_JAVA_OPTS': '-Xms512m -Xmx512m',
        'LANG': 'C.UTF-8',
    }
    log_path = os.path.join(base, 'console.log')
    log = open(log_path, 'wb')
    command = ['runuser', '-u', TEST_USER, '--', 'env'] + ['%s=%s' % item for item in sorted(env.items())] + \
        [os.path.join(home, 'bin', 'opensearch')]
    process = subprocess.Popen(command, cwd=base, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                               start_new_session=True)
    log.close()
    node = OpenSearchNode(base, home, port, process, log_path)

    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError('OpenSearch exited with %s during start:\n%s' % (process.returncode, node.log_tail()))
        try:
            health = node.request('GET', '/_cluster/health?wait_for_status=yellow&timeout=5s')
            if health.get('status') in ('green', 'yellow'):
                return node
        except (OSError, AssertionError):
            pass
        time.sleep(2)
    stop_node(node)
    raise RuntimeError('OpenSearch did not become healthy in %ss:\n%s' % (START_TIMEOUT, node.log_tail()))


def group_alive(pgid):
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def stop_node(node):
    """Stop the node's process group (runuser and the JVM) and wait until every member is gone."""
    pgid = node.process.pid
    if group_alive(pgid):
        os.killpg(pgid, signal.SIGTERM)
    deadline = time.monotonic() + 60
    while group_alive(pgid) and time.monotonic() < deadline:
        node.process.poll()
        time.sleep(0.5)
    if group_alive(pgid):
        os.killpg(pgid, signal.SIGKILL)
    node.process.wait(10)


@pytest.fixture(scope='session')
def opensearch():
    """A running single-node OpenSearch; yields an OpenSearchNode."""
    if os.geteuid() != 0:
        pytest.fail('the OpenSearch integration tests start the node as %s through runuser and must run as root' % TEST_USER)
    base = tempfile.mkdtemp(prefix='rdmops-opensearch-it-')
    node = start_node(base)
    try:
        yield node
    finally:
        stop_node(node)
        shutil.rmtree(base, ignore_errors=True)


class ModuleRunner(object):
    """Runs one module task through ansible-playbook and returns its JSON result."""

    def __init__(self, node, workdir):
        self.node = node
        self.workdir = workdir
        bindir = os.path.dirname(sys.executable)
        self.playbook_cmd = os.path.join(bindir, 'ansible-playbook')
        if not os.path.exists(self.playbook_cmd):
            self.playbook_cmd = shutil.which('ansible-playbook')
        self.env = dict(os.environ)
        self.env.setdefault('ANSIBLE_COLLECTIONS_PATH', os.path.join(REPO_ROOT, '.cache', 'collections'))
        self.env.update({
            'ANSIBLE_STDOUT_CALLBACK': 'ansible.builtin.json',
            'ANSIBLE_NOCOLOR': '1',
            'ANSIBLE_RETRY_FILES_ENABLED': '0',
            'ANSIBLE_LOCALHOST_WARNING': '0',
            'ANSIBLE_INVENTORY_UNPARSED_WARNING': '0',
            'ANSIBLE_PYTHON_INTERPRETER': sys.executable,
        })
        self.count = 0

    def __call__(self, module, args, check=False, diff=True, hosts=None):
        args = dict(args)
        args.setdefault('hosts', hosts or [self.node.url])
        self.count += 1
        playbook = os.path.join(self.workdir, 'play-%03d.json' % self.count)
        with open(playbook, 'w') as handle:
            json.dump([{'hosts': 'localhost', 'gather_facts': False, 'connection': 'local',
                        'tasks': [{'name': 'run', 'rdmops.invenio.%s' % module: args}]}], handle)
        command = [self.playbook_cmd, '-i', 'localhost,', playbook]
        if check:
            command.append('--check')
        if diff:
            command.append('--diff')
        done = subprocess.run(command, env=self.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=self.workdir, check=False)
        try:
            output = json.loads(done.stdout)
        except ValueError:
            raise AssertionError('ansible-playbook printed no JSON (rc %s):\n%s\n%s' % (done.returncode, done.stdout, done.stderr))
        return output['plays'][0]['tasks'][0]['hosts']['localhost']


@pytest.fixture(scope='session')
def run_module(opensearch, tmp_path_factory):
    """run_module('opensearch_snapshot', {...}, check=False) -> the task result dict."""
    return ModuleRunner(opensearch, str(tmp_path_factory.mktemp('plays')))
