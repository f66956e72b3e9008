"""Authenticated xDS: over mutual TLS a proxy gets only the Gateway its client certificate names.

A gRPC client plays Envoy with certificates issued by a test CA (`meshgate.runtime.pki`): the
quickstart's Gateway quickstart/web (A) and a second Gateway quickstart/vault (B) with an HTTPS
listener whose private key is served over SDS.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Self

import grpc
import pytest
from envoy.config.listener.v3 import listener_pb2
from envoy.extensions.transport_sockets.tls.v3 import secret_pb2
from google.protobuf import any_pb2

from meshgate.runtime.pki import Authority, issue_client, issue_gateway, issue_server, new_authority
from meshgate.xds.resources import CLUSTER, LISTENER, SECRET
from meshgate.xds.server import AggregatedDiscoveryService, start_server
from meshgate.xds.tls import ServerTLS

from .harness import GATEWAY, ControlPlaneUnderTest, FakeEnvoy, node

OTHER = "quickstart/vault"
OTHER_SECRET = "quickstart/vault-cert"


def _indent(pem: bytes) -> str:
    return "".join(f"    {line}\n" for line in pem.decode().strip().splitlines())


def _vault(ca: Authority) -> str:
    cert = issue_server(ca, ["vault.example.com"])
    return f"""apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {{name: vault, namespace: quickstart}}
spec:
  gatewayClassName: meshgate
  listeners:
  - name: https
    port: 18443
    protocol: HTTPS
    hostname: vault.example.com
    tls: {{certificateRefs: [{{name: vault-cert}}]}}
---
apiVersion: v1
kind: Secret
metadata: {{name: vault-cert, namespace: quickstart}}
type: kubernetes.io/tls
stringData:
  tls.crt: |
{_indent(cert.certificate)}  tls.key: |
{_indent(cert.private_key)}"""


class TLSControlPlane(ControlPlaneUnderTest):
    """The quickstart plus Gateway B, served over mutual TLS with certificates from `ca`."""

    def __init__(self, workdir: Path, ca: Authority) -> None:
        super().__init__(workdir)
        self.ca = ca
        (self.dir / "vault.yaml").write_text(_vault(ca))
        server = issue_server(ca, ["127.0.0.1"])
        self.tls = ServerTLS(((server.private_key, server.certificate),), ca.certificate_pem)

    async def __aenter__(self) -> Self:
        self.control.load()
        assert not self.control.errors, self.control.errors
        service = AggregatedDiscoveryService(self.cache, self.registry, self.metrics, resolve=self.control.resolve)
        self.server, self.port = await start_server(service, "127.0.0.1", 0, self.tls)
        return self

    def tls_channel(self, gateway: str | None, ca: Authority | None = None) -> grpc.aio.Channel:
        """A channel presenting a client certificate for `gateway` (issued by `ca`, default the
        server's own CA), or none."""
        client = issue_gateway(ca or self.ca, gateway) if gateway else None
        creds = grpc.ssl_channel_credentials(self.ca.certificate_pem, client.private_key if client else None,
                                             client.certificate if client else None)
        return grpc.aio.secure_channel(f"127.0.0.1:{self.port}", creds)


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 60))


def _names(resp, cls) -> list[str]:
    """Resource names of a response (SotW: packed messages; Delta: named resources)."""
    out = []
    for r in resp.resources:
        if isinstance(r, any_pb2.Any):
            msg = cls()
            r.Unpack(msg)
            out.append(msg.name)
        else:
            out.append(r.name)
    return out


def _denied(cp: TLSControlPlane) -> float:
    return cp.metrics.denied_streams._value.get()


@pytest.mark.parametrize("delta", [False, True], ids=["sotw", "delta"])
def test_a_certificate_for_one_gateway_cannot_ask_as_another(tmp_path: Path, delta: bool) -> None:
    async def body() -> None:
        async with TLSControlPlane(tmp_path, new_authority()) as cp:
            # A's certificate, B in the node, B's private key asked for: refused, nothing sent.
            envoy = FakeEnvoy(cp.tls_channel(GATEWAY), delta=delta)
            names = {"resource_names_subscribe" if delta else "resource_names": [OTHER_SECRET]}
            await envoy.send(node=node(OTHER), type_url=SECRET, **names)
            with pytest.raises(grpc.aio.AioRpcError) as refused:
                await envoy.recv()
            assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED
            assert OTHER in refused.value.details() and GATEWAY in refused.value.details()
            await envoy.expect_nothing()
            await envoy.close()
            assert _denied(cp) == 1
            assert cp.registry.all() == []  # no stream was left serving

            # The same certificate asking as its own Gateway gets that Gateway's config.
            envoy = FakeEnvoy(cp.tls_channel(GATEWAY), delta=delta)
            await envoy.send(node=node(GATEWAY), type_url=CLUSTER)
            cds = await envoy.recv()
            assert cds.type_url == CLUSTER and len(cds.resources) == 2
            await envoy.close()

            # B's certificate gets B's listener and its key over SDS.
            envoy = FakeEnvoy(cp.tls_channel(OTHER), delta=delta)
            await envoy.send(node=node(OTHER), type_url=LISTENER)
            lds = await envoy.recv()
            assert _names(lds, listener_pb2.Listener) == ["0.0.0.0_18443"]
            await envoy.send(type_url=SECRET, **names)
            sds = await envoy.recv()
            assert _names(sds, secret_pb2.Secret) == [OTHER_SECRET]
            await envoy.close()
            assert _denied(cp) == 1
    run(body())


def test_no_client_certificate_or_an_untrusted_one_fails_the_handshake(tmp_path: Path) -> None:
    async def body() -> None:
        async with TLSControlPlane(tmp_path, new_authority()) as cp:
            for channel in (cp.tls_channel(None),  # TLS, but no client certificate
                            cp.tls_channel(GATEWAY, ca=new_authority("another CA")),  # not our CA
                            grpc.aio.insecure_channel(f"127.0.0.1:{cp.port}")):  # plaintext
                envoy = FakeEnvoy(channel, delta=True)
                await envoy.send(node=node(GATEWAY), type_url=CLUSTER)
                with pytest.raises(grpc.aio.AioRpcError) as failed:
                    await envoy.recv()
                assert failed.value.code() == grpc.StatusCode.UNAVAILABLE
                await envoy.close()
            assert cp.registry.all() == []
            assert _denied(cp) == 0  # refused by the handshake, before any stream
    run(body())


def test_a_certificate_naming_no_gateway_is_refused(tmp_path: Path) -> None:
    async def body() -> None:
        ca = new_authority()
        async with TLSControlPlane(tmp_path, ca) as cp:
            # A client certificate of the CA, but a workload's SPIFFE ID, not a Gateway's.
            stray = issue_client(ca, ["spiffe://meshgate.local/ns/quickstart/sa/web"], "web")
            creds = grpc.ssl_channel_credentials(ca.certificate_pem, stray.private_key, stray.certificate)
            envoy = FakeEnvoy(grpc.aio.secure_channel(f"127.0.0.1:{cp.port}", creds), delta=False)
            await envoy.send(node=node(GATEWAY), type_url=CLUSTER)
            with pytest.raises(grpc.aio.AioRpcError) as refused:
                await envoy.recv()
            assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED
            assert "no Gateway" in refused.value.details()
            await envoy.close()
    run(body())
