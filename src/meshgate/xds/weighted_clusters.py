"""A weighted cluster (ir.WeightedCluster) as Envoy config: one EDS cluster whose endpoints are
its backends' endpoints, for Envoy's UDP proxy, which sends a listener's datagrams to a single
cluster and has no weighted_clusters.

Each backend's endpoints come as that backend's own cluster sends them to the proxy (topology
hints, locality priorities, health, the Service in each locality's metadata), and their
load_balancing_weight is set so that, at each priority, a backend's ready endpoints together
weigh its weight: weights 70 and 30 over 2 and 3 endpoints give 70·3 = 210 to each of the
first two and 30·2 = 60 to each of the other three (the LCM of the counts, reduced). Weighted
round robin (the cluster's ROUND_ROBIN with weights) then gives each backend its share of the
sessions, and the UDP proxy opens a session per client address and port: a client that
sends each datagram from a new port is spread by weight, one that keeps its port stays with
its endpoint while the session lives.

Not carried over from a backend's own cluster: locality weights (a DestinationRule's
`distribute`: the weights are the backends' here) and its load-balancing policy.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from envoy.config.cluster.v3 import cluster_pb2
from envoy.config.core.v3 import health_check_pb2
from envoy.config.endpoint.v3 import endpoint_components_pb2 as ec
from envoy.config.endpoint.v3 import endpoint_pb2

from .. import ir
from .clusters import cluster
from .collectors import http2
from .metadata import set_metadata

# Envoy requires the weights of a locality's endpoints to add up to at most this; the whole
# cluster is kept within it.
MAX_TOTAL_WEIGHT = 2**32 - 1
_READY = (health_check_pb2.UNKNOWN, health_check_pb2.HEALTHY)


def endpoint_weights(groups: Sequence[tuple[int, int]]) -> list[int]:
    """The load_balancing_weight of one endpoint of each group, for groups given as (weight,
    endpoints): a group's endpoints together weigh in proportion to its weight. Exact (the LCM
    of the counts, divided by the common factor) while the total fits MAX_TOTAL_WEIGHT, else as
    close as integers within it allow (every endpoint at least 1). A group of weight 0 or with
    no endpoints gets 0: it must not be sent."""
    live = [(w, n) for w, n in groups if w > 0 and n > 0]
    if not live:
        return [0] * len(groups)
    lcm = math.lcm(*(n for _, n in live))
    exact = [w * lcm // n if w > 0 and n > 0 else 0 for w, n in groups]
    common = math.gcd(*exact)
    exact = [e // common for e in exact]
    if sum(e * n for e, (_, n) in zip(exact, groups)) <= MAX_TOTAL_WEIGHT:
        return exact
    # Too large for Envoy: scale the weights so that the total, rounding each endpoint up to 1
    # at worst, stays within the limit.
    scale = max(1, (MAX_TOTAL_WEIGHT - sum(n for _, n in live)) // sum(w for w, _ in live))
    return [max(1, w * scale // n) if w > 0 and n > 0 else 0 for w, n in groups]


def _own_weight(lb: ec.LbEndpoint) -> int:
    """An endpoint's weight within its backend (a WorkloadEntry's weight; 1 when unset)."""
    return lb.load_balancing_weight.value or 1


def merged_assignment(name: str, parts: Sequence[tuple[int, endpoint_pb2.ClusterLoadAssignment]]
                      ) -> endpoint_pb2.ClusterLoadAssignment:
    """The weighted cluster's load assignment from its parts' (weight, load assignment): every
    locality of every part of weight above 0, its endpoints weighted by endpoint_weights per
    (part, priority) (an endpoint's own weight scales its share within its part). The ready
    endpoints of a group are what it is counted by (all of them when none is ready). An address
    two parts share is one endpoint, with both weights, as Envoy keeps only its first mention."""
    totals: dict[tuple[int, int], list[int]] = {}  # (part, priority) → [ready weight, all weight]
    for i, (weight, cla) in enumerate(parts):
        if weight <= 0:
            continue
        for lle in cla.endpoints:
            t = totals.setdefault((i, lle.priority), [0, 0])
            for lb in lle.lb_endpoints:
                t[0] += _own_weight(lb) if lb.health_status in _READY else 0
                t[1] += _own_weight(lb)
    keys = list(totals)
    units = dict(zip(keys, endpoint_weights([(parts[i][0], totals[(i, p)][0] or totals[(i, p)][1])
                                             for i, p in keys])))
    out = endpoint_pb2.ClusterLoadAssignment(cluster_name=name)
    seen: dict[tuple[str, int], tuple[int, ec.LbEndpoint]] = {}  # address → (its priority, its endpoint)
    for i, (weight, cla) in enumerate(parts):
        if weight <= 0:
            continue
        for lle in cla.endpoints:
            unit = units[(i, lle.priority)]
            merged = out.endpoints.add(priority=lle.priority)  # in place: `seen` points into it
            if lle.HasField("locality"):
                merged.locality.CopyFrom(lle.locality)
            if lle.HasField("metadata"):
                merged.metadata.CopyFrom(lle.metadata)
            for lb in lle.lb_endpoints:
                sock = lb.endpoint.address.socket_address
                address = (sock.address, sock.port_value)
                if address in seen:
                    priority, first = seen[address]
                    if priority == lle.priority:
                        first.load_balancing_weight.value += unit * _own_weight(lb)
                    continue
                added = merged.lb_endpoints.add()
                added.CopyFrom(lb)
                added.load_balancing_weight.value = unit * _own_weight(lb)
                seen[address] = (lle.priority, added)
            if not merged.lb_endpoints:
                del out.endpoints[-1]  # every endpoint of it came in an earlier part
    return out


def weighted_cluster(wc: ir.WeightedCluster, sources: Sequence[ir.SourceRef]) -> cluster_pb2.Cluster:
    """The weighted cluster itself: EDS, weighted round robin, panic mode off as for every
    service cluster; its metadata names the route, then what made each of its backends."""
    out = cluster(wc.name)
    if wc.http2:
        http2(out)
    set_metadata(out, sources)
    return out
