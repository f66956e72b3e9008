"""ServiceEntry VIPs from status.addresses, and WorkloadEntry health, as Istio reads them.

VIP cases re-express TestServiceEntryServices in Istio's pilot/pkg/serviceregistry/ambient/
services_test.go ("Uses auto-assigned addresses", "... user provided address", "... none
resolution", "... user opted out", "... wildcard host"); health cases the "Service selects
WorkloadEntry: health status" sequence of pilot/pkg/serviceregistry/serviceregistry_test.go
(TestWorkloadInstances) and isHealthy in serviceentry/conversion.go.
"""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from meshgate.discovery.index import Discovery
from meshgate.discovery.model import Locality, PortModel
from meshgate.discovery.service_entries import service_entry_endpoints, service_entry_models
from meshgate.resources.istio import ServiceEntry, WorkloadEntry
from meshgate.resources.loader import load_text
from meshgate.store import Store

CREATED = "2026-01-01T00:00:00Z"
ALLOCATED = (("assign-me.example.com", "240.240.0.1"), ("assign-me.example.com", "2001:2::1"))


def load(*docs: dict[str, Any]) -> list[Any]:
    result = load_text(yaml.safe_dump_all(docs, sort_keys=False), "se.yaml", CREATED)
    assert not result.errors, [str(e) for e in result.errors]
    return result.objects


def entry(hosts: tuple[str, ...] = ("assign-me.example.com",), resolution: str = "DNS",
          addresses: tuple[str, ...] = (), allocated: tuple[tuple[str, str], ...] = ALLOCATED,
          labels: dict[str, str] | None = None) -> dict[str, Any]:
    spec: dict[str, Any] = {"hosts": list(hosts), "ports": [{"number": 80, "name": "http", "protocol": "HTTP"}],
                            "resolution": resolution}
    if resolution == "DNS":
        spec["endpoints"] = [{"address": "1.1.1.1"}]  # hosts need not be FQDNs then
    if addresses:
        spec["addresses"] = list(addresses)
    return {"apiVersion": "networking.istio.io/v1", "kind": "ServiceEntry",
            "metadata": {"name": "se", "namespace": "ns", "labels": labels or {}},
            "spec": spec, "status": {"addresses": [{"host": h, "value": v} for h, v in allocated]}}


def vips(doc: dict[str, Any]) -> dict[str, tuple[str, ...]]:
    (se,) = load(doc)
    assert isinstance(se, ServiceEntry)
    return {m.hosts[0]: m.vips for m in service_entry_models(se)}


@pytest.mark.parametrize(
    ("name", "doc", "want"),
    [
        ("uses auto-assigned addresses", entry(), {"assign-me.example.com": ("240.240.0.1", "2001:2::1")}),
        ("uses multiple auto-assigned addresses",
         entry(hosts=("multi.example.com", "second.example.com"),
               allocated=(("multi.example.com", "240.240.0.1"), ("multi.example.com", "2001:2::1"),
                          ("second.example.com", "240.240.0.2"), ("second.example.com", "2001:2::2"))),
         {"multi.example.com": ("240.240.0.1", "2001:2::1"), "second.example.com": ("240.240.0.2", "2001:2::2")}),
        ("does not use auto-assigned addresses: user provided address", entry(addresses=("1.2.3.4",)),
         {"assign-me.example.com": ("1.2.3.4",)}),
        ("does not use auto-assigned addresses: none resolution", entry(resolution="NONE"),
         {"assign-me.example.com": ()}),
        ("does not use auto-assigned addresses: user opted out",
         entry(labels={"networking.istio.io/enable-autoallocate-ip": "false"}), {"assign-me.example.com": ()}),
        ("does not use auto-assigned addresses for a wildcard host",
         entry(hosts=("*.wildcard.example.com", "this-is-ok.example.com"),
               allocated=(("this-is-ok.example.com", "240.240.0.1"), ("*.wildcard.example.com", "240.240.0.9"))),
         {"*.wildcard.example.com": (), "this-is-ok.example.com": ("240.240.0.1",)}),
        ("the opt-out label is compared without case (EqualFold)",
         entry(labels={"networking.istio.io/enable-autoallocate-ip": "FALSE"}), {"assign-me.example.com": ()}),
        ("another value of the label does not opt out",
         entry(labels={"networking.istio.io/enable-autoallocate-ip": "no"}),
         {"assign-me.example.com": ("240.240.0.1", "2001:2::1")}),
        ("addresses are written as netip does", entry(allocated=(("assign-me.example.com", "2001:0002::0001"),)),
         {"assign-me.example.com": ("2001:2::1",)}),
    ],
)
def test_allocated_addresses_are_vips(name: str, doc: dict[str, Any], want: dict[str, tuple[str, ...]]) -> None:
    assert vips(doc) == want


