"""Envoy Gateway's ClientTrafficPolicy through a real managed Envoy and real echo backends.

Each test starts with the harness's Gateway (HTTP on .1:8080, the `web` echo behind it), checks
what Envoy does without a policy, writes the policy live and polls (bounded) until Envoy does
what it says: headers with underscores rejected, headers changed before routing, the client
address taken from X-Forwarded-For's trusted hops, a connection limit refusing the connection
beyond it, TLS 1.3 required on an HTTPS listener (its own policy over the Gateway's), path
settings (escaped slashes refused, adjacent slashes merged), a health check path Envoy answers,
the PROXY protocol's client address, a custom client address header, client certificates validated and
forwarded, gRPC-Web translated to a gRPC backend, and the request received and idle timeouts (each only bounded: well before the
client gives up). Only loopback addresses; no timing assertions.
"""

from __future__ import annotations

import asyncio
import datetime
import http.client
import json
import socket
import ssl
import threading
from collections.abc import Callable
from concurrent import futures
from pathlib import Path

import grpc
import h2.config
import h2.connection
import h2.events
import h2.settings
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from envoy.service.auth.v3 import external_auth_pb2, external_auth_pb2_grpc

from .harness import LISTEN_PORT, Scenario, endpoint_yaml, service_yaml
from .test_security_policy import _GrpcAuthz

pytestmark = pytest.mark.envoy

TESTDATA = Path(__file__).resolve().parent.parent / "golden"
HTTPS_PORT = 8443


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 120))


def _policy(spec: str, name: str = "clients", section: str = "") -> str:
    target = "{group: gateway.networking.k8s.io, kind: Gateway, name: gw" + (f", sectionName: {section}" if section else "") + "}"
    return f"""apiVersion: gateway.envoyproxy.io/v1alpha1
kind: ClientTrafficPolicy
metadata: {{name: {name}, namespace: e2e}}
spec:
  targetRefs: [{target}]
{spec}"""


def call(host: str, path: str = "/", headers: dict[str, str] | None = None) -> tuple[int, dict]:
    """One GET on a new connection: the status and the echo's JSON (empty when not 200); status
    0 when the connection failed."""
    conn = http.client.HTTPConnection(host, LISTEN_PORT, timeout=5)
    try:
        conn.request("GET", path, headers=headers or {})
        resp = conn.getresponse()
        data = resp.read()
        return resp.status, json.loads(data) if resp.status == 200 and data.startswith(b"{") else {}
    except (OSError, http.client.HTTPException):
        return 0, {}
    finally:
        conn.close()


def header(body: dict, name: str) -> list[str]:
    for k, v in body.get("headers", {}).items():
        if k.lower() == name.lower():
            return v
    return []


async def until(probe: Callable[[], object], check: Callable[[object], bool], timeout: float = 15.0) -> object:
    """Run the blocking `probe` until `check` holds on its result (bounded); its last result."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    got = await loop.run_in_executor(None, probe)
    while not check(got) and loop.time() < deadline:
        await asyncio.sleep(0.05)
        got = await loop.run_in_executor(None, probe)
    return got


def test_headers_and_client_address(tmp_path: Path) -> None:
    """withUnderscoresAction RejectRequest, earlyRequestHeaders, numTrustedHops, preserveXRequestID."""
    async def body() -> None:
        sc = Scenario(tmp_path, delta=True)
        host = f"{sc.base}.1"
        try:
            await sc.start()
            spoofed = {"x-forwarded-for": "203.0.113.7", "x_under": "1", "x-drop-me": "1", "x-request-id": "mine"}
            status, seen = await asyncio.get_running_loop().run_in_executor(None, call, host, "/", spoofed)
            # Without a policy: the header with an underscore passes, the client is the peer that
            # connected (X-Forwarded-For is not trusted), the early headers are not there, and the
            # edge request's x-request-id is Envoy's own.
            assert status == 200 and header(seen, "x_under") == ["1"]
            assert header(seen, "x-envoy-external-address") == ["127.0.0.1"] and header(seen, "x-early") == []
            assert header(seen, "x-request-id") != ["mine"]

            sc.write({"policy.yaml": _policy("""  headers:
    withUnderscoresAction: RejectRequest
    preserveXRequestID: true
    earlyRequestHeaders:
      set: [{name: x-early, value: "set"}]
      remove: [x-drop-me]
  clientIPDetection: {xForwardedFor: {numTrustedHops: 1}}
  path: {escapedSlashesAction: RejectRequest, disableMergeSlashes: false}
  healthCheck: {path: /healthz}
