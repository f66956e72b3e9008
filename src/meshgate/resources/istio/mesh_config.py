"""Istio's mesh config, as far as meshgate reads it: the external authorization providers of
`extensionProviders` (`envoyExtAuthzHttp`, `envoyExtAuthzGrpc`) that AuthorizationPolicies with
action CUSTOM name.

Istio keeps its mesh config in the ConfigMap `istio` of the root namespace (`istio-system`), key
`mesh`: a YAML document (MeshConfig). meshgate reads that key when the translation needs it; the
rest of the document (proxy defaults, access logs, other kinds of provider...) is Istio's mesh
settings, not meshgate's, and is not read. A provider is checked as Istio checks it
(pkg/config/validation/agent: ValidateExtensionProviderEnvoyExtAuthzHTTP/GRPC, and the builder's
provider name rules); each problem is an InputError naming the ConfigMap, its file and line (the
line inside the `mesh` text, counted from the `mesh:` key), the field (`data.mesh.extensionProviders
[i]...`) and the reason. A provider with a problem is unusable (the policies naming it fail
closed, saying why); the others still apply. A `mesh` text that is not YAML gives one error, and
no provider.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field

from envoy.type.v3 import http_status_pb2

from ..core import ConfigMap
from ..errors import InputError
from ..fields import Fields, ObjectContext, _type_name
from ..yaml_source import YAMLSyntaxError, parse_documents
from .formats import fqdn, go_duration_ns, is_ip

ROOT_NAMESPACE = "istio-system"
MESH_CONFIG_MAP = "istio"
MESH_KEY = "mesh"
_PATH = f"data.{MESH_KEY}"
DEFAULT_TIMEOUT_MS = 600_000  # Istio's, when a provider sets none
_STATUS_CODES = frozenset(v for v in http_status_pb2.StatusCode.values() if v)
_NAME = re.compile(r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?")

# The fields of each provider kind meshgate reads; any other field is an error.
_HTTP_FIELDS = frozenset({"service", "port", "timeout", "pathPrefix", "failOpen", "statusOnError",
                          "includeRequestHeadersInCheck", "includeHeadersInCheck", "includeAdditionalHeadersInCheck",
                          "headersToUpstreamOnAllow", "headersToDownstreamOnDeny", "headersToDownstreamOnAllow",
                          "includeRequestBodyInCheck"})
_GRPC_FIELDS = frozenset({"service", "port", "timeout", "failOpen", "statusOnError", "includeRequestBodyInCheck"})
_BODY_FIELDS = frozenset({"maxRequestBytes", "allowPartialMessage", "packAsBytes"})
EXT_AUTHZ_KINDS = {"envoyExtAuthzHttp": "HTTP", "envoyExtAuthzGrpc": "GRPC"}


@dataclass(frozen=True, slots=True)
class RequestBody:
    """`includeRequestBodyInCheck`: the request body is buffered and sent to the authorizer."""

    max_request_bytes: int = 0
    allow_partial_message: bool = False
    pack_as_bytes: bool = False


@dataclass(frozen=True, slots=True)
class ExtAuthzProvider:
    """An `envoyExtAuthzHttp` or `envoyExtAuthzGrpc` provider (`protocol` HTTP or GRPC).
    `service`: a host of the service registry (`<svc>.<ns>.svc.cluster.local`, a ServiceEntry
    host), optionally `<namespace>/<host>`. Header lists keep Istio's `*` prefix/suffix forms."""

    name: str
    protocol: str
    service: str
    port: int
    timeout_ms: int = DEFAULT_TIMEOUT_MS
    path_prefix: str = ""
    fail_open: bool = False
    status_on_error: int | None = None
    headers_to_service: tuple[str, ...] = ()
    headers_to_add: tuple[tuple[str, str], ...] = ()
    headers_to_upstream: tuple[str, ...] = ()
    headers_to_client_on_deny: tuple[str, ...] = ()
    headers_to_client_on_allow: tuple[str, ...] = ()
    body: RequestBody | None = None


