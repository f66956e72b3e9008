"""The `meshgate` command line."""

from __future__ import annotations

import dataclasses
import functools
import json
import os
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal, TypedDict

import click
import yaml

from . import __version__
from .deploy.settings import DEFAULT_NAMESPACE, DEFAULT_REPLICAS, image_problem, namespace_problem
from .pipeline import Translation, translate_paths
from .resources.kinds import KIND_NAMES
from .xds.limits import XdsLimits
from .xds.output import snapshot_dict

if TYPE_CHECKING:
    from .resources.loader import InputLimits
    from .runtime.run import RunOptions


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


def _limits(max_file_bytes: int, max_documents: int) -> InputLimits:
    from .resources.loader import InputLimits

    return InputLimits(max_file_bytes=max_file_bytes, max_documents=max_documents)


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
@click.option("--kind", "kinds", multiple=True, type=click.Choice(sorted(KIND_NAMES), case_sensitive=False),
              help="Only objects (and input problems) of this kind (repeatable).")
@click.option("-n", "--namespace", help="Only objects (and input problems, and live, proxies) of this namespace.")
@click.option("--problems", is_flag=True,
              help="Only conditions in their unhealthy state, input problems, and live, NACKs.")
@_limit_options
def status(paths: tuple[str, ...], server: str | None, fmt: str, kinds: tuple[str, ...], namespace: str | None,
           problems: bool, max_file_bytes: int, max_documents: int) -> None:
    """Show every object's status conditions, and input errors (tables, or JSON/YAML).

    Exit status: 0 when all is well (warnings allowed), 1 when some input was invalid (live: or
    a proxy's last answer was a NACK), 3 when all was accepted but some object of ours has a
    condition in its unhealthy state (Accepted/ResolvedRefs/Programmed False, Conflicted True...),
    2 for a usage error. Filters apply to the exit status and the summary line too.
    """
    from .status_report import (
        StatusFilter,
        exit_status,
        problems_view,
        select_errors,
        select_proxies,
        select_status,
        summary,
    )
    from .status_table import print_proxies, print_status

    if server is None and not paths:
        raise click.UsageError("give PATHS, or --server HOST:PORT of a running meshgate")
    proxies: list[dict] | None = None
    if server is not None:
        from .runtime.client import fetch_status

        try:
            tr, proxies = fetch_status(server)
        except OSError as exc:
            raise click.ClickException(f"cannot reach meshgate at {server}: {exc}") from None
    else:
        tr = translate_paths(paths, limits=_limits(max_file_bytes, max_documents))
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


def _run_options(paths: tuple[str, ...], xds: str, debug_port: int, sotw: bool, **extra: Any) -> RunOptions:
    # `extra` is passed through as RunOptions fields: RunOptions checks their names itself.
    from .runtime.run import RunOptions

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

    from .xds.tls import load_server_tls

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

    from .runtime.logs import setup_logging
    from .runtime.run import StartError, run_until_signal

    setup_logging(log_level, log_format)

    def say(line: str) -> None:
        click.echo(line)
        sys.stdout.flush()  # a pipe would hold the URLs back until the buffer fills

    try:
        asyncio.run(run_until_signal(options, say=say))
    except StartError as exc:  # a port of ours is taken: one line, exit 1
        raise click.ClickException(str(exc)) from None


_xds_option = click.option("--xds", default="127.0.0.1:18000", show_default=True, help="Where to serve ADS (HOST:PORT).")


def _debug_option(command: Callable[..., None]) -> Callable[..., None]:
    """--debug-port and --debug-address: where /healthz, /readyz, /metrics and /debug/* listen."""
    command = click.option("--debug-address", default="127.0.0.1", show_default=True, metavar="ADDRESS",
                           callback=lambda c, p, v: _check_address(v),
                           help="Address for the debug port: loopback unless asked (0.0.0.0 in a Pod, for its "
                                "probes and metrics scrapes; /debug/* then answers the pod network too).")(command)
    return click.option("--debug-port", default=18001, show_default=True,
                        help="Port for /healthz, /readyz, /metrics and /debug/* (0 picks one).")(command)


def _check_address(value: str) -> str:
    import ipaddress

    try:
        ipaddress.ip_address(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not an IP address") from None
    return value


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
    help="Give each Gateway without spec.addresses (or asking for an IPAddress without a value) its own "
         "address from CIDR (e.g. 127.0.80.0/24), written to its status.addresses.")


