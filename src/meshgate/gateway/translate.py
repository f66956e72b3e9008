"""Gateway API translation: the store's Gateways and routes (every kind of route_kinds.py) to
per-gateway IR and status.

A pure function of the store (and the timestamp to stamp on conditions).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from .. import ir
from ..discovery.index import Discovery
from ..discovery.waypoints import Capture, Waypoint, captures
from ..discovery.waypoints import waypoints as find_waypoints
from ..naming import WAYPOINT_CLASSES
from ..resources.errors import InputError
from ..resources.gateway_api import Gateway, GatewayClass
from ..store import Store
from .attachment import GatewayState
from .backend_client_tls import backend_client_certificate, resolved_refs_conditions
from .backend_tls_status import backend_tls_statuses
from .backends import RouteObject, service_models
from .classes import class_conditions, owned_classes, unknown_class_problems
from .conditions import Condition
from .frontend_tls import insecure_fallback_conditions
from .host_ports import resolve_host_ports
from .infrastructure import infrastructure, parameters_problem
from .kind_conflicts import HostnameClaims
from .listener_sets import ListenerSetState, decide_conditions, merge_listener_sets
from .listeners import ListenerState, validate_listeners
from .passthrough_clusters import backend_tls_targets, without_backend_tls
from .policies.apply import GatewayPolicies
from .policies.client_traffic import client_policies
from .policies.istio_security import IstioSecurity
from .rejected import rejected_statuses
from .route_kinds import ROUTE_KINDS, route_kind
from .route_outcomes import attachment_token, serve
from .route_table import RouteTable
from .status import gateway_class_status, gateway_status, listener_set_status, route_status
from .telemetry import access_logs, collector_clusters, tracing
from .virtual_hosts import build_listeners
from .waypoints import CapturedService, RouteParents, client_addresses, translate_waypoint


@dataclass(slots=True)
class GatewayTranslation:
    """Per-gateway IR, Kubernetes-shaped status for every object we own, and problems with the
    input that only translation sees (a Gateway naming a class that does not exist)."""

    gateways: list[ir.GatewayConfig] = field(default_factory=list)
    status: list[dict] = field(default_factory=list)
    problems: list[InputError] = field(default_factory=list)


def _gateway_address(state: GatewayState, assigned: str | None,
                     usable: Callable[[str], bool] | None = None) -> tuple[Condition, Condition] | None:
    """Where the Gateway listens: its one IPAddress, else the address assigned to it, else anywhere.

    None when it can listen, else the Accepted and Programmed conditions saying why not. An
    IPAddress with no value asks for one to be assigned (GatewayAddressEmpty): the address pool's,
    if there is one to give (`meshgate run --address-pool`); else it is not programmed
    (AddressNotAssigned, as the spec requires).
    """
    gw = state.gateway
    others = [a for a in gw.addresses if a.type != "IPAddress"]
    if others:
        message = f"Address type {others[0].type} is not supported; use IPAddress"
        return (Condition("Accepted", False, "UnsupportedAddress", message),
                Condition("Programmed", False, "Invalid", message))
    unusable = [a.value for a in gw.addresses if a.value and usable is not None and not usable(a.value)]
    if unusable:  # GatewayStaticAddresses: accepted, but it cannot be given that address
        return (Condition("Accepted", True, "Accepted", "Gateway accepted"),
                Condition("Programmed", False, "AddressNotUsable", f"Address {unusable[0]} cannot be assigned here"))
    if len(gw.addresses) > 1:
        message = "Only one address per Gateway is supported"
        return (Condition("Accepted", False, "UnsupportedAddress", message),
                Condition("Programmed", False, "Invalid", message))
    if gw.addresses and gw.addresses[0].value:
        state.address = gw.addresses[0].value
    elif assigned:
        state.address = assigned
    elif gw.addresses:
        return (Condition("Accepted", True, "Accepted", "Gateway accepted"),
                Condition("Programmed", False, "AddressNotAssigned",
                          "No IPAddress to assign: spec.addresses asks for one without a value, and there is no "
                          "address pool (meshgate run --address-pool CIDR) or it is used up"))
    return None


def _not_served(state: GatewayState, accepted: Condition, programmed: Condition) -> None:
    """The Gateway's conditions, and none of its listeners served, for the same reason."""
    state.conditions = [accepted, programmed]
    reason = "Pending" if programmed.reason == "AddressNotAssigned" else "Invalid"
    for ls in state.listeners:
        ls.programmed = False
        ls.conditions = [c for c in ls.conditions if c.type != "Programmed"]
        ls.conditions.append(Condition("Programmed", False, reason, programmed.message))


