"""Envoy Gateway's BackendTrafficPolicy through a real managed Envoy and real echo backends.

Health check: a proxy in r1/z1 sends a ServiceEntry's traffic to its own locality; the policy's
active HTTP health check (not outlier detection: the DestinationRule's ejects nothing) takes a
stopped endpoint out, and traffic fails over to the r2 endpoint and back with no xDS message.
The proxy keeps meshgate's default statistics (no per-cluster ones), with which Envoy once
probed only every 60s (xds/health_checks.py).
Rate limit: the first N requests per client (distinct source addresses on loopback) or with a
header pass, then 429. Fault injection: one rule of a route aborts with 418, the other is served.
Retries: the policy's retry makes a backend that fails twice with 503 succeed. Each test also
reads the policy's status from the running meshgate (/debug/status): Accepted, and Conflicted
for a second policy on the same rule. Edits under load: policies attached, edited and removed
(a variant cluster, the CORS filter, a Gateway-wide retry) while 100 requests a second flow, and
not one fails. The backends' HTTP version: useClientProtocol takes an HTTP/2 client's request to
an HTTP/2-only backend over HTTP/2, with the policy's http2 settings on Envoy's connection.
Compression: gzip or brotli as the client accepts, the first compressor on a tie. Request
buffering: 413 over the limit; the PROXY protocol header at a backend that needs it. Response
overrides: a 404 replaced by the policy's 410, a 5xx by another path's answer.
"""

from __future__ import annotations

import asyncio
import gzip
import http.client
import json
import socket
import threading
import urllib.request
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import h2.config
import h2.connection
import h2.events
import h2.exceptions
import h2.settings
import pytest

from meshgate.discovery.model import Locality
from meshgate.echo import EchoServer
from meshgate.runtime.run import Runner

from ..conformance.stream_clients import h2_exchange
from .fleet import Fleet, gateways_yaml
from .harness import LISTEN_PORT, Scenario, endpoint_yaml, free_subnet, service_yaml

pytestmark = pytest.mark.envoy

POLICY_GROUP = "gateway.envoyproxy.io/v1alpha1"
T = TypeVar("T")
BACKEND_PORT = 9005


def run(coro, timeout: float = 120) -> None:
    asyncio.run(asyncio.wait_for(coro, timeout))


@dataclass
class Answer:
    status: int
    headers: dict[str, list[str]]
    body: dict

    @property
    def pod(self) -> str:
        return self.body.get("pod", "")


def call(host: str, path: str, headers: dict[str, str] | None = None, source: str | None = None,
         port: int = LISTEN_PORT) -> Answer:
    """One GET on a new connection, from `source` (a loopback address) when given; status 0 when
    the connection failed."""
    conn = http.client.HTTPConnection(host, port, timeout=10, source_address=(source, 0) if source else None)
    try:
        conn.request("GET", path, headers=headers or {})
        resp = conn.getresponse()
        data = resp.read()
        got: dict[str, list[str]] = {}
        for name, value in resp.getheaders():
            got.setdefault(name.lower(), []).append(value)
        body = json.loads(data) if resp.status == 200 and data.startswith(b"{") else {}
        return Answer(resp.status, got, body)
    except (OSError, http.client.HTTPException):
        return Answer(0, {}, {})
    finally:
        conn.close()


async def ask(host: str, path: str, headers: dict[str, str] | None = None, source: str | None = None) -> Answer:
    return await asyncio.get_running_loop().run_in_executor(None, call, host, path, headers, source)


async def until(host: str, check, path: str, timeout: float = 15.0, **kw) -> tuple[Answer, list[Answer]]:
    """Poll until `check(answer)` holds (bounded): the last answer, and every answer seen."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    seen = [await ask(host, path, **kw)]
    while not check(seen[-1]) and loop.time() < deadline:
        await asyncio.sleep(0.05)
        seen.append(await ask(host, path, **kw))
    return seen[-1], seen


async def _polled(fetch: Callable[[], Awaitable[T]], done: Callable[[T], bool], timeout: float = 15.0) -> T:
    """`fetch()` again every 50 ms until `done` holds of its answer (bounded): the last answer."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    answer = await fetch()
    while not done(answer) and loop.time() < deadline:
        await asyncio.sleep(0.05)
        answer = await fetch()
    return answer


def _debug_status(port: int) -> dict:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/debug/status", timeout=5) as resp:
        return json.loads(resp.read())


async def policy_conditions(runner: Runner, namespace: str, name: str) -> dict[str, tuple[str, str]]:
    """The live status of BackendTrafficPolicy namespace/name: {condition type: (status, reason)}
    over its ancestors (each test has one Gateway)."""
    assert runner.debug is not None
    doc = await asyncio.get_running_loop().run_in_executor(None, _debug_status, runner.debug.port)
    (status,) = [s["status"] for s in doc["status"] if s["kind"] == "BackendTrafficPolicy"
                 and (s["metadata"].get("namespace"), s["metadata"].get("name")) == (namespace, name)]
    out: dict[str, tuple[str, str]] = {}
    for ancestor in status.get("ancestors", []):
        for c in ancestor["conditions"]:
            out[c["type"]] = (c["status"], c["reason"])
    return out


