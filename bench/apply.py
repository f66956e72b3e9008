"""What one change costs inside meshgate, per kind of change (issue 14: every change costs what
it touches).

Input: bench/translate.py's generator (one Gateway, N Services × E endpoints, N HTTPRoutes),
loaded into a ControlPlane (no proxies, no I/O). Then each change below is applied R times
(alternating between two versions, so each application really changes something) and the
median `ControlPlane.apply` time is reported, with the path it took:

- route-add: an HTTPRoute to an already used Service appears, and goes again;
- route-edit: one HTTPRoute's path changes;
- slice-edit: one endpoint address of one EndpointSlice changes (the endpoints fast path);
- service-edit: one Service's annotation changes;
- dr-add: a DestinationRule for one Service's host appears, and goes again;
- node-add: a Node appears, and goes again.

With `--contexts K`, the input is bench/contexts.py's instead (N ServiceEntries with endpoints in
10 localities, a wildcard DestinationRule with failover, N HTTPRoutes by Hostname) and K proxies
in K localities hold per-client views while the route changes are applied (route-add,
route-edit): what each view costs a change that does not touch its endpoints.

With `--policies`, bench/policies.py's BackendTrafficPolicies are added to the input (one on the
Gateway, one on every tenth route).

    .venv/bin/python bench/apply.py [--n 1000,5000] [--endpoints 3] [--repeat 5] [--contexts K] [--policies [all|routes]] [--json]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from policies import add_argument as add_policies_argument
from translate import CREATED, GATEWAY, NAMESPACE, generate_yaml, route_name, service_name

from meshgate.providers.files import ChangeSet
from meshgate.resources.loader import load_text
from meshgate.resources.meta import ObjectKey
from meshgate.runtime.controller import ControlPlane
from meshgate.xds.cache import SnapshotCache


def _objects(text: str) -> list[Any]:
    loaded = load_text(text, "bench.yaml", CREATED)
    assert not [e for e in loaded.errors if e.severity == "error"], loaded.errors[:3]
    return loaded.objects


class _Provider:
    def __init__(self, objects: list[Any]) -> None:
        self.objects = objects
        self.errors: list = []
        self.rejected: list = []

    def load_all(self) -> ChangeSet:
        return ChangeSet(upserts=self.objects)

    async def watch(self) -> Any:  # pragma: no cover - not watched
        return
        yield


def _route(name: str, svc: str, path: str) -> str:
    return f"""apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {{name: {name}, namespace: {NAMESPACE}}}
spec:
  parentRefs: [{{name: {GATEWAY}}}]
  hostnames: ["extra.bench.example.com"]
  rules:
  - matches: [{{path: {{type: PathPrefix, value: {path}}}}}]
    backendRefs: [{{name: {svc}, port: 80}}]
"""


def changes(base: list[Any]) -> dict[str, tuple[ChangeSet, ChangeSet]]:
    """Per kind of change, the two change sets applied alternately."""
    svc0 = service_name(0)
    by_key = {(o.kind, o.meta.name): o for o in base}
    slice0 = by_key[("EndpointSlice", f"{svc0}-abcde")]
    route0 = by_key[("HTTPRoute", route_name(0))]
    ep = slice0.endpoints[0]
    moved = dataclasses.replace(slice0, endpoints=(dataclasses.replace(ep, addresses=("127.250.0.1",)),
                                                   *slice0.endpoints[1:]))
    rule = route0.rules[0]
    match = rule.matches[0]
    edited = dataclasses.replace(route0, rules=(dataclasses.replace(
        rule, matches=(dataclasses.replace(match, path=dataclasses.replace(match.path, value="/edited")),)),))
    svc = by_key[("Service", svc0)]
    annotated = dataclasses.replace(svc, meta=dataclasses.replace(svc.meta, annotations={"bench": "1"}))
    extra = _objects(_route("extra", svc0, "/extra"))
    dr = _objects(f"""apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {{name: bench-dr, namespace: {NAMESPACE}}}
spec:
  host: {svc0}.{NAMESPACE}.svc.cluster.local
  trafficPolicy: {{connectionPool: {{tcp: {{maxConnections: 9}}}}}}
