"""Gateway API translation: the store's Gateways and HTTPRoutes to per-gateway IR and status.

A pure function of the store (and the timestamp to stamp on conditions).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from .. import ir
from ..resources.gateway_api import HTTPRoute
from ..discovery.index import Discovery
from ..discovery.waypoints import captures
from ..discovery.waypoints import waypoints as find_waypoints
from ..store import Store
from .attachment import GatewayState, ParentOutcome, attach
from .backends import REASON_ORDER, Resolution, resolve_backend
from .classes import WAYPOINT_CLASSES, class_conditions, owned_classes
from .conditions import CONTROLLER_NAME, Condition
from .hostnames import effective_hostnames
from .listeners import ListenerState, validate_listeners
from .waypoints import CapturedService, translate_waypoint
from .precedence import precedence_key
from .rejected import rejected_statuses
from .rules import ListenerContext, rule_id, rule_problems, translate_rule
from .status import gateway_class_status, gateway_status, route_status
from .virtual_hosts import build_listeners


@dataclass(slots=True)
class GatewayTranslation:
    """Per-gateway IR and Kubernetes-shaped status for every object we own."""

    gateways: list[ir.GatewayConfig] = field(default_factory=list)
    status: list[dict] = field(default_factory=list)


@dataclass(slots=True)
class _RouteResolution:
    """A route's backends and mirrors, resolved once and shared by every listener it is on."""

    backends: list[list[Resolution]]
    mirrors: list[list[Resolution]]

    def clusters(self) -> dict[str, ir.ClusterRef]:
        out: dict[str, ir.ClusterRef] = {}
        for group in (*self.backends, *self.mirrors):
            for res in group:
                if res.cluster is not None:
                    out[res.cluster.name] = res.cluster
        return out

    def failures(self) -> list[Resolution]:
        return [r for group in (*self.backends, *self.mirrors) for r in group if r.cluster is None]


def _resolve_route(store: Store, services: Discovery, route: HTTPRoute) -> _RouteResolution:
    ns = route.meta.namespace
    backends = [[resolve_backend(store, services, ns, b.ref) for b in rule.backend_refs] for rule in route.rules]
    mirrors = [
        [resolve_backend(store, services, ns, f.request_mirror.backend)
         for f in rule.filters if f.type == "RequestMirror" and f.request_mirror is not None]
        for rule in route.rules
    ]
    return _RouteResolution(backends, mirrors)


def _resolved_refs(res: _RouteResolution) -> Condition:
    failures = res.failures()
    if not failures:
        return Condition("ResolvedRefs", True, "ResolvedRefs", "All references resolved")
    reason = min((f.reason for f in failures), key=REASON_ORDER.index)
    return Condition("ResolvedRefs", False, reason, "; ".join(f.message for f in failures))


def _gateway_address(state: GatewayState) -> Condition | None:
    gw = state.gateway
    ips = [a.value for a in gw.addresses if a.type == "IPAddress"]
    others = [a for a in gw.addresses if a.type != "IPAddress"]
    if others:
        return Condition("Accepted", False, "UnsupportedAddress",
                         f"Address type {others[0].type} is not supported; use IPAddress")
    if len(ips) > 1:
        return Condition("Accepted", False, "UnsupportedAddress", "Only one address per Gateway is supported")
    if ips:
        state.address = ips[0]
    return None


