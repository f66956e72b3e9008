"""The suite's status assertions (conformance/utils/kubernetes/helpers.go) over `meshgate status -o json`.

Each check is a pure function of the status document: None when it holds, else why not, so the
runner can retry it until meshgate has caught up. Every condition must carry the object's current
generation (stale status is refused, as upstream does): 1 as applied, more after a test's spec
patches (the caller passes it; checks.py counts them).
"""

from __future__ import annotations

from collections.abc import Sequence

from .cluster import CONTROLLER
from .expect import GatewayRef, Key
from .suite import Condition, ExpectedListener, ExpectedParent

GROUP = "gateway.networking.k8s.io"
GENERATION = 1


def find(doc: dict, kind: str, key: Key) -> dict | None:
    """The status object of one resource, if meshgate wrote one."""
    for obj in doc.get("status", []):
        meta = obj.get("metadata", {})
        if obj.get("kind") == kind and meta.get("name") == key.name and meta.get("namespace", "") == key.namespace:
            return obj
    return None


def _conditions_problem(conditions: list[dict], wanted: Sequence[Condition], where: str,
                        generation: int = GENERATION) -> str | None:
    for want in wanted:
        got = [c for c in conditions if c.get("type") == want.type]
        if not got:
            return f"{where}: no {want.type} condition"
        c = got[0]
        if c.get("status") != want.status or (want.reason and c.get("reason") != want.reason):
            return (f"{where}: expected {want.type}={want.status}{'/' + want.reason if want.reason else ''}, "
                    f"got {c.get('status')}/{c.get('reason')} ({c.get('message', '')})")
    for c in conditions:
        if c.get("observedGeneration") != generation:
            return f"{where}: condition {c.get('type')} has observedGeneration {c.get('observedGeneration')}"
    return None


def gateway_class_accepted(doc: dict, name: str) -> str | None:
    """The suite's precondition: the GatewayClass is Accepted."""
    obj = find(doc, "GatewayClass", Key("", name))
    if obj is None:
        return f"GatewayClass {name} has no status"
    return _conditions_problem(obj["status"].get("conditions", []), [Condition("Accepted")], f"GatewayClass {name}")


def gateway_problem(doc: dict, gateway: GatewayRef, generation: int = GENERATION) -> str | None:
    """Gateway Accepted and Programmed, with an address; its (named) listeners ready."""
    obj = find(doc, "Gateway", gateway.key)
    if obj is None:
        return f"Gateway {gateway.key} has no status"
    st = obj["status"]
    if not st.get("addresses"):
        return f"Gateway {gateway.key} has no status.addresses"
    problem = _conditions_problem(st.get("conditions", []), [Condition("Accepted"), Condition("Programmed")],
                                  f"Gateway {gateway.key}", generation)
    if problem:
        return problem
    listeners = {ls["name"]: ls for ls in st.get("listeners", [])}
    for name in gateway.listeners or list(listeners):
        if name not in listeners:
            return f"Gateway {gateway.key} has no status for listener {name}"
        problem = _conditions_problem(listeners[name].get("conditions", []),
                                      [Condition("Accepted"), Condition("ResolvedRefs"), Condition("Programmed")],
                                      f"Gateway {gateway.key} listener {name}", generation)
        if problem:
            return problem
    return None


def gateway_latest_problem(doc: dict, gateway: Key, generation: int = GENERATION) -> str | None:
    """GatewayMustHaveLatestConditions: the Gateway has status, every condition of the latest generation."""
    obj = find(doc, "Gateway", gateway)
    if obj is None:
        return f"Gateway {gateway} has no status"
    return _conditions_problem(obj["status"].get("conditions", []), [], f"Gateway {gateway}", generation)


def gateway_condition_problem(doc: dict, gateway: Key, condition: Condition,
                              generation: int = GENERATION) -> str | None:
    """GatewayMustHaveCondition: latest conditions, one of them as expected (an empty reason: any)."""
    obj = find(doc, "Gateway", gateway)
    if obj is None:
        return f"Gateway {gateway} has no status"
    return _conditions_problem(obj["status"].get("conditions", []), [condition], f"Gateway {gateway}", generation)


