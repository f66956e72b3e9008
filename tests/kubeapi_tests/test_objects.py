"""Object semantics against the API conventions: server-set metadata on create, AlreadyExists,
optimistic concurrency (409 on a stale resourceVersion), the generation rule, status subresource
isolation, finalizers, selectors, Status errors, and RBAC denials."""

from __future__ import annotations

from pathlib import Path

from kubernetes_asyncio import client
from kubernetes_asyncio.client.exceptions import ApiException

from tests.kubeapi import running_emulator

from .helpers import GATEWAY_CRD, api_client, gateway, request, run

GW = "gateway.networking.k8s.io"
GATEWAYS = f"/apis/{GW}/v1/namespaces/default/gateways"


def test_create_sets_server_fields_and_refuses_duplicates(tmp_path: Path) -> None:
    async def body() -> None:
        async with running_emulator(tmp_path) as em, api_client(em.kubeconfig) as api:
            core = client.CoreV1Api(api)
            cm = await core.create_namespaced_config_map("default", {"metadata": {"name": "a"}, "data": {"k": "v"}})
            assert cm.metadata.uid and cm.metadata.creation_timestamp and cm.metadata.generation == 1
            assert int(cm.metadata.resource_version) > 0
            try:
                await core.create_namespaced_config_map("default", {"metadata": {"name": "a"}})
                raise AssertionError("a duplicate was created")
            except ApiException as exc:
                assert exc.status == 409
            status, err = await request(em, "POST", "/api/v1/namespaces/default/configmaps", {"metadata": {"name": "a"}})
            assert (status, err["kind"], err["reason"], err["code"]) == (409, "Status", "AlreadyExists", 409)
            assert err["details"] == {"name": "a", "kind": "configmaps"}
            named = await core.create_namespaced_config_map("default", {"metadata": {"generateName": "gen-"}})
            assert named.metadata.name.startswith("gen-") and len(named.metadata.name) == 9
            status, err = await request(em, "POST", "/api/v1/namespaces/nowhere/configmaps", {"metadata": {"name": "a"}})
            assert (status, err["reason"]) == (404, "NotFound")
            status, err = await request(em, "GET", "/api/v1/namespaces/default/configmaps/missing")
            assert (status, err["reason"], err["message"]) == (404, "NotFound", 'configmaps "missing" not found')

    run(body)


def test_stale_update_conflicts(tmp_path: Path) -> None:
    async def body() -> None:
        async with running_emulator(tmp_path) as em, api_client(em.kubeconfig) as api:
            leases = client.CoordinationV1Api(api)
            lease = {"metadata": {"name": "meshgate-leader"}, "spec": {"holderIdentity": "a", "leaseDurationSeconds": 15}}
            first = await leases.create_namespaced_lease("default", lease)
            # Replica a renews; replica b, holding the old copy, tries to take over and must lose.
            first.spec.renew_time = "2026-12-04T12:00:00.000000Z"
            renewed = await leases.replace_namespaced_lease("meshgate-leader", "default", first)
            assert int(renewed.metadata.resource_version) > int(first.metadata.resource_version)
            first.spec.holder_identity = "b"
            try:
                await leases.replace_namespaced_lease("meshgate-leader", "default", first)
                raise AssertionError("a stale update went through")
            except ApiException as exc:
                assert exc.status == 409 and "the object has been modified" in exc.body
            current = await leases.read_namespaced_lease("meshgate-leader", "default")
            assert current.spec.holder_identity == "a"
            # A patch naming a stale resourceVersion is refused the same way.
            status, err = await request(em, "PATCH", "/apis/coordination.k8s.io/v1/namespaces/default/leases/"
                                        "meshgate-leader", {"metadata": {"resourceVersion": "2"}},
                                        content_type="application/merge-patch+json")
            assert (status, err["reason"]) == (409, "Conflict")

    run(body)


