"""RabbitMQ accepts Invenio's user on its own vhost only, has no guest, serves AMQP on the
configured addresses and keeps Erlang distribution (epmd, node port) on loopback."""
import json
import shlex

import pytest
from testinfra.utils.ansible_runner import AnsibleRunner

from site_hosts import INVENTORY, connect, network_address, secret

RUNNER = AnsibleRunner(INVENTORY)
BROKER_HOSTS = RUNNER.get_hosts('invenio_broker')
APP_HOSTS = RUNNER.get_hosts('invenio_app')
OUTSIDER_HOSTS = RUNNER.get_hosts('outsiders')
AMQP_PORT = 5672
EPMD_PORT = 4369
DISTRIBUTION_PORT = 25672
VHOST = 'invenio'
USER = 'invenio'

# Connects, sends the AMQP 0-9-1 protocol header and prints what the peer answers:
# "start" for a Connection.Start method frame (frame type 1, class 10, method 10),
# "refused" when nothing listens on that address.
PROBE = r'''
import socket, struct, sys
try:
    s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=10)
except ConnectionRefusedError:
    print("refused"); sys.exit(0)
s.sendall(b"AMQP\x00\x00\x09\x01")
data = b""
while len(data) < 11:
    chunk = s.recv(64)
    if not chunk:
        break
    data += chunk
ok = len(data) >= 11 and data[0] == 1 and struct.unpack(">HH", data[7:11]) == (10, 10)
print("start" if ok else "other")
'''


def rabbitmqctl_json(host, *args):
    return json.loads(host.check_output(shlex.join(['rabbitmqctl', '-q', *args, '--formatter', 'json'])))


def authenticate(host, user, password):
    """rabbitmqctl authenticate_user with the password on standard input, not on argv."""
    return host.run(f'printf %s {shlex.quote(password)} | rabbitmqctl -q authenticate_user {shlex.quote(user)}')


def probe(client, address, port):
    return client.check_output(f'python3 -c {shlex.quote(PROBE)} {address} {port}')


def test_there_is_a_broker_host_and_an_app_host():
    assert BROKER_HOSTS, 'no host in group invenio_broker'
    assert APP_HOSTS, 'no host in group invenio_app'


@pytest.mark.parametrize('name', BROKER_HOSTS)
def test_rabbitmq_is_running_and_enabled(name):
    service = connect(name).service('rabbitmq-server')
    assert service.is_running
    assert service.is_enabled


@pytest.mark.parametrize('name', BROKER_HOSTS)
def test_amqp_listens_only_on_loopback_and_its_network_address(name):
    listening = {s for s in connect(name).socket.get_listening_sockets() if s.endswith(f':{AMQP_PORT}')}
    assert listening == {f'tcp://127.0.0.1:{AMQP_PORT}', f'tcp://{network_address(name)}:{AMQP_PORT}'}


@pytest.mark.parametrize('port', [EPMD_PORT, DISTRIBUTION_PORT])
@pytest.mark.parametrize('name', BROKER_HOSTS)
def test_erlang_distribution_listens_on_loopback_only(name, port):
    listening = {s for s in connect(name).socket.get_listening_sockets() if s.endswith(f':{port}')}
    assert listening, f'nothing listens on {port}'
    assert listening <= {f'tcp://127.0.0.1:{port}', f'tcp://::1:{port}'}


@pytest.mark.parametrize('client', APP_HOSTS)
@pytest.mark.parametrize('server', BROKER_HOSTS)
def test_app_host_reaches_amqp_but_not_erlang_distribution(server, client):
    app = connect(client)
    address = network_address(server)
    assert probe(app, address, AMQP_PORT) == 'start'
    assert probe(app, address, EPMD_PORT) == 'refused'
    assert probe(app, address, DISTRIBUTION_PORT) == 'refused'


@pytest.mark.parametrize('name', BROKER_HOSTS)
def test_guest_user_is_gone_and_cannot_log_in(name):
    host = connect(name)
    users = {user['user'] for user in rabbitmqctl_json(host, 'list_users')}
    assert 'guest' not in users
    assert USER in users
    assert authenticate(host, 'guest', 'guest').rc != 0


@pytest.mark.parametrize('name', BROKER_HOSTS)
def test_invenio_user_authenticates_with_the_stored_password_only(name):
    host = connect(name)
    assert authenticate(host, USER, secret('rabbitmq_invenio_password')).rc == 0
    assert authenticate(host, USER, 'not-the-password-' + 'x' * 20).rc != 0


@pytest.mark.parametrize('name', BROKER_HOSTS)
def test_invenio_user_has_full_permissions_on_its_vhost_only(name):
    host = connect(name)
    assert VHOST in {vhost['name'] for vhost in rabbitmqctl_json(host, 'list_vhosts')}
    permissions = rabbitmqctl_json(host, 'list_user_permissions', USER)
    assert permissions == [{'vhost': VHOST, 'configure': '.*', 'write': '.*', 'read': '.*'}]


@pytest.mark.parametrize('name', BROKER_HOSTS)
def test_invenio_user_has_no_management_tags(name):
    users = {user['user']: user['tags'] for user in rabbitmqctl_json(connect(name), 'list_users')}
    assert users[USER] == []
