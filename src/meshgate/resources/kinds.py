"""Which kinds meshgate reads: API group, accepted versions, scope and parser of each."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from . import core, gateway_api, istio, meshgate_kinds
from .envoy_gateway import GROUP as EG_GROUP
from .envoy_gateway.backend_traffic_policy import parse_backend_traffic_policy
from .envoy_gateway.client_traffic_policy import parse_client_traffic_policy
from .envoy_gateway.security_policy import parse_security_policy
from .fields import Fields
from .gateway_api.backend_tls_policy import parse_backend_tls_policy
from .gateway_api.grpc_route import parse_grpc_route
from .gateway_api.listener_set import parse_listener_set
from .gateway_api.stream_routes import parse_tcp_route, parse_tls_route, parse_udp_route
from .istio.security import SECURITY_GROUP, parse_authorization_policy, parse_request_authentication
from .meta import Meta, Source

Parser = Callable[[Fields, Meta, Source], Any]


@dataclass(frozen=True, slots=True)
class KindSpec:
    """How to read one kind."""

    group: str
    kind: str
    versions: tuple[str, ...]
    namespaced: bool
    parse: Parser


_GW_VERSIONS = ("v1", "v1beta1")
_ISTIO_VERSIONS = ("v1", "v1beta1", "v1alpha3")

KINDS: dict[tuple[str, str], KindSpec] = {
    (s.group, s.kind): s
    for s in (
        KindSpec(gateway_api.GROUP, "GatewayClass", _GW_VERSIONS, False, gateway_api.parse_gateway_class),
        KindSpec(gateway_api.GROUP, "Gateway", _GW_VERSIONS, True, gateway_api.parse_gateway),
        KindSpec(gateway_api.GROUP, "HTTPRoute", _GW_VERSIONS, True, gateway_api.parse_http_route),
        KindSpec(gateway_api.GROUP, "ListenerSet", ("v1",), True, parse_listener_set),
        KindSpec(gateway_api.GROUP, "GRPCRoute", ("v1",), True, parse_grpc_route),
        KindSpec(gateway_api.GROUP, "TLSRoute", ("v1", "v1alpha3", "v1alpha2"), True, parse_tls_route),
        KindSpec(gateway_api.GROUP, "TCPRoute", ("v1alpha2", "v1"), True, parse_tcp_route),
        KindSpec(gateway_api.GROUP, "UDPRoute", ("v1alpha2", "v1"), True, parse_udp_route),
        KindSpec(gateway_api.GROUP, "BackendTLSPolicy", ("v1", "v1alpha3"), True, parse_backend_tls_policy),
        KindSpec(gateway_api.GROUP, "ReferenceGrant", ("v1", "v1beta1"), True, gateway_api.parse_reference_grant),
        KindSpec("", "Namespace", ("v1",), False, core.parse_namespace),
        KindSpec("", "Service", ("v1",), True, core.parse_service),
        KindSpec("", "Pod", ("v1",), True, core.parse_pod),
        KindSpec("", "Node", ("v1",), False, core.parse_node),
        KindSpec("", "Secret", ("v1",), True, core.parse_secret),
        KindSpec("", "ConfigMap", ("v1",), True, core.parse_config_map),
        KindSpec("discovery.k8s.io", "EndpointSlice", ("v1",), True, core.parse_endpoint_slice),
        KindSpec(istio.GROUP, "ServiceEntry", _ISTIO_VERSIONS, True, istio.parse_service_entry),
        KindSpec(istio.GROUP, "WorkloadEntry", _ISTIO_VERSIONS, True, istio.parse_workload_entry),
        KindSpec(istio.GROUP, "DestinationRule", _ISTIO_VERSIONS, True, istio.parse_destination_rule),
        KindSpec(SECURITY_GROUP, "AuthorizationPolicy", ("v1", "v1beta1"), True, parse_authorization_policy),
        KindSpec(SECURITY_GROUP, "RequestAuthentication", ("v1", "v1beta1"), True, parse_request_authentication),
        KindSpec(EG_GROUP, "BackendTrafficPolicy", ("v1alpha1",), True, parse_backend_traffic_policy),
        KindSpec(EG_GROUP, "ClientTrafficPolicy", ("v1alpha1",), True, parse_client_traffic_policy),
        KindSpec(EG_GROUP, "SecurityPolicy", ("v1alpha1",), True, parse_security_policy),
        KindSpec(meshgate_kinds.GROUP, meshgate_kinds.KIND, (meshgate_kinds.VERSION,), True,
                 meshgate_kinds.parse_gateway_parameters),
    )
}

KIND_NAMES = frozenset(k for _, k in KINDS)


def split_api_version(api_version: str) -> tuple[str, str]:
    """("gateway.networking.k8s.io", "v1") from "gateway.networking.k8s.io/v1"; ("", "v1") from "v1"."""
    group, _, version = api_version.rpartition("/")
    return group, version
