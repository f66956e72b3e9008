"""The `meshgate` command line."""

from __future__ import annotations

import json
import sys

import click
import yaml

from . import __version__
from .pipeline import Translation, translate_paths
from .xds.output import snapshot_dict


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
def translate(paths: tuple[str, ...], gateway: str | None, locality: str | None, labels: tuple[str, ...],
              node_name: str | None, fmt: str) -> None:
    """Print what Envoy would receive for the resources in PATHS (offline).

    Exit status 1 when any input was invalid; valid input is translated either way.
    """
    _locality(locality)
    _labels(labels)
    tr = translate_paths(paths)
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
@click.argument("paths", nargs=-1, required=True, type=click.Path())
def status(paths: tuple[str, ...]) -> None:
    """Show every object's status conditions, and input errors, as tables."""
    from .status_table import print_status

    tr = translate_paths(paths)
    print_status(tr)
    sys.exit(1 if tr.failed else 0)
