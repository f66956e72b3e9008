"""Envoy's RateLimitService (envoy.service.ratelimit.v3) on grpc.aio, answering as
envoyproxy/ratelimit does.

Per descriptor of a request: its limit from the table (none: OK, no counting), its bucket's count
after this request's hits, OVER_LIMIT when the count passes the limit; the overall code is
OVER_LIMIT when any descriptor is. Every matched descriptor is counted, even when another is
over (envoyproxy/ratelimit's default), so each rule's bucket sees all the requests it selects.

A store that cannot count (Redis unreachable: counters.StoreUnavailable) makes the request's
answer a gRPC UNAVAILABLE error, as envoyproxy/ratelimit answers a Redis error; Envoy then applies
its failure mode (filter.py: allow).

Served over xDS's mutual TLS, a caller counts only against the domain of a Gateway its client
certificate names (`caller_gateways`): another Gateway's domain is PERMISSION_DENIED.

The table is swapped whole (`update`) when the translation changes: a request in flight uses
the table it started with, and counters are kept (a bucket's count is by its entries, so a
rule that stays keeps counting).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable

import grpc
from envoy.service.ratelimit.v3 import rls_pb2, rls_pb2_grpc
from google.protobuf import duration_pb2

from .counters import CounterStore, Hit, MemoryCounterStore, StoreUnavailable
from .limits import Limit, LimitTable, Match

_Unit = rls_pb2.RateLimitResponse.RateLimit.Unit
_Status = rls_pb2.RateLimitResponse.DescriptorStatus
# Plain ints: the enum wrappers' attribute lookups cost more than the rest of a decision.
OK = int(rls_pb2.RateLimitResponse.OK)
OVER_LIMIT = int(rls_pb2.RateLimitResponse.OVER_LIMIT)
_OK_STATUS = _Status(code=OK)  # a descriptor without a limit

# The units Envoy's API names (envoyproxy/ratelimit's lengths: a month is 30 days, a year 365);
# another length is sent as UNKNOWN, counted all the same.
UNITS: dict[int, int] = {
    1: _Unit.SECOND, 60: _Unit.MINUTE, 3600: _Unit.HOUR, 86400: _Unit.DAY,
    7 * 86400: _Unit.WEEK, 30 * 86400: _Unit.MONTH, 365 * 86400: _Unit.YEAR,
}

MAX_DESCRIPTORS = 64  # per request; Envoy sends one per rule of the route (a handful)
MAX_ENTRIES = 64  # per descriptor; meshgate's have 1 + headers + 2 at most


@functools.lru_cache(maxsize=4096)  # a few per rule; Limit is frozen, the message is only copied
def _current_limit(limit: Limit) -> rls_pb2.RateLimitResponse.RateLimit:
    return rls_pb2.RateLimitResponse.RateLimit(
        name=limit.name, requests_per_unit=limit.requests, unit=UNITS.get(limit.unit_s, _Unit.UNKNOWN))


class RateLimitServicer(rls_pb2_grpc.RateLimitServiceServicer):
    """ShouldRateLimit over a LimitTable (swapped by `update`) and a CounterStore (in memory by
    default: this replica's counts only; redis_counters.RedisCounterStore: shared)."""

    def __init__(self, table: LimitTable | None = None, store: CounterStore | None = None) -> None:
        self._table = table if table is not None else LimitTable()
        self._store: CounterStore = store if store is not None else MemoryCounterStore()
        self.on_store_error: Callable[[], None] | None = None  # called per request the store failed
        # The Gateways a caller may count for (its verified client certificate's; None: not TLS,
        # nothing to check), set by whoever serves this over xDS's mutual TLS (runtime/run.py):
        # a proxy counts against its own Gateway's domain only.
        self.caller_gateways: Callable[[grpc.aio.ServicerContext], frozenset[str] | None] | None = None

    @property
    def table(self) -> LimitTable:
        return self._table

    def update(self, table: LimitTable) -> None:
        """Serve `table` from now on (one reference assignment: atomic for every request)."""
        self._table = table

    def add_to_server(self, server: grpc.aio.Server) -> None:
        """Register on a grpc.aio server (before it starts, as gRPC requires)."""
        rls_pb2_grpc.add_RateLimitServiceServicer_to_server(self, server)

    async def ShouldRateLimit(self, request: rls_pb2.RateLimitRequest,  # gRPC names the method
                              context: grpc.aio.ServicerContext) -> rls_pb2.RateLimitResponse:
        # envoyproxy/ratelimit refuses these too; Envoy then lets the request through (failure
        # mode allow) and counts an error.
        if not request.domain:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, "rate limit domain must not be empty")
        if not request.descriptors:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, "rate limit descriptor list must not be empty")
        if len(request.descriptors) > MAX_DESCRIPTORS or any(
                len(d.entries) > MAX_ENTRIES for d in request.descriptors):
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, "too many rate limit descriptors or entries")
        allowed = self.caller_gateways(context) if self.caller_gateways is not None else None
        if allowed is not None and request.domain not in allowed:
            # Envoy's failure mode lets the request through; what is refused is counting
            # against another Gateway's limits (exhausting them for its clients).
            named = ", ".join(sorted(allowed)) or "no Gateway"
            await context.abort(grpc.StatusCode.PERMISSION_DENIED,
                                f"rate limit domain {request.domain!r} is not the caller's: its certificate names {named}")
        try:
            return await self.decide(request)
        except StoreUnavailable as exc:
            if self.on_store_error is not None:
                self.on_store_error()
            # envoyproxy/ratelimit's answer when Redis fails: an error; Envoy's failure mode decides
            # (meshgate's filter: allow). The store has logged it.
            await context.abort(grpc.StatusCode.UNAVAILABLE, f"rate limit counters unavailable: {exc}")

    async def decide(self, request: rls_pb2.RateLimitRequest) -> rls_pb2.RateLimitResponse:
        """The answer to `request` (its hits counted), without the gRPC context."""
        table = self._table  # one table for the whole request
        default_hits = request.hits_addend or 1  # 0: not set, one request
        matches: list[Match | None] = []
        hits: list[Hit] = []
        for d in request.descriptors:
            match = table.lookup(request.domain, [(e.key, e.value) for e in d.entries])
            matches.append(match)
            if match is not None:
                amount = d.hits_addend.value if d.HasField("hits_addend") else default_hits
                hits.append(Hit(match.bucket, match.limit.unit_s, amount))
        windows = iter(await self._store.increment(hits)) if hits else iter(())

        overall = OK
        statuses = []
        for match in matches:
            if match is None:
                statuses.append(_OK_STATUS)
                continue
            window = next(windows)
            over = window.count > match.limit.requests
            if over:
                overall = OVER_LIMIT
            statuses.append(_Status(
                code=OVER_LIMIT if over else OK,
                current_limit=_current_limit(match.limit),
                limit_remaining=max(0, match.limit.requests - window.count),
                # Whole seconds, rounded up: Envoy's X-RateLimit-Reset never says 0 while the window lasts.
                duration_until_reset=duration_pb2.Duration(seconds=max(0, math.ceil(window.reset_in_s))),
            ))
        return rls_pb2.RateLimitResponse(overall_code=overall, statuses=statuses)
