"""Waypoints and what they capture, as Istio's ambient index decides it.

Cases follow Istio's pilot/pkg/serviceregistry/kube/controller/ambient (waypoints.go:
fetchWaypointForTarget, fetchWaypointForService, getUseWaypoint, makeAllowedRoutes;
services.go: ingressUseWaypointFromLabels) and their tests, in meshgate's terms.
"""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from meshgate.discovery.waypoints import (
    INGRESS_USE_WAYPOINT,
    USE_WAYPOINT,
    USE_WAYPOINT_NAMESPACE,
    WAYPOINT_FOR,
    AllowedNamespaces,
    Capture,
    capture,
    captures,
    explain_rows,
    ingress_uses_waypoint,
    waypoints,
)
from meshgate.resources.gateway_api import LabelSelector
from meshgate.resources.loader import load_text
from meshgate.store import Store

CREATED = "2026-01-02T03:04:05Z"
HBONE = {"name": "mesh", "port": 15008, "protocol": "HBONE"}
PROXY = {"name": "proxy", "port": 15088, "protocol": "istio.io/PROXY"}
FROM_ALL = {"namespaces": {"from": "All"}}


# --------------------------------------------------------------------------------------------
# Builders
# --------------------------------------------------------------------------------------------


def meta(name: str, ns: str | None = None, labels: dict[str, str] | None = None,
         annotations: dict[str, str] | None = None) -> dict[str, Any]:
    m: dict[str, Any] = {"name": name}
    if ns is not None:
        m["namespace"] = ns
    if labels:
        m["labels"] = labels
    if annotations:
        m["annotations"] = annotations
    return m


