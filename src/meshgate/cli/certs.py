"""`meshgate certs`: a CA and certificates for xDS over mutual TLS."""

from __future__ import annotations

import click

from .group import main
from .options import check_gateway


@main.group()
def certs() -> None:
    """Certificates for xDS over mutual TLS: a CA, and certificates issued from it."""


@certs.command("ca")
@click.option("--out", required=True, type=click.Path(file_okay=False), help="Directory for ca.crt and ca.key.")
@click.option("--days", default=3650, show_default=True, help="Validity.")
def certs_ca(out: str, days: int) -> None:
    """Create a CA (ECDSA P-256) in OUT: ca.crt and ca.key (0600, directory 0700)."""
    from pathlib import Path

    from ..runtime.pki import new_authority, private_dir, write_private

    directory = private_dir(Path(out))
    if (directory / "ca.key").exists():
        raise click.ClickException(f"{directory / 'ca.key'} exists: not overwriting a CA")
    ca = new_authority(days=days)
    write_private(directory / "ca.key", ca.key_pem)
    click.echo(write_private(directory / "ca.crt", ca.certificate_pem))


@certs.command("issue")
@click.option("--ca-cert", required=True, type=click.Path(exists=True, dir_okay=False), help="The CA certificate.")
@click.option("--ca-key", required=True, type=click.Path(exists=True, dir_okay=False), help="The CA's private key.")
@click.option("--gateway", callback=lambda c, p, v: check_gateway(v),
              help="A client certificate for the proxies of this Gateway (NS/NAME).")
@click.option("--server", "servers", multiple=True, metavar="NAME",
              help="A server certificate for meshgate, for this DNS name or IP address (repeatable).")
@click.option("--trust-domain", default="meshgate.local", show_default=True,
              help="Of the Gateway's SPIFFE ID (not checked by meshgate: the CA decides).")
@click.option("--days", default=365, show_default=True, help="Validity (at most the CA's).")
@click.option("--out", required=True, type=click.Path(file_okay=False),
              help="Directory for tls.crt and tls.key (0600, directory 0700).")
def certs_issue(ca_cert: str, ca_key: str, gateway: str | None, servers: tuple[str, ...], trust_domain: str,
                days: int, out: str) -> None:
    """Issue a client certificate for a Gateway's proxies (URI SAN
    spiffe://TRUST_DOMAIN/ns/NS/gateway/NAME) or a server certificate for meshgate."""
    from pathlib import Path

    from ..runtime.pki import issue_gateway, issue_server, load_authority, write_issued

    if (gateway is None) == (not servers):
        raise click.UsageError("give either --gateway NS/NAME or --server NAME")
    try:
        ca = load_authority(Path(ca_cert).read_bytes(), Path(ca_key).read_bytes())
    except (ValueError, TypeError) as exc:
        raise click.ClickException(f"{ca_cert}, {ca_key}: not a usable CA: {exc}") from None
    issued = issue_gateway(ca, gateway, trust_domain, days) if gateway else issue_server(ca, servers, days)
    for path in write_issued(Path(out), "tls", issued):
        click.echo(path)