# -- active health check and locality failover ----------------------------------------------------

def failover_config(base: str) -> str:
    return gateways_yaml(base, names=("a",)) + f"""---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {{name: payments, namespace: apps}}
spec:
  parentRefs: [{{name: gw-a}}]
  rules:
  - backendRefs: [{{group: networking.istio.io, kind: Hostname, name: payments.example.com, port: 80}}]
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {{name: payments, namespace: apps}}
spec:
  hosts: [payments.example.com]
  location: MESH_INTERNAL
  resolution: STATIC
  ports: [{{number: 80, name: http, protocol: HTTP, targetPort: {BACKEND_PORT}}}]
  endpoints:
  - {{address: {base}.11, locality: r1/z1}}
  - {{address: {base}.13, locality: r2/z1}}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {{name: payments, namespace: apps}}
spec:
  host: payments.example.com
  trafficPolicy:
    loadBalancer: {{localityLbSetting: {{enabled: true, failover: [{{from: r1, to: r2}}]}}}}
    # Istio's locality failover needs outlierDetection; this one ejects nothing (no 5xx count),
    # so that only the policy's health check can take the stopped endpoint out.
    outlierDetection: {{consecutive5xxErrors: 0}}
---
apiVersion: {POLICY_GROUP}
kind: BackendTrafficPolicy
metadata: {{name: probe, namespace: apps}}
spec:
  targetRefs: [{{group: gateway.networking.k8s.io, kind: HTTPRoute, name: payments}}]
  healthCheck:
    active:
      type: HTTP
      interval: 200ms
      timeout: 1s  # a stopped endpoint refuses at once; a slow answer under load is no failure
      unhealthyThreshold: 1
      healthyThreshold: 1
      http: {{path: /health}}
    panicThreshold: 0
"""


def _sent_nonces(runner: Runner) -> dict[str, dict[str, str]]:
    """What meshgate last sent each proxy, per resource type (unchanged: no xDS message)."""
    return {s["node"]: {t: v["sentNonce"] for t, v in s["types"].items()}
            for s in (st.to_dict() for st in runner.registry.all())}


def test_active_health_check_fails_over_by_locality(tmp_path: Path) -> None:
    async def body() -> None:
        base = free_subnet()
        (tmp_path / "config").mkdir()
        (tmp_path / "config" / "all.yaml").write_text(failover_config(base))
        local, remote = f"{base}.11", f"{base}.13"
        echoes = {local: EchoServer(local, BACKEND_PORT, pod="payments-r1z1", namespace="apps"),
                  remote: EchoServer(remote, BACKEND_PORT, pod="payments-r2z1", namespace="apps")}
        for e in echoes.values():
            e.start()
        fleet = Fleet(tmp_path / "config", tmp_path / "work")
        gw = f"{base}.1"
        try:
            await fleet.start({"apps/gw-a": Locality("r1", "z1")})
            assert fleet.runner is not None
            last, _ = await until(gw, lambda a: a.pod == "payments-r1z1", "/")
            assert (last.status, last.pod) == (200, "payments-r1z1")
            assert await policy_conditions(fleet.runner, "apps", "probe") == {"Accepted": ("True", "Accepted")}
            for _ in range(10):  # the local endpoint takes all of it while healthy
                assert (await ask(gw, "/")).pod == "payments-r1z1"
            sent = _sent_nonces(fleet.runner)
            assert sent and all(sent.values())  # the proxy's stream, with what it was sent

            # The local backend stops. Nothing changes in the configuration: Envoy's own probes
            # find it down and the r2 priority takes the traffic. Requests that reach the stopped
            # endpoint before its probe fails are lost (no retry here); how many depends on where
            # in the 200ms probe interval it stopped, so they are only counted, not asserted on.
            echoes[local].stop()
            last, seen = await until(gw, lambda a: a.pod == "payments-r2z1", "/")
            if last.pod != "payments-r2z1":
                print(await fleet.envoys[0].admin_get("/clusters"))  # health flags, for the failure report
            assert (last.status, last.pod) == (200, "payments-r2z1")
            lost = [a.status for a in seen if a.status != 200]
            print(f"requests failed while the health check found the endpoint down: {len(lost)} {lost}")
            # Once ejected, no request fails and none goes to the stopped endpoint.
            after = [await ask(gw, "/") for _ in range(20)]
            assert [(a.status, a.pod) for a in after] == [(200, "payments-r2z1")] * 20
            assert _sent_nonces(fleet.runner) == sent  # no xDS message: Envoy did it alone

            # It comes back: its probe passes (healthyThreshold 1) and the local priority has it again.
            echoes[local] = EchoServer(local, BACKEND_PORT, pod="payments-r1z1", namespace="apps")
            echoes[local].start()
            last, seen = await until(gw, lambda a: a.pod == "payments-r1z1", "/")
            assert (last.status, last.pod) == (200, "payments-r1z1")
            assert all(a.status == 200 for a in seen)  # both endpoints up: nothing fails on the way back
            after = [await ask(gw, "/") for _ in range(20)]
            assert [(a.status, a.pod) for a in after] == [(200, "payments-r1z1")] * 20
            assert _sent_nonces(fleet.runner) == sent
        finally:
            await fleet.stop()
            for e in echoes.values():
                e.stop()
    run(body(), 180)


