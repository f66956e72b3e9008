"""The route builder keeps what a change did not touch, and only that, and spells what a message would."""

from __future__ import annotations

from envoy.config.route.v3 import route_pb2
from google.protobuf import wrappers_pb2

from meshgate import ir
from meshgate.xds.resources import ROUTE, make_resource
from meshgate.xds.route_builder import RouteBuilder

GW = ir.SourceRef("Gateway", "gateway.networking.k8s.io/v1", "gw", "web", "http")


def _route(name: str, path: str, cluster: str = "c1") -> ir.Route:
    return ir.Route(name, ir.RouteMatch("prefix", path), backends=(ir.WeightedBackend(cluster, 1),),
                    source=ir.SourceRef("HTTPRoute", "gateway.networking.k8s.io/v1", "app", name))


def _config(routes: dict[str, ir.Route]) -> ir.RouteConfig:
    return ir.RouteConfig("http.80", tuple(ir.VirtualHost(f"http/{h}", (h,), (r,), (GW,)) for h, r in routes.items()))


def _whole(rb: RouteBuilder, cfg: ir.RouteConfig) -> route_pb2.RouteConfiguration:
    """What a RouteConfiguration message spells: the composed bytes must parse to it."""
    out = route_pb2.RouteConfiguration()
    out.ParseFromString(rb.route_configuration(cfg).body.value)
    return out


def test_composed_bytes_are_what_the_message_serializes_to() -> None:
    for hosts in ({}, {"a.example": _route("a", "/a")},
                  {"a.example": _route("a", "/a"), "b.example": _route("b", "/b", "c2")}):
        cfg = _config(hosts)
        rb = RouteBuilder()
        message = route_pb2.RouteConfiguration(
            name=cfg.name, virtual_hosts=[rb.virtual_host(vh) for vh in cfg.virtual_hosts],
            validate_clusters=wrappers_pb2.BoolValue(value=False), ignore_port_in_host_matching=True)
        made = rb.route_configuration(cfg)
        assert made.body.value == message.SerializeToString(deterministic=True)
        whole = make_resource(ROUTE, cfg.name, message)
        assert (made.name, made.body) == (whole.name, whole.body)
        # Versioned by its parts' digests, not its bytes: equal parts, equal version, whoever
        # built them.
        assert RouteBuilder().route_configuration(cfg).version == made.version


def test_a_changed_route_changes_only_its_hostname_and_the_whole_configuration() -> None:
    a, b = _route("a", "/a"), _route("b", "/b")
    rb = RouteBuilder()
    (sa, ra), (sb, rb1) = rb.scoped(_config({"a.example": a, "b.example": b}))
    whole = rb.route_configuration(_config({"a.example": a, "b.example": b}))
    rb.sweep()
    after = _config({"a.example": a, "b.example": _route("b", "/other")})
    (sa2, ra2), (sb2, rb2) = rb.scoped(after)
    assert sa2 is sa and ra2 is ra  # untouched hostname: the same resources, not built again
    assert sb2 == sb and rb2.version != rb1.version
    assert rb.route_configuration(after).version != whole.version
    # A virtual host's bytes moving to another position is another configuration, too.
    swapped = ir.RouteConfig("http.80", tuple(reversed(_config({"a.example": a, "b.example": b}).virtual_hosts)))
    assert rb.route_configuration(swapped).version != whole.version
    renamed = ir.RouteConfig("http.81", _config({"a.example": a, "b.example": b}).virtual_hosts)
    assert rb.route_configuration(renamed).version != whole.version
    # Reuse never changes the output: a fresh builder spells the same bytes.
    fresh = RouteBuilder()
    assert rb.route_configuration(after) == fresh.route_configuration(after)
    assert rb.scoped(after) == fresh.scoped(after)
    assert ra.name == "http.80/a.example" and _whole(rb, after).virtual_hosts[1].domains == ["b.example"]


def test_an_equal_but_new_route_object_gives_equal_bytes() -> None:
    rb = RouteBuilder()
    first = rb.route_configuration(_config({"a.example": _route("a", "/a")}))
    assert rb.route_configuration(_config({"a.example": _route("a", "/a")})) == first


def test_sweep_forgets_what_the_last_pass_did_not_use() -> None:
    a, b = _route("a", "/a"), _route("b", "/b")
    rb = RouteBuilder()
    rb.scoped(_config({"a.example": a, "b.example": b}))
    rb.sweep()
    (kept,) = rb.scoped(_config({"a.example": a}))
    rb.sweep()
    (again,) = rb.scoped(_config({"b.example": b}))
    (b_first,) = rb.scoped(_config({"b.example": b}))
    assert again is b_first  # built again once asked for, then kept
    rb.sweep()  # a was not asked for since the last sweep
    assert rb.scoped(_config({"a.example": a}))[0] is not kept  # forgotten: built anew
    assert rb.scoped(_config({"a.example": a}))[0] == kept