""")})
            status, _ = await until(lambda: call(host, "/", spoofed), lambda r: r[0] == 400)  # type: ignore[index]
            assert status == 400  # the underscored header is refused
            clean = {k: v for k, v in spoofed.items() if k != "x_under"}
            status, seen = await asyncio.get_running_loop().run_in_executor(None, call, host, "/", clean)
            assert status == 200
            # One trusted hop: the client is the address the hop before Envoy wrote, an external one.
            assert header(seen, "x-envoy-external-address") == ["203.0.113.7"]
            assert header(seen, "x-forwarded-for")[0].startswith("203.0.113.7")
            # Early headers: set, and removed before routing.
            assert header(seen, "x-early") == ["set"] and header(seen, "x-drop-me") == []
            # An external request keeps its x-request-id (preserveXRequestID).
            assert header(seen, "x-request-id") == ["mine"]
            # path: an escaped slash is refused, adjacent slashes are merged before routing.
            loop = asyncio.get_running_loop()
            assert (await loop.run_in_executor(None, call, host, "/a%2Fb"))[0] == 400
            status, seen = await loop.run_in_executor(None, call, host, "//merged//path")
            assert status == 200 and seen["path"] == "/merged/path"
            # healthCheck: Envoy answers the path itself, the backend never sees it.
            status, seen = await loop.run_in_executor(None, call, host, "/healthz")
            assert (status, seen) == (200, {})
        finally:
            await sc.stop()
    run(body())


def _open(host: str) -> socket.socket:
    """A connection that has had one keep-alive request answered (so Envoy counts it)."""
    s = socket.create_connection((host, LISTEN_PORT), timeout=5)
    s.sendall(f"GET / HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
    assert data.startswith(b"HTTP/1.1 200"), data[:100]
    return s


def _third(host: str) -> int:
    """The status of a request on one more connection (0: the connection was closed)."""
    return call(host)[0]


def test_connection_limit_refuses_the_connection_beyond_it(tmp_path: Path) -> None:
    async def body() -> None:
        sc = Scenario(tmp_path, delta=True)
        host = f"{sc.base}.1"
        held: list[socket.socket] = []
        try:
            await sc.start()
            sc.write({"policy.yaml": _policy("  connection: {connectionLimit: {value: 2}}\n")})
            loop = asyncio.get_running_loop()

            def two_open_then_third() -> int:
                # Two connections held open, then a third: refused once the limit is in place.
                for s in held:
                    s.close()
                held.clear()
                held.extend(_open(host) for _ in range(2))
                return _third(host)
            assert await until(two_open_then_third, lambda status: status == 0) == 0
            # Still refused while the two stay open; once one closes, a new connection is served.
            assert await loop.run_in_executor(None, _third, host) == 0
            held.pop().close()
            assert await until(lambda: _third(host), lambda status: status == 200) == 200
        finally:
            for s in held:
                s.close()
            await sc.stop()
    run(body())


def _https_gateway(base: str) -> str:
    crt = (TESTDATA / "testdata-tls.crt").read_text()
    key = (TESTDATA / "testdata-tls.key").read_text()
    indent = "\n    "
    return f"""apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {{name: gw, namespace: e2e}}
spec:
  gatewayClassName: meshgate
  addresses: [{{type: IPAddress, value: "{base}.1"}}]
  listeners:
  - {{name: http, port: {LISTEN_PORT}, protocol: HTTP}}
  - {{name: https, port: {HTTPS_PORT}, protocol: HTTPS, tls: {{certificateRefs: [{{name: cert}}]}}}}
