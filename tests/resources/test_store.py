"""store: duplicates across files are refused (first one wins), and the lookups later stages use."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from meshgate.resources.loader import load_paths
from meshgate.resources.meta import ObjectKey, Source
from meshgate.store import Store

from .support import CREATED

SVC = "apiVersion: v1\nkind: Service\nmetadata:\n  name: {name}\n  namespace: {ns}\nspec:\n  ports: [{{port: {port}}}]\n"
SLICE = """\
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: {name}
  namespace: shop
  labels: {{kubernetes.io/service-name: {service}}}
addressType: IPv4
endpoints: [{{addresses: [10.0.0.1]}}]
"""


def load_dir(tmp_path: Path, files: dict[str, str]):
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return Store.from_load(load_paths([tmp_path], created=CREATED))


def test_duplicate_across_two_files(tmp_path: Path) -> None:
    store, errors = load_dir(tmp_path, {
        "a.yaml": SVC.format(name="web", ns="shop", port=80),
        "b.yaml": "# the same Service again\n---\n" + SVC.format(name="web", ns="shop", port=8080),
    })
    (e,) = errors
    first, second = tmp_path / "a.yaml", tmp_path / "b.yaml"
    assert (e.file, e.line, e.severity) == (str(second), 3, "error")
    assert (e.kind, e.namespace, e.name, e.field) == ("Service", "shop", "web", "metadata.name")
    assert f"already defined at {first}:1" in e.reason
    assert str(e).startswith(f"{second}:3: Service shop/web metadata.name: duplicate Service")
    kept = store.get("Service", "shop", "web")
    assert kept.source.file == str(first)
    assert kept.ports[0].port == 80


def test_duplicate_in_a_subdirectory_is_found_in_path_order(tmp_path: Path) -> None:
    _, errors = load_dir(tmp_path, {
        "z/late.yaml": SVC.format(name="web", ns="shop", port=80),
        "a.yaml": SVC.format(name="web", ns="shop", port=80),
    })
    (e,) = errors
    assert e.file == str(tmp_path / "z" / "late.yaml")
    assert f"already defined at {tmp_path / 'a.yaml'}:1" in e.reason


def test_duplicate_within_one_file(tmp_path: Path) -> None:
    _, errors = load_dir(tmp_path, {"a.yaml": SVC.format(name="web", ns="shop", port=80) + "---\n"
                                    + SVC.format(name="web", ns="shop", port=81)})
    (e,) = errors
    assert (e.line, e.file) == (9, str(tmp_path / "a.yaml"))


def test_cluster_scoped_duplicate(tmp_path: Path) -> None:
    ns = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n"
    _, errors = load_dir(tmp_path, {"a.yaml": ns, "b.yaml": ns})
    (e,) = errors
    assert (e.kind, e.namespace, e.name) == ("Namespace", "", "shop")
    assert str(e).startswith(f"{tmp_path / 'b.yaml'}:1: Namespace shop metadata.name: duplicate Namespace")


def test_same_name_in_another_namespace_or_kind_is_not_a_duplicate(tmp_path: Path) -> None:
    store, errors = load_dir(tmp_path, {
        "a.yaml": SVC.format(name="web", ns="shop", port=80),
        "b.yaml": SVC.format(name="web", ns="blog", port=80),
        "c.yaml": "apiVersion: v1\nkind: Secret\nmetadata:\n  name: web\n  namespace: shop\n",
    })
    assert errors == []
    assert [s.meta.namespace for s in store.list("Service")] == ["blog", "shop"]
    assert store.get("Secret", "shop", "web") is not None


def test_rejected_objects_are_carried(tmp_path: Path) -> None:
    store, errors = load_dir(tmp_path, {"a.yaml": SVC.format(name="web", ns="shop", port=0)})
    assert errors == []
    assert store.get("Service", "shop", "web") is None
    assert [(r.kind, r.meta.name) for r in store.rejected] == [("Service", "web")]


def test_endpoint_slices_by_service(tmp_path: Path) -> None:
    store, _ = load_dir(tmp_path, {
        "s.yaml": SLICE.format(name="web-b", service="web") + "---\n" + SLICE.format(name="web-a", service="web")
        + "---\n" + SLICE.format(name="api-a", service="api"),
    })
    assert [s.meta.name for s in store.endpoint_slices("shop", "web")] == ["web-a", "web-b"]
    assert [s.meta.name for s in store.endpoint_slices("shop", "api")] == ["api-a"]
    assert store.endpoint_slices("other", "web") == []
    moved = store.get("EndpointSlice", "shop", "web-b")
    store.remove("EndpointSlice", "shop", "web-a")
    assert store.endpoint_slices("shop", "web") == [moved]


def test_namespace_labels(tmp_path: Path) -> None:
    store, _ = load_dir(tmp_path, {"ns.yaml": "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n  labels: {env: prod}\n"})
    assert store.namespace_labels("shop") == {"env": "prod", "kubernetes.io/metadata.name": "shop"}
    assert store.namespace_labels("blog") == {"kubernetes.io/metadata.name": "blog"}


def test_in_namespace_follows_puts_and_removes(tmp_path: Path) -> None:
    store, _ = load_dir(tmp_path, {"a.yaml": "---\n".join(
        SVC.format(name=n, ns=ns, port=80) for n, ns in [("web", "shop"), ("api", "shop"), ("web", "blog")])})
    assert [s.meta.name for s in store.in_namespace("Service", "shop")] == ["api", "web"]
    assert [s.meta.name for s in store.in_namespace("Service", "blog")] == ["web"]
    assert store.in_namespace("Service", "none") == [] and store.in_namespace("Pod", "shop") == []
    web = store.get("Service", "shop", "web")
    store.put(dataclasses.replace(web, source=Source("other.yaml", 1)))
    assert [s.source.file for s in store.in_namespace("Service", "shop")][1] == "other.yaml"
    store.remove("Service", "blog", "web")
    store.remove("Service", "blog", "web")  # absent: nothing happens
    assert store.in_namespace("Service", "blog") == []
    assert [s.meta.namespace for s in store.list("Service")] == ["shop", "shop"]


def test_apply_stores_objects_as_given(tmp_path: Path) -> None:
    # What an API server fills in comes with the objects (providers/api_fields.py emulates it
    # for files): the store neither keeps the old uid nor counts generations.
    store, _ = load_dir(tmp_path, {"a.yaml": SVC.format(name="web", ns="shop", port=80)})
    web = store.get("Service", "shop", "web")
    key = ObjectKey.of(web)
    assert key == ObjectKey("Service", "shop", "web")
    assert store.apply([web], []) == set()  # the same object: no change
    assert store.apply([dataclasses.replace(web)], []) == set()  # an equal one: no change
    assert store.get("Service", "shop", "web") is web
    fresh = dataclasses.replace(web, meta=dataclasses.replace(web.meta, uid="new", creation_timestamp="later"))
    assert store.apply([fresh], []) == {key}
    assert store.get("Service", "shop", "web") is fresh
    edited = dataclasses.replace(web, ports=(), source=Source.api("42"))
    assert store.apply([edited], []) == {key}
    kept = store.get("Service", "shop", "web")
    assert (kept.meta.generation, kept.meta.uid, str(kept.source)) == (1, web.meta.uid, "resourceVersion 42")
    assert store.apply([], [key]) == {key} and store.get("Service", "shop", "web") is None
