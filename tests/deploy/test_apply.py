"""The rendered manifests apply to an API server (the emulator of tests/kubeapi, with the CRDs a
cluster would have), each object at the resource its discovery names; and every resource the RBAC
rules name is one the server serves (a misspelt plural would grant nothing)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from meshgate.deploy.render import manifests
from meshgate.deploy.settings import ManifestOptions
from tests.kubeapi import Running, running_emulator
from tests.kubeapi_tests.helpers import request
from tests.kubernetes.crds import ENVOY_GATEWAY, GATEWAY_API, ISTIO, ISTIO_SECURITY, crds


async def _served(em: Running) -> dict[tuple[str, str], tuple[str, bool]]:
    """(apiVersion, kind) → (plural, namespaced) from the server's discovery."""
    out: dict[tuple[str, str], tuple[str, bool]] = {}
    _, groups = await request(em, "GET", "/apis")
    versions = ["v1"] + [v["groupVersion"] for g in groups["groups"] for v in g["versions"]]
    for gv in versions:
        _, doc = await request(em, "GET", "/api/v1" if gv == "v1" else f"/apis/{gv}")
        for res in doc["resources"]:
            out[(gv, res["kind"] if "/" not in res["name"] else f"{res['kind']}/{res['name']}")] = (
                res["name"], res["namespaced"])
    return out


def test_every_object_applies_and_every_rbac_resource_exists(tmp_path: Path) -> None:
    objects = manifests(ManifestOptions(namespace="mesh"))

    async def body() -> None:
        async with running_emulator(tmp_path) as em:
            for crd in crds((GATEWAY_API, ISTIO, ISTIO_SECURITY, ENVOY_GATEWAY)):  # meshgate's own CRD is among the manifests
                status, answer = await request(em, "POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions",
                                               crd)
                assert status == 201, answer
            served = await _served(em)
            for obj in objects:
                if (obj["apiVersion"], obj["kind"]) not in served:  # a kind of meshgate's own CRD, applied above
                    served = await _served(em)
                plural, namespaced = served[(obj["apiVersion"], obj["kind"])]
                base = f"/api/{obj['apiVersion']}" if "/" not in obj["apiVersion"] else f"/apis/{obj['apiVersion']}"
                path = f"{base}/namespaces/{obj['metadata']['namespace']}/{plural}" if namespaced else f"{base}/{plural}"
                status, answer = await request(em, "POST", path, obj)
                assert status == 201, (obj["kind"], answer)
            served = await _served(em)  # meshgate's own CRD is among the objects
            plurals = {(gv.rpartition("/")[0], name) for (gv, _), (name, _) in served.items()}
            for role in (o for o in objects if o["kind"] in ("ClusterRole", "Role")):
                for rule in role["rules"]:
                    for group in rule["apiGroups"]:
                        for resource in rule["resources"]:
                            # <plural>/finalizers is no served subresource: only an RBAC name the
                            # OwnerReferencesPermissionEnforcement plugin checks; its plural must exist.
                            if resource.endswith("/finalizers"):
                                resource = resource.removesuffix("/finalizers")
                            assert (group, resource) in plurals, (group, resource)

    asyncio.run(asyncio.wait_for(body(), 60))
