"""The commands that serve xDS until stopped: `run` (with managed Envoys) and `serve`."""

from __future__ import annotations

import dataclasses
import sys
from typing import TYPE_CHECKING, Any

import click

from ..xds.limits import XdsLimits

if TYPE_CHECKING:
    from ..runtime.run import RunOptions

from .group import main
from .options import (
    address_pool_option,
    debug_option,
    ingress_waypoints_enabled,
    ingress_waypoints_option,
    input_limits,
    limit_options,
    log_format_option,
    log_level_option,
    rate_limit_redis_option,
    sotw_option,
    xds_limits_options,
    xds_option,
    xds_tls_options,
)


def _run_options(paths: tuple[str, ...], xds: str, debug_port: int, sotw: bool, **extra: Any) -> RunOptions:
    # `extra` is passed through as RunOptions fields: RunOptions checks their names itself.
    from ..runtime.run import RunOptions

    host, _, port = xds.rpartition(":")
    if not host or not port.isdigit():
        raise click.BadParameter("must be HOST:PORT", param_hint="--xds")
    options = RunOptions(list(paths), xds_address=host, xds_port=int(port), debug_port=debug_port,
                         delta=not sotw, **extra)
    refusal = options.plaintext_refusal()
    if refusal:
        raise click.ClickException(refusal)  # before anything binds
    return options


def _xds_tls(cert: str | None, key: str | None, client_ca: str | None, insecure: bool, managed: bool) -> dict:
    """The RunOptions fields of the xDS TLS flags (loaded and checked: a bad file is one line, exit 1)."""
    from pathlib import Path

    from ..xds.tls import load_server_tls

    given = [v is not None for v in (cert, key, client_ca)]
    if any(given) and not all(given):
        raise click.UsageError("give --xds-cert, --xds-key and --xds-client-ca together")
    if insecure and all(given):
        raise click.UsageError("--insecure-xds and --xds-cert/--xds-key/--xds-client-ca exclude each other")
    tls = None
    if all(given):
        try:
            tls = load_server_tls(Path(cert), Path(key), Path(client_ca))  # type: ignore[arg-type]
        except ValueError as exc:
            raise click.ClickException(str(exc)) from None
    return {"xds_tls": tls, "managed_tls": managed and not insecure, "insecure_xds": insecure}


def _serve_forever(options: RunOptions, log_level: str = "info", log_format: str = "text") -> None:
    import asyncio

    from ..runtime.logs import setup_logging
    from ..runtime.run import StartError, run_until_signal

    setup_logging(log_level, log_format)

    def say(line: str) -> None:
        click.echo(line)
        sys.stdout.flush()  # a pipe would hold the URLs back until the buffer fills

    try:
        asyncio.run(run_until_signal(options, say=say))
    except StartError as exc:  # a port of ours is taken: one line, exit 1
        raise click.ClickException(str(exc)) from None


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True))
@xds_option
@debug_option
@sotw_option
@click.option("--echo", "echo_backends", is_flag=True,
              help="Also start echo backends on every loopback address:port of the EndpointSlices.")
@click.option("--workdir", type=click.Path(file_okay=False),
              help="Where Envoy bootstraps and logs go, made 0700 (default: a new temporary directory).")
@click.option("--cleanup", is_flag=True, help="Remove the temporary workdir on exit (a --workdir is always kept).")
@click.option("--envoy-log-level", default="warning", show_default=True)
@click.option("--envoy-grace-period", type=click.FloatRange(min=0), default=5.0, show_default=True, metavar="SECONDS",
              help="How long a vanished Gateway keeps its Envoy: one back within it keeps the same process.")
@address_pool_option
@ingress_waypoints_option
@rate_limit_redis_option
@log_level_option
@log_format_option
@xds_limits_options
@xds_tls_options
@limit_options
def run(paths: tuple[str, ...], xds: str, debug_port: int, debug_address: str, sotw: bool, echo_backends: bool,
        workdir: str | None, cleanup: bool, envoy_log_level: str, envoy_grace_period: float, address_pool: str | None,
        ingress_use_waypoints: bool | None, rate_limit_redis: str | None, log_level: str, log_format: str,
        xds_limits: XdsLimits, xds_cert: str | None, xds_key: str | None, xds_client_ca: str | None,
        insecure_xds: bool, max_file_bytes: int, max_documents: int) -> None:
    """Serve PATHS over xDS, watch them, and run one Envoy per Gateway (Ctrl-C stops all).

    The managed Envoys talk to meshgate over mutual TLS, with a CA kept in WORKDIR/pki
    (plaintext with --insecure-xds).
    """
    from pathlib import Path

    from ..runtime.workdir import WorkdirInUse

    try:
        _serve_forever(_run_options(paths, xds, debug_port, sotw, envoys=True, echo=echo_backends,
                                    debug_address=debug_address,
                                    workdir=Path(workdir) if workdir else None, cleanup=cleanup,
                                    envoy_log_level=envoy_log_level, envoy_grace_period=envoy_grace_period,
                                    address_pool=address_pool,
                                    ingress_use_waypoints=ingress_waypoints_enabled(ingress_use_waypoints),
                                    rate_limit_redis=rate_limit_redis,
                                    xds_limits=xds_limits, limits=input_limits(max_file_bytes, max_documents),
                                    **_xds_tls(xds_cert, xds_key, xds_client_ca, insecure_xds, managed=True)),
                       log_level, log_format)
    except WorkdirInUse as exc:
        raise click.ClickException(str(exc)) from None


