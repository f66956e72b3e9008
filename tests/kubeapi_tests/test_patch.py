"""The PATCH bodies: RFC 7386 merge patch and RFC 6902 JSON patch (their own examples), the
simplified strategic merge patch on keyed lists, and the content types each resource takes."""

from __future__ import annotations

from pathlib import Path

import pytest
from kubernetes_asyncio import client
from kubernetes_asyncio.client.exceptions import ApiException

from tests.kubeapi import running_emulator
from tests.kubeapi.errors import ApiError
from tests.kubeapi.patch import json_patch, merge_patch, strategic_merge_patch

from .helpers import GATEWAY_CRD, api_client, gateway, request, run


def test_merge_patch_rfc7386_example() -> None:
    target = {"title": "Goodbye!", "author": {"givenName": "John", "familyName": "Doe"}, "tags": ["example", "sample"],
              "content": "This will be unchanged"}
    patch = {"title": "Hello!", "phoneNumber": "+01-123-456-7890", "author": {"familyName": None}, "tags": ["example"]}
    assert merge_patch(target, patch) == {"title": "Hello!", "author": {"givenName": "John"}, "tags": ["example"],
                                          "content": "This will be unchanged", "phoneNumber": "+01-123-456-7890"}


def test_json_patch_rfc6902_operations() -> None:
    doc = {"foo": ["bar", "baz"], "a": {"b": 1}, "x~y": 1}
    assert json_patch(doc, [{"op": "add", "path": "/foo/1", "value": "qux"}])["foo"] == ["bar", "qux", "baz"]
    assert json_patch(doc, [{"op": "add", "path": "/foo/-", "value": "end"}])["foo"][-1] == "end"
    assert json_patch(doc, [{"op": "remove", "path": "/x~0y"}]) == {"foo": ["bar", "baz"], "a": {"b": 1}}
    moved = json_patch(doc, [{"op": "move", "from": "/a/b", "path": "/c"}])
    assert moved["c"] == 1 and moved["a"] == {}
    assert json_patch(doc, [{"op": "copy", "from": "/foo/0", "path": "/a/d"}])["a"]["d"] == "bar"
    assert json_patch(doc, [{"op": "replace", "path": "/a/b", "value": 2}])["a"]["b"] == 2
    with pytest.raises(ApiError):
        json_patch(doc, [{"op": "test", "path": "/a/b", "value": 2}])
    with pytest.raises(ApiError):
        json_patch(doc, [{"op": "replace", "path": "/missing", "value": 2}])
    assert doc == {"foo": ["bar", "baz"], "a": {"b": 1}, "x~y": 1}  # never changed in place


def test_strategic_merge_patch_keyed_lists() -> None:
    target = {"spec": {"containers": [{"name": "envoy", "image": "a"}, {"name": "side", "image": "b"}],
                       "args": ["x"]},
              "metadata": {"finalizers": ["one"]}}
    patch = {"spec": {"containers": [{"name": "envoy", "image": "c"}, {"name": "side", "$patch": "delete"},
                                     {"name": "new", "image": "d"}], "args": ["y"]},
             "metadata": {"finalizers": ["two"]}}
    assert strategic_merge_patch(target, patch) == {
        "spec": {"containers": [{"name": "envoy", "image": "c"}, {"name": "new", "image": "d"}], "args": ["y"]},
        "metadata": {"finalizers": ["one", "two"]}}


def test_content_types_per_resource(tmp_path: Path) -> None:
    async def body() -> None:
        async with running_emulator(tmp_path) as em:
            deployments = "/apis/apps/v1/namespaces/default/deployments"
            container = {"name": "envoy", "image": "envoy:1"}
            await request(em, "POST", deployments, {"metadata": {"name": "d"}, "spec": {
                "template": {"spec": {"containers": [container, {"name": "side", "image": "s"}]}}}})
            status, patched = await request(em, "PATCH", f"{deployments}/d", {"spec": {"template": {"spec": {
                "containers": [{"name": "envoy", "image": "envoy:2"}]}}}},
                content_type="application/strategic-merge-patch+json")
            assert status == 200
            assert [c["image"] for c in patched["spec"]["template"]["spec"]["containers"]] == ["envoy:2", "s"]
            assert patched["metadata"]["generation"] == 2

            await request(em, "POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", GATEWAY_CRD)
            gateways = "/apis/gateway.networking.k8s.io/v1/namespaces/default/gateways"
            await request(em, "POST", gateways, gateway("gw"))
            status, err = await request(em, "PATCH", f"{gateways}/gw", {"spec": {}},
                                        content_type="application/strategic-merge-patch+json")
            assert (status, err["reason"]) == (415, "UnsupportedMediaType")
            status, err = await request(em, "PATCH", f"{gateways}/gw", b"{}", content_type="application/apply-patch+yaml")
            assert status == 415
            status, _ = await request(em, "PATCH", f"{gateways}/gw", {"spec": {"gatewayClassName": "x"}},
                                      content_type="application/merge-patch+json")
            assert status == 200

    run(body)


def test_kubernetes_asyncio_custom_object_patch_needs_merge_content_type(tmp_path: Path) -> None:
    # CustomObjectsApi sends a dict body as application/json-patch+json unless told otherwise (its
    # content types list no strategic merge): a JSON patch must be a list, so that is a 400, and
    # callers pass _content_type="application/merge-patch+json".
    async def body() -> None:
        async with running_emulator(tmp_path) as em, api_client(em.kubeconfig) as api:
            await client.ApiextensionsV1Api(api).create_custom_resource_definition(GATEWAY_CRD)
            custom = client.CustomObjectsApi(api)
            group = "gateway.networking.k8s.io"
            await custom.create_namespaced_custom_object(group, "v1", "default", "gateways", gateway("gw"))
            with pytest.raises(ApiException) as refused:
                await custom.patch_namespaced_custom_object(group, "v1", "default", "gateways", "gw",
                                                            {"spec": {"gatewayClassName": "x"}})
            assert refused.value.status == 400
            merge = "application/merge-patch+json"
            patched = await custom.patch_namespaced_custom_object_status(
                group, "v1", "default", "gateways", "gw", {"status": {"conditions": []}}, _content_type=merge)
            assert patched["status"] == {"conditions": []}

    run(body)