def test_generation_counts_spec_changes_only(tmp_path: Path) -> None:
    async def body() -> None:
        async with running_emulator(tmp_path) as em, api_client(em.kubeconfig) as api:
            await client.ApiextensionsV1Api(api).create_custom_resource_definition(GATEWAY_CRD)
            custom = client.CustomObjectsApi(api)
            gw = await custom.create_namespaced_custom_object(GW, "v1", "default", "gateways", gateway("gw"))
            assert gw["metadata"]["generation"] == 1
            gw["metadata"]["labels"] = {"team": "a"}
            labelled = await custom.replace_namespaced_custom_object(GW, "v1", "default", "gateways", "gw", gw)
            assert labelled["metadata"]["generation"] == 1
            assert labelled["metadata"]["resourceVersion"] != gw["metadata"]["resourceVersion"]
            same = await custom.replace_namespaced_custom_object(GW, "v1", "default", "gateways", "gw", labelled)
            assert same["metadata"]["resourceVersion"] == labelled["metadata"]["resourceVersion"]  # no-op write
            labelled["spec"]["gatewayClassName"] = "other"
            changed = await custom.replace_namespaced_custom_object(GW, "v1", "default", "gateways", "gw", labelled)
            assert changed["metadata"]["generation"] == 2
            del changed["metadata"]["resourceVersion"]
            status, err = await request(em, "PUT", f"{GATEWAYS}/gw", changed)
            assert (status, err["reason"]) == (422, "Invalid")  # custom resources need a resourceVersion

    run(body)


def test_status_subresource_isolation(tmp_path: Path) -> None:
    async def body() -> None:
        async with running_emulator(tmp_path) as em, api_client(em.kubeconfig) as api:
            await client.ApiextensionsV1Api(api).create_custom_resource_definition(GATEWAY_CRD)
            custom = client.CustomObjectsApi(api)
            sent = {**gateway("gw"), "status": {"conditions": [{"type": "Accepted", "status": "True"}]}}
            gw = await custom.create_namespaced_custom_object(GW, "v1", "default", "gateways", sent)
            assert "status" not in gw  # create ignores status
            gw["status"] = {"conditions": [{"type": "Programmed", "status": "True"}]}
            gw["spec"]["gatewayClassName"] = "changed-by-status-write"
            written = await custom.replace_namespaced_custom_object_status(GW, "v1", "default", "gateways", "gw", gw)
            assert written["status"]["conditions"][0]["type"] == "Programmed"
            assert written["spec"]["gatewayClassName"] == "meshgate" and written["metadata"]["generation"] == 1
            written["status"] = {"conditions": []}
            written["spec"]["gatewayClassName"] = "edited"
            main = await custom.replace_namespaced_custom_object(GW, "v1", "default", "gateways", "gw", written)
            assert main["status"]["conditions"][0]["type"] == "Programmed" and main["metadata"]["generation"] == 2
            status, patched = await request(em, "PATCH", f"{GATEWAYS}/gw/status",
                                            {"status": {"addresses": [{"value": "127.0.0.9"}]}, "spec": {"x": 1}},
                                            content_type="application/merge-patch+json")
            assert status == 200 and patched["status"]["addresses"] == [{"value": "127.0.0.9"}]
            assert "x" not in patched["spec"]
            core = client.CoreV1Api(api)
            assert (await request(em, "GET", "/api/v1/namespaces/default/configmaps/x/status"))[0] == 404
            svc = await core.create_namespaced_service("default", {"metadata": {"name": "s"},
                                                                   "spec": {"type": "LoadBalancer",
                                                                            "ports": [{"port": 80}]}})
            assert svc.spec.cluster_ip.startswith("127.") and svc.spec.ports[0].target_port == 80
            await core.patch_namespaced_service_status("s", "default", {"status": {"loadBalancer": {
                "ingress": [{"ip": "127.0.0.10"}]}}})
            assert (await core.read_namespaced_service("s", "default")).status.load_balancer.ingress[0].ip == "127.0.0.10"

    run(body)


def test_finalizers_hold_deletion(tmp_path: Path) -> None:
    async def body() -> None:
        async with running_emulator(tmp_path) as em, api_client(em.kubeconfig) as api:
            core = client.CoreV1Api(api)
            await core.create_namespaced_config_map("default", {"metadata": {"name": "f", "finalizers": ["x/y"]}})
            await core.delete_namespaced_config_map("f", "default")
            held = await core.read_namespaced_config_map("f", "default")
            assert held.metadata.deletion_timestamp is not None
            await core.patch_namespaced_config_map("f", "default", [{"op": "remove", "path": "/metadata/finalizers"}])
            try:
                await core.read_namespaced_config_map("f", "default")
                raise AssertionError("still there after its last finalizer went")
            except ApiException as exc:
                assert exc.status == 404

    run(body)


