"""api_fields: a new version of an object, as the API server would store it over the old one."""

from __future__ import annotations

import dataclasses

from meshgate.providers.api_fields import as_updated
from meshgate.resources.core import Service
from meshgate.resources.meta import Meta, Source


def service(**meta: object) -> Service:
    fields = {"name": "web", "namespace": "shop", "uid": "uid-1", "creation_timestamp": "2026-01-01T00:00:00Z",
              **meta}
    return Service(Meta(**fields), Source("a.yaml", 1), "ClusterIP", ("10.0.0.1",), (), None, None)  # type: ignore[arg-type]


def test_an_equal_version_is_the_old_object() -> None:
    old = service()
    assert as_updated(old, service()) is old


def test_only_what_the_api_server_fills_in_differs_is_no_change() -> None:
    # A touched file is read again: a new creationTimestamp (its mtime), a uid of its own.
    old = service(generation=3)
    assert as_updated(old, service(uid="other", creation_timestamp="2026-06-01T00:00:00Z")) is old


def test_a_metadata_change_keeps_the_generation() -> None:
    old = service(generation=3)
    new = as_updated(old, service(labels={"a": "b"}))
    assert (new.meta.labels, new.meta.generation, new.meta.uid) == ({"a": "b"}, 3, "uid-1")


def test_a_new_origin_alone_is_stored_with_the_generation_kept() -> None:
    old = service(generation=3)
    moved = dataclasses.replace(service(), source=Source("b.yaml", 7))
    new = as_updated(old, moved)
    assert new is not old and (str(new.source), new.meta.generation) == ("b.yaml:7", 3)


def test_a_spec_change_bumps_the_generation_and_keeps_uid_and_age() -> None:
    old = service(generation=3)
    edited = dataclasses.replace(service(uid="other", creation_timestamp="2026-06-01T00:00:00Z", generation=1),
                                 cluster_ips=("10.0.0.9",))
    new = as_updated(old, edited)
    assert (new.cluster_ips, new.meta.generation, new.meta.uid, new.meta.creation_timestamp) == (
        ("10.0.0.9",), 4, "uid-1", "2026-01-01T00:00:00Z")


def test_a_gateway_class_description_change_is_a_new_generation() -> None:
    # GatewayClassObservedGenerationBump: the description is spec, though nothing translates it.
    from meshgate.resources.gateway_api import GatewayClass

    meta = Meta(name="c", namespace="", uid="u", creation_timestamp="2026-01-01T00:00:00Z", generation=1)
    old = GatewayClass(meta, Source("a.yaml", 1), "meshgate.io/gateway-controller", None, "old")
    new = as_updated(old, GatewayClass(meta, Source("a.yaml", 1), "meshgate.io/gateway-controller", None, "new"))
    assert new.meta.generation == 2


def test_a_route_moved_within_its_file_keeps_its_generation() -> None:
    # The lines of its rules and of a Gateway's listeners say where they are written, not what:
    # deleting an object above them in the same file is no spec change (TCPRouteReferenceGrant
    # deletes the grant written before the route and expects generation 1 afterwards).
    from meshgate.resources.loader import load_text

    text = """apiVersion: gateway.networking.k8s.io/v1alpha2
kind: TCPRoute
metadata: {name: r, namespace: ns}
spec:
  parentRefs: [{name: gw}]
  rules: [{backendRefs: [{name: b, port: 3000}]}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: gw, namespace: ns}
spec:
  gatewayClassName: meshgate
  listeners: [{name: tcp, port: 9000, protocol: TCP}]
"""
    first = {o.kind: o for o in load_text(text, "a.yaml", "2026-01-01T00:00:00Z").objects}
    moved = {o.kind: o for o in load_text("# a comment\n# and another\n" + text, "a.yaml", "2026-01-01T00:00:00Z").objects}
    for kind in ("TCPRoute", "Gateway"):
        old = dataclasses.replace(first[kind], meta=dataclasses.replace(first[kind].meta, generation=1))
        assert moved[kind].rules[0].line != old.rules[0].line if kind == "TCPRoute" else True
        assert as_updated(old, moved[kind]).meta.generation == 1, kind
