"""Incremental equals full (ARCHITECTURE §1): for random sequences of changes to every input
kind, the control plane that applied them one by one serves, to every proxy identity, exactly
the bytes a control plane translating the same objects from scratch serves, resource by
resource, and exactly what a translation for that proxy alone gives (no view shared by mistake).

The incremental control plane keeps its per-client views open across the changes (as connected
proxies do), so views are updated, not rebuilt; the full one resolves them afresh.
"""

from __future__ import annotations

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from meshgate.discovery.locality import proxy_view
from meshgate.pipeline import translate_store
from meshgate.resources.loader import LoadResult
from meshgate.runtime.controller import ControlPlane
from meshgate.store import Store
from meshgate.xds.cache import SnapshotCache
from meshgate.xds.proxy import ProxyIdentity
from meshgate.xds.resources import snapshot_resources

from .incremental_scenario import IDENTITIES, SLOTS, WorldProvider, change

START = {slot: 0 for slot in SLOTS}
CLOCK = "2026-01-02T00:00:00Z"


def _control_plane(state: dict[str, int]) -> ControlPlane:
    cp = ControlPlane(WorldProvider(state), SnapshotCache(), clock=lambda: CLOCK)
    cp.load()
    return cp


def _served(cp: ControlPlane, key: str) -> dict[str, dict[str, bytes]]:
    return {t: {name: r.body.value for name, r in res.items()}
            for t, res in cp.cache.entry(key).resources.items() if res}


def _resolve(cp: ControlPlane, identity: ProxyIdentity, held: str) -> str:
    """What a stream does when woken: resolve its view again, holding the new one."""
    key = cp.resolve(identity, held)
    if key != held:
        cp.cache.hold(key)
        if held:
            cp.cache.release(held)
            cp.release(held)
    return key


def _without_generations(value: object) -> object:
    """Status as compared: observedGeneration counts the edits an object went through, which a
    translation from scratch cannot know (it sees generation 1)."""
    if isinstance(value, dict):
        return {k: _without_generations(v) for k, v in value.items() if k != "observedGeneration"}
    if isinstance(value, list):
        return [_without_generations(v) for v in value]
    return value


def _status(cp: ControlPlane) -> list:
    return [_without_generations(s) for s in
            sorted(cp.status, key=lambda s: (s["kind"], s["metadata"].get("namespace", ""), s["metadata"]["name"]))]


def _translated(state: dict[str, int], identity: ProxyIdentity) -> dict[str, dict[str, bytes]]:
    """What `meshgate translate` gives one proxy: a fresh store, a fresh builder, nothing shared
    with other proxies (the reference for the views the control planes share between proxies)."""
    store, duplicates = Store.from_load(LoadResult(WorldProvider(state).load_all().upserts, [], []))
    assert not duplicates
    view = proxy_view(identity.locality, identity.labels, identity.node_name)
    tr = translate_store(store, CLOCK, proxy=view, labels=identity.labels_dict())
    snap = next((s for s in tr.snapshots if s.gateway == identity.gateway), None)
    if snap is None:
        return {}
    return {t: {name: r.body.value for name, r in res.items()} for t, res in snapshot_resources(snap).items() if res}


def _same(got: dict[str, dict[str, bytes]], want: dict[str, dict[str, bytes]], where: str) -> None:
    for type_url in sorted(set(want) | set(got)):
        w, g = want.get(type_url, {}), got.get(type_url, {})
        assert sorted(g) == sorted(w), f"{where}: {type_url} names differ"
        for name in w:
            assert g[name] == w[name], f"{where}: {type_url} {name} differs"


def _check(incremental: ControlPlane, keys: list[str], state: dict[str, int], step: str) -> list[str]:
    full = _control_plane(state)
    keys = [_resolve(incremental, identity, held) for identity, held in zip(IDENTITIES, keys)]
    for identity, key in zip(IDENTITIES, keys):
        got = _served(incremental, key)
        _same(got, _served(full, full.resolve(identity)), f"{step}: {identity} (control plane from scratch)")
        _same(got, _translated(state, identity), f"{step}: {identity} (translated for this proxy alone)")
    assert _status(incremental) == _status(full), f"{step}: status differs"
    assert [str(e) for e in incremental.errors] == [str(e) for e in full.errors], f"{step}: errors differ"
    return keys


