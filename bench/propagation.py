"""Route propagation as gateway-api-bench's probe test measures it: a new HTTPRoute is written,
then requests go out until the first 200 for it, through a real `meshgate run` and its Envoy.

For each N: a directory holds one Gateway (HTTP on a free 127.A.B.1:8080), one Service `backend`
(one echo endpoint, `meshgate run --echo` serves it) and N HTTPRoutes of gateway-api-bench's
shape (hostname `i-route.example.com`; a rule `PathPrefix /i` → backend with request and response
header modifiers, a rule `PathPrefix /` → a missing Service). `meshgate run DIR --echo
--log-format json` runs on it as a subprocess. Then, C times: the route `probe-k` of the same
shape is written to a file beside the others by rename (atomic: the file is written outside the
watched directory first), and `GET /probe-k` with `Host: probe-k-route.example.com` is sent
every --poll-ms over a kept-alive connection until it answers 200 (404 until then; anything else
is counted as an error). Routes stay, as in gateway-api-bench, so the k-th is added to N + k.

The split of each change comes from meshgate's reload log line (JSON fields `received`:
the change reached the controller, `flushed`: the debounce let it through, `seconds`: the apply,
`applied`: done), the push time of its RDS response (`meshgate_xds_last_push_timestamp_seconds`
on /metrics) and Envoy's own `update_time` of that route configuration (admin /stats: when it
accepted the update, just before sending the ACK; milliseconds).

    .venv/bin/python bench/propagation.py [--routes 100,1000,5000] [--changes 10] [--poll-ms 5]
        [--protocol delta|sotw] [--policies [all|routes]] [--markdown] [--json]
    .venv/bin/python bench/propagation.py --compare-policies none,routes,all [--routes ...] [--changes C]

`--compare-policies`: the modes' deployments run side by side, probe k of each taken in turn, so
that their ratios are measured in one run on the same (noisy, shared) machine.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import statistics
import sys
import tempfile
import time
import urllib.request
from dataclasses import asdict, dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.e2e.harness import LISTEN_PORT, free_subnet
from tests.meshgate_process import MeshgateProcess

NAMESPACE = "bench"
ROUTES_PER_FILE = 500  # well under the 5,000-document and 8 MiB limits of one input file
BACKEND_PORT = 9080
READY_TIMEOUT_S = 600.0  # meshgate started → the first route answers 200
PROBE_TIMEOUT_S = 60.0  # one route written → its first 200
SETTLE_TIMEOUT_S = 60.0  # one change seen → every response ACKed (before the next change)
LOG_TIMEOUT_S = 30.0  # the first 200 → the reload's log line read
REQUEST_TIMEOUT_S = 5.0
GOALS_MS = {"total": 100.0, "meshgate_to_ack": 30.0, "apply": 20.0}  # issue 14, at 5,000 routes


def gateway_yaml(base: str) -> str:
    return f"""apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {{name: gw, namespace: {NAMESPACE}}}
spec:
  gatewayClassName: meshgate
  addresses: [{{type: IPAddress, value: "{base}.1"}}]
  listeners:
  - {{name: http, port: {LISTEN_PORT}, protocol: HTTP, allowedRoutes: {{namespaces: {{from: All}}}}}}
"""


def backend_yaml(base: str) -> str:
    return f"""apiVersion: v1