---
apiVersion: v1
kind: Secret
metadata: {{name: cert, namespace: e2e}}
type: kubernetes.io/tls
stringData:
  tls.crt: |{indent}{indent.join(crt.strip().splitlines())}
  tls.key: |{indent}{indent.join(key.strip().splitlines())}
"""


def _tls_status(host: str, version: ssl.TLSVersion) -> str:
    """"200" when a GET over TLS at most `version` succeeds; else what failed."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.maximum_version = version
    conn = http.client.HTTPSConnection(host, HTTPS_PORT, timeout=5, context=ctx)
    try:
        conn.request("GET", "/", headers={"host": "example.org"})
        return str(conn.getresponse().status)
    except ssl.SSLError as exc:
        return f"ssl: {exc.reason}"
    except (OSError, http.client.HTTPException) as exc:
        return f"error: {exc!r}"
    finally:
        conn.close()


def test_tls_minimum_version_on_one_listener(tmp_path: Path) -> None:
    """The https listener's own policy (TLS 1.3 only) over the Gateway's (which leaves TLS alone)."""
    async def body() -> None:
        sc = Scenario(tmp_path, delta=True)
        host = f"{sc.base}.1"
        sc.write({"gateway.yaml": _https_gateway(sc.base)})
        try:
            await sc.start()
            v12 = ssl.TLSVersion.TLSv1_2
            assert await until(lambda: _tls_status(host, v12), lambda s: s == "200") == "200"
            sc.write({"gateway-policy.yaml": _policy("  timeout: {http: {idleTimeout: 1m}}\n", name="whole"),
                      "https-policy.yaml": _policy('  tls: {minVersion: "1.3"}\n', name="modern", section="https")})
            refused = await until(lambda: _tls_status(host, v12), lambda s: s != "200")
            assert str(refused).startswith("ssl:") or str(refused).startswith("error:"), refused
            assert await loop_call(_tls_status, host, ssl.TLSVersion.TLSv1_3) == "200"
            # Plain HTTP on the same Gateway is untouched by the listener's policy.
            assert (await loop_call(call, host))[0] == 200
        finally:
            await sc.stop()
    run(body())


async def loop_call(fn: Callable, *args: object) -> object:
    return await asyncio.get_running_loop().run_in_executor(None, fn, *args)