def test_selectors(tmp_path: Path) -> None:
    async def body() -> None:
        async with running_emulator(tmp_path) as em, api_client(em.kubeconfig) as api:
            core = client.CoreV1Api(api)
            await core.create_namespace({"metadata": {"name": "other"}})
            for ns, name, labels in (("default", "a", {"app": "web", "tier": "front"}), ("default", "b", {"app": "db"}),
                                     ("other", "c", {"app": "web"})):
                await core.create_namespaced_config_map(ns, {"metadata": {"name": name, "labels": labels}})

            async def names(**query: str) -> list[str]:
                listed = await core.list_config_map_for_all_namespaces(**query)
                return sorted(i.metadata.name for i in listed.items)

            assert await names(label_selector="app=web") == ["a", "c"]
            assert await names(label_selector="app in (web,db),tier!=front") == ["b", "c"]
            assert await names(label_selector="tier") == ["a"]
            assert await names(label_selector="!tier,app") == ["b", "c"]
            assert await names(field_selector="metadata.namespace=other") == ["c"]
            assert await names(field_selector="metadata.name!=a,metadata.namespace=default") == ["b"]
            page = await core.list_config_map_for_all_namespaces(limit=2)
            assert len(page.items) == 2 and page.metadata.remaining_item_count == 1
            rest = await core.list_config_map_for_all_namespaces(limit=2, _continue=page.metadata._continue)
            assert [i.metadata.name for i in rest.items] == ["c"] and not rest.metadata._continue
            status, err = await request(em, "GET", "/api/v1/configmaps", params={"labelSelector": "a in b"})
            assert (status, err["reason"]) == (400, "BadRequest")

    run(body)


def test_forbidden(tmp_path: Path) -> None:
    async def body() -> None:
        async with running_emulator(tmp_path) as em, api_client(em.kubeconfig) as api:
            await client.ApiextensionsV1Api(api).create_custom_resource_definition(GATEWAY_CRD)
            em.emulator.forbid("list", "", "secrets")
            em.emulator.forbid("update", GW, "gateways/status")
            core = client.CoreV1Api(api)
            try:
                await core.list_secret_for_all_namespaces()
                raise AssertionError("a forbidden list went through")
            except ApiException as exc:
                assert exc.status == 403 and "cannot list resource" in exc.body
            status, err = await request(em, "PUT", f"{GATEWAYS}/gw/status", gateway("gw"))
            assert (status, err["reason"]) == (403, "Forbidden")
            assert (await request(em, "POST", GATEWAYS, gateway("gw")))[0] == 201  # other verbs still allowed
            em.emulator.allow_all()
            assert (await core.list_secret_for_all_namespaces()).items == []

    run(body)


def test_unauthorized_without_token(tmp_path: Path) -> None:
    async def body() -> None:
        async with running_emulator(tmp_path, token="secret") as em:
            status, err = await request(em, "GET", "/api/v1/namespaces")
            assert (status, err["reason"]) == (401, "Unauthorized")

    run(body)


def test_delete_preconditions_and_collections(tmp_path: Path) -> None:
    async def body() -> None:
        async with running_emulator(tmp_path) as em:
            cms = "/api/v1/namespaces/default/configmaps"
            for name, app in (("a", "x"), ("b", "x"), ("c", "y")):
                await request(em, "POST", cms, {"metadata": {"name": name, "labels": {"app": app}}})
            status, err = await request(em, "DELETE", f"{cms}/a", {"preconditions": {"uid": "someone-else"}})
            assert (status, err["reason"]) == (409, "Conflict")
            status, gone = await request(em, "DELETE", cms, params={"labelSelector": "app=x"})
            assert status == 200 and sorted(i["metadata"]["name"] for i in gone["items"]) == ["a", "b"]
            _, left = await request(em, "GET", cms)
            assert [i["metadata"]["name"] for i in left["items"]] == ["c"]

    run(body)