# -- the Scenario's Gateway (e2e/gw) with the policies' routes -------------------------------------

async def _scenario(tmp: Path, files, body) -> None:
    """Run `body(sc, backend)` with `files(base)` added to the harness's configuration and one echo
    Pod, svc-21 on base.21:BACKEND_PORT, behind the Service `svc`."""
    sc = Scenario(tmp, delta=True)
    backend = sc.start_echo(f"{sc.base}.21", BACKEND_PORT, "svc-21")
    sc.write({"svc.yaml": service_yaml("svc", 80, BACKEND_PORT, [endpoint_yaml(f"{sc.base}.21", pod="svc-21",
                                                                             ready=True)]),
              **files(sc.base)})
    try:
        await sc.start()
        await body(sc, backend)
    finally:
        await sc.stop()


def _route(name: str, rules: list[tuple[str, str]]) -> str:
    """HTTPRoute `name` on e2e/gw: rules (sectionName, path prefix), all to Service svc."""
    text = "".join(f"  - name: {rule}\n    matches: [{{path: {{value: {path}}}}}]\n    backendRefs: [{{name: svc, port: 80}}]\n"
                   for rule, path in rules)
    return f"""apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {{name: {name}, namespace: e2e}}
spec:
  parentRefs: [{{name: gw}}]
  rules:
{text}"""


def _policy(name: str, route: str, spec: str, section: str = "", created: str = "") -> str:
    target = f"{{group: gateway.networking.k8s.io, kind: HTTPRoute, name: {route}" + \
        (f", sectionName: {section}}}" if section else "}")
    stamp = f', creationTimestamp: "{created}"' if created else ""
    return f"""apiVersion: {POLICY_GROUP}
kind: BackendTrafficPolicy
metadata: {{name: {name}, namespace: e2e{stamp}}}
spec:
  targetRefs: [{target}]
{spec}"""


# -- local rate limit ------------------------------------------------------------------------------

PER_CLIENT = 3  # requests per Minute per client address
WITH_HEADER = 2  # requests per Minute with x-tier: free

RATE_LIMIT = f"""  rateLimit:
    type: Local
    local:
      rules:
      - clientSelectors: [{{sourceCIDR: {{type: Distinct, value: 127.0.0.0/8}}}}]
        limit: {{requests: {PER_CLIENT}, unit: Minute}}
      - clientSelectors: [{{headers: [{{name: x-tier, type: Exact, value: free}}]}}]
        limit: {{requests: {WITH_HEADER}, unit: Minute}}
"""


def test_local_rate_limit_answers_429(tmp_path: Path) -> None:
    async def body(sc: Scenario, backend: EchoServer) -> None:
        gw = f"{sc.base}.1"
        client = [f"{sc.base}.{i}" for i in (2, 3, 4, 5)]  # source addresses, one per client
        # A Minute's buckets: nothing refills during the test. Polling for readiness goes to the
        # rule without the policy, so it spends no token.
        last, _ = await until(gw, lambda a: a.status == 200, "/unlimited")
        assert last.status == 200
        probe, _ = await until(gw, lambda a: a.status == 429, "/limited", source=client[0])
        assert probe.status == 429, "the rate limit never applied"
        assert await policy_conditions(sc.runner, "e2e", "limits") == {"Accepted": ("True", "Accepted")}

        # A fresh client: its own bucket, the first PER_CLIENT pass, then 429 (Envoy's answer: the
        # backend never sees the refused ones).
        before = backend.requests_seen.count("/limited")
        statuses = [(await ask(gw, "/limited", source=client[1])).status for _ in range(PER_CLIENT + 3)]
        assert statuses == [200] * PER_CLIENT + [429] * 3
        assert backend.requests_seen.count("/limited") == before + PER_CLIENT
        # The first client is still limited; another fresh one is not.
        assert (await ask(gw, "/limited", source=client[0])).status == 429
        statuses = [(await ask(gw, "/limited", source=client[2])).status for _ in range(PER_CLIENT + 1)]
        assert statuses == [200] * PER_CLIENT + [429]
        # With the header, a fresh client also counts against the header's rule (2 a Minute for all
        # requests that send it): the third is refused although its own bucket has a token left.
        answers = [await ask(gw, "/limited", {"x-tier": "free"}, source=client[3]) for _ in range(WITH_HEADER + 1)]
        assert [a.status for a in answers] == [200] * WITH_HEADER + [429]
        assert answers[-1].headers.get("x-ratelimit-remaining") == ["0"]
        # The header's bucket is empty now; another value of the header is not the Exact match, and
        # a fresh client sending it gets its own PER_CLIENT requests.
        fresh = f"{sc.base}.6"
        statuses = [(await ask(gw, "/limited", {"x-tier": "gold"}, source=fresh)).status
                    for _ in range(PER_CLIENT + 1)]
        assert statuses == [200] * PER_CLIENT + [429]
        # The other rule of the route has no policy: never limited.
        statuses = [(await ask(gw, "/unlimited", source=client[0])).status for _ in range(10)]
        assert statuses == [200] * 10

    run(_scenario(tmp_path, lambda base: {
        "limits.yaml": _route("limited", [("limited", "/limited"), ("unlimited", "/unlimited")]) + "---\n" +
        _policy("limits", "limited", RATE_LIMIT, section="limited")}, body))


