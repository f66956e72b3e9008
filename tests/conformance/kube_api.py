"""The emulated API server of a Kubernetes-mode conformance run, driven from synchronous code.

The emulator (tests/kubeapi) runs as a subprocess, so that it has a core of its own rather than
sharing this process's GIL with the harness's clients. A thread with its own event loop holds the
asyncio parts: a kubernetes-asyncio client (meshgate's KubeClient) and the test kubelet
(tests/kubernetes/kubelet.py) that runs each provisioned Deployment as a real Envoy. Every call
from the harness is a coroutine run on that loop and waited for with a bound.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Coroutine
from concurrent.futures import Future
from pathlib import Path
from typing import Any, TypeVar

from meshgate.providers.kubernetes.client import MERGE_PATCH, ApiError, KubeClient
from meshgate.providers.kubernetes.connection import Connection

from ..kubeapi.fixture import Process
from ..kubernetes.crds import KINDS as CRD_KINDS
from ..kubernetes.kubelet import Kubelet

T = TypeVar("T")
CALL_TIMEOUT = 60.0
KUBELET_INTERVAL = 0.3  # seconds between the kubelet's passes (each lists Deployments and reads ConfigMaps)

# kind → plural, for the kinds the conformance run writes or reads (core and Gateway API).
PLURALS = {
    "Namespace": "namespaces", "Node": "nodes", "Service": "services", "Pod": "pods", "Secret": "secrets",
    "ConfigMap": "configmaps", "ServiceAccount": "serviceaccounts", "Deployment": "deployments",
    "EndpointSlice": "endpointslices", "CustomResourceDefinition": "customresourcedefinitions",
    "GatewayClass": "gatewayclasses", "Gateway": "gateways", "HTTPRoute": "httproutes",
    "ReferenceGrant": "referencegrants", "BackendTLSPolicy": "backendtlspolicies", "GRPCRoute": "grpcroutes",
}
CLUSTER_SCOPED = frozenset({"Namespace", "Node", "CustomResourceDefinition", "GatewayClass"})
API_VERSIONS = {
    "Namespace": "v1", "Node": "v1", "Service": "v1", "Pod": "v1", "Secret": "v1", "ConfigMap": "v1",
    "ServiceAccount": "v1", "Deployment": "apps/v1", "EndpointSlice": "discovery.k8s.io/v1",
    "CustomResourceDefinition": "apiextensions.k8s.io/v1", "GatewayClass": "gateway.networking.k8s.io/v1",
    "Gateway": "gateway.networking.k8s.io/v1", "HTTPRoute": "gateway.networking.k8s.io/v1",
    "ReferenceGrant": "gateway.networking.k8s.io/v1", "BackendTLSPolicy": "gateway.networking.k8s.io/v1",
    "GRPCRoute": "gateway.networking.k8s.io/v1",
}
# Every kind of the emulator's CRDs (tests/kubernetes/crds.py) too: its plural and storage version.
PLURALS |= {kind: plural for _, kind, plural, _, _ in CRD_KINDS if kind not in PLURALS}
API_VERSIONS |= {kind: f"{group}/{versions[0]}" for group, kind, _, _, versions in CRD_KINDS if kind not in API_VERSIONS}


def api_path(kind: str, namespace: str = "", name: str = "", api_version: str = "") -> str:
    """The REST path of a kind's collection (in `namespace`; all namespaces when empty), or of one object."""
    version = api_version or API_VERSIONS[kind]
    prefix = f"/api/{version}" if "/" not in version else f"/apis/{version}"
    scope = f"/namespaces/{namespace}" if namespace and kind not in CLUSTER_SCOPED else ""
    return f"{prefix}{scope}/{PLURALS[kind]}" + (f"/{name}" if name else "")


def object_api_path(obj: dict, with_name: bool = False) -> str:
    """Where `obj` is created (or, `with_name`, where it lives)."""
    md = obj["metadata"]
    namespace = "" if obj["kind"] in CLUSTER_SCOPED else md.get("namespace", "default")
    return api_path(obj["kind"], namespace, md["name"] if with_name else "", obj.get("apiVersion", ""))


