"""Envoy Gateway's SecurityPolicy through a real managed Envoy and real echo backends.

Authorization by client address (the client binds a loopback source address of its choosing),
basic auth from an htpasswd Secret, API keys, CORS, a policy whose Secret is missing (its route
fails closed: 500), JWTs signed in the test (RS256 with `cryptography`) against an inline JWKS
and a remote one served on loopback, with a claim rule on top, an external authorization
service written here that decides by a request header, and CSRF refusing a cross-site POST.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import http.client
import json
import threading
import time
from concurrent import futures
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import grpc
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from envoy.config.core.v3 import base_pb2
from envoy.service.auth.v3 import external_auth_pb2, external_auth_pb2_grpc
from envoy.type.v3 import http_status_pb2
from google.rpc import status_pb2

from .harness import LISTEN_PORT, Scenario, endpoint_yaml, service_yaml

pytestmark = pytest.mark.envoy

SECURE_PORT = 9011
JWKS_PORT = 9012
AUTHZ_PORT = 9013
GRPC_AUTHZ_PORT = 9014


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 120))


@dataclass
class Answer:
    """One response: status, headers (lower-case names), the echo's JSON when it answered."""

    status: int
    headers: dict[str, list[str]]
    body: dict

    def echoed(self, name: str) -> list[str]:
        """A request header as the echo backend received it."""
        for k, v in self.body.get("headers", {}).items():
            if k.lower() == name.lower():
                return v
        return []


def call(host: str, path: str, headers: dict[str, str] | None = None, source: str | None = None,
         method: str = "GET") -> Answer:
    """One request on a new connection, from `source` (a loopback address) when given."""
    conn = http.client.HTTPConnection(host, LISTEN_PORT, timeout=10,
                                      source_address=(source, 0) if source else None)
    try:
        conn.request(method, path, headers=headers or {})
        resp = conn.getresponse()
        data = resp.read()
        got: dict[str, list[str]] = {}
        for name, value in resp.getheaders():
            got.setdefault(name.lower(), []).append(value)
        body = json.loads(data) if resp.status == 200 and data.startswith(b"{") else {}
        return Answer(resp.status, got, body)
    except (ConnectionError, TimeoutError, http.client.HTTPException):
        return Answer(0, {}, {})
    finally:
        conn.close()


async def ask(sc: Scenario, path: str, headers: dict[str, str] | None = None, source: str | None = None,
              method: str = "GET") -> Answer:
    return await asyncio.get_running_loop().run_in_executor(
        None, lambda: call(f"{sc.base}.1", path, headers, source, method))


async def until(sc: Scenario, check, path: str, headers: dict[str, str] | None = None,
                source: str | None = None, timeout: float = 15.0) -> Answer:
    """Poll until `check(answer)` holds (bounded); the last answer either way."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    answer = await ask(sc, path, headers, source)
    while not check(answer) and loop.time() < deadline:
        await asyncio.sleep(0.05)
        answer = await ask(sc, path, headers, source)
    return answer


def _secure_route(rules: list[str]) -> str:
    body = "".join(f"  - {{name: {r}, matches: [{{path: {{value: /{r}}}}}], backendRefs: [{{name: secure, port: 80}}]}}\n"
                   for r in rules)
    return f"""apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {{name: secure, namespace: e2e}}
spec:
  parentRefs: [{{name: gw}}]
  rules:
{body}"""


def _policy(name: str, section: str, spec: str) -> str:
    return f"""apiVersion: gateway.envoyproxy.io/v1alpha1
kind: SecurityPolicy
metadata: {{name: {name}, namespace: e2e}}
spec:
  targetRefs: [{{group: gateway.networking.k8s.io, kind: HTTPRoute, name: secure, sectionName: {section}}}]
{spec}---
"""


def _htpasswd(users: dict[str, str]) -> str:
    return "".join(f"{u}:{{SHA}}{base64.b64encode(hashlib.sha1(p.encode()).digest()).decode()}\n"
                   for u, p in users.items())


def _basic(user: str, password: str) -> dict[str, str]:
    return {"authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


# -- authorization, basic auth, API keys, CORS, fail closed ---------------------------------------

def test_client_addresses_basic_auth_api_keys_cors_and_a_missing_secret(tmp_path: Path) -> None:
    async def body() -> None:
        sc = Scenario(tmp_path, delta=True)
        backend = f"{sc.base}.21"
        denied, allowed = f"{sc.base}.50", f"{sc.base}.51"
        secrets = f"""apiVersion: v1
