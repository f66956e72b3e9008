"""A world of objects in slots, each slot with a few versions (or absent), for comparing the
incremental control plane with a translation from scratch (test_incremental_equals_full.py).

Every input kind meshgate reads has a slot, and the versions differ in what matters to the
translation: ports, selectors, labels, readiness, localities, hosts, policies and backends.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

from meshgate.discovery.model import Locality
from meshgate.providers.files import ChangeSet
from meshgate.resources.errors import InputError
from meshgate.resources.loader import Rejected, load_text
from meshgate.resources.meta import ObjectKey
from meshgate.xds.proxy import ProxyIdentity
from meshgate.xds.unusable_ca import UNUSABLE_CA_PEM

CREATED = "2026-01-01T00:00:00Z"


def _node(name: str, zone: str, region: str = "r1") -> str:
    return f"""apiVersion: v1
kind: Node
metadata:
  name: {name}
  labels: {{topology.kubernetes.io/region: {region}, topology.kubernetes.io/zone: {zone}}}
status:
  allocatable: {{cpu: "4"}}
  conditions: [{{type: Ready, status: "True"}}]
"""


def _pod(name: str, app: str, ip: str, node: str, ready: str = "True") -> str:
    return f"""apiVersion: v1
kind: Pod
metadata: {{name: {name}, namespace: app, labels: {{app: {app}, version: v1}}}}
spec: {{nodeName: {node}}}
status:
  podIP: {ip}
  conditions: [{{type: Ready, status: "{ready}"}}]
"""


def _service(name: str, port: int = 80, selector: str | None = None, annotations: str = "{}",
             extra: str = "") -> str:
    sel = f"\n  selector: {{app: {selector}}}" if selector else ""
    return f"""apiVersion: v1
kind: Service
metadata: {{name: {name}, namespace: app, annotations: {annotations}}}
spec:
  ports: [{{name: http, port: {port}, targetPort: 8080}}]{sel}{extra}
"""


def _slice(endpoints: str) -> str:
    return f"""apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: b-1
  namespace: app
  labels: {{kubernetes.io/service-name: b}}
addressType: IPv4
ports: [{{name: http, port: 8080}}]
endpoints:
{endpoints}"""


def _route(name: str, backends: str, path: str = "/", namespace: str = "app") -> str:
    return f"""apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {{name: {name}, namespace: {namespace}}}
spec:
  parentRefs: [{{name: web, namespace: gw}}]
  rules:
  - matches: [{{path: {{type: PathPrefix, value: {path}}}}}]
    backendRefs: {backends}
"""


def _dr(name: str, host: str, policy: str) -> str:
    return f"""apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {{name: {name}, namespace: app}}
spec:
  host: {host}
  trafficPolicy: {policy}
"""


def _entry(hosts: str, body: str) -> str:
    return f"""apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {{name: ext, namespace: app}}
spec:
  hosts: {hosts}
  location: MESH_INTERNAL
  ports: [{{number: 80, name: http, protocol: HTTP, targetPort: 8080}}]
{body}"""


GATEWAY = """apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {{name: web, namespace: gw}}
spec:
  gatewayClassName: meshgate
  listeners:
  - {{name: http, port: {port}, protocol: HTTP, allowedRoutes: {{namespaces: {allowed}}}}}
