"""Seen from another machine on the site's network, the all-in-one host answers on HTTP and
HTTPS only: the database, search, cache, broker and uWSGI ports stay on loopback."""
import json
import os

import rdm_site

# Every TCP port the host listens on is probed from a throwaway container on the scenario's
# network (not a host of the site, and in no allow list).
PROBE = '''
import json, socket, sys
host, ports = sys.argv[1], json.loads(sys.argv[2])
answered = []
for port in ports:
    try:
        socket.create_connection((host, port), timeout=3).close()
        answered.append(port)
    except OSError:
        pass
print(json.dumps(answered))
'''


def listening_ports():
    out = rdm_site.aio().check_output('ss --tcp --listening --numeric --no-header')
    return sorted({int(line.split()[3].rsplit(':', 1)[1]) for line in out.splitlines() if line.strip()})


def test_only_http_and_https_answer_another_host():
    ports = listening_ports()
    # the services are up and listening (on loopback), so the probe below tests something
    for service_port in (443, 5432, 6379, 5672, 9200, 5000, 5001):
        assert service_port in ports, ports
    out = rdm_site.docker(
        'run', '--rm', '--network', 'molecule-default', os.environ['RDMOPS_BASE_IMAGE'],
        'python3', '-c', PROBE, rdm_site.HOST, json.dumps(ports), text=True)
    assert json.loads(out.strip().splitlines()[-1]) == [80, 443]
