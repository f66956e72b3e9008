"""Standalone EndpointSlices from Pods, as Kubernetes' EndpointSlice controller writes them.

Cases follow the controller's own (staging/src/k8s.io/endpointslice reconciler_test.go and
utils_test.go: podToEndpoint, getEndpointPorts, FindPort, setEndpointSliceLabels), in
meshgate's terms.
"""

from __future__ import annotations

import re

import pytest

from meshgate.discovery.pod_slices import (
    MAX_ENDPOINTS_PER_SLICE,
    MESHGATE_CONTROLLER,
    slices_for_service,
)
from meshgate.resources.core import (
    ContainerPort,
    EndpointPort,
    EndpointSlice,
    Node,
    Pod,
    Service,
    ServicePort,
    TargetRef,
)
from meshgate.resources.loader import load_text
from meshgate.resources.meta import Meta, Source, object_uid

CREATED = "2026-01-02T03:04:05Z"
SRC = Source("svc.yaml", 7)
SELECTOR = {"app": "web"}


def service(name: str = "web", ns: str = "shop", *, ports: tuple[ServicePort, ...] | None = None,
            selector: dict[str, str] | None = SELECTOR, labels: dict[str, str] | None = None,
            cluster_ips: tuple[str, ...] = ("10.96.0.10",), stype: str = "ClusterIP") -> Service:
    if ports is None:
        ports = (ServicePort("http", 80, 8080, "TCP", None),)
    meta = Meta(name, ns, labels=labels or {}, uid=object_uid("Service", ns, name), creation_timestamp=CREATED)
    return Service(meta, SRC, stype, cluster_ips, ports, selector, None)


def pod(name: str, ip: str | None = "10.0.0.1", *, ns: str = "shop", labels: dict[str, str] | None = None,
        node: str | None = "node-a", ready: bool = True, phase: str | None = "Running",
        ports: tuple[ContainerPort, ...] = (), ips: tuple[str, ...] | None = None) -> Pod:
    meta = Meta(name, ns, labels=dict(SELECTOR) if labels is None else labels, uid=object_uid("Pod", ns, name))
    pod_ips = ips if ips is not None else ((ip,) if ip else ())
    return Pod(meta, Source("pods.yaml", 1), node, pod_ips, ready, phase, ports)


def node(name: str, zone: str | None) -> Node:
    labels = {"topology.kubernetes.io/zone": zone} if zone is not None else {}
    return Node(Meta(name, "", labels=labels), Source("nodes.yaml", 1), 4000, True)


NODES = {"node-a": node("node-a", "zone-a"), "node-b": node("node-b", "zone-b")}


def endpoint_names(sl: EndpointSlice) -> list[str]:
    return [e.target_ref.name for e in sl.endpoints if e.target_ref]


def all_endpoints(slices: list[EndpointSlice]) -> dict[str, object]:
    return {e.target_ref.name: e for sl in slices for e in sl.endpoints if e.target_ref}


# --- which Services get slices -------------------------------------------------------------


@pytest.mark.parametrize("selector", [None, {}])
def test_service_without_selector_gets_no_slices(selector):
    assert slices_for_service(service(selector=selector), [pod("web-1")], NODES) == []


def test_external_name_service_gets_no_slices():
    svc = service(stype="ExternalName", cluster_ips=())
    assert slices_for_service(svc, [pod("web-1")], NODES) == []


def test_selector_service_without_pods_gets_one_placeholder_slice():
    # reconcileByAddressType: "When no endpoint slices would usually exist, we need to add a placeholder."
    slices = slices_for_service(service(), [], NODES)
    assert len(slices) == 1
    (sl,) = slices
    assert sl.ports == () and sl.endpoints == () and sl.address_type == "IPv4"
    assert sl.service_name == "web"
    assert sl.meta.labels["endpointslice.kubernetes.io/managed-by"] == MESHGATE_CONTROLLER


# --- which Pods become endpoints -----------------------------------------------------------


def test_selector_mismatch_and_other_namespace_are_excluded():
    pods = [
        pod("web-1", "10.0.0.1"),
        pod("web-extra-labels", "10.0.0.2", labels={"app": "web", "tier": "front"}),
        pod("api-1", "10.0.0.3", labels={"app": "api"}),
        pod("unlabelled", "10.0.0.4", labels={}),
        pod("web-elsewhere", "10.0.0.5", ns="other"),
    ]
    slices = slices_for_service(service(), pods, NODES)
    assert sorted(all_endpoints(slices)) == ["web-1", "web-extra-labels"]


