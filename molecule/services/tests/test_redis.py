"""Redis serves only clients that know the password, on the configured addresses only,
and its password is never at rest in plain text, on a command line or in the environment."""
import shlex

import pytest
from testinfra.utils.ansible_runner import AnsibleRunner

from site_hosts import INVENTORY, connect, network_address, secret

RUNNER = AnsibleRunner(INVENTORY)
CACHE_HOSTS = RUNNER.get_hosts('invenio_cache')
APP_HOSTS = RUNNER.get_hosts('invenio_app')
OUTSIDER_HOSTS = RUNNER.get_hosts('outsiders')
PORT = 6379


def redis_cli(client, server, command, password=None):
    """Run redis-cli on client against server; the password travels in REDISCLI_AUTH, not argv."""
    auth = '' if password is None else f'REDISCLI_AUTH={shlex.quote(password)} '
    result = client.run(f'{auth}redis-cli --no-auth-warning -h {server} -p {PORT} {command}')
    return (result.stdout + result.stderr).strip()


def test_there_is_a_cache_host_and_an_app_host():
    assert CACHE_HOSTS, 'no host in group invenio_cache'
    assert APP_HOSTS, 'no host in group invenio_app'


@pytest.mark.parametrize('name', CACHE_HOSTS)
def test_redis_is_running_and_enabled(name):
    service = connect(name).service('redis-server')
    assert service.is_running
    assert service.is_enabled


@pytest.mark.parametrize('name', CACHE_HOSTS)
def test_redis_listens_only_on_loopback_and_its_network_address(name):
    host = connect(name)
    listening = {s for s in host.socket.get_listening_sockets() if s.endswith(f':{PORT}')}
    assert listening == {f'tcp://127.0.0.1:{PORT}', f'tcp://{network_address(name)}:{PORT}'}


@pytest.mark.parametrize('client', APP_HOSTS + OUTSIDER_HOSTS)
@pytest.mark.parametrize('server', CACHE_HOSTS)
def test_redis_refuses_a_client_without_password(server, client):
    reply = redis_cli(connect(client), network_address(server), 'PING')
    assert 'NOAUTH' in reply
    assert 'PONG' not in reply


@pytest.mark.parametrize('client', APP_HOSTS + OUTSIDER_HOSTS)
@pytest.mark.parametrize('server', CACHE_HOSTS)
def test_redis_refuses_a_wrong_password(server, client):
    reply = redis_cli(connect(client), network_address(server), 'PING', password='not-the-password-' + 'x' * 20)
    assert 'WRONGPASS' in reply
    assert 'PONG' not in reply


@pytest.mark.parametrize('client', APP_HOSTS)
@pytest.mark.parametrize('server', CACHE_HOSTS)
def test_app_host_stores_and_reads_values_with_the_password(server, client):
    password = secret('redis_password')
    address = network_address(server)
    app = connect(client)
    assert redis_cli(app, address, 'PING', password) == 'PONG'
    # Database 1 holds Invenio's sessions: a value written there comes back.
    assert redis_cli(app, address, '-n 1 SET rdmops:test:session alive EX 60', password) == 'OK'
    assert redis_cli(app, address, '-n 1 GET rdmops:test:session', password) == 'alive'


@pytest.mark.parametrize('client', APP_HOSTS)
@pytest.mark.parametrize('server', CACHE_HOSTS)
def test_authenticated_client_cannot_reconfigure_redis(server, client):
    password = secret('redis_password')
    address = network_address(server)
    for command in ('CONFIG GET requirepass', 'CONFIG SET dir /tmp', 'ACL LIST', 'REPLICAOF NO ONE'):
        assert 'NOPERM' in redis_cli(connect(client), address, command, password), command


@pytest.mark.parametrize('name', CACHE_HOSTS)
def test_password_is_in_no_plain_file_under_etc(name):
    host = connect(name)
    pattern = '/root/.rdmops-test-redis-pattern'
    # The pattern file is written by a shell builtin and removed in the same command.
    result = host.run(
        f"umask 077; printf '%s\\n' {shlex.quote(secret('redis_password'))} > {pattern};"
        f" grep -rlF -f {pattern} /etc; rc=$?; rm -f {pattern}; exit $rc"
    )
    assert result.rc == 1, f'password found in: {result.stdout}'


@pytest.mark.parametrize('name', CACHE_HOSTS)
def test_runtime_acl_file_is_private_to_redis_and_holds_no_plain_password(name):
    runtime_file = connect(name).file('/run/redis/auth.conf')
    assert runtime_file.exists
    assert runtime_file.user == 'redis'
    assert runtime_file.mode == 0o400
    content = runtime_file.content_string
    assert content.startswith('user default on #')
    assert secret('redis_password') not in content


@pytest.mark.parametrize('name', CACHE_HOSTS)
def test_password_is_on_no_command_line(name):
    command_lines = connect(name).check_output('ps -eww -o args')
    assert 'redis-server' in command_lines
    assert secret('redis_password') not in command_lines


@pytest.mark.parametrize('name', CACHE_HOSTS)
def test_password_is_not_in_the_unit_environment(name):
    host = connect(name)
    password = secret('redis_password')
    assert password not in host.check_output('systemctl show -p Environment redis-server')
    main_pid = host.check_output('systemctl show -p MainPID --value redis-server')
    assert int(main_pid) > 0
    assert password not in host.check_output(f"tr '\\0' '\\n' < /proc/{main_pid}/environ")