def _proxied(host: str, client: str) -> tuple[int, dict]:
    """A GET behind a PROXY protocol v1 header saying the client is `client`."""
    s = socket.create_connection((host, LISTEN_PORT), timeout=5)
    try:
        s.sendall(f"PROXY TCP4 {client} {host} 40000 {LISTEN_PORT}\r\n".encode()
                  + f"GET / HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    except OSError:
        return 0, {}
    finally:
        s.close()
    head, _, payload = data.partition(b"\r\n\r\n")
    if not head.startswith(b"HTTP/1.1 "):
        return 0, {}
    status = int(head.split()[1])
    try:
        return status, json.loads(payload) if status == 200 else {}
    except json.JSONDecodeError:  # chunked: not expected with Connection: close, but be lenient
        start = payload.find(b"{")
        return status, json.loads(payload[start:payload.rfind(b"}") + 1]) if start >= 0 else {}


def test_proxy_protocol_gives_the_client_address(tmp_path: Path) -> None:
    async def body() -> None:
        sc = Scenario(tmp_path, delta=True)
        host = f"{sc.base}.1"
        try:
            await sc.start()
            sc.write({"policy.yaml": _policy("  proxyProtocol: {}\n")})
            status, seen = await until(lambda: _proxied(host, "198.51.100.9"), lambda r: r[0] == 200)  # type: ignore[index]
            assert status == 200
            # The address the PROXY header gave is the client's: appended to X-Forwarded-For, and
            # external.
            assert header(seen, "x-forwarded-for") == ["198.51.100.9"]
            assert header(seen, "x-envoy-external-address") == ["198.51.100.9"]
            # Not optional: a connection without the header is closed.
            assert (await loop_call(call, host))[0] == 0

            sc.write({"policy.yaml": _policy("  proxyProtocol: {optional: true}\n")})
            assert (await until(lambda: call(host), lambda r: r[0] == 200))[0] == 200  # type: ignore[index]
            assert (await loop_call(_proxied, host, "198.51.100.9"))[0] == 200  # type: ignore[index]
        finally:
            await sc.stop()
    run(body())


def test_custom_header_gives_the_client_address(tmp_path: Path) -> None:
    """clientIPDetection.customHeader with failClosed: the header's address is the client's; a
    request without it, or with something that is no address in it, is refused (403)."""
    async def body() -> None:
        sc = Scenario(tmp_path, delta=True)
        host = f"{sc.base}.1"
        try:
            await sc.start()
            sc.write({"policy.yaml": _policy("  clientIPDetection: {customHeader: {name: x-client-ip, failClosed: true}}\n")})
            status, _ = await until(lambda: call(host), lambda r: r[0] == 403)  # type: ignore[index]
            assert status == 403
            status, _ = await loop_call(call, host, "/", {"x-client-ip": "not-an-address"})  # type: ignore[misc]
            assert status == 403
            status, _ = await loop_call(call, host, "/", {"x-client-ip": "198.51.100.4"})  # type: ignore[misc]
            assert status == 200
        finally:
            await sc.stop()
    run(body())


def _client_pki(tmp: Path) -> tuple[str, Path, Path]:
    """A CA (its PEM) and a client certificate it signed (files: certificate, key)."""
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "client ca")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
          .serial_number(1).not_valid_before(now - datetime.timedelta(days=1))
          .not_valid_after(now + datetime.timedelta(days=1))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "client")]))
            .issuer_name(ca_name).public_key(key.public_key()).serial_number(2)
            .not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(now + datetime.timedelta(days=1))
            .sign(ca_key, hashes.SHA256()))
    cert_file, key_file = tmp / "client.crt", tmp / "client.key"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return ca.public_bytes(serialization.Encoding.PEM).decode(), cert_file, key_file


def _mtls_status(host: str, client: tuple[Path, Path] | None) -> str:
    """"200" when a GET over TLS (with the client certificate `client`, if any) succeeds."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    if client is not None:
        ctx.load_cert_chain(str(client[0]), str(client[1]))
    conn = http.client.HTTPSConnection(host, HTTPS_PORT, timeout=5, context=ctx)
    try:
        conn.request("GET", "/", headers={"host": "example.org"})
        return str(conn.getresponse().status)
    except (OSError, http.client.HTTPException) as exc:
        return f"error: {exc!r}"
    finally:
        conn.close()


def _mtls_echo(host: str, client: tuple[Path, Path]) -> dict:
    """The echo's JSON for a GET over TLS with a client certificate ({} when it failed)."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.load_cert_chain(str(client[0]), str(client[1]))
    conn = http.client.HTTPSConnection(host, HTTPS_PORT, timeout=5, context=ctx)
    try:
        conn.request("GET", "/", headers={"host": "example.org"})
        resp = conn.getresponse()
        data = resp.read()
        return json.loads(data) if resp.status == 200 else {}
    except (OSError, http.client.HTTPException, json.JSONDecodeError):
        return {}
    finally:
        conn.close()


