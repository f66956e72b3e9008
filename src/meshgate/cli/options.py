"""Options, callbacks and output helpers the `meshgate` commands share."""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import click
import yaml

from ..deploy.settings import REDIS_URL_ENV
from ..xds.limits import XdsLimits

if TYPE_CHECKING:
    from ..resources.loader import InputLimits



def env_bool(name: str, default: bool) -> bool:
    """A boolean environment variable, read as Go's strconv.ParseBool (Istio's switches)."""
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    if value in ("1", "t", "T", "TRUE", "true", "True"):
        return True
    if value in ("0", "f", "F", "FALSE", "false", "False"):
        return False
    raise click.UsageError(f"environment variable {name}={value!r} is not a boolean")


ingress_waypoints_option = click.option(
    "--ingress-use-waypoints/--no-ingress-use-waypoints", default=None,
    help="Ingress gateways send to captured services' VIPs so that traffic passes their waypoint "
         "(default: $INGRESS_USE_WAYPOINTS, else on).")


def limit_options(command: Callable[..., None]) -> Callable[..., None]:
    """--max-file-bytes and --max-documents: how big one input file may be."""
    from ..resources.loader import MAX_DOCUMENTS, MAX_FILE_BYTES

    command = click.option("--max-documents", default=MAX_DOCUMENTS, show_default=True, type=click.IntRange(min=1),
                           help="Refuse an input file holding more YAML documents than this (List items count).")(command)
    return click.option("--max-file-bytes", default=MAX_FILE_BYTES, show_default=True, type=click.IntRange(min=1),
                        help="Refuse an input file larger than this many bytes.")(command)


def input_limits(max_file_bytes: int, max_documents: int) -> InputLimits:
    from ..resources.loader import InputLimits

    return InputLimits(max_file_bytes=max_file_bytes, max_documents=max_documents)


def ingress_waypoints_enabled(value: bool | None) -> bool:
    return env_bool("INGRESS_USE_WAYPOINTS", True) if value is None else value


def check_gateway(value: str | None) -> str | None:
    if value is not None and (value.count("/") != 1 or not all(value.split("/"))):
        raise click.BadParameter("must be NAMESPACE/NAME")
    return value


def parse_labels(values: tuple[str, ...]) -> dict[str, str]:
    out: dict[str, str] = {}
    for v in values:
        key, sep, val = v.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"{v!r} must be KEY=VALUE", param_hint="--label")
        out[key] = val
    return out


def check_locality(value: str | None) -> str | None:
    if value is not None and value.count("/") > 2:
        raise click.BadParameter("must be REGION[/ZONE[/SUBZONE]]", param_hint="--locality")
    return value


def proxy_of(locality: str | None, labels: tuple[str, ...], node_name: str | None):
    """The proxy view the identity flags describe, or (None, None) when none is given."""
    from ..discovery.locality import proxy_view
    from ..discovery.model import Locality

    label_map = parse_labels(labels)
    if locality is None and not label_map and not node_name:
        return None, None
    parts = ((check_locality(locality) or "").split("/") + ["", "", ""])[:3]
    return proxy_view(Locality(*parts), label_map, node_name or ""), label_map


def dump(data: object, fmt: str) -> str:
    """JSON (indented) or YAML text."""
    if fmt == "json":
        return json.dumps(data, indent=2) + "\n"
    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    return yaml.dump(data, Dumper=dumper, sort_keys=False, default_flow_style=False, width=120)


xds_option = click.option("--xds", default="127.0.0.1:18000", show_default=True, help="Where to serve ADS (HOST:PORT).")


def debug_option(command: Callable[..., None]) -> Callable[..., None]:
    """--debug-port and --debug-address: where /healthz, /readyz, /metrics and /debug/* listen."""
    command = click.option("--debug-address", default="127.0.0.1", show_default=True, metavar="ADDRESS",
                           callback=lambda c, p, v: check_address(v),
                           help="Address for the debug port: loopback unless asked (0.0.0.0 in a Pod, for its "
                                "probes and metrics scrapes; /debug/* then answers the pod network too).")(command)
    return click.option("--debug-port", default=18001, show_default=True,
                        help="Port for /healthz, /readyz, /metrics and /debug/* (0 picks one).")(command)


def check_address(value: str) -> str:
    import ipaddress

    try:
        ipaddress.ip_address(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not an IP address") from None
    return value


def check_pool(value: str | None) -> str | None:
    if value is None:
        return None
    from ..runtime.address_pool import AddressPool

    try:
        AddressPool(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None
    return value


address_pool_option = click.option(
    "--address-pool", metavar="CIDR", callback=lambda c, p, v: check_pool(v),
    help="Give each Gateway without spec.addresses (or asking for an IPAddress without a value) its own "
         "address from CIDR (e.g. 127.0.80.0/24), written to its status.addresses.")


def xds_limits_options(command):
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
def xds_tls_options(f):
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


def check_redis_url(value: str | None) -> str | None:
    """A --rate-limit-redis value redis-py can use (empty: none given)."""
    if not value:
        return None
    from ..ratelimit.redis_counters import redacted, redis_url_problem

    problem = redis_url_problem(value)
    if problem:  # the URL without its password: this message may end up in a log
        raise click.BadParameter(f"{redacted(value)!r} is not a Redis URL such as redis://127.0.0.1:6379/0: {problem}")
    return value


# The environment variable is the one the manifests set from a Secret (--rate-limit-redis-secret).
rate_limit_redis_option = click.option(
    "--rate-limit-redis", metavar="URL", envvar=REDIS_URL_ENV, show_envvar=True,
    callback=lambda c, p, v: check_redis_url(v),
    help="Keep the global rate limit counters in Redis at URL (redis://[:PASSWORD@]HOST:PORT/DB, rediss://..., "
         "unix:///PATH), shared by every replica using it; default: in memory, per replica. "
         f"${REDIS_URL_ENV} keeps a password out of the command line.")


sotw_option = click.option("--sotw", is_flag=True, help="Managed Envoys use State-of-the-World ADS instead of Delta.")
log_level_option = click.option("--log-level", type=click.Choice(["debug", "info", "warning", "error"]),
                                 default="info", show_default=True, help="meshgate's log (on stderr) from this level up.")
log_format_option = click.option("--log-format", type=click.Choice(["text", "json"]), default="text",
                                  show_default=True, help="json: one JSON object per log line.")


def check_manifest_option(problem: Callable[[str], str | None]) -> Callable[[Any, Any, str | None], str | None]:
    """A click callback refusing a value `problem` finds fault with."""
    def check(ctx: Any, param: Any, value: str | None) -> str | None:
        reason = problem(value) if value is not None else None
        if reason:
            raise click.BadParameter(f"{value!r} {reason}")
        return value
    return check
