"""Gateway: listeners, addresses and infrastructure, with the CRD's schema and CEL checks."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .. import formats
from ..fields import Fields
from ..meta import Meta, Source
from .common import GROUP, LabelSelector, check_group, check_kind, check_section_name, parse_label_selector
from .gateway_class import ParametersRef, parse_parameters_ref

_PROTOCOL = re.compile(
    r"[a-zA-Z0-9]([-a-zA-Z0-9]*[a-zA-Z0-9])?|[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/[A-Za-z0-9]+"
)
_ADDRESS_TYPE = re.compile(
    r"Hostname|IPAddress|NamedAddress|[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/[A-Za-z0-9/\-._~%!$&'()*+,;=:]+"
)
# LabelKey / AnnotationKey: an optional DNS-subdomain prefix, then a name of up to 63 characters.
_METADATA_KEY = re.compile(
    r"([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9]"
)


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
    line: int = field(compare=False)  # where it is written: no part of the spec


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
class ObjectRef:
    """An ObjectReference (a CA certificate's): namespace empty means the Gateway's."""

    group: str
    kind: str
    name: str
    namespace: str


@dataclass(frozen=True, slots=True)
class FrontendValidation:
    """How an HTTPS listener checks client certificates: the CA bundles it trusts, and whether a
    client without a valid certificate is let in all the same (AllowInsecureFallback)."""

    ca_refs: tuple[ObjectRef, ...]
    mode: str  # AllowValidOnly | AllowInsecureFallback


@dataclass(frozen=True, slots=True)
class FrontendTLS:
    """Gateway `spec.tls.frontend`: client certificate validation for its HTTPS listeners, a
    default and overrides per port (an override without validation turns it off there)."""

    default: FrontendValidation | None
    per_port: tuple[tuple[int, FrontendValidation | None], ...] = ()

    def for_port(self, port: int) -> FrontendValidation | None:
        """The validation of the HTTPS listeners on `port`."""
        for p, validation in self.per_port:
            if p == port:
                return validation
        return self.default


@dataclass(frozen=True, slots=True)
class BackendTLS:
    """Gateway `spec.tls.backend`: the client certificate the Gateway presents when it connects to
    a backend over TLS (a BackendTLSPolicy decides which connections are TLS)."""

    client_certificate_ref: SecretRef | None = None


@dataclass(frozen=True, slots=True)
class AllowedListeners:
    """Gateway `spec.allowedListeners`: the namespaces whose ListenerSets may attach (None, Same,
    All, Selector)."""

    namespaces_from: str = "None"
    selector: LabelSelector | None = None


@dataclass(frozen=True, slots=True)
class Gateway:
    """A Gateway: listeners a proxy (one managed Envoy) serves."""

    meta: Meta
    source: Source
    class_name: str
    listeners: tuple[Listener, ...]
    addresses: tuple[GatewayAddress, ...]
    infrastructure: Infrastructure = Infrastructure()
    class_line: int = field(default=0, compare=False)  # the line of spec.gatewayClassName, for problems with the class named there
    allowed_listeners: AllowedListeners | None = None  # None: no ListenerSet may attach
    frontend: FrontendTLS | None = None
    # spec.tls.backend: None when absent; its clientCertificateRef (None when the section has none).
    backend: BackendTLS | None = None
    kind = "Gateway"





def parse_listener(f: Fields) -> Listener | None:
    """One listener of a Gateway or a ListenerSet."""
    name = f.str("name", required=True, check=check_section_name)
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
            ref = _parse_secret_ref(r)
            if ref is not None:
                refs.append(ref)
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
                kk = k.str("kind", required=True, check=check_kind)
                kg = k.str("group", default=GROUP, check=check_group)
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
    listeners = parse_listeners(spec)
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
    allowed = None
    alf = spec.map("allowedListeners")
    if alf is not None:
        allowed = AllowedListeners()
        nf = alf.map("namespaces")
        if nf is not None:
            frm = nf.str("from", default="None", enum=("All", "Selector", "Same", "None")) or "None"
            sel = nf.map("selector")
            allowed = AllowedListeners(frm, parse_label_selector(sel) if sel is not None else None)
            if frm == "Selector" and sel is None:
                nf.error("selector", "required when from is Selector")
    tls = spec.map("tls")
    frontend_fields = tls.map("frontend") if tls is not None else None
    frontend = _parse_frontend(frontend_fields) if frontend_fields is not None else None
    backend_fields = tls.map("backend") if tls is not None else None
    backend = _parse_backend(backend_fields) if backend_fields is not None else None
    return Gateway(meta, source, class_name, tuple(listeners), tuple(addresses), infrastructure,
                   spec.line_of("gatewayClassName"), allowed, frontend, backend)


def _parse_secret_ref(r: Fields) -> SecretRef | None:
    """A SecretObjectReference: group "" and kind Secret by default, the namespace optional."""
    name = r.str("name", required=True, min_len=1, max_len=253)
    group = r.str("group", default="", check=check_group)
    kind = r.str("kind", default="Secret", check=check_kind)
    namespace = r.str("namespace", default="", check=formats.dns1123_label)
    if name is None or group is None or kind is None or namespace is None:
        return None
    return SecretRef(group, kind, name, namespace)


def _parse_backend(f: Fields) -> BackendTLS:
    """Gateway.spec.tls.backend: an optional clientCertificateRef (a SecretObjectReference)."""
    ref_fields = f.map("clientCertificateRef")
    return BackendTLS(_parse_secret_ref(ref_fields) if ref_fields is not None else None)


def _parse_validation(f: Fields) -> FrontendValidation | None:
    """A TLSConfig's `validation` (None when it has none)."""
    v = f.map("validation")
    if v is None:
        return None
    refs = []
    for r in v.maps("caCertificateRefs", required=True, min_items=1, max_items=16):
        name = r.str("name", required=True, min_len=1, max_len=253)
        group = r.str("group", default="", check=check_group)
        kind = r.str("kind", required=True, check=check_kind)
        namespace = r.str("namespace", default="", check=formats.dns1123_label)
        if name is not None and group is not None and kind is not None and namespace is not None:
            refs.append(ObjectRef(group, kind, name, namespace))
    mode = v.str("mode", default="AllowValidOnly", enum=("AllowValidOnly", "AllowInsecureFallback"))
    return FrontendValidation(tuple(refs), mode or "AllowValidOnly")


def _parse_frontend(f: Fields) -> FrontendTLS:
    """Gateway.spec.tls.frontend: `default` (required) and `perPort` (ports unique)."""
    default_fields = f.map("default", required=True)
    default = _parse_validation(default_fields) if default_fields is not None else None
    per_port: list[tuple[int, FrontendValidation | None]] = []
    seen: set[int] = set()
    for pf in f.maps("perPort", max_items=64):
        port = pf.int("port", required=True, min=1, max=65535)
        tls = pf.map("tls", required=True)
        if port is None or tls is None:
            continue
        if port in seen:
            pf.error("port", "Port for TLS configuration must be unique within the Gateway")
            continue
        seen.add(port)
        per_port.append((port, _parse_validation(tls)))
    return FrontendTLS(default, tuple(per_port))


def parse_listeners(spec: Fields) -> list[Listener]:
    """`spec.listeners` of a Gateway or a ListenerSet: names unique, and each port, protocol and
    hostname combination."""
    listeners: list[Listener] = []
    names: dict[str, int] = {}
    combos: set[tuple[int, str, str | None]] = set()
    for lf in spec.maps("listeners", required=True, min_items=1, max_items=64):
        listener = parse_listener(lf)
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
    return listeners


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
    params = parse_parameters_ref(pf, namespaced=False) if pf is not None else None
    return Infrastructure(tuple(sorted(labels.items())), tuple(sorted(annotations.items())), params)
