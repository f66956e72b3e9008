"""Cold translate benchmark: meshgate against the protobuf floor (ARCHITECTURE §9).

Input: one Gateway, N Services × E endpoints (one EndpointSlice each) and N HTTPRoutes.
For each N, two fresh subprocesses (so peak RSS does not accumulate):

- meshgate: R times { load the YAML text into a Store } then { translate_store + SerializeToString
  of every resource of every snapshot } (the second part is "translate");
- floor: R times { build the same Envoy messages directly from plain Python data, no model,
  and SerializeToString them }.

Each figure is the median of R repetitions, with gc.collect() between repetitions.

With --metadata-comparison, a third subprocess translates the largest N with meshgate's xDS
metadata disabled (`meshgate.xds.metadata.metadata` monkeypatched to return None, in that
process only) and a second table compares translate time and serialized config size.

With --retranslate, one more subprocess does what `meshgate serve` does on a change: it keeps
the first translation's ClusterBuilder and serialized resources (the xDS cache) while a second
translation of the same store runs and is serialized; its peak RSS is reported.

    python bench/translate.py [--sizes 100,1000,10000] [--endpoints 10] [--repeat 3] [--markdown]
    python bench/translate.py --sizes 10000 --metadata-comparison   # with and without metadata
    python bench/translate.py --sizes 10000 --retranslate   # peak RSS of a second translation, as serve
    python bench/translate.py --profile 10000      # cProfile of translate_store at one size
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import gc
import io
import json
import os
import pstats
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any, NamedTuple

from envoy.config.accesslog.v3 import accesslog_pb2
from envoy.config.cluster.v3 import cluster_pb2
from envoy.config.core.v3 import (
    address_pb2,
    base_pb2,
    config_source_pb2,
    health_check_pb2,
    protocol_pb2,
    substitution_format_string_pb2,
)
from envoy.config.endpoint.v3 import endpoint_components_pb2 as ec
from envoy.config.endpoint.v3 import endpoint_pb2
from envoy.config.listener.v3 import listener_components_pb2 as lc
from envoy.config.listener.v3 import listener_pb2
from envoy.config.route.v3 import route_components_pb2 as rc
from envoy.config.route.v3 import route_pb2, scoped_route_pb2
from envoy.extensions.access_loggers.stream.v3 import stream_pb2
from envoy.extensions.filters.http.router.v3 import router_pb2
from envoy.extensions.filters.network.http_connection_manager.v3 import (
    http_connection_manager_pb2 as hcm,
)
from envoy.type.matcher.v3 import string_pb2
from google.protobuf import any_pb2, duration_pb2, wrappers_pb2
from google.protobuf.internal import api_implementation
from workers import require_upb  # bench/workers.py, beside this script

NAMESPACE = "bench"
GATEWAY = "bench-gw"
PORT = 8080
TARGET_PORT = 3000
ZONES = ("zone-a", "zone-b", "zone-c")
NODES = 5
CREATED = "2025-01-01T00:00:00Z"
NOW = "2025-01-01T00:00:01Z"
MAX_N = 100_000  # hard bound on generated sizes
MAX_E = 1_000
MAX_REPEAT = 50
WORKER_TIMEOUT_S = 3600
SIZE_CHECK_N = 50  # the floor must serialize to within ±10% of meshgate's bytes at this size
SIZE_TOLERANCE = 0.10


# --------------------------------------------------------------------------------------------
# Input data: names and addresses, shared by the YAML generator and the floor.


def service_name(i: int) -> str:
    return f"svc-{i}"


def route_name(i: int) -> str:
    return f"route-{i}"


def hostname(i: int) -> str:
    return f"svc-{i}.example.com"


def zone(i: int) -> str:
    # One zone per service, so every ClusterLoadAssignment has exactly one locality.
    return ZONES[i % len(ZONES)]


def endpoint_ip(i: int, j: int, e: int) -> str:
    """A distinct 127.x.y.z loopback address for endpoint j of service i."""
    k = i * e + j + 1
    return f"127.{(k >> 16) & 255}.{(k >> 8) & 255}.{k & 255}"


def generate_yaml(n: int, e: int) -> str:
    """The benchmark input as one multi-document YAML text."""
    assert 0 < n <= MAX_N and 0 < e <= MAX_E and n * e < (1 << 24) - 1
    parts = [f"""apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {{name: {GATEWAY}, namespace: {NAMESPACE}}}