def gateway_address_problem(doc: dict, gateway: Key, generation: int = GENERATION) -> str | None:
    """WaitForGatewayAddress: latest conditions, and a status address with a type."""
    problem = gateway_latest_problem(doc, gateway, generation)
    if problem:
        return problem
    obj = find(doc, "Gateway", gateway) or {}
    if not any(a.get("type") for a in obj["status"].get("addresses") or []):
        return f"Gateway {gateway} has no status.addresses entry with a type"
    return None


def gateway_ip(doc: dict, gateway: Key) -> str | None:
    """The first address in the Gateway's status."""
    obj = find(doc, "Gateway", gateway)
    addresses = (obj or {}).get("status", {}).get("addresses") or []
    return addresses[0].get("value") if addresses else None


def _parent_entry(doc: dict, route: Key, gateway: Key, route_kind: str = "HTTPRoute",
                  parent_kind: str = "Gateway") -> tuple[dict | None, str | None]:
    obj = find(doc, route_kind, route)
    if obj is None:
        return None, f"{route_kind} {route} has no status"
    for p in obj["status"].get("parents", []):
        ref = p.get("parentRef", {})
        if ref.get("name") == gateway.name and ref.get("namespace", route.namespace) == gateway.namespace \
                and ref.get("kind", "Gateway") == parent_kind:
            return p, None
    return None, f"{route_kind} {route} has no status.parents entry for {parent_kind} {gateway}"


def route_accepted_problem(doc: dict, route: Key, gateway: Key, route_kind: str = "HTTPRoute",
                           parent_kind: str = "Gateway") -> str | None:
    """The parent entry GatewayAndHTTPRoutesMustBeAccepted wants: ours, group and kind set, the
    namespace set when the Gateway is elsewhere (else the entry is not found), Accepted=True/Accepted."""
    entry, problem = _parent_entry(doc, route, gateway, route_kind, parent_kind)
    if entry is None:
        return problem
    ref = entry["parentRef"]
    where = f"{route_kind} {route} parent {gateway}"
    if entry.get("controllerName") != CONTROLLER:
        return f"{where}: controllerName {entry.get('controllerName')!r}"
    if ref.get("group") != GROUP or ref.get("kind") != parent_kind:
        return f"{where}: parentRef group/kind must be set explicitly, got {ref}"
    return _conditions_problem(entry.get("conditions", []), [Condition("Accepted", "True", "Accepted")], where)


def route_condition_problem(doc: dict, route: Key, gateway: Key, condition: Condition,
                            route_kind: str = "HTTPRoute", parent_kind: str = "Gateway") -> str | None:
    """HTTPRouteMustHaveCondition (and the other route kinds')."""
    entry, problem = _parent_entry(doc, route, gateway, route_kind, parent_kind)
    if entry is None:
        return problem
    return _conditions_problem(entry.get("conditions", []), [condition], f"{route_kind} {route} parent {gateway}")


def route_parents_problem(doc: dict, route: Key, parents: Sequence[ExpectedParent],
                          namespace_required: bool, route_kind: str = "HTTPRoute") -> str | None:
    """HTTPRouteMustHaveParents (and TCPRouteMustHaveParents...): as many parents as expected, each
    matching one expected."""
    obj = find(doc, route_kind, route)
    if obj is None:
        return f"{route_kind} {route} has no status"
    actual = obj["status"].get("parents", [])
    if len(actual) != len(parents):
        return f"{route_kind} {route}: expected {len(parents)} parents, got {len(actual)}"
    for want in parents:
        reasons = []
        for got in actual:
            ref = got.get("parentRef", {})
            if got.get("controllerName") != CONTROLLER or ref.get("name") != want.gateway.name:
                continue
            if ref.get("group") != GROUP or ref.get("kind") != want.kind:
                reasons.append(f"group/kind not set or not {want.kind}: {ref}")
                continue
            want_ns = want.gateway.namespace if want.namespaced else None
            if ref.get("namespace") != want_ns and (namespace_required or ref.get("namespace") is not None):
                reasons.append(f"namespace {ref.get('namespace')!r}, expected {want_ns!r}")
                continue
            if want.section_name and ref.get("sectionName") != want.section_name:
                reasons.append(f"sectionName {ref.get('sectionName')!r}, expected {want.section_name!r}")
                continue
            problem = _conditions_problem(got.get("conditions", []), want.conditions, f"parent {want.gateway}")
            if problem:
                reasons.append(problem)
                continue
            break
        else:
            return f"{route_kind} {route}: no parent matches {want}: {'; '.join(reasons) or 'none for that Gateway'}"
    return None


