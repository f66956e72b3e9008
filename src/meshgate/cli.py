"""The `meshgate` command line."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

import click
import yaml

from . import __version__
from .pipeline import Translation, translate_paths
from .xds.output import snapshot_dict

if TYPE_CHECKING:
    from .resources.loader import Limits


def _env_bool(name: str, default: bool) -> bool:
    """A boolean environment variable, read as Go's strconv.ParseBool (Istio's switches)."""
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    if value in ("1", "t", "T", "TRUE", "true", "True"):
        return True
    if value in ("0", "f", "F", "FALSE", "false", "False"):
        return False
    raise click.UsageError(f"environment variable {name}={value!r} is not a boolean")


_ingress_waypoints_option = click.option(
    "--ingress-use-waypoints/--no-ingress-use-waypoints", default=None,
    help="Ingress gateways send to captured services' VIPs so that traffic passes their waypoint "
         "(default: $INGRESS_USE_WAYPOINTS, else on).")


def _limit_options(command: Callable[..., None]) -> Callable[..., None]:
    """--max-file-bytes and --max-documents: how big one input file may be."""
    from .resources.loader import MAX_DOCUMENTS, MAX_FILE_BYTES

    command = click.option("--max-documents", default=MAX_DOCUMENTS, show_default=True, type=click.IntRange(min=1),
                           help="Refuse an input file holding more YAML documents than this (List items count).")(command)
    return click.option("--max-file-bytes", default=MAX_FILE_BYTES, show_default=True, type=click.IntRange(min=1),
                        help="Refuse an input file larger than this many bytes.")(command)


def _limits(max_file_bytes: int, max_documents: int) -> Limits:
    from .resources.loader import Limits

    return Limits(max_file_bytes=max_file_bytes, max_documents=max_documents)


def _ingress_waypoints(value: bool | None) -> bool:
    return _env_bool("INGRESS_USE_WAYPOINTS", True) if value is None else value


def _gateway_option(value: str | None) -> str | None:
    if value is not None and (value.count("/") != 1 or not all(value.split("/"))):
        raise click.BadParameter("must be NAMESPACE/NAME")
    return value


def _labels(values: tuple[str, ...]) -> dict[str, str]:
    out: dict[str, str] = {}
    for v in values:
        key, sep, val = v.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"{v!r} must be KEY=VALUE", param_hint="--label")
        out[key] = val
    return out


def _locality(value: str | None) -> str | None:
    if value is not None and value.count("/") > 2:
        raise click.BadParameter("must be REGION[/ZONE[/SUBZONE]]", param_hint="--locality")
    return value


def _proxy(locality: str | None, labels: tuple[str, ...], node_name: str | None):
    """The proxy view the identity flags describe, or (None, None) when none is given."""
    from .discovery.locality import proxy_view
    from .discovery.model import Locality

    label_map = _labels(labels)
    if locality is None and not label_map and not node_name:
        return None, None
    parts = ((_locality(locality) or "").split("/") + ["", "", ""])[:3]
    return proxy_view(Locality(*parts), label_map, node_name or ""), label_map


def _report_errors(tr: Translation) -> None:
    for e in tr.errors:
        click.echo(f"{e.severity}: {e}", err=True)


def dump(data: object, fmt: str) -> str:
    """JSON (indented) or YAML text."""
    if fmt == "json":
        return json.dumps(data, indent=2) + "\n"
    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    return yaml.dump(data, Dumper=dumper, sort_keys=False, default_flow_style=False, width=120)


@click.group()
@click.version_option(__version__, prog_name="meshgate")
def main() -> None:
    """meshgate: Gateway API, Kubernetes Services and Istio ServiceEntries to Envoy config."""


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@click.option("--gateway", "gateway", callback=lambda c, p, v: _gateway_option(v), help="Only this gateway (NS/NAME).")
@click.option("--locality", help="The proxy's locality, REGION/ZONE/SUBZONE.")
@click.option("--label", "labels", multiple=True, help="A proxy label KEY=VALUE (repeatable).")
@click.option("--node-name", help="The proxy's Kubernetes node name.")
@click.option("-o", "--output", "fmt", type=click.Choice(["json", "yaml"]), default="json", show_default=True)
@_ingress_waypoints_option
@_limit_options
def translate(paths: tuple[str, ...], gateway: str | None, locality: str | None, labels: tuple[str, ...],
              node_name: str | None, fmt: str, ingress_use_waypoints: bool | None, max_file_bytes: int,
              max_documents: int) -> None:
    """Print what Envoy would receive for the resources in PATHS (offline).

    With --locality/--label/--node-name, as a proxy with that identity would receive it
    (endpoint priorities per DestinationRule locality settings). Exit status 1 when any input
    was invalid; valid input is translated either way.
    """
    view, label_map = _proxy(locality, labels, node_name)
    tr = translate_paths(paths, proxy=view, labels=label_map,
                         ingress_use_waypoints=_ingress_waypoints(ingress_use_waypoints),
                         limits=_limits(max_file_bytes, max_documents))
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
@_limit_options
def status(paths: tuple[str, ...], server: str | None, fmt: str, max_file_bytes: int, max_documents: int) -> None:
    """Show every object's status conditions, and input errors (tables, or JSON/YAML)."""
    from .status_table import print_proxies, print_status

    if server is None and not paths:
        raise click.UsageError("give PATHS, or --server HOST:PORT of a running meshgate")
    if server is not None:
        from .runtime.client import fetch_status

        try:
            tr, proxies = fetch_status(server)
        except OSError as exc:
            raise click.ClickException(f"cannot reach meshgate at {server}: {exc}") from None
        if fmt == "table":
            print_status(tr)
            print_proxies(proxies)
        else:
            click.echo(dump(_status_document(tr) | {"proxies": proxies}, fmt), nl=False)
        sys.exit(1 if tr.failed or any(t["lastNack"] for p in proxies for t in p["types"].values()) else 0)
    tr = translate_paths(paths, limits=_limits(max_file_bytes, max_documents))
    if fmt == "table":
        print_status(tr)
    else:
        click.echo(dump(_status_document(tr), fmt), nl=False)
    sys.exit(1 if tr.failed else 0)


