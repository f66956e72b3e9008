"""Route tables split per hostname (xds/scopes.py): a one-route change sends Envoy one scope's
RouteConfiguration, whose size does not depend on the routes of other hostnames; listeners
whose configuration Envoy's scopes cannot spell (wildcard or catch-all hosts with routes, several
route configurations) use it whole. A single route configuration is served both ways, so that
a listener moving between the two forms leaves its draining connections a current one."""

from __future__ import annotations

from pathlib import Path

import pytest

from meshgate.pipeline import translate_store
from meshgate.resources.loader import load_paths
from meshgate.store import Store
from meshgate.xds.resources import LISTENER, ROUTE, SCOPED_ROUTE, Resources, snapshot_resources

NOW = "2026-01-01T00:00:00Z"
GATEWAY = """apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: gw, namespace: ns}
spec:
  gatewayClassName: meshgate
  listeners:
  - {name: http, port: 80, protocol: HTTP}
---
apiVersion: v1
kind: Service
metadata: {name: svc, namespace: ns}
spec:
  ports: [{name: http, port: 80, targetPort: 8080}]
"""


def route(name: str, hostnames: list[str], prefixes: list[str], header: str = "x") -> str:
    rules = "".join(f"""  - matches: [{{path: {{type: PathPrefix, value: {p}}}}}]
    filters:
    - type: RequestHeaderModifier
      requestHeaderModifier: {{set: [{{name: x-route, value: "{header}"}}]}}
    backendRefs: [{{name: svc, port: 80}}]
""" for p in prefixes)
    hosts = f"\n  hostnames: {hostnames}" if hostnames else ""
    return f"""---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {{name: {name}, namespace: ns}}
spec:
  parentRefs: [{{name: gw}}]{hosts}
  rules:
{rules}"""


def resources(tmp_path: Path, text: str) -> Resources:
    (tmp_path / "in.yaml").write_text(text)
    loaded = load_paths([tmp_path])
    assert not [e for e in loaded.errors if e.severity == "error"], loaded.errors
    store, _ = Store.from_load(loaded)
    (snap,) = translate_store(store, NOW).snapshots
    return snapshot_resources(snap)


def used_routes(res: Resources) -> set[str]:
    """The RouteConfigurations Envoy fetches: those its connection managers name, directly or
    through their scopes."""
    from envoy.config.listener.v3 import listener_pb2
    from envoy.config.route.v3 import scoped_route_pb2
    from envoy.extensions.filters.network.http_connection_manager.v3 import http_connection_manager_pb2 as hcm

    out = set()
    for resource in res[LISTENER].values():
        for chain in listener_pb2.Listener.FromString(resource.body.value).filter_chains:
            manager = hcm.HttpConnectionManager()
            chain.filters[0].typed_config.Unpack(manager)
            if manager.HasField("scoped_routes"):
                out |= {scoped_route_pb2.ScopedRouteConfiguration.FromString(r.body.value).route_configuration_name
                        for r in res[SCOPED_ROUTE].values()}
            else:
                out.add(manager.rds.route_config_name)
    return out


def changed(before: Resources, after: Resources, type_url: str) -> set[str]:
    old, new = before[type_url], after[type_url]
    return {n for n in old.keys() | new.keys() if n not in old or n not in new or old[n].version != new[n].version}


def others(count: int) -> str:
    """`count` HTTPRoutes, each on its own hostname with ten rules."""
    return "".join(route(f"other-{i}", [f"other-{i}.example"], [f"/p{j}" for j in range(10)]) for i in range(count))


def test_one_route_change_sends_one_scope_of_a_size_independent_of_other_hosts(tmp_path: Path) -> None:
    sizes = {}
    for n in (1, 40):
        d = tmp_path / str(n)
        d.mkdir()
        base = GATEWAY + others(n)
        before = resources(d, base + route("target", ["target.example"], ["/a", "/b"], header="old"))
        after = resources(d, base + route("target", ["target.example"], ["/a", "/b"], header="new"))
        assert used_routes(after) == {f"http.80/{h}.example" for h in ["target", *(f"other-{i}" for i in range(n))]}
        assert changed(before, after, ROUTE) & used_routes(after) == {"http.80/target.example"}
        assert not changed(before, after, SCOPED_ROUTE) and not changed(before, after, LISTENER)
        sizes[n] = len(after[ROUTE]["http.80/target.example"].body.value)
    assert sizes[40] == sizes[1]


def test_precedence_across_routes_of_one_hostname_is_kept_in_its_scope(tmp_path: Path) -> None:
    from envoy.config.route.v3 import route_pb2

    text = GATEWAY + route("short", ["a.example"], ["/"]) + route("long", ["a.example"], ["/api/v1"]) \
        + route("mid", ["a.example"], ["/api"]) + route("b", ["b.example"], ["/"])
    res = resources(tmp_path, text)
    assert set(res[SCOPED_ROUTE]) == {"http.80/a.example", "http.80/b.example"}
    rc = route_pb2.RouteConfiguration.FromString(res[ROUTE]["http.80/a.example"].body.value)
    (vh,) = rc.virtual_hosts
    assert list(vh.domains) == ["a.example"]
    # Longest prefix first, whichever HTTPRoute it comes from.
    assert [r.match.path_separated_prefix or r.match.prefix for r in vh.routes] == ["/api/v1", "/api", "/"]


@pytest.mark.parametrize(("extra", "why"), [
    (route("wild", ["*.example"], ["/"]), "a wildcard hostname with routes"),
    (route("any", [], ["/"]), "the catch-all host with routes"),
])
def test_configurations_scopes_cannot_spell_are_used_whole(tmp_path: Path, extra: str, why: str) -> None:
    res = resources(tmp_path, GATEWAY + route("a", ["a.example"], ["/"]) + extra)
    assert used_routes(res) == {"http.80"}, why
    # Still served as scopes too, for the connections of a listener that used them.
    assert set(res[ROUTE]) == {"http.80", "http.80/a.example"}, why
    assert set(res[SCOPED_ROUTE]) == {"http.80/a.example"}, why


def test_split_configurations_are_served_whole_too(tmp_path: Path) -> None:
    res = resources(tmp_path, GATEWAY + route("a", ["a.example"], ["/"]) + route("b", ["b.example"], ["/"]))
    assert used_routes(res) == {"http.80/a.example", "http.80/b.example"}
    assert set(res[ROUTE]) == {"http.80", "http.80/a.example", "http.80/b.example"}


def test_a_gateway_with_several_route_configurations_keeps_them_whole(tmp_path: Path) -> None:
    # Envoy hands every scope to every scoped connection manager: only a single one is split.
    text = GATEWAY.replace("  - {name: http, port: 80, protocol: HTTP}\n",
                           "  - {name: http, port: 80, protocol: HTTP}\n  - {name: alt, port: 81, protocol: HTTP}\n")
    res = resources(tmp_path, text + route("a", ["a.example"], ["/"]))
    assert used_routes(res) == set(res[ROUTE]) == {"http.80", "http.81"}
    assert not res[SCOPED_ROUTE]
