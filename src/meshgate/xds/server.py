"""The ADS server: State-of-the-World and Delta streams over grpc.aio.

Each stream learns its proxy's gateway from the Envoy node, then answers requests and pushes
changes from the cache. A NACK is logged with Envoy's error detail, counted, and remembered on
the stream; nothing is resent until the config changes again, so the proxy keeps its last
ACKed version. NACK logging is rate-limited per stream and type: the first is logged, then at
most one line per interval, with the number left out.

State-of-the-World LDS and CDS responses carry every resource of the type (the proxy removes
what they leave out); EDS, RDS and SDS responses carry only what changed for the stream, as the
xDS spec allows for every other type (it removes nothing they leave out).

Requests are checked against `XdsLimits` before anything is stored (checks.py): a request the
server will not serve ends its stream with a gRPC status that says why, counted by reason. Each
open stream holds the cache key it is served from; when the last stream of a key closes or
moves away the resolver is told (`release`), so per-client views live only while used.

Over mutual TLS, the Gateway a node names must be one its client certificate names
(`meshgate.xds.tls`); any other is refused with PERMISSION_DENIED before anything is sent.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping, Sequence
from typing import Protocol

import grpc
from envoy.service.discovery.v3 import ads_pb2_grpc, discovery_pb2

from .cache import SnapshotCache
from .checks import Refused, check_delta_request, check_node, check_sotw_request
from .limits import MAX_NACK_MESSAGE, XdsLimits
from .proxy import ProxyIdentity, identity_from_node
from .references import ClusterRefs as RefsMemo
from .resources import CLUSTER, ENDPOINT, LISTENER, PUSH_ORDER, ROUTE, SHORT_NAMES, Resource, type_version
from .streams import ClusterRefs, StreamRegistry, StreamState, TypeState
from .tls import IdentityRefused, ServerTLS, check_gateway_claim, peer_gateways

log = logging.getLogger("meshgate.xds")

_CHANGED = object()  # queue marker: the cache moved
_END = object()  # queue marker: the client closed its side
NACK_LOG_INTERVAL_S = 60.0  # after a stream's first NACK of a type, at most one log line per this
NAMING_TYPES = (ROUTE, LISTENER)  # resources that name clusters
# SotW responses of these carry every resource of the type (absence removes); those of every
# other type (EDS, RDS, SDS) carry only what changed, as the xDS spec allows.
FULL_STATE_TYPES = frozenset({LISTENER, CLUSTER})


class Resolver(Protocol):
    """Which cache key serves a proxy. `held` is the key its stream is served from now ("" for
    a new stream); it may raise Refused (e.g. a new stream would need one view too many)."""

    def __call__(self, identity: ProxyIdentity, held: str = "") -> str: ...


def _gateway_key(identity: ProxyIdentity, held: str = "") -> str:
    return identity.gateway


class ServerEvents(Protocol):
    """What the server reports (the metrics implement this)."""

    def stream_opened(self, protocol: str) -> None: ...
    def stream_closed(self, protocol: str) -> None: ...
    def pushed(self, type_url: str, seconds: float) -> None: ...
    def nacked(self, type_url: str) -> None: ...
    def stream_refused(self, reason: str) -> None: ...
    def denied(self) -> None: ...
    def converged(self, seconds: float) -> None: ...


class _NoEvents:
    def stream_opened(self, protocol: str) -> None:
        pass

    def stream_closed(self, protocol: str) -> None:
        pass

    def pushed(self, type_url: str, seconds: float) -> None:
        pass

    def nacked(self, type_url: str) -> None:
        pass

    def stream_refused(self, reason: str) -> None:
        pass

    def denied(self) -> None:
        pass

    def converged(self, seconds: float) -> None:
        pass


async def _no_wait() -> None:
    """A resolver whose views are always ready."""


class AggregatedDiscoveryService(ads_pb2_grpc.AggregatedDiscoveryServiceServicer):
    """ADS for every gateway in the cache."""

    def __init__(self, cache: SnapshotCache, registry: StreamRegistry | None = None,
                 events: ServerEvents | None = None,
                 resolve: Resolver | None = None, release: Callable[[str], None] | None = None,
                 limits: XdsLimits | None = None, nack_log_interval: float = NACK_LOG_INTERVAL_S,
                 clock: Callable[[], float] = time.monotonic,
                 ready: Callable[[], Awaitable[None]] | None = None) -> None:
        self.cache = cache
        self.registry = registry or StreamRegistry()
        self.events = events or _NoEvents()
        # Which cache entry serves a proxy: its gateway, or a per-client context of it. Proxies
        # that would get the same config share one entry.
        self.resolve: Resolver = resolve or _gateway_key
        # Told when no stream is served from a key any more (its per-client view can go).
        self.release = release or (lambda key: None)
        # Awaited before resolving: returns once the resolver's views are not being rebuilt.
        self.ready: Callable[[], Awaitable[None]] = ready or _no_wait
        self.limits = limits or XdsLimits()
        self.nack_log_interval = nack_log_interval
        self.clock = clock
        self.refs = RefsMemo()  # the clusters each served route configuration and listener names
        self._queues: set[asyncio.Queue] = set()  # each open stream's, for end_streams()

    def end_streams(self) -> int:
        """End every open stream as if its proxy had closed it: the stream finishes with status
        OK and its proxy reconnects (to another replica, in a cluster). Called before the server
        stops: a handler still waiting when the stop's grace runs out is cancelled, which gRPC
        logs as an unhandled error per stream. Returns how many streams were told to end."""
        for queue in self._queues:
            queue.put_nowait(_END)
        return len(self._queues)

    # -- plumbing shared by both protocols ---------------------------------------------------
    async def _pump(self, requests: AsyncIterator, queue: asyncio.Queue) -> None:
        try:
            async for req in requests:
                await queue.put(req)
        finally:
            await queue.put(_END)

    async def _watch(self, st: StreamState, queue: asyncio.Queue) -> None:
        revision = self.cache.entry(st.cache_key).revision
        while True:
            await self.cache.wait(st.cache_key, revision)
            revision = self.cache.entry(st.cache_key).revision
            await queue.put(_CHANGED)

    def _identify(self, st: StreamState, node, context: grpc.aio.ServicerContext | None = None) -> None:
        """Who the stream serves; IdentityRefused when its client certificate does not name the
        node's Gateway (ValueError when the node names none)."""
        identity = identity_from_node(node)
        check_gateway_claim(identity.gateway, peer_gateways(context.auth_context()) if context else None)
        st.gateway = identity.gateway
        st.node_id = identity.node_id
        st.identity = identity
        st.cache_key = self.resolve(identity)
        log.info("%s stream %d: proxy %s of gateway %s connected", st.protocol, st.stream_id, st.node_id, st.gateway)

    def _reresolve(self, st: StreamState) -> None:
        """After a change the proxy may belong to another entry (a Service gained topology hints,
        a rule now selects by label): move it, and have Delta compare everything once."""
        assert st.identity is not None  # changes are watched for only once the proxy is identified
        key = self.resolve(st.identity, held=st.cache_key)
        if key != st.cache_key:
            log.info("%s stream %d: proxy %s now served from %s", st.protocol, st.stream_id, st.node_id, key)
            self.cache.hold(key)  # before letting go of the old one: a view is never rebuilt in between
            self._let_go(st.cache_key)
            st.cache_key = key
            st.converged_revision = None  # revisions of another entry: counted afresh
            for ts in st.types.values():
                ts.resync = True

    def _converged(self, st: StreamState, observe: bool = True) -> None:
        """The proxy has everything up to the revision last pushed to it: the time since the
        oldest change it had not converged on reached meshgate is one convergence (Istio's
        pilot_proxy_convergence_time). The first sync of a stream, or of an entry it moved to,
        only sets the mark."""
        if st.converged_revision is not None and st.pushed_revision > st.converged_revision and observe:
            since = self.cache.entry(st.cache_key).changed_time_after(st.converged_revision)
            if since is not None:
                self.events.converged(max(0.0, time.monotonic() - since))
        st.converged_revision = max(st.pushed_revision, st.converged_revision or 0)

    def _let_go(self, key: str) -> None:
        if self.cache.release(key):
            self.release(key)

    def _log_nack(self, st: StreamState, ts: TypeState, type_url: str, nonce: str, message: str) -> None:
        """Log a NACK: the first of a stream and type, then at most one per interval."""
        now = self.clock()
        if ts.nack_logged_at is not None and now - ts.nack_logged_at < self.nack_log_interval:
            ts.nacks_unlogged += 1
            return
        more = (f" ({ts.nacks_unlogged} more NACK(s) of this type on this stream were not logged)"
                if ts.nacks_unlogged else "")
        ts.nack_logged_at, ts.nacks_unlogged = now, 0
        log.warning("NACK from %s (gateway %s) for %s nonce %s: %s%s", st.node_id, st.gateway,
                    SHORT_NAMES.get(type_url, type_url), nonce, message, more)

    def _ack_or_nack(self, st: StreamState, ts: TypeState, type_url: str, nonce: str, version: str,
                     error) -> bool:
        """Record an ACK or NACK for the response `nonce`; False when the nonce is stale."""
        if nonce != ts.nonce:
            return False
        if error is not None and (error.code or error.message):
            message = error.message
            if len(message) > MAX_NACK_MESSAGE:
                message = f"{message[:MAX_NACK_MESSAGE]}... ({len(message) - MAX_NACK_MESSAGE} more characters)"
            ts.nack = message
            ts.nacks += 1
            self.events.nacked(type_url)
            self._log_nack(st, ts, type_url, nonce, message)
        else:
            ts.acked_version = version
            ts.acked_nonce = nonce
            ts.nack = ""
        return True

    async def _serve(self, protocol: str, requests: AsyncIterator, context: grpc.aio.ServicerContext,
                     handle, push) -> AsyncIterator:
        st = self.registry.open(protocol, context.peer() if context else "")
        self.events.stream_opened(protocol)
        queue: asyncio.Queue = asyncio.Queue()
        self._queues.add(queue)
        reader = asyncio.create_task(self._pump(requests, queue))
        watcher: asyncio.Task | None = None  # set once the stream holds its cache key
        try:
            while True:
                item = await queue.get()
                if item is _END:
                    return
                if item is _CHANGED:
                    await self.ready()  # not while the controller rebuilds the views
                    self._reresolve(st)
                    st.pushed_revision = self.cache.entry(st.cache_key).revision
                    pushed = push(st)
                    if not pushed and st.in_sync():
                        self._converged(st, observe=False)  # nothing of it concerned this proxy
                    for resp in pushed:
                        yield resp
                    resp = pushed = None  # an idle stream must not keep its last response alive
                    continue
                try:
                    if watcher is None:
                        check_node(item.node if item.HasField("node") else None, self.limits)
                        await self.ready()
                        try:
                            self._identify(st, item.node, context)
                        except ValueError as exc:
                            raise Refused(grpc.StatusCode.INVALID_ARGUMENT, str(exc), "node") from None
                        except IdentityRefused as exc:
                            # Counted apart from the bounds: this is a client claiming what it is not.
                            self.events.denied()
                            log.warning("%s stream %d from %s refused: node %s: %s", protocol, st.stream_id,
                                        st.peer, item.node.id[:100], exc)
                            await context.abort(grpc.StatusCode.PERMISSION_DENIED, str(exc))
                        self.cache.hold(st.cache_key)
                        st.pushed_revision = self.cache.entry(st.cache_key).revision
                        watcher = asyncio.create_task(self._watch(st, queue))
                    responses = handle(st, item)
                    if item.response_nonce and st.in_sync():
                        self._converged(st)
                except Refused as exc:
                    self.events.stream_refused(exc.reason)
                    log.warning("%s stream %d (peer %s, node %r): refused: %s", protocol, st.stream_id,
                                st.peer, st.node_id[:100], exc.message)
                    await context.abort(exc.code, exc.message)
                for resp in responses:
                    yield resp
                resp = item = responses = None
        finally:
            self._queues.discard(queue)
            reader.cancel()
            if watcher is not None:
                watcher.cancel()
                self._let_go(st.cache_key)
            self.registry.close(st)
            self.events.stream_closed(protocol)
            unlogged = sum(ts.nacks_unlogged for ts in st.types.values())
            log.info("%s stream %d (gateway %s) closed%s", protocol, st.stream_id, st.gateway,
                     f"; {unlogged} NACK(s) since the last one logged" if unlogged else "")

    @staticmethod
    def _push(st: StreamState, respond, types: tuple[str, ...] = PUSH_ORDER) -> list:
        """After a cache change: a response per subscribed type that moved, in push order."""
        out = []
        for type_url in types:
            ts = st.types.get(type_url)
            if ts is not None and ts.active:
                resp = respond(st, type_url, ts)
                if resp is not None:
                    out.append(resp)
        return out

    # -- make-before-break -------------------------------------------------------------------
    def _in_use(self, st: StreamState) -> set[str]:
        """The clusters the proxy's routes and listeners may name: those it ACKed and those it
        has been sent and not answered yet."""
        out: set[str] = set()
        for type_url in NAMING_TYPES:
            ts = st.types.get(type_url)
            if ts is not None:
                out |= ts.referenced()
        return out

    def _hold(self, st: StreamState, type_url: str, gone: list[str]) -> set[str]:
        """Of the clusters (or their assignments) gone from the config, those the proxy keeps for
        now: a route or listener it may still be using names them."""
        if not gone:
            return set()
        if type_url == ENDPOINT:
            cds = st.types.get(CLUSTER)
            return set(gone) & cds.held if cds is not None else set()
        in_use = self._in_use(st)
        return {n for n in gone if n in in_use}

    def _sent(self, st: StreamState, type_url: str, ts: TypeState, resources: list[Resource],
              removed: list[str], full: bool, added: list[str] | None = None) -> None:
        """Bookkeeping after a response: what routes and listeners name; which clusters are new to
        the proxy, and which assignments must follow the clusters sent (added or changed: Envoy
        warms each until it has its assignment)."""
        if type_url in NAMING_TYPES:
            refs: ClusterRefs = {r.name: self.refs.of(type_url, r) for r in resources}
            refs.update((n, None) for n in removed)
            ts.sent_refs(ts.nonce, refs, full)
            ts.deferred = False
        elif type_url == CLUSTER:
            ts.added(ts.nonce, added or ())
            eds = st.types.get(ENDPOINT)
            if eds is not None and eds.active:
                eds.follow.update(r.name for r in resources)

    def _waits(self, st: StreamState, type_url: str, resources: Iterable[Resource]) -> bool:
        """Whether routes or listeners about to be sent name a cluster the proxy has been sent but
        not answered for: Envoy answers CDS once its new clusters are warm, and a route to a
        cluster still warming answers 500 (no cluster)."""
        cds = st.types.get(CLUSTER)
        warming = cds.warming() if cds is not None and type_url in NAMING_TYPES else frozenset()
        return bool(warming) and any(self.refs.of(type_url, r) & warming for r in resources)

    @staticmethod
    def _and_followers(st: StreamState, type_url: str) -> tuple[str, ...]:
        """A type, and EDS after CDS when assignments must follow the clusters it sent."""
        eds = st.types.get(ENDPOINT)
        return (type_url, ENDPOINT) if type_url == CLUSTER and eds is not None and eds.follow else (type_url,)

    def _answered(self, st: StreamState, ts: TypeState, type_url: str, nonce: str, accepted: bool,
                  respond) -> list:
        """The proxy answered clusters (they are warm: routes waiting for them go), or routes or
        listeners (clusters nothing it uses names any more leave it). What moves is pushed in
        push order, as after a cache change."""
        if not nonce or type_url not in (CLUSTER, *NAMING_TYPES):
            return []
        ts.answered(nonce, accepted)
        if type_url == CLUSTER:
            moves = any((n := st.types.get(t)) is not None and n.deferred for t in NAMING_TYPES)
        else:
            moves = (cds := st.types.get(CLUSTER)) is not None and bool(cds.held)
        return self._push(st, respond) if moves else []

    # -- State of the World -----------------------------------------------------------------
    def _sotw_response(self, st: StreamState, type_url: str, ts: TypeState,
                       gate: bool = True) -> discovery_pb2.DiscoveryResponse | None:
        """What this subscription selects, when it differs from what was last sent (or
        assignments must follow their clusters); routes waiting for clusters to warm wait (not on
        a first request, when `gate` is False)."""
        if type_url not in FULL_STATE_TYPES:
            return self._sotw_changes(st, type_url, ts, gate)
        start = time.perf_counter()
        entry = self.cache.entry(st.cache_key)
        current = entry.resources.get(type_url, {})
        follow, ts.follow = ts.follow & current.keys(), set()
        chosen: Mapping[str, Resource]
        if ts.wildcard or current.keys() <= ts.names:
            # Everything there is (Envoy's EDS usually names every cluster): the cached version.
            # The clusters sent are remembered (ts.sent): a read-only copy.
            chosen = entry.frozen(type_url) if type_url == CLUSTER else current
            version = entry.version(type_url)
        else:
            # Assignments that follow their clusters go out before the proxy asks for them (it asks
            # as soon as it has the cluster; meanwhile they count as asked for).
            ts.names |= follow
            chosen = {n: current[n] for n in ts.names if n in current}
            version = type_version(chosen)
        if type_url == CLUSTER and ts.sent is not None:
            # A cluster left out would be removed: keep those the proxy's routes may still name.
            sent = ts.sent
            ts.held = self._hold(st, type_url, [n for n in sent if n not in chosen and ts.wants(n)])
            if ts.held:
                chosen = {**chosen, **{n: sent[n] for n in ts.held}}
                version = type_version(chosen)
        if version == ts.sent_version and not follow:
            return None
        if gate and self._waits(st, type_url, chosen.values()):
            ts.deferred = True
            return None
        ts.sent_version = version
        ts.nonce = st.next_nonce()
        resp = discovery_pb2.DiscoveryResponse(
            version_info=version, type_url=type_url, nonce=ts.nonce,
            resources=[r.body for _, r in sorted(chosen.items())],
        )
        if type_url == CLUSTER:
            before = ts.sent or {}
            moved = [r for n, r in chosen.items() if n not in before or before[n].version != r.version]
            ts.sent = chosen
            self._sent(st, type_url, ts, moved, [], full=True, added=[r.name for r in moved if r.name not in before])
        else:
            self._sent(st, type_url, ts, list(chosen.values()), [], full=True)
        self.events.pushed(type_url, time.perf_counter() - start)
        return resp

    def _sotw_changes(self, st: StreamState, type_url: str, ts: TypeState,
                      gate: bool = True) -> discovery_pb2.DiscoveryResponse | None:
        """EDS, RDS and SDS: only the resources that changed since this stream was last sent the
        type (everything on its first response or after it moved to another entry), those newly
        asked for, the assignments that follow clusters just sent, and, once the type moves, what
        a rejected response carried. A resource gone from the config is not in any response:
        in SotW only LDS and CDS remove by absence; Envoy drops an assignment or a route
        configuration with the cluster or listener that names it. The version is that of all the
        subscription selects, so it moves on a removal too and an ACK names what the proxy holds;
        a removal alone is answered with an empty response (a no-op for Envoy) so that the
        routes' bookkeeping sees it answered. None when nothing moved."""
        start = time.perf_counter()
        entry = self.cache.entry(st.cache_key)
        current: dict[str, Resource] = entry.resources.get(type_url, {})
        synced_to = entry.type_revision[type_url]
        answer = not ts.sent_version  # the first request is always answered, even with nothing
        full = answer or ts.resync
        if full:
            candidates = set(current) | set(ts.known)
        else:
            candidates = set(entry.changed_since(type_url, ts.synced_revision))
        follow, ts.follow = ts.follow & current.keys(), set()
        candidates |= follow
        if not ts.wildcard:
            ts.names |= follow  # asked for on the client's behalf: it asks as soon as it has the cluster
        send = [current[n] for n in sorted(candidates)
                if n in current and ts.wants(n) and (n in follow or ts.known.get(n) != current[n].version)]
        removed = sorted(n for n in candidates if n in ts.known and (n not in current or not ts.wants(n)))
        if not send and not removed and not answer:
            ts.synced_revision = synced_to
            return None
        if gate and self._waits(st, type_url, send):
            ts.deferred, ts.resync = True, full  # nothing recorded as synced: all of it is compared again
            ts.follow |= follow
            return None
        if ts.resend:
            # A rejected response's resources go again with this one: nothing it carried is lost.
            sending = {r.name for r in send}
            send += [current[n] for n in sorted(ts.resend) if n in current and ts.wants(n) and n not in sending]
            ts.resend = set()
        ts.synced_revision, ts.resync = synced_to, False
        for r in send:
            ts.known[r.name] = r.version
        for n in removed:
            ts.known.pop(n, None)
        if ts.wildcard or current.keys() <= ts.names:
            version = entry.version(type_url)
        else:
            version = type_version({n: current[n] for n in ts.names if n in current})
        ts.sent_version = version
        ts.nonce = st.next_nonce()
        ts.carrying(ts.nonce, (r.name for r in send))
        resp = discovery_pb2.DiscoveryResponse(
            version_info=version, type_url=type_url, nonce=ts.nonce, resources=[r.body for r in send])
        self._sent(st, type_url, ts, send, removed, full=False)
        self.events.pushed(type_url, time.perf_counter() - start)
        return resp

    def _sotw_handle(self, st: StreamState, req: discovery_pb2.DiscoveryRequest) -> list:
        check_sotw_request(req, st.subscribed(), self.limits)
        ts = st.type_state(req.type_url)
        nack = req.error_detail if req.HasField("error_detail") else None
        rejected = nack is not None and bool(nack.code or nack.message)
        released = self._answered(st, ts, req.type_url, req.response_nonce, not rejected, self._sotw_response)
        if req.response_nonce and req.type_url not in FULL_STATE_TYPES:
            ts.carried_answered(req.response_nonce, not rejected)
        if req.response_nonce and not self._ack_or_nack(st, ts, req.type_url, req.response_nonce,
                                                        req.version_info, nack):
            return released  # a stale nonce: the client has not seen our latest response yet
        first = not ts.active
        ts.active = True
        # Every SotW request carries the whole subscription.
        before = ts.names
        ts.wildcard, ts.names = False, set()
        ts.subscribe(req.type_url, list(req.resource_names), first=True)
        ts.forget(before - ts.names)
        if req.type_url not in FULL_STATE_TYPES:
            for n in before - ts.names:
                ts.known.pop(n, None)  # Envoy dropped it: asked for again, it is sent again
            ts.follow |= ts.names - before  # newly asked for: sent even if sent before unasked
        if rejected:
            return released  # keep the last ACKed config; push again only when the config moves
        if first:
            ts.sent_version = ""  # the first request is always answered, even with nothing
        # Answered only when what this subscription selects differs from what was last sent.
        resp = self._sotw_response(st, req.type_url, ts, gate=not first)
        out = released + ([resp] if resp is not None else [])
        return out + self._push(st, self._sotw_response, self._and_followers(st, req.type_url)[1:])

    async def StreamAggregatedResources(self, request_iterator, context):
        async for resp in self._serve("sotw", request_iterator, context, self._sotw_handle,
                                     lambda st: self._push(st, self._sotw_response)):
            yield resp
            del resp  # not held while the stream waits

    # -- Delta ------------------------------------------------------------------------------
    def _delta_response(self, st: StreamState, type_url: str, ts: TypeState, full: bool = False,
                        answer: bool = False, gate: bool = True, asked: Sequence[str] = ()
                        ) -> discovery_pb2.DeltaDiscoveryResponse | None:
        """What the client lacks: everything on `full` (a new subscription, or the wildcard), else
        the names that changed since this stream last synced the type and those it just `asked`
        for; plus the assignments that follow clusters just sent, changed or not. None when that
        is nothing, unless `answer` (a first request is always answered); None too while routes
        wait for clusters to warm (unless not `gate`): they are compared again when the proxy
        answers for the clusters."""
        start = time.perf_counter()
        entry = self.cache.entry(st.cache_key)
        current: dict[str, Resource] = entry.resources.get(type_url, {})
        synced_to = entry.type_revision[type_url]
        full = full or ts.resync
        if full:
            candidates = set(current) | set(ts.known)
        else:
            candidates = set(entry.changed_since(type_url, ts.synced_revision))
            candidates.update(asked)
        follow, ts.follow = ts.follow & current.keys(), set()
        candidates |= ts.held | follow
        if not ts.wildcard:
            ts.names |= follow  # asked for on the client's behalf: it asks as soon as it has the cluster
        send = [current[n] for n in sorted(candidates)
                if n in current and ts.wants(n) and (n in follow or ts.known.get(n) != current[n].version)]
        if gate and self._waits(st, type_url, send):
            # Nothing recorded as synced: what changed is compared again, and names just asked
            # for (which no change log holds) by comparing everything.
            ts.deferred, ts.resync = True, full or bool(asked)
            return None
        ts.synced_revision, ts.resync = synced_to, False
        removed = sorted(n for n in candidates if n in ts.known and (n not in current or not ts.wants(n)))
        if type_url in (CLUSTER, ENDPOINT):
            ts.held = self._hold(st, type_url, [n for n in removed if n not in current])
            removed = [n for n in removed if n not in ts.held]
        if not send and not removed and not answer:
            return None  # decided before a nonce is taken: a response never sent must not make ACKs stale
        added = [r.name for r in send if r.name not in ts.known]
        for r in send:
            ts.known[r.name] = r.version
        for n in removed:
            ts.known.pop(n, None)
        ts.nonce = st.next_nonce()
        resp = discovery_pb2.DeltaDiscoveryResponse(
            type_url=type_url, nonce=ts.nonce,
            system_version_info=str(synced_to),
            resources=[discovery_pb2.Resource(name=r.name, version=r.version, resource=r.body) for r in send],
            removed_resources=removed,
        )
        self._sent(st, type_url, ts, send, removed, full=False, added=added)
        self.events.pushed(type_url, time.perf_counter() - start)
        return resp

    def _delta_handle(self, st: StreamState, req: discovery_pb2.DeltaDiscoveryRequest) -> list:
        check_delta_request(req, st.subscribed(), self.limits)
        ts = st.type_state(req.type_url)
        first = not ts.active
        nack = req.error_detail if req.HasField("error_detail") else None
        released = self._answered(st, ts, req.type_url, req.response_nonce,
                                  nack is None or not (nack.code or nack.message), self._delta_response)
        if req.response_nonce and not self._ack_or_nack(st, ts, req.type_url, req.response_nonce, "", nack):
            return released
        if first:
            ts.active = True
            # A reconnecting client says what it has; only differences are sent.
            ts.known = dict(req.initial_resource_versions)
        ts.subscribe(req.type_url, list(req.resource_names_subscribe), first)
        ts.unsubscribe(list(req.resource_names_unsubscribe))
        if req.response_nonce and not req.resource_names_subscribe and not req.resource_names_unsubscribe:
            return released  # an ACK or NACK: changes are pushed when the cache moves
        # A first request, or the wildcard coming or going, is answered in full (the first one
        # always, so that Envoy can finish initializing, even when there is nothing to send); a
        # later change of names is answered for those names (and what changed meanwhile), not by
        # comparing every resource of the type again: a proxy adding one route configuration of
        # thousands costs what that one costs.
        full = first or "*" in req.resource_names_subscribe or "*" in req.resource_names_unsubscribe
        resp = self._delta_response(st, req.type_url, ts, full=full, answer=first, gate=not first,
                                    asked=() if full else req.resource_names_subscribe)
        follow = self._push(st, self._delta_response, self._and_followers(st, req.type_url)[1:])
        return released + ([resp] if resp is not None else []) + follow

    async def DeltaAggregatedResources(self, request_iterator, context):
        async for resp in self._serve("delta", request_iterator, context, self._delta_handle,
                                     lambda st: self._push(st, self._delta_response)):
            yield resp
            del resp  # not held while the stream waits