def _parameters_problem(store: Store, gw: Gateway, owned: Mapping[str, GatewayClass | None]) -> str | None:
    """Why the Gateway's parameters are invalid: its class's parametersRef, or its own."""
    gc = owned.get(gw.class_name)
    problem = parameters_problem(gc.parameters_ref, store) if gc is not None else None
    if problem:
        return f"GatewayClass {gw.class_name} is not accepted: {problem}"
    return parameters_problem(gw.infrastructure.parameters_ref, store, gw.meta.namespace)


def translate_gateways(store: Store, discovery: Discovery, now: str,
                       waypoint_index: dict[tuple[str, str], Waypoint] | None = None,
                       waypoint_captures: list[Capture] | None = None,
                       addresses: Mapping[str, str] | None = None, shared_host: bool = False,
                       table: RouteTable | None = None,
                       address_usable: Callable[[str], bool] | None = None) -> GatewayTranslation:
    """Translate every Gateway of ours and every route attached to one.

    `waypoint_index` and `waypoint_captures` are discovery.waypoints' `waypoints(store)` and
    `captures(store)`, when the caller has them already; else they are computed here.
    `addresses` ("ns/name" → IP) places Gateways without `spec.addresses` (an address pool's work).
    `shared_host`: every Gateway's proxies run on one host (`meshgate run`), so an address:port
    goes to the oldest Gateway asking for it (gateway/host_ports.py). `table`: the route table of
    an earlier translation over the same store and `discovery`, already told what changed (the
    IR of every route it did not touch is reused). `address_usable`: whether an address a Gateway
    asks for can be given to it (None: any); one that cannot leaves the Gateway Accepted but not
    Programmed (AddressNotUsable).
    """
    out = GatewayTranslation()
    owned = owned_classes(store)
    for name, gc in sorted(owned.items()):
        if gc is not None:
            out.status.append(gateway_class_status(gc.meta, class_conditions(gc, store), now))

    # Gateways of other classes are not ours (no status on them), but a class no one has is likely a typo.
    out.problems = unknown_class_problems(store, owned)
    states: dict[tuple[str, str], GatewayState] = {}
    for gw in store.list("Gateway"):
        if gw.class_name not in owned or gw.class_name in WAYPOINT_CLASSES:
            continue
        merged = validate_listeners(store, gw)
        sets = merge_listener_sets(store, gw, merged)  # appends the allowed sets' listeners
        state = GatewayState(gw, merged, listener_sets=sets)
        params = _parameters_problem(store, gw, owned)
        if params:
            _not_served(state, Condition("Accepted", False, "InvalidParameters", params),
                        Condition("Programmed", False, "Invalid", params))
        else:
            placement = _gateway_address(state, (addresses or {}).get(f"{gw.meta.namespace}/{gw.meta.name}"),
                                         address_usable)
            if placement is not None:
                _not_served(state, *placement)
        states[(gw.meta.namespace, gw.meta.name)] = state
    if shared_host:
        resolve_host_ports(list(states.values()))

    listener_sets: dict[tuple[str, str], ListenerSetState] = {}
    for state in states.values():
        for lss in state.listener_sets:
            decide_conditions(lss, _gateway_conditions(state))
            listener_sets[(lss.listener_set.meta.namespace, lss.listener_set.meta.name)] = lss

    table = table if table is not None else RouteTable(store, discovery)
    routes: list[RouteObject] = sorted((r for kind in ROUTE_KINDS for r in store.list(kind)),
                                       key=lambda r: (r.meta.creation_timestamp, r.meta.namespace, r.meta.name, r.kind))
    route_clusters: dict[tuple[str, str, str], dict[str, ir.ClusterRef]] = {}  # attached route → its clusters
    route_parents: dict[tuple[str, str, str], set[tuple[str, str]]] = {}  # attached route → its Gateways
    table.outcomes.begin(attachment_token(store, states))
    claims = HostnameClaims()
    for route in routes:
        outcome = table.outcomes.outcome(store, route, states, table.resolution, now, listener_sets)
        if outcome.status is None:
            continue
        outcome = table.outcomes.against_rivals(route, outcome, claims, now)
        assert outcome.status is not None  # a served outcome always has its status
        serve(route, outcome, states)
        for gateway, i, hostnames, _ in outcome.attached:
            claims.claim(route.kind, (gateway, i), hostnames)
            route_parents.setdefault((route.kind, route.meta.namespace, route.meta.name), set()).add(gateway)
        route_clusters[(route.kind, route.meta.namespace, route.meta.name)] = outcome.clusters
        out.status.append(outcome.status)
    table.outcomes.sweep()

    targeted = backend_tls_targets(store, discovery)
    policies = GatewayPolicies(store, table.policies, discovery)
    istio = IstioSecurity(store, table.policies, discovery)
    client_traffic = client_policies(store)
    for (ns, name), state in states.items():
        gw = state.gateway
        listeners, configs = build_listeners(state.listeners, state.address, table.routes_for, table.resolution,
                                             table.hosts)
        resolved = {cname: cref for ls in state.listeners for route, _ in ls.attached
                    for cname, cref in route_clusters[(route.kind, route.meta.namespace, route.meta.name)].items()}
        listeners, plain = without_backend_tls(listeners, resolved, targeted)
        if client_traffic is not None:
            listeners = client_traffic.apply((ns, name), listeners)
        variants: dict[str, ir.ClusterRef] = {}
        if policies:
            configs, variants = policies.apply((ns, name), configs, resolved)
            resolved.update(variants)
        istio_clusters: tuple[ir.ClusterRef, ...] = ()
        if istio:
            configs, istio_clusters = istio.apply(gw, configs, dict(gw.infrastructure.labels), waypoint=False)
        cluster_refs: dict[str, ir.ClusterRef] = dict(plain)
        # What policies made is used (variant backends, an authorization service's cluster).
        used: set[str] = set(variants)
        for rc in configs:
            for vh in rc.virtual_hosts:
                for r in vh.routes:
                    used.update(b.cluster for b in r.backends if b.cluster)
                    used.update(m.cluster for m in r.mirrors)
        weighted: dict[str, ir.WeightedCluster] = {}
        for lst in listeners:
            for chain in lst.filter_chains:
                used.update(b.cluster for b in chain.tcp_backends or () if b.cluster)
                if chain.weighted is not None:
                    weighted[chain.weighted.name] = chain.weighted
                    used.update(ref.name for ref, _ in chain.weighted.backends)
        cluster_refs.update((cname, cref) for cname, cref in resolved.items() if cname in used)
        cluster_refs.update((c.name, c) for c in istio_clusters)  # a CUSTOM provider's
        secrets = {s.name: s for ls in state.listeners if ls.programmed for s in ls.secrets}
        client_cert, unresolved, why = backend_client_certificate(store, gw)
        if client_cert is not None:
            secrets[client_cert.name] = client_cert
        traced = tracing(gw, store, owned.get(gw.class_name), discovery)
        logged = access_logs(gw, store, owned.get(gw.class_name), discovery)
        out.gateways.append(ir.GatewayConfig(
            ns, name, tuple(listeners), tuple(configs),
            tuple(cluster_refs[k] for k in sorted(cluster_refs)),
            tuple(secrets[k] for k in sorted(secrets)),
            infrastructure=infrastructure(gw, store, owned.get(gw.class_name)),
            tracing=traced,
            access_logs=logged,
            backend_client_certificate=client_cert.name if client_cert is not None else None,
            weighted_clusters=tuple(weighted[k] for k in sorted(weighted)) + collector_clusters(traced, logged),
        ))
        out.status.append(gateway_status(gw.meta, _gateway_conditions(state) + insecure_fallback_conditions(gw)
                                         + resolved_refs_conditions(gw, unresolved, why, state.own_listeners),
                                         state.own_listeners,
                                         [{"type": "IPAddress", "value": state.address}]
                                         if state.address != "0.0.0.0" else [], now,
                                         sum(s.accepted for s in state.listener_sets)
                                         if gw.allowed_listeners is not None else None))
        out.status.extend(listener_set_status(s.listener_set.meta, s.conditions, s.listeners, now)
                          for s in state.listener_sets)
    table.hosts.sweep()

    # Waypoints serve the mesh kinds' routes with Service parents (GAMMA): HTTPRoutes and GRPCRoutes.
    mesh_routes = [r for r in routes if route_kind(r.kind).mesh]
    _translate_waypoints(store, discovery, mesh_routes, table, out, now, waypoint_index, waypoint_captures, istio)
    out.problems.extend(istio.problems)  # the mesh config's too, with or without policies
    out.status.extend(backend_tls_statuses(store, out.gateways, now))
    if policies:
        out.status.extend(policies.statuses(route_parents, set(states), now))
        out.problems.extend(policies.problems)
        policies.done()
    if client_traffic is not None:
        out.status.extend(client_traffic.statuses(set(states), now))
        out.problems.extend(client_traffic.problems)
    out.status.extend(rejected_statuses(store, owned, now))
    return out


