"""The conformance suite through the Kubernetes provider: objects applied to the API emulator,
status read back from it, Gateways provisioned by meshgate and run by the test kubelet.

What changes from the file-mode Suite (runner.py), and why:

- `kubectl apply` is a create through the API (tests/kubeapi, as a subprocess; kube_api.py), in
  manifest order with Namespaces first; the CRDs (tests/kubernetes/crds.py), the lease namespace
  and the Node the kubelet places proxies on are there from the start. The cluster's additions
  (cluster.py: the GatewayClass, an EndpointSlice per Service for the echo Pods, the TLS
  Secrets, their `stringData` turned into `data` as the API server stores it) are created too:
  in a cluster, EndpointSlices come from Kubernetes' controller and meshgate generates none.
- meshgate is `meshgate serve --kubernetes --address-pool <the suite's pool>`: the leader writes
  status and provisions each Gateway (ServiceAccount, ConfigMap with the bootstrap, Deployment,
  Service); the test kubelet runs each Deployment as a real Envoy, which binds the Gateway's
  pool address (status.addresses) as the IR listener says.
- status() reads the kinds meshgate writes status for from the API, shaped as `meshgate
  status -o json` is (`{"status": [{apiVersion, kind, metadata, status}]}`, objects without
  status left out), so status_checks.py applies unchanged. settle() is the file mode's, over
  meshgate's /debug/proxies.
- Cleanup deletes the test's objects through the API and waits until they are gone from the
  API, from meshgate's own view (`meshgate status --server`), and, for Gateways, until their
  provisioned Deployments are gone and the kubelet has stopped their Envoys; then settles.
- GatewayInfrastructure lists the ServiceAccount, Pod and Service carrying the gateway-name
  label from the API, as upstream does (no stand-in needed).

The echo Pods stay `meshgate echo` processes (as in file mode); no Pod objects are written for
them: meshgate reads their endpoints from the EndpointSlices.
"""

from __future__ import annotations

import base64
import socket
import time
from pathlib import Path

import yaml

from meshgate.cluster.names import proxy_name
from meshgate.providers.kubernetes.provider import STATUS_KINDS as PROVIDER_STATUS_KINDS

from ..kubernetes.crds import crds
from ..meshgate_process import MeshgateProcess
from .checks import GATEWAY_NAME_LABEL, Checks
from .cluster import documents
from .expect import Key
from .kube_api import KubeApi
from .model import Applied, TestFailed, Timing
from .runner import Suite
from .suite import Generated

SYSTEM = "meshgate-system"
NODE = {"apiVersion": "v1", "kind": "Node",
        "metadata": {"name": "node-a", "labels": {"topology.kubernetes.io/region": "region-a",
                                                  "topology.kubernetes.io/zone": "zone-a"}}}
# The kinds whose status meshgate writes (as its Kubernetes provider lists them).
STATUS_KINDS = tuple(sorted(PROVIDER_STATUS_KINDS))
GENERATED_KINDS = ("ServiceAccount", "Pod", "Service")  # what upstream lists by the gateway-name label
STARTUP_TIMEOUT = 60.0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def stored_secret(secret: dict) -> dict:
    """A Secret as the API server stores it: `stringData` merged into base64 `data`."""
    data = dict(secret.get("data") or {})
    data.update({k: base64.b64encode(v.encode()).decode() for k, v in (secret.get("stringData") or {}).items()})
    return {k: v for k, v in secret.items() if k != "stringData"} | {"data": data}


def apply_order(objects: list[dict]) -> list[dict]:
    """Namespaces first (everything else lives in one), then as the manifest lists them."""
    return sorted(objects, key=lambda o: o.get("kind") != "Namespace")


