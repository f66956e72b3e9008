"""The Kubernetes provider's view of the API: what lists and watch events become (change sets,
errors, kept objects), without a server: the reflectors' sink methods called as a reflector
would. The end-to-end tests (tests/kubernetes/) run the same through an API server emulator."""

from __future__ import annotations

import copy

from meshgate.providers.kubernetes.connection import Connection
from meshgate.providers.kubernetes.provider import KubernetesProvider
from meshgate.resources.kinds import KINDS
from meshgate.resources.meta import ObjectKey

ROUTE = KINDS[("gateway.networking.k8s.io", "HTTPRoute")]
SERVICE = KINDS[("", "Service")]
GW_V1 = "gateway.networking.k8s.io/v1"


def route(name: str, rv: str, path: str = "/", ns: str = "shop", **extra: object) -> dict:
    # As a list item comes: no apiVersion or kind (the collection says them).
    return {"metadata": {"name": name, "namespace": ns, "resourceVersion": rv, "uid": f"uid-{name}",
                         "generation": 1, "creationTimestamp": "2026-12-01T00:00:00Z"},
            "spec": {"parentRefs": [{"name": "gw"}],
                     "rules": [{"matches": [{"path": {"type": "PathPrefix", "value": path}}],
                                "backendRefs": [{"name": "web", "port": 80}]}]}, **extra}


def provider(namespaces: tuple[str, ...] = ()) -> KubernetesProvider:
    return KubernetesProvider(Connection("unused"), namespaces)


def names(p: KubernetesProvider) -> list[str]:
    return sorted(o.meta.name for o in p.load_all().upserts)


def test_a_list_types_its_items_with_their_resource_version_as_origin() -> None:
    p = provider()
    p.listed(ROUTE, "", [route("a", "5"), route("b", "6")], GW_V1)
    objs = {o.meta.name: o for o in p.load_all().upserts}
    assert sorted(objs) == ["a", "b"]
    assert str(objs["a"].source) == "resourceVersion 5" and objs["a"].meta.uid == "uid-a"
    assert p.errors == []


def test_a_re_list_deletes_what_it_no_longer_holds() -> None:
    # What a 410 Gone re-list does: the deletes missed meanwhile are synthesized.
    p = provider()
    p.listed(ROUTE, "", [route("a", "5"), route("b", "6")], GW_V1)
    p.load_all()
    p.listed(ROUTE, "", [route("b", "6"), route("c", "9")], GW_V1)
    changes = p._pending
    assert [o.meta.name for o in changes.upserts] == ["c"]
    assert changes.deletes == [ObjectKey("HTTPRoute", "shop", "a")]
    assert names(p) == ["b", "c"]


def test_events_upsert_and_delete() -> None:
    p = provider()
    p.listed(ROUTE, "", [], GW_V1)
    p.event(ROUTE, "ADDED", {"apiVersion": GW_V1, "kind": "HTTPRoute", **route("a", "7")}, GW_V1)
    assert names(p) == ["a"]
    p.event(ROUTE, "DELETED", route("a", "8"), GW_V1)
    assert p._pending.deletes == [ObjectKey("HTTPRoute", "shop", "a")] and names(p) == []


def test_a_status_write_is_no_change() -> None:
    # Our own status write bumps the resourceVersion: the control plane must not translate again.
    p = provider()
    p.listed(ROUTE, "", [route("a", "5")], GW_V1)
    p.load_all()
    p.event(ROUTE, "MODIFIED", route("a", "6", status={"parents": []}), GW_V1)
    assert not p._pending
    assert p.raw(ObjectKey("HTTPRoute", "shop", "a"))["metadata"]["resourceVersion"] == "6"  # type: ignore[index]


def test_a_spec_change_is_a_change() -> None:
    p = provider()
    p.listed(ROUTE, "", [route("a", "5")], GW_V1)
    p.load_all()
    changed = route("a", "6", path="/v2")
    changed["metadata"]["generation"] = 2
    p.event(ROUTE, "MODIFIED", changed, GW_V1)
    (obj,) = p._pending.upserts
    assert obj.meta.generation == 2 and str(obj.source) == "resourceVersion 6"


def test_an_invalid_update_keeps_the_last_good_version_and_says_why() -> None:
    p = provider()
    p.listed(ROUTE, "", [route("a", "5")], GW_V1)
    p.load_all()
    bad = route("a", "6")
    bad["spec"]["rules"][0]["matches"][0]["path"]["type"] = "Prefix"
    p.event(ROUTE, "MODIFIED", bad, GW_V1)
    assert not p._pending and names(p) == ["a"]
    (error,) = [e for e in p.errors if e.severity == "error"]
    assert (error.kind, error.name, error.file, error.line) == ("HTTPRoute", "a", "resourceVersion 6", 0)
    assert "spec.rules[0].matches[0].path.type" in error.field
    assert str(error).startswith("resourceVersion 6: HTTPRoute shop/a spec.rules[0].matches[0].path.type:")
    assert [r.meta.name for r in p.rejected] == ["a"]
    # Fixed again: the error goes, the new version is served.
    p.event(ROUTE, "MODIFIED", route("a", "7", path="/fixed"), GW_V1)
    assert p.errors == [] and p.rejected == [] and len(p._pending.upserts) == 1


def test_an_unknown_field_is_reported_with_the_object() -> None:
    p = provider()
    item = route("a", "5")
    item["spec"]["rulez"] = []
    p.listed(ROUTE, "", [item], GW_V1)
    assert any("rulez" in (e.field + e.reason) for e in p.errors)


def test_objects_outside_the_watched_namespaces_are_ignored() -> None:
    p = provider(("shop",))
    p.listed(ROUTE, "shop", [route("a", "5")], GW_V1)
    p.event(ROUTE, "ADDED", route("b", "6", ns="other"), GW_V1)
    assert names(p) == ["a"]


def test_lists_per_namespace_replace_only_their_namespace() -> None:
    p = provider(("a-ns", "b-ns"))
    p.listed(ROUTE, "a-ns", [route("a", "5", ns="a-ns")], GW_V1)
    p.listed(ROUTE, "b-ns", [route("b", "6", ns="b-ns")], GW_V1)
    p.listed(ROUTE, "a-ns", [], GW_V1)
    assert names(p) == ["b"]


def test_a_missing_kind_lists_nothing_and_drops_what_it_had() -> None:
    # A CRD deleted: the reflector finds the kind unserved and hands over an empty list.
    p = provider()
    p.listed(ROUTE, "", [route("a", "5")], GW_V1)
    p.listed(ROUTE, "", [], "")
    assert names(p) == []


def test_core_list_items_get_their_kind() -> None:
    p = provider()
    svc = {"metadata": {"name": "web", "namespace": "shop", "resourceVersion": "3"},
           "spec": {"ports": [{"port": 80}], "clusterIP": "10.0.0.1"}}
    p.listed(SERVICE, "", [copy.deepcopy(svc)], "v1")
    (obj,) = p.load_all().upserts
    assert obj.kind == "Service" and p.errors == []