"""
ALL = "{from: All}"

FAILOVER = "{outlierDetection: {consecutive5xxErrors: 2}, loadBalancer: {localityLbSetting: {failover: [{from: r1, to: r2}]}}}"
PRIORITY = "{outlierDetection: {consecutive5xxErrors: 2}, loadBalancer: {localityLbSetting: {failoverPriority: [topology.kubernetes.io/zone, version]}}}"
DISTRIBUTE = "{loadBalancer: {localityLbSetting: {distribute: [{from: r1/z1/*, to: {r1/z1/*: 70, r1/z2/*: 30}}]}}}"
HASH = "{loadBalancer: {consistentHash: {httpHeaderName: x-user}}, connectionPool: {tcp: {maxConnections: 7}}}"

# slot → its versions; None is "absent". The first version is the starting one.
SLOTS: dict[str, list[str | None]] = {
    # The listener's side of attachment moves too: only the Gateway's namespace, or namespaces
    # labelled team=a (ns-app's third version), may attach.
    "gateway": [GATEWAY.format(port=8080, allowed=ALL), GATEWAY.format(port=8081, allowed=ALL),
                GATEWAY.format(port=8080, allowed="{from: Same}"),
                GATEWAY.format(port=8080, allowed="{from: Selector, selector: {matchLabels: {team: a}}}")],
    "ns-app": ["apiVersion: v1\nkind: Namespace\nmetadata: {name: app}\n",
               ("apiVersion: v1\nkind: Namespace\nmetadata: {name: app, annotations: "
                "{networking.istio.io/traffic-distribution: PreferSameZone}}\n"),
               "apiVersion: v1\nkind: Namespace\nmetadata: {name: app, labels: {team: a}}\n", None],
    "node-1": [_node("n1", "z1"), _node("n1", "z3"), None],
    "node-2": [_node("n2", "z2"), _node("n2", "z2", "r2")],
    "svc-a": [_service("a", selector="a"), _service("a", 81, selector="a"),
              _service("a", selector="a", annotations="{service.kubernetes.io/topology-mode: Auto}"),
              _service("a", selector="a", extra="\n  trafficDistribution: PreferClose"), None],
    "pod-a1": [_pod("a-1", "a", "10.0.0.1", "n1"), _pod("a-1", "a", "10.0.0.1", "n1", "False"),
               _pod("a-1", "a", "10.0.0.9", "n2"), None],
    "pod-a2": [_pod("a-2", "a", "10.0.0.2", "n2"), _pod("a-2", "b", "10.0.0.2", "n2"), None],
    # An appProtocol https port: a usable backend only while a BackendTLSPolicy targets it (btls).
    "svc-b": [_service("b"), _service("b", 90), None,
              _service("b").replace("targetPort: 8080}", "targetPort: 8080, appProtocol: https}")],
    "slice-b": [_slice("- {addresses: [10.0.1.1], conditions: {ready: true}, zone: z1}\n"
                       "- {addresses: [10.0.1.2], conditions: {ready: true}, zone: z2}\n"),
                _slice("- {addresses: [10.0.1.1], conditions: {ready: false, serving: true, terminating: true}}\n"),
                _slice("- {addresses: [10.0.1.3], conditions: {ready: true}, zone: z2, "
                       "hints: {forZones: [{name: z2}]}}\n"), None],
    "entry": [_entry("[ext.example.com]", "  resolution: STATIC\n  endpoints:\n"
                     "  - {address: 10.2.0.1, locality: r1/z1}\n  - {address: 10.2.0.2, locality: r2/z9}\n"),
              _entry("[ext.example.com]", "  resolution: STATIC\n  workloadSelector: {labels: {app: w}}\n"),
              _entry("[ext.example.com, other.example.com]", "  resolution: DNS\n  endpoints:\n"
                     "  - {address: ext.invalid, locality: r1/z2}\n"), None],
    "workload": [("apiVersion: networking.istio.io/v1\nkind: WorkloadEntry\nmetadata: {name: w1, namespace: app}\n"
                  "spec: {address: 10.3.0.1, labels: {app: w}, locality: r1/z2}\n"),
                 ("apiVersion: networking.istio.io/v1\nkind: WorkloadEntry\nmetadata: {name: w1, namespace: app}\n"
                  "spec: {address: 10.3.0.2, labels: {app: w}, locality: r2/z3}\n"), None],
    "dr-a": [_dr("a", "a", FAILOVER), _dr("a", "a", PRIORITY), _dr("a", "a.app.svc.cluster.local", HASH),
             _dr("a", "b", DISTRIBUTE), None],
    "dr-wild": [None, _dr("wild", "'*.example.com'", PRIORITY), _dr("wild", "'*'", FAILOVER)],
    "route-1": [_route("r1", "[{name: a, port: 80}]"),
                _route("r1", "[{name: b, port: 80, weight: 3}, {name: a, port: 80, weight: 1}]"),
                _route("r1", "[{group: networking.istio.io, kind: Hostname, name: ext.example.com, port: 80}]"),
                None],
    # From the Gateway's namespace to a Service in app: it resolves only while the grant exists.
    "route-3": [None, _route("r3", "[{name: b, namespace: app, port: 80}]", "/c", "gw"),
                _route("r3", "[{name: a, namespace: app, port: 80}]", "/c", "gw")],
    "grant": [None, ("apiVersion: gateway.networking.k8s.io/v1beta1\nkind: ReferenceGrant\n"
                     "metadata: {name: from-gw, namespace: app}\nspec:\n"
                     "  from: [{group: gateway.networking.k8s.io, kind: HTTPRoute, namespace: gw}]\n"
                     "  to: [{group: '', kind: Service}]\n"),
              ("apiVersion: gateway.networking.k8s.io/v1beta1\nkind: ReferenceGrant\n"
               "metadata: {name: from-gw, namespace: app}\nspec:\n"
               "  from: [{group: gateway.networking.k8s.io, kind: HTTPRoute, namespace: gw},\n"
               "         {group: gateway.networking.k8s.io, kind: TCPRoute, namespace: gw}]\n"
               "  to: [{group: '', kind: Service}]\n")],
    "route-2": [_route("r2", "[{name: b, port: 80}]", "/b"),
                _route("r2", "[{group: networking.istio.io, kind: ServiceEntry, name: ext, port: 80}]", "/b"),
                _route("r2", "[{name: a, port: 81}]", "/b"), None],
}

# A GRPCRoute named like the HTTPRoute r1 (caches are keyed by kind too), and a TCPRoute on a
# Gateway of its own. The GRPCRoute shares listener http's hostnames with the HTTPRoutes: one
# version is younger than they are (it is accepted only while they are absent), the other older
# (they lose the listener to it), so the cross-serving rule moves both ways.
def _grpc_route(service: str, backend: str, created: str) -> str:
    return f"""apiVersion: gateway.networking.k8s.io/v1
