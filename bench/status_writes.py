"""Status writes at scale, and the leader handover (issue 15).

gateway-api-bench's figure: how many status writes (PATCH or PUT on a `*/status` subresource) a
controller makes while 1,000 HTTPRoutes attached to one Gateway are created (Istio 311, Envoy
Gateway 1,383). Here the API server is the emulator (tests/kubeapi, in this process, counting
requests per user), and meshgate runs as two `meshgate serve --kubernetes` replicas, each with a
token of its own, so that writes are counted per replica (only the leader should write).

1. An emulated cluster: the CRDs, one Gateway, one Service with an EndpointSlice. Replica A
   starts and takes the Lease, then replica B starts; the first status is written.
2. N HTTPRoutes to that Service are created (`--concurrency` requests in flight), then the run
   waits until every route shows our parent Accepted and the Gateway counts N attached routes,
   and until no status write came for `--quiet` seconds.
3. The status writes since step 2 began are counted, by kind and by replica.
4. Handover: replica A (the leader) is killed with SIGKILL and one more route is created; the time
   from the kill to replica B holding the Lease, and to its first status write, is measured.

No Envoy runs (the provisioned Deployment never becomes available, so the Gateway stays
Programmed False, NoResources: a stable status, which is all this counts).

    .venv/bin/python bench/status_writes.py [--routes 1000] [--lease-duration 15] [--concurrency 16] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import socket
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from meshgate.providers.kubernetes.client import KubeClient
from meshgate.providers.kubernetes.connection import Connection
from tests.kubeapi.fixture import running_emulator
from tests.kubeapi.kubeconfig import write_kubeconfig
from tests.kubeapi.server import Emulator
from tests.kubernetes.crds import crds
from tests.meshgate_process import MeshgateProcess

NS = "bench"
SYSTEM = "meshgate-system"
GW = f"/apis/gateway.networking.k8s.io/v1/namespaces/{NS}/gateways"
ROUTES = f"/apis/gateway.networking.k8s.io/v1/namespaces/{NS}/httproutes"
WRITES = ("PATCH", "PUT")
CONTROLLER = "meshgate.io/gateway-controller"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def route(i: int) -> dict:
    return {"apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute",
            "metadata": {"name": f"route-{i}", "namespace": NS},
            "spec": {"parentRefs": [{"name": "gw"}], "hostnames": [f"r{i}.example.com"],
                     "rules": [{"backendRefs": [{"name": "web", "port": 80}]}]}}


async def setup(api: KubeClient) -> None:
    for crd in crds():
        await api.send("POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", crd)
    for ns in (NS, SYSTEM):
        await api.send("POST", "/api/v1/namespaces", {"metadata": {"name": ns}})
    await api.send("POST", GW, {
        "apiVersion": "gateway.networking.k8s.io/v1", "kind": "Gateway", "metadata": {"name": "gw", "namespace": NS},
        "spec": {"gatewayClassName": "meshgate", "addresses": [{"type": "IPAddress", "value": "127.0.0.1"}],
                 "listeners": [{"name": "http", "port": 8080, "protocol": "HTTP"}]}})
    await api.send("POST", f"/api/v1/namespaces/{NS}/services", {
        "metadata": {"name": "web", "namespace": NS}, "spec": {"ports": [{"name": "http", "port": 80}]}})
    await api.send("POST", f"/apis/discovery.k8s.io/v1/namespaces/{NS}/endpointslices", {
        "metadata": {"name": "web-1", "namespace": NS, "labels": {"kubernetes.io/service-name": "web"}},
        "addressType": "IPv4", "ports": [{"name": "http", "port": 80, "protocol": "TCP"}],
        "endpoints": [{"addresses": ["127.0.0.2"], "conditions": {"ready": True}}]})


def replica(emulator: Emulator, tmp: Path, name: str, lease_duration: int) -> MeshgateProcess:
    """`meshgate serve --kubernetes` with a token of its own (its requests counted apart)."""
    emulator.add_user(f"token-{name}", name)
    kubeconfig = write_kubeconfig(tmp / f"kubeconfig-{name}", emulator.url, f"token-{name}")
    port = free_port()
    return MeshgateProcess("serve", "--kubernetes", "--kubeconfig", str(kubeconfig), "--xds", f"127.0.0.1:{port}",
                           "--debug-port", "0", "--proxy-xds", "127.0.0.1:18000", "--lease-namespace", SYSTEM,
                           "--lease-duration", str(lease_duration),
                           env={"POD_NAME": name})


async def wait_line(mg: MeshgateProcess, text: str, timeout: float = 60.0) -> None:
    """`mg.wait_for` off the event loop (the emulator in this loop keeps answering)."""
    await asyncio.get_running_loop().run_in_executor(None, mg.wait_for, text, timeout)


async def until(what: str, probe: Any, timeout: float, step: float = 0.05) -> float:
    """Poll `probe()` until true (bounded); the time it first held."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if await probe():
            return time.monotonic()
        await asyncio.sleep(step)
    raise SystemExit(f"timed out waiting for {what}")


def status_writes(emulator: Emulator, user: str | None = None, kind: str = "") -> int:
    return sum(n for (who, method, path), n in emulator.requests.items()
               if method in WRITES and path.endswith("/status") and (user is None or who == user)
               and (not kind or f"/{kind}/" in path))


