"""Route edits under steady traffic, through meshgate and a real Envoy: the make-before-break
measurement (issue 13, section 4), shared by tests/e2e/test_make_before_break.py and
bench/make_before_break.py.

The configuration: Services web (used by the route `web`, `/`), api (`/api`), and blue and
green, each used only by the route `move` (`/move`). Edits alternate between

- moving `move` to the other of blue and green: its new Service gets a cluster, its old one
  loses its cluster (no other route uses it), and
- adding or removing the route `extra` (`/extra`) to web, a Service already in use (web's
  Cluster stays as it is: its xDS metadata names what made it, not the routes using it),
  together with a DestinationRule for web: web's Cluster changes while its endpoints do not.

With `edits="backends"` the routes stay and the backends move instead, alternately:

- web's EndpointSlice gains or loses a second endpoint (web-14), and
- api's one endpoint is replaced by another (api-11 by api-12 and back).

Requests go out at a fixed rate over kept-alive connections, round-robin over `/`, `/api/x`,
`/move` and `/extra`; each must be answered 200 by a backend that may serve it. Envoy's own
counters say whether a cluster was left warming until its initial EDS fetch timed out.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import time
from collections import Counter
from dataclasses import dataclass, field

import aiohttp

from .harness import Scenario, endpoint_yaml, service_yaml

EDITS = ("routes", "backends")  # what churn() edits

REQUEST_TIMEOUT = 5.0
SETTLE_TIMEOUT = 25.0  # longer than Envoy's 15 s initial fetch timeout: a stuck cluster shows
MAX_SAMPLES = 20  # failed requests kept for the report


def route_yaml(name: str, prefix: str, service: str, hostname: str = "") -> str:
    hostnames = f"\n  hostnames: [{hostname}]" if hostname else ""
    return f"""apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {{name: {name}, namespace: e2e}}
spec:
  parentRefs: [{{name: gw}}]{hostnames}
  rules:
  - matches: [{{path: {{type: PathPrefix, value: {prefix}}}}}]
    backendRefs: [{{name: {service}, port: 80}}]
"""


WEB_RULE = """apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: web, namespace: e2e}
spec:
  host: web.e2e.svc.cluster.local
  trafficPolicy: {loadBalancer: {simple: LEAST_REQUEST}}
"""


def routes_yaml(move_to: str, extra: bool, hostname: str = "") -> str:
    """The routes (on `hostname`, when given): `move` to `move_to`, and `extra` to web and web's
    DestinationRule when `extra`."""
    routes = [route_yaml("web", "/", "web", hostname), route_yaml("api", "/api", "api", hostname),
              route_yaml("move", "/move", move_to, hostname)]
    if extra:
        routes += [route_yaml("extra", "/extra", "web", hostname), WEB_RULE]
    return "---\n".join(routes)


@dataclass(frozen=True)
class Backend:
    service: str
    octet: int
    port: int

    def pod(self) -> str:
        return f"{self.service}-{self.octet}"


# api (.11:9001) and web (.13:9002) are the Scenario's own backends.
BLUE, GREEN = Backend("blue", 21, 9003), Backend("green", 22, 9004)
EXPECTED = {"/": {"web-13"}, "/api/x": {"api-11"}, "/move": {BLUE.pod(), GREEN.pod()}, "/extra": {"web-13"}}
# Backend edits: web may also be web-14, api may be api-12 (both served by echo backends).
EXPECTED_BACKENDS = {**EXPECTED, "/": {"web-13", "web-14"}, "/api/x": {"api-11", "api-12"},
                     "/extra": {"web-13", "web-14"}}


def prepare(sc: Scenario, hostname: str = "") -> None:
    """Add blue and green (Services, slices, echo backends) and the routes (on `hostname`, when
    given) to the Scenario."""
    files = {}
    for b in (BLUE, GREEN):
        address = f"{sc.base}.{b.octet}"
        files[f"{b.service}.yaml"] = service_yaml(b.service, 80, b.port, [endpoint_yaml(address, pod=b.pod(), ready=True)])
        sc.start_echo(address, b.port, b.pod())
    files["routes.yaml"] = routes_yaml(BLUE.service, extra=False, hostname=hostname)
    sc.write(files)
    # Spare backends for backend edits (idle otherwise): a second web, a replacement api.
    sc.start_echo(f"{sc.base}.14", 9002, "web-14")
    sc.start_echo(f"{sc.base}.12", 9001, "api-12")


def backend_files(sc: Scenario, two_webs: bool, api_octet: int) -> dict[str, str]:
    """web.yaml and api.yaml as the Scenario writes them, web with web-14 too when `two_webs`,
    api's one endpoint at .`api_octet`."""
    webs = [f"{sc.base}.13"] + ([f"{sc.base}.14"] if two_webs else [])
    return {"web.yaml": service_yaml("web", 80, 9002, [endpoint_yaml(a, pod=f"web-{a.rsplit('.', 1)[1]}", ready=True)
                                                        for a in webs]),
            "api.yaml": service_yaml("api", 80, 9001, [endpoint_yaml(f"{sc.base}.{api_octet}",
                                                                     pod=f"api-{api_octet}")])}


