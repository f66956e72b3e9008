"""The route table: routes (of every kind) as every parent serves them, kept across translations."""

from __future__ import annotations

from .. import ir
from ..discovery.index import Discovery
from ..incremental.memo import Memo
from ..incremental.reads import Read, TrackedStore
from ..store import Store
from .backends import RouteObject, RouteResolution, resolve_route
from .policies.memo import PolicyMemo
from .route_kind import ListenerContext
from .route_kinds import route_kind
from .route_outcomes import RouteOutcomes
from .virtual_host_memo import VirtualHostMemo


class RouteTable:
    """Routes as every parent serves them: each route's references resolved once, and its IR
    routes built once per listener context (Gateway listeners and waypoint service ports alike).

    Results are memoized with what they read (incremental/), so one table can live across
    changes: `invalidate` drops the routes a change touched (the route itself, a Service or
    ReferenceGrant it resolved through), and every other route's IR is reused as it is.
    """

    __slots__ = ("_recorder", "_resolutions", "_routes", "_services", "_store", "hosts", "outcomes", "policies")

    def __init__(self, store: Store, services: Discovery) -> None:
        self._recorder = services.recorder
        self._store = TrackedStore(store, self._recorder)
        self._services = services
        # Keyed by name, the route object kept with the result: a result is used only for the
        # very object it was computed from (a stale one is computed again, not trusted).
        self._resolutions: Memo[tuple[str, str, str, bool], tuple[RouteObject, RouteResolution]] = Memo(self._recorder)
        self._routes: Memo[tuple[str, str, str, ListenerContext], tuple[RouteObject, list[tuple[tuple, ir.Route]]]] = \
            Memo(self._recorder)
        # Each route's attachment, conditions and status (route_outcomes.py).
        self.outcomes = RouteOutcomes()
        # Routes and clusters as policies shaped them (policies/memo.py).
        self.policies = PolicyMemo()
        # Virtual hosts as the last translation made them (virtual_host_memo.py).
        self.hosts = VirtualHostMemo()

    def invalidate(self, changed: set[Read]) -> None:
        """Drop the results that read anything in `changed` (incremental/reads.py)."""
        self._resolutions.invalidate(changed)
        self._routes.invalidate(changed)

    def resolution(self, route: RouteObject, mesh: bool = False) -> RouteResolution:
        """The route's backends and mirrors, resolved on first use (`mesh`: as a waypoint serves
        it, backends.resolve_route)."""
        key = (route.kind, route.meta.namespace, route.meta.name, mesh)

        def compute() -> tuple[RouteObject, RouteResolution]:
            self._recorder.read(("obj", *key[:3]))
            return route, resolve_route(self._store, self._services, route, mesh)  # type: ignore[arg-type]
        found = self._resolutions.get(key, compute)
        if found[0] is not route:
            self._resolutions.drop(key)
            found = self._resolutions.get(key, compute)
        return found[1]

    def routes_for(self, route: RouteObject, listener: ListenerContext) -> list[tuple[tuple, ir.Route]]:
        """(precedence key, IR route) for every match of every rule of the route, in this context;
        the keys of one kind sort together, in the order of the kinds' ranks."""
        key = (route.kind, route.meta.namespace, route.meta.name, listener)

        def compute() -> tuple[RouteObject, list[tuple[tuple, ir.Route]]]:
            res = self.resolution(route, listener.mesh)  # its reads count for this result too
            kind = route_kind(route.kind)
            assert kind.ir_routes is not None, f"{route.kind} has no HTTP routes"
            return route, [((kind.rank, *k), r) for k, r in kind.ir_routes(route, res, listener)]
        found = self._routes.get(key, compute)
        if found[0] is not route:
            self._routes.drop(key)
            found = self._routes.get(key, compute)
        return found[1]
