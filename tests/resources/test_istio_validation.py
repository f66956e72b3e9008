"""Istio ServiceEntry, WorkloadEntry and DestinationRule: the typed model and Istio's validation.

Every rule Istio's admission makes for these kinds (ValidateServiceEntry, ValidateWorkloadEntry,
ValidateDestinationRule and their helpers, plus the CRDs' CEL rules) has at least one case in
the table below: a snippet of spec, the field path the error must name, and a piece of the reason.
Each bad snippet is otherwise valid, so exactly one error is expected.
"""

from __future__ import annotations

import textwrap

import pytest

from meshgate.resources import istio
from meshgate.resources.istio import (
    ClientTLS,
    ConnectionPool,
    ConsistentHash,
    DestinationRule,
    HTTPCookie,
    LocalityLbSetting,
    ServiceEntry,
    ServiceEntryPort,
    WorkloadEntry,
)

from .support import errors_of, warnings_of

SE = "ServiceEntry"
WE = "WorkloadEntry"
DR = "DestinationRule"


def document(kind: str, spec: str, namespace: str = "ns1") -> str:
    """One object of `kind` named x in `namespace` with the given spec (YAML, any indentation)."""
    body = textwrap.indent(textwrap.dedent(spec).strip("\n"), "  ")
    return (f"apiVersion: networking.istio.io/v1\nkind: {kind}\nmetadata:\n  name: x\n"
            f"  namespace: {namespace}\nspec:\n{body}\n")


def loaded_one(load, kind: str, spec: str):
    """Load a valid object: no errors, no warnings; the typed object."""
    result = load(document(kind, spec))
    assert [str(e) for e in result.errors] == []
    assert len(result.objects) == 1
    return result.objects[0]


# Shared fragments -----------------------------------------------------------------------------

TLS_PORT = "ports: [{number: 443, name: tls, protocol: TLS}]"
HTTP_PORT = "ports: [{number: 80, name: http, protocol: HTTP}]"


def se(extra: str, hosts: str = "[api.example.com]", ports: str = TLS_PORT) -> str:
    return f"hosts: {hosts}\n{ports}\n{textwrap.dedent(extra).strip()}"


def dr(policy: str) -> str:
    """A DestinationRule whose trafficPolicy is `policy` (indented below trafficPolicy:)."""
    return "host: api.example.com\ntrafficPolicy:\n" + textwrap.indent(textwrap.dedent(policy).strip("\n"), "  ")


def lb(setting: str, outlier: bool = True) -> str:
    """A trafficPolicy.loadBalancer.localityLbSetting snippet (with outlierDetection by default)."""
    body = "loadBalancer:\n  localityLbSetting:\n" + textwrap.indent(textwrap.dedent(setting).strip("\n"), "    ")
    if outlier:
        body += "\noutlierDetection: {consecutive5xxErrors: 5}"
    return dr(body)


LLB = "spec.trafficPolicy.loadBalancer.localityLbSetting"
CH = "spec.trafficPolicy.loadBalancer.consistentHash"
OD = "spec.trafficPolicy.outlierDetection"
CP = "spec.trafficPolicy.connectionPool"
TLS = "spec.trafficPolicy.tls"

