"""Discovery and the CRD lifecycle: built-in groups served, a custom kind missing (404) until its
CRD is created, served under each of its versions, and gone again with its objects when the CRD
is deleted."""

from __future__ import annotations

from pathlib import Path

from kubernetes_asyncio import client
from kubernetes_asyncio.client.exceptions import ApiException

from tests.kubeapi import running_emulator

from .helpers import GATEWAY_CRD, api_client, gateway, request, run

GW = "gateway.networking.k8s.io"


def test_builtin_discovery(tmp_path: Path) -> None:
    async def body() -> None:
        async with running_emulator(tmp_path) as em:
            status, core = await request(em, "GET", "/api")
            assert status == 200 and core["versions"] == ["v1"]
            status, groups = await request(em, "GET", "/apis")
            names = {g["name"] for g in groups["groups"]}
            assert {"apps", "discovery.k8s.io", "coordination.k8s.io", "policy", "autoscaling",
                    "rbac.authorization.k8s.io", "apiextensions.k8s.io"} <= names
            assert GW not in names
            status, v1 = await request(em, "GET", "/api/v1")
            resources = {r["name"]: r for r in v1["resources"]}
            assert resources["services"]["namespaced"] and not resources["nodes"]["namespaced"]
            assert "services/status" in resources and "configmaps/status" not in resources
            status, apps = await request(em, "GET", "/apis/apps/v1")
            assert apps["groupVersion"] == "apps/v1"
            assert {r["name"] for r in apps["resources"]} == {"deployments", "deployments/status"}
            async with api_client(em.kubeconfig) as api:
                leases = await client.CoordinationV1Api(api).list_namespaced_lease("default")
                assert leases.items == []

    run(body)


def test_custom_kind_exists_only_while_its_crd_does(tmp_path: Path) -> None:
    async def body() -> None:
        async with running_emulator(tmp_path) as em, api_client(em.kubeconfig) as api:
            custom = client.CustomObjectsApi(api)
            try:
                await custom.list_namespaced_custom_object(GW, "v1", "default", "gateways")
                raise AssertionError("gateways listed before their CRD exists")
            except ApiException as exc:
                assert exc.status == 404
            assert (await request(em, "GET", f"/apis/{GW}/v1"))[0] == 404

            crds = client.ApiextensionsV1Api(api)
            created = await crds.create_custom_resource_definition(GATEWAY_CRD)
            conditions = {c.type: c.status for c in created.status.conditions}
            assert conditions == {"NamesAccepted": "True", "Established": "True"}
            _, groups = await request(em, "GET", "/apis")
            listed = next(g for g in groups["groups"] if g["name"] == GW)
            assert [v["version"] for v in listed["versions"]] == ["v1", "v1beta1"]

            await custom.create_namespaced_custom_object(GW, "v1", "default", "gateways", gateway("gw"))
            as_v1beta1 = await custom.get_namespaced_custom_object(GW, "v1beta1", "default", "gateways", "gw")
            assert as_v1beta1["apiVersion"] == f"{GW}/v1beta1"
            listed_objects = await custom.list_namespaced_custom_object(GW, "v1", "default", "gateways")
            assert [o["metadata"]["name"] for o in listed_objects["items"]] == ["gw"]
            assert listed_objects["items"][0]["kind"] == "Gateway"  # custom list items carry their kind

            await crds.delete_custom_resource_definition(f"gateways.{GW}")
            try:
                await custom.list_namespaced_custom_object(GW, "v1", "default", "gateways")
                raise AssertionError("gateways still served after their CRD was deleted")
            except ApiException as exc:
                assert exc.status == 404
            await crds.create_custom_resource_definition(GATEWAY_CRD)
            again = await custom.list_namespaced_custom_object(GW, "v1", "default", "gateways")
            assert again["items"] == []  # the objects went with the CRD

    run(body)


def test_builtin_list_items_carry_no_kind(tmp_path: Path) -> None:
    async def body() -> None:
        async with running_emulator(tmp_path) as em:
            await request(em, "POST", "/api/v1/namespaces/default/configmaps", {"metadata": {"name": "a"}})
            status, listed = await request(em, "GET", "/api/v1/namespaces/default/configmaps")
            assert status == 200 and listed["kind"] == "ConfigMapList" and listed["apiVersion"] == "v1"
            assert "kind" not in listed["items"][0] and listed["metadata"]["resourceVersion"].isdigit()

    run(body)