def test_client_certificates_validated_on_one_listener(tmp_path: Path) -> None:
    """tls.clientValidation against a ConfigMap's ca.crt: a client without a certificate is
    refused, one with a certificate the CA signed is served; optional lets the first in too."""
    async def body() -> None:
        sc = Scenario(tmp_path, delta=True)
        host = f"{sc.base}.1"
        ca, cert, key = _client_pki(tmp_path)
        indent = "\n    "
        config_map = f"""apiVersion: v1
kind: ConfigMap
metadata: {{name: client-ca, namespace: e2e}}
data:
  ca.crt: |{indent}{indent.join(ca.strip().splitlines())}
"""
        sc.write({"gateway.yaml": _https_gateway(sc.base), "ca.yaml": config_map})
        try:
            await sc.start()
            assert await until(lambda: _mtls_status(host, None), lambda s: s == "200") == "200"
            validation = "  tls: {clientValidation: {caCertificateRefs: [{kind: ConfigMap, name: client-ca}]}}\n"
            sc.write({"policy.yaml": _policy(validation, section="https")})
            refused = await until(lambda: _mtls_status(host, None), lambda s: s != "200")
            assert str(refused).startswith("error:"), refused
            assert await loop_call(_mtls_status, host, (cert, key)) == "200"
            # The backend is told who the client is (xForwardedClientCert SanitizeSet, Subject).
            xfcc = "  headers: {xForwardedClientCert: {mode: SanitizeSet, certDetailsToAdd: [Subject]}}\n"
            sc.write({"policy.yaml": _policy(validation + xfcc, section="https")})
            seen = await until(lambda: _mtls_echo(host, (cert, key)), lambda b: bool(header(b, "x-forwarded-client-cert")))
            (forwarded,) = header(seen, "x-forwarded-client-cert")  # type: ignore[arg-type]
            assert 'Subject="CN=client"' in forwarded, forwarded

            optional = validation.replace("{caCertificateRefs", "{optional: true, caCertificateRefs")
            sc.write({"policy.yaml": _policy(optional, section="https")})
            assert await until(lambda: _mtls_status(host, None), lambda s: s == "200") == "200"
            assert await loop_call(_mtls_status, host, (cert, key)) == "200"
        finally:
            await sc.stop()
    run(body())


def _incomplete_request(host: str) -> int:
    """The status Envoy answers a request whose body never arrives in full (0: none before the
    socket's own timeout)."""
    s = socket.create_connection((host, LISTEN_PORT), timeout=4)
    try:
        s.sendall(f"POST / HTTP/1.1\r\nHost: {host}\r\nContent-Length: 100\r\n\r\npartial".encode())
        data = s.recv(65536)
        return int(data.split()[1]) if data.startswith(b"HTTP/1.1 ") else 0
    except OSError:
        return 0
    finally:
        s.close()


def _closed_when_idle(host: str) -> bool:
    """Whether Envoy closes a kept-alive connection left idle (before the socket's timeout)."""
    s = _open(host)
    s.settimeout(8)
    try:
        return s.recv(65536) == b""
    except OSError:
        return False
    finally:
        s.close()


def test_request_received_and_idle_timeouts(tmp_path: Path) -> None:
    """timeout.http: a request whose body never completes gets 408 (requestReceivedTimeout), and an
    idle kept-alive connection is closed (idleTimeout), both well before the client gives up."""
    async def body() -> None:
        sc = Scenario(tmp_path, delta=True)
        host = f"{sc.base}.1"
        try:
            await sc.start()
            # Without a policy Envoy keeps waiting for the body (no answer before the client's timeout).
            assert await loop_call(_incomplete_request, host) == 0
            sc.write({"policy.yaml": _policy("  timeout: {http: {requestReceivedTimeout: 1s, idleTimeout: 1s}}\n")})
            assert await until(lambda: _incomplete_request(host), lambda status: status == 408, timeout=30) == 408
            assert await loop_call(_closed_when_idle, host) is True
        finally:
            await sc.stop()
    run(body())


TCP_PORT, TCP_BACKEND_PORT = 9310, 9311


class HoldingBackend:
    """A TCP backend that echoes what it gets and keeps every connection open until the peer
    closes it (so only an idle timeout ends an idle one)."""

    def __init__(self, address: str) -> None:
        self.server = socket.create_server((address, TCP_BACKEND_PORT))
        self.server.settimeout(0.2)
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while not self.stopped.is_set():
            try:
                conn, _ = self.server.accept()
            except OSError:
                continue
            threading.Thread(target=self._echo, args=(conn,), daemon=True).start()

    def _echo(self, conn: socket.socket) -> None:
        conn.settimeout(0.2)
        with conn:
            while not self.stopped.is_set():
                try:
                    data = conn.recv(1024)
                except TimeoutError:
                    continue
                except OSError:
                    return
                if not data:
                    return
                conn.sendall(data)

    def stop(self) -> None:
        self.stopped.set()
        self.thread.join(5)
        self.server.close()


