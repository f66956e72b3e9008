"""echo-basic's gRPC mode (GRPC_ECHO_SERVER): the ``GrpcEcho`` service the GRPCRoute tests call.

The messages are upstream's ``grpcecho.proto`` (package
``gateway_api_conformance.echo_basic.grpcecho``), built here at import time as a
FileDescriptorProto, so no generated module is checked in. ``Echo`` and ``EchoTwo`` answer an
``EchoResponse`` whose ``assertions`` carry the fully qualified method, every request header
(metadata, with ``:authority`` among them as grpc-go reports it), the authority and the pod
context; ``EchoThree`` is left unimplemented (UNIMPLEMENTED), as upstream. The TLS port (when a
certificate is given) adds ``tls_assertions``: grpcio tells the peer certificate and that ALPN was
h2, not the TLS version, SNI or cipher, which stay empty. Not reproduced: gRPC server reflection.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent import futures
from typing import Any

import grpc
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

from .answer import PodContext

PACKAGE = "gateway_api_conformance.echo_basic.grpcecho"
SERVICE = f"{PACKAGE}.GrpcEcho"
_STOP_GRACE = 1.0
_F = descriptor_pb2.FieldDescriptorProto


def _file_descriptor() -> descriptor_pb2.FileDescriptorProto:
    """grpcecho.proto as a descriptor (field names and numbers as upstream)."""
    f = descriptor_pb2.FileDescriptorProto(name="grpcecho.proto", package=PACKAGE, syntax="proto3")

    def message(name: str, *fields: tuple[str, int, int, str, bool]) -> None:
        m = f.message_type.add(name=name)
        for field_name, number, kind, type_name, repeated in fields:
            fd = m.field.add(name=field_name, number=number, type=kind,
                             label=_F.LABEL_REPEATED if repeated else _F.LABEL_OPTIONAL)
            if type_name:
                fd.type_name = f".{PACKAGE}.{type_name}"

    s, msg = _F.TYPE_STRING, _F.TYPE_MESSAGE
    message("Header", ("key", 1, s, "", False), ("value", 2, s, "", False))
    message("Context", ("namespace", 1, s, "", False), ("ingress", 2, s, "", False),
            ("service_name", 3, s, "", False), ("pod", 4, s, "", False))
    message("TLSAssertions", ("version", 1, s, "", False), ("negotiated_protocol", 2, s, "", False),
            ("server_name", 3, s, "", False), ("cipher_suite", 4, s, "", False),
            ("peer_certificates", 5, s, "", True))
    message("Assertions", ("fully_qualified_method", 1, s, "", False), ("headers", 2, msg, "Header", True),
            ("authority", 3, s, "", False), ("context", 4, msg, "Context", False),
            ("tls_assertions", 5, msg, "TLSAssertions", False))
    message("EchoRequest")
    message("EchoResponse", ("assertions", 1, msg, "Assertions", False), ("request", 2, msg, "EchoRequest", False))
    svc = f.service.add(name="GrpcEcho")
    for method in ("Echo", "EchoTwo", "EchoThree"):
        svc.method.add(name=method, input_type=f".{PACKAGE}.EchoRequest", output_type=f".{PACKAGE}.EchoResponse")
    return f


_POOL = descriptor_pool.DescriptorPool()
_POOL.Add(_file_descriptor())
EchoRequest: Any = message_factory.GetMessageClass(_POOL.FindMessageTypeByName(f"{PACKAGE}.EchoRequest"))
EchoResponse: Any = message_factory.GetMessageClass(_POOL.FindMessageTypeByName(f"{PACKAGE}.EchoResponse"))


def full_method(method: str) -> str:
    """``/gateway_api_conformance.echo_basic.grpcecho.GrpcEcho/<method>``."""
    return f"/{SERVICE}/{method}"


def _authority(context: grpc.ServicerContext) -> str:
    # grpcio has no public accessor for the request's :authority; its server keeps it on the
    # call details. Empty when a grpcio release moves it.
    details = getattr(getattr(context, "_rpc_event", None), "call_details", None)
    host = getattr(details, "host", b"") or b""
    return host.decode("latin-1") if isinstance(host, bytes) else str(host)


class GrpcEchoServer:
    """The GrpcEcho service on a plaintext port and, with `tls`, a TLS port."""

    def __init__(self, address: str, port: int, context: PodContext, *, tls_port: int | None = None,
                 tls: tuple[bytes, bytes] | None = None, log: Callable[[str], None] | None = None) -> None:
        if (tls_port is None) != (tls is None):
            raise ValueError("a TLS port needs a certificate and key, and the other way round")
        self._address = address
        self._requested = (port, tls_port)
        self.context = context
        self._tls = tls
        self._log = log
        self._servers: list[grpc.Server] = []
        self.port = port
        self.tls_port = tls_port

    def _host(self, port: int) -> str:
        return f"[{self._address}]:{port}" if ":" in self._address else f"{self._address}:{port}"

    def start(self) -> None:
        """Bind and serve (grpcio's own threads); the bound ports are in `port` and `tls_port`."""
        port, tls_port = self._requested
        plain = self._server(secure=False)
        self.port = plain.add_insecure_port(self._host(port))
        self._servers = [plain]
        if tls_port is not None and self._tls is not None:
            secure = self._server(secure=True)
            creds = grpc.ssl_server_credentials([(self._tls[1], self._tls[0])])  # (key, chain)
            self.tls_port = secure.add_secure_port(self._host(tls_port), creds)
            self._servers.append(secure)
        for server in self._servers:
            server.start()

    def stop(self) -> None:
        """Stop both ports (in-flight calls get a short grace)."""
        for server in self._servers:
            server.stop(_STOP_GRACE).wait(_STOP_GRACE + 1)
        self._servers = []

    def _server(self, secure: bool) -> grpc.Server:
        server = grpc.server(futures.ThreadPoolExecutor(max_workers=8, thread_name_prefix="echo-grpc"))
        handlers = {name: grpc.unary_unary_rpc_method_handler(
            self._method(name, secure), request_deserializer=EchoRequest.FromString,
            response_serializer=EchoResponse.SerializeToString) for name in ("Echo", "EchoTwo")}
        server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(SERVICE, handlers),))
        return server

    def _method(self, name: str, secure: bool) -> Callable[[Any, grpc.ServicerContext], Any]:
        def echo(request: Any, context: grpc.ServicerContext) -> Any:
            return self.answer(name, context, secure)
        return echo

    def answer(self, method: str, context: grpc.ServicerContext, secure: bool) -> Any:
        """The EchoResponse for one call of `method`."""
        if self._log is not None:
            self._log(f"Received over {'TLS' if secure else 'plaintext'}: {full_method(method)}")
        authority = _authority(context)
        resp = EchoResponse()
        a = resp.assertions
        a.fully_qualified_method = full_method(method)
        a.authority = authority
        if authority:
            a.headers.add(key=":authority", value=authority)
        for key, value in context.invocation_metadata():
            a.headers.add(key=key, value=value if isinstance(value, str) else value.decode("latin-1"))
        c = a.context
        c.namespace, c.ingress, c.service_name, c.pod = (self.context.namespace, self.context.ingress,
                                                         self.context.service, self.context.pod)
        if secure:
            t = a.tls_assertions
            t.negotiated_protocol = "h2"  # gRPC over TLS always negotiates h2
            auth = context.auth_context()
            for pem in auth.get("x509_pem_cert", []):
                t.peer_certificates.append(pem.decode("latin-1") if isinstance(pem, bytes) else str(pem))
        return resp