@dataclass(frozen=True, slots=True)
class MeshConfig:
    """The providers of a mesh config: the usable ext_authz ones by name; `unusable` those of
    these kinds that have problems (name → why); `other`: providers of other kinds (tracing,
    access logs...), known by name but no external authorizer; `errors`: every problem."""

    providers: dict[str, ExtAuthzProvider] = field(default_factory=dict)
    unusable: dict[str, str] = field(default_factory=dict)
    other: frozenset[str] = frozenset()
    errors: tuple[InputError, ...] = ()
    source: str = ""  # "ConfigMap istio-system/istio", for messages; empty without one

    def why_not(self, name: str) -> str | None:
        """Why provider `name` cannot decide CUSTOM policies (None: it can)."""
        if name in self.providers:
            return None
        where = self.source or f"ConfigMap {ROOT_NAMESPACE}/{MESH_CONFIG_MAP}"
        if name in self.unusable:
            return f"extension provider {name!r} of the mesh config ({where}) is invalid: {self.unusable[name]}"
        if name in self.other:
            return (f"extension provider {name!r} of the mesh config ({where}) is not an external authorizer "
                    "(envoyExtAuthzHttp or envoyExtAuthzGrpc)")
        if not self.source:
            return (f"no mesh config names extension provider {name!r} (meshgate reads them from the `mesh` key "
                    f"of the ConfigMap {ROOT_NAMESPACE}/{MESH_CONFIG_MAP}, which does not exist)")
        known = ", ".join(sorted(self.providers)) or "none"
        return f"the mesh config ({where}) has no extension provider {name!r} (usable ones: {known})"


NO_MESH_CONFIG = MeshConfig()


def _status(f: Fields, key: str) -> int | None:
    value = f.data.get(key)
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        f.error(key, f"must be a string, got {_type_name(value)}")
        return None
    try:
        code = int(value)
    except ValueError:
        f.error(key, f"invalid statusOnError {value!r}: must be an HTTP status code")
        return None
    if code not in _STATUS_CODES:
        f.error(key, f"unsupported statusOnError {value!r}: not an HTTP status code Envoy knows")
        return None
    return code