async def all_accepted(api: KubeClient, n: int) -> bool:
    items = (await api.get(ROUTES)).get("items") or []
    done = sum(1 for r in items for p in (r.get("status") or {}).get("parents") or []
               if p.get("controllerName") == CONTROLLER
               and any(c["type"] == "Accepted" and c["status"] == "True" for c in p.get("conditions") or []))
    gw = await api.get(f"{GW}/gw")
    listeners = (gw.get("status") or {}).get("listeners") or [{}]
    return done == n and listeners[0].get("attachedRoutes") == n


async def quiet(emulator: Emulator, seconds: float, timeout: float) -> None:
    """Wait until no status write came for `seconds` (bounded by `timeout`)."""
    deadline = time.monotonic() + timeout
    last, since = status_writes(emulator), time.monotonic()
    while time.monotonic() < deadline:
        await asyncio.sleep(0.1)
        now = status_writes(emulator)
        if now != last:
            last, since = now, time.monotonic()
        elif time.monotonic() - since >= seconds:
            return
    raise SystemExit("status writes never stopped")


async def measure(n: int, lease_duration: int, concurrency: int, quiet_s: float) -> dict:
    with tempfile.TemporaryDirectory(prefix="meshgate-status-bench-") as tmpdir:
        tmp = Path(tmpdir)
        async with running_emulator(tmp) as emulated:
            emulator = emulated.emulator
            api = await Connection(str(emulated.kubeconfig)).client()
            a = b = None
            try:
                await setup(api)
                a = replica(emulator, tmp, "replica-a", lease_duration)
                await wait_line(a, "replica-a holds the lease")
                b = replica(emulator, tmp, "replica-b", lease_duration)
                await wait_line(b, "Ctrl-C stops everything")
                await until("the Gateway's first status", lambda: _has_status(api), 60)
                await quiet(emulator, quiet_s, 60)
                before = {who: status_writes(emulator, who) for who in ("replica-a", "replica-b")}
                before_kind = {k: status_writes(emulator, kind=k) for k in ("httproutes", "gateways")}

                started = time.monotonic()
                limit = asyncio.Semaphore(concurrency)

                async def create(i: int) -> None:
                    async with limit:
                        await api.send("POST", ROUTES, route(i))

                await asyncio.gather(*(create(i) for i in range(n)))
                created = time.monotonic()
                done = await until("every route Accepted", lambda: all_accepted(api, n), 120 + n * 0.5, step=0.5)
                await quiet(emulator, quiet_s, 120)
                writes = {who: status_writes(emulator, who) - before[who] for who in before}
                by_kind = {k: status_writes(emulator, kind=k) - before_kind[k] for k in before_kind}

                # Handover: the leader killed, a change waiting for the next one.
                killed = time.monotonic()
                a.proc.send_signal(signal.SIGKILL)
                await api.send("POST", ROUTES, route(n))
                taken = await until("replica-b holding the Lease", lambda: _holder(api, "replica-b"),
                                    4 * lease_duration + 10, step=0.02)
                first = await until("replica-b's first status write",
                                    lambda: _async(status_writes(emulator, "replica-b") > writes["replica-b"]
                                                   + before["replica-b"]), 4 * lease_duration + 10, step=0.02)
                return {"routes": n, "status_writes": writes["replica-a"] + writes["replica-b"],
                        "by_replica": writes, "by_kind": by_kind,
                        "create_s": round(created - started, 2), "settled_s": round(done - started, 2),
                        "lease_duration_s": lease_duration, "handover_lease_s": round(taken - killed, 2),
                        "handover_first_write_s": round(first - killed, 2)}
            finally:
                for mg in (a, b):
                    if mg is not None:
                        await asyncio.get_running_loop().run_in_executor(None, mg.stop)
                await api.close()


async def _async(value: bool) -> bool:
    return value


async def _has_status(api: KubeClient) -> bool:
    return bool((await api.get(f"{GW}/gw")).get("status", {}).get("listeners"))


async def _holder(api: KubeClient, who: str) -> bool:
    lease = await api.get(f"/apis/coordination.k8s.io/v1/namespaces/{SYSTEM}/leases/meshgate")
    return (lease.get("spec") or {}).get("holderIdentity") == who


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--routes", type=int, default=1000, help="HTTPRoutes created (default 1000)")
    parser.add_argument("--lease-duration", type=int, default=15, help="the replicas' --lease-duration (default 15)")
    parser.add_argument("--concurrency", type=int, default=16, help="creates in flight (default 16)")
    parser.add_argument("--quiet", type=float, default=3.0, help="seconds without a status write that end a phase")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    record = asyncio.run(measure(args.routes, args.lease_duration, args.concurrency, args.quiet))
    if args.json:
        print(json.dumps(record))
    else:
        print(f"{record['routes']} HTTPRoutes: {record['status_writes']} status writes "
              f"({record['by_kind']['httproutes']} HTTPRoute, {record['by_kind']['gateways']} Gateway; "
              f"by replica {record['by_replica']}); created in {record['create_s']} s, all Accepted after "
              f"{record['settled_s']} s")
        print(f"handover (lease duration {record['lease_duration_s']} s): Lease taken "
              f"{record['handover_lease_s']} s after the leader's SIGKILL, first status write after "
              f"{record['handover_first_write_s']} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