@pytest.mark.parametrize("phase", ["Succeeded", "Failed"])
def test_terminal_pods_are_excluded(phase):
    pods = [pod("web-1", "10.0.0.1"), pod("web-2", "10.0.0.2", phase=phase)]
    assert sorted(all_endpoints(slices_for_service(service(), pods, NODES))) == ["web-1"]


@pytest.mark.parametrize("phase", ["Pending", "Running", "Unknown", None])
def test_non_terminal_pods_with_an_ip_are_included(phase):
    pods = [pod("web-1", "10.0.0.1", phase=phase)]
    assert sorted(all_endpoints(slices_for_service(service(), pods, NODES))) == ["web-1"]


def test_pod_without_ip_is_excluded():
    pods = [pod("web-1", "10.0.0.1"), pod("web-2", None)]
    assert sorted(all_endpoints(slices_for_service(service(), pods, NODES))) == ["web-1"]


def test_not_ready_pod_is_an_endpoint_with_ready_and_serving_false():
    pods = [pod("web-1", "10.0.0.1", ready=True), pod("web-2", "10.0.0.2", ready=False)]
    eps = all_endpoints(slices_for_service(service(), pods, NODES))
    assert (eps["web-1"].ready, eps["web-1"].serving, eps["web-1"].terminating) == (True, True, False)
    assert (eps["web-2"].ready, eps["web-2"].serving, eps["web-2"].terminating) == (False, False, False)


def test_endpoint_fields():
    (sl,) = slices_for_service(service(), [pod("web-1", "10.0.0.1", node="node-b")], NODES)
    (ep,) = sl.endpoints
    assert ep.addresses == ("10.0.0.1",)
    assert ep.node_name == "node-b"
    assert ep.zone == "zone-b"
    assert ep.target_ref == TargetRef("Pod", "shop", "web-1")
    assert ep.hints_zones is None and ep.hints_nodes is None


def test_zone_comes_from_the_node_label_and_is_none_without_it():
    nodes = {**NODES, "node-nozone": node("node-nozone", None), "node-empty": node("node-empty", "")}
    pods = [
        pod("a", "10.0.0.1", node="node-a"),
        pod("b", "10.0.0.2", node="node-b"),
        pod("c", "10.0.0.3", node="node-nozone"),
        pod("d", "10.0.0.4", node="node-empty"),
        pod("e", "10.0.0.5", node="node-missing"),
        pod("f", "10.0.0.6", node=None),
    ]
    eps = all_endpoints(slices_for_service(service(), pods, nodes))
    assert {n: e.zone for n, e in eps.items()} == {"a": "zone-a", "b": "zone-b", "c": None, "d": None,
                                                  "e": None, "f": None}
    assert eps["e"].node_name == "node-missing"
    assert eps["f"].node_name is None


# --- ports ----------------------------------------------------------------------------------


def test_numeric_target_port_is_used_as_is():
    svc = service(ports=(ServicePort("http", 80, 9376, "TCP", "http"),))
    pods = [pod("web-1", "10.0.0.1", ports=(ContainerPort("http", 1234, "TCP"),))]
    (sl,) = slices_for_service(svc, pods, NODES)
    assert sl.ports == (EndpointPort("http", 9376, "TCP", "http"),)


def test_named_target_port_is_looked_up_in_the_pods_container_ports():
    svc = service(ports=(ServicePort("web", 80, "http", "TCP", None), ServicePort("dns", 53, "dns", "UDP", None)))
    pods = [pod("web-1", "10.0.0.1", ports=(ContainerPort("metrics", 9090, "TCP"), ContainerPort("dns", 5353, "TCP"),
                                            ContainerPort("http", 8080, "TCP"), ContainerPort("dns", 5354, "UDP")))]
    (sl,) = slices_for_service(svc, pods, NODES)
    # FindPort: same name *and* protocol; the Service's port name and protocol on the slice.
    assert sl.ports == (EndpointPort("web", 8080, "TCP", None), EndpointPort("dns", 5354, "UDP", None))


def test_pods_with_different_numbers_for_a_named_port_get_separate_slices():
    svc = service(ports=(ServicePort("http", 80, "http", "TCP", None),))
    pods = [
        pod("web-1", "10.0.0.1", ports=(ContainerPort("http", 8080, "TCP"),)),
        pod("web-2", "10.0.0.2", ports=(ContainerPort("http", 8081, "TCP"),)),
        pod("web-3", "10.0.0.3", ports=(ContainerPort("http", 8080, "TCP"),)),
    ]
    slices = slices_for_service(svc, pods, NODES)
    assert [(sl.ports[0].port, endpoint_names(sl)) for sl in slices] == [(8080, ["web-1", "web-3"]),
                                                                         (8081, ["web-2"])]
    assert len({sl.meta.name for sl in slices}) == 2


