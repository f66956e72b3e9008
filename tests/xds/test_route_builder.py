"""The route builder and the serializer keep what a change did not touch, and only that."""

from __future__ import annotations

from envoy.config.route.v3 import route_pb2

from meshgate import ir
from meshgate.xds.resources import ROUTE, Serializer, make_resource
from meshgate.xds.route_builder import RouteBuilder

GW = ir.SourceRef("Gateway", "gateway.networking.k8s.io/v1", "gw", "web", "http")


def _route(name: str, path: str, cluster: str = "c1") -> ir.Route:
    return ir.Route(name, ir.RouteMatch("prefix", path), backends=(ir.WeightedBackend(cluster, 1),),
                    source=ir.SourceRef("HTTPRoute", "gateway.networking.k8s.io/v1", "app", name))


def _config(routes: dict[str, ir.Route]) -> ir.RouteConfig:
    return ir.RouteConfig("http.80", tuple(ir.VirtualHost(f"http/{h}", (h,), (r,), (GW,)) for h, r in routes.items()))


def test_unchanged_virtual_hosts_are_the_same_messages_and_a_changed_one_is_rebuilt() -> None:
    a, b = _route("a", "/a"), _route("b", "/b")
    rb = RouteBuilder()
    first = rb.route_configuration(_config({"a.example": a, "b.example": b}))
    rb.sweep()
    b2 = _route("b", "/b2")
    second = rb.route_configuration(_config({"a.example": a, "b.example": b2}))
    assert rb.virtual_host(_config({"a.example": a}).virtual_hosts[0]) is rb.virtual_host(
        _config({"a.example": a}).virtual_hosts[0])
    assert second.virtual_hosts[0] == first.virtual_hosts[0]
    assert second.virtual_hosts[1].routes[0].match != first.virtual_hosts[1].routes[0].match
    # What a fresh builder spells, byte for byte: reuse never changes the output.
    fresh = RouteBuilder().route_configuration(_config({"a.example": a, "b.example": b2}))
    assert second.SerializeToString(deterministic=True) == fresh.SerializeToString(deterministic=True)


def test_scoped_configurations_are_reused_per_hostname() -> None:
    a, b = _route("a", "/a"), _route("b", "/b")
    rb = RouteBuilder()
    (sa, ra), (_sb, rb1) = rb.scoped(_config({"a.example": a, "b.example": b}))
    rb.sweep()
    (sa2, ra2), (_sb2, rb2) = rb.scoped(_config({"a.example": a, "b.example": _route("b", "/other")}))
    assert sa2 is sa and ra2 is ra  # untouched hostname: the same objects, so not serialized again
    assert rb2 is not rb1 and rb2.virtual_hosts[0].routes[0].match != rb1.virtual_hosts[0].routes[0].match
    assert ra.name == "http.80/a.example" and next(iter(sa.key.fragments)).string_key == "a.example"


def test_an_equal_but_new_route_object_is_built_again_with_equal_bytes() -> None:
    rb = RouteBuilder()
    first = rb.virtual_host(_config({"a.example": _route("a", "/a")}).virtual_hosts[0])
    again = rb.virtual_host(_config({"a.example": _route("a", "/a")}).virtual_hosts[0])
    assert again.SerializeToString(deterministic=True) == first.SerializeToString(deterministic=True)


def test_sweep_forgets_what_the_last_pass_did_not_use() -> None:
    a, b = _route("a", "/a"), _route("b", "/b")
    rb = RouteBuilder()
    rb.route_configuration(_config({"a.example": a, "b.example": b}))
    rb.sweep()
    rb.route_configuration(_config({"a.example": a}))
    rb.sweep()
    vb = _config({"b.example": b}).virtual_hosts[0]
    before = rb.virtual_host(_config({"a.example": a}).virtual_hosts[0])
    built_again = rb.virtual_host(vb)
    assert rb.virtual_host(vb) is built_again  # known again once asked for
    assert rb.virtual_host(_config({"a.example": a}).virtual_hosts[0]) is before


def test_serializer_serializes_a_message_once_and_forgets_it_when_unused() -> None:
    s = Serializer()
    msg = route_pb2.RouteConfiguration(name="r")
    first = s.resource(ROUTE, "r", msg)
    assert s.resource(ROUTE, "r", msg) is first
    assert first == make_resource(ROUTE, "r", msg)
    other = route_pb2.RouteConfiguration(name="r", ignore_port_in_host_matching=True)
    assert s.resource(ROUTE, "r", other).version != first.version
    s.sweep()
    s.sweep()
    assert len(s) == 0