# (id, kind, spec, field, reason substring)
INVALID = [
    # ---- ServiceEntry: hosts (ValidateServiceEntry; CRD "hostname cannot be wildcard")
    ("se-hosts-missing", SE, TLS_PORT, "spec.hosts", "must have at least one host"),
    ("se-hosts-empty", SE, "hosts: []\n" + TLS_PORT, "spec.hosts", "must have at least one host"),
    ("se-host-star", SE, se("", hosts='["*"]'), "spec.hosts[0]", "hostname cannot be wildcard"),
    ("se-host-bad-label", SE, se("", hosts="[bad_host.example.com]"), "spec.hosts[0]", "not a valid DNS-1123 label"),
    ("se-host-numeric-tld", SE, se("", hosts="[1.2.3.4]"), "spec.hosts[0]", "cannot be all-numeric"),
    ("se-host-inner-wildcard", SE, se("", hosts='["api.*.com"]'), "spec.hosts[0]",
     "label '*' is not a valid DNS-1123 label"),
    ("se-host-wildcard-suffix", SE, se("", hosts='["api*.example.com"]'), "spec.hosts[0]",
     "a wildcard may only start the first label"),
    ("se-host-not-string", SE, se("", hosts="[80]"), "spec.hosts[0]", "must be a string"),
    # ---- addresses (ValidateIPSubnet; CIDR only with NONE/STATIC)
    ("se-address-bad-ip", SE, se("addresses: [10.0.0.300]"), "spec.addresses[0]", "not a valid IP"),
    ("se-address-bad-cidr", SE, se("addresses: [10.0.0.0/99]"), "spec.addresses[0]", "not a valid CIDR block"),
    ("se-cidr-with-dns", SE, se("addresses: [10.0.0.1, 10.0.0.0/8]\nresolution: DNS"), "spec.addresses[1]",
     "CIDR addresses are allowed only for NONE/STATIC"),
    ("se-cidr-with-dns-rr", SE, se("addresses: [10.0.0.0/8]\nresolution: DNS_ROUND_ROBIN"), "spec.addresses[0]",
     "NONE/STATIC"),
    # ---- ports (number, name, protocol, targetPort; unique by name and number)
    ("se-port-number-missing", SE, se("", ports="ports: [{name: tls, protocol: TLS}]"), "spec.ports[0].number",
     "required field is missing"),
    ("se-port-number-range", SE, se("", ports="ports: [{number: 70000, name: tls}]"), "spec.ports[0].number",
     "must be between 1 and 65535"),
    ("se-port-name-missing", SE, se("", ports="ports: [{number: 443, protocol: TLS}]"), "spec.ports[0].name",
     "required field is missing"),
    ("se-port-name-invalid", SE, se("", ports="ports: [{number: 443, name: tls_1}]"), "spec.ports[0].name",
     "invalid port name"),
    ("se-port-protocol", SE, se("", ports="ports: [{number: 443, name: tls, protocol: QUIC}]"),
     "spec.ports[0].protocol", "unsupported protocol"),
    ("se-port-target-range", SE, se("", ports="ports: [{number: 443, name: tls, targetPort: 0}]"),
     "spec.ports[0].targetPort", "must be between 1 and 65535"),
    ("se-port-name-duplicate", SE, se("", ports="ports: [{number: 443, name: tls}, {number: 8443, name: tls}]"),
     "spec.ports[1].name", "port name 'tls' already defined"),
    ("se-port-number-duplicate", SE, se("", ports="ports: [{number: 443, name: a}, {number: 443, name: b}]"),
     "spec.ports[1].number", "port 443 already defined"),
    # ---- location, resolution
    ("se-location", SE, se("location: MESH_OUTSIDE"), "spec.location", "must be one of MESH_EXTERNAL, MESH_INTERNAL"),
    ("se-resolution", SE, se("resolution: dns"), "spec.resolution", "must be one of NONE, STATIC, DNS"),
    # ---- workloadSelector
    ("se-selector-and-endpoints", SE,
     se("resolution: STATIC\nworkloadSelector: {labels: {app: api}}\nendpoints: [{address: 10.0.0.1}]"),
     "spec.workloadSelector", "only one of workloadSelector or endpoints"),
    ("se-selector-wildcard", SE, se("resolution: STATIC\nworkloadSelector: {labels: {app: '*'}}"),
     "spec.workloadSelector.labels.app", "wildcard is not supported in selector"),
    # ---- resolution NONE
    ("se-none-with-endpoints", SE, se("endpoints: [{address: 10.0.0.1}]"), "spec.endpoints",
     "no endpoints should be provided for resolution type NONE"),
    # ---- STATIC endpoints (validateWorkloadEntry without FQDNs)
    ("se-static-hostname", SE, se("resolution: STATIC\nendpoints: [{address: api.internal}]"),
     "spec.endpoints[0].address", "must be an IP address"),
    ("se-static-no-address", SE, se("resolution: STATIC\nendpoints: [{labels: {app: api}}]"),
     "spec.endpoints[0].address", "address is required"),
    ("se-static-empty-address", SE, se("resolution: STATIC\nendpoints: [{address: ''}]"),
     "spec.endpoints[0].address", "address is required"),
    ("se-endpoint-port-undefined", SE, se("resolution: STATIC\nendpoints: [{address: 10.0.0.1, ports: {grpc: 9000}}]"),
     "spec.endpoints[0].ports.grpc", "is not defined by the service entry"),
    ("se-endpoint-port-range", SE, se("resolution: STATIC\nendpoints: [{address: 10.0.0.1, ports: {tls: 0}}]"),
     "spec.endpoints[0].ports.tls", "must be between 1 and 65535"),
    ("se-endpoint-port-name", SE, se("resolution: STATIC\nendpoints: [{address: 10.0.0.1, ports: {'@': 80}}]"),
     "spec.endpoints[0].ports.@", "invalid port name"),
    ("se-endpoint-label-key", SE, se("resolution: STATIC\nendpoints: [{address: 10.0.0.1, labels: {-app: a}}]"),
     "spec.endpoints[0].labels.-app", "invalid label key"),
    ("se-endpoint-label-value", SE, se("resolution: STATIC\nendpoints: [{address: 10.0.0.1, labels: {app: 'a b'}}]"),
     "spec.endpoints[0].labels.app", "invalid label value"),
    ("se-endpoint-weight", SE, se("resolution: STATIC\nendpoints: [{address: 10.0.0.1, weight: -1}]"),
     "spec.endpoints[0].weight", "must be between 0 and 4294967295"),
    ("se-unix-relative", SE, se("resolution: STATIC\nendpoints: [{address: 'unix://run/api.sock'}]"),
     "spec.endpoints[0].address", "must be absolute"),
    ("se-unix-directory", SE, se("resolution: STATIC\nendpoints: [{address: 'unix:///run/'}]"),
     "spec.endpoints[0].address", "may not be a directory"),
    ("se-unix-with-ports", SE, se("resolution: STATIC\nendpoints: [{address: 'unix:///run/api.sock', ports: {tls: 443}}]"),
     "spec.endpoints[0].ports", "must not include ports"),
    ("se-unix-two-service-ports", SE,
     se("resolution: STATIC\nendpoints: [{address: 'unix:///run/api.sock'}]",
        ports="ports: [{number: 443, name: tls, protocol: TLS}, {number: 80, name: http, protocol: HTTP}]"),
     "spec.endpoints[0].address", "exactly 1 service port required for unix endpoints"),
    # ---- DNS / DNS_ROUND_ROBIN
    ("se-dns-wildcard-host", SE, se("resolution: DNS", hosts='["*.example.com"]'), "spec.hosts[0]",
     "hosts must be FQDN if no endpoints are provided for resolution mode DNS"),
    ("se-dns-rr-wildcard-host", SE, se("resolution: DNS_ROUND_ROBIN", hosts='["*.example.com"]'), "spec.hosts[0]",
     "resolution mode DNS_ROUND_ROBIN"),
    ("se-dns-bad-endpoint", SE, se("resolution: DNS\nendpoints: [{address: 'not a host'}]"),
     "spec.endpoints[0].address", "not a valid FQDN or an IP address"),
    ("se-dns-unix-endpoint", SE, se("resolution: DNS\nendpoints: [{address: 'unix:///run/api.sock'}]"),
     "spec.endpoints[0].address", "not a valid FQDN or an IP address"),
    ("se-dns-endpoint-port-undefined", SE, se("resolution: DNS\nendpoints: [{address: a.internal, ports: {x: 1}}]"),
     "spec.endpoints[0].ports.x", "is not defined by the service entry"),
    ("se-dns-rr-two-endpoints", SE,
     se("resolution: DNS_ROUND_ROBIN\nendpoints: [{address: a.internal}, {address: b.internal}]"),
     "spec.endpoints", "there must only be 0 or 1 endpoint for resolution mode DNS_ROUND_ROBIN"),
    # ---- several hosts on a plain TCP port
    ("se-multi-host-tcp", SE, se("resolution: DNS", hosts="[a.example.com, b.example.com]",
                                 ports="ports: [{number: 5432, name: pg, protocol: TCP}]"),
     "spec.ports[0].protocol", "multiple hosts provided with non-HTTP, non-TLS ports"),
    ("se-multi-host-unset-protocol", SE, se("resolution: STATIC", hosts="[a.example.com, b.example.com]",
                                            ports="ports: [{number: 5432, name: pg}]"),
     "spec.ports[0].protocol", "multiple hosts provided with non-HTTP, non-TLS ports"),
    # ---- exportTo (validateExportTo)
    ("se-export-duplicate", SE, se("exportTo: [other, other]"), "spec.exportTo[1]",
     "duplicate entries in exportTo for entry other"),
    ("se-export-dot-and-namespace", SE, se("exportTo: [ns1, '.']"), "spec.exportTo[1]",
     "duplicate entries in exportTo: . and the current namespace ns1"),
    ("se-export-namespace-and-dot", SE, se("exportTo: ['.', ns1]"), "spec.exportTo[1]",
     "duplicate entries in exportTo for entry ns1"),
    ("se-export-public-mixed", SE, se("exportTo: ['*', other]"), "spec.exportTo",
     "cannot have both public (*) and non-public"),
    ("se-export-none-mixed", SE, se("exportTo: ['~', other]"), "spec.exportTo",
     "cannot export service entry to no one (~) and someone"),
    ("se-export-invalid", SE, se("exportTo: [Not_A_Namespace]"), "spec.exportTo[0]",
     "only ., * or a namespace name"),

    # ---- WorkloadEntry (ValidateWorkloadEntry; CRD: Address is required, UDS rules, port rules)
    ("we-no-address", WE, "labels: {app: vm}", "spec.address", "address is required"),
    ("we-bad-address", WE, "address: 'vm one'", "spec.address", "not a valid FQDN or an IP address"),
    ("we-unix-relative", WE, "address: unix://relative", "spec.address", "must be absolute"),
    ("we-unix-directory", WE, "address: unix:///dir/", "spec.address", "may not be a directory"),
    ("we-unix-with-ports", WE, "address: unix://@foo\nports: {http: 80}", "spec.ports", "must not include ports"),
    ("we-port-range", WE, "address: 1.1.1.1\nports: {http: 99999}", "spec.ports.http", "must be between 1 and 65535"),
    ("we-port-name", WE, "address: 1.1.1.1\nports: {'@': 80}", "spec.ports.@", "invalid port name"),
    ("we-label-key", WE, "address: 1.1.1.1\nlabels: {'a/b/c': x}", "spec.labels.a/b/c", "invalid label key"),
    ("we-weight", WE, "address: 1.1.1.1\nweight: 4294967296", "spec.weight", "must be between 0 and 4294967295"),

    # ---- DestinationRule: host, subsets, exportTo, workloadSelector (ValidateDestinationRule)
    ("dr-host-missing", DR, "subsets: [{name: v1}]", "spec.host", "required field is missing"),
    ("dr-host-invalid", DR, "host: 'api..example.com'", "spec.host", "not a valid DNS-1123 label"),
    ("dr-subset-name-missing", DR, "host: api\nsubsets: [{labels: {v: '1'}}]", "spec.subsets[0].name",
     "required field is missing"),
    ("dr-subset-name-empty", DR, "host: api\nsubsets: [{name: ''}]", "spec.subsets[0].name",
     "subset name cannot be empty"),
    ("dr-subset-name-invalid", DR, "host: api\nsubsets: [{name: v1.0}]", "spec.subsets[0].name",
     "subset name is invalid"),
    ("dr-subset-duplicate", DR, "host: api\nsubsets: [{name: v1}, {name: v1}]", "spec.subsets[1].name",
     "duplicate subset names: v1"),
    ("dr-subset-label", DR, "host: api\nsubsets: [{name: v1, labels: {version: 'v 1'}}]",
     "spec.subsets[0].labels.version", "invalid label value"),
    ("dr-subset-policy", DR, "host: api\nsubsets: [{name: v1, trafficPolicy: {}}]", "spec.subsets[0].trafficPolicy",
     "traffic policy must have at least one field"),
    ("dr-export-none", DR, "host: api\nexportTo: ['~']", "spec.exportTo[0]", "exportTo ~ (none) is not allowed"),
    ("dr-export-public-mixed", DR, "host: api\nexportTo: ['*', '.']", "spec.exportTo", "both public (*)"),
    ("dr-selector-wildcard", DR, "host: api\nworkloadSelector: {matchLabels: {'app*': x}}",
     "spec.workloadSelector.matchLabels.app*", "wildcard is not supported in selector"),
    ("dr-selector-export-beyond", DR, "host: api\nworkloadSelector: {matchLabels: {app: a}}\nexportTo: [other]",
     "spec.exportTo", "cannot have exportTo beyond current namespace"),
    ("dr-selector-export-multiple", DR,
     "host: api\nworkloadSelector: {matchLabels: {app: a}}\nexportTo: ['.', other]",
     "spec.exportTo", "cannot have multiple entries in exportTo"),
    # ---- trafficPolicy (validateTrafficPolicy)
    ("dr-policy-empty", DR, "host: api\ntrafficPolicy: {}", "spec.trafficPolicy", "at least one field"),
    ("dr-tunnel-and-proxy-protocol", DR, dr("tunnel: {targetHost: a.b, targetPort: 80}\nproxyProtocol: {}"),
     "spec.trafficPolicy", "tunnel and proxyProtocol must not be set together"),
    # ---- loadBalancer (validateLoadBalancer, lb_policy / hash_key / hash_algorithm oneofs)
    ("dr-lb-simple-invalid", DR, dr("loadBalancer: {simple: FASTEST}"), "spec.trafficPolicy.loadBalancer.simple",
     "must be one of"),
    ("dr-lb-simple-and-hash", DR, dr("loadBalancer: {simple: RANDOM, consistentHash: {useSourceIp: true}}"),
     CH, "only one of simple or consistentHash"),
    ("dr-hash-two-keys", DR, dr("loadBalancer: {consistentHash: {httpHeaderName: x-user, httpCookie: {name: u}}}"),
     CH + ".httpCookie", "only one of httpHeaderName, httpCookie, useSourceIp or httpQueryParameterName"),
    ("dr-hash-cookie-name", DR, dr("loadBalancer: {consistentHash: {httpCookie: {ttl: 10s}}}"),
     CH + ".httpCookie.name", "name required for HttpCookie"),
    ("dr-hash-cookie-ttl", DR, dr("loadBalancer: {consistentHash: {httpCookie: {name: u, ttl: forever}}}"),
     CH + ".httpCookie.ttl", "must be a duration"),
    ("dr-hash-ring-and-maglev", DR,
     dr("loadBalancer: {consistentHash: {useSourceIp: true, ringHash: {}, maglev: {tableSize: 65537}}}"),
     CH + ".maglev", "only one of ringHash or maglev"),
    ("dr-maglev-no-table", DR, dr("loadBalancer: {consistentHash: {useSourceIp: true, maglev: {}}}"),
     CH + ".maglev.tableSize", "tableSize must be set for maglev"),
    ("dr-maglev-not-prime", DR, dr("loadBalancer: {consistentHash: {useSourceIp: true, maglev: {tableSize: 65536}}}"),
     CH + ".maglev.tableSize", "tableSize must be a prime number"),
    ("dr-maglev-too-large", DR,
     dr("loadBalancer: {consistentHash: {useSourceIp: true, maglev: {tableSize: 5000011}}}"),
     CH + ".maglev.tableSize", "tableSize must be less than 5000011"),
    ("dr-legacy-ring-size-with-algorithm", DR,
     dr("loadBalancer: {consistentHash: {useSourceIp: true, minimumRingSize: 1024, ringHash: {minimumRingSize: 64}}}"),
     CH + ".minimumRingSize", "only one of minimumRingSize or maglev/ringHash"),
    ("dr-warmup", DR, dr("loadBalancer: {simple: ROUND_ROBIN, warmupDurationSecs: 0s}"),
     "spec.trafficPolicy.loadBalancer.warmupDurationSecs", "at least 1ms"),
    # ---- localityLbSetting (ValidateLocalityLbSetting, validateLocalities)
    ("dr-distribute-and-failover", DR,
     lb("distribute: [{from: us-west/*, to: {us-west/*: 100}}]\nfailover: [{from: us-west, to: us-east}]"),
     LLB + ".failover", "can not simultaneously specify 'distribute' and 'failover'"),
    ("dr-failover-topology-priority", DR,
     lb("failover: [{from: us-west, to: us-east}]\n"
        "failoverPriority: [topology.istio.io/network, topology.kubernetes.io/region]"),
     LLB + ".failoverPriority[1]", "can not simultaneously set 'failover' and topology label"),
    ("dr-distribute-weight-zero", DR, lb("distribute: [{from: us-west/*, to: {us-west/*: 100, us-east/*: 0}}]"),
     LLB + ".distribute[0].to.us-east/*", "locality weight must be in range [1, 100]"),
    ("dr-distribute-weight-over", DR, lb("distribute: [{from: us-west/*, to: {us-west/*: 101}}]"),
     LLB + ".distribute[0].to.us-west/*", "locality weight must be in range [1, 100]"),
    ("dr-distribute-total", DR, lb("distribute: [{from: us-west/*, to: {us-west/*: 60, us-east/*: 30}}]"),
     LLB + ".distribute[0].to", "total locality weight 90 != 100"),
    ("dr-distribute-no-to", DR, lb("distribute: [{from: us-west/*}]"),
     LLB + ".distribute[0].to", "total locality weight 0 != 100"),
    ("dr-distribute-to-overlap", DR, lb("distribute: [{from: us-west/*, to: {us-west/*: 50, us-west/zone1/*: 50}}]"),
     LLB + ".distribute[0].to.us-west/zone1/*", "overlaps with one given before"),
    ("dr-distribute-from-overlap", DR,
     lb("distribute: [{from: us-west, to: {us-west: 100}}, {from: us-west/zone1, to: {us-west: 100}}]"),
     LLB + ".distribute[1].from", "overlaps with one given before"),
    ("dr-distribute-from-after-star", DR,
     lb("distribute: [{from: '*', to: {us-west: 100}}, {from: us-east, to: {us-west: 100}}]"),
     LLB + ".distribute[1].from", "overlaps with one given before"),
    ("dr-distribute-wildcard-middle", DR, lb("distribute: [{from: 'us-*/zone1', to: {us-west: 100}}]"),
     LLB + ".distribute[0].from", "wildcard '*' can appear at most once, and only at the end"),
    ("dr-distribute-empty-part", DR, lb("distribute: [{from: us-west//a, to: {us-west: 100}}]"),
     LLB + ".distribute[0].from", "must not contain empty region/zone/subzone"),
    ("dr-failover-same-region", DR, lb("failover: [{from: us-west, to: us-west}]"),
     LLB + ".failover[0].to", "must specify different regions"),
    ("dr-failover-zone", DR, lb("failover: [{from: us-west/zone1, to: us-east}]"),
     LLB + ".failover[0].from", "locality lb failover only specify region"),
    ("dr-failover-wildcard", DR, lb("failover: [{from: us-west, to: 'us-*'}]"),
     LLB + ".failover[0].to", "should not contain '*' wildcard"),
    # ---- outlierDetection (validateOutlierDetection; durations per ValidateDuration)
    ("dr-outlier-local-origin", DR, dr("outlierDetection: {consecutiveLocalOriginFailures: 3}"),
     OD + ".consecutiveLocalOriginFailures", "split external local origin errors is set to false"),
    ("dr-outlier-max-ejection", DR, dr("outlierDetection: {maxEjectionPercent: 150}"),
     OD + ".maxEjectionPercent", "must be between 0 and 100"),
    ("dr-outlier-min-health", DR, dr("outlierDetection: {minHealthPercent: -1}"),
     OD + ".minHealthPercent", "must be between 0 and 100"),
    ("dr-outlier-5xx-negative", DR, dr("outlierDetection: {consecutive5xxErrors: -1}"),
     OD + ".consecutive5xxErrors", "must be between 0 and 4294967295"),
    ("dr-outlier-gateway-negative", DR, dr("outlierDetection: {consecutiveGatewayErrors: -2}"),
     OD + ".consecutiveGatewayErrors", "must be between 0 and 4294967295"),
    ("dr-outlier-interval-zero", DR, dr("outlierDetection: {interval: 0s}"), OD + ".interval", "at least 1ms"),
    ("dr-outlier-interval-sub-ms", DR, dr("outlierDetection: {interval: 500us}"), OD + ".interval", "at least 1ms"),
    ("dr-outlier-ejection-precision", DR, dr("outlierDetection: {baseEjectionTime: 1.5ms}"),
     OD + ".baseEjectionTime", "only durations to ms precision"),
    ("dr-outlier-ejection-negative", DR, dr("outlierDetection: {baseEjectionTime: -30s}"),
     OD + ".baseEjectionTime", "at least 1ms"),
    ("dr-outlier-interval-words", DR, dr("outlierDetection: {interval: 10 seconds}"), OD + ".interval",
     "must be a duration such as"),
    ("dr-outlier-interval-number", DR, dr("outlierDetection: {interval: 10}"), OD + ".interval",
     "must be a duration string"),
    # ---- connectionPool (validateConnectionPool)
    ("dr-pool-empty", DR, dr("connectionPool: {}"), CP, "connection pool must have at least one field"),
    ("dr-pool-max-connections", DR, dr("connectionPool: {tcp: {maxConnections: -1}}"), CP + ".tcp.maxConnections",
     "max connections must be non-negative"),
    ("dr-pool-connect-timeout", DR, dr("connectionPool: {tcp: {connectTimeout: 0.5ms}}"), CP + ".tcp.connectTimeout",
     "at least 1ms"),
    ("dr-pool-max-connection-duration", DR, dr("connectionPool: {tcp: {maxConnectionDuration: 0s}}"),
     CP + ".tcp.maxConnectionDuration", "at least 1ms"),
    ("dr-pool-tcp-idle-timeout", DR, dr("connectionPool: {tcp: {idleTimeout: 1.0001s}}"), CP + ".tcp.idleTimeout",
     "ms precision"),
    ("dr-pool-keepalive-time", DR, dr("connectionPool: {tcp: {tcpKeepalive: {time: 0s}}}"),
     CP + ".tcp.tcpKeepalive.time", "at least 1ms"),
    ("dr-pool-keepalive-interval", DR, dr("connectionPool: {tcp: {tcpKeepalive: {interval: 1x}}}"),
     CP + ".tcp.tcpKeepalive.interval", "must be a duration"),
    ("dr-pool-keepalive-probes", DR, dr("connectionPool: {tcp: {tcpKeepalive: {probes: -1}}}"),
     CP + ".tcp.tcpKeepalive.probes", "must be between 0 and 4294967295"),
    ("dr-pool-pending", DR, dr("connectionPool: {http: {http1MaxPendingRequests: -1}}"),
     CP + ".http.http1MaxPendingRequests", "http1 max pending requests must be non-negative"),
    ("dr-pool-http2-max", DR, dr("connectionPool: {http: {http2MaxRequests: -1}}"),
     CP + ".http.http2MaxRequests", "http2 max requests must be non-negative"),
    ("dr-pool-per-connection", DR, dr("connectionPool: {http: {maxRequestsPerConnection: -1}}"),
     CP + ".http.maxRequestsPerConnection", "max requests per connection must be non-negative"),
    ("dr-pool-retries", DR, dr("connectionPool: {http: {maxRetries: -3}}"),
     CP + ".http.maxRetries", "max retries must be non-negative"),
    ("dr-pool-streams", DR, dr("connectionPool: {http: {maxConcurrentStreams: -1}}"),
     CP + ".http.maxConcurrentStreams", "max concurrent streams must be non-negative"),
    ("dr-pool-int32", DR, dr("connectionPool: {http: {maxRetries: 2147483648}}"),
     CP + ".http.maxRetries", "must be between -2147483648 and 2147483647"),
    ("dr-pool-http-idle-timeout", DR, dr("connectionPool: {http: {idleTimeout: 0s}}"), CP + ".http.idleTimeout",
     "at least 1ms"),
    ("dr-pool-upgrade-client-protocol", DR,
     dr("connectionPool: {http: {h2UpgradePolicy: UPGRADE, useClientProtocol: true}}"),
     CP + ".http.useClientProtocol", "must not be true when h2UpgradePolicy is UPGRADE"),
    ("dr-pool-upgrade-policy", DR, dr("connectionPool: {http: {h2UpgradePolicy: ALWAYS}}"),
     CP + ".http.h2UpgradePolicy", "must be one of DEFAULT, DO_NOT_UPGRADE, UPGRADE"),
    # ---- tls (agent.ValidateTLS)
    ("dr-tls-mode", DR, dr("tls: {mode: STRICT}"), TLS + ".mode", "must be one of DISABLE, SIMPLE, MUTUAL, ISTIO_MUTUAL"),
    ("dr-tls-mutual-no-cert", DR, dr("tls: {mode: MUTUAL, privateKey: /k.pem}"), TLS + ".clientCertificate",
     "client certificate required for mutual tls"),
    ("dr-tls-mutual-no-key", DR, dr("tls: {mode: MUTUAL, clientCertificate: /c.pem}"), TLS + ".privateKey",
     "private key required for mutual tls"),
    ("dr-tls-credential-and-files", DR, dr("tls: {mode: SIMPLE, credentialName: api-ca, caCertificates: /ca.pem}"),
     TLS + ".credentialName", "cannot specify client certificates or CA certificate or CA CRL"),
    ("dr-tls-credential-and-crl", DR, dr("tls: {mode: MUTUAL, credentialName: api, caCrl: /crl.pem}"),
     TLS + ".credentialName", "cannot specify client certificates or CA certificate or CA CRL"),
    ("dr-tls-insecure-simple", DR, dr("tls: {mode: SIMPLE, insecureSkipVerify: true, subjectAltNames: [api]}"),
     TLS + ".insecureSkipVerify", "cannot specify caCertificates or credentialName or subjectAltNames"),
    ("dr-tls-insecure-mutual", DR,
     dr("tls: {mode: MUTUAL, credentialName: api, insecureSkipVerify: true, subjectAltNames: [api]}"),
     TLS + ".insecureSkipVerify", "cannot specify caCertificates or subjectAltNames"),
    # ---- portLevelSettings (validatePortTrafficPolicies)
    ("dr-port-missing", DR, dr("portLevelSettings: [{loadBalancer: {simple: RANDOM}}]"),
     "spec.trafficPolicy.portLevelSettings[0].port", "portTrafficPolicy must have valid port"),
    ("dr-port-no-policy", DR, dr("portLevelSettings: [{port: {number: 80}}]"),
     "spec.trafficPolicy.portLevelSettings[0]", "port traffic policy must have at least one field"),
    ("dr-port-policy-checked", DR, dr("portLevelSettings: [{port: {number: 80}, tls: {mode: MUTUAL, "
                                      "clientCertificate: /c.pem}}]"),
     "spec.trafficPolicy.portLevelSettings[0].tls.privateKey", "private key required"),
    ("dr-port-locality-checked", DR,
     dr("portLevelSettings: [{port: {number: 80}, loadBalancer: {localityLbSetting: "
        "{failover: [{from: a, to: a}]}}, outlierDetection: {}}]"),
     "spec.trafficPolicy.portLevelSettings[0].loadBalancer.localityLbSetting.failover[0].to", "different regions"),
]