spec:
  gatewayClassName: meshgate
  listeners:
  - name: http
    port: 80
    protocol: HTTP
    allowedRoutes: {{namespaces: {{from: All}}}}
"""]
    for i in range(n):
        svc = service_name(i)
        z = zone(i)
        endpoints = "".join(
            f"""- addresses: ["{endpoint_ip(i, j, e)}"]
  conditions: {{ready: true}}
  zone: {z}
  nodeName: node-{j % NODES}
  targetRef: {{kind: Pod, namespace: {NAMESPACE}, name: {svc}-pod-{j}}}
""" for j in range(e))
        parts.append(f"""---
apiVersion: v1
kind: Service
metadata: {{name: {svc}, namespace: {NAMESPACE}}}
spec:
  ports:
  - {{name: http, port: {PORT}, targetPort: {TARGET_PORT}, protocol: TCP}}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: {svc}-abcde
  namespace: {NAMESPACE}
  labels: {{kubernetes.io/service-name: {svc}}}
addressType: IPv4
ports:
- {{name: http, port: {TARGET_PORT}, protocol: TCP}}
endpoints:
{endpoints}---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {{name: {route_name(i)}, namespace: {NAMESPACE}}}
spec:
  parentRefs: [{{name: {GATEWAY}}}]
  hostnames: ["{hostname(i)}"]
  rules:
  - matches:
    - path: {{type: PathPrefix, value: /api}}
      headers: [{{name: x-bench, value: "yes"}}]
    filters:
    - type: RequestHeaderModifier
      requestHeaderModifier:
        set: [{{name: x-route, value: {route_name(i)}}}]
        add: [{{name: x-bench-add, value: "1"}}]
        remove: [x-remove-me]
    backendRefs: [{{name: {svc}, port: {PORT}}}]