def _tcp_closed_when_idle(host: str, wait: float) -> bool | None:
    """Whether Envoy closes an idle TCP proxy connection within `wait` seconds after one echo
    (None: the echo did not come back, the route is not served yet)."""
    try:
        with socket.create_connection((host, TCP_PORT), timeout=5) as s:
            s.sendall(b"hello")
            if s.recv(1024) != b"hello":
                return None
            s.settimeout(wait)
            try:
                return s.recv(1024) == b""
            except TimeoutError:
                return False
    except OSError:
        return None


def test_tcp_idle_timeout_closes_an_idle_tcp_connection(tmp_path: Path) -> None:
    async def body() -> None:
        sc = Scenario(tmp_path, delta=True)
        host = f"{sc.base}.1"
        backend_address = f"{sc.base}.41"
        gateway = _https_gateway(sc.base).replace(
            f"  - {{name: https, port: {HTTPS_PORT}",
            f"  - {{name: tcp, port: {TCP_PORT}, protocol: TCP}}\n  - {{name: https, port: {HTTPS_PORT}")
        sc.write({"gateway.yaml": gateway, "tcp.yaml": f"""apiVersion: gateway.networking.k8s.io/v1alpha2
kind: TCPRoute
metadata: {{name: tcp, namespace: e2e}}
spec:
  parentRefs: [{{name: gw, sectionName: tcp}}]
  rules: [{{backendRefs: [{{name: holding, port: {TCP_BACKEND_PORT}}}]}}]
---
apiVersion: v1
kind: Service
metadata: {{name: holding, namespace: e2e}}
spec: {{ports: [{{name: tcp, port: {TCP_BACKEND_PORT}, targetPort: {TCP_BACKEND_PORT}}}]}}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {{name: holding-1, namespace: e2e, labels: {{kubernetes.io/service-name: holding}}}}
addressType: IPv4
ports: [{{name: tcp, port: {TCP_BACKEND_PORT}, protocol: TCP}}]
endpoints: [{{addresses: ["{backend_address}"]}}]
"""})
        backend = HoldingBackend(backend_address)
        try:
            await sc.start()
            # Without a policy an idle connection stays open (Envoy's default is an hour).
            assert await until(lambda: _tcp_closed_when_idle(host, 2), lambda closed: closed is False) is False
            sc.write({"policy.yaml": _policy("  timeout: {tcp: {idleTimeout: 1s}}\n")})
            assert await until(lambda: _tcp_closed_when_idle(host, 8), lambda closed: closed is True, timeout=40) is True
        finally:
            backend.stop()
            await sc.stop()
    run(body())


def _server_h2_settings(host: str) -> dict[int, int]:
    """The SETTINGS Envoy's HTTP/2 (h2c, prior knowledge) side sends a new connection ({} when
    none came)."""
    conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True))
    conn.initiate_connection()
    try:
        with socket.create_connection((host, LISTEN_PORT), timeout=5) as s:
            s.sendall(conn.data_to_send())
            for _ in range(10):
                data = s.recv(65536)
                if not data:
                    return {}
                for event in conn.receive_data(data):
                    if isinstance(event, h2.events.RemoteSettingsChanged):
                        return {int(k): v.new_value for k, v in event.changed_settings.items()}
    except OSError:
        return {}
    return {}


def test_http2_settings_advertised(tmp_path: Path) -> None:
    """http2.maxConcurrentStreams and initialStreamWindowSize are what Envoy tells an HTTP/2
    client in its SETTINGS."""
    async def body() -> None:
        sc = Scenario(tmp_path, delta=True)
        host = f"{sc.base}.1"
        max_streams = h2.settings.SettingCodes.MAX_CONCURRENT_STREAMS
        window = h2.settings.SettingCodes.INITIAL_WINDOW_SIZE
        try:
            await sc.start()
            before = await loop_call(_server_h2_settings, host)
            assert before.get(max_streams) != 7  # type: ignore[union-attr]
            sc.write({"policy.yaml": _policy("  http2: {maxConcurrentStreams: 7, initialStreamWindowSize: 128Ki}\n")})
            after = await until(lambda: _server_h2_settings(host), lambda s: s.get(max_streams) == 7)  # type: ignore[attr-defined]
            assert after.get(max_streams) == 7 and after.get(window) == 131072  # type: ignore[union-attr]
        finally:
            await sc.stop()
    run(body())