@pytest.mark.parametrize(("kind", "spec", "field", "reason"), [c[1:] for c in INVALID], ids=[c[0] for c in INVALID])
def test_invalid(load, kind: str, spec: str, field: str, reason: str) -> None:
    result = load(document(kind, spec))
    errors = errors_of(result)
    assert [(e.field, reason in e.reason) for e in errors] == [(field, True)], [str(e) for e in errors]
    assert result.objects == []
    assert [r.kind for r in result.rejected] == [kind]


def test_every_rule_has_a_case() -> None:
    """The table names each case once (a guard against copy-paste ids)."""
    ids = [c[0] for c in INVALID]
    assert len(ids) == len(set(ids))


# (id, kind, spec, field, reason substring): Istio accepts these, with a warning.
WARNINGS = [
    ("se-partial-wildcard", SE, se("", hosts='["*x"]'), "spec.hosts[0]", "partial wildcard '*x' not allowed"),
    ("se-selector-without-labels", SE, se("resolution: STATIC\nworkloadSelector: {}"), "spec.workloadSelector",
     "workload selector specified without labels"),
    ("se-selector-empty-labels", SE, se("resolution: STATIC\nworkloadSelector: {labels: {}}"),
     "spec.workloadSelector.labels", "workload selector specified without labels"),
    ("se-none-with-selector", SE, se("workloadSelector: {labels: {app: a}}"), "spec.workloadSelector",
     "workloadSelector should not be set when resolution mode is NONE"),
    ("se-dns-with-selector", SE, se("resolution: DNS\nworkloadSelector: {labels: {app: a}}"), "spec.workloadSelector",
     "workloadSelector should not be set when resolution mode is DNS"),
    ("se-dns-address-hosts-tcp", SE, se("resolution: DNS\naddresses: [10.0.0.1]", hosts="[a.example.com, b.example.com]"),
     "spec.hosts", "can not have more than one host specified simultaneously with address and tcp port"),
    ("we-network-no-address", WE, "network: vpc-1", "spec.address", "address is unset with network 'vpc-1'"),
    ("dr-failover-without-outlier", DR, lb("failover: [{from: us-west, to: us-east}]", outlier=False), LLB,
     "outlier detection policy must be provided for failover"),
    ("dr-priority-without-outlier", DR, lb("failoverPriority: [topology.istio.io/network]", outlier=False), LLB,
     "outlier detection policy must be provided for failover"),
    ("dr-consecutive-errors", DR, dr("outlierDetection: {consecutiveErrors: 5}"), OD + ".consecutiveErrors",
     "consecutive errors is deprecated"),
    ("dr-legacy-ring-size", DR, dr("loadBalancer: {consistentHash: {useSourceIp: true, minimumRingSize: 1024}}"),
     CH + ".minimumRingSize", "minimumRingSize is deprecated"),
    ("dr-selector-without-labels", DR, "host: api\nworkloadSelector: {}", "spec.workloadSelector",
     "workload selector specified without labels"),
    ("dr-port-zero", DR, dr("portLevelSettings: [{port: {number: 0}, loadBalancer: {simple: RANDOM}}]"),
     "spec.trafficPolicy.portLevelSettings[0].port.number", "this setting never applies"),
    ("dr-port-no-number", DR, dr("portLevelSettings: [{port: {}, loadBalancer: {simple: RANDOM}}]"),
     "spec.trafficPolicy.portLevelSettings[0].port.number", "this setting never applies"),
    ("dr-port-duplicate", DR, dr("portLevelSettings: [{port: {number: 80}, loadBalancer: {simple: RANDOM}}, "
                                 "{port: {number: 80}, tls: {mode: SIMPLE}}]"),
     "spec.trafficPolicy.portLevelSettings[1].port.number", "only the first apply"),
]


