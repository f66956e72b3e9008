"""Pool addresses for Gateways without spec.addresses (`meshgate run --address-pool`).

The pool hands out a network's host addresses in key order, keeps each with its Gateway for as
long as the Gateway exists, and puts a vanished Gateway's address at the back of the queue.
Translation listens on the assigned address and writes it to status.addresses; spec.addresses
wins over the pool, and with neither the Gateway listens on 0.0.0.0 and reports no address.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from envoy.config.listener.v3 import listener_pb2

from meshgate.pipeline import Translation, translate_store
from meshgate.providers.files import FileProvider
from meshgate.resources.loader import LoadResult, load_text
from meshgate.runtime.address_pool import AddressPool
from meshgate.runtime.controller import ControlPlane
from meshgate.store import Store
from meshgate.xds.cache import SnapshotCache
from meshgate.xds.resources import LISTENER

NOW = "2026-01-01T00:00:00Z"

NAMESPACE = """apiVersion: v1
kind: Namespace
metadata: {name: ns}
"""


def gateway(name: str, addresses: str = "", port: int = 8080) -> str:
    """A Gateway document in namespace ns; `addresses` is the YAML flow list of spec.addresses."""
    spec_addresses = f"\n  addresses: {addresses}" if addresses else ""
    return f"""---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {{name: {name}, namespace: ns}}
spec:
  gatewayClassName: meshgate{spec_addresses}
  listeners:
  - {{name: http, port: {port}, protocol: HTTP}}
