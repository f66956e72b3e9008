"""Counters in Redis: the store every meshgate replica shares (`--rate-limit-redis URL`), so a
global limit holds across replicas, counted as envoyproxy/ratelimit counts in Redis.

Fixed windows aligned to the unit on the wall clock (as counters.py; replicas agree on a window
as far as their clocks agree). One key per (unit, window start, bucket): the bucket is the
domain and the descriptor's entries (limits.Match.bucket; a long one as its digest,
counters.compact_bucket), each part length-prefixed, so no two buckets share a key. Per request,
one pipeline without MULTI (envoyproxy/ratelimit's `transaction=False`): for each hit INCRBY its
amount, then EXPIRE the window's length, so a key goes at most one window after its last hit.
The count INCRBY returns, after this request, decides; several replicas' increments of one key
are atomic in Redis, so their requests are counted once each.

Redis unreachable (refused, reset, slower than TIMEOUT_S, or an error reply): the request raises
counters.StoreUnavailable and the service answers it with a gRPC error, as envoyproxy/ratelimit
does; Envoy's rate limit filter then applies its failure mode (meshgate sets
`failure_mode_deny: false`, as Envoy Gateway: the request goes through). The first failure is
logged at ERROR with the reason, then at most once per LOG_EVERY_S while it lasts, and the
recovery once; nothing is counted while Redis is away (the windows restart where Redis stands).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from urllib.parse import urlsplit

from redis.asyncio import Redis
from redis.asyncio.connection import parse_url
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from .counters import Clock, Hit, StoreUnavailable, Window, compact_bucket

log = logging.getLogger("meshgate.ratelimit.redis")

DEFAULT_PREFIX = "meshgate:ratelimit:"
# One request's round trip to Redis at most (connect included): below the 1 s Envoy waits for the
# service (filter.TIMEOUT_S), so Envoy gets the service's error rather than its own timeout.
TIMEOUT_S = 0.5
LOG_EVERY_S = 30.0  # while Redis stays unreachable, one reminder per this many seconds


def redis_url_problem(url: str) -> str | None:
    """Why `url` is not a Redis URL redis-py can use (redis://, rediss:// or unix://), or None."""
    try:
        parse_url(url)
        parts = urlsplit(url)
        _ = parts.port  # a port that is not a number raises here
    except ValueError as exc:
        return str(exc)
    if parts.scheme in ("redis", "rediss"):
        if not parts.hostname:
            return "names no host (redis://HOST[:PORT][/DB])"
        if parts.path.strip("/") and not parts.path.strip("/").isdigit():  # redis-py would take db 0
            return f"database {parts.path.strip('/')!r} is not a number (redis://HOST[:PORT][/DB])"
    return None


def redacted(url: str) -> str:
    """`url` without its user and password, for logs and messages."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = parts.port
    except ValueError:
        return "<invalid Redis URL>"
    if ":" in host:
        host = f"[{host}]"
    netloc = f"{host}:{port}" if port else host
    return parts._replace(netloc=netloc, query="", fragment="").geturl()


def redis_key(prefix: bytes, unit_s: int, window_start: int, bucket: tuple[str, ...]) -> bytes:
    """The key of `bucket`'s window starting at `window_start` (seconds since the epoch)."""
    out = [prefix, b"%d:%d" % (unit_s, window_start)]
    for part in compact_bucket(bucket):
        data = part.encode("utf-8", "surrogatepass")
        out.append(b":%d:" % len(data))
        out.append(data)
    return b"".join(out)


class RedisCounterStore:
    """A CounterStore over Redis (redis-py's asyncio client); see the module docstring."""

    def __init__(self, url: str, *, prefix: str = DEFAULT_PREFIX, clock: Clock = time.time,
                 timeout_s: float = TIMEOUT_S) -> None:
        problem = redis_url_problem(url)
        if problem:
            raise ValueError(f"{redacted(url)}: {problem}")
        self.where = redacted(url)
        self._prefix = prefix.encode()
        self._clock = clock
        self._timeout_s = timeout_s
        # One retry, at once: a pooled connection that Redis closed (it restarted) is replaced;
        # anything longer would outlast Envoy's patience.
        self._client = Redis.from_url(url, socket_timeout=timeout_s, socket_connect_timeout=timeout_s,
                                      retry=Retry(NoBackoff(), 1))
        self._down_since: float | None = None  # time.monotonic() of the first failure in a row
        self._last_report = 0.0
        self._failed_since = 0  # requests failed since _down_since
        self.failures = 0  # requests answered with StoreUnavailable, all told

    async def increment(self, hits: Sequence[Hit]) -> list[Window]:
        now = self._clock()
        ends = []
        try:
            async with asyncio.timeout(self._timeout_s):
                async with self._client.pipeline(transaction=False) as pipe:
                    for hit in hits:
                        if hit.unit_s < 1:
                            raise ValueError(f"unit_s must be at least 1, not {hit.unit_s}")
                        start = int(now // hit.unit_s) * hit.unit_s
                        key = redis_key(self._prefix, hit.unit_s, start, hit.bucket)
                        pipe.incrby(key, hit.amount)
                        pipe.expire(key, hit.unit_s)
                        ends.append(start + hit.unit_s)
                    results = await pipe.execute()
        except (RedisError, OSError, TimeoutError) as exc:
            reason = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
            self._failed(reason)
            raise StoreUnavailable(f"Redis at {self.where}: {reason}") from None
        self._succeeded()
        return [Window(int(results[2 * i]), end - now) for i, end in enumerate(ends)]

    async def check(self) -> str | None:
        """Why Redis cannot be used now (one PING), or None."""
        try:
            async with asyncio.timeout(self._timeout_s):
                await self._client.ping()
        except (RedisError, OSError, TimeoutError) as exc:
            return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        return None

    async def aclose(self) -> None:
        """Close the connections (the store is not used after)."""
        await self._client.aclose()

    def _failed(self, reason: str) -> None:
        self.failures += 1
        self._failed_since += 1
        now = time.monotonic()
        if self._down_since is None:
            self._down_since = self._last_report = now
            log.error("rate limit counters: Redis at %s unreachable (%s); rate limit requests get an error "
                      "until it is back, and Envoy lets them through (failure mode allow)", self.where, reason)
        elif now - self._last_report >= LOG_EVERY_S:
            self._last_report = now
            log.error("rate limit counters: Redis at %s still unreachable after %.0fs (%s); %d requests "
                      "answered with an error so far", self.where, now - self._down_since, reason,
                      self._failed_since)

    def _succeeded(self) -> None:
        if self._down_since is not None:
            log.warning("rate limit counters: Redis at %s reachable again after %.1fs; %d requests were "
                        "answered with an error meanwhile", self.where, time.monotonic() - self._down_since,
                        self._failed_since)
            self._down_since = None
            self._failed_since = 0