def translate_gateways(store: Store, discovery: Discovery, now: str) -> GatewayTranslation:
    """Translate every Gateway of ours and every HTTPRoute attached to one."""
    out = GatewayTranslation()
    owned = owned_classes(store)
    for name, gc in sorted(owned.items()):
        if gc is not None:
            out.status.append(gateway_class_status(gc.meta, class_conditions(gc), now))

    states: dict[tuple[str, str], GatewayState] = {}
    for gw in store.list("Gateway"):
        if gw.class_name not in owned or gw.class_name in WAYPOINT_CLASSES:
            continue
        state = GatewayState(gw, validate_listeners(store, gw))
        address_problem = _gateway_address(state)
        if address_problem is not None:
            state.conditions = [address_problem, Condition("Programmed", False, "Invalid", address_problem.message)]
            for ls in state.listeners:
                ls.programmed = False
        states[(gw.meta.namespace, gw.meta.name)] = state

    resolutions: dict[tuple[str, str], _RouteResolution] = {}
    routes = sorted(store.list("HTTPRoute"), key=lambda r: (r.meta.creation_timestamp, r.meta.namespace, r.meta.name))
    for route in routes:
        key = (route.meta.namespace, route.meta.name)
        problems = [rule_problems(rule) for rule in route.rules]
        all_invalid = bool(route.rules) and all(problems)
        outcomes = attach(store, route, states)
        if not outcomes:
            continue
        res = _resolve_route(store, discovery, route)
        resolutions[key] = res
        resolved = _resolved_refs(res)
        unsupported = "; ".join(p for ps in problems for p in ps)
        invalid_rules = ", ".join(rule_id(r, i) for i, (r, ps) in enumerate(zip(route.rules, problems)) if ps)
        parents: list[tuple[dict, list[Condition]]] = []
        for outcome in outcomes:
            conds = [outcome.accepted]
            if outcome.accepted.status and all_invalid:
                conds = [Condition("Accepted", False, "UnsupportedValue", f"No rule can be served: {unsupported}")]
            else:
                _attach_to_listeners(route, outcome)
                if outcome.accepted.status and unsupported:
                    conds.append(Condition("PartiallyInvalid", True, "UnsupportedValue",
                                           f"Dropped Rule(s) {invalid_rules}: {unsupported}; requests they match answer 500"))
            conds.insert(1, resolved)
            parents.append((outcome.ref.to_dict(), conds))
        out.status.append(route_status(route.meta, parents, now))

    routes_cache: dict[tuple[str, str, int, str], list[tuple[tuple, ir.Route]]] = {}

    def routes_for(route: HTTPRoute, ctx: ListenerContext) -> list[tuple[tuple, ir.Route]]:
        ck = (route.meta.namespace, route.meta.name, ctx.port, ctx.scheme)
        cached = routes_cache.get(ck)
        if cached is None:
            res = resolutions[(route.meta.namespace, route.meta.name)]
            cached = []
            for ri, rule in enumerate(route.rules):
                ir_routes = translate_rule(route, rule, ri, res.backends[ri], res.mirrors[ri], ctx)
                cached.extend((precedence_key(route, ri, mi, m), r)
                              for mi, (m, r) in enumerate(zip(rule.matches, ir_routes)))
            routes_cache[ck] = cached
        return cached

    for (ns, name), state in states.items():
        gw = state.gateway
        listeners, configs = build_listeners(state.listeners, state.address, routes_for)
        cluster_refs: dict[str, ir.ClusterRef] = {}
        used: set[str] = set()
        for rc in configs:
            for vh in rc.virtual_hosts:
                for r in vh.routes:
                    used.update(b.cluster for b in r.backends if b.cluster)
                    used.update(m.cluster for m in r.mirrors)
        for ls in state.listeners:
            for route, _ in ls.attached:
                for cname, cref in resolutions[(route.meta.namespace, route.meta.name)].clusters().items():
                    if cname in used:
                        cluster_refs[cname] = cref
        secrets = {s.name: s for ls in state.listeners if ls.programmed for s in ls.secrets}
        out.gateways.append(ir.GatewayConfig(
            ns, name, tuple(listeners), tuple(configs),
            tuple(cluster_refs[k] for k in sorted(cluster_refs)),
            tuple(secrets[k] for k in sorted(secrets)),
        ))
        out.status.append(gateway_status(gw.meta, _gateway_conditions(state), state.listeners,
                                         [{"type": "IPAddress", "value": state.address}] if gw.addresses else [], now))

    _translate_waypoints(store, discovery, routes, out, now)
    out.status.extend(rejected_statuses(store, owned, now))
    return out