"""


# -- the pool on its own ------------------------------------------------------------------------
def test_addresses_go_in_key_order_not_in_the_order_given() -> None:
    pool = AddressPool("10.0.0.0/29")
    assert pool.assign(["ns/c", "ns/a", "ns/b"]) == {"ns/a": "10.0.0.1", "ns/b": "10.0.0.2", "ns/c": "10.0.0.3"}


def test_an_address_stays_with_its_gateway_when_others_come() -> None:
    pool = AddressPool("10.0.0.0/29")
    pool.assign(["ns/m"])
    # "ns/a" sorts before "ns/m": were the pool to start over in key order, it would take .1.
    assert pool.assign(["ns/a", "ns/m"]) == {"ns/m": "10.0.0.1", "ns/a": "10.0.0.2"}
    assert pool.assign(["ns/m", "ns/a"]) == {"ns/m": "10.0.0.1", "ns/a": "10.0.0.2"}  # asked again: unchanged


def test_a_vanished_gateways_address_is_released_and_reused_last() -> None:
    pool = AddressPool("10.0.0.0/29")  # hosts .1 to .6
    pool.assign(["ns/a", "ns/b"])
    assert pool.assign(["ns/b"]) == {"ns/b": "10.0.0.2"}
    # A newcomer gets a fresh address, not the one just given back.
    assert pool.assign(["ns/b", "ns/c"]) == {"ns/b": "10.0.0.2", "ns/c": "10.0.0.3"}
    assert pool.assign(["ns/b", "ns/c", "ns/d", "ns/e", "ns/f"])["ns/f"] == "10.0.0.6"
    # Only once the fresh ones are gone does the released address come round again.
    assert pool.assign(["ns/b", "ns/c", "ns/d", "ns/e", "ns/f", "ns/g"])["ns/g"] == "10.0.0.1"
    # The same Gateway coming back is a newcomer too: it does not get its old address back.
    assert pool.assign(["ns/a", "ns/c", "ns/d", "ns/e", "ns/f", "ns/g"])["ns/a"] == "10.0.0.2"


def test_when_the_pool_runs_dry_the_rest_get_none_until_an_address_is_freed() -> None:
    pool = AddressPool("10.0.0.0/30")  # hosts .1 and .2
    assert pool.assign(["ns/a", "ns/b", "ns/c"]) == {"ns/a": "10.0.0.1", "ns/b": "10.0.0.2"}
    assert pool.assign(["ns/b", "ns/c"]) == {"ns/b": "10.0.0.2", "ns/c": "10.0.0.1"}


def test_an_empty_request_releases_everything() -> None:
    pool = AddressPool("10.0.0.0/30")
    pool.assign(["ns/a", "ns/b"])
    assert pool.assign([]) == {}
    # Given back in the order they were handed out: .1 (a) comes round before .2 (b).
    assert pool.assign(["ns/z"]) == {"ns/z": "10.0.0.1"}


def test_the_returned_mapping_is_a_copy() -> None:
    pool = AddressPool("10.0.0.0/30")
    pool.assign(["ns/a"]).clear()
    assert pool.assign(["ns/a"]) == {"ns/a": "10.0.0.1"}


@pytest.mark.parametrize(
    ("network", "expected"),
    [
        ("10.0.0.7/32", ["10.0.0.7"]),  # a single address is its own host
        ("10.0.0.0/31", ["10.0.0.0", "10.0.0.1"]),  # point-to-point (RFC 3021): both are hosts
        ("10.0.0.0/30", ["10.0.0.1", "10.0.0.2"]),  # network and broadcast left out
        ("fd00::1/128", ["fd00::1"]),
        ("fd00::/127", ["fd00::", "fd00::1"]),  # RFC 6164
        ("fd00::/126", ["fd00::1", "fd00::2", "fd00::3"]),  # the subnet-router anycast address left out
    ],
)
def test_small_networks_give_every_usable_address(network: str, expected: list[str]) -> None:
    keys = [f"ns/gw{i}" for i in range(len(expected) + 1)]  # one more than there are addresses
    assigned = AddressPool(network).assign(keys)
    assert [assigned.get(k) for k in keys] == [*expected, None]


@pytest.mark.parametrize(
    ("network", "message"),
    [
        ("300.1.2.0/24", "address pool '300.1.2.0/24': '300.1.2.0/24' does not appear to be an IPv4 or IPv6 network"),
        ("10.0.0.1/24", "address pool '10.0.0.1/24': 10.0.0.1/24 has host bits set"),
        ("fd00::1/64", "address pool 'fd00::1/64': fd00::1/64 has host bits set"),
        ("", "address pool '': '' does not appear to be an IPv4 or IPv6 network"),
    ],
)
def test_invalid_networks_are_refused_naming_the_pool(network: str, message: str) -> None:
    with pytest.raises(ValueError) as exc:
        AddressPool(network)
    assert str(exc.value) == message


# -- translation --------------------------------------------------------------------------------
def translate(text: str, addresses: dict[str, str] | None) -> Translation:
    result = LoadResult()
    result.extend(load_text(text, "input.yaml", NOW))
    assert not result.errors, result.errors
    store, _ = Store.from_load(result)
    return translate_store(store, NOW, addresses=addresses)


def placement(tr: Translation) -> dict[str, tuple[list[str], list[str], list[dict] | None]]:
    """Per Gateway: the IR listeners' addresses, the xDS listeners' addresses, status.addresses."""
    ir = {c.key: [lst.address for lst in c.listeners] for c in tr.configs}
    xds = {s.gateway: [lst.address.socket_address.address for lst in s.listeners] for s in tr.snapshots}
    status = {f"{s['metadata']['namespace']}/{s['metadata']['name']}": s["status"].get("addresses")
              for s in tr.status if s["kind"] == "Gateway"}
    assert ir.keys() == xds.keys() == status.keys()
    return {k: (ir[k], xds[k], status[k]) for k in ir}


def test_pool_address_is_listened_on_and_reported() -> None:
    tr = translate(NAMESPACE + gateway("pooled"), {"ns/pooled": "127.0.80.1"})
    assert placement(tr) == {
        "ns/pooled": (["127.0.80.1"], ["127.0.80.1"], [{"type": "IPAddress", "value": "127.0.80.1"}]),
    }


def test_spec_addresses_win_over_the_pool() -> None:
    text = NAMESPACE + gateway("pooled") + gateway("fixed", '[{type: IPAddress, value: "127.0.0.5"}]')
    # The caller may hand out an address for every Gateway: translation picks spec.addresses first.
    tr = translate(text, {"ns/pooled": "127.0.80.1", "ns/fixed": "127.0.80.2"})
    assert placement(tr) == {
        "ns/pooled": (["127.0.80.1"], ["127.0.80.1"], [{"type": "IPAddress", "value": "127.0.80.1"}]),
        "ns/fixed": (["127.0.0.5"], ["127.0.0.5"], [{"type": "IPAddress", "value": "127.0.0.5"}]),
    }


def test_without_pool_or_spec_addresses_the_gateway_listens_everywhere_and_reports_none() -> None:
    text = NAMESPACE + gateway("plain") + gateway("fixed", '[{type: IPAddress, value: "127.0.0.5"}]')
    for addresses in (None, {}, {"ns/elsewhere": "127.0.80.1"}):  # an unknown key places nothing
        assert placement(translate(text, addresses)) == {
            "ns/plain": (["0.0.0.0"], ["0.0.0.0"], None),
            "ns/fixed": (["127.0.0.5"], ["127.0.0.5"], [{"type": "IPAddress", "value": "127.0.0.5"}]),
        }, addresses


def test_unsupported_spec_addresses_are_not_replaced_by_the_pool() -> None:
    tr = translate(NAMESPACE + gateway("named", "[{type: Hostname, value: gw.example.com}]"),
                   {"ns/named": "127.0.80.1"})
    (status,) = [s for s in tr.status if s["kind"] == "Gateway"]
    assert "addresses" not in status["status"]
    accepted = {c["type"]: c for c in status["status"]["conditions"]}["Accepted"]
    assert (accepted["status"], accepted["reason"]) == ("False", "UnsupportedAddress")
    assert all(lst.address != "127.0.80.1" for c in tr.configs for lst in c.listeners)


# -- the control plane --------------------------------------------------------------------------
def served_addresses(control: ControlPlane) -> dict[str, list[str]]:
    """Per Gateway, the socket addresses of the listeners in the xDS cache (what Envoy gets)."""
    out: dict[str, list[str]] = {}
    for cfg in control.configs:
        resources = control.cache.entry(cfg.key).resources[LISTENER]
        listeners = [listener_pb2.Listener.FromString(r.body.value) for r in resources.values()]
        out[cfg.key] = [lst.address.socket_address.address for lst in listeners]
    return out


def status_addresses(control: ControlPlane) -> dict[str, list[dict] | None]:
    return {f"{s['metadata']['namespace']}/{s['metadata']['name']}": s["status"].get("addresses")
            for s in control.status if s["kind"] == "Gateway"}


def test_control_plane_gives_a_later_gateway_a_new_address_and_keeps_the_first(tmp_path: Path) -> None:
    # "a-fixed" sorts first, but names its own address: it takes none from the pool.
    (tmp_path / "fixed.yaml").write_text(NAMESPACE + gateway("a-fixed", '[{type: IPAddress, value: "127.0.0.5"}]'))
    (tmp_path / "first.yaml").write_text(gateway("first"))
    control = ControlPlane(FileProvider([tmp_path]), SnapshotCache(), clock=lambda: NOW,
                           address_pool=AddressPool("127.0.80.0/29"))
    control.load()
    assert served_addresses(control) == {"ns/a-fixed": ["127.0.0.5"], "ns/first": ["127.0.80.1"]}
    assert status_addresses(control) == {"ns/a-fixed": [{"type": "IPAddress", "value": "127.0.0.5"}],
                                         "ns/first": [{"type": "IPAddress", "value": "127.0.80.1"}]}

    # "aaa" sorts before "first": a pool that started over would give it .1 and move "first".
    (tmp_path / "later.yaml").write_text(gateway("aaa"))
    assert control.apply(control.provider.reload(tmp_path / "later.yaml")) == "full"
    assert served_addresses(control) == {"ns/a-fixed": ["127.0.0.5"], "ns/first": ["127.0.80.1"],
                                         "ns/aaa": ["127.0.80.2"]}
    assert status_addresses(control)["ns/aaa"] == [{"type": "IPAddress", "value": "127.0.80.2"}]
    assert status_addresses(control)["ns/first"] == [{"type": "IPAddress", "value": "127.0.80.1"}]

    # The first goes; a newcomer gets a fresh address, not the one just released.
    (tmp_path / "first.yaml").unlink()
    control.apply(control.provider.reload(tmp_path / "first.yaml"))
    (tmp_path / "third.yaml").write_text(gateway("third"))
    control.apply(control.provider.reload(tmp_path / "third.yaml"))
    assert served_addresses(control) == {"ns/a-fixed": ["127.0.0.5"], "ns/aaa": ["127.0.80.2"],
                                         "ns/third": ["127.0.80.3"]}


def test_control_plane_without_a_pool_leaves_gateways_unplaced(tmp_path: Path) -> None:
    (tmp_path / "gw.yaml").write_text(NAMESPACE + gateway("first"))
    control = ControlPlane(FileProvider([tmp_path]), SnapshotCache(), clock=lambda: NOW)
    control.load()
    assert served_addresses(control) == {"ns/first": ["0.0.0.0"]}
    assert status_addresses(control) == {"ns/first": None}


def test_control_plane_pool_used_up_leaves_the_rest_unplaced(tmp_path: Path) -> None:
    (tmp_path / "gw.yaml").write_text(NAMESPACE + gateway("a") + gateway("b"))
    control = ControlPlane(FileProvider([tmp_path]), SnapshotCache(), clock=lambda: NOW,
                           address_pool=AddressPool("127.0.80.9/32"))
    control.load()
    assert served_addresses(control) == {"ns/a": ["127.0.80.9"], "ns/b": ["0.0.0.0"]}
    assert status_addresses(control) == {"ns/a": [{"type": "IPAddress", "value": "127.0.80.9"}], "ns/b": None}


def test_addresses_other_gateways_name_are_never_handed_out() -> None:
    pool = AddressPool("127.0.80.0/29")
    assert pool.assign(["ns/a", "ns/b"], reserved=["127.0.80.2"]) == {"ns/a": "127.0.80.1", "ns/b": "127.0.80.3"}
    # A Gateway that later names a pool address takes it from whoever held it.
    assert pool.assign(["ns/a", "ns/b"], reserved=["127.0.80.1"]) == {"ns/a": "127.0.80.4", "ns/b": "127.0.80.3"}


def test_a_huge_pool_is_drawn_lazily() -> None:
    pool = AddressPool("fd00::/64")  # 2**64 addresses: a list of them would never finish
    assert pool.assign(["ns/a", "ns/b"]) == {"ns/a": "fd00::1", "ns/b": "fd00::2"}


def test_control_plane_pool_skips_spec_addresses_and_foreign_gateways(tmp_path: Path) -> None:
    foreign = gateway("a-foreign").replace("gatewayClassName: meshgate", "gatewayClassName: someone-else")
    (tmp_path / "gw.yaml").write_text(NAMESPACE + foreign + gateway("b") +
                                      gateway("fixed", '[{type: IPAddress, value: "127.0.80.1"}]'))
    control = ControlPlane(FileProvider([tmp_path]), SnapshotCache(), clock=lambda: NOW,
                           address_pool=AddressPool("127.0.80.0/29"))
    control.load()
    # The foreign Gateway takes no address and .1 belongs to "fixed": "b" gets .2.
    assert served_addresses(control) == {"ns/b": ["127.0.80.2"], "ns/fixed": ["127.0.80.1"]}


# -- addresses without a value (GatewayAddressEmpty) --------------------------------------------
def test_an_ipaddress_without_value_gets_the_pool_address(tmp_path: Path) -> None:
    (tmp_path / "gw.yaml").write_text(NAMESPACE + gateway("asks", "[{type: IPAddress}]") +
                                      gateway("fixed", '[{type: IPAddress, value: "127.0.80.1"}]'))
    control = ControlPlane(FileProvider([tmp_path]), SnapshotCache(), clock=lambda: NOW,
                           address_pool=AddressPool("127.0.80.0/29"))
    control.load()
    # .1 is named by "fixed": an address without a value reserves nothing, and gets .2.
    assert served_addresses(control) == {"ns/asks": ["127.0.80.2"], "ns/fixed": ["127.0.80.1"]}
    assert status_addresses(control)["ns/asks"] == [{"type": "IPAddress", "value": "127.0.80.2"}]
    (status,) = [s for s in control.status if s["kind"] == "Gateway" and s["metadata"]["name"] == "asks"]
    assert {c["type"]: (c["status"], c["reason"]) for c in status["status"]["conditions"]} == {
        "Accepted": ("True", "Accepted"), "Programmed": ("True", "Programmed")}


def test_an_ipaddress_without_value_and_no_pool_is_not_assigned(tmp_path: Path) -> None:
    """The spec: an implementation that cannot assign one sets Programmed=False/AddressNotAssigned;
    meshgate then serves nothing for it rather than listening on every address."""
    (tmp_path / "gw.yaml").write_text(NAMESPACE + gateway("asks", "[{type: IPAddress}]"))
    control = ControlPlane(FileProvider([tmp_path]), SnapshotCache(), clock=lambda: NOW)
    control.load()
    assert served_addresses(control) == {"ns/asks": []}
    (status,) = [s for s in control.status if s["kind"] == "Gateway"]
    assert "addresses" not in status["status"]
    conditions = {c["type"]: (c["status"], c["reason"]) for c in status["status"]["conditions"]}
    assert conditions == {"Accepted": ("True", "Accepted"), "Programmed": ("False", "AddressNotAssigned")}
    (listener,) = status["status"]["listeners"]
    programmed = {c["type"]: c for c in listener["conditions"]}["Programmed"]
    assert (programmed["status"], programmed["reason"]) == ("False", "Pending")


def test_an_ipaddress_without_value_is_not_assigned_when_the_pool_is_used_up(tmp_path: Path) -> None:
    (tmp_path / "gw.yaml").write_text(NAMESPACE + gateway("a") + gateway("b", "[{type: IPAddress}]"))
    control = ControlPlane(FileProvider([tmp_path]), SnapshotCache(), clock=lambda: NOW,
                           address_pool=AddressPool("127.0.80.9/32"))
    control.load()
    assert served_addresses(control) == {"ns/a": ["127.0.80.9"], "ns/b": []}
    assert status_addresses(control) == {"ns/a": [{"type": "IPAddress", "value": "127.0.80.9"}], "ns/b": None}


def test_a_hostname_without_value_is_unsupported_and_takes_no_pool_address() -> None:
    tr = translate(NAMESPACE + gateway("named", "[{type: Hostname}]"), {"ns/named": "127.0.80.1"})
    (status,) = [s for s in tr.status if s["kind"] == "Gateway"]
    assert "addresses" not in status["status"]
    accepted = {c["type"]: c for c in status["status"]["conditions"]}["Accepted"]
    assert (accepted["status"], accepted["reason"]) == ("False", "UnsupportedAddress")
    assert [c.listeners for c in tr.configs] == [()]


def test_control_plane_gives_no_pool_address_to_a_gateway_asking_for_another_type(tmp_path: Path) -> None:
    (tmp_path / "gw.yaml").write_text(NAMESPACE + gateway("a-host", "[{type: Hostname}]") + gateway("b"))
    control = ControlPlane(FileProvider([tmp_path]), SnapshotCache(), clock=lambda: NOW,
                           address_pool=AddressPool("127.0.80.0/29"))
    control.load()
    # "a-host" sorts first but cannot use an IP address: "b" gets .1.
    assert served_addresses(control) == {"ns/a-host": [], "ns/b": ["127.0.80.1"]}


# -- static addresses (GatewayStaticAddresses) --------------------------------------------------
def test_a_pool_address_or_one_of_this_hosts_is_usable_anything_else_is_not() -> None:
    pool = AddressPool("127.0.80.0/29")
    assert pool.usable("127.0.80.6")  # the pool's
    assert pool.usable("127.0.0.5")  # this host's own (every loopback address is)
    assert not pool.usable("192.0.2.1")  # RFC 5737: nobody's here (checked by a bind, nothing sent)
    assert not pool.usable("not an address")


def test_an_unusable_spec_address_leaves_the_gateway_accepted_but_not_programmed() -> None:
    text = NAMESPACE + gateway("static", '[{type: IPAddress, value: "192.0.2.1"}, '
                                         '{type: IPAddress, value: "127.0.80.6"}]')
    result = LoadResult()
    result.extend(load_text(text, "input.yaml", NOW))
    store, _ = Store.from_load(result)
    tr = translate_store(store, NOW, address_usable=AddressPool("127.0.80.0/29").usable)
    (status,) = [s for s in tr.status if s["kind"] == "Gateway"]
    conditions = {c["type"]: (c["status"], c["reason"]) for c in status["status"]["conditions"]}
    assert conditions == {"Accepted": ("True", "Accepted"), "Programmed": ("False", "AddressNotUsable")}
    assert "addresses" not in status["status"]
    assert [c["status"] for c in status["status"]["listeners"][0]["conditions"] if c["type"] == "Programmed"] == [
        "False"]
    # Without a judge (no pool: `meshgate translate`), two addresses are one too many, as before.
    tr = translate_store(store, NOW)
    (status,) = [s for s in tr.status if s["kind"] == "Gateway"]
    accepted = {c["type"]: c for c in status["status"]["conditions"]}["Accepted"]
    assert (accepted["status"], accepted["reason"]) == ("False", "UnsupportedAddress")
