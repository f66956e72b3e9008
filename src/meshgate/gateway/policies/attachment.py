"""Which policy of a kind applies to a route of a gateway, as Envoy Gateway decides.

A policy attaches to the objects its targetRefs name and its targetSelectors select, in its own
namespace: a Gateway, one listener of it (sectionName), a route, or one rule of it (sectionName,
the rule's name). A route gets the most specific policy that reaches it: its rule's, else its
own, else its listener's, else its Gateway's; the less specific ones are overridden for that
route (their status says so). Two policies of one kind on the same target: the older keeps it
(creationTimestamp, then namespace/name), the other is Conflicted there.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from ...ir import SourceRef
from ...resources.envoy_gateway.common import PolicyTargets, TargetRef
from ...resources.errors import InputError
from ...store import Store

ROUTE_LEVELS = ("rule", "route", "listener", "gateway")


@dataclass(frozen=True, slots=True)
class TargetKey:
    """An object a policy attaches to (`section`: a Gateway's listener, a route's rule)."""

    kind: str
    namespace: str
    name: str
    section: str | None = None

    def describe(self) -> str:
        """`Kind ns/name` (and `/section`), as status messages name targets."""
        return f"{self.kind} {self.namespace}/{self.name}" + (f" section {self.section}" if self.section else "")


def _policy_key(policy: Any) -> tuple[str, str]:
    return (policy.meta.namespace, policy.meta.name)


def _age(policy: Any) -> tuple[str, str, str]:
    return (policy.meta.creation_timestamp, policy.meta.namespace, policy.meta.name)


def _sections(obj: Any, kind: str) -> set[str]:
    """The listener or rule names of a target object."""
    if kind == "Gateway":
        return {ls.name for ls in obj.listeners}
    return {r.name for r in getattr(obj, "rules", ()) if getattr(r, "name", None)}


def resolve_targets(store: Store, policy: Any, targets: PolicyTargets, reads: list[tuple] | None = None
                    ) -> tuple[list[TargetKey], list[InputError]]:
    """The objects `policy` attaches to that exist, and a warning for each target that does not
    (the policy does not apply there; Envoy Gateway ignores it likewise). `reads`: where to note
    the objects its targetRefs name (kind, namespace, name, the object or None)."""
    ns = policy.meta.namespace
    found: list[TargetKey] = []
    problems: list[InputError] = []
    for ref in targets.refs:
        key = TargetKey(ref.kind, ns, ref.name, ref.section_name)
        obj = store.get(ref.kind, ns, ref.name)
        if reads is not None:
            reads.append((ref.kind, ns, ref.name, obj))
        reason = None
        if obj is None:
            reason = f"{ref.kind} {ns}/{ref.name} does not exist: the policy does not apply to it"
        elif ref.section_name is not None and ref.section_name not in _sections(obj, ref.kind):
            what = "listener" if ref.kind == "Gateway" else "rule"
            reason = (f"{ref.kind} {ns}/{ref.name} has no {what} named {ref.section_name}: "
                      "the policy does not apply to it")
        if reason is not None:
            problems.append(InputError(policy.source.file, ref.line or policy.source.line, reason, ref.where,
                                       policy.kind, ns, policy.meta.name, severity="warning"))
            continue
        found.append(key)
    for sel in targets.selectors:
        for obj in store.in_namespace(sel.kind, ns):
            if sel.matches(obj.meta.labels):
                found.append(TargetKey(sel.kind, ns, obj.meta.name))
    return list(dict.fromkeys(found)), problems


@dataclass(slots=True)
class Attachments:
    """The policies of one kind and where each applies: the winner on every target, the targets
    each policy lost, and the routes for which a Gateway's policy is overridden."""

    kind: str
    policies: list[Any] = field(default_factory=list)
    targets: dict[tuple[str, str], list[TargetKey]] = field(default_factory=dict)
    winner: dict[TargetKey, Any] = field(default_factory=dict)
    lost: dict[tuple[str, str], list[TargetKey]] = field(default_factory=dict)
    overridden: dict[tuple[TargetKey, tuple[str, str]], set[str]] = field(default_factory=dict)
    problems: list[InputError] = field(default_factory=list)
    # What `record` was told, folded into `overridden` when read (`overrides`): every policy-
    # shaped route of every change records, and most records are the same few tuples.
    pending: list[tuple[tuple, str]] = field(default_factory=list)
    # Each distinct `effective` overridden tuple, once: routes that override the same policies
    # record the same object, which `overrides` folds once.
    interned: dict[tuple, tuple] = field(default_factory=dict)
    # What the attachment read: the objects targetRefs named (kind, namespace, name, object or
    # None), and whether any policy selects targets by label (then nothing is reused).
    reads: list[tuple] = field(default_factory=list)
    selects: bool = False
    _token: tuple | None = None
    _route_targets: tuple[tuple[str, str, str], ...] | None = None

    def holds(self, store: Store, policies: list[Any]) -> bool:
        """Whether attaching `policies` (sorted by age) in `store` would decide as this did: the
        same policy objects, and the same objects where their targetRefs point."""
        return (not self.selects and len(policies) == len(self.policies)
                and all(a is b for a, b in zip(policies, self.policies, strict=True))
                and all(store.get(kind, ns, name) is obj for kind, ns, name, obj in self.reads))

    def restart(self) -> None:
        """A new translation uses these attachments: what routes override is recorded anew."""
        self.pending.clear()
        self.overridden = {}

    def effective(self, gateway: tuple[str, str], listeners: Iterable[str],
                  route: SourceRef | None) -> tuple[Any, str, tuple[tuple[TargetKey, tuple[str, str]], ...]] | None:
        """The policy that applies to a route (its `source`: kind, namespace, name, rule) served
        by the listeners named `listeners` of `gateway`, its level, and the less specific
        policies it overrides there ((their target, their key), for their status; `record`
        them); None when none applies."""
        found: list[tuple[Any, str, TargetKey]] = []
        if route is not None:
            if route.section_name is not None:
                key = TargetKey(route.kind, route.namespace, route.name, route.section_name)
                if key in self.winner:
                    found.append((self.winner[key], "rule", key))
            key = TargetKey(route.kind, route.namespace, route.name)
            if key in self.winner:
                found.append((self.winner[key], "route", key))
        for name in listeners:
            key = TargetKey("Gateway", gateway[0], gateway[1], name)
            if key in self.winner:
                found.append((self.winner[key], "listener", key))
                break
        key = TargetKey("Gateway", gateway[0], gateway[1])
        if key in self.winner:
            found.append((self.winner[key], "gateway", key))
        if not found:
            return None
        policy, level, _ = found[0]
        overridden = tuple((target, _policy_key(other)) for other, _, target in found[1:] if other is not policy)
        return policy, level, self.interned.setdefault(overridden, overridden)

    def record(self, overridden: tuple[tuple[TargetKey, tuple[str, str]], ...], route: str) -> None:
        """Note that the policies `overridden` (effective's) do not apply to `route` ("ns/name")."""
        self.pending.append((overridden, route))

    def overrides(self) -> dict[tuple[TargetKey, tuple[str, str]], set[str]]:
        """The routes each (target, policy) is overridden for, as recorded."""
        by_records: dict[int, tuple[tuple, set[str]]] = {}
        for records, route in self.pending:
            found = by_records.get(id(records))
            if found is None:
                found = by_records[id(records)] = (records, set())
            found[1].add(route)
        self.pending.clear()
        for records, routes in by_records.values():
            for target, policy in records:
                self.overridden.setdefault((target, policy), set()).update(routes)
        return self.overridden

    def route_targets(self) -> tuple[tuple[str, str, str], ...]:
        """The routes the policies target, as (kind, namespace, name): whose parents their
        status depends on."""
        if self._route_targets is None:
            self._route_targets = tuple(dict.fromkeys(
                (t.kind, t.namespace, t.name) for keys in self.targets.values() for t in keys if t.kind != "Gateway"))
        return self._route_targets

    def token(self) -> tuple:
        """Where each policy object won, as a value: equal tokens, equal decisions."""
        if self._token is None:
            self._token = tuple(sorted((k.kind, k.namespace, k.name, k.section or "", id(p))
                                       for k, p in self.winner.items()))
        return self._token


def attach(store: Store, kind: str, targets_of: Any, last: Attachments | None = None) -> Attachments:
    """Attach every policy of `kind` in the store; `targets_of(policy)` gives its PolicyTargets.
    `last`: the attachments of an earlier translation, handed out again (restarted) when they
    still hold (the common change touches no policy and none of their targets)."""
    policies = sorted(store.list(kind), key=_age)
    if last is not None and last.kind == kind and last.holds(store, policies):
        last.restart()
        return last
    out = Attachments(kind, policies)
    for policy in out.policies:
        targets = targets_of(policy)
        out.selects = out.selects or bool(targets.selectors)
        keys, problems = resolve_targets(store, policy, targets, out.reads)
        out.problems.extend(problems)
        out.targets[_policy_key(policy)] = keys
        for key in keys:
            if key in out.winner:  # an older policy holds it
                out.lost.setdefault(_policy_key(policy), []).append(key)
            else:
                out.winner[key] = policy
    return out


__all__ = ["ROUTE_LEVELS", "Attachments", "TargetKey", "TargetRef", "attach", "resolve_targets"]