""")
    return "".join(parts)


# --------------------------------------------------------------------------------------------
# meshgate: load (YAML text → store) and cold translate (translate_store + serialization).


def load_store(text: str) -> Any:
    from meshgate.resources.loader import load_text
    from meshgate.store import Store

    result = load_text(text, "bench.yaml", CREATED)
    errors = [err for err in result.errors if err.severity == "error"]
    assert not errors, f"benchmark input has errors: {errors[:3]}"
    store, duplicates = Store.from_load(result)
    assert not duplicates, duplicates[:3]
    return store


def serialize_translation(translation: Any) -> tuple[int, int]:
    """Serialize every resource of every snapshot, as serving needs; (resources, bytes)."""
    count = size = 0
    for snap in translation.snapshots:
        for group in (snap.listeners, snap.routes, snap.scopes, snap.clusters, snap.endpoints, snap.secrets):
            for msg in group:
                size += len(msg.SerializeToString(deterministic=True))
                count += 1
    return count, size


def check_translation(translation: Any, n: int, e: int, metadata: bool = True) -> None:
    assert len(translation.snapshots) == 1, f"expected one gateway, got {len(translation.snapshots)}"
    snap = translation.snapshots[0]
    # Metadata on every kind of piece, or (with it disabled) on none.
    pieces = (snap.listeners[0], snap.listeners[0].filter_chains[0], snap.routes[0].virtual_hosts[0],
              snap.routes[0].virtual_hosts[0].routes[0], snap.clusters[0], snap.endpoints[0].endpoints[0],
              snap.endpoints[0].endpoints[0].lb_endpoints[0])
    assert all(p.HasField("metadata") == metadata for p in pieces), f"expected metadata={metadata}"
    # The whole route configuration, and one per hostname, each a scope (xds/scopes.py).
    assert len(snap.listeners) == 1 and len(snap.routes) == n + 1 and len(snap.scopes) == n, \
        "expected one listener, the whole route config, and a route config and scope per hostname"
    assert len(snap.clusters) == n and len(snap.endpoints) == n, (len(snap.clusters), len(snap.endpoints), n)
    served = sum(len(vh.routes) for config in snap.routes if "/" in config.name for vh in config.virtual_hosts)
    assert served == n, f"expected {n} routes, got {served}"
    lbs = sum(len(lle.lb_endpoints) for cla in snap.endpoints for lle in cla.endpoints)
    assert lbs == n * e, f"expected {n * e} endpoints, got {lbs}"


@contextlib.contextmanager
def metadata_disabled() -> Iterator[None]:
    """meshgate without xDS metadata: `meshgate.xds.metadata.metadata` returns None meanwhile.

    Every piece's metadata comes from `metadata` (looked up in the modules that import it at call
    time), so this is all it takes; the references are still collected (IR sources, `object_ref`), only
    the `Metadata` messages are not built. A benchmark-only monkeypatch, undone on exit.
    """
    import meshgate.pipeline  # noqa: F401  (every module that builds xDS, imported before patching)
    import meshgate.xds.metadata as md

    saved = md.metadata
    # The module and every meshgate module that imported the function by name.
    holders = [m for name, m in list(sys.modules.items())
               if name.startswith("meshgate.") and getattr(m, "metadata", None) is saved]
    for m in holders:
        m.metadata = lambda refs: None  # type: ignore[attr-defined]
    try:
        yield
    finally:
        for m in holders:
            m.metadata = saved  # type: ignore[attr-defined]


def run_meshgate(n: int, e: int, repeat: int, metadata: bool = True) -> dict:
    """Median load and translate times over `repeat` runs, in this process (without xDS
    metadata when `metadata` is false)."""
    from meshgate.pipeline import translate_store

    require_upb()
    text = generate_yaml(n, e)
    loads: list[float] = []
    translates: list[float] = []
    builds: list[float] = []
    size = count = 0
    load_rss: float | None = None
    with contextlib.nullcontext() if metadata else metadata_disabled():
        for _ in range(repeat):
            gc.collect()
            t0 = time.perf_counter()
            store = load_store(text)
            t1 = time.perf_counter()
            if load_rss is None:
                load_rss = peak_rss_mb()  # the peak so far is the first load's
            gc.collect()
            t2 = time.perf_counter()
            translation = translate_store(store, NOW)
            t3 = time.perf_counter()
            count, size = serialize_translation(translation)
            t4 = time.perf_counter()
            check_translation(translation, n, e, metadata)
            loads.append(t1 - t0)
            translates.append(t4 - t2)
            builds.append(t3 - t2)
            del store, translation
    return {
        "load_s": statistics.median(loads),
        "translate_s": statistics.median(translates),
        "translate_store_s": statistics.median(builds),
        "resources": count,
        "bytes": size,
        "rss_mb": peak_rss_mb(),
        "load_rss_mb": load_rss,
        "metadata": metadata,
    }


def run_retranslate(n: int, e: int) -> dict:
    """Peak RSS of a second translation while the first one's ClusterBuilder and serialized
    resources are kept, as the controller keeps them between changes (`meshgate serve`)."""
    from meshgate.pipeline import translate_store
    from meshgate.xds.resources import snapshot_resources

    require_upb()
    store = load_store(generate_yaml(n, e))
    gc.collect()
    first = translate_store(store, NOW)
    kept = ([snapshot_resources(s) for s in first.snapshots], first.clusters)
    del first
    gc.collect()
    kept_rss = current_rss_mb()
    second = translate_store(store, NOW)
    served = [snapshot_resources(s) for s in second.snapshots]
    assert len(served[0]) == len(kept[0][0])
    return {"kept_rss_mb": kept_rss, "rss_mb": peak_rss_mb()}


# --------------------------------------------------------------------------------------------
# The protobuf floor: the same Envoy messages, built directly from plain data.


class FloorRow(NamedTuple):
    """One Service's strings, as the floor needs them (all computed before timing)."""

    cluster: str  # outbound|8080||svc-i.bench.svc.cluster.local
    vhost: str  # http/svc-i.example.com
    host: str  # svc-i.example.com
    route: str  # bench/route-i/rule/0/match/0 (the Envoy route's name)
    route_object: str  # route-i: the HTTPRoute (metadata) and the x-route header value
    service: str  # svc-i: the Service (metadata)
    zone: str
    endpoints: list[tuple[str, str]]  # (address, Pod name), in meshgate's order


