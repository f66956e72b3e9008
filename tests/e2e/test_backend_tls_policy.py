"""BackendTLSPolicy through a real Envoy: an HTTPRoute's backends are one Python TLS server on a
127.x loopback address, whose certificate names backend.example.com, signed by the test CA.
Envoy re-encrypts to it: with the right CA and hostname the request succeeds (and the server sees
the policy's hostname as SNI); with another CA, another hostname or a subjectAltName the
certificate lacks, the handshake fails and Envoy answers 503. A policy whose CA ConfigMap does not
exist fails closed (503), and works once the ConfigMap is written (a live edit)."""

from __future__ import annotations

import asyncio
import json
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from meshgate.runtime.pki import issue_server, new_authority, write_issued
from meshgate.runtime.run import Runner, RunOptions

from .harness import LISTEN_PORT, endpoint_yaml, free_subnet, gateway_yaml, get, service_yaml

pytestmark = pytest.mark.envoy

UPSTREAM_PORT = 8443
SERVER_NAME = "backend.example.com"
# path (and Service) → (CA ConfigMap, hostname, subjectAltNames), the request's expected status.
CASES: dict[str, tuple[str, str, str, int]] = {
    "good": ("ca", SERVER_NAME, "", 200),
    "wrong-ca": ("other-ca", SERVER_NAME, "", 503),
    "wrong-host": ("ca", "other.example.com", "", 503),
    "san-mismatch": ("ca", SERVER_NAME, "[{type: Hostname, hostname: other.example.com}]", 503),
    "missing": ("late-ca", SERVER_NAME, "", 503),
}


def _config_map(name: str, pem: bytes) -> str:
    lines = "".join(f"    {line}\n" for line in pem.decode().strip().splitlines())
    return f"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: {name}, namespace: e2e}}\ndata:\n  ca.crt: |\n{lines}"


def _policy(name: str, config_map: str, hostname: str, sans: str) -> str:
    extra = f"\n    subjectAltNames: {sans}" if sans else ""
    return f"""apiVersion: gateway.networking.k8s.io/v1
kind: BackendTLSPolicy
metadata: {{name: {name}, namespace: e2e}}
spec:
  targetRefs: [{{group: "", kind: Service, name: {name}, sectionName: https}}]
  validation:
    caCertificateRefs: [{{group: "", kind: ConfigMap, name: {config_map}}}]
    hostname: {hostname}{extra}
"""


def _config(base: str, ca: bytes, other_ca: bytes) -> str:
    rules = "".join(f"  - matches: [{{path: {{type: PathPrefix, value: /{name}}}}}]\n"
                    f"    backendRefs: [{{name: {name}, port: 443}}]\n" for name in CASES)
    route = ("apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {name: r, namespace: e2e}\n"
             f"spec:\n  parentRefs: [{{name: gw}}]\n  rules:\n{rules}")
    docs = [gateway_yaml(base), route, _config_map("ca", ca), _config_map("other-ca", other_ca)]
    for name, (config_map, hostname, sans, _) in CASES.items():
        docs.append(service_yaml(name, 443, UPSTREAM_PORT, [endpoint_yaml(f"{base}.21")], port_name="https"))
        docs.append(_policy(name, config_map, hostname, sans))
    return "---\n".join(docs)


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = json.dumps({"path": self.path}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def _upstream(address: str, directory: Path, server_names: list[str]) -> ThreadingHTTPServer:
    """An HTTPS server on `address`; the SNI of each handshake is appended to `server_names`."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(directory / "server.crt", directory / "server.key")
    ctx.sni_callback = lambda sock, name, context: server_names.append(name or "")  # type: ignore[assignment,func-returns-value]
    server = ThreadingHTTPServer((address, UPSTREAM_PORT), _Handler)
    server.socket = ctx.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


async def _status_of(url: str, want: int, seconds: float = 15) -> int:
    """The status of GET `url`, asked again (bounded) until it is `want`: config arrives in steps."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    reply = await loop.run_in_executor(None, get, url)
    while reply.status != want and loop.time() < deadline:
        await asyncio.sleep(0.05)
        reply = await loop.run_in_executor(None, get, url)
    return reply.status


def test_backend_tls_policy_verifies_the_backend(tmp_path: Path) -> None:
    base = free_subnet()
    ca, other = new_authority("backend CA"), new_authority("another CA")
    pki = tmp_path / "pki"
    write_issued(pki, "server", issue_server(ca, [SERVER_NAME]))
    config = tmp_path / "config"
    config.mkdir()
    (config / "all.yaml").write_text(_config(base, ca.certificate_pem, other.certificate_pem))
    server_names: list[str] = []
    upstream = _upstream(f"{base}.21", pki, server_names)

    async def body() -> None:
        runner = Runner(RunOptions([str(config)], xds_port=0, debug_port=0, workdir=tmp_path / "work"),
                        say=lambda line: None)
        try:
            await runner.start()
            url = f"http://{base}.1:{LISTEN_PORT}"
            assert await _status_of(f"{url}/good", 200) == 200
            assert SERVER_NAME in server_names  # the policy's hostname, sent as SNI
            for name, (_, _, _, want) in CASES.items():
                assert await _status_of(f"{url}/{name}", want) == want, name
            # The missing CA appears: the cluster that failed closed now verifies and connects.
            (config / "late-ca.yaml").write_text(_config_map("late-ca", ca.certificate_pem))
            assert await _status_of(f"{url}/missing", 200) == 200
        finally:
            await runner.stop()

    try:
        asyncio.run(asyncio.wait_for(body(), 120))
    finally:
        upstream.shutdown()
        upstream.server_close()