kind: Secret
metadata: {{name: users, namespace: e2e}}
stringData:
  .htpasswd: {json.dumps(_htpasswd({"alice": "wonderland", "bob": "builder"}))}
---
apiVersion: v1
kind: Secret
metadata: {{name: api-keys, namespace: e2e}}
stringData: {{client-a: key-a}}
"""
        policies = (
            _policy("by-address", "ip", f"""  authorization:
    defaultAction: Allow
    rules:
    - {{name: no-50, action: Deny, principal: {{clientCIDRs: ["{denied}/32"]}}}}
""") + _policy("basic", "basic", "  basicAuth: {users: {name: users}, forwardUsernameHeader: x-user}\n")
            + _policy("keys", "keys", """  apiKeyAuth:
    credentialRefs: [{name: api-keys}]
    extractFrom: [{headers: [x-api-key]}]
    forwardClientIDHeader: x-client
""") + _policy("cors", "cors", """  cors:
    allowOrigins: ["https://*.example.com"]
    allowMethods: [GET, PUT]
    maxAge: 60s
""") + _policy("broken", "broken", "  basicAuth: {users: {name: no-such-secret}}\n"))
        sc.write({"secure-svc.yaml": service_yaml("secure", 80, SECURE_PORT, [endpoint_yaml(backend, pod="secure-21",
                                                                                              ready=True)]),
                  "secure-routes.yaml": _secure_route(["ip", "basic", "keys", "cors", "broken", "open"]),
                  "secrets.yaml": secrets, "policies.yaml": policies})
        sc.start_echo(backend, SECURE_PORT, "secure-21")
        try:
            await sc.start()
            assert (await until(sc, lambda a: a.status == 200, "/open")).status == 200

            # Client addresses: the denied one gets 403 from the RBAC filter, another passes.
            assert (await until(sc, lambda a: a.status == 403, "/ip", source=denied)).status == 403
            assert (await ask(sc, "/ip", source=allowed)).status == 200
            assert (await ask(sc, "/open", source=denied)).status == 200  # only the ip rule's route

            # Basic auth: 401 without or with wrong credentials, 200 with right ones; the user's name
            # reaches the backend.
            assert (await until(sc, lambda a: a.status == 401, "/basic")).status == 401
            assert (await ask(sc, "/basic", _basic("alice", "wrong"))).status == 401
            ok = await ask(sc, "/basic", _basic("alice", "wonderland"))
            assert ok.status == 200 and ok.echoed("x-user") == ["alice"]
            assert (await ask(sc, "/basic", _basic("bob", "builder"))).status == 200

            # API keys: 401 without or with an unknown key; the client's id reaches the backend.
            assert (await ask(sc, "/keys")).status == 401
            assert (await ask(sc, "/keys", {"x-api-key": "nope"})).status == 401
            ok = await ask(sc, "/keys", {"x-api-key": "key-a"})
            assert ok.status == 200 and ok.echoed("x-client") == ["client-a"]

            # CORS: a preflight from an allowed origin is answered by Envoy with the policy's headers.
            pre = await ask(sc, "/cors", {"origin": "https://app.example.com", "access-control-request-method": "PUT"},
                            method="OPTIONS")
            assert pre.headers.get("access-control-allow-origin") == ["https://app.example.com"], pre.headers
            assert "PUT" in pre.headers.get("access-control-allow-methods", [""])[0]
            other = await ask(sc, "/cors", {"origin": "https://evil.test", "access-control-request-method": "PUT"},
                              method="OPTIONS")
            assert "access-control-allow-origin" not in other.headers

            # The policy whose Secret is missing: its route fails closed.
            assert (await ask(sc, "/broken")).status == 500

            # The Secret created: the same route now asks for credentials.
            sc.write({"late-secret.yaml": secrets.replace("name: users", "name: no-such-secret")})
            assert (await until(sc, lambda a: a.status == 401, "/broken")).status == 401
            assert (await ask(sc, "/broken", _basic("alice", "wonderland"))).status == 200
        finally:
            await sc.stop()
    run(body())


# -- JWT --------------------------------------------------------------------------------------------

def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _int(i: int) -> str:
    return _b64(i.to_bytes((i.bit_length() + 7) // 8, "big"))


class Signer:
    """An RSA key, its JWKS, and RS256 tokens signed with it."""

    def __init__(self, kid: str) -> None:
        self.kid = kid
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)

    def jwks(self) -> str:
        pub = self.key.public_key().public_numbers()
        return json.dumps({"keys": [{"kty": "RSA", "alg": "RS256", "use": "sig", "kid": self.kid,
                                     "n": _int(pub.n), "e": _int(pub.e)}]})

    def token(self, claims: dict) -> str:
        header = _b64(json.dumps({"alg": "RS256", "typ": "JWT", "kid": self.kid}).encode())
        payload = _b64(json.dumps({"exp": int(time.time()) + 3600, **claims}).encode())
        signed = f"{header}.{payload}".encode()
        return f"{header}.{payload}." + _b64(self.key.sign(signed, padding.PKCS1v15(), hashes.SHA256()))


def _bearer(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


class _JwksHandler(BaseHTTPRequestHandler):
    jwks = b"{}"

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(self.jwks)))
        self.end_headers()
        self.wfile.write(self.jwks)

    def log_message(self, *args: object) -> None:
        pass


def _serve(handler: type[BaseHTTPRequestHandler], address: str, port: int) -> ThreadingHTTPServer:
    server = ThreadingHTTPServer((address, port), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def test_jwt_with_local_and_remote_key_sets_and_a_claim_rule(tmp_path: Path) -> None:
    async def body() -> None:
        sc = Scenario(tmp_path, delta=True)
        backend = f"{sc.base}.21"
        local, remote, stranger = Signer("local"), Signer("remote"), Signer("local")
        jwks_host = f"{sc.base}.60"
        handler = type("Jwks", (_JwksHandler,), {"jwks": remote.jwks().encode()})
        jwks_server = _serve(handler, jwks_host, JWKS_PORT)
        policies = _policy("local-jwt", "jwt", f"""  jwt:
    providers:
    - name: local
      issuer: https://local.example
      audiences: [meshgate]
      localJWKS: {{type: Inline, inline: {json.dumps(local.jwks())}}}
      claimToHeaders: [{{header: x-sub, claim: sub}}]