def floor_input(n: int, e: int) -> list[FloorRow]:
    """Per service, the names, hostnames, addresses and object names the floor's messages hold.

    Plain Python data, computed before timing: the floor measures proto building and
    serialization only, as meshgate's input strings also exist before translation starts.
    """
    out = []
    for i in range(n):
        svc = service_name(i)
        host = f"{svc}.{NAMESPACE}.svc.cluster.local"
        out.append(FloorRow(
            f"outbound|{PORT}||{host}",
            f"http/{hostname(i)}",
            hostname(i),
            f"{NAMESPACE}/{route_name(i)}/rule/0/match/0",
            route_name(i),
            svc,
            zone(i),
            # meshgate orders endpoints by address (as strings); each keeps its Pod
            sorted((endpoint_ip(i, j, e), f"{svc}-pod-{j}") for j in range(e)),
        ))
    out.sort(key=lambda row: row.host)  # and virtual hosts by hostname, as strings
    return out


# The HTTP connection manager's access log format (src/meshgate/xds/listeners.py), written out
# here rather than imported, so that a change in meshgate's shows in the size check. Same keys in
# the same order: the format is a Struct (a map), packed into an Any inside the HCM.
ACCESS_LOG_FORMAT = {
    "start_time": "%START_TIME%",
    "method": "%REQ(:METHOD)%",
    "path": "%REQ(X-ENVOY-ORIGINAL-PATH?:PATH)%",
    "authority": "%REQ(:AUTHORITY)%",
    "status": "%RESPONSE_CODE%",
    "flags": "%RESPONSE_FLAGS%",
    "duration_ms": "%DURATION%",
    "upstream_cluster": "%UPSTREAM_CLUSTER_RAW%",
    "upstream_host": "%UPSTREAM_HOST%",
    "route_name": "%ROUTE_NAME%",
    "route_resources": "%METADATA(ROUTE:meshgate:resources)%",
    "cluster_resources": "%METADATA(CLUSTER:meshgate:resources)%",
    "endpoint_resources": "%METADATA(UPSTREAM_HOST:meshgate:resources)%",
}
GATEWAY_API = "gateway.networking.k8s.io/v1"


def _add_ref(resources: Any, kind: str, group_version: str, name: str, section: str | None = None) -> None:
    """Append one `{kind, groupVersion, namespace, name, sectionName?}` to a metadata list."""
    entry = resources.values.add().struct_value.fields
    entry["kind"].string_value = kind
    entry["groupVersion"].string_value = group_version
    entry["namespace"].string_value = NAMESPACE
    entry["name"].string_value = name
    if section is not None:
        entry["sectionName"].string_value = section


def _meshgate_refs(msg: Any) -> Any:
    """`msg.metadata.filter_metadata["meshgate"]["resources"]`, the list to append references to."""
    return msg.metadata.filter_metadata["meshgate"].fields["resources"].list_value