def test_an_unparsable_allocated_address_is_skipped_with_a_warning() -> None:
    doc = entry(allocated=(("assign-me.example.com", "not-an-ip"), ("assign-me.example.com", "240.240.0.1")))
    result = load_text(yaml.safe_dump(doc, sort_keys=False), "se.yaml", CREATED)
    (se,) = result.objects
    assert [m.vips for m in service_entry_models(se)] == [("240.240.0.1",)]
    assert [(e.severity, e.field) for e in result.errors] == [("warning", "status.addresses[0].value")]


def workload_entry(annotation: str | None, condition: str | None) -> dict[str, Any]:
    md: dict[str, Any] = {"name": "we", "namespace": "ns"}
    if annotation is not None:
        md["annotations"] = {"proxy.istio.io/health-checks-enabled": annotation}
    doc: dict[str, Any] = {"apiVersion": "networking.istio.io/v1", "kind": "WorkloadEntry", "metadata": md,
                           "spec": {"address": "2.3.4.5", "labels": {"app": "foo"}}}
    if condition is not None:
        doc["status"] = {"conditions": [{"type": "Healthy", "status": condition}]}
    return doc


SELECTING = {"apiVersion": "networking.istio.io/v1", "kind": "ServiceEntry",
             "metadata": {"name": "se", "namespace": "ns"},
             "spec": {"hosts": ["service.namespace.internal"], "resolution": "STATIC",
                      "ports": [{"number": 80, "name": "http", "protocol": "HTTP"}],
                      "workloadSelector": {"labels": {"app": "foo"}}}}


def endpoints_with(we_doc: dict[str, Any]) -> list[str]:
    se, we = load(SELECTING, we_doc)
    assert isinstance(se, ServiceEntry) and isinstance(we, WorkloadEntry)
    port = PortModel("http", 80, 80, "TCP", "http")
    eps = service_entry_endpoints(se, "service.namespace.internal", port, (), (we,), lambda n: Locality())
    return [f"{e.address}:{e.port}" for e in eps]


@pytest.mark.parametrize(
    ("name", "annotation", "condition", "want"),
    [
        # TestWorkloadInstances, "Service selects WorkloadEntry: health status", in order.
        ("start as unhealthy, should have no instances", "true", "False", []),
        ("mark healthy, get instances", "true", "True", ["2.3.4.5:80"]),
        ("set back to unhealthy", "true", "False", []),
        ("remove health status entirely", None, None, ["2.3.4.5:80"]),
        # isHealthy's other branches.
        ("health checks on, no condition yet: unhealthy until probed", "true", None, []),
        ("health checks on, condition neither True nor False", "true", "Unknown", []),
        ("the annotation is a Go boolean", "1", "False", []),
        ("health checks off: the condition is not read", "false", "False", ["2.3.4.5:80"]),
        ("no annotation: the condition is not read", None, "False", ["2.3.4.5:80"]),
        ("an annotation that is not a boolean leaves health checks off", "yes", "False", ["2.3.4.5:80"]),
    ],
)
def test_workload_entry_health(name: str, annotation: str | None, condition: str | None, want: list[str]) -> None:
    assert endpoints_with(workload_entry(annotation, condition)) == want


def test_discovery_reads_namespace_traffic_distribution() -> None:
    ns = {"apiVersion": "v1", "kind": "Namespace",
          "metadata": {"name": "ns", "annotations": {"networking.istio.io/traffic-distribution": "PreferClose"}}}
    result = load_text(yaml.safe_dump_all([ns, entry(addresses=("1.2.3.4",))], sort_keys=False), "x.yaml", CREATED)
    store, _ = Store.from_load(result)
    (model,) = Discovery(store).service_entry("ns", "se")
    assert (model.traffic_distribution, model.traffic_distribution_source) == (
        "PreferSameZone", "annotation networking.istio.io/traffic-distribution=PreferClose on namespace ns")
