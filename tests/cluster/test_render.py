"""What provisioning creates for a Gateway (cluster/render.py): a golden file beside this test
(`make golden` regenerates it; review the diff), and the rules that hold whatever the input."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from meshgate import ir
from meshgate.cluster.apply import APPLIED_HASH, needs_write, replacement, with_hash
from meshgate.cluster.names import MAX_NAME, proxy_name
from meshgate.cluster.render import GatewayOwner, ProxyDefaults, proxy_objects
from meshgate.pipeline import translate_store
from meshgate.store import Store

from ..golden.harness import load_case, own_cases

GOLDEN = Path(__file__).parent / "golden" / "proxy-objects.yaml"
DEFAULTS = ProxyDefaults(image="envoyproxy/envoy:v1.40.0", xds_host="meshgate.meshgate-system.svc")


def _owned() -> list[tuple[ir.GatewayConfig, GatewayOwner]]:
    """The golden case's served Gateways, with what owns their objects."""
    (case,) = [c for c in own_cases() if c.name == "gateway-infrastructure-and-addresses"]
    _, loaded, _ = load_case(case)
    store = Store()
    store.apply(loaded.objects, [])
    tr = translate_store(store, "2026-01-01T00:00:00Z")
    out = []
    for cfg in sorted(tr.configs, key=lambda c: c.key):
        gw = store.get("Gateway", cfg.namespace, cfg.name)
        assert gw is not None
        out.append((cfg, GatewayOwner(cfg.namespace, cfg.name, gw.meta.uid, gw.class_name)))
    return out


def _rendered() -> list[dict]:
    return [obj for cfg, owner in _owned() for obj in proxy_objects(cfg, owner, DEFAULTS)]


def test_rendered_objects_match_the_golden_file(update_golden: bool) -> None:
    got = yaml.safe_dump_all(_rendered(), sort_keys=False, width=120)
    if update_golden:
        GOLDEN.write_text(got)
    assert GOLDEN.read_text() == got, "run `make golden` and review the diff"


def test_every_object_is_owned_by_its_gateway_and_carries_its_infrastructure() -> None:
    for obj in _rendered():
        md = obj["metadata"]
        (owner,) = md["ownerReferences"]
        assert owner["kind"] == "Gateway" and owner["controller"] is True and owner["uid"]
        assert md["labels"]["gateway.networking.k8s.io/gateway-name"] == owner["name"]
        assert md["labels"]["app.kubernetes.io/managed-by"] == "meshgate"


def test_the_bootstrap_names_the_gateway_and_reaches_meshgates_service() -> None:
    for obj in _rendered():
        if obj["kind"] != "ConfigMap":
            continue
        boot = json.loads(obj["data"]["bootstrap.json"])
        gateway = obj["metadata"]["namespace"] + "/" + obj["metadata"]["ownerReferences"][0]["name"]
        assert boot["node"]["metadata"]["meshgate.io/gateway"] == gateway
        (xds,) = [c for c in boot["static_resources"]["clusters"] if c["name"] == "meshgate-xds"]
        address = xds["load_assignment"]["endpoints"][0]["lb_endpoints"][0]["endpoint"]["address"]["socket_address"]
        assert (address["address"], address["port_value"]) == ("meshgate.meshgate-system.svc", 18000)


def test_service_ports_are_the_gateways_listener_ports() -> None:
    services = [obj for obj in _rendered() if obj["kind"] == "Service"]
    assert services
    for obj in services:
        ports = [p["port"] for p in obj["spec"]["ports"]]
        assert ports == sorted(set(ports)) and ports


def test_long_names_are_shortened_to_a_dns_label_and_stay_distinct() -> None:
    a, b = proxy_name("a" * 60, "meshgate"), proxy_name("a" * 61, "meshgate")
    assert len(a) <= MAX_NAME and len(b) <= MAX_NAME and a != b
    assert proxy_name("web", "meshgate") == "web-meshgate"


def test_an_object_is_written_only_when_what_meshgate_wants_of_it_changed() -> None:
    service = next(obj for obj in _rendered() if obj["kind"] == "Service")
    desired = with_hash(service)
    # The API server's copy: defaults and a clusterIP added, our hash kept.
    current = json.loads(json.dumps(desired))
    current["metadata"]["resourceVersion"] = "42"
    current["spec"].update(clusterIP="10.96.0.7", sessionAffinity="None")
    assert not needs_write(desired, current)
    assert needs_write(desired, None)
    changed = with_hash({**service, "spec": {**service["spec"], "type": "NodePort"}})
    assert needs_write(changed, current)
    put = replacement(changed, current)
    assert put["spec"]["clusterIP"] == "10.96.0.7" and put["metadata"]["resourceVersion"] == "42"
    assert put["metadata"]["annotations"][APPLIED_HASH] == changed["metadata"]["annotations"][APPLIED_HASH]