def test_named_port_missing_on_a_pod_leaves_that_port_out_of_its_slice():
    # getEndpointPorts skips a port FindPort cannot resolve; the Pod keeps its endpoint, in the
    # group of slices for the ports it does have.
    svc = service(ports=(ServicePort("http", 80, "http", "TCP", None), ServicePort("admin", 81, 9000, "TCP", None)))
    pods = [
        pod("web-1", "10.0.0.1", ports=(ContainerPort("http", 8080, "TCP"),)),
        pod("web-2", "10.0.0.2", ports=(ContainerPort("other", 8080, "TCP"),)),
        pod("web-3", "10.0.0.3", ports=(ContainerPort("http", 8080, "UDP"),)),  # protocol must match too
    ]
    slices = slices_for_service(svc, pods, NODES)
    assert [(sl.ports, endpoint_names(sl)) for sl in slices] == [
        ((EndpointPort("http", 8080, "TCP", None), EndpointPort("admin", 9000, "TCP", None)), ["web-1"]),
        ((EndpointPort("admin", 9000, "TCP", None),), ["web-2", "web-3"]),
    ]


def test_pod_resolving_no_port_gets_a_slice_without_ports():
    svc = service(ports=(ServicePort("http", 80, "http", "TCP", None),))
    slices = slices_for_service(svc, [pod("web-1", "10.0.0.1")], NODES)
    assert [(sl.ports, endpoint_names(sl)) for sl in slices] == [((), ["web-1"])]


# --- slicing and names ----------------------------------------------------------------------


def test_250_pods_make_three_slices_of_100_100_50_with_stable_names():
    pods = [pod(f"web-{i:03d}", f"10.1.{i // 256}.{i % 256}") for i in range(250)]
    slices = slices_for_service(service(), list(reversed(pods)), NODES)
    assert [len(sl.endpoints) for sl in slices] == [100, 100, 50]
    assert all(len(sl.endpoints) <= MAX_ENDPOINTS_PER_SLICE for sl in slices)
    # Pods in name order, cut in order.
    assert endpoint_names(slices[0])[0] == "web-000" and endpoint_names(slices[2])[-1] == "web-249"
    assert [n for sl in slices for n in endpoint_names(sl)] == [f"web-{i:03d}" for i in range(250)]
    names = [sl.meta.name for sl in slices]
    prefix = names[0].rsplit("-", 1)[0]
    assert re.fullmatch(r"web-[0-9a-f]{10}", prefix)
    assert names == [f"{prefix}-0", f"{prefix}-1", f"{prefix}-2"]
    # The same input in any order gives the same slices.
    assert slices_for_service(service(), pods, NODES) == slices


def test_more_than_1000_pods_stay_within_100_per_slice():
    pods = [pod(f"p{i:04d}", f"10.2.{i // 256}.{i % 256}") for i in range(1234)]
    slices = slices_for_service(service(), pods, NODES)
    assert [len(sl.endpoints) for sl in slices] == [100] * 12 + [34]
    assert len({sl.meta.name for sl in slices}) == 13


def test_slice_name_depends_on_the_port_set_only():
    svc = service(ports=(ServicePort("http", 80, "http", "TCP", None),))
    one = slices_for_service(svc, [pod("a", ports=(ContainerPort("http", 8080, "TCP"),))], NODES)
    other_pod = slices_for_service(svc, [pod("z", "10.9.9.9", ports=(ContainerPort("http", 8080, "TCP"),))], NODES)
    other_port = slices_for_service(svc, [pod("a", ports=(ContainerPort("http", 8081, "TCP"),))], NODES)
    assert one[0].meta.name == other_pod[0].meta.name
    assert one[0].meta.name != other_port[0].meta.name


# --- metadata and labels --------------------------------------------------------------------


def test_labels_copy_the_service_labels_except_reserved_ones():
    svc = service(labels={"team": "shop", "kubernetes.io/service-name": "spoofed",
                          "endpointslice.kubernetes.io/managed-by": "someone-else",
                          "service.kubernetes.io/headless": "x"})
    (sl,) = slices_for_service(svc, [pod("web-1")], NODES)
    assert sl.meta.labels == {
        "team": "shop",
        "kubernetes.io/service-name": "web",
        "endpointslice.kubernetes.io/managed-by": "meshgate.io/endpointslice-controller",
    }
    assert sl.service_name == "web"


def test_headless_service_slices_carry_the_headless_label():
    (sl,) = slices_for_service(service(cluster_ips=("None",)), [pod("web-1")], NODES)
    assert sl.meta.labels["service.kubernetes.io/headless"] == ""
    assert sl.address_type == "IPv4"


