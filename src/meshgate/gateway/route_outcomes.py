"""What one route (of any kind) comes to on the Gateways we own: the listeners it attaches to and its status.

A route's outcome depends on the route, its backends' resolution and the Gateways' listeners
(their specs, whether they are accepted, the kinds and namespaces they allow). Between two
translations the listeners rarely change while routes do, so outcomes are kept across
translations: each is reused while its route is the same object, its resolution is the same
object (the route table's, gateway/rules.py) and the listeners' side is what it was (an
"epoch" moves whenever anything attachment reads of the Gateways, Namespaces or listeners
differs). A route change then pays for that route's attachment and status alone; every other
route is a lookup and a replay of the listeners it attached to. Its status comes with it: the
same dict while the outcome holds, so that keeping lastTransitionTime costs nothing for it, and
written anew (with the times of the conditions whose status held) when it moves.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass

from .. import ir
from ..store import Store
from .attachment import GatewayState, attach
from .backends import RouteObject, RouteResolution
from .conditions import Condition
from .kind_conflicts import HostnameClaims, conflict_condition
from .listener_sets import ListenerSetState
from .route_kinds import route_kind
from .status import route_status
from .status_times import keep_object_times

Parents = list[tuple[dict, list[Condition]]]  # (parentRef as status echoes it, its conditions)
# (gateway namespace, name), the listener's index in its GatewayState, the route's hostnames there,
# and the index in `parents` of the parentRef that attached it
Attached = tuple[tuple[str, str], int, list[str], int]


@dataclass(slots=True)
class RouteOutcome:
    """One route's outcome: its parents' conditions and its status object (None when no
    parentRef is ours), the listeners it attached to, and the clusters it uses."""

    route: RouteObject
    epoch: int
    resolution: RouteResolution | None
    parents: Parents | None
    attached: list[Attached]
    clusters: dict[str, ir.ClusterRef]
    status: dict | None = None  # shared with the status the control plane holds: never changed


def attachment_token(store: Store, states: dict[tuple[str, str], GatewayState]) -> Hashable:
    """Everything of the Gateways' side that attachment reads: each listener's spec, whether it
    is accepted and the kinds it allows, every Gateway (a parentRef to one not ours is skipped),
    and every Namespace (allowedRoutes selectors read their labels)."""
    return (tuple((key, tuple((ls.listener, ls.accepted, ls.supported_kinds, ls.key) for ls in st.listeners))
                  for key, st in states.items()),
            tuple(store.list("Gateway")), tuple(store.list("ListenerSet")), tuple(store.list("Namespace")))


def unsupported_rules(route: RouteObject) -> tuple[Condition | None, Condition | None]:
    """What the route's unsupported values make of a parent that would accept it: the Accepted
    condition that rejects it when no rule can be served, else the PartiallyInvalid condition
    when some rules are dropped (each None when it does not apply)."""
    kind = route_kind(route.kind)
    problems = [kind.rule_problems(rule) for rule in route.rules]
    unsupported = "; ".join(p for ps in problems for p in ps)
    if not unsupported:
        return None, None
    if route.rules and all(problems):
        return Condition("Accepted", False, "UnsupportedValue", f"No rule can be served: {unsupported}"), None
    invalid_rules = ", ".join(kind.rule_id(r, i) for i, (r, ps) in enumerate(zip(route.rules, problems)) if ps)
    return None, Condition("PartiallyInvalid", True, "UnsupportedValue",
                           f"Dropped Rule(s) {invalid_rules}: {unsupported}; requests they match answer 500")


def route_outcome(store: Store, route: RouteObject, states: dict[tuple[str, str], GatewayState],
                  resolve: Callable[[RouteObject], RouteResolution], epoch: int,
                  listener_sets: dict[tuple[str, str], ListenerSetState] | None = None) -> RouteOutcome:
    """Attach a route and decide its parents' conditions (`resolve` gives its backends'
    resolution, asked for only when a parentRef is ours)."""
    outcomes = attach(store, route, states, listener_sets)
    if not outcomes:
        return RouteOutcome(route, epoch, None, None, [], {})
    resolution = resolve(route)
    rejected, partial = unsupported_rules(route)
    resolved = resolution.resolved_refs()
    index = {id(ls): (key, i) for key, st in states.items() for i, ls in enumerate(st.listeners)}
    parents: Parents = []
    attached: list[Attached] = []
    for outcome in outcomes:
        conds = [outcome.accepted]
        if outcome.accepted.status and rejected is not None:
            conds = [rejected]
        else:
            attached.extend((*index[id(ls)], hostnames, len(parents)) for ls, hostnames in outcome.listeners)
            if outcome.accepted.status and partial is not None:
                conds.append(partial)
        conds.insert(1, resolved)
        parents.append((outcome.ref.to_dict(), conds))
    return RouteOutcome(route, epoch, resolution, parents, attached, resolution.clusters())


def serve(route: RouteObject, outcome: RouteOutcome, states: dict[tuple[str, str], GatewayState]) -> None:
    """Count the route on each listener it attached to, once, and serve it there."""
    key = (route.kind, route.meta.namespace, route.meta.name)
    for gateway, i, hostnames, _ in outcome.attached:
        ls = states[gateway].listeners[i]
        if key in ls.counted:
            continue
        ls.counted.add(key)
        ls.attached_routes += 1
        ls.attached.append((route, hostnames))


class RouteOutcomes:
    """Route outcomes kept across translations (see the module's docstring)."""

    __slots__ = ("_conflicted", "_epoch", "_known", "_token", "_used")

    def __init__(self) -> None:
        self._known: dict[tuple[str, str, str], RouteOutcome] = {}
        # A route an older rival holds a listener from: (its own outcome, the listeners lost, the
        # outcome served), kept so that its status stays the same object while that holds.
        self._conflicted: dict[tuple[str, str, str], tuple[RouteOutcome, frozenset[int], RouteOutcome]] = {}
        self._token: Hashable = None
        self._epoch = 0
        self._used: set[tuple[str, str, str]] = set()

    def begin(self, token: Hashable) -> int:
        """A translation starts with the Gateways' side as `token` says; returns its epoch."""
        if token != self._token:
            self._token = token
            self._epoch += 1
        return self._epoch

    def outcome(self, store: Store, route: RouteObject, states: dict[tuple[str, str], GatewayState],
                resolve: Callable[[RouteObject], RouteResolution], now: str,
                listener_sets: dict[tuple[str, str], ListenerSetState] | None = None) -> RouteOutcome:
        """The route's outcome, reused when nothing it depends on moved; a new one's status is
        stamped `now` where a condition's status changed."""
        key = (route.kind, route.meta.namespace, route.meta.name)
        self._used.add(key)
        found = self._known.get(key)
        if found is not None and found.route is route and found.epoch == self._epoch and (
                found.parents is None or resolve(route) is found.resolution):
            return found
        out = self._known[key] = route_outcome(store, route, states, resolve, self._epoch, listener_sets)
        if out.parents is not None:
            before = found.status if found is not None else None
            if found is not None and found.route is route and found.parents == out.parents:
                out.status = before  # recomputed to the same conditions: the same object
            else:
                out.status = keep_object_times(before, route_status(route.kind, route.meta, out.parents, now))
        return out

    def against_rivals(self, route: RouteObject, outcome: RouteOutcome, claims: HostnameClaims,
                       now: str) -> RouteOutcome:
        """The outcome served once older routes of the rival kind have claimed their hostnames
        (gateway/kind_conflicts.py): `outcome` itself when none conflicts, else one without the
        listeners lost, whose parentRefs that lost every listener are not accepted."""
        rival = route_kind(route.kind).hostname_rival
        key = (route.kind, route.meta.namespace, route.meta.name)
        lost: dict[int, str] = {}
        if rival is not None:
            for n, (gateway, i, hostnames, _) in enumerate(outcome.attached):
                held = claims.taken(rival, (gateway, i), hostnames)
                if held is not None:
                    lost[n] = held
        before = self._conflicted.pop(key, None)
        if not lost:
            if before is not None and outcome.parents is not None:  # the conflict is over: new times
                outcome.status = keep_object_times(before[2].status,
                                                   route_status(route.kind, route.meta, outcome.parents, now))
            return outcome
        gone = frozenset(lost)
        if before is not None and before[0] is outcome and before[1] == gone:
            self._conflicted[key] = before
            return before[2]
        assert outcome.parents is not None and rival is not None
        kept = [a for n, a in enumerate(outcome.attached) if n not in gone]
        holding = {a[3] for a in kept}
        parents = list(outcome.parents)
        for n, (_, _, _, p) in enumerate(outcome.attached):
            if n in gone and p not in holding:
                ref, conds = parents[p]
                parents[p] = (ref, [conflict_condition(route.kind, rival, lost[n]),
                                    *(c for c in conds if c.type not in ("Accepted", "PartiallyInvalid"))])
        served = RouteOutcome(route, outcome.epoch, outcome.resolution, parents, kept, outcome.clusters)
        served.status = keep_object_times(before[2].status if before is not None else outcome.status,
                                          route_status(route.kind, route.meta, parents, now))
        self._conflicted[key] = (outcome, gone, served)
        return served

    def sweep(self) -> None:
        """Forget the routes not asked for since the last sweep."""
        for key in [k for k in self._known if k not in self._used]:
            del self._known[key]
            self._conflicted.pop(key, None)
        self._used = set()