def _xds_limits_options(command):
    """--max-node-metadata-bytes, --max-resource-names and --max-views, passed on as one
    `xds_limits` (an XdsLimits)."""
    default = XdsLimits()

    @click.option("--max-node-metadata-bytes", type=click.IntRange(min=1), show_default=True,
                  default=default.max_node_metadata_bytes,
                  help="Largest node metadata (serialized bytes) a proxy may announce; larger: RESOURCE_EXHAUSTED.")
    @click.option("--max-resource-names", type=click.IntRange(min=1), show_default=True,
                  default=default.max_resource_names,
                  help="Most resource names one xDS stream may subscribe to; more: RESOURCE_EXHAUSTED.")
    @click.option("--max-views", type=click.IntRange(min=1), show_default=True, default=default.max_views,
                  help="Most per-client views (one per distinct locality/label context); a new proxy needing "
                       "one more is refused with RESOURCE_EXHAUSTED.")
    @functools.wraps(command)
    def wrapper(*args: object, max_node_metadata_bytes: int, max_resource_names: int, max_views: int,
                **kwargs: object) -> object:
        return command(*args, xds_limits=XdsLimits(max_node_metadata_bytes, max_resource_names, max_views), **kwargs)
    return wrapper
def _xds_tls_options(f):
    """--xds-cert, --xds-key, --xds-client-ca and --insecure-xds (serve and run)."""
    f = click.option("--insecure-xds", is_flag=True,
                     help="Allow plaintext xDS on a non-loopback address: any client reaching it can claim any "
                          "Gateway and receive its private keys.")(f)
    f = click.option("--xds-client-ca", type=click.Path(dir_okay=False),
                     help="PEM CA(s) whose client certificates proxies must present; a proxy may only serve the "
                          "Gateway named by its certificate's URI SAN spiffe://<trust-domain>/ns/<ns>/gateway/<name>.")(f)
    f = click.option("--xds-key", type=click.Path(dir_okay=False), help="PEM private key of --xds-cert.")(f)
    return click.option("--xds-cert", type=click.Path(dir_okay=False),
                        help="PEM certificate (chain) the xDS server presents: serve xDS over mutual TLS.")(f)


_sotw_option = click.option("--sotw", is_flag=True, help="Managed Envoys use State-of-the-World ADS instead of Delta.")
_log_level_option = click.option("--log-level", type=click.Choice(["debug", "info", "warning", "error"]),
                                 default="info", show_default=True, help="meshgate's log (on stderr) from this level up.")
_log_format_option = click.option("--log-format", type=click.Choice(["text", "json"]), default="text",
                                  show_default=True, help="json: one JSON object per log line.")


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True))
@_xds_option
@_debug_option
@_sotw_option
@click.option("--echo", "echo_backends", is_flag=True,
              help="Also start echo backends on every loopback address:port of the EndpointSlices.")
@click.option("--workdir", type=click.Path(file_okay=False),
              help="Where Envoy bootstraps and logs go, made 0700 (default: a new temporary directory).")
@click.option("--cleanup", is_flag=True, help="Remove the temporary workdir on exit (a --workdir is always kept).")
@click.option("--envoy-log-level", default="warning", show_default=True)
@click.option("--envoy-grace-period", type=click.FloatRange(min=0), default=5.0, show_default=True, metavar="SECONDS",
              help="How long a vanished Gateway keeps its Envoy: one back within it keeps the same process.")
@_address_pool_option
@_ingress_waypoints_option
@_log_level_option
@_log_format_option
@_xds_limits_options
@_xds_tls_options
@_limit_options
def run(paths: tuple[str, ...], xds: str, debug_port: int, debug_address: str, sotw: bool, echo_backends: bool,
        workdir: str | None, cleanup: bool, envoy_log_level: str, envoy_grace_period: float, address_pool: str | None,
        ingress_use_waypoints: bool | None, log_level: str, log_format: str, xds_limits: XdsLimits,
        xds_cert: str | None, xds_key: str | None, xds_client_ca: str | None, insecure_xds: bool,
        max_file_bytes: int, max_documents: int) -> None:
    """Serve PATHS over xDS, watch them, and run one Envoy per Gateway (Ctrl-C stops all).

    The managed Envoys talk to meshgate over mutual TLS, with a CA kept in WORKDIR/pki
    (plaintext with --insecure-xds).
    """
    from pathlib import Path

    from .runtime.workdir import WorkdirInUse

    try:
        _serve_forever(_run_options(paths, xds, debug_port, sotw, envoys=True, echo=echo_backends,
                                    debug_address=debug_address,
                                    workdir=Path(workdir) if workdir else None, cleanup=cleanup,
                                    envoy_log_level=envoy_log_level, envoy_grace_period=envoy_grace_period,
                                    address_pool=address_pool,
                                    ingress_use_waypoints=_ingress_waypoints(ingress_use_waypoints),
                                    xds_limits=xds_limits, limits=_limits(max_file_bytes, max_documents),
                                    **_xds_tls(xds_cert, xds_key, xds_client_ca, insecure_xds, managed=True)),
                       log_level, log_format)
    except WorkdirInUse as exc:
        raise click.ClickException(str(exc)) from None


