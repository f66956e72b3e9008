"""Policies on a translation: attach every policy kind's objects once, apply them to each
gateway's routes, and write their status. With no policy in the store this costs nothing."""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from typing import Any

from ... import ir
from ...discovery.index import Discovery
from ...naming import CONTROLLER_NAME
from ...resources.errors import InputError
from ...store import Store
from ..conditions import Condition
from .attachment import Attachments, TargetKey, attach
from .backend_traffic import traffic_ref
from .kinds import POLICY_KINDS, PolicyKind, VariantOf
from .memo import HostDecision, PolicyMemo
from .route_context import RouteContext

_GATEWAY_GROUP = "gateway.networking.k8s.io"


class GatewayPolicies:
    """The policies of one version of the store, attached; applied gateway by gateway."""

    def __init__(self, store: Store, memo: PolicyMemo | None = None, discovery: Discovery | None = None) -> None:
        # What the last translation made, reused where nothing changed (the route table's).
        self._memo = memo if memo is not None else PolicyMemo()
        # What the last translation attached, kept while it holds (attachment.attach).
        last = self._memo.attachments
        self._kinds: list[tuple[PolicyKind, Attachments]] = [
            (k, attach(store, k.kind, k.targets, last.get(k.kind))) for k in POLICY_KINDS if store.list(k.kind)]
        self._memo.attachments = {k.kind: att for k, att in self._kinds}
        # The effects of the kinds that read other objects, made now (by policy object id): what
        # they read may have changed though the policy did not; equal ones keep their identity.
        self._resolved: dict[int, Any] = {}
        for kind, att in self._kinds:
            if kind.resolved_effect is not None:
                for policy in att.policies:
                    self._resolved[id(policy)] = self._memo.resolved_effect(
                        policy, kind.resolved_effect(policy, store, discovery))
        self._memo.begin(tuple(att.token() for _, att in self._kinds)
                         + tuple(sorted((k, id(e)) for k, e in self._resolved.items())))
        # What any policy targets: a gateway no policy targets as a whole needs looking at only
        # for the routes some policy names (the common case: policies on a few routes).
        self._gateways = {(k.namespace, k.name) for _, att in self._kinds for k in att.winner if k.kind == "Gateway"}
        self._routes = {(k.kind, k.namespace, k.name) for _, att in self._kinds for k in att.winner
                        if k.kind != "Gateway"}

    def __bool__(self) -> bool:
        return bool(self._kinds)

    @property
    def problems(self) -> list[InputError]:
        """Targets that do not exist (warnings)."""
        return [p for _, att in self._kinds for p in att.problems]

    def apply(self, gateway: tuple[str, str], configs: list[ir.RouteConfig],
              refs: Mapping[str, ir.ClusterRef]) -> tuple[list[ir.RouteConfig], dict[str, ir.ClusterRef]]:
        """A gateway's route configurations with its policies applied, and the clusters they made
        (policy variants of the gateway's clusters `refs`, by name)."""
        made: dict[str, ir.ClusterRef] = {}
        if not self._kinds:
            return configs, made
        memo = self._memo

        def variant(ref: ir.ClusterRef, traffic: Any) -> ir.ClusterRef:
            return memo.variant(ref, traffic, lambda: traffic_ref(ref, traffic))

        named = None if gateway in self._gateways else self._routes
        out: list[ir.RouteConfig] = []
        # Per listener (by its sources tuple, one object per listener): the listener names
        # policies see.
        listener_names: dict[int, tuple[str, ...]] = {}
        kinds = self._kinds
        for rc in configs:
            where = RouteContext(gateway, rc.name)
            # Hot: every virtual host of every gateway passes here on every change while
            # policies exist. One the last translation saw (the route table hands out the same
            # virtual host while its routes are the same objects) costs one lookup.
            last, now = memo.hosts_at((gateway, rc.name, named is None))
            hosts = []
            changed = False
            clusters: dict[int, tuple[ir.ClusterRef, ...]] = {}  # the hosts' variant sets, each once
            previous: tuple[ir.ClusterRef, ...] = ()
            for vh in rc.virtual_hosts:
                k = id(vh)
                entry = last.get(k)
                if entry is None or entry[0] is not vh:
                    entry = self._host(vh, where, listener_names, named, refs, variant)
                now[k] = entry
                made_vh = entry[1]
                if made_vh is not vh:
                    changed = True
                used = entry[2]
                if used and used is not previous:  # neighbours mostly share one set
                    clusters[id(used)] = previous = used
                if entry[3]:
                    for i, records, name in entry[3]:
                        kinds[i][1].record(records, name)
                hosts.append(made_vh)
            for used in clusters.values():
                made.update((c.name, c) for c in used)
            out.append(ir.RouteConfig(rc.name, tuple(hosts)) if changed else rc)
        return out, made

    def _host(self, vh: ir.VirtualHost, where: RouteContext, listener_names: dict[int, tuple[str, ...]],
              named: set[tuple[str, str, str]] | None, refs: Mapping[str, ir.ClusterRef], variant: VariantOf
              ) -> HostDecision:
        """What the policies do to one virtual host (per route, as decided last time when the
        route and the attachments are the same)."""
        routes = vh.routes
        if named is not None:  # only the routes policies name: most hosts have none
            for r in routes:
                src = r.source
                if src is not None and (src.kind, src.namespace, src.name) in named:
                    break
            else:
                return [vh, vh, (), ()]
        listeners = listener_names.get(id(vh.sources))
        if listeners is None:
            gateway = where.gateway
            listeners = listener_names[id(vh.sources)] = tuple(
                s.section_name for s in vh.sources
                if s.kind == "Gateway" and (s.namespace, s.name) == gateway and s.section_name)
        decisions, decided = self._memo.decision_maps()
        at = (where.gateway, where.route_config)
        out: list[ir.Route] = []
        made: dict[str, ir.ClusterRef] = {}
        overridden: list[tuple[int, tuple, str]] = []
        moved = False
        for r in routes:
            src = r.source
            if src is None or (named is not None and (src.kind, src.namespace, src.name) not in named):
                out.append(r)
                continue
            key = (id(r), at, listeners)
            entry = decisions.get(key)
            if entry is None or entry[0] is not r:
                entry = self._decide(where, listeners, r, src, refs, variant)
            decided[key] = entry
            _, applied, clusters, records = entry
            for c in clusters:
                made[c.name] = c
            overridden.extend((i, rec, f"{src.namespace}/{src.name}") for i, rec in records)
            moved = moved or applied is not r
            out.append(applied)
        made_vh = ir.VirtualHost(vh.name, vh.domains, tuple(out), vh.sources) if moved else vh
        return [vh, made_vh, self._memo.cluster_set(tuple(made.values())), tuple(overridden)]

    def _decide(self, where: RouteContext, listeners: tuple[str, ...], route: ir.Route, source: ir.SourceRef,
                refs: Mapping[str, ir.ClusterRef], variant: VariantOf
                ) -> tuple[ir.Route, ir.Route, tuple[ir.ClusterRef, ...], tuple]:
        """What every policy kind does to `route`: (route, the route as changed, the variant
        clusters it sends to, (policy kind's index, what its policy overrides) pairs)."""
        out = route
        made: list[ir.ClusterRef] = []
        overridden: list[tuple[int, tuple]] = []
        for i, (kind, att) in enumerate(self._kinds):
            if source.kind not in kind.route_kinds:
                continue
            found = att.effective(where.gateway, listeners, source)
            if found is None:
                continue
            if found[2]:
                overridden.append((i, found[2]))
            effect = (self._resolved[id(found[0])] if kind.resolved_effect is not None
                      else self._memo.effect(found[0], kind.effect))
            before = out

            def applied(kind: PolicyKind = kind, effect: Any = effect, before: ir.Route = before
                        ) -> tuple[ir.Route, tuple[ir.ClusterRef, ...]]:
                used: list[ir.ClusterRef] = []

                def collect(ref: ir.ClusterRef, traffic: Any) -> ir.ClusterRef:
                    used.append(variant(ref, traffic))
                    return used[-1]
                changed = kind.apply_route(before, effect, refs, collect, where)
                if kind.clusters is not None:
                    used.extend(kind.clusters(effect))
                return changed, tuple(used)
            out, clusters = self._memo.route(before, effect, applied)
            made.extend(clusters)
        return route, out, tuple(made), tuple(overridden)

    def done(self) -> None:
        """The translation is over: forget what it did not use."""
        self._memo.sweep()

    def statuses(self, parents: Mapping[tuple[str, str, str], set[tuple[str, str]]],
                 gateways: set[tuple[str, str]], now: str) -> list[dict]:
        """Every policy's status: one ancestor per Gateway of ours it reaches (`parents`: the
        Gateways each route, by (kind, namespace, name), is attached to; `gateways`: ours).
        The last translation's list while everything they are made from holds (the common
        change touches no policy, no target and no override)."""
        overrides = [att.overrides() for _, att in self._kinds]
        # The objects by identity (attachments, the effects that read other objects: a Secret
        # may make a policy invalid), the rest by value.
        objects = (*(att for _, att in self._kinds), *self._resolved.values())
        inputs = (overrides, gateways, {t: parents.get(t) for _, att in self._kinds for t in att.route_targets()})
        kept = self._memo.kept_statuses(objects, inputs)
        if kept is not None:
            return kept
        out: list[dict] = []
        for (kind, att), overridden in zip(self._kinds, overrides, strict=True):
            for policy in att.policies:
                key = (policy.meta.namespace, policy.meta.name)
                lost = att.lost.get(key, ())
                # Per ancestor Gateway (namespace, name, listener), what its conditions say, as a
                # small value (`_verdict`): conditions are made only when that changed.
                ancestors: dict[tuple, tuple] = {}
                for target in att.targets.get(key, ()):
                    verdict = self._verdict(kind, overridden, policy, key, target, lost)
                    if target.kind == "Gateway":
                        if (target.namespace, target.name) in gateways:
                            ancestors.setdefault((target.namespace, target.name, target.section), verdict)
                        continue
                    for gw in sorted(parents.get((target.kind, target.namespace, target.name), ())):
                        ancestors.setdefault((gw[0], gw[1], None), verdict)
                # The same status object as last time while it says the same (the control plane
                # then skips it when keeping transition times, as it does a route's).
                generation = policy.meta.generation
                said = (kind.kind, generation, tuple(ancestors.items()))
                out.append(self._memo.status((kind.kind, *key), policy, said, functools.partial(
                    _status, kind, policy, ancestors, generation, now)))
        self._memo.keep_statuses(objects, inputs, out)
        return out

    def _verdict(self, kind: PolicyKind, overrides: Mapping[tuple[TargetKey, tuple[str, str]], set[str]],
                 policy: object, key: tuple[str, str], target: TargetKey, lost: Sequence[TargetKey]) -> tuple:
        """What a policy's conditions say on one of its targets, as a value `_conditions` spells."""
        if target in lost:
            return ("Conflicted", kind.kind, target.describe())
        if kind.invalid is not None and id(policy) in self._resolved:
            why = kind.invalid(self._resolved[id(policy)])
            if why is not None:
                return ("Invalid", why)
        if target.kind != "Gateway" and target.kind not in kind.route_kinds:
            return ("Unsupported", kind.kind, target.kind, tuple(sorted(kind.route_kinds)))
        routes = overrides.get((target, key))
        return ("Accepted", kind.kind, tuple(sorted(routes)) if routes else ())