kind: GRPCRoute
metadata: {{name: r1, namespace: app, creationTimestamp: "{created}"}}
spec:
  parentRefs: [{{name: web, namespace: gw}}]
  rules:
  - matches: [{{method: {{service: {service}}}}}]
    backendRefs: [{{name: {backend}, port: 80}}]
"""


def _tcp_route(backends: str) -> str:
    return f"""apiVersion: gateway.networking.k8s.io/v1alpha2
kind: TCPRoute
metadata: {{name: r1, namespace: gw}}
spec:
  parentRefs: [{{name: tcp, namespace: gw}}]
  rules: [{{backendRefs: {backends}}}]
"""


TCP_GATEWAY = """apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {{name: tcp, namespace: gw}}
spec:
  gatewayClassName: meshgate
  allowedListeners: {{namespaces: {{from: All}}}}
  listeners:
  - {{name: tcp, port: {port}, protocol: TCP, allowedRoutes: {{namespaces: {{from: All}}}}}}
  - {{name: tls, port: 9443, protocol: TLS, tls: {{mode: Passthrough}}, allowedRoutes: {{namespaces: {{from: All}}}}}}
"""


# A passthrough TLSRoute on the TCP Gateway's TLS listener (its backend a may be the target of the
# BackendTLSPolicy below, which a passthrough route must not act on).
def _tls_route(hostnames: str, backends: str) -> str:
    return f"""apiVersion: gateway.networking.k8s.io/v1
kind: TLSRoute
metadata: {{name: r1, namespace: app}}
spec:
  parentRefs: [{{name: tcp, namespace: gw, sectionName: tls}}]
  hostnames: {hostnames}
  rules: [{{backendRefs: {backends}}}]
"""


# A ListenerSet adding HTTP listeners to the TCP Gateway, and a route attached through it.
def _listener_set(port: int, hostname: str) -> str:
    return f"""apiVersion: gateway.networking.k8s.io/v1
kind: ListenerSet
metadata: {{name: extra, namespace: app}}
spec:
  parentRef: {{name: tcp, namespace: gw}}
  listeners: [{{name: web, port: {port}, protocol: HTTP, hostname: {hostname}, allowedRoutes: {{namespaces: {{from: Same}}}}}}]
"""


SET_ROUTE = """apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: via-set, namespace: app}
spec:
  parentRefs: [{kind: ListenerSet, name: extra}]
  rules: [{backendRefs: [{name: a, port: 80}]}]