def _kubernetes_source(paths: tuple[str, ...], kubernetes: bool, kubeconfig: str | None, context: str | None,
                       namespaces: tuple[str, ...], lease_namespace: str | None, lease_duration: int,
                       proxy_xds: str | None, kind_recheck: float = 10.0) -> dict:
    """The RunOptions fields that say where objects come from: PATHS, or the API server (and
    the leader's Lease)."""
    from ..cluster.leader import LeaseTiming
    from ..providers.kubernetes.connection import Connection
    from ..resources.formats import dns1123_label

    if kubernetes and paths:
        raise click.UsageError("give PATHS or --kubernetes, not both")
    if not kubernetes:
        if not paths:
            raise click.UsageError("give PATHS to serve, or --kubernetes to read the API server")
        extra = [name for name, v in (("--kubeconfig", kubeconfig), ("--context", context),
                                      ("--watch-namespace", namespaces), ("--lease-namespace", lease_namespace),
                                      ("--lease-duration", lease_duration != 15), ("--proxy-xds", proxy_xds),
                                      ("--kind-recheck", kind_recheck != 10.0)) if v]
        if extra:
            raise click.UsageError(f"{', '.join(extra)} only go with --kubernetes")
        return {}
    for hint, ns in [("--watch-namespace", n) for n in namespaces] + [("--lease-namespace", lease_namespace or "")]:
        reason = dns1123_label(ns) if ns else None
        if reason:
            raise click.BadParameter(f"{ns!r}: {reason}", param_hint=hint)
    # client-go's proportions (15/10/2 s), in whole seconds as the Lease holds them.
    timing = LeaseTiming(lease_duration, max(2, lease_duration * 2 // 3), max(1, lease_duration * 2 // 15))
    cluster: dict = {"lease_timing": timing}
    if lease_namespace:
        cluster["lease_namespace"] = lease_namespace
    if proxy_xds is not None:
        from ..runtime.in_cluster import proxy_defaults

        host, _, port = proxy_xds.rpartition(":")
        if not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise click.BadParameter(f"{proxy_xds!r} is not HOST:PORT", param_hint="--proxy-xds")
        cluster["proxy_defaults"] = dataclasses.replace(proxy_defaults(), xds_host=host.strip("[]"), xds_port=int(port))
    return {"kubernetes": Connection(kubeconfig, context), "watch_namespaces": sorted(set(namespaces)),
            "cluster": cluster, "kind_recheck": kind_recheck}


@main.command()
@click.argument("paths", nargs=-1, type=click.Path(exists=True))
@click.option("--kubernetes", is_flag=True,
              help="Read objects from the Kubernetes API (list, then watch) instead of PATHS.")
@click.option("--kubeconfig", type=click.Path(exists=True, dir_okay=False),
              help="With --kubernetes: the kubeconfig to use (default: the in-cluster service account).")
@click.option("--context", help="With --kubeconfig: the context to use (default: its current one).")
@click.option("--watch-namespace", "watch_namespaces", multiple=True, metavar="NS",
              help="With --kubernetes: watch only this namespace (repeatable; default: all).")
@click.option("--lease-namespace", metavar="NS",
              help="With --kubernetes: the namespace of the leader's Lease (default: $POD_NAMESPACE, else "
                   "meshgate-system).")
@click.option("--lease-duration", type=click.IntRange(min=3), default=15, show_default=True, metavar="SECONDS",
              help="With --kubernetes: how long a leader that stops renewing keeps the Lease.")
@click.option("--proxy-xds", metavar="HOST:PORT",
              help="With --kubernetes: where provisioned proxies reach meshgate (default: "
                   "meshgate.$POD_NAMESPACE.svc:18000, the Service `meshgate manifests` renders).")
@click.option("--kind-recheck", type=click.FloatRange(min=0.1), default=10.0, show_default=True, metavar="SECONDS",
              help="With --kubernetes: how often a kind whose CRD is not installed, or that RBAC forbids, is "
                   "looked for again (it is served from then on).")
@xds_option
@debug_option
@address_pool_option
@ingress_waypoints_option
@rate_limit_redis_option
@log_level_option
@log_format_option
@xds_limits_options
@xds_tls_options
@limit_options
def serve(paths: tuple[str, ...], kubernetes: bool, kubeconfig: str | None, context: str | None,
          watch_namespaces: tuple[str, ...], lease_namespace: str | None, lease_duration: int,
          proxy_xds: str | None, kind_recheck: float, xds: str,
          debug_port: int, debug_address: str, address_pool: str | None, ingress_use_waypoints: bool | None,
          rate_limit_redis: str | None, log_level: str, log_format: str, xds_limits: XdsLimits,
          xds_cert: str | None, xds_key: str | None, xds_client_ca: str | None, insecure_xds: bool,
          max_file_bytes: int, max_documents: int) -> None:
    """Serve PATHS (or, with --kubernetes, the API server's objects) over xDS and watch them;
    Envoys run elsewhere (see `meshgate bootstrap`).

    Plaintext xDS is only served on loopback, unless --insecure-xds: give --xds-cert, --xds-key
    and --xds-client-ca to serve other hosts.
    """
    source = _kubernetes_source(paths, kubernetes, kubeconfig, context, watch_namespaces, lease_namespace,
                                lease_duration, proxy_xds, kind_recheck)
    _serve_forever(_run_options(paths, xds, debug_port, False, envoys=False, debug_address=debug_address,
                                address_pool=address_pool,
                                ingress_use_waypoints=ingress_waypoints_enabled(ingress_use_waypoints), xds_limits=xds_limits,
                                rate_limit_redis=rate_limit_redis,
                                limits=input_limits(max_file_bytes, max_documents), **source,
                                **_xds_tls(xds_cert, xds_key, xds_client_ca, insecure_xds, managed=False)),
                   log_level, log_format)
