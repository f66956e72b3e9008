"""Istio's AuthorizationPolicy and RequestAuthentication with real Envoys: a DENY policy on a
Service captured by a waypoint refuses requests at the waypoint (they came through the ingress
Gateway, which lets them pass), and goes when the policy goes; on the ingress Gateway, a DENY by
header, and an ALLOW that asks a JWT (RequestAuthentication, HS256 in a local JWKS) for /private:
no token 403, a bad one 401, a good one 200, the claim copied to a header. A CUSTOM policy on the
ingress sends /admin* to the mesh config's authorizer, HTTP or gRPC (those test_security_policy.py's
SecurityPolicy uses), which decides by a header; other paths never reach it."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import http.client
import json
from concurrent import futures
from pathlib import Path
from typing import Self

import grpc
import pytest
from envoy.service.auth.v3 import external_auth_pb2_grpc

from meshgate.echo import EchoServer
from meshgate.runtime.run import Runner, RunOptions

from .harness import free_subnet
from .test_security_policy import _AuthzHandler, _GrpcAuthz, _serve
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


class _Shop:
    """`meshgate run` on `files` (written to a config directory) with the cart echo (shop/cart-11
    on base.11:9000), and requests to the ingress Gateway on base.1."""

    def __init__(self, tmp_path: Path, base: str, files: dict[str, str]) -> None:
        self.base = base
        self.cfg = tmp_path / "config"
        self.cfg.mkdir()
        for name, text in files.items():
            (self.cfg / name).write_text(text)
        self.echo = EchoServer(f"{base}.11", 9000, pod="cart-11", namespace="shop")
        self.runner = Runner(RunOptions([str(self.cfg)], xds_port=0, debug_port=0, workdir=tmp_path / "work"),
                             say=lambda line: None)

    async def __aenter__(self) -> Self:
        self.echo.start()
        try:
            await self.runner.start()
        except BaseException:
            self.echo.stop()
            raise
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.runner.stop()
        self.echo.stop()

    async def get(self, path: str, headers: dict[str, str] | None = None) -> tuple[int, dict]:
        return await asyncio.get_running_loop().run_in_executor(None, _get, self.base, path, headers)

    async def until(self, path: str, status: int, timeout: float = 20.0) -> int:
        """GET `path` until it answers `status` (bounded): the last status."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        got = (await self.get(path))[0]
        while got != status and loop.time() < deadline:
            await asyncio.sleep(0.1)
            got = (await self.get(path))[0]
        return got


def test_policies_at_the_waypoint_and_the_ingress(tmp_path: Path) -> None:
    async def body() -> None:
        base = free_subnet()
        async with _Shop(tmp_path, base, {"all.yaml": config(base), "policies.yaml": CART_ADMIN + INGRESS}) as shop:
            get = shop.get
            assert await shop.until("/items", 200) == 200
            status, reply = await get("/items")
            assert reply["headers"].get("X-Waypoint") == ["passed"], reply["headers"]  # through the waypoint
            # The waypoint refuses what the Service's DENY policy names; the echo never sees it.
            assert (await get("/admin/users"))[0] == 403
            assert "/admin/users" not in shop.echo.requests_seen
            # The ingress Gateway's own policies: a header it denies, /private only with a token.
            assert (await get("/items", {"x-blocked": "yes"}))[0] == 403
            assert (await get("/private/a"))[0] == 403
            assert (await get("/private/a", {"Authorization": f"Bearer {token('alice', b'x' * 32)}"}))[0] == 401
            status, reply = await get("/private/a", {"Authorization": f"Bearer {token('alice')}"})
            assert status == 200 and reply["headers"].get("X-User") == ["alice"]
            # Without the Service's policy the waypoint lets /admin through.
            (shop.cfg / "policies.yaml").write_text(INGRESS)
            assert await shop.until("/admin/users", 200) == 200
    asyncio.run(asyncio.wait_for(body(), 120))


def _provider(kind: str, authz_port: int) -> str:
    """The mesh config's provider `checker`: HTTP (headers named for the check and for the
    backend, as Istio's envoyExtAuthzHttp needs them) or gRPC (Envoy sends every header)."""
    if kind == "grpc":
        return f"""      envoyExtAuthzGrpc:
        service: authz.shop.svc.cluster.local
        port: {authz_port}
        timeout: 5s"""
    return f"""      envoyExtAuthzHttp:
        service: authz.shop.svc.cluster.local
        port: {authz_port}
        timeout: 5s
        includeRequestHeadersInCheck: [x-decide]
        headersToUpstreamOnAllow: [x-auth-user]"""


