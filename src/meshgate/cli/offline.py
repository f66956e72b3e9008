"""The commands that read PATHS once and answer: `translate`, `status` and `hints`."""

from __future__ import annotations

import sys

import click

from ..pipeline import Translation, translate_paths
from ..resources.kinds import KIND_NAMES
from ..xds.output import snapshot_dict
from .group import main
from .options import (
    check_gateway,
    dump,
    ingress_waypoints_enabled,
    ingress_waypoints_option,
    input_limits,
    limit_options,
    proxy_of,
)


def _report_errors(tr: Translation) -> None:
    for e in tr.errors:
        click.echo(f"{e.severity}: {e}", err=True)


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@click.option("--gateway", "gateway", callback=lambda c, p, v: check_gateway(v), help="Only this gateway (NS/NAME).")
@click.option("--locality", help="The proxy's locality, REGION/ZONE/SUBZONE.")
@click.option("--label", "labels", multiple=True, help="A proxy label KEY=VALUE (repeatable).")
@click.option("--node-name", help="The proxy's Kubernetes node name.")
@click.option("-o", "--output", "fmt", type=click.Choice(["json", "yaml"]), default="json", show_default=True)
@ingress_waypoints_option
@limit_options
def translate(paths: tuple[str, ...], gateway: str | None, locality: str | None, labels: tuple[str, ...],
              node_name: str | None, fmt: str, ingress_use_waypoints: bool | None, max_file_bytes: int,
              max_documents: int) -> None:
    """Print what Envoy would receive for the resources in PATHS (offline).

    With --locality/--label/--node-name, as a proxy with that identity would receive it
    (endpoint priorities per DestinationRule locality settings). Exit status 1 when any input
    was invalid; valid input is translated either way.
    """
    view, label_map = proxy_of(locality, labels, node_name)
    tr = translate_paths(paths, proxy=view, labels=label_map,
                         ingress_use_waypoints=ingress_waypoints_enabled(ingress_use_waypoints),
                         limits=input_limits(max_file_bytes, max_documents))
    snaps = tr.snapshots
    if gateway is not None:
        snaps = [s for s in snaps if s.gateway == gateway]
        if not snaps:
            raise click.UsageError(f"no gateway {gateway} of ours in the input")
    out = {
        "gateways": [snapshot_dict(s) for s in snaps],
        "status": tr.status,
        "errors": [e.to_dict() for e in tr.errors],
    }
    click.echo(dump(out, fmt), nl=False)
    _report_errors(tr)
    sys.exit(1 if tr.failed else 0)


@main.command()
@click.argument("paths", nargs=-1, type=click.Path())
@click.option("--server", metavar="HOST:PORT",
              help="Ask a running meshgate (its debug port) instead: status, input problems and proxies with NACKs.")
@click.option("-o", "--output", "fmt", type=click.Choice(["table", "json", "yaml"]), default="table", show_default=True,
              help="json/yaml: {status, errors[, proxies]} with Kubernetes-shaped status objects.")
@click.option("--kind", "kinds", multiple=True, type=click.Choice(sorted(KIND_NAMES), case_sensitive=False),
              help="Only objects (and input problems) of this kind (repeatable).")
@click.option("-n", "--namespace", help="Only objects (and input problems, and live, proxies) of this namespace.")
@click.option("--problems", is_flag=True,
              help="Only conditions in their unhealthy state, input problems, and live, NACKs.")
@limit_options
def status(paths: tuple[str, ...], server: str | None, fmt: str, kinds: tuple[str, ...], namespace: str | None,
           problems: bool, max_file_bytes: int, max_documents: int) -> None:
    """Show every object's status conditions, and input errors (tables, or JSON/YAML).

    Exit status: 0 when all is well (warnings allowed), 1 when some input was invalid (live: or
    a proxy's last answer was a NACK), 3 when all was accepted but some object of ours has a
    condition in its unhealthy state (Accepted/ResolvedRefs/Programmed False, Conflicted True...),
    2 for a usage error. Filters apply to the exit status and the summary line too.
    """
    from ..status_report import (
        StatusFilter,
        exit_status,
        problems_view,
        select_errors,
        select_proxies,
        select_status,
        summary,
    )
    from ..status_table import print_proxies, print_status

    if server is None and not paths:
        raise click.UsageError("give PATHS, or --server HOST:PORT of a running meshgate")
    proxies: list[dict] | None = None
    if server is not None:
        from ..runtime.client import fetch_status

        try:
            tr, proxies = fetch_status(server)
        except OSError as exc:
            raise click.ClickException(f"cannot reach meshgate at {server}: {exc}") from None
    else:
        tr = translate_paths(paths, limits=input_limits(max_file_bytes, max_documents))
    chosen = StatusFilter(frozenset(kinds), namespace, problems)
    objects, errors = select_status(tr.status, chosen), select_errors(tr.errors, chosen)
    live = None if proxies is None else select_proxies(proxies, chosen)
    line, code = summary(objects, errors, live), exit_status(objects, errors, live or ())
    if problems:
        objects, shown_proxies = problems_view(objects, live or [])
        live = None if live is None else shown_proxies
    shown = Translation(status=objects, errors=errors)
    if fmt == "table":
        print_status(shown)
        if live is not None:
            print_proxies(live)
        click.echo(line)
    else:
        document = _status_document(shown) | ({} if live is None else {"proxies": live})
        click.echo(dump(document, fmt), nl=False)
        click.echo(line, err=True)  # not in the document: its shape stays {status, errors[, proxies]}
    sys.exit(code)


def _status_document(tr: Translation) -> dict:
    return {"status": tr.status, "errors": [e.to_dict() for e in tr.errors]}


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@click.option("-o", "--output", "fmt", type=click.Choice(["json", "yaml"]), default="json", show_default=True)
def hints(paths: tuple[str, ...], fmt: str) -> None:
    """The EndpointSlices as the EndpointSlice controller would write them (topology hints,
    managed-by; generated from Pods for Services with a selector) and its events.

    Exit status 1 when any input was invalid.
    """
    from ..hints import hints_document
    from ..resources.loader import load_paths
    from ..store import Store

    loaded = load_paths(paths)
    store, duplicates = Store.from_load(loaded)
    document, warnings = hints_document(store)
    click.echo(dump(document, fmt), nl=False)
    errors = loaded.errors + duplicates
    for e in errors:
        click.echo(f"{e.severity}: {e}", err=True)
    for w in warnings:
        click.echo(f"warning: Service {w['service']}: {w['message']}", err=True)
    sys.exit(1 if any(e.severity == "error" for e in errors) else 0)