@pytest.mark.parametrize(("kind", "spec", "field", "reason"), [c[1:] for c in WARNINGS], ids=[c[0] for c in WARNINGS])
def test_warning(load, kind: str, spec: str, field: str, reason: str) -> None:
    result = load(document(kind, spec))
    assert [str(e) for e in errors_of(result)] == []
    warnings = warnings_of(result)
    assert [(w.field, reason in w.reason) for w in warnings] == [(field, True)], [str(w) for w in warnings]
    assert len(result.objects) == 1


# Istio accepts these without a word.
VALID = [
    ("se-minimal", SE, "hosts: [api.example.com]"),
    ("se-short-name", SE, se("resolution: DNS", hosts="[api]")),
    ("se-upper-case-host", SE, se("resolution: DNS", hosts="[API.Example.COM]")),
    ("se-trailing-dot", SE, se("resolution: DNS", hosts="[api.example.com.]")),
    ("se-wildcard-none", SE, se("", hosts='["*.example.com"]')),
    ("se-wildcard-dns-with-endpoint", SE, se("resolution: DNS\nendpoints: [{address: api.internal}]",
                                             hosts='["*.example.com"]')),
    ("se-cidr-none", SE, se("addresses: [10.0.0.0/8, '2001:db8::/32', 10.1.2.3]")),
    ("se-cidr-static", SE, se("resolution: STATIC\naddresses: [10.0.0.0/24]\nendpoints: [{address: 10.0.0.1}]")),
    ("se-static-empty", SE, se("resolution: STATIC")),
    ("se-static-unix", SE, se("resolution: STATIC\nendpoints: [{address: 'unix:///run/api.sock'}]")),
    ("se-static-abstract", SE, se("resolution: STATIC\nendpoints: [{address: 'unix://@api'}]")),
    ("se-static-ipv6", SE, se("resolution: STATIC\nendpoints: [{address: '2001:db8::1', ports: {tls: 8443}}]")),
    ("se-static-network-only", SE, se("resolution: STATIC\nendpoints: [{address: 10.0.0.1}, {address: 10.0.0.2}]")),
    ("se-dns-rr-one-endpoint", SE, se("resolution: DNS_ROUND_ROBIN\nendpoints: [{address: a.internal}]")),
    ("se-multi-host-http", SE, se("resolution: DNS", hosts="[a.example.com, b.example.com]", ports=HTTP_PORT)),
    ("se-multi-host-none", SE, se("", hosts="[a.example.com, b.example.com]",
                                  ports="ports: [{number: 5432, name: pg, protocol: TCP}]")),
    ("se-protocol-any-case", SE, se("", ports="ports: [{number: 80, name: http, protocol: http2}, "
                                       "{number: 81, name: grpc-web, protocol: grpc-WEB}]")),
    ("se-export", SE, se("exportTo: ['.', other]")),
    ("se-export-none", SE, se("exportTo: ['~']")),
    ("se-selector", SE, se("resolution: STATIC\nworkloadSelector: {labels: {app: api}}")),
    ("we-ip", WE, "address: 10.0.0.1\nports: {http: 8080}\nlabels: {app: vm}\nlocality: r/z/s\nweight: 3"),
    ("we-hostname", WE, "address: vm1.internal"),
    ("we-unix", WE, "address: unix:///var/run/app.sock"),
    ("dr-minimal", DR, "host: api"),
    ("dr-wildcard-host", DR, "host: '*.example.com'"),
    ("dr-star-host", DR, "host: '*'"),
    ("dr-locality-distribute", DR, lb("distribute: [{from: us-west/zone1/*, to: {us-west/zone1/*: 80, "
                                      "us-west/zone2/*: 20}}, {from: us-west/zone2/*, to: {us-west/zone2/*: 100}}]")),
    ("dr-locality-failover", DR, lb("failover: [{from: us-west, to: us-east}]\nfailoverPriority: [x=y]")),
    ("dr-cookie-session", DR, dr("loadBalancer: {consistentHash: {httpCookie: {name: u, ttl: 0s}}}")),
    ("dr-selector-own-namespace", DR, "host: api\nworkloadSelector: {matchLabels: {app: a}}\nexportTo: [ns1]"),
    ("dr-istio-mutual", DR, dr("tls: {mode: ISTIO_MUTUAL}")),
    ("dr-mutual-credential", DR, dr("tls: {mode: MUTUAL, credentialName: api-client}")),
    ("dr-insecure-skip", DR, dr("tls: {mode: SIMPLE, insecureSkipVerify: true}")),
]


