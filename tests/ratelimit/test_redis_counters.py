"""The Redis counter store (ratelimit/redis_counters.py) against a real redis-server: fixed windows
aligned to the unit, keys that expire with their window, several hits in one request, two stores
(two replicas) sharing counts; Redis stopped mid-test makes increments fail fast with
StoreUnavailable (logged once, the service answering UNAVAILABLE) and they work again when it is
back; URLs checked, passwords kept out of messages, `--rate-limit-redis` refused with its name."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

import grpc
import pytest
import redis
from click.testing import CliRunner
from envoy.extensions.common.ratelimit.v3 import ratelimit_pb2
from envoy.service.ratelimit.v3 import rls_pb2, rls_pb2_grpc

from meshgate import ir
from meshgate.cli import main
from meshgate.ratelimit.counters import Hit, StoreUnavailable
from meshgate.ratelimit.descriptors import ROUTE_RULE_KEY, rule_name
from meshgate.ratelimit.limits import build_table
from meshgate.ratelimit.redis_counters import (
    DEFAULT_PREFIX,
    RedisCounterStore,
    redacted,
    redis_key,
    redis_url_problem,
)
from meshgate.ratelimit.service import RateLimitServicer

from .redis_server import RedisServer

T0 = 1_000_020.0  # the start of a minute (16667 × 60)
A = ("ns/gw", "4:rule=r/0")
B = ("ns/gw", "4:rule=r/1", "8:header-0=alice")


class Clock:
    def __init__(self, now: float = T0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def run(body: Callable[[], Awaitable[None]]) -> None:
    asyncio.run(asyncio.wait_for(body(), 30))


def test_counts_in_fixed_windows_aligned_to_the_unit(redis_server: RedisServer) -> None:
    clock = Clock(T0 + 10)  # 10 s into a minute

    async def body() -> None:
        store = RedisCounterStore(redis_server.url, clock=clock)
        try:
            counts = [(await store.increment([Hit(A, 60)]))[0] for _ in range(3)]
            assert [w.count for w in counts] == [1, 2, 3]
            assert counts[0].reset_in_s == pytest.approx(50)
            clock.now = T0 + 59.5  # same window
            assert (await store.increment([Hit(A, 60)]))[0].count == 4
            clock.now = T0 + 60  # the next minute: from zero again
            window = (await store.increment([Hit(A, 60)]))[0]
            assert (window.count, window.reset_in_s) == (1, pytest.approx(60))
            # Another unit over the same entries counts apart.
            assert (await store.increment([Hit(A, 3600, amount=5)]))[0].count == 5
        finally:
            await store.aclose()
    run(body)


def test_keys_expire_with_their_window(redis_server: RedisServer) -> None:
    async def body() -> None:
        store = RedisCounterStore(redis_server.url)  # the real clock
        try:
            await store.increment([Hit(A, 1), Hit(B, 3600)])
        finally:
            await store.aclose()
    run(body)
    client = redis.Redis.from_url(redis_server.url)
    try:
        keys = sorted(client.keys(f"{DEFAULT_PREFIX}*"))
        assert len(keys) == 2
        ttls = {k: client.ttl(k) for k in keys}
        assert ttls[next(k for k in keys if k.startswith(b"meshgate:ratelimit:1:"))] <= 1
        assert 3590 < ttls[next(k for k in keys if k.startswith(b"meshgate:ratelimit:3600:"))] <= 3600
        deadline = time.monotonic() + 5
        while len(client.keys(f"{DEFAULT_PREFIX}1:*")) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert [k for k in client.keys(f"{DEFAULT_PREFIX}*")] == [k for k in keys if k.startswith(b"meshgate:ratelimit:3600:")]
    finally:
        client.close()


def test_several_hits_in_one_request(redis_server: RedisServer) -> None:
    async def body() -> None:
        store = RedisCounterStore(redis_server.url, clock=Clock())
        try:
            windows = await store.increment([Hit(A, 60), Hit(B, 60), Hit(A, 60, amount=2), Hit(B, 60, amount=0)])
            assert [w.count for w in windows] == [1, 1, 3, 1]
            assert [w.count for w in await store.increment([Hit(B, 60, amount=0)])] == [1]  # only looks
            assert await store.increment([]) == []
        finally:
            await store.aclose()
    run(body)


def test_two_stores_on_one_redis_share_counts(redis_server: RedisServer) -> None:
    """Two replicas: each request counts once, whichever replica it reached."""
    async def body() -> None:
        clock = Clock()
        one, two = RedisCounterStore(redis_server.url, clock=clock), RedisCounterStore(redis_server.url, clock=clock)
        try:
            counts = []
            for i in range(6):
                counts.append((await (one if i % 2 else two).increment([Hit(B, 60)]))[0].count)
            assert counts == [1, 2, 3, 4, 5, 6]
            # Concurrent increments from both are each counted exactly once.
            results = await asyncio.gather(*(s.increment([Hit(A, 60)]) for s in [one, two] * 20))
            assert sorted(r[0].count for r in results) == list(range(1, 41))
            # A store with another prefix (another meshgate installation) counts apart.
            other = RedisCounterStore(redis_server.url, clock=clock, prefix="other:")
            try:
                assert (await other.increment([Hit(B, 60)]))[0].count == 1
            finally:
                await other.aclose()
        finally:
            await one.aclose()
            await two.aclose()
    run(body)


def test_keys_tell_buckets_apart() -> None:
    prefix = DEFAULT_PREFIX.encode()
    assert redis_key(prefix, 60, 120, ("a", "b:c")) != redis_key(prefix, 60, 120, ("a:b", "c"))
    assert redis_key(prefix, 60, 120, ("a",)) != redis_key(prefix, 3600, 120, ("a",))
    assert redis_key(prefix, 60, 120, ("a",)) != redis_key(prefix, 60, 180, ("a",))
    long = redis_key(prefix, 60, 120, ("ns/gw", "x" * 100_000))
    assert len(long) < 200  # a client-chosen value of any length is kept as a digest
    assert redis_key(prefix, 60, 120, ("ns/gw", "\udcff é")).startswith(prefix)  # any string encodes


def test_redis_down_fails_fast_logs_once_and_recovers(redis_server: RedisServer,
                                                      caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="meshgate.ratelimit.redis")

    async def body() -> None:
        store = RedisCounterStore(redis_server.url, clock=Clock())
        try:
            assert (await store.increment([Hit(A, 60)]))[0].count == 1
            assert await store.check() is None
            redis_server.stop()
            for _ in range(3):
                started = time.monotonic()
                with pytest.raises(StoreUnavailable) as caught:
                    await store.increment([Hit(A, 60)])
                assert time.monotonic() - started < 1.5  # before Envoy's 1 s... plus a margin for CI
                assert "127.0.0.1" in str(caught.value)
            assert store.failures == 3
            assert await store.check() is not None
            errors = [r for r in caplog.records if r.levelno == logging.ERROR]
            assert len(errors) == 1 and "unreachable" in errors[0].getMessage()
            redis_server.start()  # same port, empty (no persistence)
            assert (await store.increment([Hit(A, 60)]))[0].count == 1
            assert any("reachable again" in r.getMessage() for r in caplog.records if r.levelno == logging.WARNING)
        finally:
            await store.aclose()
    run(body)


def _request(name: str) -> rls_pb2.RateLimitRequest:
    entries = [(ROUTE_RULE_KEY, rule_name("r", 0)), ("header-0", name)]
    return rls_pb2.RateLimitRequest(domain="ns/gw", descriptors=[ratelimit_pb2.RateLimitDescriptor(
        entries=[ratelimit_pb2.RateLimitDescriptor.Entry(key=k, value=v) for k, v in entries])])


def test_the_service_answers_unavailable_while_redis_is_down(redis_server: RedisServer) -> None:
    """envoyproxy/ratelimit's answer to a Redis error: an error (Envoy's failure mode decides)."""
    source = ir.SourceRef("BackendTrafficPolicy", "gateway.envoyproxy.io/v1alpha1", "ns", "policy")
    rules = (ir.RateLimitRule(2, 60, headers=(ir.HeaderSelector("x-user", "Distinct"),)),)
    table = build_table({"ns/gw": [("r", ir.RateLimit("Global", rules, source))]})
    OK, OVER = rls_pb2.RateLimitResponse.OK, rls_pb2.RateLimitResponse.OVER_LIMIT

    async def body() -> None:
        store = RedisCounterStore(redis_server.url, clock=Clock())
        servicer = RateLimitServicer(table, store)
        failed: list[int] = []
        servicer.on_store_error = lambda: failed.append(1)
        server = grpc.aio.server()
        servicer.add_to_server(server)
        port = server.add_insecure_port("127.0.0.1:0")
        await server.start()
        try:
            async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
                stub = rls_pb2_grpc.RateLimitServiceStub(channel)
                codes = [(await stub.ShouldRateLimit(_request("alice"))).overall_code for _ in range(3)]
                assert codes == [OK, OK, OVER]
                redis_server.stop()
                with pytest.raises(grpc.aio.AioRpcError) as caught:
                    await stub.ShouldRateLimit(_request("alice"))
                assert caught.value.code() == grpc.StatusCode.UNAVAILABLE
                assert "rate limit counters unavailable" in (caught.value.details() or "")
                assert failed == [1]
                redis_server.start()
                codes = [(await stub.ShouldRateLimit(_request("alice"))).overall_code for _ in range(3)]
                assert codes == [OK, OK, OVER]  # counting again (Redis came back empty)
        finally:
            await server.stop(None)
            await store.aclose()
    run(body)


@pytest.mark.parametrize("url", ["redis://127.0.0.1:6379/0", "redis://:secret@cache.example:6380/2",
                                 "rediss://u:p@h/0", "unix:///run/redis.sock", "redis://[::1]:6379"])
def test_good_urls(url: str) -> None:
    assert redis_url_problem(url) is None


@pytest.mark.parametrize("url", ["127.0.0.1:6379", "http://h:6379", "redis://h:port/0", "redis://h:6379/db",
                                 "redis://", ""])
def test_bad_urls(url: str) -> None:
    assert redis_url_problem(url)
    with pytest.raises(ValueError):
        RedisCounterStore(url)


def test_passwords_stay_out_of_messages() -> None:
    assert redacted("redis://user:secret@cache:6380/2?x=1") == "redis://cache:6380/2"
    assert redacted("redis://:secret@[::1]:6379") == "redis://[::1]:6379"
    store = RedisCounterStore("redis://:secret@127.0.0.1:1/0")
    assert "secret" not in store.where


@pytest.mark.parametrize("command", ["run", "serve"])
def test_a_bad_url_on_the_command_line_names_the_option(command: str, tmp_path) -> None:
    result = CliRunner().invoke(main, [command, str(tmp_path), "--rate-limit-redis", "http://:hunter2@h:6379"])
    assert result.exit_code == 2
    assert "--rate-limit-redis" in result.output and "Redis URL" in result.output
    assert "hunter2" not in result.output
    # The same from the environment.
    result = CliRunner().invoke(main, [command, str(tmp_path)], env={"MESHGATE_RATE_LIMIT_REDIS": "nonsense"})
    assert result.exit_code == 2
    assert "rate-limit-redis" in result.output or "MESHGATE_RATE_LIMIT_REDIS" in result.output


def test_run_keeps_its_counters_in_redis_when_told(redis_server: RedisServer, tmp_path) -> None:
    """runtime/run.py: RunOptions.rate_limit_redis gives the service a Redis store, says where it
    is at start, says so too when Redis does not answer (serving xDS all the same; each request
    then an UNAVAILABLE answer, counted in meshgate_rate_limit_store_errors_total), and closes it."""
    from meshgate.runtime.run import Runner, RunOptions

    (tmp_path / "config").mkdir()
    source = ir.SourceRef("BackendTrafficPolicy", "gateway.envoyproxy.io/v1alpha1", "ns", "policy")
    table = build_table({"ns/gw": [("r", ir.RateLimit("Global", (
        ir.RateLimitRule(2, 60, headers=(ir.HeaderSelector("x-user", "Distinct"),)),), source))]})

    async def ask(runner: Runner) -> grpc.StatusCode:
        runner.rate_limits.update(table)  # as a translation with a Global policy would
        async with grpc.aio.insecure_channel(f"127.0.0.1:{runner.xds_port}") as channel:
            try:
                await rls_pb2_grpc.RateLimitServiceStub(channel).ShouldRateLimit(_request("alice"))
            except grpc.aio.AioRpcError as exc:
                return exc.code()
        return grpc.StatusCode.OK

    async def start_stop(url: str) -> tuple[Runner, list[str], grpc.StatusCode]:
        lines: list[str] = []
        runner = Runner(RunOptions([str(tmp_path / "config")], xds_port=0, debug_port=0, envoys=False,
                                   rate_limit_redis=url), say=lines.append)
        try:
            await runner.start()
            code = await ask(runner)
        finally:
            await runner.stop()
        return runner, lines, code

    def errors(runner: Runner) -> float | None:
        return runner.metrics.registry.get_sample_value("meshgate_rate_limit_store_errors_total")

    async def body() -> None:
        runner, lines, code = await start_stop(redis_server.url)
        assert isinstance(runner.counter_store, RedisCounterStore)
        assert f"meshgate: global rate limit counters in Redis at {redis_server.url}" in lines
        assert code == grpc.StatusCode.OK and errors(runner) == 0
        port = redis_server.port
        redis_server.stop()
        runner, lines, code = await start_stop(f"redis://127.0.0.1:{port}/0")
        assert any("not reachable now" in line for line in lines)
        assert code == grpc.StatusCode.UNAVAILABLE and errors(runner) == 1
        runner = Runner(RunOptions([str(tmp_path / "config")], envoys=False), say=lambda line: None)
        assert runner.counter_store is None  # in memory, as before
    run(body)