""") + _policy("remote-jwt", "remote", f"""  jwt:
    providers:
    - name: remote
      issuer: https://remote.example
      remoteJWKS: {{uri: "http://{jwks_host}:{JWKS_PORT}/jwks.json"}}
  authorization:
    defaultAction: Deny
    rules:
    - name: admins
      action: Allow
      principal:
        jwt: {{provider: remote, claims: [{{name: roles, valueType: StringArray, values: [admin]}}]}}
""") + _policy("optional-jwt", "maybe", f"""  jwt:
    optional: true
    providers:
    - name: local
      localJWKS: {{type: Inline, inline: {json.dumps(local.jwks())}}}
""")
        sc.write({"secure-svc.yaml": service_yaml("secure", 80, SECURE_PORT, [endpoint_yaml(backend, pod="secure-21",
                                                                                              ready=True)]),
                  "secure-routes.yaml": _secure_route(["jwt", "remote", "maybe", "open"]), "policies.yaml": policies})
        sc.start_echo(backend, SECURE_PORT, "secure-21")
        try:
            await sc.start()
            assert (await until(sc, lambda a: a.status == 200, "/open")).status == 200

            # Local key set: no token or a token of another key: 401; a valid token for another
            # audience: 403 (Envoy's answer to a token it verified but may not accept).
            assert (await until(sc, lambda a: a.status == 401, "/jwt")).status == 401
            good = local.token({"iss": "https://local.example", "aud": "meshgate", "sub": "alice"})
            assert (await ask(sc, "/jwt", _bearer(stranger.token({"iss": "https://local.example",
                                                                   "aud": "meshgate"})))).status == 401
            assert (await ask(sc, "/jwt", _bearer(local.token({"iss": "https://local.example",
                                                                "aud": "other"})))).status == 403
            ok = await ask(sc, "/jwt", _bearer(good))
            assert ok.status == 200 and ok.echoed("x-sub") == ["alice"]

            # Remote key set, fetched from the server above; then the claim rule: admins pass,
            # others are denied (403) though their token is valid.
            admin = remote.token({"iss": "https://remote.example", "sub": "root", "roles": ["user", "admin"]})
            user = remote.token({"iss": "https://remote.example", "sub": "joe", "roles": ["user"]})
            assert (await until(sc, lambda a: a.status == 200, "/remote", _bearer(admin))).status == 200
            assert (await ask(sc, "/remote", _bearer(user))).status == 403
            assert (await ask(sc, "/remote")).status == 401
            assert (await ask(sc, "/remote", _bearer(good))).status == 401  # the local key's token

            # Optional: no token passes, a bad one does not, a good one does.
            assert (await ask(sc, "/maybe")).status == 200
            assert (await ask(sc, "/maybe", _bearer(stranger.token({"sub": "x"})))).status == 401
            assert (await ask(sc, "/maybe", _bearer(good))).status == 200
        finally:
            await sc.stop()
            jwks_server.shutdown()
            jwks_server.server_close()
    run(body())


# -- external authorization -------------------------------------------------------------------------

class _AuthzHandler(BaseHTTPRequestHandler):
    """Allows a request whose x-decide header says allow (and names the user for the backend);
    denies the others with 403."""

    seen: ClassVar[list[str]] = []

    def _decide(self) -> None:
        self.seen.append(self.path)
        if self.headers.get("x-decide") == "allow":
            self.send_response(200)
            self.send_header("x-auth-user", "carol")
        else:
            self.send_response(403)
        self.send_header("content-length", "0")
        self.end_headers()

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_OPTIONS = _decide

    def log_message(self, *args: object) -> None:
        pass


def test_external_authorization_service_decides_by_a_header(tmp_path: Path) -> None:
    async def body() -> None:
        sc = Scenario(tmp_path, delta=True)
        backend = f"{sc.base}.21"
        authz_host = f"{sc.base}.70"
        handler = type("Authz", (_AuthzHandler,), {"seen": []})
        authz = _serve(handler, authz_host, AUTHZ_PORT)
        policies = _policy("ext", "ext", """  extAuth:
    headersToExtAuth: [x-decide]
    http:
      backendRefs: [{name: authz, port: 9013}]
      path: /check
      headersToBackend: [x-auth-user]