def _status_document(tr: Translation) -> dict:
    return {"status": tr.status, "errors": [e.to_dict() for e in tr.errors]}


def _run_options(paths: tuple[str, ...], xds: str, debug_port: int, sotw: bool, **extra: object):
    from .runtime.run import RunOptions

    host, _, port = xds.rpartition(":")
    if not host or not port.isdigit():
        raise click.BadParameter("must be HOST:PORT", param_hint="--xds")
    return RunOptions(list(paths), xds_address=host, xds_port=int(port), debug_port=debug_port,
                      delta=not sotw, **extra)


def _serve_forever(options: object) -> None:
    import asyncio
    import logging

    from .runtime.run import run_until_signal

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    def say(line: str) -> None:
        click.echo(line)
        sys.stdout.flush()  # a pipe would hold the URLs back until the buffer fills

    asyncio.run(run_until_signal(options, say=say))  # type: ignore[arg-type]


_xds_option = click.option("--xds", default="127.0.0.1:18000", show_default=True, help="Where to serve ADS (HOST:PORT).")
_debug_option = click.option("--debug-port", default=18001, show_default=True,
                             help="Loopback port for /metrics and /debug/* (0 picks one).")


def _check_pool(value: str | None) -> str | None:
    if value is None:
        return None
    from .runtime.address_pool import AddressPool

    try:
        AddressPool(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None
    return value


_address_pool_option = click.option(
    "--address-pool", metavar="CIDR", callback=lambda c, p, v: _check_pool(v),
    help="Give each Gateway without spec.addresses its own address from CIDR (e.g. 127.0.80.0/24), "
         "written to its status.addresses.")
_sotw_option = click.option("--sotw", is_flag=True, help="Managed Envoys use State-of-the-World ADS instead of Delta.")


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True))
@_xds_option
@_debug_option
@_sotw_option
@click.option("--echo", "echo_backends", is_flag=True,
              help="Also start echo backends on every loopback address:port of the EndpointSlices.")
