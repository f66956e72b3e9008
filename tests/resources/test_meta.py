"""meta: what standalone mode fills in for the API server (namespace, generation, uid, ...)."""

from __future__ import annotations

import uuid

import pytest

from meshgate.resources.meta import ObjectKey, Source, object_uid

from .support import CREATED, errors_of, warnings_of

SERVICE = """\
apiVersion: v1
kind: Service
metadata:
  name: {name}
{extra}spec:
  ports: [{{port: 80}}]
"""


def service(name: str = "web", extra: str = "") -> str:
    return SERVICE.format(name=name, extra=extra)


def only(result):
    assert errors_of(result) == [], errors_of(result)
    (obj,) = result.objects
    return obj


def test_namespace_defaults_to_default(load) -> None:
    assert only(load(service())).meta.namespace == "default"


def test_given_namespace_is_kept(load) -> None:
    assert only(load(service(extra="  namespace: shop\n"))).meta.namespace == "shop"


def test_cluster_scoped_kinds_have_no_namespace(load) -> None:
    obj = only(load("apiVersion: v1\nkind: Node\nmetadata:\n  name: n1\n"))
    assert obj.meta.namespace == ""
    assert warnings_of(load("apiVersion: v1\nkind: Node\nmetadata:\n  name: n1\n")) == []


def test_cluster_scoped_kind_with_a_namespace_warns_and_loads(load) -> None:
    result = load("apiVersion: v1\nkind: Node\nmetadata:\n  name: n1\n  namespace: shop\n")
    obj = only(result)
    assert obj.meta.namespace == ""
    (w,) = warnings_of(result)
    assert (w.line, w.field, w.kind, w.name) == (5, "metadata.namespace", "Node", "n1")
    assert w.reason == "Node is cluster-scoped: namespace is ignored"


def test_cluster_scoped_gateway_class_with_a_namespace_warns(load) -> None:
    result = load(
        "apiVersion: gateway.networking.k8s.io/v1\nkind: GatewayClass\nmetadata:\n  name: c\n  namespace: x\n"
        "spec:\n  controllerName: example.com/c\n"
    )
    assert only(result).meta.namespace == ""
    assert [(w.field, w.severity) for w in warnings_of(result)] == [("metadata.namespace", "warning")]


def test_generation_defaults_to_1(load) -> None:
    assert only(load(service())).meta.generation == 1


def test_generation_given_is_kept(load) -> None:
    assert only(load(service(extra="  generation: 7\n"))).meta.generation == 7


def test_generation_below_1_is_an_error(load) -> None:
    result = load(service(extra="  generation: 0\n"))
    assert [(e.line, e.field) for e in errors_of(result)] == [(5, "metadata.generation")]
    assert result.objects == []


def test_uid_is_stable_for_the_same_object(load) -> None:
    a = only(load(service(), "a.yaml")).meta.uid
    b = only(load("# moved, reformatted\n" + service(), "b.yaml")).meta.uid
    assert a == b
    assert uuid.UUID(a).version == 5
    assert a == object_uid("Service", "default", "web")


def test_uid_differs_by_name_namespace_and_kind(load) -> None:
    uids = {
        only(load(service("web"))).meta.uid,
        only(load(service("api"))).meta.uid,
        only(load("apiVersion: v1\nkind: Service\nmetadata:\n  name: web\n  namespace: shop\n")).meta.uid,
        only(load("apiVersion: v1\nkind: Secret\nmetadata:\n  name: web\n")).meta.uid,
    }
    assert len(uids) == 4


def test_uid_does_not_collide_across_the_separator() -> None:
    assert object_uid("Service", "ab", "c") != object_uid("Service", "a", "bc")
    assert object_uid("Service", "", "c") != object_uid("Servic", "e", "c")


def test_given_uid_is_kept(load) -> None:
    assert only(load(service(extra="  uid: 1234-abcd\n"))).meta.uid == "1234-abcd"


def test_creation_timestamp_from_created(load) -> None:
    assert only(load(service())).meta.creation_timestamp == CREATED


def test_creation_timestamp_given_wins(load) -> None:
    # Unquoted, YAML would read a timestamp; it is kept as its text.
    meta = only(load(service(extra="  creationTimestamp: 2020-05-06T07:08:09Z\n"))).meta
    assert meta.creation_timestamp == "2020-05-06T07:08:09Z"


def test_namespace_gets_its_name_label(load) -> None:
    meta = only(load("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n  labels:\n    team: web\n")).meta
    assert meta.labels == {"team": "web", "kubernetes.io/metadata.name": "shop"}
    assert meta.namespace == ""


def test_namespace_name_label_cannot_be_overridden(load) -> None:
    text = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n  labels:\n    kubernetes.io/metadata.name: other\n"
    assert only(load(text)).meta.labels["kubernetes.io/metadata.name"] == "shop"


def test_other_kinds_get_no_name_label(load) -> None:
    assert "kubernetes.io/metadata.name" not in only(load(service())).meta.labels


def test_labels_and_annotations_are_read(load) -> None:
    extra = "  labels: {app: web}\n  annotations:\n    note: hello\n    empty:\n"
    meta = only(load(service(extra=extra))).meta
    assert meta.labels == {"app": "web"}
    assert meta.annotations == {"note": "hello", "empty": ""}


def test_unknown_metadata_field_is_an_error(load) -> None:
    """ObjectMeta's fields are known (resourceVersion is one); a misspelt one refuses the object,
    as `kubectl --validate=strict` would, with the closest field."""
    result = load(service(extra="  lables: {app: web}\n  resourceVersion: '12'\n"))
    assert result.objects == [] and warnings_of(result) == []
    assert [(e.line, e.field, e.reason) for e in errors_of(result)] == [
        (5, "metadata.lables", "unknown field: did you mean labels?")]
    (rejected,) = result.rejected
    assert (rejected.kind, rejected.meta.name) == ("Service", "web")


def test_errors_name_the_object(load) -> None:
    result = load("apiVersion: v1\nkind: Service\nmetadata:\n  name: web\n  namespace: Bad_NS\n")
    (e,) = errors_of(result)
    assert (e.kind, e.name, e.field, e.line) == ("Service", "web", "metadata.namespace", 5)


def test_source_and_key_strings() -> None:
    assert str(Source("a.yaml", 3)) == "a.yaml:3"
    assert str(ObjectKey("Service", "shop", "web")) == "Service shop/web"
    assert str(ObjectKey("Node", "", "n1")) == "Node n1"


def test_an_origin_is_file_and_line_or_a_resource_version() -> None:
    assert str(Source("routes/a.yaml", 12)) == "routes/a.yaml:12"
    api = Source.api("81723")
    assert (str(api), api.file, api.line) == ("resourceVersion 81723", "", 0)
    assert api != Source.api("81724")  # a new resourceVersion is a new origin, as a moved document is
    with pytest.raises(ValueError):
        Source.api("")
