"""Fixtures shared by every scenario's testinfra tests, and the order they run in."""
import os
import re

import pytest

# No test may rely on what another left behind: RDMOPS_TEST_ORDER=reverse runs a scenario's
# tests last to first, which shows whether one does.
REVERSED = os.environ.get('RDMOPS_TEST_ORDER') == 'reverse'


def pytest_report_header(config):
    return 'test order: ' + ('reversed (RDMOPS_TEST_ORDER=reverse)' if REVERSED else 'as collected')


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config, items):
    if REVERSED:
        items.reverse()


@pytest.fixture
def systemd_exposure(capsys):
    """Return a function giving `systemd-analyze security`'s overall exposure of a unit on a host,
    printed so the figure shows in the test log."""
    def exposure(host, unit):
        report = host.check_output(f"systemd-analyze security --no-pager {unit}")
        value = float(re.search(rf"Overall exposure level for {re.escape(unit)}: ([0-9.]+)", report).group(1))
        with capsys.disabled():
            print(f"\nsystemd-analyze security {unit} on {host.backend.get_hostname()}: {value}")
        return value
    return exposure
