"""Incremental equals full on the golden cases: from each case's objects, every object in turn
is deleted and put back, and after each change the control plane that applied it serves the
bytes a control plane loading the same objects from scratch serves. The golden cases hold what
the random scenario does not (waypoints and the ingress gateways that send through them, TLS,
ServiceEntries of every resolution, rejected objects), so each dependency they exercise is
checked for being followed by the incremental path."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from meshgate.discovery.locality import proxy_view
from meshgate.discovery.model import Locality
from meshgate.pipeline import translate_store
from meshgate.providers.changes import ChangeSet
from meshgate.resources.errors import InputError
from meshgate.resources.loader import load_text
from meshgate.resources.meta import ObjectKey
from meshgate.runtime.controller import ControlPlane
from meshgate.xds.cache import SnapshotCache
from meshgate.xds.proxy import ProxyIdentity
from meshgate.xds.resources import snapshot_resources

from ..golden.harness import GoldenCase, load_case, own_cases

CLOCK = "2026-01-02T00:00:00Z"
CASES = own_cases()


class _Objects:
    """A provider over a fixed list of objects (the Provider protocol, no files)."""

    def __init__(self, objects: list) -> None:
        self.objects = objects
        self.errors: list[InputError] = []
        self.rejected: list = []

    def load_all(self) -> ChangeSet:
        return ChangeSet(upserts=list(self.objects))

    async def watch(self) -> AsyncIterator[ChangeSet]:
        return
        yield ChangeSet()


def _served(cp: ControlPlane) -> dict:
    return {key: {t: {n: r.body.value for n, r in res.items()} for t, res in cp.cache.entry(key).resources.items()}
            for key in cp.cache.gateways()}


def _fresh(objects: list) -> ControlPlane:
    cp = ControlPlane(_Objects(objects), SnapshotCache(), clock=lambda: CLOCK)
    cp.load()
    return cp


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_deleting_and_restoring_each_object_equals_a_fresh_load(case: GoldenCase) -> None:
    _, loaded, _ = load_case(case)
    objects = loaded.objects
    assert objects
    incremental = _fresh(objects)
    for i, obj in enumerate(objects):
        key = ObjectKey.of(obj)
        rest = objects[:i] + objects[i + 1:]
        incremental.apply(ChangeSet(deletes=[key]))
        assert _served(incremental) == _served(_fresh(rest)), f"{case.name}: without {key}"
        incremental.apply(ChangeSet(upserts=[obj]))
        assert _served(incremental) == _served(_fresh(objects)), f"{case.name}: {key} back"


FAILOVER = """apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: cart, namespace: shop}
spec:
  host: cart.shop.svc.cluster.local
  trafficPolicy: {outlierDetection: {consecutive5xxErrors: 2}, loadBalancer: {localityLbSetting: {failover: [{from: r1, to: r2}]}}}
"""


def test_a_per_client_view_of_an_ingress_gateway_sends_a_captured_service_to_its_waypoint() -> None:
    """Locality load balancing would make the captured `cart` per-client, but the ingress gateway
    sends it to the waypoint's VIPs, the same for every proxy: a proxy is served the VIP cluster
    and no assignment for it, as a translation for that proxy alone gives, before and after its
    endpoints change (and needs no view of its own for it)."""
    (case,) = [c for c in own_cases() if c.name == "waypoint-capture"]
    _, loaded, _ = load_case(case)
    objects = loaded.objects + load_text(FAILOVER, "dr.yaml", CLOCK).objects
    cp = _fresh(objects)
    identity = ProxyIdentity("shop/ingress", Locality("r1", "z1"))
    key = cp.resolve(identity)
    assert key == "shop/ingress"
    cart = "outbound|80||cart.shop.svc.cluster.local"
    for step in range(2):
        served = {t: {n: r.body.value for n, r in res.items()} for t, res in cp.cache.entry(key).resources.items()}
        alone = translate_store(cp.store, CLOCK, proxy=proxy_view(identity.locality, (), ""))
        (snap,) = [s for s in alone.snapshots if s.gateway == "shop/ingress"]
        expected = {t: {n: r.body.value for n, r in res.items()} for t, res in snapshot_resources(snap).items()}
        assert served == expected, f"step {step}"
        assert cart in served[next(t for t in served if t.endswith("Cluster"))]
        assert cart not in served[next(t for t in served if t.endswith("ClusterLoadAssignment"))]
        (slice_,) = [o for o in objects if o.kind == "EndpointSlice" and o.meta.name == "cart-1"]
        cp.apply(ChangeSet(deletes=[ObjectKey.of(slice_)]))  # the endpoints path, then compare again