@pytest.mark.parametrize(("kind", "spec"), [c[1:] for c in VALID], ids=[c[0] for c in VALID])
def test_valid(load, kind: str, spec: str) -> None:
    obj = loaded_one(load, kind, spec)
    assert obj.kind == kind


# ---- the model --------------------------------------------------------------------------------


def test_service_entry_model(load) -> None:
    obj = loaded_one(load, SE, """
        hosts: [api.example.com]
        addresses: [10.9.0.1]
        location: MESH_INTERNAL
        resolution: STATIC
        ports:
        - {number: 443, name: https, protocol: tls, targetPort: 8443}
        - {number: 80, name: http}
        endpoints:
        - address: 10.0.0.1
          ports: {https: 9443}
          labels: {app: api}
          network: n1
          locality: us-west/zone1/rack2
          weight: 2
          serviceAccount: api
        - address: 10.0.0.2
        exportTo: ['.']
        subjectAltNames: [spiffe://cluster.local/ns/ns1/sa/api]
    """)
    assert isinstance(obj, ServiceEntry)
    assert obj.meta.namespace == "ns1" and obj.meta.name == "x"
    assert obj.hosts == ("api.example.com",)
    assert obj.addresses == ("10.9.0.1",)
    assert obj.location == "MESH_INTERNAL" and obj.resolution == "STATIC"
    assert obj.ports == (ServiceEntryPort(443, "https", "TLS", 8443), ServiceEntryPort(80, "http", None, None))
    first, second = obj.endpoints
    assert isinstance(first, WorkloadEntry) and first.meta is None and first.source is None
    assert (first.address, first.ports, first.labels, first.network, first.weight, first.service_account) == (
        "10.0.0.1", {"https": 9443}, {"app": "api"}, "n1", 2, "api")
    assert first.locality_parts == ("us-west", "zone1", "rack2")
    assert first.line == 15  # the line of `- address: 10.0.0.1`
    assert (second.address, second.ports, second.weight, second.locality_parts) == ("10.0.0.2", {}, None, ("", "", ""))
    assert obj.workload_selector is None
    assert obj.export_to == (".",) and obj.subject_alt_names == ("spiffe://cluster.local/ns/ns1/sa/api",)


