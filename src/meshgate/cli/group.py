"""The `meshgate` command group; the commands register themselves on it (cli/__init__.py imports them)."""

from __future__ import annotations

import click

from .. import __version__


@click.group()
@click.version_option(__version__, prog_name="meshgate")
def main() -> None:
    """meshgate: Gateway API, Kubernetes Services and Istio ServiceEntries to Envoy config."""