""")
        sc.write({"secure-svc.yaml": service_yaml("secure", 80, SECURE_PORT, [endpoint_yaml(backend, pod="secure-21",
                                                                                              ready=True)]),
                  "authz-svc.yaml": service_yaml("authz", AUTHZ_PORT, AUTHZ_PORT,
                                                 [endpoint_yaml(authz_host, pod="authz-70", ready=True)]),
                  "secure-routes.yaml": _secure_route(["ext", "open"]), "policies.yaml": policies})
        sc.start_echo(backend, SECURE_PORT, "secure-21")
        try:
            await sc.start()
            assert (await until(sc, lambda a: a.status == 200, "/open")).status == 200
            assert (await until(sc, lambda a: a.status == 403, "/ext")).status == 403
            assert (await ask(sc, "/ext", {"x-decide": "deny"})).status == 403
            ok = await ask(sc, "/ext", {"x-decide": "allow"})
            assert ok.status == 200 and ok.echoed("x-auth-user") == ["carol"]
            # The service was asked at its path prefix, with the request's path after it.
            assert "/check/ext" in handler.seen
            assert not any(p.endswith("/open") for p in handler.seen)
        finally:
            await sc.stop()
            authz.shutdown()
            authz.server_close()
    run(body())


class _GrpcAuthz(external_auth_pb2_grpc.AuthorizationServicer):
    """Envoy's ext_authz gRPC service: allows a request whose x-decide header says allow (naming
    the user for the backend), denies the others with 403."""

    def __init__(self) -> None:
        self.paths: list[str] = []

    def Check(self, request, context):
        http = request.attributes.request.http
        self.paths.append(http.path)
        if http.headers.get("x-decide") == "allow":
            ok = external_auth_pb2.OkHttpResponse(headers=[base_pb2.HeaderValueOption(
                header=base_pb2.HeaderValue(key="x-auth-user", value="dave"))])
            return external_auth_pb2.CheckResponse(status=status_pb2.Status(code=0), ok_response=ok)
        denied = external_auth_pb2.DeniedHttpResponse(status=http_status_pb2.HttpStatus(code=403))
        return external_auth_pb2.CheckResponse(status=status_pb2.Status(code=7), denied_response=denied)


def test_external_authorization_over_grpc(tmp_path: Path) -> None:
    async def body() -> None:
        sc = Scenario(tmp_path, delta=True)
        backend = f"{sc.base}.21"
        authz_host = f"{sc.base}.71"
        servicer = _GrpcAuthz()
        server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
        external_auth_pb2_grpc.add_AuthorizationServicer_to_server(servicer, server)
        server.add_insecure_port(f"{authz_host}:{GRPC_AUTHZ_PORT}")
        server.start()
        policies = _policy("ext-grpc", "ext", f"""  extAuth:
    grpc:
      backendRefs: [{{name: authz-grpc, port: {GRPC_AUTHZ_PORT}}}]