def test_service_entry_defaults(load) -> None:
    obj = loaded_one(load, SE, "hosts: [api.example.com]\nworkloadSelector: {labels: {app: api}}\nresolution: STATIC")
    assert (obj.location, obj.resolution, obj.ports, obj.endpoints) == ("MESH_EXTERNAL", "STATIC", (), ())
    assert obj.workload_selector == {"app": "api"}


def test_workload_entry_model(load) -> None:
    obj = loaded_one(load, WE, "address: unix:///run/vm.sock\nlabels: {app: vm}\nnetwork: n2")
    assert isinstance(obj, WorkloadEntry) and obj.kind == "WorkloadEntry"
    assert obj.meta.name == "x" and obj.source.line == 1
    assert obj.is_unix and obj.labels == {"app": "vm"} and obj.network == "n2"


def test_destination_rule_model(load) -> None:
    obj = loaded_one(load, DR, """
        host: api.ns1.svc.cluster.local
        trafficPolicy:
          loadBalancer:
            simple: LEAST_CONN
            localityLbSetting:
              enabled: true
              failover: [{from: us-west, to: us-east}]
              failoverPriority: [topology.istio.io/network, 'env=prod']
            warmupDurationSecs: 1m30s
          connectionPool:
            tcp: {maxConnections: 100, connectTimeout: 30ms, tcpKeepalive: {probes: 3, time: 2h, interval: 75s}}
            http: {http1MaxPendingRequests: 10, http2MaxRequests: 1000, maxRequestsPerConnection: 1, maxRetries: 3,
                   idleTimeout: 1.5s, h2UpgradePolicy: UPGRADE}
          outlierDetection:
            consecutive5xxErrors: 7
            consecutiveGatewayErrors: 0
            interval: 5m
            baseEjectionTime: 15m
            maxEjectionPercent: 50
            minHealthPercent: 10
            splitExternalLocalOriginErrors: true
            consecutiveLocalOriginFailures: 2
          tls: {mode: MUTUAL, clientCertificate: /c.pem, privateKey: /k.pem, caCertificates: /ca.pem,
                sni: api.example.com, subjectAltNames: [api]}
          portLevelSettings:
          - port: {number: 8080}
            loadBalancer:
              consistentHash: {httpCookie: {name: user, path: /, ttl: 10s}, maglev: {tableSize: 65537}}
        subsets:
        - name: v1
          labels: {version: v1}
          trafficPolicy:
            loadBalancer:
              localityLbSetting:
                distribute: [{from: 'us-west/*', to: {'us-west/*': 80, 'us-east/*': 20}}]
        workloadSelector: {matchLabels: {app: client}}
        exportTo: ['.']
    """)
    assert isinstance(obj, DestinationRule)
    assert obj.host == "api.ns1.svc.cluster.local"
    assert obj.workload_selector == {"app": "client"} and obj.export_to == (".",)
    tp = obj.traffic_policy
    assert tp.load_balancer.simple == "LEAST_REQUEST"
    assert tp.load_balancer.warmup_duration_ms == 90_000
    assert tp.load_balancer.locality_lb_setting == LocalityLbSetting(
        failover=(("us-west", "us-east"),), failover_priority=("topology.istio.io/network", "env=prod"), enabled=True)
    pool = tp.connection_pool
    assert isinstance(pool, ConnectionPool)
    assert (pool.tcp.max_connections, pool.tcp.connect_timeout_ms) == (100, 30)
    assert (pool.tcp.tcp_keepalive.probes, pool.tcp.tcp_keepalive.time_ms, pool.tcp.tcp_keepalive.interval_ms) == (
        3, 7_200_000, 75_000)
    assert (pool.http.http1_max_pending_requests, pool.http.http2_max_requests, pool.http.max_requests_per_connection,
            pool.http.max_retries, pool.http.idle_timeout_ms, pool.http.h2_upgrade_policy) == (10, 1000, 1, 3, 1500, "UPGRADE")
    od = tp.outlier_detection
    assert (od.consecutive_5xx_errors, od.consecutive_gateway_errors, od.interval_ms, od.base_ejection_time_ms) == (
        7, 0, 300_000, 900_000)
    assert (od.max_ejection_percent, od.min_health_percent, od.split_external_local_origin_errors,
            od.consecutive_local_origin_failures) == (50, 10, True, 2)
    assert tp.tls == ClientTLS("MUTUAL", "/c.pem", "/k.pem", "/ca.pem", None, ("api",), "api.example.com", None, None)
    (port_policy,) = tp.port_level_settings
    assert port_policy.port == 8080 and port_policy.tls is None
    assert port_policy.load_balancer.consistent_hash == ConsistentHash(
        http_cookie=HTTPCookie("user", "/", 10_000), hash_algorithm="MAGLEV", maglev_table_size=65537)
    (subset,) = obj.subsets
    assert (subset.name, subset.labels) == ("v1", {"version": "v1"})
    assert subset.traffic_policy.load_balancer.locality_lb_setting.distribute == (
        ("us-west/*", (("us-west/*", 80), ("us-east/*", 20))),)


