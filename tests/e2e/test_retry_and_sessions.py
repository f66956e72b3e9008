"""HTTPRoute retry and sessionPersistence through a real managed Envoy and real echo backends.

Retries: the backend (the echo's /retry/ simulation, as upstream's echo-basic) fails the first
requests of a uuid and counts them, so each test request says how many attempts reached it.
Sessions: three echo Pods behind one Service; a client that sends the cookie (or header) Envoy
gave it keeps reaching the same Pod, and one that does not is balanced over all of them.
"""

from __future__ import annotations

import asyncio
import http.client
import json
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest

from .harness import LISTEN_PORT, Scenario, endpoint_yaml, service_yaml

pytestmark = pytest.mark.envoy

FLAKY_PORT = 9003
STICKY_PORT = 9004


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 120))


@dataclass
class Answer:
    """One response as the client saw it: status, headers (lower-case names), the echo's JSON."""

    status: int
    headers: dict[str, list[str]]
    body: dict

    @property
    def pod(self) -> str:
        return self.body.get("pod", "")


def call(host: str, path: str, headers: dict[str, str] | None = None) -> Answer:
    """One GET on a new connection, with response headers (the harness's `get` has none)."""
    conn = http.client.HTTPConnection(host, LISTEN_PORT, timeout=10)
    try:
        conn.request("GET", path, headers=headers or {})
        resp = conn.getresponse()
        data = resp.read()
        got: dict[str, list[str]] = {}
        for name, value in resp.getheaders():
            got.setdefault(name.lower(), []).append(value)
        body = json.loads(data) if resp.status == 200 and data.startswith(b"{") else {}
        return Answer(resp.status, got, body)
    finally:
        conn.close()


async def ask(sc: Scenario, path: str, headers: dict[str, str] | None = None) -> Answer:
    return await asyncio.get_running_loop().run_in_executor(None, call, f"{sc.base}.1", path, headers)


async def until(sc: Scenario, check, path: str, timeout: float = 10.0) -> Answer:
    """Poll until `check(answer)` holds (bounded); the last answer either way."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    answer = await ask(sc, path)
    while not check(answer) and loop.time() < deadline:
        await asyncio.sleep(0.05)
        answer = await ask(sc, path)
    return answer


# -- retry ----------------------------------------------------------------------------------------

RETRY_ROUTES = """apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: retries, namespace: e2e}
spec:
  parentRefs: [{name: gw}]
  rules:
  - matches: [{path: {value: /retry/with}}]
    retry: {codes: [503], attempts: 2, backoff: 10ms}
    backendRefs: [{name: flaky, port: 80}]
  - matches: [{path: {value: /retry/without}}]
    backendRefs: [{name: flaky, port: 80}]
  - matches: [{path: {value: /retry/resets}}]
    retry: {attempts: 1}
    backendRefs: [{name: flaky, port: 80}]
"""


def _flaky(path: str, succeed_after: int, code: int | None = None) -> tuple[str, str]:
    u = str(uuid.uuid4())
    query = f"succeedAfter={succeed_after}&uuid={u}" + (f"&responseCode={code}" if code else "")
    return f"{path}?{query}", u


def test_retry_makes_a_failing_backend_succeed_and_attempts_are_counted(tmp_path: Path) -> None:
    async def body() -> None:
        sc = Scenario(tmp_path, delta=True)
        flaky = f"{sc.base}.21"
        sc.write({"flaky.yaml": service_yaml("flaky", 80, FLAKY_PORT, [endpoint_yaml(flaky, pod="flaky-21", ready=True)]),
                  "retries.yaml": RETRY_ROUTES})
        backend = sc.start_echo(flaky, FLAKY_PORT, "flaky-21")
        try:
            await sc.start()
            ready, _ = _flaky("/retry/without", 0)
            assert (await until(sc, lambda a: a.status == 200, ready)).status == 200

            # Fails twice with 503, retried twice (attempts: 2): the third attempt succeeds.
            path, u = _flaky("/retry/with", 2, 503)
            answer = await ask(sc, path)
            assert (answer.status, answer.pod) == (200, "flaky-21")
            assert backend.retry_attempts(u) == 2 and backend.requests_seen.count(path) == 1

            # The same backend behaviour without a retry: the first failure is the answer.
            path, u = _flaky("/retry/without", 2, 503)
            assert (await ask(sc, path)).status == 503
            assert backend.retry_attempts(u) == 1 and path not in backend.requests_seen

            # More failures than retries: exactly 1 + attempts requests reach the backend.
            path, u = _flaky("/retry/with", 5, 503)
            assert (await ask(sc, path)).status == 503
            assert backend.retry_attempts(u) == 3 and path not in backend.requests_seen

            # A code that is not listed is not retried.
            path, u = _flaky("/retry/with", 1, 500)
            assert (await ask(sc, path)).status == 500
            assert backend.retry_attempts(u) == 1

            # No codes: a connection reset (no response at all) is retried.
            path, u = _flaky("/retry/resets", 1)
            answer = await ask(sc, path)
            assert (answer.status, answer.pod) == (200, "flaky-21")
            assert backend.retry_attempts(u) == 1 and backend.requests_seen.count(path) == 1
            path, u = _flaky("/retry/without", 1)
            assert (await ask(sc, path)).status == 503  # Envoy's answer to the reset: not retried
            assert backend.retry_attempts(u) == 1
        finally:
            await sc.stop()
    run(body())


# -- session persistence --------------------------------------------------------------------------

def _sticky_routes(cookie: str, header: str) -> str:
    return f"""apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {{name: sticky, namespace: e2e}}
