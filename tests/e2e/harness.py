"""End-to-end harness: meshgate (in process) + real managed Envoy + real echo backends.

Each test gets its own 127.A.B.0/24: the Gateway listens on .1, backends on .11 and up, so
tests can run in parallel without sharing a port.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import socket
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from meshgate.echo import EchoServer
from meshgate.runtime.run import Runner, RunOptions

GATEWAY = "e2e/gw"
LISTEN_PORT = 8080
STEP = 0.05  # polling interval


def free_subnet() -> str:
    """A 127.A.B prefix whose .1:8080 is free."""
    rng = random.Random(os.getpid() ^ int.from_bytes(os.urandom(4), "big"))
    for _ in range(100):
        base = f"127.{rng.randint(20, 250)}.{rng.randint(1, 250)}"
        with socket.socket() as s:
            try:
                s.bind((f"{base}.1", LISTEN_PORT))
                return base
            except OSError:
                continue
    raise RuntimeError("no free loopback subnet found")


# Envoy keeps the per-cluster statistics of the clusters meshgate makes (tests read them).
CLUSTER_STATS = '{annotations: {meshgate.io/stats-inclusion-prefixes: "cluster.outbound|"}}'


def gateway_yaml(base: str, name: str = "gw", created: str = "", infrastructure: str = CLUSTER_STATS) -> str:
    """The Gateway `name` in e2e, HTTP on {base}.1:LISTEN_PORT; `created`, its creationTimestamp;
    `infrastructure`, its spec.infrastructure (flow-style YAML)."""
    stamp = f', creationTimestamp: "{created}"' if created else ""
    return f"""apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {{name: {name}, namespace: e2e{stamp}}}
spec:
  gatewayClassName: meshgate
  infrastructure: {infrastructure}
  addresses: [{{type: IPAddress, value: "{base}.1"}}]
  listeners:
  - {{name: http, port: {LISTEN_PORT}, protocol: HTTP}}
"""


def endpoint_yaml(address: str, pod: str = "", ready: bool = False) -> str:
    """One entry of an EndpointSlice's endpoints: `address`, the Pod it is, if ready."""
    text = f'- addresses: ["{address}"]\n'
    if ready:
        text += "  conditions: {ready: true}\n"
    if pod:
        text += f"  targetRef: {{kind: Pod, name: {pod}}}\n"
    return text


def service_yaml(name: str, port: int, target_port: int, endpoints: list[str], port_name: str = "http") -> str:
    """The Service `name` in e2e and its EndpointSlice `name`-1 of `endpoints` (endpoint_yaml's)."""
    return f"""apiVersion: v1
kind: Service
metadata: {{name: {name}, namespace: e2e}}
spec:
  ports: [{{name: {port_name}, port: {port}, targetPort: {target_port}}}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: {name}-1
  namespace: e2e
  labels: {{kubernetes.io/service-name: {name}}}
addressType: IPv4
ports: [{{name: {port_name}, port: {target_port}, protocol: TCP}}]
endpoints:
{"".join(endpoints)}"""


def config(base: str, web_endpoints: list[str], api_header: str = "meshgate") -> dict[str, str]:
    """The files of the test configuration."""
    return {
        "gateway.yaml": gateway_yaml(base),
        "routes.yaml": f"""apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {{name: api, namespace: e2e}}
spec:
  parentRefs: [{{name: gw}}]
  rules:
  - matches: [{{path: {{type: PathPrefix, value: /api}}}}]
    filters:
    - type: RequestHeaderModifier
      requestHeaderModifier: {{set: [{{name: x-routed-by, value: {api_header}}}]}}
    backendRefs: [{{name: api, port: 80}}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {{name: web, namespace: e2e}}
spec:
  parentRefs: [{{name: gw}}]
  rules:
  - backendRefs: [{{name: web, port: 80}}]
""",
        "api.yaml": service_yaml("api", 80, 9001, [endpoint_yaml(f"{base}.11", pod="api-11")]),
        "web.yaml": service_yaml("web", 80, 9002, [endpoint_yaml(a, pod=f"web-{a.rsplit('.', 1)[1]}", ready=True)
                                                   for a in web_endpoints]),
    }


@dataclass
class Reply:
    status: int
    body: dict = field(default_factory=dict)

    @property
    def pod(self) -> str:
        return self.body.get("pod", "")

    def header(self, name: str) -> list[str]:
        for k, v in self.body.get("headers", {}).items():
            if k.lower() == name.lower():
                return v
        return []


def get(url: str, timeout: float = 5.0) -> Reply:
    """One HTTP GET (in a worker thread when called from the event loop)."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            return Reply(resp.status, json.loads(resp.read() or b"{}"))
    except urllib.error.HTTPError as exc:
        return Reply(exc.code)
    except (urllib.error.URLError, ConnectionError, TimeoutError, json.JSONDecodeError):
        return Reply(0)


class Scenario:
    """The configuration on disk, its echo backends, and meshgate running it."""

    def __init__(self, tmp: Path, delta: bool) -> None:
        self.base = free_subnet()
        self.dir = tmp / "config"
        self.dir.mkdir()
        self.delta = delta
        self.web = [f"{self.base}.13"]
        self.write(config(self.base, self.web))
        self.echoes: dict[str, EchoServer] = {}
        self.runner: Runner | None = None

    def write(self, files: dict[str, str]) -> None:
        for name, text in files.items():
            tmp = self.dir / f".{name}.tmp"
            tmp.write_text(text)
            tmp.replace(self.dir / name)  # atomic, as editors save

    def start_echo(self, address: str, port: int, pod: str) -> EchoServer:
        server = EchoServer(address, port, pod=pod, namespace="e2e")
        server.start()
        self.echoes[address] = server
        return server

    @property
    def url(self) -> str:
        return f"http://{self.base}.1:{LISTEN_PORT}"

    async def start(self) -> None:
        self.start_echo(f"{self.base}.11", 9001, "api-11")
        for a in self.web:
            self.start_echo(a, 9002, f"web-{a.rsplit('.', 1)[1]}")
        self.runner = Runner(RunOptions([str(self.dir)], xds_port=0, debug_port=0, delta=self.delta,
                                        workdir=self.dir.parent / "work"), say=lambda line: None)
        await self.runner.start()
        await self.until(lambda r: r.status == 200, "/")

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.stop()
        for s in self.echoes.values():
            s.stop()

    async def request(self, path: str) -> Reply:
        return await asyncio.get_running_loop().run_in_executor(None, get, self.url + path)

    async def until(self, check, path: str, timeout: float = 10.0) -> Reply:
        """Poll `path` until `check(reply)` holds (bounded); the last reply either way."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        reply = await self.request(path)
        while not check(reply) and loop.time() < deadline:
            await asyncio.sleep(STEP)
            reply = await self.request(path)
        return reply
