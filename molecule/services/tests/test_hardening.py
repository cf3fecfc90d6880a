"""Every unit the collection ships or changes runs sandboxed: `systemd-analyze security` reports
its exposure (printed for the record in docs/benchmarks.md) and a change that weakens a sandbox
fails here. Ceilings are the figures measured with our units and drop-ins; Debian's own units
score 9.4-9.6 for PostgreSQL, RabbitMQ and nginx. Why each stops where it does is in the role docs."""
import pytest
import testinfra.utils.ansible_runner

from site_hosts import INVENTORY

RUNNER = testinfra.utils.ansible_runner.AnsibleRunner(INVENTORY)
# the host that runs every data-tier service
DATA_TIER = ["invenio_db", "invenio_search", "invenio_cache", "invenio_broker", "invenio_web"]
testinfra_hosts = sorted(set.intersection(*(set(RUNNER.get_hosts(group)) for group in DATA_TIER)))

CEILINGS = {
    "opensearch.service": 1.0,
    "redis-server.service": 1.1,
    "postgresql@15-main.service": 1.4,
    "rabbitmq-server.service": 1.4,
    "nginx.service": 2.4,
}


@pytest.mark.parametrize("unit", sorted(CEILINGS))
def test_unit_exposure_is_within_its_ceiling(host, unit, systemd_exposure):
    assert systemd_exposure(host, unit) <= CEILINGS[unit]
