"""The Kubernetes-mode harness's own parts, without meshgate or Envoy: status read from the API
has the shape `meshgate status -o json` gives (so status_checks.py judges both alike), objects
go where the API serves them, and two reports are compared by their results alone."""

from __future__ import annotations

import base64
import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from ..kubernetes.crds import crds
from . import status_checks as sc
from .cluster import Certificate, tls_secret
from .expect import Key
from .kube_api import api_path, object_api_path
from .kube_suite import KubeSuite, apply_order, stored_secret
from .model import Result
from .processes import meshgate_exe
from .report import conformance_report, report_differences
from .suite import ConformanceTest

OBJECTS = """\
apiVersion: v1
kind: Namespace
metadata: {name: shape}
---
apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: shape-class}
spec: {controllerName: meshgate.io/gateway-controller}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: gw, namespace: shape}
spec:
  gatewayClassName: shape-class
  addresses: [{type: IPAddress, value: 127.0.0.1}]
  listeners: [{name: http, port: 8080, protocol: HTTP}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: route, namespace: shape}
spec:
  parentRefs: [{name: gw}]
  rules: [{backendRefs: [{name: missing, port: 80}]}]
"""


@pytest.fixture
def kube(tmp_path: Path) -> Iterator[KubeSuite]:
    """A KubeSuite whose API emulator runs, with nothing else started."""
    suite = KubeSuite(tmp_path)
    suite.api.start()
    try:
        yield suite
    finally:
        suite.api.stop()


def test_status_from_the_api_has_the_shape_of_meshgate_status(kube: KubeSuite, tmp_path: Path) -> None:
    """What meshgate computes for some objects, written to their status in the API, reads back as
    the same document, and the status checks say the same of both."""
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "objects.yaml").write_text(OBJECTS)
    proc = subprocess.run([meshgate_exe(), "status", str(tmp_path / "in"), "-o", "json"], capture_output=True,
                          text=True, timeout=60, check=False)
    computed = json.loads(proc.stdout)
    for obj in [*crds(), *apply_order(list(yaml.safe_load_all(OBJECTS)))]:
        kube.api.create(obj)
    for status in computed["status"]:
        md = status["metadata"]
        kube.api.write_status(status["kind"], md.get("namespace", ""), md["name"], status["status"])
    read = kube.status()
    key = lambda o: (o["kind"], o["metadata"].get("namespace", ""), o["metadata"]["name"])
    assert sorted(read["status"], key=key) == sorted(computed["status"], key=key)
    for doc in (computed, read):
        assert sc.gateway_class_accepted(doc, "shape-class") is None
        assert sc.route_accepted_problem(doc, Key("shape", "route"), Key("shape", "gw")) is None
        assert "ResolvedRefs=True" in (sc.route_condition_problem(
            doc, Key("shape", "route"), Key("shape", "gw"), sc.Condition("ResolvedRefs")) or "")


def test_objects_without_status_are_left_out(kube: KubeSuite) -> None:
    """`meshgate status` lists what has status; an object meshgate has not written yet has none."""
    for obj in [*crds(), *apply_order(list(yaml.safe_load_all(OBJECTS)))]:
        kube.api.create(obj)
    assert kube.status() == {"status": []}
    assert sc.find(kube.status(), "HTTPRoute", Key("shape", "route")) is None


def test_paths_of_namespaced_and_cluster_scoped_kinds() -> None:
    assert api_path("Gateway", "ns", "gw") == "/apis/gateway.networking.k8s.io/v1/namespaces/ns/gateways/gw"
    assert api_path("Gateway") == "/apis/gateway.networking.k8s.io/v1/gateways"
    assert api_path("Service", "ns") == "/api/v1/namespaces/ns/services"
    assert api_path("GatewayClass", "ignored", "c") == "/apis/gateway.networking.k8s.io/v1/gatewayclasses/c"
    assert object_api_path({"apiVersion": "gateway.networking.k8s.io/v1beta1", "kind": "ReferenceGrant",
                            "metadata": {"name": "g"}}, with_name=True) == \
        "/apis/gateway.networking.k8s.io/v1beta1/namespaces/default/referencegrants/g"


def test_secrets_are_stored_as_the_api_server_stores_them() -> None:
    secret = stored_secret(tls_secret("ns", "cert", Certificate("CERT", "KEY")))
    assert "stringData" not in secret
    assert {k: base64.b64decode(v).decode() for k, v in secret["data"].items()} == {"tls.crt": "CERT", "tls.key": "KEY"}


def test_namespaces_are_applied_first() -> None:
    objects = [{"kind": "Service"}, {"kind": "Namespace", "n": 1}, {"kind": "Gateway"}, {"kind": "Namespace", "n": 2}]
    assert [o["kind"] for o in apply_order(objects)] == ["Namespace", "Namespace", "Service", "Gateway"]
    assert [o.get("n") for o in apply_order(objects)[:2]] == [1, 2]


def _test(name: str, features: tuple[str, ...] = ("Gateway", "HTTPRoute")) -> ConformanceTest:
    return ConformanceTest(name, "", (), features, lambda t: None)


def test_reports_compare_by_results_alone() -> None:
    passed = [Result(_test("A"), "passed", seconds=1.0), Result(_test("B", ("HTTPRouteRetry",)), "passed")]
    slower = [Result(_test("A"), "passed", seconds=9.0), Result(_test("B", ("HTTPRouteRetry",)), "passed")]
    assert report_differences(conformance_report(passed), conformance_report(slower)) == []
    failed = [passed[0], Result(_test("B", ("HTTPRouteRetry",)), "failed", ["no"])]
    differences = report_differences(conformance_report(passed), conformance_report(failed))
    assert any("extended failedTests: None vs ['B']" in d for d in differences), differences
    assert not any(" core " in d for d in differences), differences