def _translate_waypoints(store: Store, discovery: Discovery, routes: list[HTTPRoute], out: GatewayTranslation,
                         now: str) -> None:
    """Waypoint Gateways, the services they capture, and the routes attached to those services."""
    index = find_waypoints(store)
    if not index:
        return
    by_waypoint: dict[tuple[str, str], list[CapturedService]] = {}
    for c in captures(store):
        if not c.captured or c.waypoint is None:
            continue
        models = ([m] if (m := discovery.service(c.namespace, c.name)) else []) if c.kind == "Service" \
            else discovery.service_entry(c.namespace, c.name)
        by_waypoint.setdefault(c.waypoint, []).extend(CapturedService(c.kind, m) for m in models)
    parents: dict = {}
    for key in sorted(index):
        gw = store.get("Gateway", *key)
        ips = [a.value for a in gw.addresses if a.type == "IPAddress"]
        cfg = translate_waypoint(store, discovery, key[0], key[1], ips[0] if ips else "0.0.0.0",
                                 by_waypoint.get(key, []), routes, parents)
        out.gateways.append(dataclasses.replace(cfg, waypoint=True))
        listeners = [ListenerState(gw, lst, True, True,
                                   [Condition("Accepted", True, "Accepted", "Waypoint listener accepted"),
                                    Condition("ResolvedRefs", True, "ResolvedRefs", "All references resolved"),
                                    Condition("Programmed", True, "Programmed", "Listener programmed")], ())
                     for lst in gw.listeners]
        captured = len(by_waypoint.get(key, []))
        out.status.append(gateway_status(gw.meta, [
            Condition("Accepted", True, "Accepted", f"Waypoint for {index[key].waypoint_for}"),
            Condition("Programmed", True, "Programmed", f"Captures {captured} service(s)"),
        ], listeners, [{"type": "IPAddress", "value": ips[0]}] if ips else [], now))
    existing = {(s["metadata"].get("namespace", ""), s["metadata"]["name"]): s
                for s in out.status if s["kind"] == "HTTPRoute"}
    for (ns, name), refs in sorted(parents.items()):
        entries = [{"parentRef": ref, "controllerName": CONTROLLER_NAME,
                    "conditions": [c.to_dict(store.get("HTTPRoute", ns, name).meta.generation, now) for c in conds]}
                   for ref, conds in refs.values()]
        if (ns, name) in existing:
            existing[(ns, name)]["status"]["parents"].extend(entries)
        else:
            status = route_status(store.get("HTTPRoute", ns, name).meta, [], now)
            status["status"]["parents"] = entries
            out.status.append(status)


def _attach_to_listeners(route: HTTPRoute, outcome: ParentOutcome) -> None:
    """Count the route on each listener it attached to, once, and serve it there."""
    key = (route.meta.namespace, route.meta.name)
    for ls in outcome.listeners:
        if key in ls.counted:
            continue
        ls.counted.add(key)
        ls.attached_routes += 1
        ls.attached.append((route, effective_hostnames(ls.listener.hostname, route.hostnames)))


def _gateway_conditions(state: GatewayState) -> list[Condition]:
    if state.conditions:
        return state.conditions
    valid = [ls for ls in state.listeners if ls.accepted]
    if not valid:
        accepted = Condition("Accepted", False, "ListenersNotValid", "No listener is valid")
    elif len(valid) < len(state.listeners):
        accepted = Condition("Accepted", True, "ListenersNotValid", "Some listeners are not valid")
    else:
        accepted = Condition("Accepted", True, "Accepted", "Gateway accepted")
    if any(ls.programmed for ls in state.listeners):
        programmed = Condition("Programmed", True, "Programmed", "Gateway programmed")
    else:
        programmed = Condition("Programmed", False, "Invalid", "No listener can be served")
    return [accepted, programmed]