def _kubernetes_source(paths: tuple[str, ...], kubernetes: bool, kubeconfig: str | None, context: str | None,
                       namespaces: tuple[str, ...], lease_namespace: str | None, lease_duration: int,
                       proxy_xds: str | None, kind_recheck: float = 10.0) -> dict:
    """The RunOptions fields that say where objects come from: PATHS, or the API server (and
    the leader's Lease)."""
    from .cluster.leader import LeaseTiming
    from .providers.kubernetes.connection import Connection
    from .resources.formats import dns1123_label

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
        from .runtime.in_cluster import proxy_defaults

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
@_xds_option
@_debug_option
@_address_pool_option
@_ingress_waypoints_option
@_log_level_option
@_log_format_option
@_xds_limits_options
@_xds_tls_options
@_limit_options
def serve(paths: tuple[str, ...], kubernetes: bool, kubeconfig: str | None, context: str | None,
          watch_namespaces: tuple[str, ...], lease_namespace: str | None, lease_duration: int,
          proxy_xds: str | None, kind_recheck: float, xds: str,
          debug_port: int, debug_address: str, address_pool: str | None, ingress_use_waypoints: bool | None,
          log_level: str, log_format: str, xds_limits: XdsLimits,
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
                                ingress_use_waypoints=_ingress_waypoints(ingress_use_waypoints), xds_limits=xds_limits,
                                limits=_limits(max_file_bytes, max_documents), **source,
                                **_xds_tls(xds_cert, xds_key, xds_client_ca, insecure_xds, managed=False)),
                   log_level, log_format)


@main.command()
@click.option("--gateway", required=True, callback=lambda c, p, v: _gateway_option(v), help="NS/NAME of the Gateway.")
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

    from .discovery.model import Locality
    from .envoy.bootstrap import XdsClientTLS, ads_bootstrap, bootstrap_text

    host, _, port = xds.rpartition(":")
    if not host or not port.isdigit():
        raise click.BadParameter("must be HOST:PORT", param_hint="--xds")
    loc = None
    checked = _locality(locality)
    if checked:
        parts = (checked.split("/") + ["", ""])[:3]
        loc = Locality(*parts)
    given = [v is not None for v in (xds_ca, xds_client_cert, xds_client_key)]
    if any(given) and not all(given):
        raise click.UsageError("give --xds-ca, --xds-client-cert and --xds-client-key together")
    tls = XdsClientTLS(Path(xds_ca), Path(xds_client_cert), Path(xds_client_key),  # type: ignore[arg-type]
                       server_name=xds_server_name) if all(given) else None
    boot = ads_bootstrap(gateway, host, int(port), admin_port=admin_port, locality=loc, labels=_labels(labels),
                         node_name=node_name, delta=not sotw, tls=tls)
    click.echo(bootstrap_text(boot, fmt), nl=False)


def _check_manifest_option(problem: Callable[[str], str | None]) -> Callable[[Any, Any, str | None], str | None]:
    """A click callback refusing a value `problem` finds fault with."""
    def check(ctx: Any, param: Any, value: str | None) -> str | None:
        reason = problem(value) if value is not None else None
        if reason:
            raise click.BadParameter(f"{value!r} {reason}")
        return value
    return check


@main.command()
@click.option("-n", "--namespace", default=DEFAULT_NAMESPACE, show_default=True, metavar="NS",
              callback=_check_manifest_option(namespace_problem), help="The namespace meshgate runs in.")
@click.option("--replicas", type=click.IntRange(min=1), default=DEFAULT_REPLICAS, show_default=True,
              help="meshgate replicas (each serves xDS; the Lease holder also writes status and provisions).")
@click.option("--image", metavar="IMG", callback=_check_manifest_option(image_problem),
              help="meshgate's image (default: ghcr.io/meshgate/meshgate:<this version>).")
@click.option("-o", "--output", "fmt", type=click.Choice(["yaml", "json"]), default="yaml", show_default=True,
              help="yaml: a multi-document stream; json: one v1 List.")