""")
    node = _objects("""apiVersion: v1
kind: Node
metadata: {name: bench-extra-node, labels: {topology.kubernetes.io/zone: zx}}
""")

    def add_remove(objs: list[Any]) -> tuple[ChangeSet, ChangeSet]:
        return ChangeSet(upserts=objs), ChangeSet(deletes=[ObjectKey.of(o) for o in objs])
    return {
        "route-add": add_remove(extra),
        "route-edit": (ChangeSet(upserts=[edited]), ChangeSet(upserts=[route0])),
        "slice-edit": (ChangeSet(upserts=[moved]), ChangeSet(upserts=[slice0])),
        "service-edit": (ChangeSet(upserts=[annotated]), ChangeSet(upserts=[svc])),
        "dr-add": add_remove(dr),
        "node-add": add_remove(node),
    }


def context_changes(base: list[Any]) -> dict[str, tuple[ChangeSet, ChangeSet]]:
    """Route changes for bench/contexts.py's input."""
    route0 = next(o for o in base if o.kind == "HTTPRoute")
    extra = dataclasses.replace(route0, meta=dataclasses.replace(route0.meta, name="bench-extra", uid="extra"))
    rule = route0.rules[0]
    match = rule.matches[0]
    edited = dataclasses.replace(route0, rules=(dataclasses.replace(
        rule, matches=(dataclasses.replace(match, path=dataclasses.replace(match.path, value="/edited")),)),))
    return {"route-add": (ChangeSet(upserts=[extra]), ChangeSet(deletes=[ObjectKey.of(extra)])),
            "route-edit": (ChangeSet(upserts=[edited]), ChangeSet(upserts=[route0]))}


def measure(n: int, e: int, repeat: int, contexts: int = 0, policies: str | None = None) -> dict[str, Any]:
    """Median apply time per kind of change, and the path each took."""
    if contexts:
        import contexts as ctx_bench

        from meshgate.discovery.model import Locality
        from meshgate.xds.proxy import ProxyIdentity
        base = _objects(ctx_bench.generate_yaml(n))
    else:
        base = _objects(generate_yaml(n, e))
    if policies:
        from policies import policies_yaml
        base += _objects(policies_yaml(NAMESPACE, GATEWAY, [route_name(i) for i in range(n)], policies))
    cp = ControlPlane(_Provider(base), SnapshotCache())
    t0 = time.perf_counter()
    cp.load()
    out: dict[str, Any] = {"n": n, "endpoints": e, "load_s": round(time.perf_counter() - t0, 3)}
    if contexts:
        for region, zone in ctx_bench.LOCALITIES[:contexts]:
            cp.cache.hold(cp.resolve(ProxyIdentity(ctx_bench.GATEWAY_KEY, Locality(region, zone))))
        out["contexts"] = cp.context_count
    for name, (forward, back) in (context_changes(base) if contexts else changes(base)).items():
        times, paths = [], set()
        for i in range(repeat):
            cs = forward if i % 2 == 0 else back
            t = time.perf_counter()
            paths.add(cp.apply(cs))
            times.append(time.perf_counter() - t)
        out[name] = {"median_ms": round(statistics.median(times) * 1000, 1), "paths": sorted(paths)}
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", default="1000,5000")
    parser.add_argument("--endpoints", type=int, default=3)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--contexts", type=int, default=0, choices=range(11), metavar="K")
    add_policies_argument(parser)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    rows = [measure(int(n), args.endpoints, args.repeat, args.contexts, args.policies) for n in args.n.split(",")]
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    kinds = [k for k in rows[0] if isinstance(rows[0][k], dict)]
    print("| change | " + " | ".join(f"N={r['n']} (ms)" for r in rows) + " | path |")
    print("|---|" + "---:|" * len(rows) + "---|")
    for k in kinds:
        print(f"| {k} | " + " | ".join(str(r[k]["median_ms"]) for r in rows) + f" | {','.join(rows[0][k]['paths'])} |")
    print("load: " + ", ".join(f"N={r['n']}: {r['load_s']} s" for r in rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
