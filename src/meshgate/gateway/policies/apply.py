"""Policies on a translation: attach every policy kind's objects once, apply them to each
gateway's routes, and write their status. With no policy in the store this costs nothing."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from ... import ir
from ...naming import CONTROLLER_NAME
from ...resources.errors import InputError
from ...store import Store
from ..conditions import Condition
from .attachment import Attachments, TargetKey, attach
from .kinds import POLICY_KINDS, PolicyKind

_GATEWAY_GROUP = "gateway.networking.k8s.io"


class GatewayPolicies:
    """The policies of one version of the store, attached; applied gateway by gateway."""

    def __init__(self, store: Store) -> None:
        self._kinds: list[tuple[PolicyKind, Attachments]] = [
            (k, attach(store, k.kind, k.targets)) for k in POLICY_KINDS if store.list(k.kind)]
        self._effects: dict[tuple[str, str, str], Any] = {}  # (kind, namespace, name) → its effect

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
        out: list[ir.RouteConfig] = []
        for rc in configs:
            hosts = []
            for vh in rc.virtual_hosts:
                listeners = tuple(s.section_name for s in vh.sources if s.kind == "Gateway"
                                  and (s.namespace, s.name) == gateway and s.section_name)
                routes = tuple(self._route(gateway, listeners, r, refs, made) for r in vh.routes)
                hosts.append(vh if all(a is b for a, b in zip(routes, vh.routes, strict=True))
                             else dataclasses.replace(vh, routes=routes))
            changed = any(a is not b for a, b in zip(hosts, rc.virtual_hosts, strict=True))
            out.append(dataclasses.replace(rc, virtual_hosts=tuple(hosts)) if changed else rc)
        return out, made

    def _route(self, gateway: tuple[str, str], listeners: tuple[str, ...], route: ir.Route,
               refs: Mapping[str, ir.ClusterRef], made: dict[str, ir.ClusterRef]) -> ir.Route:
        source = route.source
        if source is None:
            return route
        for kind, att in self._kinds:
            if source.kind not in kind.route_kinds:
                continue
            found = att.effective(gateway, listeners, source)
            if found is not None:
                policy = found[0]
                key = (kind.kind, policy.meta.namespace, policy.meta.name)
                effect = self._effects.get(key)
                if effect is None:
                    effect = self._effects[key] = kind.effect(policy)
                route = kind.apply_route(route, effect, refs, made)
        return route

    def statuses(self, parents: Mapping[tuple[str, str, str], set[tuple[str, str]]],
                 gateways: set[tuple[str, str]], now: str) -> list[dict]:
        """Every policy's status: one ancestor per Gateway of ours it reaches (`parents`: the
        Gateways each route, by (kind, namespace, name), is attached to; `gateways`: ours)."""
        out: list[dict] = []
        for kind, att in self._kinds:
            for policy in att.policies:
                key = (policy.meta.namespace, policy.meta.name)
                lost = set(att.lost.get(key, ()))
                ancestors: dict[tuple, list[Condition]] = {}
                for target in att.targets.get(key, ()):
                    conds = self._conditions(kind, att, policy, target, lost)
                    if target.kind == "Gateway":
                        if (target.namespace, target.name) in gateways:
                            ancestors.setdefault((target.namespace, target.name, target.section), conds)
                        continue
                    for gw in sorted(parents.get((target.kind, target.namespace, target.name), ())):
                        ancestors.setdefault((gw[0], gw[1], None), conds)
                entries = []
                for (ns, name, section), conds in ancestors.items():
                    ref: dict = {"group": _GATEWAY_GROUP, "kind": "Gateway", "namespace": ns, "name": name}
                    if section:
                        ref["sectionName"] = section
                    entries.append({"ancestorRef": ref, "controllerName": CONTROLLER_NAME,
                                    "conditions": [c.to_dict(policy.meta.generation, now) for c in conds]})
                out.append({"apiVersion": kind.api_version, "kind": kind.kind,
                            "metadata": {"namespace": policy.meta.namespace, "name": policy.meta.name},
                            "status": {"ancestors": entries}})
        return out

    @staticmethod
    def _conditions(kind: PolicyKind, att: Attachments, policy: object, target: TargetKey,
                    lost: set[TargetKey]) -> list[Condition]:
        if target in lost:
            return [Condition("Accepted", False, "Conflicted",
                              f"Unable to target {target.describe()}, another {kind.kind} has already attached to it")]
        if target.kind != "Gateway" and target.kind not in kind.route_kinds:
            return [Condition("Accepted", False, "Invalid",
                              f"meshgate applies {kind.kind} to {' and '.join(sorted(kind.route_kinds))} "
                              f"only, not to a {target.kind}")]
        conds = [Condition("Accepted", True, "Accepted", "Policy has been accepted.")]
        key = (policy.meta.namespace, policy.meta.name)  # type: ignore[attr-defined]
        routes = att.overridden.get((target, key))
        if routes:
            conds.append(Condition("Overridden", True, "Overridden",
                                   f"This policy is being overridden by other {_plural(kind.kind)} "
                                   f"for these routes: [{', '.join(sorted(routes))}]"))
        return conds


def _plural(kind: str) -> str:
    """`backendTrafficPolicies` from BackendTrafficPolicy, as Envoy Gateway's messages spell it."""
    lower = kind[0].lower() + kind[1:]
    return lower[:-1] + "ies" if lower.endswith("y") else lower + "s"