# -- gRPC-Web -------------------------------------------------------------------------------------

CHECK = "/envoy.service.auth.v3.Authorization/Check"


def _grpc_web_check(host: str, decide: str) -> tuple[int, int | None, int | None]:
    """One gRPC-Web call (HTTP/1.1, application/grpc-web+proto) of Envoy's Authorization/Check:
    (HTTP status, the answer's CheckResponse status code, its grpc-status trailer); None where
    the answer carries no gRPC-Web message or trailers."""
    request = external_auth_pb2.CheckRequest()
    request.attributes.request.http.headers["x-decide"] = decide
    payload = request.SerializeToString()
    conn = http.client.HTTPConnection(host, LISTEN_PORT, timeout=10)
    try:
        conn.request("POST", CHECK, body=b"\x00" + len(payload).to_bytes(4, "big") + payload,
                     headers={"content-type": "application/grpc-web+proto", "x-grpc-web": "1"})
        resp = conn.getresponse()
        data = resp.read()
    finally:
        conn.close()
    code = trailer = None
    for _ in range(4):  # the frames of a unary answer: a message, then the trailers (bounded)
        if len(data) < 5:
            break
        flag, size = data[0], int.from_bytes(data[1:5], "big")
        frame, data = data[5:5 + size], data[5 + size:]
        if flag == 0:
            answer = external_auth_pb2.CheckResponse()
            answer.ParseFromString(frame)
            code = answer.status.code
        elif flag & 0x80:
            fields = dict(line.split(":", 1) for line in frame.decode().split("\r\n") if ":" in line)
            trailer = int(fields["grpc-status"].strip()) if "grpc-status" in fields else None
    return resp.status, code, trailer


def test_grpc_web_reaches_a_grpc_backend(tmp_path: Path) -> None:
    """grpc.enableWeb: a gRPC-Web call (HTTP/1.1) to a gRPC backend is translated to gRPC and its
    answer back to gRPC-Web (message and trailers in the body); without the policy it reaches the
    backend as it came, and no gRPC-Web answer comes back."""
    async def body() -> None:
        sc = Scenario(tmp_path, delta=True)
        host = f"{sc.base}.1"
        server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
        external_auth_pb2_grpc.add_AuthorizationServicer_to_server(_GrpcAuthz(), server)
        port = server.add_insecure_port(f"{sc.base}.71:0")
        server.start()
        sc.write({"authz.yaml": service_yaml("authz", 9000, port, [endpoint_yaml(f"{sc.base}.71", pod="authz-71",
                                                                                   ready=True)], port_name="grpc")
                  # An HTTPRoute (the harness's HTTPRoutes hold every hostname of the listener, which
                  # a GRPCRoute may not share): the backend's port, named grpc, is spoken HTTP/2.
                  + "---\n" + """apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: authz, namespace: e2e}
spec:
  parentRefs: [{name: gw}]
  rules: [{matches: [{path: {value: /envoy.service.auth.v3.Authorization}}], backendRefs: [{name: authz, port: 9000}]}]
"""})
        try:
            await sc.start()
            before = await until(lambda: _grpc_web_check(host, "allow"), lambda r: r[0] != 404)
            assert before[1:] == (None, None), before  # type: ignore[index]
            sc.write({"policy.yaml": _policy("  grpc: {enableWeb: true}\n")})
            allowed = await until(lambda: _grpc_web_check(host, "allow"), lambda r: r[1] is not None)
            assert allowed == (200, 0, 0), allowed
            denied = await loop_call(_grpc_web_check, host, "deny")
            assert denied == (200, 7, 0), denied  # the service's own answer: PERMISSION_DENIED inside OK
        finally:
            await sc.stop()
            server.stop(None)
    run(body())