def namespace(name: str, **labels: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": meta(name, labels=_labels(labels))}


def _labels(kw: dict[str, str]) -> dict[str, str]:
    """Keyword arguments as labels: use_waypoint= → istio.io/use-waypoint, and so on."""
    names = {"use_waypoint": USE_WAYPOINT, "use_waypoint_namespace": USE_WAYPOINT_NAMESPACE,
             "waypoint_for": WAYPOINT_FOR, "ingress": INGRESS_USE_WAYPOINT}
    return {names.get(k, k): v for k, v in kw.items()}


def service(name: str = "web", ns: str = "shop", cluster_ip: str | None = "10.96.0.10",
            stype: str | None = None, **labels: str) -> dict[str, Any]:
    spec: dict[str, Any] = {"ports": [{"name": "http", "port": 80}], "selector": {"app": name}}
    if cluster_ip is not None:
        spec["clusterIP"] = cluster_ip
    if stype == "ExternalName":
        spec = {"type": "ExternalName", "externalName": "example.com"}
    return {"apiVersion": "v1", "kind": "Service", "metadata": meta(name, ns, _labels(labels)), "spec": spec}


def service_entry(name: str = "api", ns: str = "shop", addresses: tuple[str, ...] = ("240.0.0.1",),
                  allocated: tuple[tuple[str, str], ...] = (), resolution: str = "STATIC",
                  hosts: tuple[str, ...] = (), **labels: str) -> dict[str, Any]:
    """A ServiceEntry; `allocated`: its status.addresses as (host, value), as Istio's allocator
    writes them."""
    spec: dict[str, Any] = {
        "hosts": list(hosts or (f"{name}.example.com",)),
        "ports": [{"number": 80, "name": "http", "protocol": "HTTP"}],
        "location": "MESH_INTERNAL",
        "resolution": resolution,
    }
    if resolution == "STATIC":
        spec["endpoints"] = [{"address": "10.1.1.1"}]
    if addresses:
        spec["addresses"] = list(addresses)
    out = {"apiVersion": "networking.istio.io/v1", "kind": "ServiceEntry",
           "metadata": meta(name, ns, _labels(labels)), "spec": spec}
    if allocated:
        out["status"] = {"addresses": [{"host": h, "value": v} for h, v in allocated]}
    return out


def gateway(name: str = "wp", ns: str = "shop", cls: str = "meshgate-waypoint",
            listeners: list[dict[str, Any]] | None = None, annotations: dict[str, str] | None = None,
            **labels: str) -> dict[str, Any]:
    return {"apiVersion": "gateway.networking.k8s.io/v1", "kind": "Gateway",
            "metadata": meta(name, ns, _labels(labels), annotations),
            "spec": {"gatewayClassName": cls, "listeners": listeners if listeners is not None else [HBONE]}}


def gateway_class(name: str, controller: str = "meshgate.io/gateway-controller",
                  annotations: dict[str, str] | None = None, **labels: str) -> dict[str, Any]:
    return {"apiVersion": "gateway.networking.k8s.io/v1", "kind": "GatewayClass",
            "metadata": meta(name, labels=_labels(labels), annotations=annotations),
            "spec": {"controllerName": controller}}


def listener(base: dict[str, Any], **extra: Any) -> dict[str, Any]:
    out = dict(base)
    if "allowed" in extra:
        out["allowedRoutes"] = extra.pop("allowed")
    out.update(extra)
    return out


def store_of(*objects: dict[str, Any]) -> Store:
    result = load_text(yaml.safe_dump_all(objects, sort_keys=False), "waypoints.yaml", CREATED)
    assert not result.errors, [str(e) for e in result.errors]
    store, errors = Store.from_load(result)
    assert not errors
    return store


def cap(store: Store, kind: str = "Service", ns: str = "shop", name: str = "web") -> Capture:
    return capture(store, kind, ns, name, waypoints(store))


# --------------------------------------------------------------------------------------------
# Waypoint Gateways
# --------------------------------------------------------------------------------------------


def test_waypoint_classes_and_listeners() -> None:
    store = store_of(
        gateway("a", cls="meshgate-waypoint", listeners=[HBONE, {"name": "http", "port": 80, "protocol": "HTTP"}]),
        gateway("b", cls="istio-waypoint", listeners=[PROXY]),
        gateway("ingress", cls="meshgate", listeners=[HBONE]),  # not a waypoint class
        gateway("plain", cls="meshgate-waypoint", listeners=[{"name": "http", "port": 80, "protocol": "HTTP"}]),
    )
    index = waypoints(store)
    assert sorted(index) == [("shop", "a"), ("shop", "b")]
    assert index[("shop", "a")].ports == (80, 15008)
    assert index[("shop", "a")].class_name == "meshgate-waypoint"
    assert index[("shop", "b")].ports == (15088,)


def test_waypoint_class_object_of_another_controller_is_not_ours() -> None:
    store = store_of(
        gateway_class("istio-waypoint", controller="istio.io/mesh-controller"),
        gateway("b", cls="istio-waypoint"),
        gateway("a", cls="meshgate-waypoint"),
    )
    assert sorted(waypoints(store)) == [("shop", "a")]
    c = capture(store_of(
        gateway_class("istio-waypoint", controller="istio.io/mesh-controller"),
        gateway("wp", cls="istio-waypoint"),
        service(use_waypoint="wp"),
    ), "Service", "shop", "web", None)
    assert c.waypoint is None
    assert c.reason == ("waypoint shop/wp not found: Gateway shop/wp is not a waypoint (GatewayClass "
                        "istio-waypoint belongs to controller istio.io/mesh-controller) (use-waypoint=wp on the Service)")


@pytest.mark.parametrize(
    ("name", "class_labels", "gateway_labels", "want", "warns"),
    [
        ("default is service", None, {}, "service", False),
        ("Gateway label", None, {"waypoint_for": "workload"}, "workload", False),
        ("class label", {"waypoint_for": "all"}, {}, "all", False),
        ("Gateway label beats the class's", {"waypoint_for": "workload"}, {"waypoint_for": "service"}, "service", False),
        ("none", None, {"waypoint_for": "none"}, "none", False),
        ("invalid value captures nothing", None, {"waypoint_for": "Service"}, "none", True),
        ("invalid class value", {"waypoint_for": "everything"}, {}, "none", True),
    ],
)
def test_waypoint_for(name: str, class_labels: dict[str, str] | None, gateway_labels: dict[str, str],
                      want: str, warns: bool) -> None:
    objs = [gateway(**gateway_labels)]
    if class_labels is not None:
        objs.append(gateway_class("meshgate-waypoint", **class_labels))
    wp = waypoints(store_of(*objs))[("shop", "wp")]
    assert wp.waypoint_for == want
    assert bool(wp.warnings) == warns
    if warns:
        assert "captures nothing" in wp.warnings[0]


@pytest.mark.parametrize(
    ("name", "cls", "listeners", "annotations", "class_annotations", "want"),
    [
        ("no allowedRoutes: Same", "istio-waypoint", [HBONE], None, None, AllowedNamespaces("Same", None, "mesh")),
        ("HBONE on 15008 allows All", "istio-waypoint", [listener(HBONE, allowed=FROM_ALL)], None, None,
         AllowedNamespaces("All", None, "mesh")),
        ("HBONE on another port is not the one: Same", "istio-waypoint",
         [listener(HBONE, port=15009, allowed=FROM_ALL)], None, None, AllowedNamespaces("Same")),
        ("istio-waypoint: a PROXY listener is not bound without the annotation", "istio-waypoint",
         [listener(PROXY, allowed=FROM_ALL)], None, None, AllowedNamespaces("Same")),
        ("meshgate-waypoint binds PROXY/15088 by default", "meshgate-waypoint",
         [listener(HBONE), listener(PROXY, allowed=FROM_ALL)], None, None, AllowedNamespaces("All", None, "proxy")),
        ("meshgate-waypoint without a PROXY listener: the HBONE one", "meshgate-waypoint",
         [listener(HBONE, allowed=FROM_ALL)], None, None, AllowedNamespaces("All", None, "mesh")),
        ("annotation PROXY: the first istio.io/PROXY listener", "istio-waypoint",
         [listener(PROXY, port=15015, allowed=FROM_ALL)], {"ambient.istio.io/waypoint-inbound-binding": "PROXY"},
         None, AllowedNamespaces("All", None, "proxy")),
        ("annotation PROXY/port: the listener on that port", "istio-waypoint",
         [listener(PROXY, name="other", port=15089), listener(PROXY, port=15088, allowed=FROM_ALL)],
         {"ambient.istio.io/waypoint-inbound-binding": "PROXY/15088"}, None, AllowedNamespaces("All", None, "proxy")),
        ("annotation on the class object", "istio-waypoint",
         [listener(HBONE), listener(PROXY, allowed=FROM_ALL)], None,
         {"ambient.istio.io/waypoint-inbound-binding": "PROXY/15088"}, AllowedNamespaces("All", None, "proxy")),
        ("Gateway annotation beats the class default", "meshgate-waypoint",
         [listener(HBONE, allowed=FROM_ALL), listener(PROXY)],
         {"ambient.istio.io/waypoint-inbound-binding": "NONE"}, None, AllowedNamespaces("All", None, "mesh")),
        ("Selector", "istio-waypoint",
         [listener(HBONE, allowed={"namespaces": {"from": "Selector", "selector": {"matchLabels": {"mesh": "yes"}}}})],
         None, None, AllowedNamespaces("Selector", LabelSelector((("mesh", "yes"),)), "mesh")),
    ],
)
def test_allowed_namespaces_listener(name: str, cls: str, listeners: list[dict[str, Any]],
                                     annotations: dict[str, str] | None, class_annotations: dict[str, str] | None,
                                     want: AllowedNamespaces) -> None:
    objs = [gateway(cls=cls, listeners=listeners, annotations=annotations)]
    if class_annotations is not None:
        objs.append(gateway_class(cls, annotations=class_annotations))
    assert waypoints(store_of(*objs))[("shop", "wp")].allowed_namespaces == want


# --------------------------------------------------------------------------------------------
# Capture
# --------------------------------------------------------------------------------------------

ALL_WP = gateway("wp", ns="infra", listeners=[listener(HBONE, allowed=FROM_ALL)])


@pytest.mark.parametrize(
    ("name", "objects", "want"),
    [
        ("no label anywhere",
         [gateway(), service()],
         (None, "none", "no use-waypoint label")),
        ("label on the Service",
         [gateway(), service(use_waypoint="wp")],
         (("shop", "wp"), "object label", "use-waypoint=wp on the Service")),
        ("label on the Namespace",
         [namespace("shop", use_waypoint="wp"), gateway(), service()],
         (("shop", "wp"), "namespace label", "namespace shop has use-waypoint=wp")),
        ("none on the Service beats the Namespace's waypoint",
         [namespace("shop", use_waypoint="wp"), gateway(), service(use_waypoint="none")],
         (None, "object label", "opted out: use-waypoint=none on the Service")),
        ("none on the Namespace",
         [namespace("shop", use_waypoint="none"), gateway(), service()],
         (None, "namespace label", "opted out: namespace shop has use-waypoint=none")),
        ("the Service's waypoint beats the Namespace's none",
         [namespace("shop", use_waypoint="none"), gateway(), service(use_waypoint="wp")],
         (("shop", "wp"), "object label", "use-waypoint=wp on the Service")),
        ("the Service's waypoint beats the Namespace's",
         [namespace("shop", use_waypoint="ns-wp"), gateway("ns-wp"), gateway("svc-wp"), service(use_waypoint="svc-wp")],
         (("shop", "svc-wp"), "object label", "use-waypoint=svc-wp on the Service")),
        ("a missing waypoint on the Service does not fall back to the Namespace's",
         [namespace("shop", use_waypoint="wp"), gateway(), service(use_waypoint="gone")],
         (None, "object label", "waypoint shop/gone not found (use-waypoint=gone on the Service)")),
        ("missing waypoint named by the Namespace",
         [namespace("shop", use_waypoint="gone"), service()],
         (None, "namespace label", "waypoint shop/gone not found (namespace shop has use-waypoint=gone)")),
        ("an empty label value names no waypoint",
         [namespace("shop", use_waypoint="wp"), gateway(), service(use_waypoint="")],
         (None, "object label", "waypoint shop/ not found: istio.io/use-waypoint is empty (use-waypoint= on the Service)")),
        ("a Gateway that is not a waypoint",
         [gateway("wp", cls="meshgate"), service(use_waypoint="wp")],
         (None, "object label", ("waypoint shop/wp not found: Gateway shop/wp is not a waypoint (class meshgate is "
                                 "not a waypoint class (meshgate-waypoint, istio-waypoint)) (use-waypoint=wp on the Service)"))),
        ("use-waypoint-namespace on the Service",
         [ALL_WP, service(use_waypoint="wp", use_waypoint_namespace="infra")],
         (("infra", "wp"), "object label", "use-waypoint=wp, use-waypoint-namespace=infra on the Service")),
        ("use-waypoint-namespace on the Namespace",
         [namespace("shop", use_waypoint="wp", use_waypoint_namespace="infra"), ALL_WP, service()],
         (("infra", "wp"), "namespace label", "namespace shop has use-waypoint=wp, use-waypoint-namespace=infra")),
        ("the Service's use-waypoint-namespace does not apply to the Namespace's use-waypoint",
         [namespace("shop", use_waypoint="wp"), ALL_WP, gateway("wp", ns="shop"), service(use_waypoint_namespace="infra")],
         (("shop", "wp"), "namespace label", "namespace shop has use-waypoint=wp")),
        ("the default namespace is the Service's, not the waypoint-less Namespace's",
         [namespace("shop", use_waypoint="wp"), ALL_WP, service()],
         (None, "namespace label", "waypoint shop/wp not found (namespace shop has use-waypoint=wp)")),
        ("a waypoint in another namespace allows only its own by default",
         [gateway("wp", ns="infra"), service(use_waypoint="wp", use_waypoint_namespace="infra")],
         (None, "object label", ("waypoint infra/wp does not allow namespace shop (from: Same on listener mesh; "
                                 "use-waypoint=wp, use-waypoint-namespace=infra on the Service)"))),
        ("Selector matching the Namespace's labels",
         [namespace("shop", mesh="yes"),
          gateway("wp", ns="infra", listeners=[listener(HBONE, allowed={"namespaces": {
              "from": "Selector", "selector": {"matchLabels": {"mesh": "yes"}}}})]),
          service(use_waypoint="wp", use_waypoint_namespace="infra")],
         (("infra", "wp"), "object label", "use-waypoint=wp, use-waypoint-namespace=infra on the Service")),
        ("Selector not matching",
         [namespace("shop", mesh="no"),
          gateway("wp", ns="infra", listeners=[listener(HBONE, allowed={"namespaces": {
              "from": "Selector", "selector": {"matchLabels": {"mesh": "yes"}}}})]),
          service(use_waypoint="wp", use_waypoint_namespace="infra")],
         (None, "object label", ("waypoint infra/wp does not allow namespace shop (from: Selector {mesh=yes} on "
                                 "listener mesh; use-waypoint=wp, use-waypoint-namespace=infra on the Service)"))),
        ("Selector on the name label of a Namespace with no object",
         [gateway("wp", ns="infra", listeners=[listener(HBONE, allowed={"namespaces": {
             "from": "Selector", "selector": {"matchLabels": {"kubernetes.io/metadata.name": "shop"}}}})]),
          service(use_waypoint="wp", use_waypoint_namespace="infra")],
         (("infra", "wp"), "object label", "use-waypoint=wp, use-waypoint-namespace=infra on the Service")),
        ("waypoint-for workload does not capture services",
         [gateway(waypoint_for="workload"), service(use_waypoint="wp")],
         (None, "object label", ("waypoint shop/wp does not capture services (waypoint-for: workload; "
                                 "use-waypoint=wp on the Service)"))),
        ("waypoint-for all captures services",
         [gateway(waypoint_for="all"), service(use_waypoint="wp")],
         (("shop", "wp"), "object label", "use-waypoint=wp on the Service")),
        ("waypoint-for none captures nothing",
         [gateway(waypoint_for="none"), service(use_waypoint="wp")],
         (None, "object label", ("waypoint shop/wp does not capture services (waypoint-for: none; "
                                 "use-waypoint=wp on the Service)"))),
        ("waypoint-for workload from the class",
         [gateway_class("meshgate-waypoint", waypoint_for="workload"), gateway(), service(use_waypoint="wp")],
         (None, "object label", ("waypoint shop/wp does not capture services (waypoint-for: workload; "
                                 "use-waypoint=wp on the Service)"))),
        ("the Gateway's waypoint-for beats the class's",
         [gateway_class("meshgate-waypoint", waypoint_for="workload"), gateway(waypoint_for="service"),
          service(use_waypoint="wp")],
         (("shop", "wp"), "object label", "use-waypoint=wp on the Service")),
        ("namespace permission is checked before waypoint-for",
         [gateway("wp", ns="infra", waypoint_for="workload"), service(use_waypoint="wp", use_waypoint_namespace="infra")],
         (None, "object label", ("waypoint infra/wp does not allow namespace shop (from: Same on listener mesh; "
                                 "use-waypoint=wp, use-waypoint-namespace=infra on the Service)"))),
        ("headless Service",
         [gateway(), service(cluster_ip="None", use_waypoint="wp")],
         (None, "object label", "headless Service (no VIP): not captured (use-waypoint=wp on the Service)")),
        ("headless Service in a captured namespace",
         [namespace("shop", use_waypoint="wp"), gateway(), service(cluster_ip="None")],
         (None, "namespace label", "headless Service (no VIP): not captured (namespace shop has use-waypoint=wp)")),
        ("headless Service without a label",
         [gateway(), service(cluster_ip="None")],
         (None, "none", "no use-waypoint label")),
        ("Service without a clusterIP",
         [gateway(), service(cluster_ip=None, use_waypoint="wp")],
         (None, "object label", "Service without a clusterIP (no VIP): not captured (use-waypoint=wp on the Service)")),
        ("ExternalName Service",
         [namespace("shop", use_waypoint="wp"), gateway(), service(stype="ExternalName")],
         (None, "none", "ExternalName Service: not captured (not part of the ambient mesh)")),
        ("a waypoint's own Service",
         [namespace("shop", use_waypoint="wp"), gateway(), service(**{"gateway.istio.io/managed": "istio.io-mesh-controller"})],
         (None, "none", "a waypoint's own Service: not captured")),
    ],
)
def test_service_capture(name: str, objects: list[dict[str, Any]], want: tuple[Any, str, str]) -> None:
    c = cap(store_of(*objects))
    assert (c.waypoint, c.source, c.reason) == want
    assert c.captured == (want[0] is not None)


@pytest.mark.parametrize(
    ("name", "objects", "want"),
    [
        ("label on the ServiceEntry",
         [gateway(), service_entry(use_waypoint="wp")],
         (("shop", "wp"), "object label", "use-waypoint=wp on the ServiceEntry")),
        ("label on the Namespace",
         [namespace("shop", use_waypoint="wp"), gateway(), service_entry()],
         (("shop", "wp"), "namespace label", "namespace shop has use-waypoint=wp")),
        ("none on the ServiceEntry",
         [namespace("shop", use_waypoint="wp"), gateway(), service_entry(use_waypoint="none")],
         (None, "object label", "opted out: use-waypoint=none on the ServiceEntry")),
        ("cross-namespace waypoint",
         [ALL_WP, service_entry(use_waypoint="wp", use_waypoint_namespace="infra")],
         (("infra", "wp"), "object label", "use-waypoint=wp, use-waypoint-namespace=infra on the ServiceEntry")),
        ("without addresses and none allocated there is no VIP",
         [gateway(), service_entry(addresses=(), use_waypoint="wp")],
         (None, "object label", ("ServiceEntry without an IP address (no VIP: no spec.addresses and none "
                                 "allocated in status.addresses): not captured (use-waypoint=wp on the ServiceEntry)"))),
        ("a CIDR is not a VIP",
         [gateway(), service_entry(addresses=("240.0.0.0/24",), use_waypoint="wp")],
         (None, "object label", ("ServiceEntry without an IP address (only CIDRs, no VIP): not captured "
                                 "(use-waypoint=wp on the ServiceEntry)"))),
        # Istio's constructServiceEntries: without spec.addresses, the allocated addresses of
        # status.addresses are the VIPs (kgateway #14390).
        ("allocated addresses are VIPs",
         [gateway(), service_entry(addresses=(), allocated=(("api.example.com", "240.240.0.1"),), use_waypoint="wp")],
         (("shop", "wp"), "object label", "use-waypoint=wp on the ServiceEntry")),
        ("allocated addresses for another host do not count",
         [gateway(), service_entry(addresses=(), allocated=(("other.example.com", "240.240.0.1"),), use_waypoint="wp")],
         (None, "object label", ("ServiceEntry without an IP address (no VIP: no spec.addresses and none "
                                 "allocated in status.addresses): not captured (use-waypoint=wp on the ServiceEntry)"))),
        ("spec.addresses win over allocated ones (a CIDR still counts as written)",
         [gateway(), service_entry(addresses=("240.0.0.0/24",), allocated=(("api.example.com", "240.240.0.1"),),
                                   use_waypoint="wp")],
         (None, "object label", ("ServiceEntry without an IP address (only CIDRs, no VIP): not captured "
                                 "(use-waypoint=wp on the ServiceEntry)"))),
        ("allocated addresses are not used for resolution NONE",
         [gateway(), service_entry(addresses=(), allocated=(("api.example.com", "240.240.0.1"),), resolution="NONE",
                                   use_waypoint="wp")],
         (None, "object label", ("ServiceEntry without an IP address (no VIP; no allocated address for resolution "
                                 "NONE or with networking.istio.io/enable-autoallocate-ip: false): not captured "
                                 "(use-waypoint=wp on the ServiceEntry)"))),
        ("allocated addresses are not used when the entry opts out of allocation",
         [gateway(), service_entry(addresses=(), allocated=(("api.example.com", "240.240.0.1"),), use_waypoint="wp",
                                   **{"networking.istio.io/enable-autoallocate-ip": "False"})],
         (None, "object label", ("ServiceEntry without an IP address (no VIP; no allocated address for resolution "
                                 "NONE or with networking.istio.io/enable-autoallocate-ip: false): not captured "
                                 "(use-waypoint=wp on the ServiceEntry)"))),
        ("no allocated address for a wildcard host",
         [gateway(), service_entry(addresses=(), allocated=(("*.api.example.com", "240.240.0.1"),),
                                   hosts=("*.api.example.com",), use_waypoint="wp")],
         (None, "object label", ("ServiceEntry without an IP address (no VIP: no spec.addresses and none "
                                 "allocated in status.addresses): not captured (use-waypoint=wp on the ServiceEntry)"))),
        ("the waypoint's own-Service rule is for Services only",
         [gateway(), service_entry(use_waypoint="wp", **{"gateway.istio.io/managed": "istio.io-mesh-controller"})],
         (("shop", "wp"), "object label", "use-waypoint=wp on the ServiceEntry")),
    ],
)
def test_service_entry_capture(name: str, objects: list[dict[str, Any]], want: tuple[Any, str, str]) -> None:
    c = cap(store_of(*objects), "ServiceEntry", name="api")
    assert c.kind == "ServiceEntry"
    assert (c.waypoint, c.source, c.reason) == want


def test_invalid_waypoint_for_explained_in_capture() -> None:
    c = cap(store_of(gateway(waypoint_for="services"), service(use_waypoint="wp")))
    assert c.waypoint is None
    assert c.reason.startswith("waypoint shop/wp does not capture services (waypoint-for: none; "
                               "istio.io/waypoint-for 'services' on the Gateway is not one of")


def test_capture_of_missing_object_and_other_kinds() -> None:
    store = store_of(gateway())
    assert cap(store).reason == "Service shop/web not found"
    assert capture(store, "Pod", "shop", "web", None).reason == "Pod is not a Service or ServiceEntry"


def test_captures_lists_every_service_and_service_entry_in_order() -> None:
    store = store_of(
        namespace("b", use_waypoint="wp"),
        gateway("wp", ns="b"),
        service_entry("z", ns="a"),
        service("y", ns="b"),
        service("x", ns="b", use_waypoint="none"),
        service("w", ns="a"),
        service_entry("v", ns="b"),
    )
    got = [(c.kind, c.namespace, c.name, c.waypoint) for c in captures(store)]
    assert got == [
        ("Service", "a", "w", None),
        ("Service", "b", "x", None),
        ("Service", "b", "y", ("b", "wp")),
        ("ServiceEntry", "a", "z", None),
        ("ServiceEntry", "b", "v", ("b", "wp")),
    ]


# --------------------------------------------------------------------------------------------
# Ingress to waypoint
# --------------------------------------------------------------------------------------------


SWITCH_OFF = "global switch off (INGRESS_USE_WAYPOINTS): ingress-use-waypoint labels are inert"


@pytest.mark.parametrize(
    ("name", "obj_label", "ns_label", "global_on", "want", "reason"),
    [
        ("no label, switch on", None, None, True, True, "no ingress-use-waypoint label: global switch on"),
        ("no label, switch off", None, None, False, False, SWITCH_OFF),
        # Switch off: the labels are inert (Istio's ENABLE_INGRESS_WAYPOINT_ROUTING, kgateway's
        # INGRESS_USE_WAYPOINTS: neither reads the label when off).
        ("switch off makes object true inert", "true", None, False, False, SWITCH_OFF),
        ("switch off makes namespace true inert", None, "true", False, False, SWITCH_OFF),
        ("switch off makes object 1 inert", "1", "true", False, False, SWITCH_OFF),
        ("object false beats switch on", "false", None, True, False, "ingress-use-waypoint=false on the {kind}"),
        ("namespace false beats switch on", None, "false", True, False, "ingress-use-waypoint=false on namespace shop"),
        ("object false beats namespace true", "false", "true", True, False, "ingress-use-waypoint=false on the {kind}"),
        ("object true beats namespace false", "true", "false", True, True, "ingress-use-waypoint=true on the {kind}"),
        ("ParseBool: True", "True", "false", True, True, "ingress-use-waypoint=True on the {kind}"),
        ("ParseBool: 1", "1", "false", True, True, "ingress-use-waypoint=1 on the {kind}"),
        ("ParseBool: F", None, "F", True, False, "ingress-use-waypoint=F on namespace shop"),
        ("not a boolean is false, and still wins", "yes", "true", True, False,
         "ingress-use-waypoint=yes on the {kind} is not a boolean: treated as false"),
    ],
)
@pytest.mark.parametrize("kind", ["Service", "ServiceEntry"])
def test_ingress_uses_waypoint(kind: str, name: str, obj_label: str | None, ns_label: str | None, global_on: bool,
                               want: bool, reason: str) -> None:
    obj_labels = {"use_waypoint": "wp"} | ({"ingress": obj_label} if obj_label is not None else {})
    ns_labels = {"ingress": ns_label} if ns_label is not None else {}
    obj = service(**obj_labels) if kind == "Service" else service_entry("web", **obj_labels)
    store = store_of(namespace("shop", **ns_labels), gateway(), obj)
    assert ingress_uses_waypoint(store, kind, "shop", "web", global_on) == (want, reason.format(kind=kind))


# --------------------------------------------------------------------------------------------
# explain
# --------------------------------------------------------------------------------------------


def test_explain_rows() -> None:
    store = store_of(
        namespace("shop", use_waypoint="wp", ingress="false"),
        gateway(),
        service("a", ingress="true"),
        service("b"),
        service("c", use_waypoint="none", ingress="true"),
        service_entry("d", use_waypoint="gone"),
    )
    rows = explain_rows(store)
    assert rows == [
        {"kind": "Service", "namespace": "shop", "name": "a", "waypoint": "shop/wp", "source": "namespace label",
         "reason": "namespace shop has use-waypoint=wp", "ingress_use_waypoint": True,
         "ingress_reason": "ingress-use-waypoint=true on the Service"},
        {"kind": "Service", "namespace": "shop", "name": "b", "waypoint": "shop/wp", "source": "namespace label",
         "reason": "namespace shop has use-waypoint=wp", "ingress_use_waypoint": False,
         "ingress_reason": "ingress-use-waypoint=false on namespace shop"},
        {"kind": "Service", "namespace": "shop", "name": "c", "waypoint": "", "source": "object label",
         "reason": "opted out: use-waypoint=none on the Service", "ingress_use_waypoint": False,
         "ingress_reason": "not captured"},
        {"kind": "ServiceEntry", "namespace": "shop", "name": "d", "waypoint": "", "source": "object label",
         "reason": "waypoint shop/gone not found (use-waypoint=gone on the ServiceEntry)",
         "ingress_use_waypoint": False, "ingress_reason": "not captured"},
    ]


def test_explain_rows_ingress_defaults_to_the_global_switch_on() -> None:
    rows = explain_rows(store_of(gateway(), service(use_waypoint="wp")))
    assert [(r["waypoint"], r["ingress_use_waypoint"], r["ingress_reason"]) for r in rows] == [
        ("shop/wp", True, "no ingress-use-waypoint label: global switch on")]


@pytest.mark.parametrize(
    ("binding", "want_listener", "warning"),
    [
        ("PROXY/abc", "proxy", "invalid port 'abc'"),  # Istio warns and goes on with port 0
        ("HBONE", "mesh", "protocol must be NONE or PROXY"),
        ("PROXY/15088/x", "mesh", "is not <protocol> or <protocol>/<port>"),
    ],
)
def test_invalid_inbound_binding(binding: str, want_listener: str, warning: str) -> None:
    gw = gateway(cls="istio-waypoint", listeners=[listener(HBONE), listener(PROXY, port=15090)],
                 annotations={"ambient.istio.io/waypoint-inbound-binding": binding})
    wp = waypoints(store_of(gw))[("shop", "wp")]
    assert wp.allowed_namespaces.listener == want_listener
    assert len(wp.warnings) == 1 and warning in wp.warnings[0]