"""
SLOTS.update({
    "grpc-route": [None, _grpc_route("pkg.Echo", "a", "2026-01-02T00:00:00Z"),
                   _grpc_route("pkg.Other", "b", "2025-12-31T00:00:00Z")],
    "tcp-gateway": [None, TCP_GATEWAY.format(port=9000), TCP_GATEWAY.format(port=9001)],
    "listener-set": [None, _listener_set(8080, "x.example.com"), _listener_set(9000, "y.example.com")],
    "set-route": [None, SET_ROUTE],
    "tls-route": [None, _tls_route("[a.example.com]", "[{name: a, port: 80}]"),
                  _tls_route("[a.example.com, '*.b.example.com']", "[{name: b, port: 80, weight: 3}, {name: a, port: 80}]")],
    "tcp-route": [None, _tcp_route("[{name: a, namespace: app, port: 80}]"),
                  _tcp_route("[{name: b, namespace: app, port: 80, weight: 2}, {name: a, namespace: app, port: 80}]")],
})

# A BackendTLSPolicy (on a whole Service, on one port by name, with the system CAs) and the
# ConfigMap holding its CA (two certificates, none, or gone): a change of either must rebuild
# exactly the clusters of the targeted ports, and the policy's status.
_CA_1 = (Path(__file__).parents[1] / "golden" / "testdata-tls.crt").read_text()
_CA_2 = UNUSABLE_CA_PEM.decode()


def _btls(target: str, validation: str) -> str:
    return f"""apiVersion: gateway.networking.k8s.io/v1
kind: BackendTLSPolicy
metadata: {{name: tls, namespace: app}}
spec:
  targetRefs: [{target}]
  validation: {validation}
"""


def _ca_config_map(pem: str | None) -> str:
    data = "{}" if pem is None else "\n  ca.crt: |\n" + "".join(f"    {line}\n" for line in pem.splitlines())
    return f"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: ca, namespace: app}}\ndata: {data}\n"


SLOTS.update({
    "btls": [None,
             _btls("{group: '', kind: Service, name: a}",
                   "{caCertificateRefs: [{group: '', kind: ConfigMap, name: ca}], hostname: a.example.com}"),
             _btls("{group: '', kind: Service, name: b, sectionName: http}",
                   "{caCertificateRefs: [{group: '', kind: ConfigMap, name: ca}], hostname: b.example.com, "
                   "subjectAltNames: [{type: URI, uri: 'spiffe://example.com/b'}]}"),
             _btls("{group: '', kind: Service, name: a}", "{wellKnownCACertificates: System, hostname: a.example.com}")],
    "btls-ca": [_ca_config_map(_CA_1), _ca_config_map(_CA_2), _ca_config_map(None), None],
})

# The client certificate the web Gateway presents on the policy's TLS (its fifth version names it
# in spec.tls.backend): valid, malformed (no tls.crt/tls.key), or gone. A change of the Secret or
# of the reference must reach the clusters' TLS context and the SDS secret, and the Gateway's status.
_KEY = (Path(__file__).parents[1] / "golden" / "testdata-tls.key").read_text()


def _client_secret(valid: bool) -> str:
    if not valid:
        return "apiVersion: v1\nkind: Secret\ntype: Opaque\nmetadata: {name: client, namespace: gw}\ndata: {}\n"
    block = "".join(f"    {line}\n" for line in _CA_1.splitlines())
    key = "".join(f"    {line}\n" for line in _KEY.splitlines())
    return ("apiVersion: v1\nkind: Secret\ntype: kubernetes.io/tls\nmetadata: {name: client, namespace: gw}\n"
            f"stringData:\n  tls.crt: |\n{block}  tls.key: |\n{key}")


# The TCP Gateway's Passthrough TLS listener carries the TLSRoute slot above; its version 1 goes
# to a policy's port: its backend gets a cluster of its own, without the policy's TLS, while the
# policy applies. (A fourth TCP Gateway version, on another port, for the examples' indices.)
SLOTS["tcp-gateway"].append(TCP_GATEWAY.format(port=9002))
SLOTS["gateway"].append(GATEWAY.format(port=8080, allowed=ALL) + "  tls: {backend: {clientCertificateRef: {name: client}}}\n")
SLOTS["client-cert"] = [_client_secret(True), _client_secret(False), None]

# The web Gateway's parameters (its sixth version names them): tracing and OTLP access logs, logs
# off, or gone (a parametersRef to nothing: the Gateway is not accepted). Their collectors are
# clusters of the Gateway's, and every connection manager carries the settings.
SLOTS["gateway"].append(GATEWAY.format(port=8080, allowed=ALL).replace(
    "  gatewayClassName: meshgate\n",
    "  gatewayClassName: meshgate\n  infrastructure:\n"
    "    parametersRef: {group: gateway.meshgate.io, kind: GatewayParameters, name: telemetry}\n"))


def _parameters(telemetry: str) -> str:
    return f"""apiVersion: gateway.meshgate.io/v1alpha1
