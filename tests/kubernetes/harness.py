"""Kubernetes mode end to end, without a cluster: the API emulator (tests/kubeapi) as the API
server, `meshgate serve --kubernetes` as a real process with a kubeconfig, the test kubelet
(kubelet.py) running each provisioned proxy as a real Envoy, and echo backends on loopback
addresses. The test plays the cluster's other controllers: it writes EndpointSlices."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import urllib.request
from collections.abc import AsyncIterator, Callable, Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from meshgate.echo import EchoServer
from meshgate.providers.kubernetes.client import MERGE_PATCH, ApiError, KubeClient
from meshgate.providers.kubernetes.connection import Connection

from ..e2e.harness import Reply, free_subnet, get
from ..kubeapi.fixture import Process, Running, emulator_process, running_emulator
from ..kubeapi.server import Emulator
from ..meshgate_process import MeshgateProcess
from .crds import crds
from .kubelet import Kubelet

NAMESPACE = "e2e"
SYSTEM = "meshgate-system"
PORT = 8080
STEP = 0.05
WAIT = 20.0  # seconds any one expected state may take to arrive


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# Where each kind is created (the emulator serves the paths the API server does).
PATHS = {
    "Namespace": "/api/v1/namespaces", "Service": "/api/v1/namespaces/{ns}/services",
    "Pod": "/api/v1/namespaces/{ns}/pods", "Node": "/api/v1/nodes", "Secret": "/api/v1/namespaces/{ns}/secrets",
    "EndpointSlice": "/apis/discovery.k8s.io/v1/namespaces/{ns}/endpointslices",
    "CustomResourceDefinition": "/apis/apiextensions.k8s.io/v1/customresourcedefinitions",
    "GatewayClass": "/apis/gateway.networking.k8s.io/v1/gatewayclasses",
    "Gateway": "/apis/gateway.networking.k8s.io/v1/namespaces/{ns}/gateways",
    "HTTPRoute": "/apis/gateway.networking.k8s.io/v1/namespaces/{ns}/httproutes",
    "DestinationRule": "/apis/networking.istio.io/v1/namespaces/{ns}/destinationrules",
    "Deployment": "/apis/apps/v1/namespaces/{ns}/deployments",
    "ConfigMap": "/api/v1/namespaces/{ns}/configmaps",
    "Lease": "/apis/coordination.k8s.io/v1/namespaces/{ns}/leases",
    "GatewayParameters": "/apis/gateway.meshgate.io/v1alpha1/namespaces/{ns}/gatewayparameters",
    "BackendTrafficPolicy": "/apis/gateway.envoyproxy.io/v1alpha1/namespaces/{ns}/backendtrafficpolicies",
    "ClientTrafficPolicy": "/apis/gateway.envoyproxy.io/v1alpha1/namespaces/{ns}/clienttrafficpolicies",
    "SecurityPolicy": "/apis/gateway.envoyproxy.io/v1alpha1/namespaces/{ns}/securitypolicies",
    "AuthorizationPolicy": "/apis/security.istio.io/v1/namespaces/{ns}/authorizationpolicies",
}


def path(kind: str, namespace: str = "", name: str = "") -> str:
    return PATHS[kind].format(ns=namespace) + (f"/{name}" if name else "")


@dataclass
class Cluster:
    """The emulated API (in this process, or a subprocess) with a client to it, the objects' echo
    backends, and the test kubelet."""

    emulated: Running | Process
    api: KubeClient
    base: str  # a free 127.A.B prefix: the Gateway listens on .1, backends on .11 and up
    workdir: Path

    @property
    def kubeconfig(self) -> Path:
        return self.emulated.kubeconfig

    @property
    def emulator(self) -> Emulator:
        """The in-process emulator (for its controls and counts)."""
        assert isinstance(self.emulated, Running), "a subprocess emulator is driven by its .control()"
        return self.emulated.emulator

    async def create(self, obj: dict) -> dict:
        md = obj["metadata"]
        return await self.api.send("POST", path(obj["kind"], md.get("namespace", "")), obj)

    async def get(self, kind: str, namespace: str, name: str) -> dict | None:
        try:
            return await self.api.get(path(kind, namespace, name))
        except ApiError as exc:
            if exc.code == 404:
                return None
            raise

    async def patch(self, kind: str, namespace: str, name: str, body: dict) -> dict:
        return await self.api.send("PATCH", path(kind, namespace, name), body, MERGE_PATCH)

    async def delete(self, kind: str, namespace: str, name: str) -> None:
        await self.api.delete(path(kind, namespace, name))

    async def until(self, what: str, probe: Callable[[], Any], timeout: float = WAIT) -> Any:
        """Poll the coroutine function `probe` until it returns something truthy (bounded; an
        unreachable API server is asked again); AssertionError naming `what` when it never does."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            try:
                result = await probe()
            except ApiError as exc:
                if exc.code != 0:
                    raise
                result = None  # the API server is restarting: ask again
            if result:
                return result
            if loop.time() > deadline:
                raise AssertionError(f"timed out waiting for {what} (last: {result!r})")
            await asyncio.sleep(STEP * 4)

    async def request(self, route_path: str, host: str | None = None) -> Reply:
        url = f"http://{host or self.base + '.1'}:{PORT}{route_path}"
        return await asyncio.get_running_loop().run_in_executor(None, get, url)

    async def until_reply(self, route_path: str, check: Callable[[Reply], bool], timeout: float = WAIT) -> Reply:
        last: list[Reply] = []

        async def probe() -> bool:
            last[:] = [await self.request(route_path)]
            return check(last[0])

        await self.until(f"GET {route_path} to answer as expected", probe, timeout)
        return last[0]

    async def condition(self, kind: str, name: str, type_: str, namespace: str = NAMESPACE) -> dict | None:
        """The condition `type_` meshgate wrote on an object (a route's: its first parent's; a
        policy's: its first ancestor's)."""
        obj = await self.get(kind, namespace, name)
        status = (obj or {}).get("status") or {}
        conditions = status.get("conditions") or next(
            (p.get("conditions") for p in (status.get("parents") or status.get("ancestors") or [])
             if p.get("controllerName") == "meshgate.io/gateway-controller"), [])
        return next((c for c in conditions or [] if c.get("type") == type_), None)