def manifests(namespace: str, replicas: int, image: str | None, fmt: str) -> None:
    """The Kubernetes objects that run meshgate in a cluster: Namespace, ServiceAccount, RBAC,
    Service, Deployment, PodDisruptionBudget and meshgate's GatewayClasses (`kubectl apply -f -`)."""
    from .deploy.render import manifests as render
    from .deploy.render import to_json, to_yaml
    from .deploy.settings import ManifestOptions

    options = ManifestOptions(namespace, replicas, image or "")
    objects = render(options)
    click.echo(to_json(objects) if fmt == "json" else to_yaml(objects, options), nl=False)


@main.group()
def certs() -> None:
    """Certificates for xDS over mutual TLS: a CA, and certificates issued from it."""


@certs.command("ca")
@click.option("--out", required=True, type=click.Path(file_okay=False), help="Directory for ca.crt and ca.key.")
@click.option("--days", default=3650, show_default=True, help="Validity.")
def certs_ca(out: str, days: int) -> None:
    """Create a CA (ECDSA P-256) in OUT: ca.crt and ca.key (0600, directory 0700)."""
    from pathlib import Path

    from .runtime.pki import new_authority, private_dir, write_private

    directory = private_dir(Path(out))
    if (directory / "ca.key").exists():
        raise click.ClickException(f"{directory / 'ca.key'} exists: not overwriting a CA")
    ca = new_authority(days=days)
    write_private(directory / "ca.key", ca.key_pem)
    click.echo(write_private(directory / "ca.crt", ca.certificate_pem))


@certs.command("issue")
@click.option("--ca-cert", required=True, type=click.Path(exists=True, dir_okay=False), help="The CA certificate.")
@click.option("--ca-key", required=True, type=click.Path(exists=True, dir_okay=False), help="The CA's private key.")
@click.option("--gateway", callback=lambda c, p, v: _gateway_option(v),
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

    from .runtime.pki import issue_gateway, issue_server, load_authority, write_issued

    if (gateway is None) == (not servers):
        raise click.UsageError("give either --gateway NS/NAME or --server NAME")
    try:
        ca = load_authority(Path(ca_cert).read_bytes(), Path(ca_key).read_bytes())
    except (ValueError, TypeError) as exc:
        raise click.ClickException(f"{ca_cert}, {ca_key}: not a usable CA: {exc}") from None
    issued = issue_gateway(ca, gateway, trust_domain, days) if gateway else issue_server(ca, servers, days)
    for path in write_issued(Path(out), "tls", issued):
        click.echo(path)


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


def _explain_store(paths: tuple[str, ...]) -> Any:
    """The store of PATHS for an explain command, its input problems said on stderr."""
    from .resources.loader import load_paths
    from .store import Store

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

    view, label_map = _proxy(locality, labels, node_name)
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
@click.option("--gateway", required=True, callback=lambda c, p, v: _gateway_option(v), help="NS/NAME of the Gateway.")
@click.option("--cluster", "cluster_name", required=True, help="The cluster, e.g. outbound|80||host.")
@click.option("--label", "labels", multiple=True, help="A proxy label KEY=VALUE (repeatable).")
@click.option("-o", "--output", "fmt", type=click.Choice(["table", "json", "yaml"]), default="table", show_default=True)
def explain_cluster_command(paths: tuple[str, ...], gateway: str, cluster_name: str, labels: tuple[str, ...],
                            fmt: str) -> None:
    """What made CLUSTER (the objects its xDS metadata names) and every route rule of the Gateway
    that sends to it: the reverse lookup that cluster metadata does not carry."""
    import dataclasses

    from .explain import ExplainError, explain_cluster
    from .pipeline import now_rfc3339

    label_map = _labels(labels) or None  # they choose DestinationRules by workloadSelector
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
@_ingress_waypoints_option
def explain_waypoints_command(paths: tuple[str, ...], fmt: str, ingress_use_waypoints: bool | None) -> None:
    """Every Service and ServiceEntry: its waypoint and why (object label, namespace label, opted
    out, not found), and whether ingress gateways send to it through the waypoint."""
    from .discovery.waypoints import captures, ingress_uses_waypoint

    store = _explain_store(paths)
    enabled = _ingress_waypoints(ingress_use_waypoints)
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
    from .echo import serve_forever
    from .echo.modes import EchoOptions

    options = EchoOptions(mode=mode, h2c_port=h2c_port, grpc_port=grpc_port, tls_port=tls_port, tls_cert=tls_cert,
                          tls_key=tls_key, tls_client_ca=tls_client_ca, service=service, ingress=ingress)
    problem = options.problem()
    if problem:
        raise click.UsageError(problem)
    serve_forever(address, port, pod, namespace, options)
