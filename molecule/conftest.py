"""Fixtures shared by every scenario's testinfra tests."""
import re

import pytest


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