def _translate_waypoints(store: Store, discovery: Discovery, routes: list[RouteObject], table: RouteTable,
                         out: GatewayTranslation, now: str, index: dict[tuple[str, str], Waypoint] | None,
                         caught: list[Capture] | None, istio: IstioSecurity | None = None) -> None:
    """Waypoint Gateways, the services they capture, and the routes attached to those services."""
    if index is None:
        index = find_waypoints(store)
    if not index:
        return
    if caught is None:
        caught = captures(store, index)
    by_waypoint: dict[tuple[str, str], list[CapturedService]] = {}
    for c in caught:
        if not c.captured or c.waypoint is None:
            continue
        by_waypoint.setdefault(c.waypoint, []).extend(
            CapturedService(c.kind, m) for m in service_models(discovery, c.kind, c.namespace, c.name))
    parents = RouteParents()
    owned = owned_classes(store)
    clients = client_addresses(store)
    for key in sorted(index):
        gw = store.get("Gateway", *key)
        ips = [a.value for a in gw.addresses if a.type == "IPAddress" and a.value]
        cfg = translate_waypoint(gw, ips[0] if ips else "0.0.0.0", by_waypoint.get(key, []), routes, table, parents,
                                 clients)
        params = _parameters_problem(store, gw, owned)
        if params:
            # Not accepted: its proxy gets nothing to serve (the captured services are still told
            # to use it, as the labels say).
            cfg = dataclasses.replace(cfg, listeners=(), route_configs=(), clusters=(), secrets=())
        if istio:
            # Istio's policies on the waypoint and on the services it captures (their targetRefs).
            configs, extra = istio.apply(gw, cfg.route_configs, {}, waypoint=True)
            cfg = dataclasses.replace(cfg, route_configs=tuple(configs))
            if extra:  # a CUSTOM provider's cluster
                merged = {c.name: c for c in cfg.clusters + extra}
                cfg = dataclasses.replace(cfg, clusters=tuple(merged[k] for k in sorted(merged)))
        traced = tracing(gw, store, owned.get(gw.class_name), discovery)
        logged = access_logs(gw, store, owned.get(gw.class_name), discovery)
        out.gateways.append(dataclasses.replace(cfg, waypoint=True,
                                                infrastructure=infrastructure(gw, store, owned.get(gw.class_name)),
                                                tracing=traced, access_logs=logged,
                                                weighted_clusters=cfg.weighted_clusters
                                                + collector_clusters(traced, logged)))
        listeners = [ListenerState(gw, lst, True, not params,
                                   [Condition("Accepted", True, "Accepted", "Waypoint listener accepted"),
                                    Condition("ResolvedRefs", True, "ResolvedRefs", "All references resolved"),
                                    Condition("Programmed", False, "Invalid", params) if params
                                    else Condition("Programmed", True, "Programmed", "Listener programmed")], ())
                     for lst in gw.listeners]
        captured = len(by_waypoint.get(key, []))
        conditions = [Condition("Accepted", False, "InvalidParameters", params),
                      Condition("Programmed", False, "Invalid", params)] if params else [
            Condition("Accepted", True, "Accepted", f"Waypoint for {index[key].waypoint_for}"),
            Condition("Programmed", True, "Programmed", f"Captures {captured} service(s)"),
        ]
        out.status.append(gateway_status(gw.meta, conditions, listeners,
                                         [{"type": "IPAddress", "value": ips[0]}] if ips else [], now))
    # A route with Gateway parents too already has a status (its Gateway parents'): the Service
    # parents are added to it.
    mesh_kinds = {r.kind for r in routes}
    existing = {(s["kind"], s["metadata"].get("namespace", ""), s["metadata"]["name"]): i
                for i, s in enumerate(out.status) if s["kind"] in mesh_kinds}
    by_key = {(r.kind, r.meta.namespace, r.meta.name): r for r in routes}
    for route_key, refs in sorted(parents.refs.items()):
        conds = parents.conditions[route_key]
        status = route_status(route_key[0], by_key[route_key].meta, [(ref, conds) for ref in refs.values()], now)
        if route_key in existing:
            # A copy: the Gateway parents' status may be reused by the next translation as it is.
            gateway_parents = out.status[existing[route_key]]
            out.status[existing[route_key]] = {**gateway_parents, "status": {
                **gateway_parents["status"],
                "parents": gateway_parents["status"]["parents"] + status["status"]["parents"]}}
        else:
            out.status.append(status)


def _gateway_conditions(state: GatewayState) -> list[Condition]:
    if state.conditions:
        return state.conditions
    own = state.own_listeners
    valid = [ls for ls in own if ls.accepted]
    if not valid:
        accepted = Condition("Accepted", False, "ListenersNotValid", "No listener is valid")
    elif len(valid) < len(own):
        accepted = Condition("Accepted", True, "ListenersNotValid", "Some listeners are not valid")
    else:
        accepted = Condition("Accepted", True, "Accepted", "Gateway accepted")
    if any(ls.programmed for ls in own):
        programmed = Condition("Programmed", True, "Programmed", "Gateway programmed")
    elif state.ports_taken:
        programmed = Condition("Programmed", False, "AddressNotUsable",
                               "Its listeners' addresses and ports are used by older Gateways on this host")
    else:
        programmed = Condition("Programmed", False, "Invalid", "No listener can be served")
    return [accepted, programmed]
