"""Istio's AuthorizationPolicy and RequestAuthentication with real Envoys: a DENY policy on a
Service captured by a waypoint refuses requests at the waypoint (they came through the ingress
Gateway, which lets them pass), and goes when the policy goes; on the ingress Gateway, a DENY by
header, and an ALLOW that asks a JWT (RequestAuthentication, HS256 in a local JWKS) for /private:
no token 403, a bad one 401, a good one 200, the claim copied to a header."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import http.client
import json
from pathlib import Path

import pytest

from meshgate.echo import EchoServer
from meshgate.runtime.run import Runner, RunOptions

from .harness import free_subnet
from .test_waypoints import config

pytestmark = pytest.mark.envoy

ISSUER = "https://issuer.example.com"
SECRET = b"an-hs256-test-secret-of-32-bytes"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def token(sub: str, key: bytes = SECRET) -> str:
    """An HS256 JWT from ISSUER for `sub`."""
    head = _b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": "k1"}).encode())
    body = _b64(json.dumps({"iss": ISSUER, "sub": sub, "exp": 4_102_444_800}).encode())
    sig = hmac.new(key, f"{head}.{body}".encode(), hashlib.sha256).digest()
    return f"{head}.{body}.{_b64(sig)}"


JWKS = json.dumps({"keys": [{"kty": "oct", "kid": "k1", "alg": "HS256", "k": _b64(SECRET)}]})
CART_ADMIN = """---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: cart-admin, namespace: shop}
spec:
  targetRefs: [{kind: Service, group: "", name: cart}]
  action: DENY
  rules: [{to: [{operation: {paths: ["/admin*"]}}]}]
"""
INGRESS = f"""---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {{name: blocked, namespace: shop}}
spec:
  targetRefs: [{{group: gateway.networking.k8s.io, kind: Gateway, name: ingress}}]
  action: DENY
  rules: [{{when: [{{key: "request.headers[x-blocked]", values: ["yes"]}}]}}]
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {{name: private, namespace: shop}}
spec:
  targetRefs: [{{group: gateway.networking.k8s.io, kind: Gateway, name: ingress}}]
  rules:
  - to: [{{operation: {{notPaths: ["/private*"]}}}}]
  - from: [{{source: {{requestPrincipals: ["{ISSUER}/*"]}}}}]
    to: [{{operation: {{paths: ["/private*"]}}}}]
---
apiVersion: security.istio.io/v1
kind: RequestAuthentication
metadata: {{name: tokens, namespace: shop}}
spec:
  targetRefs: [{{group: gateway.networking.k8s.io, kind: Gateway, name: ingress}}]
  jwtRules:
  - issuer: {ISSUER}
    jwks: '{JWKS}'
    outputClaimToHeaders: [{{header: x-user, claim: sub}}]
"""


def _get(base: str, path: str, headers: dict[str, str] | None = None) -> tuple[int, dict]:
    conn = http.client.HTTPConnection(f"{base}.1", 8080, timeout=10)
    try:
        conn.request("GET", path, headers=headers or {})
        resp = conn.getresponse()
        data = resp.read()
        return resp.status, json.loads(data) if resp.status == 200 and data.startswith(b"{") else {}
    finally:
        conn.close()


def test_policies_at_the_waypoint_and_the_ingress(tmp_path: Path) -> None:
    async def body() -> None:
        base = free_subnet()
        cfg = tmp_path / "config"
        cfg.mkdir()
        (cfg / "all.yaml").write_text(config(base))
        (cfg / "policies.yaml").write_text(CART_ADMIN + INGRESS)
        echo = EchoServer(f"{base}.11", 9000, pod="cart-11", namespace="shop")
        echo.start()
        runner = Runner(RunOptions([str(cfg)], xds_port=0, debug_port=0, workdir=tmp_path / "work"),
                        say=lambda line: None)
        loop = asyncio.get_running_loop()

        async def get(path: str, headers: dict[str, str] | None = None) -> tuple[int, dict]:
            return await loop.run_in_executor(None, _get, base, path, headers)

        async def until(path: str, status: int) -> int:
            deadline = loop.time() + 20
            got = (await get(path))[0]
            while got != status and loop.time() < deadline:
                await asyncio.sleep(0.1)
                got = (await get(path))[0]
            return got
        try:
            await runner.start()
            assert await until("/items", 200) == 200
            status, reply = await get("/items")
            assert reply["headers"].get("X-Waypoint") == ["passed"], reply["headers"]  # through the waypoint
            # The waypoint refuses what the Service's DENY policy names; the echo never sees it.
            assert (await get("/admin/users"))[0] == 403
            assert "/admin/users" not in echo.requests_seen
            # The ingress Gateway's own policies: a header it denies, /private only with a token.
            assert (await get("/items", {"x-blocked": "yes"}))[0] == 403
            assert (await get("/private/a"))[0] == 403
            assert (await get("/private/a", {"Authorization": f"Bearer {token('alice', b'x' * 32)}"}))[0] == 401
            status, reply = await get("/private/a", {"Authorization": f"Bearer {token('alice')}"})
            assert status == 200 and reply["headers"].get("X-User") == ["alice"]
            # Without the Service's policy the waypoint lets /admin through.
            (cfg / "policies.yaml").write_text(INGRESS)
            assert await until("/admin/users", 200) == 200
        finally:
            await runner.stop()
            echo.stop()
    asyncio.run(asyncio.wait_for(body(), 120))
