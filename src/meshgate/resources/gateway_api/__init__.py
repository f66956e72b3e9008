"""Gateway API kinds (gateway.networking.k8s.io v1/v1beta1): model and schema validation, one
module per kind (and common.py for the types they share).

The checks are the ones the CRDs' OpenAPI schema and CEL rules make, so an object the API server
would refuse is refused here, with the field path and line. Semantic problems (a backend that does
not exist, a filter meshgate does not implement) are not errors here: the gateway translation
reports them as status conditions, as a controller would.
"""

from .common import GROUP, BackendObjectRef, HeaderModifier, LabelSelector, ParentRef, ValueMatch
from .gateway import (
    BackendTLS,
    FrontendTLS,
    FrontendValidation,
    Gateway,
    GatewayAddress,
    Infrastructure,
    Listener,
    ObjectRef,
    RouteGroupKind,
    SecretRef,
    parse_gateway,
)
from .gateway_class import GatewayClass, ParametersRef, parse_gateway_class
from .http_route import (
    BackendRef,
    HTTPRoute,
    PathMatch,
    PathModifier,
    RequestMirror,
    RequestRedirect,
    RouteFilter,
    RouteMatch,
    RouteRetry,
    RouteRule,
    URLRewrite,
    parse_http_route,
)
from .reference_grant import ReferenceGrant, ReferenceGrantFrom, ReferenceGrantTo, parse_reference_grant
from .session_persistence import SessionPersistence

# The route kinds read (each with a parser in resources/kinds.py and a translation in
# gateway/route_kinds.py); status is written for each.
ROUTE_KINDS = ("HTTPRoute", "GRPCRoute", "TLSRoute", "TCPRoute", "UDPRoute")
# The policy kinds read (BackendTLSPolicy: discovery/backend_tls.py, gateway/backend_tls_status.py);
# status (`ancestors`) is written for each.
POLICY_KINDS = ("BackendTLSPolicy",)

__all__ = [
    "GROUP", "POLICY_KINDS", "ROUTE_KINDS", "BackendObjectRef", "BackendRef", "BackendTLS", "FrontendTLS", "FrontendValidation",
    "Gateway", "GatewayAddress", "GatewayClass", "HTTPRoute", "HeaderModifier", "Infrastructure", "LabelSelector",
    "Listener", "ObjectRef", "ParametersRef", "ParentRef", "PathMatch",
    "PathModifier", "ReferenceGrant", "ReferenceGrantFrom", "ReferenceGrantTo", "RequestMirror", "RequestRedirect",
    "RouteFilter", "RouteGroupKind", "RouteMatch", "RouteRetry", "RouteRule", "SecretRef", "SessionPersistence",
    "URLRewrite", "ValueMatch", "parse_gateway", "parse_gateway_class", "parse_http_route", "parse_reference_grant",
]
