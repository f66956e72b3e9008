"""`meshgate echo`: the Gateway API conformance echo backend."""

from __future__ import annotations

import click

from .group import main


@main.command()
@click.option("--port", required=True, type=int, help="Port to listen on (HTTP; the plain port of the grpc and "
              "tcp modes; the UDP port of the udp and dns modes).")
@click.option("--address", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--pod", default="", help="Pod name to report.")
@click.option("--namespace", default="", help="Namespace to report.")
@click.option("--service", default="", help="Service name to report.")
@click.option("--ingress", default="", help="Ingress (implementation) name to report.")
@click.option("--mode", type=click.Choice(["http", "grpc", "tcp", "udp", "dns"]), default="http", show_default=True,
              help="What to serve, as echo-basic by its environment: HTTP, the gRPC GrpcEcho service "
                   "(GRPC_ECHO_SERVER), the line-based TCP echo (TCP_ECHO_SERVER), the UDP echo "
                   "(UDP_ECHO_SERVER), or the DNS answerer standing in for coredns.")
@click.option("--h2c-port", type=int, default=None, help="http: also serve h2c (HTTP/2, prior knowledge) here.")
@click.option("--grpc-port", type=int, default=None,
              help="http: also serve the gRPC GrpcEcho service here (echo-advanced's --grpc).")
@click.option("--tls-port", type=int, default=None, help="http, grpc, tcp: also serve over TLS here.")
@click.option("--tls-cert", default="", help="PEM certificate (chain) for --tls-port.")
@click.option("--tls-key", default="", help="PEM private key for --tls-port.")
@click.option("--tls-client-ca", default="", help="http: verify client certificates against this CA when sent.")
def echo(port: int, address: str, pod: str, namespace: str, service: str, ingress: str, mode: str,
         h2c_port: int | None, grpc_port: int | None, tls_port: int | None, tls_cert: str, tls_key: str,
         tls_client_ca: str) -> None:
    """The Gateway API conformance echo backend (JSON of the request it got)."""
    from ..echo import serve_forever
    from ..echo.modes import EchoOptions

    options = EchoOptions(mode=mode, h2c_port=h2c_port, grpc_port=grpc_port, tls_port=tls_port, tls_cert=tls_cert,
                          tls_key=tls_key, tls_client_ca=tls_client_ca, service=service, ingress=ingress)
    problem = options.problem()
    if problem:
        raise click.UsageError(problem)
    serve_forever(address, port, pod, namespace, options)