""")
        sc.write({"secure-svc.yaml": service_yaml("secure", 80, SECURE_PORT, [endpoint_yaml(backend, pod="secure-21",
                                                                                              ready=True)]),
                  # Named grpc: the cluster speaks HTTP/2 to it.
                  "authz-svc.yaml": service_yaml("authz-grpc", GRPC_AUTHZ_PORT, GRPC_AUTHZ_PORT,
                                                 [endpoint_yaml(authz_host, pod="authz-71", ready=True)],
                                                 port_name="grpc"),
                  "secure-routes.yaml": _secure_route(["ext", "open"]), "policies.yaml": policies})
        sc.start_echo(backend, SECURE_PORT, "secure-21")
        try:
            await sc.start()
            assert (await until(sc, lambda a: a.status == 200, "/open")).status == 200
            assert (await until(sc, lambda a: a.status == 403, "/ext")).status == 403
            ok = await ask(sc, "/ext", {"x-decide": "allow"})
            assert ok.status == 200 and ok.echoed("x-auth-user") == ["dave"]
            assert "/ext" in servicer.paths and "/open" not in servicer.paths
        finally:
            await sc.stop()
            server.stop(None)
    run(body())


def test_csrf_refuses_cross_site_state_changes(tmp_path: Path) -> None:
    """csrf on one rule: a POST whose Origin is another site gets 403, one from the request's own
    host or from an additional origin passes, a GET passes whatever its Origin; the rule without
    the policy lets the cross-site POST through."""
    async def body() -> None:
        sc = Scenario(tmp_path, delta=True)
        backend = f"{sc.base}.21"
        sc.write({"secure-svc.yaml": service_yaml("secure", 80, SECURE_PORT, [endpoint_yaml(backend, pod="secure-21",
                                                                                              ready=True)]),
                  "secure-routes.yaml": _secure_route(["guarded", "open"]),
                  "policies.yaml": _policy("csrf", "guarded",
                                           '  csrf: {additionalOrigins: ["https://partner.example.com"]}\n')})
        sc.start_echo(backend, SECURE_PORT, "secure-21")
        own = f"http://{sc.base}.1:{LISTEN_PORT}"
        try:
            await sc.start()
            evil = {"origin": "https://evil.example.com"}
            loop = asyncio.get_running_loop()
            deadline = loop.time() + 15
            refused = await ask(sc, "/guarded", evil, method="POST")
            while refused.status != 403 and loop.time() < deadline:  # until the policy is served
                await asyncio.sleep(0.05)
                refused = await ask(sc, "/guarded", evil, method="POST")
            assert refused.status == 403, refused.status
            assert (await ask(sc, "/guarded", {"origin": own}, method="POST")).status == 200
            assert (await ask(sc, "/guarded", {"origin": "https://partner.example.com"}, method="POST")).status == 200
            assert (await ask(sc, "/guarded", evil)).status == 200  # GET: not a state change
            assert (await ask(sc, "/open", evil, method="POST")).status == 200
        finally:
            await sc.stop()
    run(body())
