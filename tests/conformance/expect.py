"""What a conformance test sends and what it expects back.

These mirror the upstream suite's `conformance/utils/http` types (ExpectedResponse, Request,
ExpectedRequest, Response) and `roundtripper.RedirectRequest`, so that a Go test table
transcribes line for line. The comparison rules are in compare.py.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

INFRA = "gateway-conformance-infra"
APP_BACKEND = "gateway-conformance-app-backend"
WEB_BACKEND = "gateway-conformance-web-backend"
MESH = "gateway-conformance-mesh"  # suite.MeshNamespace
MESH_CONSUMER = "gateway-conformance-mesh-consumer"  # suite.MeshConsumerNamespace


def _none() -> Mapping[str, str]:
    return {}


@dataclass(frozen=True)
class Key:
    """A namespaced name (Go's types.NamespacedName)."""

    namespace: str
    name: str

    def __str__(self) -> str:
        return f"{self.namespace}/{self.name}"


@dataclass(frozen=True)
class GatewayRef:
    """A Gateway, optionally narrowed to some of its listeners (Go's kubernetes.NewGatewayRef)."""

    namespace: str
    name: str
    listeners: tuple[str, ...] = ()

    @property
    def key(self) -> Key:
        return Key(self.namespace, self.name)


H2C_PRIOR_KNOWLEDGE = "H2C_PRIOR_KNOWLEDGE"  # roundtripper.H2CPriorKnowledgeProtocol
GRPC = "grpc"  # the mesh echo client's `grpc://` (http.Request.Protocol in the MESH-GRPC tests)


@dataclass(frozen=True)
class Request:
    """The request to send. `host` empty: the Gateway address is the Host. `protocol` empty:
    HTTP/1.1 (or HTTPS); H2C_PRIOR_KNOWLEDGE: HTTP/2 without TLS, no Upgrade; GRPC (mesh client
    only): a gRPC call, `headers` as its metadata."""

    path: str = "/"
    host: str = ""
    method: str = "GET"
    headers: Mapping[str, str] = field(default_factory=_none)
    body: str = ""
    protocol: str = ""


@dataclass(frozen=True)
class ExpectedRequest:
    """What the backend must have received (fields left None: as sent)."""

    path: str | None = None
    host: str | None = None
    method: str | None = None
    headers: Mapping[str, str] = field(default_factory=_none)
    absent_headers: tuple[str, ...] = ()
    sni: str | None = None  # the SNI the backend's TLS port saw (Go's ExpectedRequest.SNI)
    # A PEM certificate among those the client presented to the backend's TLS port (Go's
    # ExpectedRequest.ClientCert, compared with the echo's tls.peerCertificates).
    client_cert: str | None = None


@dataclass(frozen=True)
class Response:
    """The response the client must see. `statuses`, when given, lists the accepted codes."""

    status: int = 200
    statuses: tuple[int, ...] = ()
    headers: Mapping[str, str] = field(default_factory=_none)
    absent_headers: tuple[str, ...] = ()

    def accepts(self, code: int) -> bool:
        return code in (self.statuses or (self.status,))


@dataclass(frozen=True)
class Redirect:
    """The Location a redirect must carry (Go's roundtripper.RedirectRequest); "" = see compare.py."""

    scheme: str = ""
    host: str = ""
    port: str = ""
    path: str = ""


@dataclass(frozen=True)
class Expect:
    """One row of an upstream test table (Go's http.ExpectedResponse)."""

    request: Request = field(default_factory=Request)
    expected_request: ExpectedRequest | None = None
    response: Response = field(default_factory=Response)
    redirect: Redirect | None = None
    backend: str = ""
    namespace: str = INFRA
    # The echo backend is asked (X-Echo-Set-Header) to set these response headers.
    backend_set_response_headers: Mapping[str, str] = field(default_factory=_none)
    # Services that must log a mirrored copy of the request.
    mirrored_to: tuple[Key, ...] = ()
    name: str = ""
    # A query parameter appended with a new UUID to every request sent (the retry tests'
    # `values.Set("uuid", uuid.New().String())` on each probe: the backend counts attempts per uuid).
    unique_query: str = ""

    def title(self) -> str:
        """The subtest name, as the Go suite builds it when the table does not name the case."""
        if self.name:
            return self.name
        r = self.request
        return (f"request to '{r.host}{r.path}' with method {r.method}"
                f"{' and headers' if r.headers else ''} should go to {self.backend or self.response.status}")