@dataclass
class Load:
    """Requests at `rate` per second until stopped; every answer checked."""

    url: str
    rate: float
    host: str = ""  # the Host header, when not the URL's
    expected: dict[str, set[str]] = field(default_factory=lambda: EXPECTED)
    done: int = 0
    failed: int = 0
    statuses: Counter = field(default_factory=Counter)  # (path, status) of failures
    pods: Counter = field(default_factory=Counter)  # the pods that answered, how often
    samples: list[tuple[str, int, str]] = field(default_factory=list)
    _stop: bool = False

    async def run(self) -> None:
        paths = list(self.expected)
        connector = aiohttp.TCPConnector(limit=32)
        timeout = aiohttp.ClientTimeout(total=REQUEST_TIMEOUT)
        loop = asyncio.get_running_loop()
        pending: set[asyncio.Task] = set()
        async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
            start, i = loop.time(), 0
            while not self._stop:
                task = asyncio.create_task(self._one(session, paths[i % len(paths)]))
                pending.add(task)
                task.add_done_callback(pending.discard)
                i += 1
                await asyncio.sleep(max(0.0, start + i / self.rate - loop.time()))
            if pending:
                await asyncio.wait(pending, timeout=REQUEST_TIMEOUT + 1)

    async def _one(self, session: aiohttp.ClientSession, path: str) -> None:
        status, pod = 0, ""
        with contextlib.suppress(aiohttp.ClientError, TimeoutError, ValueError):
            async with session.get(self.url + path, headers={"Host": self.host} if self.host else None) as resp:
                status = resp.status
                body = await resp.read()
                if status == 200:
                    pod = json.loads(body).get("pod", "")
                    self.pods[pod] += 1
        self.done += 1
        if status != 200 or pod not in self.expected[path]:
            self.failed += 1
            self.statuses[(path, status)] += 1
            if len(self.samples) < MAX_SAMPLES:
                self.samples.append((path, status, pod))

    def stop(self) -> None:
        self._stop = True


_STAT = re.compile(r"^(\S+): (\d+)$", re.MULTILINE)


async def envoy_counters(sc: Scenario) -> dict[str, int]:
    """Envoy's initial-fetch timeouts (every subscription: CDS, LDS, EDS per cluster, RDS per
    route configuration) summed, and the clusters warming now."""
    assert sc.runner is not None
    (envoy,) = sc.runner.envoys.values()
    text = await envoy.admin_get("/stats?filter=(init_fetch_timeout|warming_clusters)$")
    stats = {name: int(value) for name, value in _STAT.findall(text)}
    return {"init_fetch_timeouts": sum(v for k, v in stats.items() if k.endswith(".init_fetch_timeout")),
            "warming_clusters": stats.get("cluster_manager.warming_clusters", 0)}


def in_sync(sc: Scenario) -> bool:
    """Every response meshgate sent the proxy was ACKed, and nothing is left to send."""
    assert sc.runner is not None
    streams = sc.runner.registry.all()
    return len(streams) == 1 and all(ts.nonce == ts.acked_nonce for ts in streams[0].types.values())


@dataclass
class Result:
    protocol: str
    edit_kind: str  # "routes" or "backends"
    seconds: float
    edits: int
    requests: int
    failed: int
    statuses: dict
    samples: list
    init_fetch_timeouts: int
    warming_clusters: int
    settled: bool  # every response ACKed after the last edit (within SETTLE_TIMEOUT)
    pods: dict  # pod → requests it answered (the edits moved traffic: the moved-to pods answered)

    def line(self) -> str:
        return (f"{self.protocol}: {self.failed} failed / {self.requests} requests over {self.edits} "
                f"{self.edit_kind[:-1]} edits in "
                f"{self.seconds:.0f} s ({self.requests / self.seconds:.0f} req/s); initial fetch timeouts "
                f"{self.init_fetch_timeouts}, warming clusters at the end {self.warming_clusters}, "
                f"settled {self.settled}; answered by {', '.join(f'{p} {n}' for p, n in sorted(self.pods.items()))}")


async def churn(sc: Scenario, seconds: float, rate: float, interval: float, hostname: str = "",
                edits_of: str = "routes") -> Result:
    """Edit the routes (on `hostname`, when given; or, `edits_of="backends"`, the backends) every
    `interval` seconds for `seconds`, under `rate` requests per second; then wait (bounded) until
    the proxy has ACKed everything, and read Envoy's counters."""
    assert edits_of in EDITS, edits_of
    loop = asyncio.get_running_loop()
    load = Load(sc.url, rate, hostname, EXPECTED_BACKENDS if edits_of == "backends" else EXPECTED)
    runner = asyncio.create_task(load.run())
    move_to, extra, edits = BLUE.service, False, 0
    two_webs, api_octet = False, 11
    started = loop.time()
    await asyncio.sleep(interval)
    while loop.time() - started < seconds:
        if edits_of == "backends":
            if edits % 2 == 0:
                two_webs = not two_webs
            else:
                api_octet = 12 if api_octet == 11 else 11
            sc.write(backend_files(sc, two_webs, api_octet))
        else:
            if edits % 2 == 0:
                move_to = GREEN.service if move_to == BLUE.service else BLUE.service
            else:
                extra = not extra
            sc.write({"routes.yaml": routes_yaml(move_to, extra, hostname)})
        edits += 1
        await asyncio.sleep(interval)
    load.stop()
    await runner
    elapsed = loop.time() - started
    deadline = time.monotonic() + SETTLE_TIMEOUT
    while not in_sync(sc) and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
    settled = in_sync(sc)
    counters = await envoy_counters(sc)
    return Result("delta" if sc.delta else "sotw", edits_of, elapsed, edits, load.done, load.failed,
                  {f"{p} {s}": n for (p, s), n in sorted(load.statuses.items())}, load.samples,
                  counters["init_fetch_timeouts"], counters["warming_clusters"], settled, dict(load.pods))
