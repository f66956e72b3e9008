"""A DestinationRule with tls.mode MUTUAL through a real Envoy: the client certificate reaches
Envoy over SDS (never inline in the cluster) and Envoy presents it to an upstream that requires
client certificates."""

from __future__ import annotations

import asyncio
import json
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from meshgate.runtime.pki import issue_gateway, issue_server, new_authority, write_issued
from meshgate.runtime.run import Runner, RunOptions

from .harness import LISTEN_PORT, endpoint_yaml, free_subnet, gateway_yaml, get, service_yaml

pytestmark = pytest.mark.envoy

UPSTREAM_PORT = 8443
CLIENT_ID = "spiffe://meshgate.local/ns/e2e/gateway/upstream-client"
CLIENT_SECRET = "client/e2e/backend-mtls"


def _indent(pem: bytes) -> str:
    return "".join(f"    {line}\n" for line in pem.decode().strip().splitlines())


def _config(base: str, ca: bytes, cert: bytes, key: bytes) -> str:
    backend = service_yaml("backend", 443, UPSTREAM_PORT, [endpoint_yaml(f"{base}.21")], port_name="https")
    return f"""{gateway_yaml(base)}---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {{name: r, namespace: e2e}}
spec:
  parentRefs: [{{name: gw}}]
  rules:
  - backendRefs: [{{name: backend, port: 443}}]
---
{backend}---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {{name: backend, namespace: e2e}}
spec:
  host: backend
  trafficPolicy:
    tls: {{mode: MUTUAL, credentialName: backend-mtls, subjectAltNames: [backend.e2e.svc.cluster.local]}}
---
apiVersion: v1
kind: Secret
metadata: {{name: backend-mtls, namespace: e2e}}
type: kubernetes.io/tls
stringData:
  ca.crt: |
{_indent(ca)}  tls.crt: |
{_indent(cert)}  tls.key: |
{_indent(key)}"""


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        peer = self.connection.getpeercert() or {}  # type: ignore[attr-defined]
        uris = [v for k, v in peer.get("subjectAltName", ()) if k == "URI"]
        body = json.dumps({"client": uris}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def _upstream(address: str, directory: Path) -> ThreadingHTTPServer:
    """An HTTPS server on `address` that requires a client certificate signed by the test CA."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(directory / "server.crt", directory / "server.key")
    ctx.load_verify_locations(directory / "ca.crt")
    ctx.verify_mode = ssl.CERT_REQUIRED
    server = ThreadingHTTPServer((address, UPSTREAM_PORT), _Handler)
    server.socket = ctx.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def test_envoy_presents_the_client_certificate_it_got_over_sds(tmp_path: Path) -> None:
    base = free_subnet()
    ca = new_authority("upstream CA")
    pki = tmp_path / "pki"
    write_issued(pki, "server", issue_server(ca, ["backend.e2e.svc.cluster.local"]))
    (pki / "ca.crt").write_bytes(ca.certificate_pem)
    client = issue_gateway(ca, "e2e/upstream-client")
    config = tmp_path / "config"
    config.mkdir()
    (config / "all.yaml").write_text(_config(base, ca.certificate_pem, client.certificate, client.private_key))
    upstream = _upstream(f"{base}.21", pki)

    async def body() -> None:
        runner = Runner(RunOptions([str(config)], xds_port=0, debug_port=0, workdir=tmp_path / "work"),
                        say=lambda line: None)
        try:
            await runner.start()
            loop = asyncio.get_running_loop()
            url = f"http://{base}.1:{LISTEN_PORT}/"
            reply = await loop.run_in_executor(None, get, url)
            deadline = loop.time() + 15
            while reply.status != 200 and loop.time() < deadline:
                await asyncio.sleep(0.05)
                reply = await loop.run_in_executor(None, get, url)
            assert reply.status == 200, reply
            assert reply.body == {"client": [CLIENT_ID]}  # the upstream saw Envoy's client certificate
            envoy = runner.envoys["e2e/gw"]
            dump = json.loads(await envoy.admin_get("/config_dump?resource=dynamic_active_secrets"))
            names = [s["name"] for s in dump.get("configs", [])]  # {} when there is none
            assert names == [CLIENT_SECRET]  # received over SDS
            clusters = json.loads(await envoy.admin_get("/config_dump?resource=dynamic_active_clusters"))
            (cluster,) = [c["cluster"] for c in clusters["configs"] if c["cluster"]["name"].startswith("outbound|443")]
            tls = cluster["transport_socket"]["typed_config"]["common_tls_context"]
            assert "tls_certificates" not in tls
            assert [s["name"] for s in tls["tls_certificate_sds_secret_configs"]] == [CLIENT_SECRET]
        finally:
            await runner.stop()

    try:
        asyncio.run(asyncio.wait_for(body(), 90))
    finally:
        upstream.shutdown()
        upstream.server_close()