# Picks wrap around each slot's versions: up to 12 reach the longest slot's every version.
steps = st.lists(st.tuples(st.sampled_from(sorted(SLOTS)), st.integers(0, 11)), min_size=1, max_size=12)


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps)
# Sequences random ones reach only now and then, pinned: attachment that moves with the
# listeners' side alone (a selector listener, then the Namespace gaining and losing its label),
# a cross-namespace route that resolves only while its ReferenceGrant exists, and a
# BackendTLSPolicy whose CA ConfigMap changes, loses its ca.crt and comes back, then moves to
# another Service's port and to the system CAs; an appProtocol https port that routes resolve to
# only while a policy targets it; a weighted UDPRoute (below).
# The web Gateway's GatewayParameters: tracing and OTLP access logs, then Zipkin with logs off,
# then gone; the Gateway naming them and not.
@example([("parameters", 1), ("gateway", 5), ("parameters", 2), ("parameters", 0), ("parameters", 1),
          ("gateway", 0)])
@example([("parameters", 3), ("gateway", 5), ("parameters-grant", 1), ("pod-a1", 1), ("svc-a", 1),
          ("parameters-grant", 0), ("parameters-grant", 1), ("pod-a2", 1)])
@example([("gateway", 3), ("ns-app", 2), ("route-1", 1), ("ns-app", 0), ("gateway", 2)])
@example([("route-3", 1), ("grant", 1), ("route-3", 2), ("grant", 0)])
@example([("btls", 1), ("btls-ca", 1), ("btls-ca", 2), ("btls-ca", 0), ("btls", 2), ("btls-ca", 3),
          ("btls", 3)])
@example([("svc-b", 3), ("btls", 2), ("btls", 0), ("btls", 2)])
# The web Gateway's backend client certificate: named, malformed, restored, gone; the policy moved
# away and back; and a Passthrough TLSRoute to the policy's port (a cluster without its TLS).
@example([("btls", 1), ("gateway", 4), ("client-cert", 1), ("client-cert", 0), ("client-cert", 2), ("btls", 2),
          ("client-cert", 0), ("btls", 1), ("gateway", 0)])
@example([("btls", 1), ("tcp-gateway", 3), ("tls-route", 1), ("btls", 0), ("svc-a", 1), ("btls", 1),
          ("tls-route", 0)])
# A weighted UDPRoute whose backends' endpoints move (a Pod's readiness, a slice: the endpoints-
# only path, hints) and whose
# locality priorities come and go (a failover rule on every host): its weighted cluster follows.
@example([("udp-gateway", 1), ("svc-u", 1), ("svc-v", 1), ("udp-route", 2), ("slice-v", 1), ("pod-a1", 1),
          ("svc-u", 2), ("dr-wild", 2), ("slice-v", 2), ("pod-a2", 2), ("udp-route", 1), ("udp-route", 3),
          ("slice-v", 0)])
# A SecurityPolicy's Secret appearing, changing and going (the route failing closed and back); its
# authorization Service's port moving away and back.
@example([("security", 1), ("security-users", 1), ("security-users", 2), ("security-users", 0), ("security", 2),
          ("svc-b", 1), ("svc-b", 0), ("security", 3)])
# A Gateway-wide BackendTrafficPolicy's variant clusters over a DestinationRule that changes
# underneath them (the variants keep the rule's settings the policy does not override), then a
# route policy instead, the rule changing and going.
@example([("policy", 2), ("dr-a", 2), ("dr-a", 3), ("dr-a", 1), ("policy", 1), ("dr-a", 2), ("dr-a", 4)])
def test_incremental_equals_full(sequence: list[tuple[str, int]]) -> None:
    state = dict(START)
    incremental = _control_plane(state)
    keys = _check(incremental, [""] * len(IDENTITIES), state, "start")
    for i, (slot, pick) in enumerate(sequence):
        new = pick % len(SLOTS[slot])
        incremental.apply(change(slot, state[slot], new))
        state[slot] = new
        keys = _check(incremental, keys, state, f"step {i} ({slot} → {new})")


def test_every_slot_version_loads_and_translates() -> None:
    """The scenario itself: each version of each slot is valid input (so the property test
    explores translations, not input errors)."""
    for slot, versions in SLOTS.items():
        for v in range(len(versions)):
            state = dict(START, **{slot: v})
            cp = _control_plane(state)
            assert not [e for e in cp.errors if e.severity == "error"], (slot, v, cp.errors)