def listeners_problem(doc: dict, gateway: Key, listeners: Sequence[ExpectedListener],
                      kind: str = "Gateway", generation: int = GENERATION) -> str | None:
    """GatewayStatusMustHaveListeners (kind ListenerSet: ListenerSetStatusMustHaveListeners): a
    Gateway's conditions of the latest generation, and exactly these listeners."""
    obj = find(doc, kind, gateway)
    if obj is None:
        return f"{kind} {gateway} has no status"
    if kind == "Gateway":
        problem = _conditions_problem(obj["status"].get("conditions", []), [], f"Gateway {gateway}", generation)
        if problem:
            return problem
    actual = {ls["name"]: ls for ls in obj["status"].get("listeners", [])}
    if set(actual) != {ls.name for ls in listeners}:
        return f"{kind} {gateway}: listeners {sorted(actual)}, expected {sorted(ls.name for ls in listeners)}"
    for want in listeners:
        got = actual[want.name]
        where = f"{kind} {gateway} listener {want.name}"
        if got.get("attachedRoutes") != want.attached_routes:
            return f"{where}: attachedRoutes {got.get('attachedRoutes')}, expected {want.attached_routes}"
        kinds = {(k.get("group", GROUP), k.get("kind")) for k in got.get("supportedKinds", [])}
        for route_kind in want.supported_kinds:
            if (GROUP, route_kind) not in kinds:
                return f"{where}: supportedKinds {sorted(kinds)} lacks {route_kind}"
        problem = _conditions_problem(got.get("conditions", []), want.conditions, where, generation)
        if problem:
            return problem
    return None


def latest_generation_problem(doc: dict, kind: str, key: Key, generation: int, parent: Key | None = None) -> str | None:
    """<Kind>MustHaveLatestConditions after `generation - 1` spec changes: the object (a route: its
    parent `parent`'s entry) is Accepted and every condition carries `generation`."""
    obj = find(doc, kind, key)
    if obj is None:
        return f"{kind} {key} has no status"
    status = obj["status"]
    if kind == "HTTPRoute":
        entry = next((p for p in status.get("parents", []) if parent is not None and
                      p.get("parentRef", {}).get("name") == parent.name), None)
        if entry is None:
            return f"{kind} {key} has no parent {parent}"
        return _conditions_problem(entry.get("conditions", []), [Condition("Accepted", "True", ""),
                                                                 Condition("ResolvedRefs", "True", "")],
                                   f"{kind} {key} parent {parent}", generation)
    return _conditions_problem(status.get("conditions", []), [Condition("Accepted", "True", "")],
                               f"{kind} {key}", generation)


def route_no_accepted_parents_problem(doc: dict, route: Key, route_kind: str = "HTTPRoute") -> str | None:
    """HTTPRouteMustHaveNoAcceptedParents (TLSRouteMustHaveNoAcceptedParents): no parent entry,
    or one whose conditions are of the latest generation and say Accepted is not True."""
    obj = find(doc, route_kind, route)
    parents = obj["status"].get("parents", []) if obj is not None else []
    if len(parents) > 1:
        return f"{route_kind} {route}: expected at most one parent, got {len(parents)}"
    for entry in parents:
        problem = _conditions_problem(entry.get("conditions", []), [], f"{route_kind} {route}")
        if problem:
            return problem
        if any(c.get("type") == "Accepted" and c.get("status") == "True" for c in entry.get("conditions", [])):
            return f"{route_kind} {route}: a parent accepted it"
    return None