class KubeSuite(Suite):
    """The Suite with the Kubernetes API in place of the watched directory; see the module docstring."""

    SLICES_FROM_PODS = False  # in a cluster, Kubernetes' controller writes them, meshgate none

    def __init__(self, root: Path, timing: Timing | None = None, slot: int = 0, gateway: bool = True,
                 mesh: bool = False) -> None:
        super().__init__(root, timing, slot, gateway, mesh)
        # ClusterIPs of its own: suites run side by side bind their waypoints' Service addresses.
        self.api = KubeApi(root, service_cidr=f"127.{96 + slot}.0.0/16")
        self.serve: MeshgateProcess | None = None
        self._debug = ""
        self._test_slices: list[dict] = []

    # -- lifecycle ----------------------------------------------------------------------------
    def start(self) -> None:
        """The emulated cluster with the base manifests and what a cluster adds, the echo Pods,
        `meshgate serve --kubernetes` and the kubelet; then the suite's precondition."""
        cluster = self.prepare()
        self.api.start()
        for obj in [*crds(), {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": SYSTEM}}, NODE,
                    *apply_order(self.base_objects), *apply_order(list(self.mesh.objects) if self.mesh else []),
                    *(stored_secret(o) if o["kind"] == "Secret" else o for o in cluster)]:
            created = self.api.create(obj)
            if obj["kind"] == "Pod":  # a create drops status (a subresource): the kubelet's part
                self.api.write_status("Pod", created["metadata"]["namespace"], created["metadata"]["name"],
                                      obj["status"])
        self.start_pods()
        xds = f"127.0.0.1:{_free_port()}"
        self.serve = MeshgateProcess(
            "serve", "--kubernetes", "--kubeconfig", str(self.api.kubeconfig), "--xds", xds, "--debug-port", "0",
            "--address-pool", self.gateway_pool, "--proxy-xds", xds, "--lease-namespace", SYSTEM,
            "--lease-duration", "3")
        self._debug = self.serve.wait_for_match(r"metrics and debug on http://(\S+?)/metrics", STARTUP_TIMEOUT)[1]
        self.api.start_kubelet(self.root / "work")
        self.wait_base_ready()

    def stop(self) -> None:
        """Stop meshgate, the kubelet (its Envoys), the emulator and the Pods; keep meshgate's output."""
        try:
            if self.serve is not None:
                self.serve.stop()
                (self.root / "logs").mkdir(parents=True, exist_ok=True)
                (self.root / "logs" / "meshgate.log").write_text(self.serve.text)
        finally:
            try:
                self.api.stop()
            finally:
                for pod in self.pods:
                    pod.stop()

    # -- state ----------------------------------------------------------------------------------
    def debug_address(self) -> str:
        """meshgate serve's debug endpoint, as it printed it."""
        if not self._debug:
            raise TestFailed("meshgate serve has not started")
        return self._debug

    def status(self) -> dict:
        """The status the API holds for the Gateway API objects, in `meshgate status -o json`'s shape."""
        out = []
        for kind in STATUS_KINDS:
            for obj in self.api.list(kind):
                if obj.get("status"):
                    md = obj["metadata"]
                    meta = {"name": md["name"], **({"namespace": md["namespace"]} if md.get("namespace") else {})}
                    out.append({"apiVersion": obj["apiVersion"], "kind": kind, "metadata": meta,
                                "status": obj["status"]})
        return {"status": out}

    # -- one test -------------------------------------------------------------------------------
    def checks(self, applied: list[Applied]) -> Checks:
        """The test body's calls, deleting and listing through the API."""
        return KubeChecks(self, applied)

    def _apply(self, manifest: str) -> Applied:
        docs = self.test_documents(manifest)
        for obj in apply_order([o for d in docs for o in documents(d)]):
            self.api.create(obj)
        return Applied(Path(manifest), docs)  # the path only names it: nothing is written

    def _add_test_slices(self, slices: list[dict]) -> None:
        """A test's EndpointSlices, created through the API (the EndpointSlice controller's work)."""
        for obj in slices:
            self.api.create(obj)
        self._test_slices = slices

    def _remove_test_slices(self) -> None:
        for obj in self._test_slices:
            self.api.delete(obj)
        self._test_slices = []

    def _cleanup(self, applied: list[Applied]) -> None:
        objects = [o for a in applied for o in a.objects()]
        for obj in reversed(apply_order(objects)):
            self.api.delete(obj)
        owned = [(o["kind"], Key(o["metadata"].get("namespace", ""), o["metadata"]["name"]))
                 for o in objects if o.get("kind") in STATUS_KINDS and o.get("kind") != "GatewayClass"]
        proxies = {(o["metadata"].get("namespace", "default"),
                    proxy_name(o["metadata"]["name"], o["spec"].get("gatewayClassName", "")))
                   for o in objects if o.get("kind") == "Gateway"}
        deadline = time.monotonic() + self.timing.cleanup
        while problem := self._left_over(objects, owned, proxies):
            if time.monotonic() > deadline:
                raise TestFailed(f"timed out waiting for the test's objects to be gone: {problem}")
            time.sleep(self.timing.step * 4)
        self.settle()

    def _left_over(self, objects: list[dict], owned: list[tuple[str, Key]],
                   proxies: set[tuple[str, str]]) -> str | None:
        """What of a test's objects is still around (None once nothing is)."""
        for obj in objects:
            md = obj["metadata"]
            if self.api.get(obj["kind"], md.get("namespace", "default"), md["name"]) is not None:
                return f"{obj['kind']} {md.get('namespace', '')}/{md['name']} is still in the API"
        doc = self.meshgate_status()
        for kind, key in owned:
            if any(o.get("kind") == kind and o.get("metadata", {}).get("name") == key.name and
                   o.get("metadata", {}).get("namespace", "") == key.namespace for o in doc.get("status", [])):
                return f"meshgate still has status for {kind} {key}"
        for ns, name in sorted(proxies):
            if self.api.get("Deployment", ns, name) is not None:
                return f"Deployment {ns}/{name} is still in the API"
        running = proxies & self.api.running_proxies()
        if running:
            return f"the kubelet still runs {sorted(running)}"
        return None


class KubeChecks(Checks):
    """Checks whose deletes, patches and listings go through the API."""

    suite: KubeSuite

    def apply(self, obj: dict) -> None:
        """Create one more object through the API; deleted at cleanup with the test's own."""
        self.suite.api.create(obj)
        self.applied[0].docs.append(yaml.safe_dump(obj, sort_keys=False))

    def _patch(self, kind: str, key: Key, change: dict) -> None:
        """A merge patch of one object, through the API (its generation moves on a spec change)."""
        self.suite.api.patch(kind, key.namespace or "default", key.name, change)

    def get(self, kind: str, key: Key) -> dict | None:
        """The object as the API holds it."""
        return self.suite.api.get(kind, key.namespace, key.name)

    def delete(self, kind: str, key: Key) -> None:
        """Delete one object the test applied, through the API (it is not deleted again at cleanup)."""
        for a in self.applied:
            for i, doc in enumerate(a.docs):
                for obj in documents(doc):
                    md = obj.get("metadata", {})
                    if obj.get("kind") == kind and md.get("name") == key.name and md.get("namespace", "") == key.namespace:
                        self.suite.api.delete(obj)
                        del a.docs[i]
                        return
        raise TestFailed(f"delete: no {kind} {key} was applied by this test")

    def generated(self, gateway: Key) -> list[Generated]:
        """The ServiceAccounts, Pods and Services in the Gateway's namespace with its gateway-name
        label, once there is one of each (bounded by the status timeout: provisioning follows the
        Gateway's acceptance, and the test looks right after that)."""
        deadline = time.monotonic() + self.suite.timing.status
        while True:
            found = []
            for kind in GENERATED_KINDS:
                for obj in self.suite.api.list(kind, gateway.namespace, f"{GATEWAY_NAME_LABEL}={gateway.name}"):
                    md = obj["metadata"]
                    found.append(Generated(kind, md["name"], md.get("labels") or {}, md.get("annotations") or {}))
            if {g.kind for g in found} == set(GENERATED_KINDS) or time.monotonic() > deadline:
                return found
            time.sleep(self.suite.timing.step * 4)