# -- fault injection -------------------------------------------------------------------------------

def test_fault_injection_aborts_only_the_targeted_rule(tmp_path: Path) -> None:
    async def body(sc: Scenario, backend: EchoServer) -> None:
        gw = f"{sc.base}.1"
        last, _ = await until(gw, lambda a: a.status == 418, "/teapot")
        assert last.status == 418, "the fault never applied"
        # percentage 100: every request to the rule is aborted by Envoy, none reaches the backend.
        assert [(await ask(gw, "/teapot")).status for _ in range(20)] == [418] * 20
        assert "/teapot" not in backend.requests_seen
        # The route's other rule is served as usual.
        answers = [await ask(gw, "/served") for _ in range(20)]
        assert [(a.status, a.pod) for a in answers] == [(200, "svc-21")] * 20
        assert backend.requests_seen.count("/served") == 20
        assert await policy_conditions(sc.runner, "e2e", "teapot") == {"Accepted": ("True", "Accepted")}
        # The younger policy on the same rule is Conflicted and does nothing (its 503 never showed).
        conditions = await policy_conditions(sc.runner, "e2e", "teapot-late")
        assert conditions["Accepted"] == ("False", "Conflicted")

    run(_scenario(tmp_path, lambda base: {"faults.yaml": "---\n".join([
        _route("faulty", [("teapot", "/teapot"), ("served", "/served")]),
        _policy("teapot", "faulty", "  faultInjection: {abort: {httpStatus: 418, percentage: 100}}\n",
                section="teapot", created="2026-01-01T00:00:00Z"),
        _policy("teapot-late", "faulty", "  faultInjection: {abort: {httpStatus: 503}}\n",
                section="teapot", created="2026-01-02T00:00:00Z"),
    ])}, body))


# -- retries ---------------------------------------------------------------------------------------

RETRY = """  retry:
    numRetries: 2
    retryOn: {httpStatusCodes: [503]}
    perRetry: {backOff: {baseInterval: 10ms, maxInterval: 50ms}}
"""


def _flaky(path: str, succeed_after: int, code: int) -> tuple[str, str]:
    """The echo's retry simulation: the first `succeed_after` requests of a new uuid fail with `code`."""
    u = str(uuid.uuid4())
    return f"{path}?succeedAfter={succeed_after}&uuid={u}&responseCode={code}", u


def test_policy_retries_make_a_failing_backend_succeed(tmp_path: Path) -> None:
    async def body(sc: Scenario, backend: EchoServer) -> None:
        gw = f"{sc.base}.1"
        ready, _ = _flaky("/retry/with", 0, 503)
        last, _ = await until(gw, lambda a: a.status == 200, ready)
        assert last.status == 200
        assert await policy_conditions(sc.runner, "e2e", "retries") == {"Accepted": ("True", "Accepted")}

        # Two 503s, retried twice (numRetries 2): the third attempt answers, the client sees 200.
        path, u = _flaky("/retry/with", 2, 503)
        answer = await ask(gw, path)
        assert (answer.status, answer.pod) == (200, "svc-21")
        assert backend.retry_attempts(u) == 2 and backend.requests_seen.count(path) == 1
        # More failures than retries: 1 + numRetries attempts, then the last 503 is the answer.
        path, u = _flaky("/retry/with", 5, 503)
        assert (await ask(gw, path)).status == 503
        assert backend.retry_attempts(u) == 3
        # A status the policy does not list is not retried.
        path, u = _flaky("/retry/with", 1, 500)
        assert (await ask(gw, path)).status == 500
        assert backend.retry_attempts(u) == 1
        # The route's other rule, without the policy: the first 503 is the answer.
        path, u = _flaky("/retry/without", 1, 503)
        assert (await ask(gw, path)).status == 503
        assert backend.retry_attempts(u) == 1

    run(_scenario(tmp_path, lambda base: {"retries.yaml": "---\n".join([
        _route("flaky", [("with", "/retry/with"), ("without", "/retry/without")]),
        _policy("retries", "flaky", RETRY, section="with"),
    ])}, body))