def test_metadata_and_source_come_from_the_service():
    (sl,) = slices_for_service(service(), [pod("web-1")], NODES)
    assert sl.meta.namespace == "shop"
    assert sl.meta.generation == 1
    assert sl.meta.creation_timestamp == CREATED
    assert sl.meta.uid == object_uid("EndpointSlice", "shop", sl.meta.name)
    assert sl.source == SRC
    assert sl.meta.annotations == {}


# --- address families -----------------------------------------------------------------------


def test_ipv6_service_gets_ipv6_slices_with_the_pods_ipv6_address():
    svc = service(cluster_ips=("fd00::a",))
    pods = [pod("web-1", ips=("10.0.0.1", "FD00:0:0::0001")), pod("web-2", ips=("10.0.0.2",))]
    (sl,) = slices_for_service(svc, pods, NODES)
    assert sl.address_type == "IPv6"
    assert [e.addresses for e in sl.endpoints] == [("fd00::1",)]


def test_ipv4_service_ignores_the_pods_ipv6_address():
    pods = [pod("web-1", ips=("fd00::1", "10.0.0.1"))]
    (sl,) = slices_for_service(service(), pods, NODES)
    assert sl.address_type == "IPv4"
    assert sl.endpoints[0].addresses == ("10.0.0.1",)


def test_ipv4_mapped_ipv6_pod_address_counts_as_ipv4():
    # Go's net.IP treats ::ffff:a.b.c.d as IPv4 and prints it as a.b.c.d.
    (sl,) = slices_for_service(service(), [pod("web-1", ips=("::ffff:10.0.0.7",))], NODES)
    assert sl.address_type == "IPv4"
    assert sl.endpoints[0].addresses == ("10.0.0.7",)


def test_service_without_cluster_ip_takes_the_pods_families():
    svc = service(cluster_ips=())
    (v6,) = slices_for_service(svc, [pod("web-1", ips=("fd00::1",))], NODES)
    assert v6.address_type == "IPv6"
    (v4,) = slices_for_service(svc, [pod("web-1", "10.0.0.1")], NODES)
    assert v4.address_type == "IPv4"


def test_dual_stack_service_gets_one_slice_per_family_with_distinct_names():
    svc = service(cluster_ips=("fd00::a", "10.96.0.10"))
    slices = slices_for_service(svc, [pod("web-1", ips=("10.0.0.1", "fd00::1"))], NODES)
    assert [(sl.address_type, sl.endpoints[0].addresses) for sl in slices] == [("IPv4", ("10.0.0.1",)),
                                                                               ("IPv6", ("fd00::1",))]
    assert slices[0].meta.name != slices[1].meta.name


# --- from YAML, as standalone mode reads it -------------------------------------------------

YAML = """
apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop, labels: {team: shop}}
spec:
  selector: {app: web}
  ports: [{name: http, port: 80, targetPort: http}]
---
apiVersion: v1
kind: Node
metadata: {name: node-a, labels: {topology.kubernetes.io/zone: zone-a}}
---
apiVersion: v1
kind: Pod
metadata: {name: web-1, namespace: shop, labels: {app: web}}
spec:
  nodeName: node-a
  containers: [{name: c, image: x, ports: [{name: http, containerPort: 8080}]}]
status:
  phase: Running
  podIP: 10.0.0.1
  conditions: [{type: Ready, status: "True"}]
---
apiVersion: v1
kind: Pod
metadata: {name: web-2, namespace: shop, labels: {app: web}}
spec:
  nodeName: node-b
  containers: [{name: c, image: x, ports: [{name: http, containerPort: 8080}]}]
status:
  phase: Running
  podIPs: [{ip: 10.0.0.2}]
  conditions: [{type: Ready, status: "False"}]
"""


def test_slices_from_loaded_yaml():
    result = load_text(YAML, "all.yaml", CREATED)
    assert not result.failed, result.errors
    svc = next(o for o in result.objects if o.kind == "Service")
    pods = [o for o in result.objects if o.kind == "Pod"]
    nodes = {o.meta.name: o for o in result.objects if o.kind == "Node"}
    (sl,) = slices_for_service(svc, pods, nodes)
    assert sl.ports == (EndpointPort("http", 8080, "TCP", None),)
    assert [(e.target_ref.name, e.addresses, e.ready, e.node_name, e.zone) for e in sl.endpoints] == [
        ("web-1", ("10.0.0.1",), True, "node-a", "zone-a"),
        ("web-2", ("10.0.0.2",), False, "node-b", None),
    ]
    assert sl.source == svc.source
    assert sl.meta.labels["team"] == "shop"