@contextlib.asynccontextmanager
async def cluster(tmp: Path, crd_groups: tuple[str, ...] | None = None, *, process: bool = False,
                  state_file: Path | None = None, **emulator: Any) -> AsyncIterator[Cluster]:
    """An emulated cluster with the CRDs of `crd_groups` (default: Gateway API and Istio), the
    namespaces `e2e` and `meshgate-system`, and a Node `node-a` in zone-a. With `process`, the
    emulator runs as a subprocess (restartable, with `state_file`)."""
    emulated: contextlib.AbstractAsyncContextManager[Running | Process] = (
        emulator_process(tmp, state_file=state_file) if process
        else running_emulator(tmp, state_file=state_file, **emulator))
    async with emulated as running, _populated(running, tmp, crd_groups) as c:
        yield c


@contextlib.asynccontextmanager
async def _populated(emulated: Running | Process, tmp: Path, crd_groups: tuple[str, ...] | None
                     ) -> AsyncIterator[Cluster]:
    api = await Connection(str(emulated.kubeconfig)).client()
    c = Cluster(emulated, api, free_subnet(), tmp / "kubelet")
    c.workdir.mkdir()
    try:
        for obj in crds(*([crd_groups] if crd_groups is not None else [])):
            await c.create(obj)
        for ns in (NAMESPACE, SYSTEM):
            await c.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}})
        await c.create({"apiVersion": "v1", "kind": "Node", "metadata": {"name": "node-a", "labels": {
            "topology.kubernetes.io/region": "region-a", "topology.kubernetes.io/zone": "zone-a"}}})
        yield c
    finally:
        await api.close()


@contextlib.asynccontextmanager
async def kubelet(c: Cluster) -> AsyncIterator[Kubelet]:
    """The test kubelet, running provisioned proxies until the block ends."""
    k = Kubelet(c.api, c.workdir)
    task = asyncio.ensure_future(k.run())
    try:
        yield k
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def serve(c: Cluster, xds_port: int, *extra: str, kubeconfig: Path | None = None, pod: str = "",
          proxy_xds_port: int = 0) -> MeshgateProcess:
    """`meshgate serve --kubernetes` against the emulator (as its admin, or with another
    `kubeconfig`; as the Pod `pod`, its identity in the Lease); provisioned proxies reach it on
    loopback (at `proxy_xds_port`, default its own)."""
    return MeshgateProcess("serve", "--kubernetes", "--kubeconfig", str(kubeconfig or c.kubeconfig), "--xds",
                           f"127.0.0.1:{xds_port}", "--debug-port", "0", "--proxy-xds",
                           f"127.0.0.1:{proxy_xds_port or xds_port}", "--lease-namespace", SYSTEM,
                           "--lease-duration", "3", *extra, env={"POD_NAME": pod} if pod else None)


