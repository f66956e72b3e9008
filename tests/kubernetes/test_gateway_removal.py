"""A Gateway that goes takes its proxy with it: deleted, its Deployment, ConfigMap, Service,
ServiceAccount and xDS certificate Secret are removed (they are owned by it: the garbage collector follows their
ownerReferences, and the leader's provisioner deletes what no served Gateway renders), and the
kubelet stops its Envoy; moved to a class that is not meshgate's, the provisioner alone removes
them (the Gateway, their owner, still exists)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from meshgate.cluster.apply import PATHS, object_path
from meshgate.providers.kubernetes.client import ApiError

from .harness import (
    NAMESPACE,
    Cluster,
    cluster,
    echo,
    endpoint_slice,
    free_port,
    gateway,
    kubelet,
    route,
    run,
    service,
    serving,
)

# What is provisioned for a Gateway of class meshgate without parameters (no HPA or PDB): kind → name suffix.
PROVISIONED = {"ServiceAccount": "", "ConfigMap": "", "Deployment": "", "Service": "", "Secret": "-xds"}


async def proxy_objects(c: Cluster, gateway_name: str) -> dict[str, dict]:
    """The provisioned objects of a Gateway that exist, by kind (every kind provisioning writes)."""
    out = {}
    for kind in PATHS:
        try:
            name = f"{gateway_name}-meshgate{PROVISIONED.get(kind, '')}"
            out[kind] = await c.api.get(object_path(kind, NAMESPACE, name))
        except ApiError as exc:
            if exc.code != 404:
                raise
    return out


def test_a_gateway_deleted_or_moved_away_loses_its_proxy(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with cluster(tmp_path) as c:
            with echo(f"{c.base}.11", 9001, "web-1"):
                other = gateway(c.base, "gw2")
                other["spec"]["addresses"] = [{"type": "IPAddress", "value": f"{c.base}.2"}]
                for obj in [gateway(c.base), other, *service("web", 9001),
                            endpoint_slice("web-1", "web", 9001, [f"{c.base}.11"]), route("web", "web")]:
                    await c.create(obj)
                async with serving(c, free_port()), kubelet(c) as k:
                    assert (await c.until_reply("/", lambda r: r.status == 200)).pod == "web-1"
                    await c.until("both proxies running", lambda: _running(k, {"gw-meshgate", "gw2-meshgate"}))
                    pods = dict(k.pods)
                    gw = await c.get("Gateway", NAMESPACE, "gw")
                    assert gw is not None
                    owned = await proxy_objects(c, "gw")
                    assert sorted(owned) == sorted(PROVISIONED)
                    for obj in owned.values():  # what the garbage collector follows
                        assert obj["metadata"]["ownerReferences"] == [{
                            "apiVersion": "gateway.networking.k8s.io/v1", "kind": "Gateway", "name": "gw",
                            "uid": gw["metadata"]["uid"], "controller": True, "blockOwnerDeletion": True}]

                    # Moved to another controller's class: not served, so the provisioner removes its proxy.
                    await c.patch("Gateway", NAMESPACE, "gw2", {"spec": {"gatewayClassName": "other"}})
                    await c.until("gw2's objects removed", lambda: _none(c, "gw2"))
                    await c.until("gw2's Envoy stopped", lambda: _stopped(k, pods, "gw2-meshgate", {"gw-meshgate"}))
                    assert await c.get("Gateway", NAMESPACE, "gw2") is not None

                    # Deleted: its objects go, its Envoy stops, its address answers no more.
                    await c.delete("Gateway", NAMESPACE, "gw")
                    await c.emulator.settle()
                    await c.until("gw's objects removed", lambda: _none(c, "gw"))
                    await c.until("gw's Envoy stopped", lambda: _stopped(k, pods, "gw-meshgate", set()))
                    assert (await c.request("/")).status == 0
                    await c.until("its Pod gone", lambda: _no_pods(c))

    run(scenario())


async def _running(k: Any, names: set[str]) -> bool:
    return {name for _, name in k.pods} == names and all(p.envoy.running for p in k.pods.values())


async def _stopped(k: Any, pods: dict, name: str, left: set[str]) -> bool:
    """`name`'s Envoy has exited and only the proxies `left` run."""
    return not pods[(NAMESPACE, name)].envoy.running and await _running(k, left)


async def _no_pods(c: Cluster) -> bool:
    return not (await c.api.get(f"/api/v1/namespaces/{NAMESPACE}/pods"))["items"]


async def _none(c: Cluster, gateway_name: str) -> bool:
    return not await proxy_objects(c, gateway_name)
