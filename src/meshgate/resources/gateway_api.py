"""Gateway API kinds (gateway.networking.k8s.io v1/v1beta1): model and schema validation.

The checks here are the ones the CRDs' OpenAPI schema and CEL rules make, so an object the API
server would refuse is refused here, with the field path and line. Semantic problems (a
backend that does not exist, a filter meshgate does not implement) are not errors here: the
gateway translation reports them as status conditions, as a controller would.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from . import formats
from .fields import Check, Fields
from .meta import Meta, Source

GROUP = "gateway.networking.k8s.io"

_SECTION_NAME = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
_PROTOCOL = re.compile(
    r"[a-zA-Z0-9]([-a-zA-Z0-9]*[a-zA-Z0-9])?|[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/[A-Za-z0-9]+"
)
_CONTROLLER = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/[A-Za-z0-9/\-._~%!$&'()*+,;=:]+")
_GROUP = re.compile(r"|[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
_KIND = re.compile(r"[a-zA-Z]([-a-zA-Z0-9]*[a-zA-Z0-9])?")
_ADDRESS_TYPE = re.compile(
    r"Hostname|IPAddress|NamedAddress|[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/[A-Za-z0-9/\-._~%!$&'()*+,;=:]+"
)
# LabelKey / AnnotationKey: an optional DNS-subdomain prefix, then a name of up to 63 characters.
_METADATA_KEY = re.compile(
    r"([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9]"
)

METHODS = ("GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH")
FILTER_TYPES = (
    "RequestHeaderModifier", "ResponseHeaderModifier", "RequestMirror", "RequestRedirect",
    "URLRewrite", "ExtensionRef", "CORS", "ExternalAuth",
)
# The filter field that goes with each type.
_FILTER_FIELDS = {
    "RequestHeaderModifier": "requestHeaderModifier",
    "ResponseHeaderModifier": "responseHeaderModifier",
    "RequestMirror": "requestMirror",
    "RequestRedirect": "requestRedirect",
    "URLRewrite": "urlRewrite",
    "ExtensionRef": "extensionRef",
    "CORS": "cors",
    "ExternalAuth": "externalAuth",
}


# --------------------------------------------------------------------------------------------
# Model
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ParametersRef:
    """A parametersRef (GatewayClass: namespace None for a cluster-scoped referent; Gateway
    `spec.infrastructure`: always None, the referent is in the Gateway's namespace)."""

    group: str
    kind: str
    name: str
    namespace: str | None = None

    def describe(self) -> str:
        """"group/Kind name" as messages name it ("core" for the empty group)."""
        where = f"{self.namespace}/" if self.namespace else ""
        return f"{self.group or 'core'}/{self.kind} {where}{self.name}"


@dataclass(frozen=True, slots=True)
class GatewayClass:
    """A GatewayClass: which controller owns Gateways of this class."""

    meta: Meta
    source: Source
    controller_name: str
    parameters_ref: ParametersRef | None = None
    # Not translated, but part of the spec: a change of it is a new generation (GatewayClass status
    # then carries it as observedGeneration, GatewayClassObservedGenerationBump).
    description: str | None = None
    kind = "GatewayClass"


@dataclass(frozen=True, slots=True)
class LabelSelector:
    """A Kubernetes label selector (matchLabels and matchExpressions)."""

    match_labels: tuple[tuple[str, str], ...] = ()
    match_expressions: tuple[tuple[str, str, tuple[str, ...]], ...] = ()

    def matches(self, labels: dict[str, str]) -> bool:
        """Whether `labels` satisfy the selector (an empty selector matches everything)."""
        for key, value in self.match_labels:
            if labels.get(key) != value:
                return False
        for key, op, values in self.match_expressions:
            present = key in labels
            if op == "In" and (not present or labels[key] not in values):
                return False
            if op == "NotIn" and present and labels[key] in values:
                return False
            if op == "Exists" and not present:
                return False
            if op == "DoesNotExist" and present:
                return False
        return True


@dataclass(frozen=True, slots=True)
class RouteGroupKind:
    """A route kind a listener allows."""

    group: str
    kind: str


@dataclass(frozen=True, slots=True)
class SecretRef:
    """A certificateRef: group/kind default to core Secret; namespace empty means the Gateway's."""

    group: str
    kind: str
    name: str
    namespace: str


@dataclass(frozen=True, slots=True)
class Listener:
    """One Gateway listener."""

    name: str
    port: int
    protocol: str
    hostname: str | None
    tls_mode: str | None
    certificate_refs: tuple[SecretRef, ...]
    namespaces_from: str  # Same | All | Selector
    namespace_selector: LabelSelector | None
    kinds: tuple[RouteGroupKind, ...] | None  # None: the protocol's default kinds
    line: int


@dataclass(frozen=True, slots=True)
class GatewayAddress:
    """A requested Gateway address; an empty value asks for one of that type to be assigned."""

    type: str
    value: str = ""


@dataclass(frozen=True, slots=True)
class Infrastructure:
    """Gateway `spec.infrastructure`: labels and annotations for what is created for the Gateway,
    and a reference to implementation parameters."""

    labels: tuple[tuple[str, str], ...] = ()  # sorted by key
    annotations: tuple[tuple[str, str], ...] = ()  # sorted by key
    parameters_ref: ParametersRef | None = None


@dataclass(frozen=True, slots=True)
class Gateway:
    """A Gateway: listeners a proxy (one managed Envoy) serves."""

    meta: Meta
    source: Source
    class_name: str
    listeners: tuple[Listener, ...]
    addresses: tuple[GatewayAddress, ...]
    infrastructure: Infrastructure = Infrastructure()
    class_line: int = 0  # the line of spec.gatewayClassName, for problems with the class named there
    kind = "Gateway"


@dataclass(frozen=True, slots=True)
class ParentRef:
    """An HTTPRoute parentRef; namespace empty means the route's own."""

    group: str
    kind: str
    namespace: str
    name: str
    section_name: str | None
    port: int | None

    def to_dict(self) -> dict:
        """The parentRef as status echoes it: group and kind spelled out, namespace only if written."""
        d: dict = {"group": self.group, "kind": self.kind, "name": self.name}
        if self.namespace:
            d["namespace"] = self.namespace
        if self.section_name is not None:
            d["sectionName"] = self.section_name
        if self.port is not None:
            d["port"] = self.port
        return d


@dataclass(frozen=True, slots=True)
class PathMatch:
    """type is Exact, PathPrefix or RegularExpression."""

    type: str
    value: str


@dataclass(frozen=True, slots=True)
class ValueMatch:
    """A header or query parameter match; type is Exact or RegularExpression."""

    type: str
    name: str
    value: str


@dataclass(frozen=True, slots=True)
class RouteMatch:
    """One HTTPRouteMatch."""

    path: PathMatch
    headers: tuple[ValueMatch, ...] = ()
    query_params: tuple[ValueMatch, ...] = ()
    method: str | None = None


@dataclass(frozen=True, slots=True)
class HeaderModifier:
    """RequestHeaderModifier / ResponseHeaderModifier."""

    set: tuple[tuple[str, str], ...] = ()
    add: tuple[tuple[str, str], ...] = ()
    remove: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class PathModifier:
    """type ReplaceFullPath or ReplacePrefixMatch, with its value."""

    type: str
    value: str


@dataclass(frozen=True, slots=True)
class RequestRedirect:
    """RequestRedirect filter."""

    scheme: str | None
    hostname: str | None
    path: PathModifier | None
    port: int | None
    status_code: int


@dataclass(frozen=True, slots=True)
class URLRewrite:
    """URLRewrite filter."""

    hostname: str | None
    path: PathModifier | None


@dataclass(frozen=True, slots=True)
class BackendObjectRef:
    """A reference to a backend (Service, or another kind); namespace empty means the route's."""

    group: str
    kind: str
    name: str
    namespace: str
    port: int | None


@dataclass(frozen=True, slots=True)
class RequestMirror:
    """RequestMirror filter: fraction is (numerator, denominator); None means 100%."""

    backend: BackendObjectRef
    fraction: tuple[int, int] | None


@dataclass(frozen=True, slots=True)
class RouteFilter:
    """One filter; only the field for its type is set."""

    type: str
    request_header_modifier: HeaderModifier | None = None
    response_header_modifier: HeaderModifier | None = None
    request_redirect: RequestRedirect | None = None
    url_rewrite: URLRewrite | None = None
    request_mirror: RequestMirror | None = None
    extension_ref: tuple[str, str, str] | None = None  # group, kind, name


@dataclass(frozen=True, slots=True)
class BackendRef:
    """An HTTPBackendRef: a backend, its weight and its own filters."""

    ref: BackendObjectRef
    weight: int
    filters: tuple[RouteFilter, ...]


@dataclass(frozen=True, slots=True)
class RouteRetry:
    """HTTPRouteRule.retry (GEP-1731): status codes to retry, how many retries, the backoff (ms).

    attempts and backoff_ms are None when unset (the implementation decides)."""

    codes: tuple[int, ...]
    attempts: int | None
    backoff_ms: int | None


@dataclass(frozen=True, slots=True)
class SessionPersistence:
    """HTTPRouteRule.sessionPersistence (GEP-1619): a Cookie or Header session.

    name: the cookie's (None: to be generated) or the header's; path and lifetime_type are the
    cookie's; absolute_timeout_ms is None when unset."""

    type: str  # Cookie | Header
    name: str | None
    path: str
    lifetime_type: str  # Session | Permanent
    absolute_timeout_ms: int | None
    absolute_timeout: str | None  # as written, for messages


@dataclass(frozen=True, slots=True)
class RouteRule:
    """One HTTPRouteRule; timeouts in milliseconds (0 disables, None unset)."""

    name: str | None
    matches: tuple[RouteMatch, ...]
    filters: tuple[RouteFilter, ...]
    backend_refs: tuple[BackendRef, ...]
    request_timeout_ms: int | None
    backend_timeout_ms: int | None
    line: int
    retry: RouteRetry | None = None
    session_persistence: SessionPersistence | None = None


@dataclass(frozen=True, slots=True)
class HTTPRoute:
    """An HTTPRoute."""

    meta: Meta
    source: Source
    parent_refs: tuple[ParentRef, ...]
    hostnames: tuple[str, ...]
    rules: tuple[RouteRule, ...]
    kind = "HTTPRoute"


@dataclass(frozen=True, slots=True)
class ReferenceGrantFrom:
    group: str
    kind: str
    namespace: str


@dataclass(frozen=True, slots=True)
class ReferenceGrantTo:
    group: str
    kind: str
    name: str | None


@dataclass(frozen=True, slots=True)
class ReferenceGrant:
    """A ReferenceGrant: lets objects in `from` namespaces refer to objects in this one."""

    meta: Meta
    source: Source
    from_: tuple[ReferenceGrantFrom, ...]
    to: tuple[ReferenceGrantTo, ...]
    kind = "ReferenceGrant"

    def permits(self, group: str, kind: str, namespace: str, to_group: str, to_kind: str, to_name: str) -> bool:
        """Whether a `kind` in `namespace` may refer to `to_kind` `to_name` in this grant's namespace."""
        if not any(f.group == group and f.kind == kind and f.namespace == namespace for f in self.from_):
            return False
        return any(t.group == to_group and t.kind == to_kind and (t.name is None or t.name == to_name) for t in self.to)


# --------------------------------------------------------------------------------------------
# Parsing
# --------------------------------------------------------------------------------------------


def _section_name(value: str) -> str | None:
    if len(value) > 253 or not _SECTION_NAME.fullmatch(value):
        return "must be a lower case DNS subdomain"
    return None


def _group_value(value: str) -> str | None:
    if len(value) > 253 or not _GROUP.fullmatch(value):
        return "must be empty (core) or a DNS subdomain"
    return None


def _kind_value(value: str) -> str | None:
    if len(value) > 63 or not _KIND.fullmatch(value):
        return "must be a Kind name (letters, digits and '-', starting with a letter)"
    return None


def parse_label_selector(f: Fields) -> LabelSelector:
    """A metav1.LabelSelector."""
    labels = f.str_map("matchLabels", check_key=formats.label_key)
    exprs: list[tuple[str, str, tuple[str, ...]]] = []
    for e in f.maps("matchExpressions"):
        key = e.str("key", required=True, check=formats.label_key)
        op = e.str("operator", required=True, enum=("In", "NotIn", "Exists", "DoesNotExist"))
        values = e.strs("values") or []
        if op in ("In", "NotIn") and not values:
            e.error("values", f"must be non-empty for operator {op}")
        elif op in ("Exists", "DoesNotExist") and values:
            e.error("values", f"must be empty for operator {op}")
        if key is not None and op is not None:
            exprs.append((key, op, tuple(values)))
    return LabelSelector(tuple(sorted(labels.items())), tuple(exprs))


def _parse_parameters_ref(f: Fields, namespaced: bool) -> ParametersRef | None:
    """A ParametersReference (`namespaced`: GatewayClass, may name a namespace) or a
    LocalParametersReference (Gateway infrastructure)."""
    group = f.str("group", required=True, check=_group_value)
    kind = f.str("kind", required=True, check=_kind_value)
    name = f.str("name", required=True, min_len=1, max_len=253)
    namespace = f.str("namespace", check=formats.dns1123_label) if namespaced else None
    if group is None or kind is None or name is None or (f.has("namespace") and namespaced and namespace is None):
        return None
    return ParametersRef(group, kind, name, namespace)


def parse_gateway_class(f: Fields, meta: Meta, source: Source) -> GatewayClass:
    """GatewayClass.spec."""
    spec = f.map("spec", required=True)
    controller = ""
    params = None
    description = None
    if spec is not None:
        controller = spec.str("controllerName", required=True, pattern=_CONTROLLER, max_len=253,
                              pattern_hint="must be a domain-prefixed path such as example.com/controller") or ""
        pf = spec.map("parametersRef")
        params = _parse_parameters_ref(pf, namespaced=True) if pf is not None else None
        description = spec.str("description", max_len=64)  # as the CRD checks it (the API server refuses longer)
    return GatewayClass(meta, source, controller, params, description)


def _parse_listener(f: Fields, gateway_ns: str) -> Listener | None:
    name = f.str("name", required=True, check=_section_name)
    port = f.int("port", required=True, min=1, max=65535)
    protocol = f.str("protocol", required=True, pattern=_PROTOCOL, max_len=255,
                     pattern_hint="must be a protocol name such as HTTP or a domain-prefixed protocol")
    hostname = f.str("hostname", check=formats.hostname)
    tls_mode = None
    refs: list[SecretRef] = []
    tls = f.map("tls")
    if tls is not None:
        tls_mode = tls.str("mode", default="Terminate", enum=("Terminate", "Passthrough"))
        for r in tls.maps("certificateRefs", max_items=64):
            rname = r.str("name", required=True, min_len=1, max_len=253)
            rgroup = r.str("group", default="", check=_group_value)
            rkind = r.str("kind", default="Secret", check=_kind_value)
            rns = r.str("namespace", default="", check=formats.dns1123_label)
            if rname is not None and rgroup is not None and rkind is not None and rns is not None:
                refs.append(SecretRef(rgroup, rkind, rname, rns))
    if protocol in ("HTTPS", "TLS") and tls is None:
        f.error("tls", f"required for protocol {protocol}")
    if protocol in ("HTTP", "TCP", "UDP") and tls is not None:
        f.error("tls", f"must not be set for protocol {protocol}")
    if protocol in ("TCP", "UDP") and hostname is not None:
        f.error("hostname", f"must not be set for protocol {protocol}")
    if tls is not None and tls_mode == "Terminate" and not refs and protocol == "HTTPS":
        tls.error("certificateRefs", "at least one certificateRef is required when mode is Terminate")

    namespaces_from = "Same"
    selector = None
    kinds: tuple[RouteGroupKind, ...] | None = None
    allowed = f.map("allowedRoutes")
    if allowed is not None:
        ns = allowed.map("namespaces")
        if ns is not None:
            namespaces_from = ns.str("from", default="Same", enum=("All", "Selector", "Same")) or "Same"
            sel = ns.map("selector")
            if sel is not None:
                selector = parse_label_selector(sel)
            elif namespaces_from == "Selector":
                ns.error("selector", "required when from is Selector")
        kind_list: list[RouteGroupKind] = []
        if allowed.has("kinds"):
            for k in allowed.maps("kinds", max_items=8):
                kk = k.str("kind", required=True, check=_kind_value)
                kg = k.str("group", default=GROUP, check=_group_value)
                if kk is not None and kg is not None:
                    kind_list.append(RouteGroupKind(kg, kk))
            kinds = tuple(kind_list)
    if name is None or port is None or protocol is None:
        return None
    return Listener(name, port, protocol, hostname, tls_mode, tuple(refs), namespaces_from, selector, kinds, f.line)


def parse_gateway(f: Fields, meta: Meta, source: Source) -> Gateway:
    """Gateway.spec."""
    spec = f.map("spec", required=True)
    if spec is None:
        return Gateway(meta, source, "", (), ())
    class_name = spec.str("gatewayClassName", required=True, min_len=1, max_len=253) or ""
    listeners: list[Listener] = []
    names: dict[str, int] = {}
    combos: set[tuple[int, str, str | None]] = set()
    for lf in spec.maps("listeners", required=True, min_items=1, max_items=64):
        listener = _parse_listener(lf, meta.namespace)
        if listener is None:
            continue
        if listener.name in names:
            lf.error("name", f"duplicate listener name {listener.name!r} (first at line {names[listener.name]})")
            continue
        combo = (listener.port, listener.protocol, listener.hostname)
        if combo in combos:
            lf.error(None, "combination of port, protocol and hostname must be unique for each listener")
            continue
        names[listener.name] = lf.line
        combos.add(combo)
        listeners.append(listener)
    addresses: list[GatewayAddress] = []
    seen_values: set[tuple[str, str]] = set()
    for af in spec.maps("addresses", max_items=16):
        atype = af.str("type", default="IPAddress", pattern=_ADDRESS_TYPE, max_len=253,
                       pattern_hint="must be IPAddress, Hostname, NamedAddress or a domain-prefixed type")
        # Optional upstream (feature GatewayAddressEmpty): no value asks for one of this type.
        value = af.str("value", default="", max_len=253)
        if atype is None or value is None:
            continue
        if value and atype == "IPAddress" and formats.ip_address(value):
            af.error("value", f"invalid value {value!r}: must be an IP address for type IPAddress")
            continue
        if value and atype == "Hostname" and formats.hostname(value):
            af.error("value", f"invalid value {value!r}: must be a hostname for type Hostname")
            continue
        if value and atype in ("IPAddress", "Hostname"):
            if (atype, value) in seen_values:
                af.error("value", f"{atype} values must be unique: {value!r} is given twice")
                continue
            seen_values.add((atype, value))
        addresses.append(GatewayAddress(atype, value))
    infra = spec.map("infrastructure")
    infrastructure = _parse_infrastructure(infra) if infra is not None else Infrastructure()
    return Gateway(meta, source, class_name, tuple(listeners), tuple(addresses), infrastructure,
                   spec.line_of("gatewayClassName"))


def _metadata_key(value: str) -> str | None:
    """A label or annotation key of `spec.infrastructure` (the CRD's pattern, prefix < 253)."""
    if len(value) > 253 or not _METADATA_KEY.fullmatch(value) or len(value.split("/")[0]) >= 253:
        return "must be an optional DNS subdomain prefix and '/', then a name of up to 63 characters"
    return None


def _parse_infrastructure(f: Fields) -> Infrastructure:
    """Gateway.spec.infrastructure: at most 8 labels and 16 annotations, and a parametersRef."""
    labels: dict[str, str] = {}
    lf = f.map("labels")
    if lf is not None:
        labels = lf.as_str_map(check_key=_metadata_key)
        for key, value in list(labels.items()):
            reason = formats.label_value(value)
            if reason:
                lf.error(key, f"invalid value {value!r}: {reason}")
                del labels[key]
        if len(lf.data) > 8:
            f.error("labels", f"must have at most 8 entries, got {len(lf.data)}")
    annotations: dict[str, str] = {}
    af = f.map("annotations")
    if af is not None:
        annotations = af.as_str_map(check_key=_metadata_key)
        for key, value in list(annotations.items()):
            if len(value) > 4096:
                af.error(key, "must be no more than 4096 characters")
                del annotations[key]
        if len(af.data) > 16:
            f.error("annotations", f"must have at most 16 entries, got {len(af.data)}")
    pf = f.map("parametersRef")
    params = _parse_parameters_ref(pf, namespaced=False) if pf is not None else None
    return Infrastructure(tuple(sorted(labels.items())), tuple(sorted(annotations.items())), params)


def _parse_parent_ref(f: Fields) -> ParentRef | None:
    name = f.str("name", required=True, min_len=1, max_len=253)
    group = f.str("group", default=GROUP, check=_group_value)
    kind = f.str("kind", default="Gateway", check=_kind_value)
    ns = f.str("namespace", default="", check=formats.dns1123_label)
    section = f.str("sectionName", check=_section_name)
    port = f.int("port", min=1, max=65535)
    if name is None or group is None or kind is None or ns is None:
        return None
    if f.has("sectionName") and section is None:
        return None
    if f.has("port") and port is None:
        return None
    return ParentRef(group, kind, ns, name, section, port)


def _parse_value_matches(f: Fields, key: str, case_insensitive: bool) -> tuple[ValueMatch, ...]:
    out: list[ValueMatch] = []
    seen: set[str] = set()
    for m in f.maps(key, max_items=16):
        mtype = m.str("type", default="Exact", enum=("Exact", "RegularExpression"))
        name = m.str("name", required=True, check=formats.header_name)
        value = m.str("value", required=True, max_len=4096)
        if mtype == "RegularExpression" and value is not None:
            reason = formats.regex(value)
            if reason:
                m.error("value", reason)
                continue
        if mtype is None or name is None or value is None:
            continue
        folded = name.lower() if case_insensitive else name
        # The spec: only the first entry with an equivalent name is considered.
        if folded in seen:
            continue
        seen.add(folded)
        out.append(ValueMatch(mtype, name, value))
    return tuple(out)


def _parse_match(f: Fields) -> RouteMatch | None:
    path = PathMatch("PathPrefix", "/")
    pf = f.map("path")
    if pf is not None:
        ptype = pf.str("type", default="PathPrefix", enum=("Exact", "PathPrefix", "RegularExpression"))
        pvalue = pf.str("value", default="/", max_len=1024)
        if ptype is None or pvalue is None:
            return None
        if ptype == "RegularExpression":
            reason = formats.regex(pvalue)
        else:
            reason = formats.path_value(pvalue)
        if reason:
            pf.error("value", f"invalid value {pvalue!r}: {reason}")
            return None
        path = PathMatch(ptype, pvalue)
    headers = _parse_value_matches(f, "headers", case_insensitive=True)
    query = _parse_value_matches(f, "queryParams", case_insensitive=False)
    method = f.str("method", enum=METHODS)
    return RouteMatch(path, headers, query, method)


def _parse_header_modifier(f: Fields) -> HeaderModifier:
    def pairs(key: str) -> tuple[tuple[str, str], ...]:
        out: list[tuple[str, str]] = []
        seen: set[str] = set()
        for h in f.maps(key, max_items=16):
            name = h.str("name", required=True, check=formats.header_name)
            value = h.str("value", required=True, max_len=4096)
            if name is None or value is None:
                continue
            if name.lower() in seen:
                h.error("name", f"duplicate header name {name!r} (names are case-insensitive)")
                continue
            seen.add(name.lower())
            out.append((name, value))
        return tuple(out)

    set_ = pairs("set")
    add = pairs("add")
    remove = f.strs("remove", max_items=16, check=formats.header_name) or []
    lowered = [r.lower() for r in remove]
    if len(set(lowered)) != len(lowered):
        f.error("remove", "header names must be unique (case-insensitive)")
    return HeaderModifier(set_, add, tuple(remove))


def _parse_path_modifier(f: Fields) -> PathModifier | None:
    ptype = f.str("type", required=True, enum=("ReplaceFullPath", "ReplacePrefixMatch"))
    if ptype is None:
        return None
    key = "replaceFullPath" if ptype == "ReplaceFullPath" else "replacePrefixMatch"
    other = "replacePrefixMatch" if ptype == "ReplaceFullPath" else "replaceFullPath"
    # The CRD bounds only the length; an empty replacePrefixMatch removes the prefix ("/foo/bar" → "/bar").
    value = f.str(key, required=True, max_len=1024, check=lambda v: formats.path_value(v) if v else None)
    if f.has(other):
        f.error(other, f"must not be set when type is {ptype}")
    if value is None:
        return None
    return PathModifier(ptype, value)


def _filter_path(body: Fields, rule_matches: tuple[RouteMatch, ...] | None) -> tuple[bool, PathModifier | None]:
    """A redirect's or rewrite's `path`: (False, None) when invalid, (True, None) when absent."""
    pf = body.map("path")
    if pf is None:
        return True, None
    path = _parse_path_modifier(pf)
    if path is None:
        return False, None
    if path.type == "ReplacePrefixMatch" and not _single_prefix(rule_matches):
        pf.error(None, "ReplacePrefixMatch requires exactly one match in the rule, of type PathPrefix")
        return False, None
    return True, path


def _parse_backend_object_ref(f: Fields) -> BackendObjectRef | None:
    name = f.str("name", required=True, min_len=1, max_len=253)
    group = f.str("group", default="", check=_group_value)
    kind = f.str("kind", default="Service", check=_kind_value)
    ns = f.str("namespace", default="", check=formats.dns1123_label)
    port = f.int("port", min=1, max=65535)
    if not f.has("port") and ((group == "" and kind == "Service")
                               or (group == "networking.istio.io" and kind in ("ServiceEntry", "Hostname"))):
        f.error("port", f"required when referring to a {kind}")
        return None
    if name is None or group is None or kind is None or ns is None or (f.has("port") and port is None):
        return None
    return BackendObjectRef(group, kind, name, ns, port)


def _parse_filter(f: Fields, rule_matches: tuple[RouteMatch, ...] | None) -> RouteFilter | None:
    ftype = f.str("type", required=True, enum=FILTER_TYPES)
    if ftype is None:
        return None
    want = _FILTER_FIELDS[ftype]
    for other in _FILTER_FIELDS.values():
        if other != want and f.has(other):
            f.error(other, f"must not be set for filter type {ftype}")
    if not f.has(want):
        f.error(want, f"required for filter type {ftype}")
        return None
    body = f.map(want)
    if body is None:
        return None
    if ftype in ("RequestHeaderModifier", "ResponseHeaderModifier"):
        mod = _parse_header_modifier(body)
        if ftype == "RequestHeaderModifier":
            return RouteFilter(ftype, request_header_modifier=mod)
        return RouteFilter(ftype, response_header_modifier=mod)
    if ftype == "RequestRedirect":
        scheme = body.str("scheme", enum=("http", "https"))
        host = body.str("hostname", check=formats.hostname)
        port = body.int("port", min=1, max=65535)
        code = body.int("statusCode", default=302)
        if code not in (301, 302, 303, 307, 308):
            body.error("statusCode", f"unsupported value {code}: must be one of 301, 302, 303, 307, 308")
            return None
        ok, path = _filter_path(body, rule_matches)
        if not ok:
            return None
        return RouteFilter(ftype, request_redirect=RequestRedirect(scheme, host, path, port, code))
    if ftype == "URLRewrite":
        host = body.str("hostname", check=formats.hostname)
        ok, path = _filter_path(body, rule_matches)
        if not ok:
            return None
        return RouteFilter(ftype, url_rewrite=URLRewrite(host, path))
    if ftype == "RequestMirror":
        bf = body.map("backendRef", required=True)
        ref = _parse_backend_object_ref(bf) if bf is not None else None
        fraction: tuple[int, int] | None = None
        if body.has("percent") and body.has("fraction"):
            body.error(None, "only one of percent or fraction may be set")
            return None
        if body.has("percent"):
            pct = body.int("percent", min=0, max=100)
            if pct is None:
                return None
            fraction = (pct, 100)
        elif body.has("fraction"):
            fr = body.map("fraction")
            if fr is None:
                return None
            num = fr.int("numerator", required=True, min=0)
            den = fr.int("denominator", default=100, min=1)
            if num is None or den is None:
                return None
            if num > den:
                fr.error("numerator", "must be less than or equal to denominator")
                return None
            fraction = (num, den)
        if ref is None:
            return None
        return RouteFilter(ftype, request_mirror=RequestMirror(ref, fraction))
    if ftype == "ExtensionRef":
        group = body.str("group", required=True, check=_group_value)
        kind = body.str("kind", required=True, check=_kind_value)
        name = body.str("name", required=True, min_len=1)
        if group is None or kind is None or name is None:
            return None
        return RouteFilter(ftype, extension_ref=(group, kind, name))
    # CORS, ExternalAuth: schema-valid, not implemented; the translation reports them.
    return RouteFilter(ftype)


def _single_prefix(matches: tuple[RouteMatch, ...] | None) -> bool:
    """The CRD rule for ReplacePrefixMatch: exactly one match, of type PathPrefix."""
    if not matches:
        return True  # the default match is PathPrefix /
    return len(matches) == 1 and matches[0].path.type == "PathPrefix"


def _parse_filters(f: Fields, key: str, matches: tuple[RouteMatch, ...] | None) -> tuple[RouteFilter, ...]:
    out: list[RouteFilter] = []
    counts: dict[str, int] = {}
    for ff in f.maps(key, max_items=16):
        flt = _parse_filter(ff, matches)
        if flt is None:
            continue
        counts[flt.type] = counts.get(flt.type, 0) + 1
        if flt.type not in ("RequestMirror", "ExtensionRef") and counts[flt.type] > 1:
            ff.error("type", f"filter type {flt.type} may appear at most once")
            continue
        out.append(flt)
    if counts.get("RequestRedirect") and counts.get("URLRewrite"):
        f.error(key, "RequestRedirect and URLRewrite filters cannot be used together")
    return tuple(out)


def _parse_rule(f: Fields, seen_names: dict[str, int]) -> RouteRule | None:
    name = f.str("name", check=_section_name)
    if name is not None:
        if name in seen_names:
            f.error("name", f"duplicate rule name {name!r} (first at line {seen_names[name]})")
        seen_names[name] = f.line
    matches: list[RouteMatch] = []
    if f.has("matches"):
        for mf in f.maps("matches", max_items=64):
            m = _parse_match(mf)
            if m is not None:
                matches.append(m)
    else:
        matches.append(RouteMatch(PathMatch("PathPrefix", "/")))
    mt = tuple(matches)
    filters = _parse_filters(f, "filters", mt)
    backends: list[BackendRef] = []
    for bf in f.maps("backendRefs", max_items=16):
        ref = _parse_backend_object_ref(bf)
        weight = bf.int("weight", default=1, min=0, max=1_000_000)
        bfilters = _parse_filters(bf, "filters", mt)
        if ref is not None and weight is not None:
            backends.append(BackendRef(ref, weight, bfilters))
    request_ms = backend_ms = None
    tf = f.map("timeouts")
    if tf is not None:
        req = tf.str("request", check=formats.duration)
        back = tf.str("backendRequest", check=formats.duration)
        request_ms = formats.duration_ms(req) if req else None
        backend_ms = formats.duration_ms(back) if back else None
        if request_ms and backend_ms is not None and (backend_ms == 0 or backend_ms > request_ms):
            tf.error("backendRequest", "must be less than or equal to request and not zero when request is set")
    if any(r.type == "RequestRedirect" for r in filters) and backends:
        f.error("backendRefs", "must be empty when a RequestRedirect filter is used")
    rf = f.map("retry")
    retry = _parse_retry(rf) if rf is not None else None
    sf = f.map("sessionPersistence")
    session = _parse_session_persistence(sf) if sf is not None else None
    return RouteRule(name, mt, filters, tuple(backends), request_ms, backend_ms, f.line, retry, session)


def _parse_retry(f: Fields) -> RouteRetry | None:
    """HTTPRouteRetry as the CRD has it: codes a set of 400-599, attempts ≥ 1, backoff a Duration."""
    codes: list[int] = []
    raw = f.data.get("codes")
    items: list = raw if isinstance(raw, list) else []
    if raw is not None and not isinstance(raw, list):
        f.error("codes", "must be a list of integers")
    for i, code in enumerate(items):
        path, line = f"{f.sub('codes')}[{i}]", f.item_line(items, i)
        if isinstance(code, bool) or not isinstance(code, int):
            f.ctx.error(line, path, f"must be an integer, got {code!r}")
        elif not 400 <= code <= 599:
            f.ctx.error(line, path, f"must be between 400 and 599, got {code}")
        elif code in codes:
            f.ctx.error(line, path, f"duplicate value {code} (codes is a set)")
        else:
            codes.append(code)
    attempts = f.int("attempts")
    if attempts is not None and attempts < 1:
        f.error("attempts", f"must be at least 1, got {attempts}")
        return None
    backoff = f.str("backoff", check=formats.duration)
    if (f.has("attempts") and attempts is None) or (f.has("backoff") and backoff is None):
        return None
    return RouteRetry(tuple(codes), attempts, formats.duration_ms(backoff) if backoff else None)


_TOKEN = re.compile(r"[A-Za-z0-9!#$%&'*+\-.^_`|~]+")
# Fields of SessionPersistence in Gateway API up to v1.6.1, renamed or removed at the commit
# meshgate follows (4564255ac2c3): an API server with its CRDs would drop them silently.
_OLD_SESSION_FIELDS = {
    "sessionName": "renamed after Gateway API v1.6.1: use cookie.name (type Cookie) or header.name (type Header)",
    "cookieConfig": "renamed after Gateway API v1.6.1: use cookie (cookie.lifetimeType)",
    "idleTimeout": "removed in Gateway API v1.6.0 (no data plane can expire an idle session); "
                   "use absoluteTimeout",
}


def _token(what: str) -> Check:
    def check(value: str) -> str | None:
        if not _TOKEN.fullmatch(value):
            return f"must be a valid {what} (an HTTP token: letters, digits and !#$%&'*+-.^_`|~)"
        return None
    return check


def _parse_session_persistence(f: Fields) -> SessionPersistence | None:
    """SessionPersistence with the CRD's schema and CEL rules (commit 4564255ac2c3)."""
    old = [key for key in _OLD_SESSION_FIELDS if f.has(key)]
    for key in old:
        f.error(key, _OLD_SESSION_FIELDS[key])
    if old:
        return None  # written for another version: its other rules would only add noise
    ok = True
    stype = f.str("type", default="Cookie", enum=("Cookie", "Header"))
    absolute = f.str("absoluteTimeout", check=formats.duration)
    name: str | None = None
    path: str | None = "/"
    lifetime: str | None = "Session"
    cf, hf = f.map("cookie"), f.map("header")
    if cf is not None:
        name = cf.str("name", min_len=1, max_len=256, check=_token("cookie name"))
        path = cf.str("path", default="/", max_len=1024)
        lifetime = cf.str("lifetimeType", default="Session", enum=("Permanent", "Session"))
        ok = ok and not (cf.has("name") and name is None) and path is not None and lifetime is not None
        if lifetime == "Permanent" and not f.has("absoluteTimeout"):
            f.error("absoluteTimeout", "AbsoluteTimeout must be specified when cookie lifetimeType is Permanent")
            ok = False
    if hf is not None:
        name = hf.str("name", required=True, min_len=1, max_len=256, check=_token("header name"))
        ok = ok and name is not None
    if stype is None or (f.has("absoluteTimeout") and absolute is None):
        return None
    if f.has("cookie") and stype != "Cookie":
        f.error("cookie", "cookie must be nil if type is not Cookie")
        ok = False
    if stype == "Cookie" and not f.has("cookie"):
        f.error("cookie", "cookie must be specified for Cookie type")
        ok = False
    if f.has("header") and stype != "Header":
        f.error("header", "header must be nil if type is not Header")
        ok = False
    if stype == "Header" and not f.has("header"):
        f.error("header", "header must be specified for Header type")
        ok = False
    if not ok or path is None or lifetime is None:
        return None
    return SessionPersistence(stype, name, path, lifetime,
                              formats.duration_ms(absolute) if absolute else None, absolute)


def parse_http_route(f: Fields, meta: Meta, source: Source) -> HTTPRoute:
    """HTTPRoute.spec."""
    spec = f.map("spec", required=True)
    if spec is None:
        return HTTPRoute(meta, source, (), (), ())
    parents = [p for pf in spec.maps("parentRefs", max_items=32) if (p := _parse_parent_ref(pf)) is not None]
    hostnames = spec.strs("hostnames", max_items=16, check=formats.hostname) or []
    seen: dict[str, int] = {}
    if spec.has("rules"):
        rules = [r for rf in spec.maps("rules", max_items=16) if (r := _parse_rule(rf, seen)) is not None]
    else:
        # A route without rules forwards nothing: the default rule matches "/" with no backends.
        rules = [RouteRule(None, (RouteMatch(PathMatch("PathPrefix", "/")),), (), (), None, None, spec.line)]
    return HTTPRoute(meta, source, tuple(parents), tuple(hostnames), tuple(rules))


def parse_reference_grant(f: Fields, meta: Meta, source: Source) -> ReferenceGrant:
    """ReferenceGrant.spec."""
    spec = f.map("spec", required=True)
    if spec is None:
        return ReferenceGrant(meta, source, (), ())
    froms: list[ReferenceGrantFrom] = []
    for ff in spec.maps("from", required=True, min_items=1, max_items=16):
        g = ff.str("group", required=True, check=_group_value)
        k = ff.str("kind", required=True, check=_kind_value)
        ns = ff.str("namespace", required=True, check=formats.dns1123_label)
        if g is not None and k is not None and ns is not None:
            froms.append(ReferenceGrantFrom(g, k, ns))
    tos: list[ReferenceGrantTo] = []
    for tf in spec.maps("to", required=True, min_items=1, max_items=16):
        g = tf.str("group", required=True, check=_group_value)
        k = tf.str("kind", required=True, check=_kind_value)
        n = tf.str("name", min_len=1, max_len=253)
        if g is not None and k is not None:
            tos.append(ReferenceGrantTo(g, k, n))
    return ReferenceGrant(meta, source, tuple(froms), tuple(tos))