@contextlib.asynccontextmanager
async def serving(c: Cluster, xds_port: int, *extra: str, **options: Any) -> AsyncIterator[MeshgateProcess]:
    """`serve(...)` until the block ends, stopped off the event loop: an in-process emulator
    must keep answering while meshgate stops (it releases its Lease)."""
    mg = serve(c, xds_port, *extra, **options)
    try:
        yield mg
    finally:
        await asyncio.get_running_loop().run_in_executor(None, mg.stop)


async def wait_for(mg: MeshgateProcess, pattern: str, timeout: float = WAIT) -> str:
    """`mg.wait_for(pattern, timeout)` off the event loop (so an in-process emulator answers meanwhile)."""
    return await asyncio.get_running_loop().run_in_executor(None, mg.wait_for, pattern, timeout)


async def debug_url(mg: MeshgateProcess) -> str:
    """Where a `serve` process answers /debug/ and /metrics (once it has said so)."""
    line = await wait_for(mg, "metrics and debug on http://127.0.0.1:")
    return line.split("metrics and debug on ", 1)[1].split("/metrics", 1)[0]


async def fetch_json(url: str) -> Any:
    """GET a JSON document (a debug endpoint), off the event loop."""
    def read() -> Any:
        with urllib.request.urlopen(url, timeout=5) as resp:
            return json.loads(resp.read())

    return await asyncio.get_running_loop().run_in_executor(None, read)


@contextlib.contextmanager
def echo(address: str, port: int, pod: str) -> Any:
    server = EchoServer(address, port, pod=pod, namespace=NAMESPACE)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def gateway(base: str, name: str = "gw") -> dict:
    return {"apiVersion": "gateway.networking.k8s.io/v1", "kind": "Gateway",
            "metadata": {"name": name, "namespace": NAMESPACE},
            "spec": {"gatewayClassName": "meshgate", "addresses": [{"type": "IPAddress", "value": f"{base}.1"}],
                     "listeners": [{"name": "http", "port": PORT, "protocol": "HTTP"}]}}


def route(name: str, service: str, prefix: str = "/") -> dict:
    return {"apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute",
            "metadata": {"name": name, "namespace": NAMESPACE},
            "spec": {"parentRefs": [{"name": "gw"}],
                     "rules": [{"matches": [{"path": {"type": "PathPrefix", "value": prefix}}],
                                "backendRefs": [{"name": service, "port": 80}]}]}}


def service(name: str, target: int) -> list[dict]:
    """A Service and the EndpointSlice Kubernetes' controller would write for it (one ready
    endpoint per address given to `endpoints`)."""
    return [{"apiVersion": "v1", "kind": "Service", "metadata": {"name": name, "namespace": NAMESPACE},
             "spec": {"clusterIP": "10.96.0.10", "ports": [{"name": "http", "port": 80, "targetPort": target}]}}]


def endpoint_slice(name: str, service_name: str, target: int, addresses: list[str]) -> dict:
    return {"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
            "metadata": {"name": name, "namespace": NAMESPACE,
                         "labels": {"kubernetes.io/service-name": service_name,
                                    "endpointslice.kubernetes.io/managed-by": "endpointslice-controller.k8s.io"}},
            "addressType": "IPv4", "ports": [{"name": "http", "port": target, "protocol": "TCP"}],
            "endpoints": [{"addresses": [a], "conditions": {"ready": True}, "nodeName": "node-a",
                           "zone": "zone-a"} for a in addresses]}


def run(coro: Coroutine[Any, Any, None], timeout: float = 150) -> None:
    """Run a scenario to its end, bounded."""
    asyncio.run(asyncio.wait_for(coro, timeout))


async def create_web(c: Cluster) -> None:
    """The Gateway, Service `web` with one endpoint ({base}.11:9001, pod web-1) and the route to it
    that most scenarios start from."""
    for obj in [gateway(c.base), *service("web", 9001), endpoint_slice("web-1", "web", 9001, [f"{c.base}.11"]),
                route("web", "web")]:
        await c.create(obj)