def _timeout_ms(f: Fields, key: str) -> int:
    value = f.str(key)
    if value is None:
        return DEFAULT_TIMEOUT_MS
    ns = go_duration_ns(value)
    if ns is None or ns <= 0:
        f.error(key, f"invalid timeout {value!r}: must be a positive duration such as 10s or 500ms")
        return DEFAULT_TIMEOUT_MS
    return max(1, ns // 1_000_000)


def _service(f: Fields) -> str | None:
    service = f.str("service", required=True, min_len=1)
    if service is None:
        return None
    ns, slash, host = service.rpartition("/")
    if slash and (not ns or "/" in ns):
        f.error("service", f"invalid service {service!r}: must be a host, or <namespace>/<host>")
        return None
    reason = fqdn(host) if not is_ip(host) else None
    if reason:
        f.error("service", f"invalid service {service!r}: {reason}")
        return None
    return service


def _headers(f: Fields, key: str) -> tuple[str, ...]:
    values = tuple(f.strs(key) or ())
    if "*" in values:
        f.error(key, 'a single wildcard ("*") is not supported: use a prefix (x-*) or a suffix (*-id) match')
        return tuple(v for v in values if v != "*")
    return values


def _unknown(f: Fields, known: frozenset[str]) -> None:
    for key in f.data:
        if key not in known:
            f.error(key, "unknown field (meshgate reads " + ", ".join(sorted(known)) + ")")


def _provider(pf: Fields, name: str, kind: str, protocol: str) -> ExtAuthzProvider | None:
    kf = pf.map(kind)
    if kf is None:
        return None
    _unknown(kf, _HTTP_FIELDS if protocol == "HTTP" else _GRPC_FIELDS)
    service = _service(kf)
    port = kf.int("port", required=True, min=1, max=65535)
    timeout = _timeout_ms(kf, "timeout")
    status = _status(kf, "statusOnError")
    fail_open = bool(kf.bool("failOpen"))
    body = None
    bf = kf.map("includeRequestBodyInCheck")
    if bf is not None:
        _unknown(bf, _BODY_FIELDS)
        body = RequestBody(bf.int("maxRequestBytes", min=0, max=2**32 - 1) or 0,
                           bool(bf.bool("allowPartialMessage")), bool(bf.bool("packAsBytes")))
    extra: dict = {}
    if protocol == "HTTP":
        prefix = kf.str("pathPrefix") or ""
        if prefix and not prefix.startswith("/"):
            kf.error("pathPrefix", f"pathPrefix must begin with `/`, found: {prefix!r}")
        headers = _headers(kf, "includeRequestHeadersInCheck") or _headers(kf, "includeHeadersInCheck")
        added = kf.data.get("includeAdditionalHeadersInCheck")
        pairs: list[tuple[str, str]] = []
        if added is not None:
            if not isinstance(added, dict) or not all(isinstance(v, str) for v in added.values()):
                kf.error("includeAdditionalHeadersInCheck", "must be a mapping of header names to string values")
            else:
                pairs = sorted((str(k), v) for k, v in added.items())
        extra = {"path_prefix": prefix, "headers_to_service": headers, "headers_to_add": tuple(pairs),
                 "headers_to_upstream": _headers(kf, "headersToUpstreamOnAllow"),
                 "headers_to_client_on_deny": _headers(kf, "headersToDownstreamOnDeny"),
                 "headers_to_client_on_allow": _headers(kf, "headersToDownstreamOnAllow")}
    if service is None or port is None:
        return None
    return ExtAuthzProvider(name, protocol, service, port, timeout, fail_open=fail_open, status_on_error=status,
                            body=body, **extra)


def parse_mesh_config(cm: ConfigMap | None) -> MeshConfig:
    """The extension providers of the mesh config in `cm` (the ConfigMap istio-system/istio)."""
    if cm is None:
        return NO_MESH_CONFIG
    where = f"ConfigMap {cm.meta.namespace}/{cm.meta.name}"
    key_line = cm.lines.get(MESH_KEY, cm.source.line)
    ctx = ObjectContext(cm.source.file, key_line, "ConfigMap", cm.meta.namespace, cm.meta.name)
    raw = cm.data.get(MESH_KEY)
    if raw is None:
        return MeshConfig(source=where)
    text = raw.decode(errors="replace")
    # A block scalar (`mesh: |`) starts on the line after its key; a one-line value stands on it.
    first = key_line + 1 if "\n" in text.rstrip("\n") or text.endswith("\n") else key_line
    try:
        docs = [d for d in parse_documents(text, first) if d.value is not None]
    except YAMLSyntaxError as e:
        ctx.error(e.line if key_line else 0, _PATH, f"invalid YAML: {e.reason}")
        return MeshConfig(source=where, errors=tuple(ctx.errors))
    if len(docs) > 1:
        ctx.error(docs[1].line if key_line else 0, _PATH, "must be a single YAML document (a MeshConfig)")
    if not docs:
        return MeshConfig(source=where)
    value = docs[0].value
    if not isinstance(value, dict):
        ctx.error(key_line, _PATH, f"must be a mapping (a MeshConfig), got {_type_name(value)}")
        return MeshConfig(source=where, errors=tuple(ctx.errors))
    root = Fields(value, _PATH, ctx, docs[0].line if key_line else 0)
    providers: dict[str, ExtAuthzProvider] = {}
    unusable: dict[str, str] = {}
    other: set[str] = set()
    for pf in root.maps("extensionProviders"):
        before = len(ctx.errors)
        name = pf.str("name", required=True, min_len=1)
        if name is not None and not _NAME.fullmatch(name):
            pf.error("name", f"invalid provider name {name!r}: lowercase letters, digits and '-', at most 63, "
                             "starting and ending with a letter or digit")
        if name is not None and (name in providers or name in unusable or name in other):
            pf.error("name", f"extension provider name must be unique, found duplicate: {name}")
            continue
        kinds = [k for k in pf.data if k != "name"]
        ours = [k for k in kinds if k in EXT_AUTHZ_KINDS]
        if len(kinds) > 1:
            pf.error(kinds[1], f"a provider has one kind, found {', '.join(kinds)}")
        if not ours:
            if name is not None:
                other.add(name)
            continue
        made = _provider(pf, name or "", ours[0], EXT_AUTHZ_KINDS[ours[0]])
        problems = ctx.errors[before:]
        if name is None:
            continue
        if made is None or problems:
            unusable[name] = "; ".join(f"{e.field}: {e.reason}" for e in problems) or "invalid"
        else:
            providers[name] = made
    errors = tuple(ctx.errors) if key_line else tuple(dataclasses.replace(e, line=0) for e in ctx.errors)
    return MeshConfig(providers, unusable, frozenset(other), errors, where)
