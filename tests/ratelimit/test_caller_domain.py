"""Over xDS's mutual TLS, the rate limit service counts a caller only against the domain of a
Gateway its client certificate names: a real grpc.aio server with meshgate's TLS, real client
certificates from meshgate's PKI, the servicer wired as `meshgate run` wires it."""

from __future__ import annotations

import asyncio

import grpc
import pytest
from envoy.extensions.common.ratelimit.v3 import ratelimit_pb2
from envoy.service.ratelimit.v3 import rls_pb2, rls_pb2_grpc

from meshgate.naming import gateway_domain
from meshgate.ratelimit.service import OK, RateLimitServicer
from meshgate.runtime.pki import issue_gateway, issue_server, new_authority
from meshgate.xds.cache import SnapshotCache
from meshgate.xds.server import AggregatedDiscoveryService, start_server
from meshgate.xds.tls import ServerTLS, peer_gateways

MINE, OTHER = gateway_domain("shop", "web"), gateway_domain("bank", "web")


def _request(domain: str) -> rls_pb2.RateLimitRequest:
    d = ratelimit_pb2.RateLimitDescriptor(entries=[ratelimit_pb2.RateLimitDescriptor.Entry(key="k", value="v")])
    return rls_pb2.RateLimitRequest(domain=domain, descriptors=[d])


def test_a_proxy_counts_against_its_own_gateway_only() -> None:
    async def body() -> None:
        ca = new_authority()
        server_cert = issue_server(ca, ["127.0.0.1"])
        servicer = RateLimitServicer()  # no limits: every allowed request is answered OK
        servicer.caller_gateways = lambda context: peer_gateways(context.auth_context())
        ads = AggregatedDiscoveryService(SnapshotCache())
        server, port = await start_server(ads, "127.0.0.1", 0,
                                          ServerTLS(((server_cert.private_key, server_cert.certificate),),
                                                    ca.certificate_pem), services=[servicer.add_to_server])
        client = issue_gateway(ca, "shop/web")
        creds = grpc.ssl_channel_credentials(ca.certificate_pem, client.private_key, client.certificate)
        try:
            async with grpc.aio.secure_channel(f"127.0.0.1:{port}", creds) as channel:
                stub = rls_pb2_grpc.RateLimitServiceStub(channel)
                answer = await stub.ShouldRateLimit(_request(MINE), timeout=10)
                assert answer.overall_code == OK
                with pytest.raises(grpc.aio.AioRpcError) as refused:
                    await stub.ShouldRateLimit(_request(OTHER), timeout=10)
                assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED
                assert "shop/web" in (refused.value.details() or "")
        finally:
            await server.stop(None)
    asyncio.run(asyncio.wait_for(body(), 60))