kind: GatewayParameters
metadata: {{name: telemetry, namespace: gw}}
spec:
  telemetry: {telemetry}
"""


SLOTS["parameters"] = [
    None,
    _parameters("{tracing: {samplingRate: 20, provider: {type: OpenTelemetry, host: 127.0.0.9, port: 4317}}, "
                "accessLog: {settings: [{format: {type: JSON, json: {p: '%REQ(:PATH)%'}}, "
                "sinks: [{type: OpenTelemetry, openTelemetry: {host: otel.example.com}}]}]}}"),
    _parameters("{tracing: {provider: {type: Zipkin, host: zipkin.example.com}}, accessLog: {disable: true}}"),
    # The collector as Service a of namespace app: a cluster of its endpoints while the grant exists.
    _parameters("{tracing: {provider: {type: OpenTelemetry, backendRefs: [{name: a, namespace: app, port: 80}]}}}"),
]
SLOTS["parameters-grant"] = [None, """apiVersion: gateway.networking.k8s.io/v1beta1
kind: ReferenceGrant
metadata: {name: collector, namespace: app}
spec:
  from: [{group: gateway.meshgate.io, kind: GatewayParameters, namespace: gw}]
  to: [{group: "", kind: Service, name: a}]
"""]


# A UDPRoute on a Gateway of its own: one backend (its cluster), or several (a weighted cluster
# made of their endpoints, which follows their hints and locality priorities per proxy).
UDP_GATEWAY = """apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: udp, namespace: gw}
spec:
  gatewayClassName: meshgate
  listeners: [{name: udp, port: 5300, protocol: UDP, allowedRoutes: {namespaces: {from: All}}}]
"""


def _udp_service(extra: str = "") -> str:
    return f"""apiVersion: v1
kind: Service
metadata: {{name: u, namespace: app}}
spec:
  selector: {{app: a}}
  ports: [{{name: dns, port: 53, targetPort: 5353, protocol: UDP}}, {{name: alt, port: 54, targetPort: 5354, protocol: UDP}}]{extra}
"""


# v: hand-written EndpointSlices, so that their changes take the endpoints-only path.
UDP_SERVICE_V = """apiVersion: v1
kind: Service
metadata: {name: v, namespace: app}
spec:
  ports: [{name: dns, port: 53, targetPort: 5353, protocol: UDP}]
"""


def _udp_slice(endpoints: str) -> str:
    return f"""apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: v-1
  namespace: app
  labels: {{kubernetes.io/service-name: v}}
addressType: IPv4
ports: [{{name: dns, port: 5353, protocol: UDP}}]
endpoints:
{endpoints}"""


def _udp_route(backends: str) -> str:
    return f"""apiVersion: gateway.networking.k8s.io/v1alpha2
kind: UDPRoute
metadata: {{name: u, namespace: app}}
spec:
  parentRefs: [{{name: udp, namespace: gw}}]
  rules: [{{backendRefs: {backends}}}]
