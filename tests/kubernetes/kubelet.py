"""A kubelet for the provisioned proxies, on this host (test infrastructure: no cluster runs here).

For each Deployment meshgate provisioned (label app.kubernetes.io/managed-by=meshgate) it does
what a kubelet and the Deployment controller would, as far as the tests need: one Pod object
on its Node (so meshgate can place the proxy), one real Envoy process started from the bootstrap
in the Deployment's ConfigMap with the Pod's name as node id (the container's
`--service-node $(POD_NAME)`), and the Deployment's status made available once Envoy is LIVE.
Each Pod has a network namespace of its own in a cluster; here the processes share the host,
so each Envoy's admin interface and static listeners (readiness, metrics) get ports of their own
(the one thing rewritten).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import socket
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
from envoy.config.bootstrap.v3 import bootstrap_pb2
from google.protobuf import json_format

from meshgate.cluster.apply import object_path
from meshgate.cluster.render import BOOTSTRAP_KEY, MANAGED_BY, MANAGED_BY_VALUE
from meshgate.envoy.admin_paths import ADMIN_CLUSTER
from meshgate.envoy.process import ManagedEnvoy
from meshgate.providers.kubernetes.client import MERGE_PATCH, ApiError, KubeClient


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class RunningPod:
    """One provisioned proxy's Pod: its name, the Envoy it runs, the ConfigMap it read, and where
    its static listeners (readiness, metrics) listen here, by the container port they have."""

    name: str
    envoy: ManagedEnvoy
    bootstrap: str
    ports: dict[str, int] = field(default_factory=dict)


@dataclass
class Kubelet:
    """See the module docstring."""

    client: KubeClient
    workdir: Path
    node: str = "node-a"
    pods: dict[tuple[str, str], RunningPod] = field(default_factory=dict)  # (ns, deployment) → its Pod

    async def sync(self) -> None:
        """One pass: start what is new or changed, stop what is gone."""
        doc = await self.client.get("/apis/apps/v1/deployments",
                                    {"labelSelector": f"{MANAGED_BY}={MANAGED_BY_VALUE}"})
        seen = set()
        for dep in doc.get("items") or []:
            ns, name = dep["metadata"]["namespace"], dep["metadata"]["name"]
            seen.add((ns, name))
            volume = dep["spec"]["template"]["spec"]["volumes"][0]["configMap"]["name"]
            try:
                cm = await self.client.get(object_path("ConfigMap", ns, volume))
            except ApiError as exc:
                if exc.code == 404:
                    continue  # not written yet
                raise
            text = cm["data"][BOOTSTRAP_KEY]
            running = self.pods.get((ns, name))
            if running is not None and running.bootstrap == text:
                continue
            if running is not None:
                await self._stop(ns, name)
            await self._start(dep, text)
        for gone in set(self.pods) - seen:
            await self._stop(*gone)

    async def _mount_secrets(self, dep: dict, pod_name: str, text: str) -> str:
        """Write the Deployment's Secret volumes under the workdir and point the bootstrap's file
        paths there (a Pod would see them at their mountPath)."""
        ns = dep["metadata"]["namespace"]
        spec = dep["spec"]["template"]["spec"]
        secrets = {v["name"]: v["secret"]["secretName"] for v in spec.get("volumes", []) if "secret" in v}
        for mount in spec["containers"][0].get("volumeMounts", []):
            if mount["name"] not in secrets:
                continue
            secret = await self.client.get(f"/api/v1/namespaces/{ns}/secrets/{secrets[mount['name']]}")
            local = self.workdir / pod_name / mount["name"]
            local.mkdir(parents=True, exist_ok=True)
            for key, value in (secret.get("data") or {}).items():
                target = local / key
                target.write_bytes(base64.b64decode(value))
                target.chmod(0o600)
            text = text.replace(f'"{mount["mountPath"]}/', f'"{local}/')
        return text

    async def _start(self, dep: dict, text: str) -> None:
        ns, name = dep["metadata"]["namespace"], dep["metadata"]["name"]
        pod_name = f"{name}-{hashlib.sha256(text.encode()).hexdigest()[:5]}"
        template = dep["spec"]["template"]["metadata"]
        # The Pod carries its template's labels and annotations, as the ReplicaSet controller makes it.
        metadata = {"name": pod_name, "namespace": ns, "labels": template.get("labels", {}),
                    **({"annotations": template["annotations"]} if template.get("annotations") else {})}
        await self.client.send("POST", f"/api/v1/namespaces/{ns}/pods", {
            "apiVersion": "v1", "kind": "Pod",
            "metadata": metadata,
            "spec": {"nodeName": self.node, "containers": [{"name": "envoy", "image": "envoy"}]}})
        boot = json_format.Parse(await self._mount_secrets(dep, pod_name, text), bootstrap_pb2.Bootstrap())
        boot.node.id = pod_name  # --service-node $(POD_NAME)
        # Ports of its own (see the docstring): the admin interface (and the cluster the readiness
        # listener reaches it through) and the readiness listener.
        admin_port = _free_port()
        boot.admin.address.socket_address.port_value = admin_port
        for cluster in boot.static_resources.clusters:
            if cluster.name == ADMIN_CLUSTER:
                cluster.load_assignment.endpoints[0].lb_endpoints[0].endpoint.address.socket_address.port_value = \
                    admin_port
        ports: dict[str, int] = {}  # the container port each static listener had → its port here
        for listener in boot.static_resources.listeners:
            port = _free_port()
            ports[str(listener.address.socket_address.port_value)] = port
            listener.address.socket_address.address = "127.0.0.1"
            listener.address.socket_address.port_value = port
        envoy = ManagedEnvoy(pod_name, boot, self.workdir)
        # Known as running before it starts: Envoy may answer before start() has seen it ready,
        # and a test that got an answer from the Pod must find it here.
        self.pods[(ns, name)] = RunningPod(pod_name, envoy, text, ports)
        await envoy.start()
        await self._probe(dep, ports)
        replicas = dep["spec"].get("replicas", 1)
        with contextlib.suppress(ApiError):
            await self.client.send("PATCH", object_path("Deployment", ns, name) + "/status",
                                   {"status": {"replicas": replicas, "readyReplicas": replicas,
                                               "availableReplicas": replicas}}, MERGE_PATCH)

    async def _probe(self, dep: dict, ports: dict[str, int], timeout: float = 30.0) -> None:
        """The container's readiness probe, as the kubelet runs it, until it passes (bounded)."""
        probe = dep["spec"]["template"]["spec"]["containers"][0]["readinessProbe"]["httpGet"]
        base = f"http://127.0.0.1:{ports[str(probe['port'])]}"
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while loop.time() < deadline:
            with contextlib.suppress(OSError):
                async with aiohttp.ClientSession() as session, session.get(base + probe["path"]) as resp:
                    if resp.status == 200:
                        return
            await asyncio.sleep(0.1)
        raise TimeoutError(f"{dep['metadata']['name']}: readiness probe {probe['path']} never passed")

    async def _stop(self, ns: str, name: str) -> None:
        running = self.pods.pop((ns, name))
        await running.envoy.stop()
        with contextlib.suppress(ApiError):
            await self.client.delete(f"/api/v1/namespaces/{ns}/pods/{running.name}")

    async def run(self, interval: float = 0.2) -> None:
        """Sync every `interval` seconds until cancelled (Envoys stopped then)."""
        try:
            while True:
                with contextlib.suppress(ApiError):
                    await self.sync()
                await asyncio.sleep(interval)
        finally:
            for key in list(self.pods):
                await self._stop(*key)


def main() -> None:
    """`python -m tests.kubernetes.kubelet [--kubeconfig F] [--workdir DIR]`: run the provisioned
    proxies of the cluster in $KUBECONFIG (the API emulator's) on this host until Ctrl-C."""
    import argparse
    import os
    import tempfile

    from meshgate.providers.kubernetes.connection import Connection

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--kubeconfig", default=os.environ.get("KUBECONFIG"))
    parser.add_argument("--workdir", default=None)
    args = parser.parse_args()
    if not args.kubeconfig:
        parser.error("give --kubeconfig or set KUBECONFIG")

    async def run() -> None:
        client = await Connection(args.kubeconfig).client()
        workdir = Path(args.workdir or tempfile.mkdtemp(prefix="kubelet-"))
        print(f"kubelet: running provisioned proxies, Envoy logs in {workdir}", flush=True)
        try:
            await Kubelet(client, workdir).run()
        finally:
            await client.close()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run())


if __name__ == "__main__":
    main()
