"""The upstream Gateway API conformance tests against meshgate, real Envoys and echo Pods.

One suite (meshgate run + Envoys + Pods) serves each pytest-xdist worker's share of the module,
as one cluster serves the upstream suite, on addresses of its own; every test meshgate claims the
features of must pass. `make conformance` runs the same tests and prints the report.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import replace

import pytest

from .cluster import MANIFESTS
from .expect import INFRA, Expect, ExpectedRequest, GatewayRef, Key, Redirect, Request, Response
from .features import SUPPORTED, UNSUPPORTED, skip_reason
from .mesh import MANIFESTS as MESH_MANIFESTS
from .registry import all_tests
from .runner import Suite
from .suite import Checks, ConformanceTest, mesh_expect_all

pytestmark = pytest.mark.envoy

CLAIMED = [t for t in all_tests() if skip_reason(t) is None]


@pytest.fixture(scope="module")
def suite(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Suite]:
    """The Gateway tests' base manifests and the mesh's, as upstream's Setup applies both when
    both profiles are claimed."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")  # "gw<n>"
    with Suite(tmp_path_factory.mktemp("conformance"), slot=int(worker.removeprefix("gw")), mesh=True) as s:
        yield s


@pytest.mark.parametrize("test", CLAIMED, ids=[t.short_name for t in CLAIMED])
def test_upstream(suite: Suite, test: ConformanceTest) -> None:
    result = suite.run(test)
    assert result.outcome == "passed", f"{test.short_name}:\n" + "\n".join(result.reasons)


def wrong_backend(t: Checks) -> None:
    """A body expecting infra-backend-v1 where the route sends /v2 to v2."""
    address = t.gateway_and_routes_accepted(GatewayRef(INFRA, "same-namespace"), Key(INFRA, "matching"))
    t.expect(address, Expect(Request(path="/v2"), backend="infra-backend-v1"))  # the route sends /v2 to v2
    t.expect(address, Expect(Request(path="/"), backend="infra-backend-v1"))


def wrong_status(t: Checks) -> None:
    """A body waiting for a route that no manifest has."""
    t.gateway_and_routes_accepted(GatewayRef(INFRA, "same-namespace"), Key(INFRA, "no-such-route"))


def wrong_expectations_fail(suite: Suite) -> None:
    """A wrong backend and a route that never appears are reported, the right expectation next to
    them is not (for either provider's suite)."""
    saved = suite.timing
    suite.timing = replace(saved, consistency=1.0, status=1.0)
    try:
        wrong = ConformanceTest("WrongBackend", "", ("httproute-matching.yaml",), ("Gateway", "HTTPRoute"),
                                wrong_backend)
        result = suite.run(wrong)
        assert result.outcome == "failed"
        assert len(result.reasons) == 1, result.reasons
        assert "expected pod name to start with 'infra-backend-v1', got 'infra-backend-v2-" in result.reasons[0]
        result = suite.run(replace(wrong, body=wrong_status))
        assert result.outcome == "failed"
        assert "HTTPRoute gateway-conformance-infra/no-such-route has no status" in result.reasons[0]
    finally:
        suite.timing = saved


def test_a_wrong_expectation_fails(suite: Suite) -> None:
    """The harness can fail."""
    wrong_expectations_fail(suite)


def wrong_mesh(t: Checks) -> None:
    """Mesh rows expecting what the route does not do: /v2 from echo-v1, a header echo-v1 never
    gets, a redirect to the wrong port; and one right row."""
    mesh_expect_all(t, (
        Expect(Request(path="/v2"), backend="echo-v1"),
        Expect(Request(path="/"), ExpectedRequest(headers={"X-Header-Set": "set"}), backend="echo-v1"),
        Expect(Request(path="/"), backend="echo-v1"),
    ))


def wrong_redirect(t: Checks) -> None:
    """A redirect to 8083 expected at 8084 (the one check beyond upstream's mesh comparison)."""
    mesh_expect_all(t, (Expect(Request(host="echo", path="/port"), response=Response(status=302),
                               redirect=Redirect(port="8084")),))


def test_a_wrong_mesh_expectation_fails(suite: Suite) -> None:
    """Through the waypoint too, the harness can fail, and says why."""
    saved = suite.timing
    suite.timing = replace(saved, consistency=1.0, status=5.0)
    try:
        result = suite.run(ConformanceTest("WrongMesh", "", ("mesh/httproute-matching.yaml",), ("Mesh", "HTTPRoute"),
                                           wrong_mesh))
        assert result.outcome == "failed"
        assert len(result.reasons) == 2, result.reasons
        assert "expected pod name to start with echo-v1, got echo-v2-" in result.reasons[0]
        assert "expected X-Header-Set header to be set" in result.reasons[1]
        result = suite.run(ConformanceTest("WrongRedirect", "", ("mesh/httproute-redirect-port.yaml",),
                                           ("Mesh", "HTTPRoute"), wrong_redirect))
        assert result.outcome == "failed"
        assert "expected redirect port '8084', got '8083'" in result.reasons[0]
    finally:
        suite.timing = saved


def test_every_manifest_has_a_test() -> None:
    manifests = ({p.name for p in MANIFESTS.glob("*.yaml")} - {"manifests.yaml"}) | \
        ({f"mesh/{p.name}" for p in (MANIFESTS / "mesh").glob("*.yaml")} - {MESH_MANIFESTS})
    used = {m for t in all_tests() for m in t.manifests}
    assert manifests - used == set()
    assert used - manifests == set()


def test_every_unclaimed_feature_has_a_reason() -> None:
    needed = {f for t in all_tests() for f in t.features}
    assert needed - SUPPORTED - UNSUPPORTED.keys() == set()
    assert not SUPPORTED & UNSUPPORTED.keys()


def test_short_names_are_unique() -> None:
    names = [t.short_name for t in all_tests()]
    assert len(names) == len(set(names))


