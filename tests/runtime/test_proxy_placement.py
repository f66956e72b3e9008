"""A provisioned proxy names only its Pod (node id = Pod name, cluster/render.py): the control plane
finds its Node, and that Node's locality, as if the proxy had said them itself."""

from __future__ import annotations

from meshgate.discovery.model import Locality
from meshgate.resources.loader import load_text
from meshgate.runtime.controller import ControlPlane
from meshgate.xds.cache import SnapshotCache
from meshgate.xds.proxy import ProxyIdentity

from ..golden.harness import load_case, own_cases
from .test_incremental_deletions import CLOCK, _Objects

PLACEMENT = """apiVersion: v1
kind: Node
metadata:
  name: node-east
  labels: {topology.kubernetes.io/region: us-east, topology.kubernetes.io/zone: zone-1}
---
apiVersion: v1
kind: Pod
metadata: {name: gw-meshgate-7c9d-x2x4q, namespace: apps}
spec: {nodeName: node-east}
"""


def _control_plane() -> ControlPlane:
    (case,) = [c for c in own_cases() if c.name == "se-static-failover"]
    _, loaded, _ = load_case(case)
    placement = load_text(PLACEMENT, "placement.yaml", CLOCK)
    assert not placement.errors
    cp = ControlPlane(_Objects(loaded.objects + placement.objects), SnapshotCache(), clock=lambda: CLOCK)
    cp.load()
    return cp


def test_a_proxy_named_after_its_pod_gets_its_nodes_locality() -> None:
    cp = _control_plane()
    by_pod = cp.resolve(ProxyIdentity("apps/gw", node_id="gw-meshgate-7c9d-x2x4q"))
    said = cp.resolve(ProxyIdentity("apps/gw", Locality("us-east", "zone-1"), node_name="node-east", node_id="other"))
    west = cp.resolve(ProxyIdentity("apps/gw", Locality("us-west", "zone-1", "sub-a"), node_id="w"))
    assert by_pod == said != west


def test_a_proxy_that_says_its_locality_keeps_it() -> None:
    cp = _control_plane()
    west = Locality("us-west", "zone-1", "sub-a")
    named = cp.resolve(ProxyIdentity("apps/gw", west, node_id="gw-meshgate-7c9d-x2x4q"))
    assert named == cp.resolve(ProxyIdentity("apps/gw", west, node_id="w"))


def test_an_unknown_pod_leaves_the_proxy_unplaced() -> None:
    cp = _control_plane()
    assert cp.resolve(ProxyIdentity("apps/gw", node_id="no-such-pod")) == cp.resolve(ProxyIdentity("apps/gw"))