@click.option("--workdir", type=click.Path(file_okay=False), help="Where Envoy bootstraps and logs go (default: a temp dir).")
@click.option("--envoy-log-level", default="warning", show_default=True)
@_address_pool_option
@_ingress_waypoints_option
@_limit_options
def run(paths: tuple[str, ...], xds: str, debug_port: int, sotw: bool, echo_backends: bool, workdir: str | None,
        envoy_log_level: str, address_pool: str | None, ingress_use_waypoints: bool | None, max_file_bytes: int,
        max_documents: int) -> None:
    """Serve PATHS over xDS, watch them, and run one Envoy per Gateway (Ctrl-C stops all)."""
    from pathlib import Path

    _serve_forever(_run_options(paths, xds, debug_port, sotw, envoys=True, echo=echo_backends,
                                workdir=Path(workdir) if workdir else None, envoy_log_level=envoy_log_level,
                                address_pool=address_pool,
                                ingress_use_waypoints=_ingress_waypoints(ingress_use_waypoints),
                                limits=_limits(max_file_bytes, max_documents)))


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True))
@_xds_option
@_debug_option
@_ingress_waypoints_option
@_limit_options
def serve(paths: tuple[str, ...], xds: str, debug_port: int, ingress_use_waypoints: bool | None, max_file_bytes: int,
          max_documents: int) -> None:
    """Serve PATHS over xDS and watch them; Envoys run elsewhere (see `meshgate bootstrap`)."""
    _serve_forever(_run_options(paths, xds, debug_port, False, envoys=False,
                                ingress_use_waypoints=_ingress_waypoints(ingress_use_waypoints),
                                limits=_limits(max_file_bytes, max_documents)))


@main.command()
@click.option("--gateway", required=True, callback=lambda c, p, v: _gateway_option(v), help="NS/NAME of the Gateway.")
@click.option("--xds", required=True, help="Where meshgate serves ADS (HOST:PORT).")
@click.option("--locality", help="REGION[/ZONE[/SUBZONE]] of the proxy.")
@click.option("--label", "labels", multiple=True, help="A proxy label KEY=VALUE (repeatable).")
@click.option("--node-name", default="", help="The Kubernetes node the proxy runs on.")
@click.option("--admin-port", default=15000, show_default=True, help="Envoy admin port (on 127.0.0.1).")
@click.option("--sotw", is_flag=True, help="State-of-the-World ADS instead of Delta.")
@click.option("-o", "--output", "fmt", type=click.Choice(["json", "yaml"]), default="yaml", show_default=True)
def bootstrap(gateway: str, xds: str, locality: str | None, labels: tuple[str, ...], node_name: str,
              admin_port: int, sotw: bool, fmt: str) -> None:
    """Print an Envoy bootstrap for a proxy of GATEWAY fed by meshgate at --xds."""
    from .discovery.model import Locality
    from .envoy.bootstrap import ads_bootstrap, bootstrap_text

    host, _, port = xds.rpartition(":")
    if not host or not port.isdigit():
        raise click.BadParameter("must be HOST:PORT", param_hint="--xds")
    loc = None
    if _locality(locality):
        parts = (locality.split("/") + ["", ""])[:3]  # type: ignore[union-attr]
        loc = Locality(*parts)
    boot = ads_bootstrap(gateway, host, int(port), admin_port=admin_port, locality=loc, labels=_labels(labels),
                         node_name=node_name, delta=not sotw)
    click.echo(bootstrap_text(boot, fmt), nl=False)


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@click.option("-o", "--output", "fmt", type=click.Choice(["json", "yaml"]), default="json", show_default=True)
def hints(paths: tuple[str, ...], fmt: str) -> None:
    """The EndpointSlices as the EndpointSlice controller would write them (topology hints,
    managed-by; generated from Pods for Services with a selector) and its events.

    Exit status 1 when any input was invalid.
    """
    from .hints import hints_document
    from .resources.loader import load_paths
    from .store import Store

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


@main.group()
def explain() -> None:
    """Explain how meshgate arrived at parts of the config."""