def test_destination_rule_without_policy(load) -> None:
    obj = loaded_one(load, DR, "host: reviews")
    assert (obj.traffic_policy, obj.subsets, obj.export_to, obj.workload_selector) == (None, (), (), None)


def test_errors_carry_lines(load) -> None:
    """Each error names the line of the offending field, not just the object's."""
    text = document(SE, """
        hosts: [api.example.com]
        ports:
        - number: 443
          name: tls
        - number: 443
          name: tls
    """)
    result = load(text)
    assert sorted((e.line, e.field) for e in errors_of(result)) == [
        (11, "spec.ports[1].number"), (12, "spec.ports[1].name")]


def test_all_errors_of_an_object_are_reported_at_once(load) -> None:
    result = load(document(DR, """
        host: 'bad host'
        trafficPolicy:
          outlierDetection: {maxEjectionPercent: 101, interval: 0s}
          tls: {mode: MUTUAL}
    """))
    assert sorted(e.field for e in errors_of(result)) == [
        "spec.host", OD + ".interval", OD + ".maxEjectionPercent", TLS + ".clientCertificate", TLS + ".privateKey"]


# ---- value formats --------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "ns"), [
    ("0", 0), ("10s", 10 * 10**9), ("1.5s", 1_500_000_000), ("500ms", 500_000_000), ("1m30s", 90 * 10**9),
    ("2h", 7200 * 10**9), ("100us", 100_000), ("100\u00b5s", 100_000), ("7ns", 7), ("-3s", -3 * 10**9),
    ("+1s", 10**9), (".5s", 500_000_000), ("1.s", 10**9), ("1h1m1s1ms", 3_661_001_000_000),
])
def test_go_duration(text: str, ns: int) -> None:
    assert istio.go_duration_ns(text) == ns


@pytest.mark.parametrize("text", ["", "10", "s", ".s", "1d", "1 s", "1s ", "--1s", "1.2.3s", "9999999999h"])
def test_go_duration_invalid(text: str) -> None:
    assert istio.go_duration_ns(text) is None


@pytest.mark.parametrize(("value", "ok"), [
    ("example.com", True), ("*.example.com", True), ("*", True), ("*-api.example.com", True), ("*api", True),
    ("Example.COM", True), ("example.com.", True), ("a.b*", False), ("", False), ("a..b", False),
    ("example.123", False), ("-a.com", False), ("a" * 64 + ".com", False),
])
def test_wildcard_domain(value: str, ok: bool) -> None:
    assert (istio.wildcard_domain(value) is None) == ok


@pytest.mark.parametrize(("value", "ok"), [(1, True), (2, True), (3, True), (4, False), (65537, True),
                                           (65535, False), (5000009, False), (4999999, True)])
def test_is_prime_as_envoy(value: int, ok: bool) -> None:
    assert istio.is_prime(value) == ok