spec:
  parentRefs: [{{name: gw}}]
  rules:
  - matches: [{{path: {{value: /sticky/cookie}}}}]
{cookie}    backendRefs: [{{name: sticky, port: 80}}]
  - matches: [{{path: {{value: /sticky/header}}}}]
{header}    backendRefs: [{{name: sticky, port: 80}}]
  - matches: [{{path: {{value: /sticky/none}}}}]
    backendRefs: [{{name: sticky, port: 80}}]
"""


WITHOUT_SESSIONS = _sticky_routes("", "")
WITH_SESSIONS = _sticky_routes(
    "    sessionPersistence: {cookie: {name: sticky, lifetimeType: Permanent}, absoluteTimeout: 5m}\n",
    "    sessionPersistence: {type: Header, header: {name: x-session}}\n")


async def _pods(sc: Scenario, path: str, n: int, headers: dict[str, str] | None = None) -> list[str]:
    out = []
    for _ in range(n):
        answer = await ask(sc, path, headers)
        assert answer.status == 200
        out.append(answer.pod)
    return out


def test_session_persistence_keeps_a_client_on_one_pod(tmp_path: Path) -> None:
    async def body() -> None:
        sc = Scenario(tmp_path, delta=True)
        members = [f"{sc.base}.{i}" for i in (31, 32, 33)]
        sc.write({"sticky.yaml": service_yaml("sticky", 80, STICKY_PORT, [
            endpoint_yaml(a, pod=f"sticky-{a.rsplit('.', 1)[1]}", ready=True) for a in members]),
                  "sticky-routes.yaml": WITHOUT_SESSIONS})
        for a in members:
            sc.start_echo(a, STICKY_PORT, f"sticky-{a.rsplit('.', 1)[1]}")
        try:
            await sc.start()
            first = await until(sc, lambda a: a.status == 200, "/sticky/cookie")
            assert first.status == 200 and "set-cookie" not in first.headers

            # Turned on live (the listener gains the stateful session filter): Envoy names the Pod
            # it chose in a cookie that lasts absoluteTimeout.
            sc.write({"sticky-routes.yaml": WITH_SESSIONS})
            first = await until(sc, lambda a: "set-cookie" in a.headers, "/sticky/cookie")
            (set_cookie,) = first.headers.get("set-cookie", [""])
            assert set_cookie.startswith("sticky=") and "Max-Age=300" in set_cookie, set_cookie
            cookie = set_cookie.split(";", 1)[0]
            assert set(await _pods(sc, "/sticky/cookie", 20, {"Cookie": cookie})) == {first.pod}

            # Header sessions: the response names the Pod in x-session; sent back, it is kept.
            answer = await ask(sc, "/sticky/header")
            (token,) = answer.headers.get("x-session", [""])
            assert token
            assert set(await _pods(sc, "/sticky/header", 20, {"x-session": token})) == {answer.pod}

            # Without the cookie or header, and on a rule without sessionPersistence, requests
            # are balanced over the Pods as before.
            assert len(set(await _pods(sc, "/sticky/cookie", 30))) > 1
            plain = await ask(sc, "/sticky/none", {"Cookie": cookie})
            assert "set-cookie" not in plain.headers
            assert len(set(await _pods(sc, "/sticky/none", 30, {"Cookie": cookie}))) > 1
        finally:
            await sc.stop()
    run(body())