# -- policy edits under load ------------------------------------------------------------------------

LOAD_RATE = 100.0  # requests per second on the steady route while policies come and go
EDIT_SETTLE_S = 15.0  # one edit written → every response ACKed (bounded)

SHAPE = """  circuitBreaker: {maxConnections: 100}
  healthCheck: {passive: {consecutive5XxErrors: 5}}
"""
SHAPE_EDITED = """  circuitBreaker: {maxConnections: 200}
  healthCheck: {passive: {consecutive5XxErrors: 7}}
  timeout: {http: {requestTimeout: 5s}}
"""
GATEWAY_WIDE = f"""apiVersion: {POLICY_GROUP}
kind: BackendTrafficPolicy
metadata: {{name: wide, namespace: e2e}}
spec:
  targetRefs: [{{group: gateway.networking.k8s.io, kind: Gateway, name: gw}}]
  retry: {{numRetries: 1, retryOn: {{httpStatusCodes: [503]}}}}
"""
CORS = f"""apiVersion: {POLICY_GROUP}
kind: SecurityPolicy
metadata: {{name: cors, namespace: e2e}}
spec:
  targetRefs: [{{group: gateway.networking.k8s.io, kind: HTTPRoute, name: steady}}]
  cors: {{allowOrigins: ["https://app.example.com"], allowMethods: [GET]}}
"""


async def _settled(sc: Scenario) -> None:
    """Wait (bounded) until the proxy has ACKed everything meshgate sent it, then let traffic
    flow on the new config for a moment."""
    from .churn import in_sync
    loop = asyncio.get_running_loop()
    deadline = loop.time() + EDIT_SETTLE_S
    await asyncio.sleep(0.3)  # the watcher's debounce: the edit reaches meshgate first
    while not in_sync(sc) and loop.time() < deadline:
        await asyncio.sleep(0.05)
    assert in_sync(sc), "the proxy did not ACK the edit"
    await asyncio.sleep(0.7)


async def _clusters(sc: Scenario) -> str:
    assert sc.runner is not None
    (envoy,) = sc.runner.envoys.values()
    return await envoy.admin_get("/clusters?format=json")


def test_policy_edits_under_load_fail_no_request(tmp_path: Path) -> None:
    """Policies attached, edited and removed while requests flow: a route's backend moves to the
    policy's variant cluster and back, the connection managers gain and lose the CORS filter, a
    Gateway-wide policy reshapes every route; not one request fails."""
    from .churn import Load

    async def body(sc: Scenario, backend: EchoServer) -> None:
        gw = f"{sc.base}.1"
        last, _ = await until(gw, lambda a: a.status == 200, "/steady")
        assert last.status == 200
        load = Load(f"http://{gw}:{LISTEN_PORT}", LOAD_RATE, expected={"/steady": {"svc-21"}})
        running = asyncio.create_task(load.run())
        try:
            await asyncio.sleep(0.5)
            sc.write({"policies.yaml": _policy("shape", "steady", SHAPE)})
            await _settled(sc)
            assert "policy.e2e.shape" in await _clusters(sc), "the route never moved to the policy's cluster"
            sc.write({"policies.yaml": _policy("shape", "steady", SHAPE_EDITED)})
            await _settled(sc)
            sc.write({"wide.yaml": GATEWAY_WIDE})
            await _settled(sc)
            sc.write({"cors.yaml": CORS})
            await _settled(sc)
            preflight = await ask(gw, "/steady", {"origin": "https://app.example.com"})
            assert preflight.headers.get("access-control-allow-origin") == ["https://app.example.com"]
            for name in ("cors.yaml", "policies.yaml", "wide.yaml"):
                (sc.dir / name).unlink()
                await _settled(sc)
            assert "policy.e2e.shape" not in await _clusters(sc)
        finally:
            load.stop()
            await running
        assert load.done >= LOAD_RATE * 5, f"only {load.done} requests went out"
        assert load.failed == 0, f"{load.failed} of {load.done} failed: {dict(load.statuses)} {load.samples}"

    run(_scenario(tmp_path, lambda base: {"steady.yaml": _route("steady", [("all", "/steady")])}, body))


# -- the backends' HTTP version and HTTP/2 settings ---------------------------------------------------

class _LoopbackBackend:
    """A backend written for one test on a loopback port: each connection is served on a thread
    of its own by the subclass's `_serve`."""

    def __init__(self, address: str) -> None:
        self.sock = socket.create_server((address, 0))
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        for _ in range(10_000):  # bounded: a test makes a few connections; closing ends it
            try:
                client, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        raise NotImplementedError

    def close(self) -> None:
        self.sock.close()