def _conditions(verdict: tuple) -> list[Condition]:
    """The conditions a `_verdict` stands for."""
    match verdict:
        case ("Conflicted", kind, target):
            return [Condition("Accepted", False, "Conflicted",
                              f"Unable to target {target}, another {kind} has already attached to it")]
        case ("Invalid", why):
            return [Condition("Accepted", False, "Invalid",
                              f"{why}: the routes it applies to answer 500 (fail closed)")]
        case ("Unsupported", kind, target_kind, route_kinds):
            return [Condition("Accepted", False, "Invalid",
                              f"meshgate applies {kind} to {' and '.join(route_kinds)} only, not to a {target_kind}")]
    _, kind, routes = verdict
    conds = [Condition("Accepted", True, "Accepted", "Policy has been accepted.")]
    if routes:
        conds.append(Condition("Overridden", True, "Overridden",
                               f"This policy is being overridden by other {_plural(kind)} "
                               f"for these routes: [{', '.join(routes)}]"))
    return conds


def _status(kind: PolicyKind, policy: Any, ancestors: Mapping[tuple, tuple], generation: int,
            now: str) -> dict:
    """A policy's status object: one entry per ancestor Gateway (namespace, name, listener),
    with the conditions of its verdict."""
    entries = []
    for (ns, name, section), verdict in ancestors.items():
        conds = _conditions(verdict)
        ref: dict = {"group": _GATEWAY_GROUP, "kind": "Gateway", "namespace": ns, "name": name}
        if section:
            ref["sectionName"] = section
        entries.append({"ancestorRef": ref, "controllerName": CONTROLLER_NAME,
                        "conditions": [c.to_dict(generation, now) for c in conds]})
    return {"apiVersion": kind.api_version, "kind": kind.kind,
            "metadata": {"namespace": policy.meta.namespace, "name": policy.meta.name},
            "status": {"ancestors": entries}}


def _plural(kind: str) -> str:
    """`backendTrafficPolicies` from BackendTrafficPolicy, as Envoy Gateway's messages spell it."""
    lower = kind[0].lower() + kind[1:]
    return lower[:-1] + "ies" if lower.endswith("y") else lower + "s"