def _custom_config(base: str, authz_port: int, kind: str = "http") -> str:
    """An ingress Gateway in front of `cart`, an external authorizer Service (`authz`, on
    `{base}.70`; its port named for its protocol, as Istio reads it), the mesh config naming it,
    and a CUSTOM policy sending /admin* to it."""
    return f"""apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {{name: ingress, namespace: shop}}
spec:
  gatewayClassName: meshgate
  addresses: [{{type: IPAddress, value: "{base}.1"}}]
  listeners: [{{name: http, port: 8080, protocol: HTTP}}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {{name: to-cart, namespace: shop}}
spec:
  parentRefs: [{{name: ingress}}]
  rules: [{{backendRefs: [{{name: cart, port: 80}}]}}]
---
apiVersion: v1
kind: Service
metadata: {{name: cart, namespace: shop}}
spec: {{clusterIP: {base}.10, ports: [{{name: http, port: 80, targetPort: 9000}}]}}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {{name: cart-1, namespace: shop, labels: {{kubernetes.io/service-name: cart}}}}
addressType: IPv4
ports: [{{name: http, port: 9000, protocol: TCP}}]
endpoints: [{{addresses: [{base}.11], targetRef: {{kind: Pod, name: cart-11}}}}]
---
apiVersion: v1
kind: Service
metadata: {{name: authz, namespace: shop}}
spec: {{clusterIP: {base}.20, ports: [{{name: {kind}, port: {authz_port}}}]}}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {{name: authz-1, namespace: shop, labels: {{kubernetes.io/service-name: authz}}}}
addressType: IPv4
ports: [{{name: {kind}, port: {authz_port}, protocol: TCP}}]
endpoints: [{{addresses: [{base}.70], conditions: {{ready: true}}}}]
---
apiVersion: v1
kind: ConfigMap
metadata: {{name: istio, namespace: istio-system}}
data:
  mesh: |
    extensionProviders:
    - name: checker
{_provider(kind, authz_port)}
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {{name: admin-checked, namespace: shop}}
spec:
  targetRefs: [{{group: gateway.networking.k8s.io, kind: Gateway, name: ingress}}]
  action: CUSTOM
  provider: {{name: checker}}
  rules: [{{to: [{{operation: {{paths: ["/admin*"]}}}}]}}]
"""


@pytest.mark.parametrize("kind", ["http", "grpc"])
def test_custom_policy_asks_the_external_authorizer_only_for_its_rules(tmp_path: Path, kind: str) -> None:
    """CUSTOM on the ingress: /admin* goes to the mesh config's authorizer (over HTTP, or over
    gRPC: Envoy's Authorization service), which allows `x-decide: allow` (naming the user for
    the backend) and denies the rest; other paths never reach it."""
    async def body() -> None:
        base = free_subnet()
        if kind == "grpc":
            servicer = _GrpcAuthz()
            server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
            external_auth_pb2_grpc.add_AuthorizationServicer_to_server(servicer, server)
            port = server.add_insecure_port(f"{base}.70:0")
            server.start()
            seen, user = servicer.paths, "dave"
        else:
            handler = type("Authz", (_AuthzHandler,), {"seen": []})
            authz = _serve(handler, f"{base}.70", 0)
            port = authz.server_address[1]
            seen, user = handler.seen, "carol"
        try:
            async with _Shop(tmp_path, base, {"all.yaml": _custom_config(base, port, kind)}) as shop:
                get = shop.get
                await shop.until("/items", 200)
                assert (await get("/items", {"x-decide": "deny"}))[0] == 200
                assert seen == []  # not a CUSTOM rule's request: the authorizer is not asked
                assert (await get("/admin/users"))[0] == 403
                assert (await get("/admin/users", {"x-decide": "deny"}))[0] == 403
                status, reply = await get("/admin/users", {"x-decide": "allow"})
                assert status == 200 and reply["headers"].get("X-Auth-User") == [user], reply
                assert seen == ["/admin/users"] * 3
                assert "/admin/users" in shop.echo.requests_seen and (await get("/other"))[0] == 200
                assert len(seen) == 3
        finally:
            if kind == "grpc":
                server.stop(None)
            else:
                authz.shutdown()
                authz.server_close()
    asyncio.run(asyncio.wait_for(body(), 120))
