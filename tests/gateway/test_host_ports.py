"""Gateways sharing one host's ports (`meshgate run`): the oldest keeps an address:port."""

from __future__ import annotations

from pathlib import Path

import pytest

from meshgate.gateway.host_ports import overlaps
from meshgate.pipeline import translate_store
from meshgate.resources.loader import load_paths
from meshgate.store import Store

NOW = "2026-01-01T00:00:00Z"


def gateway(name: str, created: str, listeners: str, address: str | None = None) -> str:
    addresses = f"\n  addresses: [{{type: IPAddress, value: \"{address}\"}}]" if address else ""
    return f"""apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {{name: {name}, namespace: ns, creationTimestamp: "{created}"}}
spec:
  gatewayClassName: meshgate{addresses}
  listeners: {listeners}
---
"""


def translate(tmp_path: Path, text: str, shared_host: bool = True) -> dict[str, dict]:
    (tmp_path / "in.yaml").write_text(text)
    loaded = load_paths([tmp_path])
    assert not loaded.errors
    store, _ = Store.from_load(loaded)
    tr = translate_store(store, NOW, shared_host=shared_host)
    out = {s["metadata"]["name"]: s for s in tr.status if s["kind"] == "Gateway"}
    for snap in tr.snapshots:
        out[snap.gateway.split("/")[1]]["ports"] = sorted(lst.address.socket_address.port_value for lst in snap.listeners)
    return out


def cond(conditions: list[dict], type_: str) -> tuple[str, str]:
    c = next(c for c in conditions if c["type"] == type_)
    return c["status"], c["reason"]


@pytest.mark.parametrize(("a", "b", "expected"), [
    (("127.0.0.1", 80), ("127.0.0.1", 80), True),
    (("127.0.0.1", 80), ("127.0.0.1", 81), False),
    (("127.0.0.1", 80), ("127.0.0.2", 80), False),
    (("0.0.0.0", 80), ("127.0.0.2", 80), True),
    (("127.0.0.2", 80), ("0.0.0.0", 80), True),
    (("::", 80), ("127.0.0.2", 80), False),  # Envoy binds :: IPv6-only
    (("::", 80), ("::1", 80), True),
])
def test_overlaps(a: tuple[str, int], b: tuple[str, int], expected: bool) -> None:
    assert overlaps(a, b) is expected


HTTP_80 = "[{name: http, port: 80, protocol: HTTP}]"


def test_the_oldest_gateway_keeps_a_contested_port(tmp_path: Path) -> None:
    gws = translate(tmp_path, gateway("young", "2026-01-02T00:00:00Z", HTTP_80, "127.0.0.5")
                    + gateway("old", "2026-01-01T00:00:00Z", HTTP_80, "127.0.0.5"))
    assert cond(gws["old"]["status"]["conditions"], "Programmed") == ("True", "Programmed")
    assert gws["old"]["ports"] == [80]
    assert cond(gws["young"]["status"]["conditions"], "Programmed") == ("False", "AddressNotUsable")
    listener = gws["young"]["status"]["listeners"][0]
    assert cond(listener["conditions"], "Programmed") == ("False", "Invalid")
    message = next(c for c in listener["conditions"] if c["type"] == "Programmed")["message"]
    assert "127.0.0.5:80" in message and "ns/old" in message
    # Accepted stays True: the spec is valid, only this host cannot serve it.
    assert cond(gws["young"]["status"]["conditions"], "Accepted") == ("True", "Accepted")
    assert gws["young"]["ports"] == []


def test_a_wildcard_gateway_collides_with_an_addressed_one_on_its_port(tmp_path: Path) -> None:
    gws = translate(tmp_path, gateway("anywhere", "2026-01-01T00:00:00Z",
                                      "[{name: a, port: 80, protocol: HTTP}, {name: b, port: 81, protocol: HTTP}]")
                    + gateway("addressed", "2026-01-03T00:00:00Z",
                              "[{name: a, port: 80, protocol: HTTP}, {name: c, port: 82, protocol: HTTP}]",
                              "127.0.0.5"))
    assert gws["anywhere"]["ports"] == [80, 81]
    # One listener lost, one served: the Gateway is still programmed, the listener says why not.
    assert gws["addressed"]["ports"] == [82]
    assert cond(gws["addressed"]["status"]["conditions"], "Programmed") == ("True", "Programmed")
    by_name = {ls["name"]: ls for ls in gws["addressed"]["status"]["listeners"]}
    assert cond(by_name["a"]["conditions"], "Programmed") == ("False", "Invalid")
    assert cond(by_name["c"]["conditions"], "Programmed") == ("True", "Programmed")


def test_ties_in_age_go_to_namespace_and_name_order(tmp_path: Path) -> None:
    gws = translate(tmp_path, gateway("b", "2026-01-01T00:00:00Z", HTTP_80, "127.0.0.5")
                    + gateway("a", "2026-01-01T00:00:00Z", HTTP_80, "127.0.0.5"))
    assert gws["a"]["ports"] == [80] and gws["b"]["ports"] == []


def test_gateways_on_different_addresses_share_nothing(tmp_path: Path) -> None:
    gws = translate(tmp_path, gateway("one", "2026-01-01T00:00:00Z", HTTP_80, "127.0.0.5")
                    + gateway("two", "2026-01-02T00:00:00Z", HTTP_80, "127.0.0.6"))
    assert gws["one"]["ports"] == [80] and gws["two"]["ports"] == [80]


def test_without_a_shared_host_each_gateway_has_its_own_addresses(tmp_path: Path) -> None:
    # In a cluster (or translate), every Gateway gets proxies and addresses of its own.
    gws = translate(tmp_path, gateway("young", "2026-01-02T00:00:00Z", HTTP_80)
                    + gateway("old", "2026-01-01T00:00:00Z", HTTP_80), shared_host=False)
    assert gws["old"]["ports"] == [80] and gws["young"]["ports"] == [80]
    assert cond(gws["young"]["status"]["conditions"], "Programmed") == ("True", "Programmed")