def build_floor(data: list[FloorRow]) -> list[Any]:
    """Every Envoy resource meshgate serves for the benchmark input, built with no model.

    xDS metadata (`filter_metadata["meshgate"]`) is written in place on each piece, its
    references in the order meshgate sorts them; the Gateway's, identical on the listener, its
    filter chain and every virtual host, is built once and copied in.
    """
    def to_any(msg: Any) -> any_pb2.Any:
        a = any_pb2.Any()
        a.Pack(msg)
        return a

    ads = config_source_pb2.ConfigSource(ads=config_source_pb2.AggregatedConfigSource(),
                                         resource_api_version=config_source_pb2.V3)
    overwrite = base_pb2.HeaderValueOption.OVERWRITE_IF_EXISTS_OR_ADD
    append = base_pb2.HeaderValueOption.APPEND_IF_EXISTS_OR_ADD
    gateway_md = base_pb2.Metadata()
    _add_ref(gateway_md.filter_metadata["meshgate"].fields["resources"].list_value,
             "Gateway", GATEWAY_API, GATEWAY, "http")

    log_format = substitution_format_string_pb2.SubstitutionFormatString()
    log_format.json_format.update(ACCESS_LOG_FORMAT)
    manager = hcm.HttpConnectionManager(
        access_log=[accesslog_pb2.AccessLog(name="envoy.access_loggers.stdout",
                                            typed_config=to_any(stream_pb2.StdoutAccessLog(log_format=log_format)))],
        stat_prefix="http.80",
        codec_type=hcm.HttpConnectionManager.AUTO,
        scoped_routes=hcm.ScopedRoutes(
            name="http.80",
            scope_key_builder=hcm.ScopedRoutes.ScopeKeyBuilder(fragments=[
                hcm.ScopedRoutes.ScopeKeyBuilder.FragmentBuilder(
                    header_value_extractor=hcm.ScopedRoutes.ScopeKeyBuilder.FragmentBuilder.HeaderValueExtractor(
                        name=":authority", element_separator=":", index=0))]),
            rds_config_source=ads,
            scoped_rds=hcm.ScopedRds(scoped_rds_config_source=ads)),
        http_filters=[hcm.HttpFilter(name="envoy.filters.http.router", typed_config=to_any(router_pb2.Router()))],
        use_remote_address=wrappers_pb2.BoolValue(value=True),
        normalize_path=wrappers_pb2.BoolValue(value=True),
        merge_slashes=False,
        path_with_escaped_slashes_action=hcm.HttpConnectionManager.KEEP_UNCHANGED,
        upgrade_configs=[hcm.HttpConnectionManager.UpgradeConfig(upgrade_type="websocket")],
        common_http_protocol_options=protocol_pb2.HttpProtocolOptions(),
    )
    listener = listener_pb2.Listener(
        name="0.0.0.0_80",
        address=address_pb2.Address(socket_address=address_pb2.SocketAddress(address="0.0.0.0", port_value=80)),
        filter_chains=[lc.FilterChain(name="http", metadata=gateway_md, filters=[lc.Filter(
            name="envoy.filters.network.http_connection_manager", typed_config=to_any(manager))])],
        metadata=gateway_md,
    )

    clusters = []
    assignments = []
    vhosts = []
    route_configs = []
    scopes = []
    for row in data:
        cluster = cluster_pb2.Cluster(
            name=row.cluster,
            type=cluster_pb2.Cluster.EDS,
            eds_cluster_config=cluster_pb2.Cluster.EdsClusterConfig(eds_config=ads),
            connect_timeout=duration_pb2.Duration(seconds=10),
            lb_policy=cluster_pb2.Cluster.ROUND_ROBIN,
            alt_stat_name=row.cluster.replace(".", "_"),  # its name in statistics (xds/clusters.stat_name)
        )
        _add_ref(_meshgate_refs(cluster), "Service", "v1", row.service)  # what made it, not its routes
        clusters.append(cluster)

        lb_endpoints = []
        for ip, pod in row.endpoints:
            lb = ec.LbEndpoint(
                endpoint=ec.Endpoint(address=address_pb2.Address(
                    socket_address=address_pb2.SocketAddress(address=ip, port_value=TARGET_PORT))),
                health_status=health_check_pb2.HEALTHY,
            )
            _add_ref(_meshgate_refs(lb), "Pod", "v1", pod)
            lb_endpoints.append(lb)
        group = ec.LocalityLbEndpoints(locality=base_pb2.Locality(zone=row.zone), lb_endpoints=lb_endpoints)
        _add_ref(_meshgate_refs(group), "Service", "v1", row.service)
        assignments.append(endpoint_pb2.ClusterLoadAssignment(cluster_name=row.cluster, endpoints=[group]))

        route = rc.Route(
            name=row.route,
            match=rc.RouteMatch(
                path_separated_prefix="/api",
                headers=[rc.HeaderMatcher(name="x-bench", string_match=string_pb2.StringMatcher(exact="yes"))],
            ),
            route=rc.RouteAction(
                cluster=row.cluster,
                timeout=duration_pb2.Duration(),
                cluster_not_found_response_code=rc.RouteAction.INTERNAL_SERVER_ERROR,
            ),
            request_headers_to_add=[
                base_pb2.HeaderValueOption(header=base_pb2.HeaderValue(key="x-route", value=row.route_object),
                                           append_action=overwrite),
                base_pb2.HeaderValueOption(header=base_pb2.HeaderValue(key="x-bench-add", value="1"),
                                           append_action=append),
            ],
            request_headers_to_remove=["x-remove-me"],
        )
        _add_ref(_meshgate_refs(route), "HTTPRoute", GATEWAY_API, row.route_object, "0")
        vhost = rc.VirtualHost(name=row.vhost, domains=[row.host], routes=[route], metadata=gateway_md)
        vhosts.append(vhost)
        # One scope and route configuration per hostname; meshgate's catch-all (404) has no routes,
        # so no scope.
        scope_name = f"http.80/{row.host}"
        route_configs.append(route_pb2.RouteConfiguration(
            name=scope_name,
            virtual_hosts=[vhost],
            validate_clusters=wrappers_pb2.BoolValue(value=False),
            ignore_port_in_host_matching=True,
        ))
        scope = scoped_route_pb2.ScopedRouteConfiguration(name=scope_name, route_configuration_name=scope_name)
        scope.key.fragments.add().string_key = row.host
        scopes.append(scope)
    # The whole route configuration too (meshgate serves both forms, xds/scopes.py).
    vhosts.append(rc.VirtualHost(name="http/*", domains=["*"], metadata=gateway_md))  # meshgate's catch-all (404)
    whole = route_pb2.RouteConfiguration(
        name="http.80",
        virtual_hosts=vhosts,
        validate_clusters=wrappers_pb2.BoolValue(value=False),
        ignore_port_in_host_matching=True,
    )
    return [listener, whole, *route_configs, *scopes, *clusters, *assignments]