class _H2Backend(_LoopbackBackend):
    """An HTTP/2-only backend (prior knowledge, as echo-basic's h2c port) that answers every
    request 200 with its path, and keeps the SETTINGS each connection's client sent."""

    def __init__(self, address: str) -> None:
        self.settings: list[dict[int, int]] = []
        self.windows: list[int] = []  # connection-level WINDOW_UPDATE increments
        super().__init__(address)

    def _serve(self, client: socket.socket) -> None:
        conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=False, header_encoding="utf-8"))
        conn.initiate_connection()
        with client:
            client.sendall(conn.data_to_send())
            for _ in range(10_000):  # bounded: a connection carries a few requests here
                try:
                    data = client.recv(65536)
                except OSError:
                    return
                if not data:
                    return
                try:
                    events = conn.receive_data(data)
                except h2.exceptions.ProtocolError:  # not HTTP/2 (an HTTP/1.1 request): refused
                    client.sendall(b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
                    return
                for event in events:
                    if isinstance(event, h2.events.RemoteSettingsChanged):
                        self.settings.append({int(k): v.new_value for k, v in event.changed_settings.items()})
                    elif isinstance(event, h2.events.WindowUpdated) and event.stream_id == 0:
                        self.windows.append(event.delta)
                    elif isinstance(event, h2.events.RequestReceived):
                        path = dict(event.headers).get(":path", "")
                        conn.send_headers(event.stream_id, [(":status", "200"), ("content-type", "text/plain")])
                        conn.send_data(event.stream_id, f"h2 {path}".encode(), end_stream=True)
                client.sendall(conn.data_to_send())


def _h2c_get(host: str, path: str) -> tuple[int, bytes]:
    """One GET over HTTP/2 with prior knowledge to the Gateway: (status, body); (0, b"") when the
    connection failed."""
    try:
        with socket.create_connection((host, LISTEN_PORT), timeout=10) as sock:
            answer = h2_exchange(sock, [(":method", "GET"), (":scheme", "http"), (":authority", "versions.example"),
                                        (":path", path)])
            return answer.status, answer.data
    except (OSError, ConnectionError):
        return 0, b""


PROTOCOLS = """  useClientProtocol: true
  http2: {initialStreamWindowSize: 128Ki, initialConnectionWindowSize: 1Mi, maxConcurrentStreams: 7}
"""


def test_the_backend_gets_the_clients_http_version_with_the_policys_http2_settings(tmp_path: Path) -> None:
    """useClientProtocol: an HTTP/2 client's request reaches an HTTP/2-only backend over HTTP/2
    (the rule without the policy sends HTTP/1.1, which that backend refuses), an HTTP/1.1
    client's over HTTP/1.1; Envoy's connection to the backend carries the policy's http2
    settings (the stream window and concurrent streams in its SETTINGS, the connection window as
    a WINDOW_UPDATE)."""
    async def body(sc: Scenario, backend: EchoServer) -> None:
        gw = f"{sc.base}.1"
        loop = asyncio.get_running_loop()

        async def h2c(path: str) -> tuple[int, bytes]:
            return await loop.run_in_executor(None, _h2c_get, gw, path)
        got = await _polled(lambda: h2c("/client"), lambda g: g[0] == 200)
        assert got == (200, b"h2 /client"), got
        assert await policy_conditions(sc.runner, "e2e", "versions") == {"Accepted": ("True", "Accepted")}
        # The same backend through the rule without the policy: HTTP/1.1 upstream, refused.
        plain = await h2c("/plain")
        assert plain[0] != 200 and b"h2 " not in plain[1], plain
        # An HTTP/1.1 client through the policy's rule: HTTP/1.1 upstream too.
        assert (await ask(gw, "/client", {"host": "versions.example"})).status != 200
        seen = h2_backend.settings
        codes = h2.settings.SettingCodes
        assert seen and all(s.get(codes.INITIAL_WINDOW_SIZE) == 128 * 1024 for s in seen), seen
        assert all(s.get(codes.MAX_CONCURRENT_STREAMS) == 7 for s in seen), seen
        assert 1024 * 1024 - 65535 in h2_backend.windows, h2_backend.windows

    h2_backend = _H2Backend("127.0.0.1")

    def files(base: str) -> dict[str, str]:
        return {"versions.yaml": service_yaml("h2only", 80, h2_backend.port, [endpoint_yaml("127.0.0.1", pod="h2-1",
                                                                                           ready=True)]) + "---\n" +
                """apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: versions, namespace: e2e}
spec:
  parentRefs: [{name: gw}]
  hostnames: [versions.example]
  rules:
  - name: client
    matches: [{path: {value: /client}}]
    backendRefs: [{name: h2only, port: 80}]
  - name: plain
    matches: [{path: {value: /plain}}]
    backendRefs: [{name: h2only, port: 80}]
---
""" + _policy("versions", "versions", PROTOCOLS, section="client")}
    try:
        run(_scenario(tmp_path, files, body))
    finally:
        h2_backend.close()


# -- response compression --------------------------------------------------------------------------

def _raw_get(host: str, path: str, headers: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
    """One GET: status, headers (lower-case names), the body as it came (not decoded)."""
    conn = http.client.HTTPConnection(host, LISTEN_PORT, timeout=10)
    try:
        conn.request("GET", path, headers=headers)
        resp = conn.getresponse()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
    finally:
        conn.close()


COMPRESSOR = """  compressor:
  - type: Gzip
  - type: Brotli
"""


def test_responses_are_compressed_as_the_client_accepts(tmp_path: Path) -> None:
    """compressor on one rule: gzip when the client accepts it (the backend never sees the
    client's Accept-Encoding, so it cannot compress as well), brotli when the client asks for it
    alone, gzip on a tie (the first compressor), nothing without Accept-Encoding; the other rule
    of the route passes responses and the header through untouched."""
    async def body(sc: Scenario, backend: EchoServer) -> None:
        gw = f"{sc.base}.1"
        loop = asyncio.get_running_loop()

        async def get(path: str, accept: str | None) -> tuple[int, dict[str, str], bytes]:
            return await loop.run_in_executor(None, _raw_get, gw, path, {"accept-encoding": accept} if accept else {})
        status, headers, data = await _polled(lambda: get("/squeezed", "gzip"),
                                              lambda a: a[1].get("content-encoding") == "gzip")
        assert status == 200 and headers.get("content-encoding") == "gzip", (status, headers)
        echoed = json.loads(gzip.decompress(data))
        assert echoed["path"] == "/squeezed" and "Accept-Encoding" not in echoed["headers"], echoed
        assert (await get("/squeezed", "br"))[1].get("content-encoding") == "br"
        assert (await get("/squeezed", "br, gzip"))[1].get("content-encoding") == "gzip"
        status, headers, data = await get("/squeezed", None)
        assert status == 200 and "content-encoding" not in headers and json.loads(data)["path"] == "/squeezed"
        status, headers, data = await get("/raw", "gzip")
        assert status == 200 and "content-encoding" not in headers, headers
        assert json.loads(data)["headers"].get("Accept-Encoding") == ["gzip"]
        assert await policy_conditions(sc.runner, "e2e", "squeeze") == {"Accepted": ("True", "Accepted")}

    run(_scenario(tmp_path, lambda base: {
        "squeeze.yaml": _route("squeezed", [("squeezed", "/squeezed"), ("raw", "/raw")]) + "---\n" +
        _policy("squeeze", "squeezed", COMPRESSOR, section="squeezed")}, body))


# -- request buffering and the PROXY protocol to the backends ------------------------------------

def _post(host: str, path: str, body: bytes) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection(host, LISTEN_PORT, timeout=10)
    try:
        conn.request("POST", path, body=body, headers={"content-type": "application/octet-stream"})
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


class _ProxiedBackend(_LoopbackBackend):
    """An HTTP/1.1 backend that expects the PROXY protocol (v1) header first on each connection
    and answers 200 with that header line; a connection without one gets 400."""

    def __init__(self, address: str) -> None:
        self.headers: list[str] = []
        super().__init__(address)

    def _serve(self, client: socket.socket) -> None:
        with client, client.makefile("rb") as reader:
            first = reader.readline(256).decode("latin-1").rstrip("\r\n")
            proxied = first.startswith("PROXY ")
            if proxied:
                self.headers.append(first)
            for _ in range(100):  # the request's header lines (bounded)
                line = reader.readline(8192)
                if line in (b"\r\n", b"\n", b""):
                    break
            body = first.encode() if proxied else b"no PROXY header"
            status = "200 OK" if proxied else "400 Bad Request"
            client.sendall(f"HTTP/1.1 {status}\r\ncontent-length: {len(body)}\r\nconnection: close\r\n\r\n".encode()
                           + body)


def test_request_buffer_limits_bodies_and_the_proxy_protocol_reaches_the_backend(tmp_path: Path) -> None:
    """requestBuffer: a body over the rule's limit gets 413 from Envoy (the backend never sees it),
    one under it reaches the backend; proxyProtocol V1: the backend reads Envoy's PROXY header (the
    client's address as its source) before the request, where without the policy it gets none."""
    proxied = _ProxiedBackend("127.0.0.1")

    async def body(sc: Scenario, backend: EchoServer) -> None:
        gw = f"{sc.base}.1"
        loop = asyncio.get_running_loop()

        async def get(path: str) -> tuple[int, dict[str, str], bytes]:
            return await loop.run_in_executor(None, _raw_get, gw, path, {})

        async def post(path: str, size: int) -> tuple[int, bytes]:
            return await loop.run_in_executor(None, _post, gw, path, b"x" * size)
        status, _, data = await _polled(lambda: get("/proxied"), lambda a: a[0] == 200)
        assert status == 200 and data.startswith(b"PROXY TCP4 127.0.0.1 "), (status, data)
        assert proxied.headers and all(h.startswith("PROXY TCP4 127.0.0.1 ") for h in proxied.headers)
        # The same backend through the rule without the policy: no header, refused.
        assert (await get("/bare"))[2] == b"no PROXY header"

        before = backend.requests_seen.count("/buffered")
        assert (await post("/buffered", 8 * 1024))[0] == 413
        assert backend.requests_seen.count("/buffered") == before  # refused by Envoy
        status, data = await post("/buffered", 1024)
        assert status == 200 and json.loads(data)["path"] == "/buffered"
        # The rule without the policy streams any size through.
        assert (await post("/unbuffered", 8 * 1024))[0] == 200
        for name in ("buffered", "proxied"):
            assert await policy_conditions(sc.runner, "e2e", name) == {"Accepted": ("True", "Accepted")}

    def files(base: str) -> dict[str, str]:
        return {"proxied.yaml": service_yaml("proxied", 80, proxied.port, [endpoint_yaml("127.0.0.1", pod="proxied-1",
                                                                                       ready=True)]) + "---\n" +
                """apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: proxied, namespace: e2e}
spec:
  parentRefs: [{name: gw}]
  rules:
  - name: proxied
    matches: [{path: {value: /proxied}}]
    backendRefs: [{name: proxied, port: 80}]
  - name: bare
    matches: [{path: {value: /bare}}]
    backendRefs: [{name: proxied, port: 80}]
---
""" + _policy("proxied", "proxied", "  proxyProtocol: {version: V1}\n", section="proxied"),
                "buffered.yaml": _route("buffered", [("buffered", "/buffered"), ("unbuffered", "/unbuffered")])
                + "---\n" + _policy("buffered", "buffered", "  requestBuffer: {limit: 4Ki}\n", section="buffered")}
    try:
        run(_scenario(tmp_path, files, body))
    finally:
        proxied.close()


# -- responses replaced by status ------------------------------------------------------------------

OVERRIDES = """  responseOverride:
  - match: {statusCodes: [{type: Value, value: 404}]}
    response:
      statusCode: 410
      contentType: text/plain
      body: {type: Inline, inline: "gone for 100%"}
      header: {add: [{name: x-overridden, value: "yes"}]}
  - match: {statusCodes: [{type: Range, range: {start: 500, end: 503}}]}
    redirect: {path: {type: ReplaceFullPath, replaceFullPath: /sorry}, statusCode: 302}
"""


def test_response_override_replaces_responses_by_status(tmp_path: Path) -> None:
    """responseOverride on one rule: the backend's 404 becomes the policy's 410 with its body
    (literal, % and all) and headers, a 502 in the 500-503 range the answer for /sorry (Envoy
    redirects internally), a 200 or a 418 pass unchanged; the same backend through a route
    without the policy keeps its 404."""
    async def body(sc: Scenario, backend: EchoServer) -> None:
        gw = f"{sc.base}.1"
        loop = asyncio.get_running_loop()

        async def get(path: str, host: str | None = None) -> tuple[int, dict[str, str], bytes]:
            return await loop.run_in_executor(None, _raw_get, gw, path, {"host": host} if host else {})
        status, headers, data = await _polled(lambda: get("/status/404"), lambda a: a[0] == 410)
        assert (status, data) == (410, b"gone for 100%"), (status, data)
        assert headers.get("content-type") == "text/plain" and headers.get("x-overridden") == "yes", headers
        # Envoy follows the redirect itself (the custom_response redirect policy redirects
        # internally): the client gets the new location's answer.
        status, headers, data = await get("/status/502")
        assert status == 200 and json.loads(data)["path"] == "/sorry", (status, data[:200])
        assert (await get("/status/418"))[0] == 418
        assert (await get("/status/200"))[:3:2] == (200, b"")
        assert (await get("/status/404", "plain.example"))[0] == 404
        assert await policy_conditions(sc.runner, "e2e", "overrides") == {"Accepted": ("True", "Accepted")}

    plain = """apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: plain-status, namespace: e2e}
spec:
  parentRefs: [{name: gw}]
  hostnames: [plain.example]
  rules:
  - matches: [{path: {value: /status/}}]
    backendRefs: [{name: svc, port: 80}]
"""
    run(_scenario(tmp_path, lambda base: {
        "overrides.yaml": _route("overridden", [("statuses", "/status/")]) + "---\n" + plain + "---\n" +
        _policy("overrides", "overridden", OVERRIDES, section="statuses")}, body))
