"""Route configurations split per hostname with Envoy's scoped routes (SRDS).

With one RouteConfiguration per listener, every route change resends all of that listener's
routes, and Envoy rebuilds its whole route table before it answers (about 185 ms at 5,000
routes, `bench/route_change.py`). Split into one scope per hostname, a change resends, and Envoy
rebuilds, only the scope of the hostname it touches: its size does not depend on the routes of
other hostnames. Of Envoy's ways to split a route table this is the one it ingests fastest, and
it works over both State-of-the-World and Delta ADS; VHDS is Delta-only and rebuilds the whole
table on every virtual host update (bench/README.md has the measurements).

Envoy picks a scope by the exact value of a key taken from the Host header (its port dropped):
it has no wildcard or default scope. So a connection manager serves scopes only when its
configuration can be spelled that way: every virtual host that has routes serves one exact
hostname. Virtual hosts without routes (a listener's own `*` or `*.example.com` with nothing
attached) answer 404, which is also what a Host without a scope gets. A configuration with a
wildcard or catch-all host that has routes, or the 421 hosts of an HTTPS listener with a
hostname, is served whole by RDS, as before. Envoy hands every scope it is sent to every scoped
connection manager of the proxy (SRDS has no names to subscribe by, short of xdstp collections),
so only a gateway with a single route configuration is split; one with several keeps them whole.

A route edit can move a connection manager between the two forms (a first wildcard or catch-all
route, or the last one removed): Envoy then drains the connections of the old filter chain, and
for as long as they last (up to its drain time) they route by the old form. So a gateway with a
single route configuration is always served both ways, the whole RouteConfiguration and a scope
with its RouteConfiguration per exact hostname, and only the connection manager says which one
it uses: whichever a draining chain uses stays current (Envoy ignores the removal of a
RouteConfiguration, and would keep a stale one). Envoy fetches only what its listeners name, so
the form not in use costs meshgate its translation and nothing on the wire.

Route precedence is unchanged: Gateway API orders routes within one hostname, and a virtual
host holds all of its hostname's routes, so each scope is a complete virtual host.
"""

from __future__ import annotations

from envoy.config.route.v3 import scoped_route_pb2
from envoy.extensions.filters.network.http_connection_manager.v3 import (
    http_connection_manager_pb2 as hcm,
)

from .. import ir
from .common import ADS

_Fragment = hcm.ScopedRoutes.ScopeKeyBuilder.FragmentBuilder
# The scope key: the Host (HTTP/2 :authority) without its port, as virtual hosts match it
# (route configurations set ignore_port_in_host_matching). Hostnames have no ":" but ports do.
_HOST_KEY = hcm.ScopedRoutes.ScopeKeyBuilder(fragments=[_Fragment(
    header_value_extractor=_Fragment.HeaderValueExtractor(name=":authority", element_separator=":", index=0))])


def splits(cfg: ir.RouteConfig) -> bool:
    """Whether `cfg` can be served as one scope per hostname: every virtual host that has routes
    serves exactly one hostname, without wildcard."""
    return all(not vh.routes or (len(vh.domains) == 1 and "*" not in vh.domains[0]) for vh in cfg.virtual_hosts)


def split_configs(configs: tuple[ir.RouteConfig, ...] | list[ir.RouteConfig]) -> frozenset[str]:
    """The route configurations of one gateway whose connection manager uses scopes: its only
    one, when it splits."""
    return frozenset(c.name for c in configs) if len(configs) == 1 and splits(configs[0]) else frozenset()


def scope_source(configs: tuple[ir.RouteConfig, ...] | list[ir.RouteConfig]) -> ir.RouteConfig | None:
    """The route configuration of one gateway also served as scopes (split or not, see above):
    its only one."""
    return configs[0] if len(configs) == 1 else None


def scoped_hosts(cfg: ir.RouteConfig) -> list[ir.VirtualHost]:
    """The virtual hosts that get a scope: those with routes serving one exact hostname."""
    return [vh for vh in cfg.virtual_hosts if vh.routes and len(vh.domains) == 1 and "*" not in vh.domains[0]]


def scope_name(route_config: str, host: str) -> str:
    """The name of one hostname's scope and of its RouteConfiguration: `<config>/<hostname>`."""
    return f"{route_config}/{host}"


def scoped_routes(route_config: str) -> hcm.ScopedRoutes:
    """What a connection manager serving a split configuration holds instead of RDS: scopes by
    SRDS under the configuration's name, each scope's routes by RDS."""
    return hcm.ScopedRoutes(
        name=route_config,
        scope_key_builder=_HOST_KEY,
        rds_config_source=ADS,
        scoped_rds=hcm.ScopedRds(scoped_rds_config_source=ADS),
    )


def scope(route_config: str, host: str) -> scoped_route_pb2.ScopedRouteConfiguration:
    """The scope of one hostname: its key and the RouteConfiguration that serves it."""
    name = scope_name(route_config, host)
    out = scoped_route_pb2.ScopedRouteConfiguration(name=name, route_configuration_name=name)
    out.key.fragments.add().string_key = host
    return out