def serialize_floor(messages: list[Any]) -> int:
    size = 0
    for msg in messages:
        size += len(msg.SerializeToString(deterministic=True))
    return size


def run_floor(n: int, e: int, repeat: int) -> dict:
    """Median time to build and serialize the floor's messages, in this process."""
    require_upb()
    data = floor_input(n, e)
    times: list[float] = []
    size = count = 0
    for _ in range(repeat):
        gc.collect()
        t0 = time.perf_counter()
        messages = build_floor(data)
        size = serialize_floor(messages)
        t1 = time.perf_counter()
        times.append(t1 - t0)
        count = len(messages)
        del messages
    return {"floor_s": statistics.median(times), "resources": count, "bytes": size, "rss_mb": peak_rss_mb()}


def check_sizes(n: int, e: int) -> tuple[int, int, bool]:
    """meshgate's and the floor's serialized bytes for a small input, and whether they are identical."""
    from meshgate.pipeline import translate_store

    translation = translate_store(load_store(generate_yaml(n, e)), NOW)
    check_translation(translation, n, e)
    snap = translation.snapshots[0]
    mesh = sorted(m.SerializeToString(deterministic=True) for group in (
        snap.listeners, snap.routes, snap.scopes, snap.clusters, snap.endpoints, snap.secrets) for m in group)
    floor = sorted(m.SerializeToString(deterministic=True) for m in build_floor(floor_input(n, e)))
    return sum(map(len, mesh)), sum(map(len, floor)), mesh == floor


# --------------------------------------------------------------------------------------------
# Driver.


