"""`meshgate bootstrap`: an Envoy bootstrap for a proxy of a Gateway fed by meshgate."""

from __future__ import annotations

from typing import Literal

import click

from .group import main
from .options import check_gateway, check_locality, parse_labels


@main.command()
@click.option("--gateway", required=True, callback=lambda c, p, v: check_gateway(v), help="NS/NAME of the Gateway.")
@click.option("--xds", required=True, help="Where meshgate serves ADS (HOST:PORT).")
@click.option("--locality", help="REGION[/ZONE[/SUBZONE]] of the proxy.")
@click.option("--label", "labels", multiple=True, help="A proxy label KEY=VALUE (repeatable).")
@click.option("--node-name", default="", help="The Kubernetes node the proxy runs on.")
@click.option("--admin-port", default=15000, show_default=True, help="Envoy admin port (on 127.0.0.1).")
@click.option("--sotw", is_flag=True, help="State-of-the-World ADS instead of Delta.")
@click.option("--xds-ca", type=click.Path(dir_okay=False),
              help="Connect over mutual TLS: the CA file that signed meshgate's server certificate.")
@click.option("--xds-client-cert", type=click.Path(dir_okay=False),
              help="The proxy's client certificate file (see `meshgate certs issue --gateway`).")
@click.option("--xds-client-key", type=click.Path(dir_okay=False), help="Its private key file.")
@click.option("--xds-server-name", default="",
              help="The name (DNS or IP) meshgate's certificate must carry; sent as SNI when a DNS name "
                   "(default: the --xds host).")
@click.option("-o", "--output", "fmt", type=click.Choice(["json", "yaml"]), default="yaml", show_default=True)
def bootstrap(gateway: str, xds: str, locality: str | None, labels: tuple[str, ...], node_name: str,
              admin_port: int, sotw: bool, xds_ca: str | None, xds_client_cert: str | None,
              xds_client_key: str | None, xds_server_name: str, fmt: Literal["json", "yaml"]) -> None:
    """Print an Envoy bootstrap for a proxy of GATEWAY fed by meshgate at --xds.

    With --xds-ca, --xds-client-cert and --xds-client-key, Envoy reaches meshgate over mutual TLS
    (the paths are written as given: Envoy reads the files when it starts).
    """
    from pathlib import Path

    from ..discovery.model import Locality
    from ..envoy.bootstrap import XdsClientTLS, ads_bootstrap, bootstrap_text

    host, _, port = xds.rpartition(":")
    if not host or not port.isdigit():
        raise click.BadParameter("must be HOST:PORT", param_hint="--xds")
    loc = None
    checked = check_locality(locality)
    if checked:
        parts = (checked.split("/") + ["", ""])[:3]
        loc = Locality(*parts)
    given = [v is not None for v in (xds_ca, xds_client_cert, xds_client_key)]
    if any(given) and not all(given):
        raise click.UsageError("give --xds-ca, --xds-client-cert and --xds-client-key together")
    tls = XdsClientTLS(Path(xds_ca), Path(xds_client_cert), Path(xds_client_key),  # type: ignore[arg-type]
                       server_name=xds_server_name) if all(given) else None
    boot = ads_bootstrap(gateway, host, int(port), admin_port=admin_port, locality=loc, labels=parse_labels(labels),
                         node_name=node_name, delta=not sotw, tls=tls)
    click.echo(bootstrap_text(boot, fmt), nl=False)