"""


SLOTS.update({
    "udp-gateway": [None, UDP_GATEWAY],
    "svc-u": [None, _udp_service(), _udp_service("\n  trafficDistribution: PreferClose")],
    "svc-v": [None, UDP_SERVICE_V],
    "slice-v": [None,
                _udp_slice("- {addresses: [10.0.4.1], conditions: {ready: true}, nodeName: n1, zone: z1}\n"
                           "- {addresses: [10.0.4.2], conditions: {ready: true}, nodeName: n2, zone: z2}\n"),
                _udp_slice("- {addresses: [10.0.4.1], conditions: {ready: false}, nodeName: n1, zone: z1}\n"
                           "- {addresses: [10.0.4.3], conditions: {ready: true}, nodeName: n2, zone: z2, "
                           "hints: {forZones: [{name: z2}]}}\n")],
    "udp-route": [None, _udp_route("[{name: u, port: 53}]"),
                  _udp_route("[{name: u, port: 53, weight: 3}, {name: u, port: 54, weight: 1}, {name: v, port: 53},"
                             " {name: b, port: 80}]"),
                  _udp_route("[{name: u, port: 54, weight: 0}, {name: u, port: 53, weight: 2}, {name: v, port: 53}]")],
})

IDENTITIES = [
    ProxyIdentity("gw/web"),
    ProxyIdentity("gw/tcp"),
    ProxyIdentity("gw/web", Locality("r1", "z1"), (("version", "v1"),), "n1"),
    ProxyIdentity("gw/web", Locality("r1", "z2"), (), "n2"),
    ProxyIdentity("gw/web", Locality("r2", "z3")),
    ProxyIdentity("gw/udp", Locality("r1", "z2"), (), "n2"),
]


def objects(slot: str, version: int) -> list:
    """The objects of one slot's version."""
    text = SLOTS[slot][version]
    if text is None:
        return []
    loaded = load_text(text, f"{slot}.yaml", CREATED)
    assert not [e for e in loaded.errors if e.severity == "error"], (slot, version, loaded.errors)
    return loaded.objects


def change(slot: str, old: int, new: int) -> ChangeSet:
    """The change set that takes a slot from one version to another."""
    before = {ObjectKey.of(o) for o in objects(slot, old)}
    after = objects(slot, new)
    return ChangeSet(upserts=after, deletes=sorted(before - {ObjectKey.of(o) for o in after},
                                                   key=lambda k: (k.kind, k.namespace, k.name)))


class WorldProvider:
    """A provider over the slots' starting versions (the Provider protocol, no files)."""

    def __init__(self, state: dict[str, int]) -> None:
        self.state = dict(state)
        self.errors: list[InputError] = []
        self.rejected: list[Rejected] = []

    def load_all(self) -> ChangeSet:
        """Every object of the current versions."""
        return ChangeSet(upserts=[o for slot, v in sorted(self.state.items()) for o in objects(slot, v)])

    async def watch(self) -> AsyncIterator[ChangeSet]:
        """No changes of its own: the test applies them."""
        return
        yield ChangeSet()


def _btp(name: str, target: str, body: str, created: str = CREATED) -> str:
    return f"""apiVersion: gateway.envoyproxy.io/v1alpha1
kind: BackendTrafficPolicy
metadata: {{name: {name}, namespace: {target.split('/')[0]}, creationTimestamp: "{created}"}}
spec:
  targetRefs: [{{group: gateway.networking.k8s.io, kind: {target.split('/')[1]}, name: {target.split('/')[2]}}}]
{body}"""


# BackendTrafficPolicies: on route r1 (health checks and hashing on clusters of the policy's own,
# whatever r1's backends are: Services, a Hostname), on the Gateway (retries and faults on every
# other route, passive health checks), on r2; and a newer one on r1 that is Conflicted while the
# first exists, then takes r1 when it goes.
SLOTS["policy"] = [
    None,
    _btp("checked", "app/HTTPRoute/r1",
         "  healthCheck: {active: {type: HTTP, http: {path: /healthz}}, panicThreshold: 0}\n"
         "  loadBalancer: {type: ConsistentHash, consistentHash: {type: SourceIP}}\n"
         "  rateLimit: {local: {rules: [{limit: {requests: 5, unit: Second}}]}}\n"),
    _btp("wide", "gw/Gateway/web",
         "  healthCheck: {passive: {consecutive5XxErrors: 1}}\n"
         "  retry: {numRetries: 4}\n  faultInjection: {delay: {fixedDelay: 1s, percentage: 10}}\n"),
    _btp("b-only", "app/HTTPRoute/r2", "  circuitBreaker: {maxConnections: 3}\n  timeout: {http: {requestTimeout: 2s}}\n"),
]
SLOTS["policy-2"] = [
    None,
    _btp("late", "app/HTTPRoute/r1", "  circuitBreaker: {maxPendingRequests: 9}\n", "2026-06-01T00:00:00Z"),
]