def current_rss_mb() -> float:
    """Resident memory now (Linux /proc), for what a process keeps rather than its peak."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / (1024 * 1024)


def peak_rss_mb() -> float:
    # ru_maxrss is in KiB on Linux (bytes on macOS).
    scale = 1 if sys.platform == "darwin" else 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale / (1024 * 1024)


def spawn(mode: str, n: int, e: int, repeat: int) -> dict:
    """Run one measurement in a fresh interpreter, so its peak RSS is its own."""
    cmd = [sys.executable, os.path.abspath(__file__), "--worker", mode,
           "--sizes", str(n), "--endpoints", str(e), "--repeat", str(repeat)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=WORKER_TIMEOUT_S, check=False)
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr)
        raise SystemExit(f"{mode} worker for N={n} failed (exit {proc.returncode})")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def profile(n: int, e: int, top: int = 25) -> None:
    """cProfile translate_store (not load, not serialization) at one size."""
    from meshgate.pipeline import translate_store

    require_upb()
    store = load_store(generate_yaml(n, e))
    gc.collect()
    prof = cProfile.Profile()
    prof.enable()
    translation = translate_store(store, NOW)
    prof.disable()
    t0 = time.perf_counter()
    _, size = serialize_translation(translation)
    ser = time.perf_counter() - t0
    check_translation(translation, n, e)
    print(f"# cProfile of translate_store, N={n}, E={e}; serialization afterwards (not profiled): "
          f"{ser:.3f} s for {size} bytes")
    for order in ("cumulative", "tottime"):
        out = io.StringIO()
        pstats.Stats(prof, stream=out).strip_dirs().sort_stats(order).print_stats(top)
        print(f"\n## top {top} by {order}\n")
        print(out.getvalue().strip())


def _sizes(text: str) -> list[int]:
    sizes = [int(s.replace("_", "")) for s in text.split(",") if s.strip()]
    if not sizes or any(not 0 < s <= MAX_N for s in sizes):
        raise argparse.ArgumentTypeError(f"sizes must be between 1 and {MAX_N}")
    return sizes


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--sizes", type=_sizes, default=[100, 1000, 10000], help="comma-separated N (default 100,1000,10000)")
    p.add_argument("--endpoints", type=int, default=10, help="endpoints per Service, E (default 10)")
    p.add_argument("--repeat", type=int, default=3, help="repetitions per figure, median reported (default 3)")
    p.add_argument("--markdown", action="store_true", help="print a Markdown table for the README")
    p.add_argument("--metadata-comparison", action="store_true",
                   help="also translate the largest N without xDS metadata, and compare time and size")
    p.add_argument("--retranslate", action="store_true",
                   help="also measure, at the largest N, the peak RSS of a second translation as serve does it")
    p.add_argument("--profile", type=int, metavar="N", help="cProfile translate_store at size N instead")
    p.add_argument("--worker", choices=("meshgate", "meshgate-no-metadata", "floor", "retranslate"),
                   help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if not 0 < args.endpoints <= MAX_E:
        p.error(f"--endpoints must be between 1 and {MAX_E}")
    if not 0 < args.repeat <= MAX_REPEAT:
        p.error(f"--repeat must be between 1 and {MAX_REPEAT}")
    require_upb()

    if args.worker:
        n = args.sizes[0]
        if args.worker == "floor":
            result = run_floor(n, args.endpoints, args.repeat)
        elif args.worker == "retranslate":
            result = run_retranslate(n, args.endpoints)
        else:
            result = run_meshgate(n, args.endpoints, args.repeat, metadata=args.worker == "meshgate")
        print(json.dumps(result))
        return 0
    if args.profile:
        if not 0 < args.profile <= MAX_N:
            p.error(f"--profile N must be between 1 and {MAX_N}")
        profile(args.profile, args.endpoints)
        return 0

    e = args.endpoints
    mesh_bytes, floor_bytes, identical = check_sizes(SIZE_CHECK_N, e)
    drift = (floor_bytes - mesh_bytes) / mesh_bytes
    print(f"size check N={SIZE_CHECK_N} E={e}: meshgate {mesh_bytes} bytes, floor {floor_bytes} bytes "
          f"({drift:+.1%}; messages {'identical' if identical else 'differ'})", file=sys.stderr)
    assert abs(drift) <= SIZE_TOLERANCE, "the floor no longer builds what meshgate emits: update build_floor"

    rows = []
    for n in args.sizes:
        mg = spawn("meshgate", n, e, args.repeat)
        fl = spawn("floor", n, e, args.repeat)
        if abs(fl["bytes"] - mg["bytes"]) > SIZE_TOLERANCE * mg["bytes"]:
            print(f"warning: N={n}: meshgate {mg['bytes']} bytes, floor {fl['bytes']} bytes", file=sys.stderr)
        rows.append((n, e, mg, fl))
        print(f"N={n}: load {mg['load_s']:.3f} s, translate {mg['translate_s']:.3f} s "
              f"(translate_store {mg['translate_store_s']:.3f} s), floor {fl['floor_s']:.3f} s, "
              f"bytes {mg['bytes']}/{fl['bytes']}", file=sys.stderr, flush=True)

    header = ["N", "E", "load s", "translate s", "floor s", "translate/floor",
              "peak RSS MB", "after load MB", "floor RSS MB"]
    table = [[f"{n:,}", str(e), f"{mg['load_s']:.3f}", f"{mg['translate_s']:.3f}", f"{fl['floor_s']:.3f}",
              f"{mg['translate_s'] / fl['floor_s']:.1f}×", f"{mg['rss_mb']:.0f}", f"{mg['load_rss_mb']:.0f}",
              f"{fl['rss_mb']:.0f}"]
             for n, e, mg, fl in rows]
    print_table(header, table, args.markdown)
    if args.markdown:
        print(f"\nMedian of {args.repeat}; Python {sys.version.split()[0]}, protobuf "
              f"{api_implementation.Type()}, {os.cpu_count()} CPUs.")

    if args.metadata_comparison:
        n, e, with_md, _ = max(rows, key=lambda row: row[0])
        without = spawn("meshgate-no-metadata", n, e, args.repeat)
        print(f"N={n} without metadata: translate {without['translate_s']:.3f} s "
              f"(translate_store {without['translate_store_s']:.3f} s), bytes {without['bytes']}",
              file=sys.stderr, flush=True)
        mib = 1024 * 1024
        header = ["N", "E", "metadata", "translate s", "translate_store s", "config MiB", "peak RSS MB"]
        table = [[f"{n:,}", str(e), label, f"{r['translate_s']:.3f}", f"{r['translate_store_s']:.3f}",
                  f"{r['bytes'] / mib:.2f}", f"{r['rss_mb']:.0f}"]
                 for label, r in (("with", with_md), ("without", without))]
        table.append(["", "", "with/without", f"{with_md['translate_s'] / without['translate_s']:.2f}×",
                      f"{with_md['translate_store_s'] / without['translate_store_s']:.2f}×",
                      f"{with_md['bytes'] / without['bytes']:.2f}×", f"{with_md['rss_mb'] / without['rss_mb']:.2f}×"])
        print()
        print_table(header, table, args.markdown)
        if args.markdown:
            print(f"\nN = {n:,} routes; config = every resource serialized ({with_md['bytes']:,} and "
                  f"{without['bytes']:,} bytes). Median of {args.repeat}.")
    if args.retranslate:
        n = max(row[0] for row in rows)
        again = spawn("retranslate", n, e, 1)
        print(f"\nN = {n:,}: a second translation while the first one's ClusterBuilder and serialized "
              f"resources are kept (as serve): {again['kept_rss_mb']:.0f} MB resident before it, "
              f"peak RSS {again['rss_mb']:.0f} MB")
    return 0


def print_table(header: list[str], table: list[list[str]], markdown: bool) -> None:
    if markdown:
        print("| " + " | ".join(header) + " |")
        print("|" + "|".join("---:" for _ in header) + "|")
        for row in table:
            print("| " + " | ".join(row) + " |")
    else:
        widths = [max(len(h), *(len(r[i]) for r in table)) for i, h in enumerate(header)]
        print("  ".join(h.rjust(w) for h, w in zip(header, widths)))
        for row in table:
            print("  ".join(c.rjust(w) for c, w in zip(row, widths)))


if __name__ == "__main__":
    sys.exit(main())