@explain.command("endpoints")
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@click.option("--gateway", required=True, callback=lambda c, p, v: _gateway_option(v), help="NS/NAME of the Gateway.")
@click.option("--cluster", "cluster_name", required=True, help="The cluster, e.g. outbound|80||host.")
@click.option("--locality", help="The proxy's locality, REGION/ZONE/SUBZONE.")
@click.option("--label", "labels", multiple=True, help="A proxy label KEY=VALUE (repeatable).")
@click.option("--node-name", help="The proxy's Kubernetes node name.")
@click.option("-o", "--output", "fmt", type=click.Choice(["table", "json", "yaml"]), default="table", show_default=True)
def explain_endpoints_command(paths: tuple[str, ...], gateway: str, cluster_name: str, locality: str | None,
                              labels: tuple[str, ...], node_name: str | None, fmt: str) -> None:
    """For each endpoint of CLUSTER: its priority and weight for this proxy, and the rule that decided it."""
    import dataclasses

    from .explain import ExplainError, explain_endpoints
    from .pipeline import now_rfc3339
    from .resources.loader import load_paths
    from .store import Store

    view, label_map = _proxy(locality, labels, node_name)
    loaded = load_paths(paths)
    store, duplicates = Store.from_load(loaded)
    for e in loaded.errors + duplicates:
        click.echo(f"{e.severity}: {e}", err=True)
    try:
        result = explain_endpoints(store, gateway, cluster_name, view, label_map, now_rfc3339())
    except ExplainError as exc:
        raise click.UsageError(str(exc)) from None
    if fmt != "table":
        click.echo(dump(dataclasses.asdict(result), fmt), nl=False)
        return
    from rich.console import Console
    from rich.table import Table

    plain = Console()
    console = plain if plain.is_terminal else Console(width=160)
    console.print(f"cluster {result.cluster} ({result.service}); DestinationRule: "
                  f"{result.destination_rule or 'none'}; locality load balancing: {result.mode}")
    table = Table()
    for col in ("Endpoint", "Locality", "Labels", "Health", "Priority", "Weight", "Rule"):
        table.add_column(col, overflow="fold")
    for r in result.endpoints:
        table.add_row(f"{r.address}:{r.port}", r.locality or "-", ",".join(f"{k}={v}" for k, v in r.labels.items()),
                      r.health, str(r.priority) if r.sent else "excluded",
                      "" if r.weight is None else str(r.weight), r.rule)
    console.print(table)


@explain.command("waypoints")
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@click.option("-o", "--output", "fmt", type=click.Choice(["table", "json", "yaml"]), default="table", show_default=True)
@_ingress_waypoints_option
def explain_waypoints_command(paths: tuple[str, ...], fmt: str, ingress_use_waypoints: bool | None) -> None:
    """Every Service and ServiceEntry: its waypoint and why (object label, namespace label, opted
    out, not found), and whether ingress gateways send to it through the waypoint."""
    from .discovery.waypoints import captures, ingress_uses_waypoint
    from .resources.loader import load_paths
    from .store import Store

    loaded = load_paths(paths)
    store, duplicates = Store.from_load(loaded)
    for e in loaded.errors + duplicates:
        click.echo(f"{e.severity}: {e}", err=True)
    enabled = _ingress_waypoints(ingress_use_waypoints)
    rows = []
    for c in captures(store):
        use, why = ingress_uses_waypoint(store, c.kind, c.namespace, c.name, enabled) if c.captured else (False, "not captured")
        rows.append({"kind": c.kind, "namespace": c.namespace, "name": c.name,
                     "waypoint": "/".join(c.waypoint) if c.captured and c.waypoint else "", "source": c.source,
                     "reason": c.reason, "ingressUseWaypoint": use, "ingressReason": why})
    if fmt != "table":
        click.echo(dump(rows, fmt), nl=False)
        return
    from rich.console import Console
    from rich.table import Table

    plain = Console()
    console = plain if plain.is_terminal else Console(width=160)
    table = Table(title="Waypoints")
    for col in ("Kind", "Object", "Waypoint", "Decided by", "Why", "Ingress via waypoint"):
        table.add_column(col, overflow="fold")
    for r in rows:
        table.add_row(r["kind"], f"{r['namespace']}/{r['name']}", r["waypoint"] or "-", r["source"], r["reason"],
                      f"{'yes' if r['ingressUseWaypoint'] else 'no'} ({r['ingressReason']})")
    console.print(table)


@main.command()
@click.option("--port", required=True, type=int, help="Port to listen on.")
@click.option("--address", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--pod", default="", help="Pod name to report.")
@click.option("--namespace", default="", help="Namespace to report.")
def echo(port: int, address: str, pod: str, namespace: str) -> None:
    """The Gateway API conformance echo backend (JSON of the request it got)."""
    from .echo import serve_forever

    serve_forever(address, port, pod, namespace)