def gateway_zero_routes_problem(doc: dict, gateway: Key) -> str | None:
    """GatewayMustHaveZeroRoutes: latest conditions, and no listener status or one with no route."""
    problem = gateway_latest_problem(doc, gateway)
    if problem:
        return problem
    obj = find(doc, "Gateway", gateway)
    assert obj is not None
    listeners = obj["status"].get("listeners", [])
    if not listeners or (len(listeners) == 1 and listeners[0].get("attachedRoutes") == 0):
        return None
    return f"Gateway {gateway}: expected no listener or one with 0 routes, got " + ", ".join(
        f"{ls.get('name')}: {ls.get('attachedRoutes')}" for ls in listeners)


def object_condition_problem(doc: dict, kind: str, key: Key, condition: Condition) -> str | None:
    """<Kind>MustHaveCondition (ListenerSetMustHaveCondition): latest conditions, one as expected."""
    obj = find(doc, kind, key)
    if obj is None:
        return f"{kind} {key} has no status"
    return _conditions_problem(obj["status"].get("conditions", []), [condition], f"{kind} {key}")


def listener_conditions_problem(doc: dict, kind: str, key: Key, conditions: Sequence[Condition],
                                names: Sequence[str]) -> str | None:
    """GatewayListenersMustHaveConditions / ListenerSetListenersMustHaveConditions: latest
    conditions, and each named listener (every one when none is named) has all of `conditions`."""
    obj = find(doc, kind, key)
    if obj is None:
        return f"{kind} {key} has no status"
    problem = _conditions_problem(obj["status"].get("conditions", []), [], f"{kind} {key}")
    if problem:
        return problem
    listeners = {ls.get("name"): ls for ls in obj["status"].get("listeners", [])}
    for name in names or list(listeners):
        if name not in listeners:
            return f"{kind} {key} has no status for listener {name}"
        problem = _conditions_problem(listeners[name].get("conditions", []), conditions,
                                      f"{kind} {key} listener {name}")
        if problem:
            return problem
    return None


def attached_listener_sets_problem(doc: dict, gateway: Key, count: int) -> str | None:
    """GatewayMustHaveAttachedListeners: latest conditions, status.attachedListenerSets (unset: 0)."""
    problem = gateway_latest_problem(doc, gateway)
    if problem:
        return problem
    obj = find(doc, "Gateway", gateway) or {}
    got = obj["status"].get("attachedListenerSets", 0)
    return None if got == count else f"Gateway {gateway}: attachedListenerSets {got}, expected {count}"


def policy_condition_problem(doc: dict, kind: str, policy: Key, gateway: Key, condition: Condition,
                             generation: int = GENERATION) -> str | None:
    """BackendTLSPolicyMustHaveCondition: every ancestor entry's conditions are of the latest
    generation, and the entry of the Gateway (its namespace, when set, the Gateway's) has `condition`."""
    obj = find(doc, kind, policy)
    if obj is None:
        return f"{kind} {policy} has no status"
    ancestors = obj["status"].get("ancestors", [])
    for a in ancestors:
        stale = [c for c in a.get("conditions", []) if c.get("observedGeneration") != generation]
        if stale:
            return (f"{kind} {policy} ancestor {a.get('ancestorRef')}: condition {stale[0].get('type')} has "
                    f"observedGeneration {stale[0].get('observedGeneration')}, expected {generation}")
    for a in ancestors:
        ref = a.get("ancestorRef", {})
        if ref.get("name") == gateway.name and ref.get("namespace", gateway.namespace) == gateway.namespace:
            return _conditions_problem(a.get("conditions", []), [condition], f"{kind} {policy} ancestor {gateway}",
                                       generation)
    return f"{kind} {policy} has no ancestor {gateway} (ancestors: {[a.get('ancestorRef') for a in ancestors]})"


def mesh_route_programmed_problem(doc: dict, route: Key, kind: str = "HTTPRoute") -> str | None:
    """The mesh tests' precondition (not an upstream assertion): meshgate has translated the
    route (an HTTPRoute or a GRPCRoute), i.e. written a parent entry for its Service parentRefs."""
    obj = find(doc, kind, route)
    if obj is None:
        return f"{kind} {route} has no status"
    if not any(p.get("parentRef", {}).get("kind") == "Service" for p in obj["status"].get("parents", [])):
        return f"{kind} {route} has no parent entry for a Service"
    return None