class KubeApi:
    """The emulator subprocess, a client to it and the test kubelet; see the module docstring."""

    def __init__(self, root: Path, service_cidr: str = "") -> None:
        self.root = root
        self.emulator = Process(root / "kubeapi", None, False, service_cidr=service_cidr)
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True, name="kubeapi-client")
        self.client: KubeClient | None = None
        self.kubelet: Kubelet | None = None
        self._kubelet_task: asyncio.Task[None] | None = None

    @property
    def kubeconfig(self) -> Path:
        """The emulator's kubeconfig (for `meshgate serve --kubernetes --kubeconfig`)."""
        return self.emulator.kubeconfig

    def call(self, coro: Coroutine[Any, Any, T], timeout: float = CALL_TIMEOUT) -> T:
        """Run a coroutine on the client loop and wait (bounded) for its result."""
        future: Future[T] = asyncio.run_coroutine_threadsafe(coro, self.loop)
        return future.result(timeout)

    def start(self) -> None:
        """Start the emulator and connect to it."""
        (self.root / "kubeapi").mkdir(parents=True, exist_ok=True)
        self.thread.start()
        self.call(self.emulator.start())
        self.client = self.call(Connection(str(self.kubeconfig)).client())

    def start_kubelet(self, workdir: Path) -> None:
        """Run provisioned proxies from now on (their Envoys' files in `workdir`)."""
        workdir.mkdir(parents=True, exist_ok=True)

        async def start() -> None:
            assert self.client is not None
            self.kubelet = Kubelet(self.client, workdir)
            self._kubelet_task = asyncio.ensure_future(self.kubelet.run(KUBELET_INTERVAL))

        self.call(start())

    def stop(self) -> None:
        """Stop the kubelet (and so its Envoys), the client and the emulator; end the loop."""
        if not self.thread.is_alive():
            return

        async def stop() -> None:
            if self._kubelet_task is not None:
                self._kubelet_task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._kubelet_task
            if self.client is not None:
                await self.client.close()
            await self.emulator.stop()

        try:
            self.call(stop(), timeout=120)
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(30)

    # -- objects ------------------------------------------------------------------------------------
    def _client(self) -> KubeClient:
        assert self.client is not None, "KubeApi.start() first"
        return self.client

    def create(self, obj: dict) -> dict:
        """Create `obj` (409 AlreadyExists is an error: a test's objects are new)."""
        return self.call(self._client().send("POST", object_api_path(obj), obj))

    def get(self, kind: str, namespace: str, name: str) -> dict | None:
        """One object, or None when there is none."""
        try:
            return self.call(self._client().get(api_path(kind, namespace, name)))
        except ApiError as exc:
            if exc.code == 404:
                return None
            raise

    def list(self, kind: str, namespace: str = "", labels: str = "") -> list[dict]:
        """The objects of a kind (in a namespace, or all), optionally by label selector; each
        with its kind and apiVersion set (a list's items carry neither)."""
        query = {"labelSelector": labels} if labels else None
        doc = self.call(self._client().get(api_path(kind, namespace), query))
        return [{"apiVersion": API_VERSIONS[kind], "kind": kind, **item} for item in doc.get("items") or []]

    def write_status(self, kind: str, namespace: str, name: str, status: dict) -> dict:
        """Replace an object's status through its status subresource (as its controller does)."""
        current = self.get(kind, namespace, name)
        if current is None:
            raise ApiError(404, "NotFound", f"{kind} {namespace}/{name}")
        path = api_path(kind, namespace, name) + "/status"
        return self.call(self._client().send("PUT", path, {**current, "status": status}))

    def patch(self, kind: str, namespace: str, name: str, change: dict) -> dict:
        """A JSON merge patch of one object."""
        return self.call(self._client().send("PATCH", api_path(kind, namespace, name), change, MERGE_PATCH))

    def delete(self, obj: dict) -> bool:
        """Delete `obj` (by kind, namespace and name): False when it was not there."""
        try:
            self.call(self._client().delete(object_api_path(obj, with_name=True)))
        except ApiError as exc:
            if exc.code == 404:
                return False
            raise
        return True

    def running_proxies(self) -> set[tuple[str, str]]:
        """(namespace, Deployment) of every proxy the kubelet runs now."""
        async def read() -> set[tuple[str, str]]:
            return set(self.kubelet.pods) if self.kubelet is not None else set()

        return self.call(read())
