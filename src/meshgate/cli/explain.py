"""`meshgate explain`: how meshgate arrived at endpoints, clusters and waypoint captures."""

from __future__ import annotations

import dataclasses
from typing import Any, TypedDict

import click

from .group import main
from .options import check_gateway, dump, ingress_waypoints_enabled, ingress_waypoints_option, parse_labels, proxy_of


@main.group()
def explain() -> None:
    """Explain how meshgate arrived at parts of the config."""


def _explain_store(paths: tuple[str, ...]) -> Any:
    """The store of PATHS for an explain command, its input problems said on stderr."""
    from ..resources.loader import load_paths
    from ..store import Store

    loaded = load_paths(paths)
    store, duplicates = Store.from_load(loaded)
    for e in loaded.errors + duplicates:
        click.echo(f"{e.severity}: {e}", err=True)
    return store


def _wide_console() -> Any:
    """A rich console: the terminal's, or 160 columns when output is not a terminal."""
    from rich.console import Console

    plain = Console()
    return plain if plain.is_terminal else Console(width=160)


@explain.command("endpoints")
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@click.option("--gateway", required=True, callback=lambda c, p, v: check_gateway(v), help="NS/NAME of the Gateway.")
@click.option("--cluster", "cluster_name", required=True, help="The cluster, e.g. outbound|80||host.")
@click.option("--locality", help="The proxy's locality, REGION/ZONE/SUBZONE.")
@click.option("--label", "labels", multiple=True, help="A proxy label KEY=VALUE (repeatable).")
@click.option("--node-name", help="The proxy's Kubernetes node name.")
@click.option("-o", "--output", "fmt", type=click.Choice(["table", "json", "yaml"]), default="table", show_default=True)
def explain_endpoints_command(paths: tuple[str, ...], gateway: str, cluster_name: str, locality: str | None,
                              labels: tuple[str, ...], node_name: str | None, fmt: str) -> None:
    """For each endpoint of CLUSTER: its priority and weight for this proxy, and the rule that decided it."""

    from ..explain import ExplainError, explain_endpoints
    from ..pipeline import now_rfc3339

    view, label_map = proxy_of(locality, labels, node_name)
    store = _explain_store(paths)
    try:
        result = explain_endpoints(store, gateway, cluster_name, view, label_map, now_rfc3339())
    except ExplainError as exc:
        raise click.UsageError(str(exc)) from None
    if fmt != "table":
        click.echo(dump(dataclasses.asdict(result), fmt), nl=False)
        return
    from rich.table import Table

    console = _wide_console()
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


@explain.command("cluster")
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@click.option("--gateway", required=True, callback=lambda c, p, v: check_gateway(v), help="NS/NAME of the Gateway.")
@click.option("--cluster", "cluster_name", required=True, help="The cluster, e.g. outbound|80||host.")
@click.option("--label", "labels", multiple=True, help="A proxy label KEY=VALUE (repeatable).")
@click.option("-o", "--output", "fmt", type=click.Choice(["table", "json", "yaml"]), default="table", show_default=True)
def explain_cluster_command(paths: tuple[str, ...], gateway: str, cluster_name: str, labels: tuple[str, ...],
                            fmt: str) -> None:
    """What made CLUSTER (the objects its xDS metadata names) and every route rule of the Gateway
    that sends to it: the reverse lookup that cluster metadata does not carry."""

    from ..explain import ExplainError, explain_cluster
    from ..pipeline import now_rfc3339

    label_map = parse_labels(labels) or None  # they choose DestinationRules by workloadSelector
    store = _explain_store(paths)
    try:
        result = explain_cluster(store, gateway, cluster_name, label_map, now_rfc3339())
    except ExplainError as exc:
        raise click.UsageError(str(exc)) from None
    if fmt != "table":
        click.echo(dump(dataclasses.asdict(result), fmt), nl=False)
        return
    from rich.table import Table

    console = _wide_console()
    console.print(f"cluster {result.cluster} of {result.gateway}; made from: {', '.join(result.sources) or 'nothing'}; "
                  f"used by {len(result.users)} route rule(s)")
    table = Table()
    for col in ("Envoy route", "Kind", "Object", "Rule"):
        table.add_column(col, overflow="fold")
    for u in result.users:
        table.add_row(u.envoy_name, u.kind, f"{u.namespace}/{u.name}", u.section_name or "-")
    console.print(table)


class _WaypointRow(TypedDict):
    """One row of `explain waypoints` (JSON/YAML keys as written)."""

    kind: str
    namespace: str
    name: str
    waypoint: str
    source: str
    reason: str
    ingressUseWaypoint: bool
    ingressReason: str


@explain.command("waypoints")
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@click.option("-o", "--output", "fmt", type=click.Choice(["table", "json", "yaml"]), default="table", show_default=True)
@ingress_waypoints_option
def explain_waypoints_command(paths: tuple[str, ...], fmt: str, ingress_use_waypoints: bool | None) -> None:
    """Every Service and ServiceEntry: its waypoint and why (object label, namespace label, opted
    out, not found), and whether ingress gateways send to it through the waypoint."""
    from ..discovery.waypoints import captures, ingress_uses_waypoint

    store = _explain_store(paths)
    enabled = ingress_waypoints_enabled(ingress_use_waypoints)
    rows: list[_WaypointRow] = []
    for c in captures(store):
        use, why = ingress_uses_waypoint(store, c.kind, c.namespace, c.name, enabled) if c.captured else (False, "not captured")
        rows.append({"kind": c.kind, "namespace": c.namespace, "name": c.name,
                     "waypoint": "/".join(c.waypoint) if c.captured and c.waypoint else "", "source": c.source,
                     "reason": c.reason, "ingressUseWaypoint": use, "ingressReason": why})
    if fmt != "table":
        click.echo(dump(rows, fmt), nl=False)
        return
    from rich.table import Table

    console = _wide_console()
    table = Table(title="Waypoints")
    for col in ("Kind", "Object", "Waypoint", "Decided by", "Why", "Ingress via waypoint"):
        table.add_column(col, overflow="fold")
    for r in rows:
        table.add_row(r["kind"], f"{r['namespace']}/{r['name']}", r["waypoint"] or "-", r["source"], r["reason"],
                      f"{'yes' if r['ingressUseWaypoint'] else 'no'} ({r['ingressReason']})")
    console.print(table)
