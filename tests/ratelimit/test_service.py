"""The RateLimitService over real gRPC on 127.0.0.1 (ratelimit/service.py): per-descriptor
statuses with the limit, what remains and when it resets; OVER_LIMIT overall when any
descriptor is over; distinct values apart; the table swapped by update(); bad requests refused."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import grpc
import pytest
from envoy.extensions.common.ratelimit.v3 import ratelimit_pb2
from envoy.service.ratelimit.v3 import rls_pb2, rls_pb2_grpc

from meshgate import ir
from meshgate.ratelimit.counters import MemoryCounterStore
from meshgate.ratelimit.descriptors import ROUTE_RULE_KEY, rule_name
from meshgate.ratelimit.limits import build_table
from meshgate.ratelimit.service import RateLimitServicer

OK = rls_pb2.RateLimitResponse.OK
OVER = rls_pb2.RateLimitResponse.OVER_LIMIT
SOURCE = ir.SourceRef("BackendTrafficPolicy", "gateway.envoyproxy.io/v1alpha1", "ns", "policy")
DOMAIN = "ns/gw"


def table(requests: int = 2):
    rules = (ir.RateLimitRule(requests, 60, headers=(ir.HeaderSelector("x-user", "Distinct"),)),
             ir.RateLimitRule(100, 3600))
    return build_table({DOMAIN: [("r", ir.RateLimit("Global", rules, SOURCE))]})


def descriptor(*entries: tuple[str, str]) -> ratelimit_pb2.RateLimitDescriptor:
    return ratelimit_pb2.RateLimitDescriptor(
        entries=[ratelimit_pb2.RateLimitDescriptor.Entry(key=k, value=v) for k, v in entries])


def user(name: str) -> ratelimit_pb2.RateLimitDescriptor:
    return descriptor((ROUTE_RULE_KEY, rule_name("r", 0)), ("header-0", name))


WIDE = descriptor((ROUTE_RULE_KEY, rule_name("r", 1)))


Body = Callable[[rls_pb2_grpc.RateLimitServiceStub, RateLimitServicer], Awaitable[None]]


def serve(body: Body) -> None:
    """Run `body` against the service on 127.0.0.1 (a free port), at a fixed time (20 s into a
    minute: no window ends during the test)."""
    async def main() -> None:
        servicer = RateLimitServicer(table(), MemoryCounterStore(clock=lambda: 1_000_000.0))
        server = grpc.aio.server()
        servicer.add_to_server(server)
        port = server.add_insecure_port("127.0.0.1:0")
        await server.start()
        try:
            async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
                await asyncio.wait_for(body(rls_pb2_grpc.RateLimitServiceStub(channel), servicer), 30)
        finally:
            await server.stop(None)
    asyncio.run(main())


def test_over_limit_after_n_requests_and_distinct_values_apart() -> None:
    async def body(stub, servicer) -> None:
        codes = []
        for _ in range(3):
            r = await stub.ShouldRateLimit(rls_pb2.RateLimitRequest(domain=DOMAIN, descriptors=[user("alice")]))
            codes.append(r.overall_code)
            status = r.statuses[0]
        assert codes == [OK, OK, OVER]
        assert status.code == OVER and status.limit_remaining == 0
        assert (status.current_limit.requests_per_unit, status.current_limit.unit) == (
            2, rls_pb2.RateLimitResponse.RateLimit.MINUTE)
        assert status.current_limit.name == rule_name("r", 0)
        assert status.duration_until_reset.seconds == 20  # 1_000_000 is 40 s into its minute
        r = await stub.ShouldRateLimit(rls_pb2.RateLimitRequest(domain=DOMAIN, descriptors=[user("bob")]))
        assert r.overall_code == OK and r.statuses[0].limit_remaining == 1
    serve(body)


def test_overall_over_when_any_descriptor_is_and_unknown_ones_pass() -> None:
    async def body(stub, servicer) -> None:
        request = rls_pb2.RateLimitRequest(domain=DOMAIN, descriptors=[WIDE, user("carol"), descriptor(("x", "y"))])
        first = await stub.ShouldRateLimit(request)
        assert first.overall_code == OK
        assert [s.code for s in first.statuses] == [OK, OK, OK]
        assert [s.limit_remaining for s in first.statuses] == [99, 1, 0]
        assert not first.statuses[2].HasField("current_limit")  # no limit for that descriptor
        await stub.ShouldRateLimit(request)
        third = await stub.ShouldRateLimit(request)
        assert third.overall_code == OVER
        assert [s.code for s in third.statuses] == [OK, OVER, OK]
        assert third.statuses[0].limit_remaining == 97  # counted even when another is over
    serve(body)


def test_hits_addend_per_request_and_per_descriptor() -> None:
    async def body(stub, servicer) -> None:
        r = await stub.ShouldRateLimit(rls_pb2.RateLimitRequest(domain=DOMAIN, descriptors=[WIDE], hits_addend=10))
        assert r.statuses[0].limit_remaining == 90
        looking = descriptor((ROUTE_RULE_KEY, rule_name("r", 1)))
        looking.hits_addend.value = 0
        r = await stub.ShouldRateLimit(rls_pb2.RateLimitRequest(domain=DOMAIN, descriptors=[looking]))
        assert r.statuses[0].limit_remaining == 90
    serve(body)


def test_update_swaps_the_table_and_keeps_counts() -> None:
    async def body(stub, servicer) -> None:
        request = rls_pb2.RateLimitRequest(domain=DOMAIN, descriptors=[user("dave")])
        await stub.ShouldRateLimit(request)
        await stub.ShouldRateLimit(request)
        servicer.update(table(requests=5))
        r = await stub.ShouldRateLimit(request)
        assert r.overall_code == OK and r.statuses[0].limit_remaining == 2
        servicer.update(build_table({}))
        r = await stub.ShouldRateLimit(request)
        assert r.overall_code == OK and not r.statuses[0].HasField("current_limit")
    serve(body)


def test_unknown_domain_passes() -> None:
    async def body(stub, servicer) -> None:
        r = await stub.ShouldRateLimit(rls_pb2.RateLimitRequest(domain="other/gw", descriptors=[user("x")] * 5))
        assert r.overall_code == OK and len(r.statuses) == 5
    serve(body)


@pytest.mark.parametrize("request_", [
    rls_pb2.RateLimitRequest(descriptors=[WIDE]),
    rls_pb2.RateLimitRequest(domain=DOMAIN),
    rls_pb2.RateLimitRequest(domain=DOMAIN, descriptors=[WIDE] * 65),
])
def test_bad_requests_are_refused(request_: rls_pb2.RateLimitRequest) -> None:
    async def body(stub, servicer) -> None:
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await stub.ShouldRateLimit(request_)
        assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    serve(body)
