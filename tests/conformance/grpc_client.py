"""The suite's gRPC client (conformance/utils/grpc): calls GrpcEcho's Echo, EchoTwo or EchoThree
through a Gateway and compares the answer as upstream's compareResponse does.

The messages are the ones `meshgate echo --mode grpc` serves (meshgate.echo.grpc_echo, upstream's
grpcecho.proto built at run time): client and server share the schema, as upstream's share the
generated package.

`call_over` makes the same call over a socket the caller has connected already (the mesh client's,
which starts with a PROXY protocol header, something grpcio cannot send): HTTP/2 with prior
knowledge, the gRPC framing and status done here."""

from __future__ import annotations

import socket
import struct
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import grpc

from meshgate.echo.grpc_echo import EchoRequest, EchoResponse, full_method

from .expect import INFRA
from .stream_clients import h2_exchange

TIMEOUT = 10.0


@dataclass(frozen=True)
class GrpcExpect:
    """One row of a GRPCRoute test table (Go's grpc.ExpectedResponse)."""

    method: str = "Echo"  # Echo, EchoTwo or EchoThree
    authority: str = ""
    metadata: Mapping[str, str] = field(default_factory=dict)
    code: grpc.StatusCode = grpc.StatusCode.OK
    backend: str = ""
    namespace: str = INFRA
    name: str = ""

    def title(self, i: int = 0) -> str:
        """GetTestCaseName."""
        if self.name:
            return self.name
        meta = ""
        if self.metadata:
            meta = " with headers '{" + ",".join(f"{k}:{self.metadata[k]}" for k in sorted(self.metadata)) + "}'"
        base = f"{i} request to '{self.authority}{full_method(self.method)}'{meta}"
        return f"{base} should go to {self.backend}" if self.backend else \
            f"{base} should receive a {self.code.name} ({self.code.value[0]})"


@dataclass(frozen=True)
class GrpcReply:
    """What one RPC gave: its status code, response headers and trailers, and the EchoResponse."""

    code: grpc.StatusCode
    headers: tuple[tuple[str, str], ...]
    trailers: tuple[tuple[str, str], ...]
    response: Any  # EchoResponse, or None unless the code is OK
    details: str = ""

    @property
    def assertions(self) -> Any:
        """The EchoResponse's assertions (fully_qualified_method, headers, authority, context,
        tls_assertions)."""
        return self.response.assertions if self.response is not None else None


def send_rpc(address: str, method: str = "Echo", authority: str = "", metadata: Mapping[str, str] | None = None,
             timeout: float = TIMEOUT, cert_pem: str | None = None, server_name: str = "") -> GrpcReply:
    """One unary call of GrpcEcho/`method` to `address` ("ip:port"): plaintext (upstream's client), or
    TLS trusting `cert_pem` with SNI `server_name`; `authority` overrides :authority."""
    options: list[tuple[str, Any]] = []
    if authority:
        options.append(("grpc.default_authority", authority))
    if cert_pem is not None:
        if server_name:
            options.append(("grpc.ssl_target_name_override", server_name))
        channel = grpc.secure_channel(address, grpc.ssl_channel_credentials(cert_pem.encode()), options=options)
    else:
        channel = grpc.insecure_channel(address, options=options)
    with channel:
        call = channel.unary_unary(full_method(method), request_serializer=EchoRequest.SerializeToString,
                                   response_deserializer=EchoResponse.FromString)
        try:
            # HTTP/2 header names are lower case: Go's metadata.Pairs folds them, grpcio refuses others.
            pairs = tuple((k.lower(), v) for k, v in (metadata or {}).items())
            response, rpc = call.with_call(EchoRequest(), timeout=timeout, metadata=pairs)
        except grpc.RpcError as err:
            return GrpcReply(err.code(), _pairs(err.initial_metadata()), _pairs(err.trailing_metadata()), None,
                             err.details() or "")
        return GrpcReply(rpc.code(), _pairs(rpc.initial_metadata()), _pairs(rpc.trailing_metadata()), response)


def _pairs(md: Any) -> tuple[tuple[str, str], ...]:
    return tuple((k, v if isinstance(v, str) else v.decode("latin-1")) for k, v in (md or ()))


def grpc_problem(expected: GrpcExpect, reply: GrpcReply) -> str | None:
    """compareResponse: the code, and for OK the method, namespace and pod-name prefix."""
    if reply.code != expected.code:
        return f"expected status code {expected.code.name}, got {reply.code.name} ({reply.details})"
    if reply.code == grpc.StatusCode.OK:
        a = reply.assertions
        if a.fully_qualified_method != full_method(expected.method):
            return f"expected path {full_method(expected.method)}, got {a.fully_qualified_method}"
        if expected.namespace and a.context.namespace != expected.namespace:
            return f"expected namespace {expected.namespace}, got {a.context.namespace}"
        if not a.context.pod.startswith(expected.backend):
            return f"expected pod name to start with {expected.backend}, got {a.context.pod}"
    return None


class GrpcCallFailed(ConnectionError):
    """A call that ended without OK (an OSError, as a failed connection: the harness retries it)."""


_STATUS_BY_CODE = {c.value[0]: c for c in grpc.StatusCode}


def call_over(sock: socket.socket, authority: str, method: str = "Echo",
              metadata: Mapping[str, str] | None = None) -> tuple[Any, dict[str, list[str]]]:
    """One unary call of GrpcEcho/`method` on a new HTTP/2 connection over `sock` (connected, plain):
    (the EchoResponse, the response headers); GrpcCallFailed unless the call ends OK."""
    payload = EchoRequest().SerializeToString()
    headers = [(":method", "POST"), (":scheme", "http"), (":path", full_method(method)), (":authority", authority),
               ("content-type", "application/grpc"), ("te", "trailers")]
    headers += [(k.lower(), v) for k, v in (metadata or {}).items()]
    answer = h2_exchange(sock, headers, b"\x00" + struct.pack("!I", len(payload)) + payload)
    # A trailers-only answer (an error straight from the proxy) carries grpc-status in its headers.
    fields = answer.trailers or answer.headers
    status = int((fields.get("grpc-status") or ["2"])[-1])  # none: UNKNOWN, as gRPC clients say
    if answer.status != 200 or status != 0:
        code = _STATUS_BY_CODE.get(status, grpc.StatusCode.UNKNOWN)
        message = (fields.get("grpc-message") or [""])[-1]
        raise GrpcCallFailed(f"HTTP status {answer.status}, gRPC {code.name}: {message}")
    if len(answer.data) < 5:
        raise GrpcCallFailed(f"gRPC answer of {len(answer.data)} bytes: no message")
    length = struct.unpack("!I", answer.data[1:5])[0]
    return EchoResponse.FromString(answer.data[5:5 + length]), answer.headers
