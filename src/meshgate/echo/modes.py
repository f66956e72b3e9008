"""What ``meshgate echo`` runs, by mode, as echo-basic picks by its environment: plain HTTP (with
the optional h2c, TLS and gRPC ports; the gRPC one as echo-advanced's ``--grpc``), gRPC (GRPC_ECHO_SERVER), TCP (TCP_ECHO_SERVER), UDP
(UDP_ECHO_SERVER), or the DNS answerer standing in for the manifests' coredns."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Protocol

from .answer import PodContext

MODES = ("http", "grpc", "tcp", "udp", "dns")


class Backend(Protocol):
    """A started server of one mode."""

    def stop(self) -> None: ...


@dataclass(frozen=True)
class EchoOptions:
    """``meshgate echo``'s options beyond address, port, pod and namespace."""

    mode: str = "http"
    h2c_port: int | None = None  # http: echo-basic's h2c port (3001)
    grpc_port: int | None = None  # http: also the GrpcEcho service there (echo-advanced's --grpc=7070)
    tls_port: int | None = None  # http, grpc, tcp: the TLS port (8443), needs tls_cert and tls_key
    tls_cert: str = ""
    tls_key: str = ""
    tls_client_ca: str = ""  # http: client certificates checked against it when sent
    service: str = ""
    ingress: str = ""

    def problem(self) -> str | None:
        """Why these options do not make sense together, or None."""
        if self.mode not in MODES:
            return f"unknown mode {self.mode!r} (one of {', '.join(MODES)})"
        if (self.tls_port is not None) != bool(self.tls_cert and self.tls_key):
            return "--tls-port, --tls-cert and --tls-key go together"
        if self.tls_port is not None and self.mode not in ("http", "grpc", "tcp"):
            return f"mode {self.mode} has no TLS port"
        if self.h2c_port is not None and self.mode != "http":
            return "--h2c-port is for mode http"
        if self.grpc_port is not None and self.mode != "http":
            return "--grpc-port is for mode http (mode grpc serves gRPC on --port)"
        if self.tls_client_ca and self.mode != "http":
            return "--tls-client-ca is for mode http"
        return None


def _hostport(address: str, port: int | None) -> str:
    return f"[{address}]:{port}" if ":" in address else f"{address}:{port}"


def start_backends(address: str, port: int, context: PodContext, options: EchoOptions,
                   log: Callable[[str], None] | None = None) -> tuple[list[Backend], list[str]]:
    """Start what `options` asks for; returns the servers and the URLs they listen on."""
    problem = options.problem()
    if problem:
        raise ValueError(problem)
    context = replace(context, service=options.service, ingress=options.ingress)
    mode = options.mode
    if mode == "http":
        from .server import EchoServer
        from .tls import server_context

        tls = server_context(options.tls_cert, options.tls_key, options.tls_client_ca) \
            if options.tls_port is not None else None
        http = EchoServer(address, port, context.pod, context.namespace, log, h2c_port=options.h2c_port,
                          tls_port=options.tls_port, tls_context=tls, service=context.service,
                          ingress=context.ingress)
        http.start()
        urls = [f"http://{_hostport(http.address, http.port)}"]
        if http.h2c_port is not None:
            urls.append(f"h2c://{_hostport(http.address, http.h2c_port)}")
        if http.tls_port is not None:
            urls.append(f"https://{_hostport(http.address, http.tls_port)}")
        servers: list[Backend] = [http]
        if options.grpc_port is not None:
            from .grpc_echo import GrpcEchoServer  # grpcio only when asked for: it slows every start

            # One Pod, several protocols on their own ports, as echo-advanced (Istio's echo) serves them.
            side = GrpcEchoServer(address, options.grpc_port, context, log=log)
            try:
                side.start()
            except BaseException:
                http.stop()
                raise
            servers.append(side)
            urls.append(f"grpc://{_hostport(address, side.port)}")
        return servers, urls
    if mode == "grpc":
        from .grpc_echo import GrpcEchoServer

        pair = (Path(options.tls_cert).read_bytes(), Path(options.tls_key).read_bytes()) \
            if options.tls_port is not None else None
        grpc = GrpcEchoServer(address, port, context, tls_port=options.tls_port, tls=pair, log=log)
        grpc.start()
        urls = [f"grpc://{_hostport(address, grpc.port)}"]
        if grpc.tls_port is not None:
            urls.append(f"grpcs://{_hostport(address, grpc.tls_port)}")
        return [grpc], urls
    if mode == "tcp":
        from .tcp import TcpEchoServer
        from .tls import server_context

        ctx = server_context(options.tls_cert, options.tls_key, alpn=()) if options.tls_port is not None else None
        tcp = TcpEchoServer(address, port, context, tls_port=options.tls_port, tls=ctx)
        tcp.start()
        urls = [f"tcp://{_hostport(address, tcp.port)}"]
        if tcp.tls_port is not None:
            urls.append(f"tls://{_hostport(address, tcp.tls_port)}")
        return [tcp], urls
    server: Any
    if mode == "udp":
        from .udp import udp_echo

        server = udp_echo(address, port, context, log)
    else:
        from .dns import dns_server

        server = dns_server(address, port, log)
    server.start()
    return [server], [f"{'dns' if mode == 'dns' else 'udp'}://{_hostport(address, server.port)}"]
