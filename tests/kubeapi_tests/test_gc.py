"""Garbage collection by ownerReferences, as kube-controller-manager's collector: an owner's
dependents go after it (background), a dependent with another live owner only loses the
reference, Orphan keeps dependents, and a deleted namespace is emptied, then removed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.kubeapi import running_emulator

from .helpers import GATEWAY_CRD, gateway, request, run

GW = "gateway.networking.k8s.io"


def owned(kind_path: str, name: str, *owners: dict[str, Any]) -> tuple[str, dict[str, object]]:
    refs = [{"apiVersion": o["apiVersion"], "kind": o["kind"], "name": o["metadata"]["name"],
             "uid": o["metadata"]["uid"], "controller": i == 0} for i, o in enumerate(owners)]
    return kind_path, {"metadata": {"name": name, "ownerReferences": refs}}


def test_dependents_of_a_deleted_gateway_go(tmp_path: Path) -> None:
    async def body() -> None:
        async with running_emulator(tmp_path) as em:
            await request(em, "POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", GATEWAY_CRD)
            _, gw = await request(em, "POST", f"/apis/{GW}/v1/namespaces/default/gateways", gateway("gw"))
            _, keeper = await request(em, "POST", "/api/v1/namespaces/default/configmaps", {"metadata": {"name": "k"}})
            for path, obj in (owned("/apis/apps/v1/namespaces/default/deployments", "gw-envoy", gw),
                              owned("/api/v1/namespaces/default/services", "gw-envoy", gw),
                              owned("/api/v1/namespaces/default/serviceaccounts", "gw-envoy", gw),
                              owned("/api/v1/namespaces/default/configmaps", "gw-bootstrap", gw, keeper)):
                status, _ = await request(em, "POST", path, obj)
                assert status == 201
            await request(em, "DELETE", f"/apis/{GW}/v1/namespaces/default/gateways/gw")
            await em.emulator.settle()
            for path in ("/apis/apps/v1/namespaces/default/deployments/gw-envoy",
                         "/api/v1/namespaces/default/services/gw-envoy",
                         "/api/v1/namespaces/default/serviceaccounts/gw-envoy"):
                assert (await request(em, "GET", path))[0] == 404, path
            status, shared = await request(em, "GET", "/api/v1/namespaces/default/configmaps/gw-bootstrap")
            assert status == 200
            assert [r["uid"] for r in shared["metadata"]["ownerReferences"]] == [keeper["metadata"]["uid"]]

    run(body)


def test_orphan_keeps_dependents(tmp_path: Path) -> None:
    async def body() -> None:
        async with running_emulator(tmp_path) as em:
            cms = "/api/v1/namespaces/default/configmaps"
            _, owner = await request(em, "POST", cms, {"metadata": {"name": "owner"}})
            await request(em, "POST", *owned(cms, "dependent", owner))
            await request(em, "DELETE", f"{cms}/owner", {"propagationPolicy": "Orphan"})
            await em.emulator.settle()
            status, dependent = await request(em, "GET", f"{cms}/dependent")
            assert status == 200 and "ownerReferences" not in dependent["metadata"]

    run(body)


def test_deleted_namespace_is_emptied(tmp_path: Path) -> None:
    async def body() -> None:
        async with running_emulator(tmp_path) as em:
            await request(em, "POST", "/api/v1/namespaces", {"metadata": {"name": "shop"}})
            await request(em, "POST", "/api/v1/namespaces/shop/configmaps", {"metadata": {"name": "a"}})
            _, ns = await request(em, "DELETE", "/api/v1/namespaces/shop")
            assert ns["status"]["phase"] == "Terminating"
            await em.emulator.settle()
            assert (await request(em, "GET", "/api/v1/namespaces/shop/configmaps/a"))[0] == 404
            assert (await request(em, "GET", "/api/v1/namespaces/shop"))[0] == 404

    run(body)