def _ctp(name: str, section: str, body: str, created: str = CREATED) -> str:
    section_ref = f", sectionName: {section}" if section else ""
    return f"""apiVersion: gateway.envoyproxy.io/v1alpha1
kind: ClientTrafficPolicy
metadata: {{name: {name}, namespace: gw, creationTimestamp: "{created}"}}
spec:
  targetRefs: [{{group: gateway.networking.k8s.io, kind: Gateway, name: web{section_ref}}}]
{body}"""


# ClientTrafficPolicies on the web Gateway: the whole Gateway (a connection limit, the PROXY
# protocol, header handling), or its http listener alone (TLS-free settings), which then
# overrides the Gateway's.
SLOTS["client-policy"] = [
    None,
    _ctp("clients", "", "  connection: {connectionLimit: {value: 50}}\n  proxyProtocol: {optional: true}\n"
         "  headers: {withUnderscoresAction: DropHeader}\n"),
    _ctp("clients", "", "  timeout: {http: {idleTimeout: 30s}}\n"),
]
SLOTS["client-policy-listener"] = [
    None,
    _ctp("http-only", "http", "  clientIPDetection: {xForwardedFor: {numTrustedHops: 2}}\n", "2026-06-01T00:00:00Z"),
]


def _security(name: str, target: str, body: str) -> str:
    return f"""apiVersion: gateway.envoyproxy.io/v1alpha1
kind: SecurityPolicy
metadata: {{name: {name}, namespace: {target.split('/')[0]}, creationTimestamp: "{CREATED}"}}
spec:
  targetRefs: [{{group: gateway.networking.k8s.io, kind: {target.split('/')[1]}, name: {target.split('/')[2]}}}]
{body}"""


# SecurityPolicies: basic auth on r1 from the Secret of the next slot (failing closed while it is
# absent, its users changing), external authorization through Service b's port (failing closed
# while b or the port is missing) with client-address rules, and a Gateway-wide deny by address.
SLOTS["security"] = [
    None,
    _security("basic", "app/HTTPRoute/r1", "  basicAuth: {users: {name: users}}\n"),
    _security("ext", "app/HTTPRoute/r1",
              "  extAuth: {http: {backendRefs: [{name: b, port: 80}], path: /check}}\n"
              "  authorization: {defaultAction: Allow, rules: [{action: Deny, principal: {clientCIDRs: [10.9.0.0/16]}}]}\n"),
    _security("wide", "gw/Gateway/web", "  authorization: {defaultAction: Deny, rules: [{action: Allow, "
              "principal: {clientCIDRs: [10.0.0.0/8]}, operation: {methods: [GET]}}]}\n"
              "  cors: {allowOrigins: ['https://*.example.com']}\n"),
]
SLOTS["security-users"] = [
    None,
    "apiVersion: v1\nkind: Secret\nmetadata: {name: users, namespace: app}\nstringData: {.htpasswd: 'u:{SHA}one'}\n",
    "apiVersion: v1\nkind: Secret\nmetadata: {name: users, namespace: app}\nstringData: {.htpasswd: 'u:{SHA}two'}\n",
]

# Istio's security policies on the Gateway web: a DENY by path, then an ALLOW by request
# principal (tokens from the RequestAuthentication's issuer, while it exists), or a namespace-wide
# ALLOW without rules (everything denied).
SLOTS["istio-authz"] = [
    None,
    """apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: paths, namespace: gw}
spec:
  targetRefs: [{group: gateway.networking.k8s.io, kind: Gateway, name: web}]
  action: DENY
  rules: [{to: [{operation: {paths: ["/a*"]}}]}]
""",
    """apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: paths, namespace: gw}
spec:
  targetRefs: [{group: gateway.networking.k8s.io, kind: Gateway, name: web}]
  rules: [{from: [{source: {requestPrincipals: ["https://issuer.example.com/*"]}}]}]
""",
    """apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: paths, namespace: gw}
spec: {}
""",
]
SLOTS["istio-authn"] = [
    None,
    """apiVersion: security.istio.io/v1
kind: RequestAuthentication
metadata: {name: tokens, namespace: gw}
spec:
  jwtRules: [{issuer: "https://issuer.example.com", jwksUri: "https://issuer.example.com/jwks"}]
""",
]
