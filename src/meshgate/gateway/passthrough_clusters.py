"""Passthrough TLSRoutes never get a BackendTLSPolicy's TLS.

A Passthrough TLS listener forwards the client's TLS bytes untouched: the client's handshake is
with the backend. A cluster that re-encrypts (a BackendTLSPolicy targets its Service port) would
wrap that TLS in TLS again, and the backend would see a handshake inside a handshake. So a
Passthrough chain whose backend port a policy targets sends to a cluster of its own,
`outbound|<port>|tls-passthrough|<host>`, the same endpoints without the policy's TLS
(ClusterRef.passthrough; xds/snapshot.py plans it). Routes of other kinds, and Terminate TLSRoutes,
keep the shared cluster and its TLS. Ports no policy targets keep their shared cluster too, so
a gateway's clusters change only where the policy would have done harm.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping

from .. import ir
from ..discovery.backend_tls import policy_for_port
from ..discovery.index import Discovery
from ..naming import cluster_name
from ..store import Store

PASSTHROUGH_SUBSET = "tls-passthrough"


def backend_tls_targets(store: Store, discovery: Discovery) -> Callable[[ir.ClusterRef], bool]:
    """Whether a BackendTLSPolicy applies to a cluster's Service port."""
    policies = store.list("BackendTLSPolicy")

    def targeted(ref: ir.ClusterRef) -> bool:
        if not policies or ref.service_kind != "Service":
            return False
        service = discovery.service(ref.namespace, ref.service)
        port = next((p for p in service.ports if p.number == ref.port), None) if service is not None else None
        return port is not None and policy_for_port(policies, ref.namespace, ref.service, port.name) is not None
    return targeted


def passthrough_ref(ref: ir.ClusterRef) -> ir.ClusterRef:
    """The Passthrough variant of a Service port's cluster: its own name, no policy TLS."""
    return dataclasses.replace(ref, name=cluster_name(ref.port, ref.host, PASSTHROUGH_SUBSET), passthrough=True)


def without_backend_tls(listeners: list[ir.Listener], refs: Mapping[str, ir.ClusterRef],
                        targeted: Callable[[ir.ClusterRef], bool]
                        ) -> tuple[list[ir.Listener], dict[str, ir.ClusterRef]]:
    """`listeners` with the backends of their Passthrough chains (a TLS listener's chains that end
    no TLS: no certificates) moved to the Passthrough variant of each targeted cluster, and the
    variants made (by name). `refs`: the clusters the gateway's routes resolved to, by name."""
    made: dict[str, ir.ClusterRef] = {}
    out: list[ir.Listener] = []
    for lst in listeners:
        if lst.protocol != "TLS":
            out.append(lst)
            continue
        chains = []
        for chain in lst.filter_chains:
            if chain.secrets or not chain.tcp_backends:
                chains.append(chain)
                continue
            backends = []
            for b in chain.tcp_backends:
                ref = refs.get(b.cluster) if b.cluster else None
                if ref is not None and targeted(ref):
                    plain = passthrough_ref(ref)
                    made[plain.name] = plain
                    b = dataclasses.replace(b, cluster=plain.name)
                backends.append(b)
            chains.append(dataclasses.replace(chain, tcp_backends=tuple(backends)))
        out.append(dataclasses.replace(lst, filter_chains=tuple(chains)))
    return out, made
