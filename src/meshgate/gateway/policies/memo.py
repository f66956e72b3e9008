"""What applying policies made in the last translation, kept for the next (it lives in the route
table, across changes). The xDS stage keeps each virtual host's message while its routes are the
same objects (xds/route_builder.py), so a route a policy applies to must come out as the same
object while neither it nor the policy changed: applying the policy again would make an equal but
new route, and every policy-shaped virtual host would be built again on every change.

Keys are identities, each entry keeping its objects alive (an id in a live entry cannot belong to
another object); `sweep` forgets what the last translation did not ask for.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ... import ir
from ..status_times import keep_object_times
from .attachment import Attachments

# (route, the route as policies left it, the clusters they made, what they overrode)
Decision = tuple[ir.Route, ir.Route, tuple[ir.ClusterRef, ...], tuple]
# A virtual host, the virtual host as policies left it (the same object when they changed none of
# its routes), the variant clusters its routes send to (`cluster_set`'s: one object per set), and
# (policy kind's index, what its policy overrides, route) triples
HostDecision = list


class PolicyMemo:
    """Effects by policy object, applied routes by (route, effect), variant clusters by
    (cluster reference, policy cluster settings)."""

    __slots__ = ("_combined", "_decisions", "_effects", "_hosts", "_hosts_next", "_next", "_routes",
                 "_sets", "_sets_kept", "_status_list", "_statuses", "_token", "_used", "_variants", "attachments")

    def __init__(self) -> None:
        # Each policy kind's attachments, as the last translation made them (attachment.attach
        # hands them out again while they hold).
        self.attachments: dict[str, Attachments] = {}
        self._effects: dict[int, tuple[Any, Any]] = {}
        self._routes: dict[tuple[int, int], tuple[ir.Route, Any, tuple[ir.Route, tuple[ir.ClusterRef, ...]]]] = {}
        self._variants: dict[tuple[int, int], tuple[ir.ClusterRef, Any, ir.ClusterRef]] = {}
        self._used: set[tuple[str, tuple[int, ...] | int]] = set()
        self._combined: dict[tuple[int, ...], tuple[tuple[Any, ...], Any]] = {}
        # Per (route, gateway, its listeners): the route as its policies left it, the clusters
        # they made, and what they overrode; valid while the attachments' token holds.
        self._token: tuple = ()
        self._decisions: dict[tuple, tuple[ir.Route, ir.Route, tuple[ir.ClusterRef, ...], tuple]] = {}
        self._next: dict[tuple, tuple[ir.Route, ir.Route, tuple[ir.ClusterRef, ...], tuple]] = {}
        # The same per virtual host, by where it is served (gateway, route configuration, ...)
        # and then the virtual host's identity (the route table hands out the same one while
        # its routes are the same objects): one lookup instead of one per route. The last
        # translation's, and this one's.
        self._hosts: dict[tuple, dict[int, HostDecision]] = {}
        self._hosts_next: dict[tuple, dict[int, HostDecision]] = {}
        # Variant cluster sets by their clusters' ids: one tuple per set, so that hosts sending
        # to the same variants (every host, under a Gateway's policy) share it. Each keeps its
        # clusters alive; emptied with the decisions.
        self._sets: dict[tuple[int, ...], tuple[ir.ClusterRef, ...]] = {}
        self._sets_kept = 0  # how many the last pruning kept (`sweep` prunes at twice as many)
        # Status objects by policy object: (policy, what it says, the object).
        self._statuses: dict[tuple, tuple[Any, Any, dict]] = {}
        # The last list of them, what it was made from, and the keys of its objects.
        self._status_list: tuple[tuple, Any, list[dict], list[tuple]] | None = None

    def effect(self, policy: Any, make: Callable[[Any], Any]) -> Any:
        """The effect of `policy` (made by `make` once per policy object)."""
        entry = self._effects.get(id(policy))
        if entry is None or entry[0] is not policy:
            entry = self._effects[id(policy)] = (policy, make(policy))
        self._used.add(("e", id(policy)))
        return entry[1]

    def resolved_effect(self, policy: Any, effect: Any) -> Any:
        """`effect`, just made for `policy` from what it references: the one made last time when
        equal (so that what was decided with it stays valid)."""
        entry = self._effects.get(id(policy))
        if entry is None or entry[0] is not policy or entry[1] != effect:
            entry = self._effects[id(policy)] = (policy, effect)
        self._used.add(("e", id(policy)))
        return entry[1]

    def route(self, route: ir.Route, effect: Any, apply: Callable[[], tuple[ir.Route, tuple[ir.ClusterRef, ...]]]
              ) -> tuple[ir.Route, tuple[ir.ClusterRef, ...]]:
        """`route` with `effect` applied, and the variant clusters it sends to (by `apply` when
        not known)."""
        key = (id(route), id(effect))
        entry = self._routes.get(key)
        if entry is None or entry[0] is not route or entry[1] is not effect:
            entry = self._routes[key] = (route, effect, apply())
        self._used.add(("r", key))
        return entry[2]

    def variant(self, ref: ir.ClusterRef, traffic: Any, make: Callable[[], ir.ClusterRef]) -> ir.ClusterRef:
        """The policy variant of a cluster reference."""
        key = (id(ref), id(traffic))
        entry = self._variants.get(key)
        if entry is None or entry[0] is not ref or entry[1] is not traffic:
            entry = self._variants[key] = (ref, traffic, make())
        self._used.add(("v", key))
        return entry[2]

    def begin(self, token: tuple) -> None:
        """A translation starts with attachments `token`: decisions made under another are void
        (the token names the policy kinds present, in order: decisions refer to them by index)."""
        if token != self._token:
            self._decisions = {}
            self._hosts = {}
            self._sets = {}
            self._token = token
        self._next = {}
        self._hosts_next = {}

    def decision_maps(self) -> tuple[dict[tuple, Decision], dict[tuple, Decision]]:
        """The last translation's decisions, and this one's (for a caller's hot loop: a decision
        found valid, or made, goes into the second)."""
        return self._decisions, self._next

    def hosts_at(self, where: tuple) -> tuple[dict[int, HostDecision], dict[int, HostDecision]]:
        """The virtual host decisions the last translation made where `where` says (gateway,
        route configuration, ...), by the virtual host's id (each entry keeps its virtual host
        alive, so an id in a live entry cannot belong to another object), and this one's (put
        there every decision used)."""
        found = self._hosts_next.get(where)
        if found is None:
            found = self._hosts_next[where] = {}
        return self._hosts.get(where, {}), found

    def cluster_set(self, clusters: tuple[ir.ClusterRef, ...]) -> tuple[ir.ClusterRef, ...]:
        """`clusters`, or the tuple of the same cluster objects handed out before."""
        return self._sets.setdefault(tuple(map(id, clusters)), clusters)

    def status(self, key: tuple, policy: Any, said: Any, make: Callable[[], dict]) -> dict:
        """The status object of `policy` (`key`: its kind, namespace and name): the one made last
        time while it is the same object and says the same (`said`); else a new one, with the
        transition times of the last where its conditions held (so that the control plane,
        which keeps them too, can keep this very object)."""
        entry = self._statuses.get(key)
        if entry is None or entry[0] is not policy or entry[1] != said:
            made = make()
            entry = self._statuses[key] = (policy, said, keep_object_times(entry[2], made) if entry else made)
        self._used.add(("s", key))
        return entry[2]

    def kept_statuses(self, objects: tuple, inputs: Any) -> list[dict] | None:
        """The last list of policy statuses when it was made from the same `objects` (by
        identity) and equal `inputs`, else None (its objects then count as used)."""
        last = self._status_list
        if last is None or len(last[0]) != len(objects) or any(a is not b for a, b in zip(last[0], objects)) \
                or last[1] != inputs:
            return None
        self._used.update(last[3])
        return last[2]

    def keep_statuses(self, objects: tuple, inputs: Any, made: list[dict]) -> None:
        """Note the list of policy statuses just made from `objects` and `inputs` (kept alive
        here, so that identities compare soundly)."""
        self._status_list = (objects, inputs, made, [k for k in self._used if k[0] == "s"])

    def combined(self, objects: tuple[Any, ...], make: Callable[[], Any]) -> Any:
        """A value made from `objects` (policies), the same object while they are the same."""
        key = tuple(map(id, objects))
        entry = self._combined.get(key)
        if entry is None or any(a is not b for a, b in zip(entry[0], objects, strict=True)):
            entry = self._combined[key] = (objects, make())
        self._used.add(("c", key))
        return entry[1]

    def sweep(self) -> None:
        """Forget what the translation now ending did not use."""
        used = self._used
        self._effects = {k: v for k, v in self._effects.items() if ("e", k) in used}
        self._routes = {k: v for k, v in self._routes.items() if ("r", k) in used}
        self._variants = {k: v for k, v in self._variants.items() if ("v", k) in used}
        self._combined = {k: v for k, v in self._combined.items() if ("c", k) in used}
        self._statuses = {k: v for k, v in self._statuses.items() if ("s", k) in used}
        self._used = set()
        self._decisions, self._next = self._next, {}
        self._hosts, self._hosts_next = self._hosts_next, {}
        if len(self._sets) > 2 * self._sets_kept + 64:  # amortized: sets only grow on new hosts
            live = {id(e[2]) for hosts in self._hosts.values() for e in hosts.values()}
            self._sets = {k: v for k, v in self._sets.items() if id(v) in live}
            self._sets_kept = len(self._sets)