kind: Service
metadata: {{name: backend, namespace: {NAMESPACE}}}
spec:
  ports: [{{name: http, port: 80, targetPort: {BACKEND_PORT}}}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: backend-1
  namespace: {NAMESPACE}
  labels: {{kubernetes.io/service-name: backend}}
addressType: IPv4
ports: [{{name: http, port: {BACKEND_PORT}, protocol: TCP}}]
endpoints:
- addresses: ["{base}.11"]
  conditions: {{ready: true}}
  targetRef: {{kind: Pod, name: backend-11}}
"""


def route_yaml(index: str) -> str:
    """gateway-api-bench's probe route `index-route`: host `index-route.example.com`, `/index`."""
    headers = "{add: [{name: added-header, value: added-value}]}"
    resp_headers = "{add: [{name: added-resp-header, value: added-resp-value}]}"
    return f"""apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {{name: {index}-route, namespace: {NAMESPACE}}}
spec:
  parentRefs: [{{name: gw}}]
  hostnames: ["{index}-route.example.com"]
  rules:
  - matches: [{{path: {{type: PathPrefix, value: /{index}}}}}]
    filters:
    - {{type: RequestHeaderModifier, requestHeaderModifier: {headers}}}
    - {{type: ResponseHeaderModifier, responseHeaderModifier: {resp_headers}}}
    backendRefs: [{{name: backend, port: 80}}]
  - matches: [{{path: {{type: PathPrefix, value: /}}}}]
    filters:
    - {{type: RequestHeaderModifier, requestHeaderModifier: {headers}}}
    - {{type: ResponseHeaderModifier, responseHeaderModifier: {resp_headers}}}
    backendRefs: [{{name: invalid-backend, port: 80}}]
"""


def write_config(directory: Path, base: str, n: int) -> None:
    """The Gateway, the backend and N routes (ROUTES_PER_FILE per file)."""
    (directory / "gateway.yaml").write_text(gateway_yaml(base))
    (directory / "backend.yaml").write_text(backend_yaml(base))
    for start in range(0, n, ROUTES_PER_FILE):
        text = "---\n".join(route_yaml(str(i)) for i in range(start, min(n, start + ROUTES_PER_FILE)))
        (directory / f"routes-{start // ROUTES_PER_FILE:03d}.yaml").write_text(text)


class BenchError(RuntimeError):
    pass


@dataclass
class Sample:
    """One route added: wall-clock times (epoch seconds) of each step, and the apply's duration."""

    written: float
    first_200: float
    received: float
    flushed: float
    apply_s: float
    applied: float
    pushed: float  # the RDS response built
    envoy_updated: float  # Envoy accepted that RDS update (ms resolution)
    polls: int
    errors: int  # answers other than 404 and 200 before the first 200

    def split_ms(self) -> dict[str, float]:
        """The steps, in ms: watcher (file written → change at the controller), debounce, apply,
        push (apply done → RDS response built), Envoy (→ Envoy accepted it), last (→ first 200)."""
        return {"total": (self.first_200 - self.written) * 1000,
                "watcher": (self.received - self.written) * 1000,
                "debounce": (self.flushed - self.received) * 1000,
                "apply": self.apply_s * 1000,
                "push": (self.pushed - self.applied) * 1000,
                "envoy": (self.envoy_updated - self.pushed) * 1000,
                "last": (self.first_200 - self.envoy_updated) * 1000,
                "meshgate_to_ack": (self.envoy_updated - self.received) * 1000}


@dataclass
class Run:
    routes: int
    protocol: str
    ready_s: float
    samples: list[Sample] = field(default_factory=list)

    def medians(self) -> dict[str, float]:
        splits = [s.split_ms() for s in self.samples]
        return {k: statistics.median(sp[k] for sp in splits) for k in splits[0]}


def http_get(url: str, timeout: float = REQUEST_TIMEOUT_S) -> str:
    with urllib.request.urlopen(url, timeout=timeout) as resp:
        return resp.read().decode()


class Prober:
    """GETs through the gateway over one kept-alive connection (reopened when it drops)."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.conn: http.client.HTTPConnection | None = None

    def status(self, path: str, hostname: str) -> int:
        for _ in range(2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=REQUEST_TIMEOUT_S)
            try:
                self.conn.request("GET", path, headers={"Host": hostname})
                resp = self.conn.getresponse()
                resp.read()
                return resp.status
            except (OSError, http.client.HTTPException):
                self.conn.close()
                self.conn = None
        return 0

    def until_200(self, path: str, hostname: str, timeout: float, poll_s: float) -> tuple[float, int, int]:
        """(time of the first 200, requests sent, answers other than 200 and 404). Bounded."""
        deadline = time.monotonic() + timeout
        polls = errors = 0
        while time.monotonic() < deadline:
            code = self.status(path, hostname)
            polls += 1
            if code == 200:
                return time.time(), polls, errors
            if code != 404:
                errors += 1
            time.sleep(poll_s)
        raise BenchError(f"{hostname}{path}: no 200 within {timeout:g} s ({polls} requests, {errors} errors)")

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()


_PUSH = re.compile(r'^meshgate_xds_last_push_timestamp_seconds\{type="RDS"\} (\S+)$', re.MULTILINE)
_UPDATE = re.compile(r"^http\.\S+\.rds\.(\S+)\.update_time: (\d+)$", re.MULTILINE)


def reload_line(proc: MeshgateProcess, route: str, timeout: float) -> dict:
    """The `reload` fields of meshgate's JSON log line that added HTTPRoute `route`."""
    deadline = time.monotonic() + timeout
    want = f"HTTPRoute {NAMESPACE}/{route}-route"
    while time.monotonic() < deadline:
        for line in list(proc.lines):
            if want in line and '"reload"' in line:
                fields = json.loads(line)["reload"]
                if want in fields["added"]:
                    return fields
        time.sleep(0.01)
    raise BenchError(f"no reload log line adding {want} within {timeout:g} s")


def settled(debug: str) -> bool:
    """Every response meshgate sent was answered (ACKed, or NACKed: that fails the run)."""
    proxies = json.loads(http_get(f"{debug}/debug/proxies"))
    for p in proxies:
        for t, ts in p["types"].items():
            if ts["nacks"]:
                raise BenchError(f"Envoy NACKed {t}: {ts['lastNack']}")
    return len(proxies) == 1 and all(ts["sentNonce"] == ts["ackedNonce"] for ts in proxies[0]["types"].values())


def wait_settled(debug: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not settled(debug):
        if time.monotonic() >= deadline:
            raise BenchError(f"Envoy did not ACK everything within {timeout:g} s")
        time.sleep(0.01)


class Deployment:
    """One `meshgate run` on a fresh directory of N routes (`policies`: with bench/policies.py's
    BackendTrafficPolicies too), its Envoy ready; `probe(k)` adds route probe-k and times it."""

    def __init__(self, n: int, protocol: str, policies: str | None = None) -> None:
        self.n, self.protocol, self.policies = n, protocol, policies
        self._tmp = tempfile.TemporaryDirectory(prefix="meshgate-bench-propagation-")
        self.base = free_subnet()
        self.config, self.staging = Path(self._tmp.name) / "config", Path(self._tmp.name) / "staging"
        self.config.mkdir()
        self.staging.mkdir()
        write_config(self.config, self.base, n)
        if policies:
            from policies import policies_yaml
            (self.config / "policies.yaml").write_text(policies_yaml(NAMESPACE, "gw", [f"{i}-route" for i in range(n)],
                                                                     policies))
        args = ["--echo", "--xds", "127.0.0.1:0", "--debug-port", "0", "--log-format", "json",
                "--workdir", str(Path(self._tmp.name) / "work")]
        if protocol == "sotw":
            args.append("--sotw")
        self.proc = MeshgateProcess("run", str(self.config), *args)
        self.prober = Prober(f"{self.base}.1", LISTEN_PORT)
        self.ready_s = 0.0
        self.debug = self.admin = ""
        self.label = ""  # in log lines, after N (compare: the mode)

    def start(self) -> None:
        """Wait (bounded) until the first route answers and Envoy has ACKed everything."""
        t0 = time.monotonic()
        m = re.search(r"(http://127\.0\.0\.1:\d+)/metrics", self.proc.wait_for("metrics and debug on", READY_TIMEOUT_S))
        assert m is not None
        self.debug = m.group(1)
        m = re.search(r"Envoy admin (http://\S+?),", self.proc.wait_for("Envoy admin", READY_TIMEOUT_S))
        assert m is not None
        self.admin = m.group(1)
        self.prober.until_200("/0", "0-route.example.com", READY_TIMEOUT_S, 0.05)
        wait_settled(self.debug, SETTLE_TIMEOUT_S)
        problems = [line for line in self.proc.lines if '"input_error"' in line]
        if problems:
            raise BenchError(f"the benchmark's input has errors: {problems[:3]}")
        self.ready_s = time.monotonic() - t0

    def probe(self, k: int, poll_s: float, log: bool = False) -> Sample:
        """Route probe-k written (by rename), polled until its first 200, then split by the log
        line, the push time and Envoy's update time."""
        name = f"probe-{k}"
        staged = self.staging / f"{name}.yaml"
        staged.write_text(route_yaml(name))
        written = time.time()
        os.replace(staged, self.config / f"{name}.yaml")
        first, polls, errors = self.prober.until_200(f"/{name}", f"{name}-route.example.com", PROBE_TIMEOUT_S, poll_s)
        fields = reload_line(self.proc, name, LOG_TIMEOUT_S)
        wait_settled(self.debug, SETTLE_TIMEOUT_S)
        pushed = _PUSH.search(http_get(f"{self.debug}/metrics"))
        updates = _UPDATE.findall(http_get(f"{self.admin}/stats?filter=rds\\..*\\.update_time$"))
        # Split per hostname (scoped routes), the probe's own table is the one to time.
        own = [u for u in updates if u[0].endswith(f"/{name}-route.example.com")]
        updates = own or updates
        if pushed is None or len(updates) != 1:
            raise BenchError(f"push time {pushed}, Envoy RDS update times {updates}: expected one each")
        sample = Sample(written, first, fields["received"], fields["flushed"], fields["seconds"],
                        fields["applied"], float(pushed.group(1)), int(updates[0][1]) / 1000, polls, errors)
        if log:
            print(f"  N={self.n}{self.label} {name}: " + ", ".join(f"{k} {v:.1f}" for k, v in sample.split_ms().items()),
                  file=sys.stderr, flush=True)
        return sample

    def stop(self) -> None:
        self.prober.close()
        self.proc.stop()
        self._tmp.cleanup()


def measure(n: int, changes: int, poll_s: float, protocol: str, log: bool = False, policies: str | None = None) -> Run:
    """One N: meshgate run on a fresh directory, C routes added and probed (`policies`: with
    bench/policies.py's BackendTrafficPolicies in the directory too)."""
    d = Deployment(n, protocol, policies)
    try:
        d.start()
        run = Run(n, protocol, d.ready_s)
        run.samples.extend(d.probe(k, poll_s, log) for k in range(changes))
        return run
    finally:
        d.stop()


def compare(n: int, changes: int, poll_s: float, protocol: str, modes: list[str]) -> dict[str, Run]:
    """The same N with each of `modes` (policies: "none", "routes", "all") running side by side,
    the C probes taken in turn (probe k of every mode, then k + 1): each mode's samples meet the
    same machine, so their ratios hold on a noisy one."""
    deployments: dict[str, Deployment] = {}
    try:
        for mode in modes:  # started one after the other: a start-up is the busiest moment
            deployments[mode] = Deployment(n, protocol, None if mode == "none" else mode)
            deployments[mode].label = f" {mode}"
            deployments[mode].start()
        runs = {mode: Run(n, protocol, d.ready_s) for mode, d in deployments.items()}
        for k in range(changes):
            for mode, d in deployments.items():
                runs[mode].samples.append(d.probe(k, poll_s, log=True))
        return runs
    finally:
        for d in deployments.values():
            d.stop()


def _modes(text: str, known: tuple[str, ...]) -> list[str]:
    modes = [m.strip() for m in text.split(",") if m.strip()]
    if not modes or modes[0] != "none" or any(m not in known for m in modes) or len(set(modes)) != len(modes):
        raise argparse.ArgumentTypeError(f"modes: none first, then any of {', '.join(known[1:])}")
    return modes


def _compare_main(args: argparse.Namespace) -> int:
    """--compare-policies: per N, each mode's medians and their ratio to none's (one run)."""
    header = ["routes", "policies", *(title for _, title in COLUMNS[:1]), "apply", "meshgate → ACK",
              "write → 200 ratio", "apply ratio", "meshgate → ACK ratio"]
    rows = []
    for n in args.routes:
        runs = compare(n, args.changes, args.poll_ms / 1000, args.protocol, args.compare_policies)
        base = runs["none"].medians()
        for mode, run in runs.items():
            m = run.medians()
            rows.append([f"{n:,}", mode, f"{m['total']:.1f}", f"{m['apply']:.1f}", f"{m['meshgate_to_ack']:.1f}",
                         f"{m['total'] / base['total']:.2f}", f"{m['apply'] / base['apply']:.2f}",
                         f"{m['meshgate_to_ack'] / base['meshgate_to_ack']:.2f}"])
    print("| " + " | ".join(header) + " |")
    print("|" + "|".join("---:" if i != 1 else "---" for i in range(len(header))) + "|")
    for row in rows:
        print("| " + " | ".join(row) + " |")
    print(f"medians in ms of {args.changes} routes added per N and mode, the modes' probes taken in turn in one run; "
          f"{args.protocol} ADS, polled every {args.poll_ms:g} ms")
    return 0


def _sizes(text: str) -> list[int]:
    values = [int(s.replace("_", "").replace(",", "")) for s in text.split(",") if s.strip()]
    if not values or any(v < 1 or v > 50_000 for v in values):
        raise argparse.ArgumentTypeError("route counts must be between 1 and 50,000")
    return values


COLUMNS = [("total", "write → 200"), ("watcher", "watcher"), ("debounce", "debounce"), ("apply", "apply"),
           ("push", "push"), ("envoy", "Envoy ACK"), ("last", "ACK → 200"), ("meshgate_to_ack", "meshgate → ACK")]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--routes", type=_sizes, default=[100, 1000, 5000], help="N, comma-separated (default 100,1000,5000)")
    p.add_argument("--changes", type=int, default=10, help="C, routes added and probed per N (default 10)")
    p.add_argument("--poll-ms", type=float, default=5.0, help="pause between probe requests (default 5, as gateway-api-bench)")
    p.add_argument("--protocol", choices=["delta", "sotw"], default="delta")
    p.add_argument("--markdown", action="store_true", help="the table as Markdown")
    p.add_argument("--json", action="store_true", help="also every sample as JSON (stdout, one line per N)")
    from policies import KINDS
    from policies import add_argument as add_policies_argument
    add_policies_argument(p)
    p.add_argument("--compare-policies", type=lambda v: _modes(v, ("none", *KINDS)), default=None,
                   metavar="MODES", help="run these policy modes (none, routes, all; comma-separated) side by side "
                                         "per N, probes taken in turn, and print each one's medians over none's")
    args = p.parse_args(argv)
    if not 1 <= args.changes <= 1000:
        p.error("--changes must be between 1 and 1000")
    if args.compare_policies:
        return _compare_main(args)
    runs = []
    for n in args.routes:
        run = measure(n, args.changes, args.poll_ms / 1000, args.protocol, log=True, policies=args.policies)
        runs.append(run)
        errors = sum(s.errors for s in run.samples)
        print(f"N={n}: ready in {run.ready_s:.1f} s; {len(run.samples)} routes added, {errors} non-404 errors "
              f"before their 200", file=sys.stderr, flush=True)
        if args.json:
            print(json.dumps({"routes": n, "protocol": run.protocol, "ready_s": run.ready_s,
                              "medians_ms": run.medians(), "samples": [asdict(s) for s in run.samples]}), flush=True)
    header = ["routes"] + [title for _, title in COLUMNS]
    rows = [[f"{r.routes:,}"] + [f"{r.medians()[k]:.1f}" for k, _ in COLUMNS] for r in runs]
    if args.markdown:
        print("| " + " | ".join(header) + " |")
        print("|" + "|".join("---:" for _ in header) + "|")
        for row in rows:
            print("| " + " | ".join(row) + " |")
    else:
        widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(header)]
        print("  ".join(h.rjust(w) for h, w in zip(header, widths, strict=True)))
        for row in rows:
            print("  ".join(c.rjust(w) for c, w in zip(row, widths, strict=True)))
    print(f"medians in ms of {args.changes} routes added per N, {args.protocol} ADS, polled every {args.poll_ms:g} ms; "
          f"goals at 5,000 routes: write → 200 ≤ {GOALS_MS['total']:g}, meshgate → ACK ≤ "
          f"{GOALS_MS['meshgate_to_ack']:g}, apply ≤ {GOALS_MS['apply']:g}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
