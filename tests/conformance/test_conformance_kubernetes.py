"""The upstream Gateway API conformance tests through the Kubernetes provider (kube_suite.py):
objects applied to the API emulator, `meshgate serve --kubernetes` writing status back and
provisioning each Gateway, the test kubelet running the provisioned Envoys, status read from the API.

`make test` runs a representative subset, not every claimed test: the whole run through the
emulator takes about as long as the file-mode one (some 90 s on 2 cores), which `make test`
already runs in full, and the two together would take a large share of its 10-minute budget. The
subset covers what the Kubernetes path adds to the file-mode run, each test for a reason:

- status written back and read from the API: Gateway conditions (GatewayInvalidParametersRef),
  listener status with attachedRoutes (HTTPRouteListenerPortMatching), route parents and
  ResolvedRefs=False (HTTPRouteInvalidCrossNamespaceBackendRef);
- Gateways created and deleted through the API, each provisioned and run by the kubelet before it
  can answer (GatewayHTTPListenerIsolation, HTTPRouteListenerPortMatching), with its pool address
  (GatewayOptionalAddressValue) and infrastructure metadata on the ServiceAccount, Pod and Service
  listed from the API (GatewayInfrastructure);
- a delete through the API during a test (HTTPRouteReferenceGrant), Namespaces and their labels
  (HTTPRouteCrossNamespace), Secrets as the API stores them (HTTPRouteHTTPSListener),
  EndpointSlices from the API (HTTPRouteWeight), ConfigMaps from the API (the CA bundles of
  GatewayFrontendClientCertificateValidation), and the basic path (HTTPRouteSimpleSameNamespace);
- TLSRoutes (TLSRouteMixedTerminationSameNamespace): their status read from the API, the CA
  ConfigMap the client trusts read from the API, a Terminate listener's CA-signed Secret beside
  a Passthrough listener on one port;
- the mesh (MeshConsumerRoute): the waypoint provisioned and run by the kubelet, the mesh's Pods
  read from the API (their IPs tell the consumer namespace's clients apart), a route in one
  namespace on another's Service; and a GRPCRoute on a Service (MeshGRPCRouteRequestHeaderModifier):
  its status read from the API, gRPC through the waypoint to the Pods' gRPC port.

`make conformance` runs all of them through the emulator after the file-mode run and compares
the two reports. Each pytest-xdist worker gets its own suite on networks of its own (slots 40 and
up: the file-mode suites use the worker's number).
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from .features import skip_reason
from .kube_suite import KubeSuite
from .registry import all_tests
from .suite import ConformanceTest
from .test_conformance import wrong_expectations_fail

pytestmark = pytest.mark.envoy

KUBE_SLOT_OFFSET = 40  # networks(40 + worker): apart from the file-mode suites' networks(worker)
SUBSET = frozenset({
    "GatewayInvalidParametersRef", "HTTPRouteListenerPortMatching", "HTTPRouteInvalidCrossNamespaceBackendRef",
    "GatewayHTTPListenerIsolation", "GatewayOptionalAddressValue", "GatewayInfrastructure",
    "HTTPRouteReferenceGrant", "HTTPRouteCrossNamespace", "HTTPRouteHTTPSListener", "HTTPRouteWeight",
    "HTTPRouteSimpleSameNamespace", "MeshConsumerRoute", "GatewayFrontendClientCertificateValidation",
    "TLSRouteMixedTerminationSameNamespace", "MeshGRPCRouteRequestHeaderModifier",
})
CHOSEN = [t for t in all_tests() if t.short_name in SUBSET and skip_reason(t) is None]


@pytest.fixture(scope="module")
def kube_suite(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KubeSuite]:
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")  # "gw<n>"
    with KubeSuite(tmp_path_factory.mktemp("kube-conformance"),
                   slot=KUBE_SLOT_OFFSET + int(worker.removeprefix("gw")), mesh=True) as s:
        yield s


def test_the_subset_is_claimed_and_known() -> None:
    assert {t.short_name for t in CHOSEN} == SUBSET


@pytest.mark.parametrize("test", CHOSEN, ids=[t.short_name for t in CHOSEN])
def test_upstream_through_kubernetes(kube_suite: KubeSuite, test: ConformanceTest) -> None:
    result = kube_suite.run(test)
    assert result.outcome == "passed", f"{test.short_name}:\n" + "\n".join(result.reasons)


def test_a_wrong_expectation_fails_through_kubernetes(kube_suite: KubeSuite) -> None:
    """The Kubernetes-mode harness can fail too: a wrong backend, and a route that is not in the API."""
    wrong_expectations_fail(kube_suite)
