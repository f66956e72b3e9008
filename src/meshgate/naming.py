"""Names of xDS resources, shared by the stages that produce them (Istio naming, ARCHITECTURE §3)."""

from __future__ import annotations

# The controller meshgate is, and the GatewayClasses it owns without an object naming them
# (as Istio provides `istio` and `istio-waypoint`); `istio-waypoint` is accepted for waypoints too.
CONTROLLER_NAME = "meshgate.io/gateway-controller"
# The cluster every proxy reaches meshgate by (its bootstrap's): xDS, and the rate limit service.
XDS_CLUSTER = "meshgate-xds"
BUILTIN_CLASSES = ("meshgate", "meshgate-waypoint")
WAYPOINT_CLASSES = ("meshgate-waypoint", "istio-waypoint")

# Weighted-cluster entries for backends that could not be resolved point here; no such cluster
# exists, and routes answer cluster_not_found_response_code (500) for that share of traffic.
INVALID_BACKEND_CLUSTER = "meshgate|invalid-backend"


def cluster_name(port: int, host: str, subset: str = "") -> str:
    """`outbound|<port>|<subset>|<host>`."""
    return f"outbound|{port}|{subset}|{host}"


def client_secret_name(namespace: str, name: str) -> str:
    """The SDS name of a certificate a proxy presents upstream (a MUTUAL DestinationRule's
    credentialName, a Gateway's spec.tls.backend clientCertificateRef).

    Three segments where a listener certificate's name has two (`<namespace>/<name>`): the two
    kinds of secret can never collide, even for one Secret used both ways.
    """
    return f"client/{namespace}/{name}"


def weighted_cluster_name(kind: str, namespace: str, name: str) -> str:
    """`meshgate|<kind>|<namespace>|<name>` (kind in lower case): the cluster a route's weighted
    backends make together, for a proxy that sends to one cluster (Envoy's UDP proxy)."""
    return f"meshgate|{kind.lower()}|{namespace}|{name}"


def listener_name(address: str, port: int) -> str:
    """`<address>_<port>`, as Istio names gateway listeners."""
    return f"{address}_{port}"


def http_route_config_name(port: int) -> str:
    """The route configuration shared by the plain-HTTP listeners on a port."""
    return f"http.{port}"


def https_route_config_name(port: int, listener: str) -> str:
    """The route configuration of one HTTPS listener (its own filter chain)."""
    return f"https.{port}.{listener}"


CLUSTER_DOMAIN = "cluster.local"


def service_host(name: str, namespace: str) -> str:
    """The cluster-local FQDN of a Service."""
    return f"{name}.{namespace}.svc.{CLUSTER_DOMAIN}"


def full_host(host: str, namespace: str) -> str:
    """A host as an Istio rule in `namespace` means it: a short name is a Service of that
    namespace; a name with a dot, or a wildcard, is taken as written."""
    if "." in host or host.startswith("*"):
        return host
    return service_host(host, namespace)


TRACING_CLUSTER = "meshgate-tracing"  # a gateway's tracing collector


def access_log_collector(setting: int, sink: int) -> str:
    """The cluster of the OTLP collector of one access log setting's sink."""
    return f"meshgate-accesslog-{setting}-{sink}"


def gateway_domain(namespace: str, name: str) -> str:
    """The rate limit domain of a Gateway's proxies: "namespace/name" (one per Gateway; routes
    are told apart inside it by their descriptors)."""
    return f"{namespace}/{name}"


def route_key(route_config: str, route_name: str) -> str:
    """A route's key within its Gateway's domain: route names are unique per route configuration
    only (one HTTPRoute rule attached to two listeners has the same name in both), and
    neither name can hold "|"."""
    return f"{route_config}|{route_name}"