def _check_port_free(address: str, port: int) -> None:
    """OSError (EADDRINUSE) when another socket listens on address:port. gRPC would say so only
    in a traceback and a log line of its own; a bind of our own tells it cleanly first."""
    if port == 0:
        return
    host = address[1:-1] if address.startswith("[") and address.endswith("]") else address
    for family, kind, proto, _, sockaddr in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM,
                                                               flags=socket.AI_PASSIVE):
        with socket.socket(family, kind, proto) as probe:
            # As gRPC binds (SO_REUSEADDR, no SO_REUSEPORT): only a socket in use is a conflict.
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind(sockaddr)
            except OSError as exc:
                if exc.errno == errno.EADDRINUSE:
                    raise
                # Anything else (an address family the host lacks, say): gRPC decides.


async def start_server(service: AggregatedDiscoveryService, address: str, port: int,
                       tls: ServerTLS | None = None,
                       services: Sequence[Callable[[grpc.aio.Server], None]] = ()) -> tuple[grpc.aio.Server, int]:
    """Start a grpc.aio server for ADS; returns it and the bound port (port 0 picks one).

    OSError when the port is taken: the port is never shared (no SO_REUSEPORT), so a second
    meshgate on the same port fails instead of taking some of the proxies. With `tls`, only
    clients presenting a certificate signed by its client CA get through the handshake, and each
    may serve only the Gateways its certificate names. `services` add other gRPC services to the
    same server (the rate limit service), each given the server before it starts.
    """
    _check_port_free(address, port)
    server = grpc.aio.server(options=[
        ("grpc.so_reuseport", 0),
        ("grpc.max_send_message_length", 256 * 1024 * 1024),
        ("grpc.max_receive_message_length", 16 * 1024 * 1024),
        ("grpc.keepalive_time_ms", 30_000),
        ("grpc.http2.max_pings_without_data", 0),
        ("grpc.keepalive_permit_without_calls", 1),
    ])
    ads_pb2_grpc.add_AggregatedDiscoveryServiceServicer_to_server(service, server)
    for add in services:
        add(server)
    target = f"{address}:{port}"
    try:
        bound = server.add_secure_port(target, tls.credentials()) if tls else server.add_insecure_port(target)
    except RuntimeError:  # grpcio raises where it once returned 0 (taken since the check above)
        bound = 0
    if bound == 0:
        raise OSError(f"cannot listen on {address}:{port}")
    await server.start()
    return server, bound
