"""Running conformance tests: the "cluster" (config directory, echo Pods, meshgate) and each test.

A `Suite` applies the base manifests once, then per test writes the test's manifest into the
watched directory, runs its body against the live Envoys and removes the manifest again, waiting
until meshgate has forgotten its objects (the upstream suite's apply / test / cleanup cycle).
"""

from __future__ import annotations

import ipaddress
import json
import shutil
import socket
import subprocess
import time
import urllib.request
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Self

from . import status_checks as sc
from .client import round_trip
from .cluster import (
    GATEWAY_CLASS,
    TLS_SECRETS,
    Certificate,
    documents,
    dump_all,
    endpoint_slices,
    gateway_class,
    manifest_text,
    pods,
    self_signed,
    tls_secret,
)
from .compare import compare
from .expect import Expect, GatewayRef, Key, Request
from .features import skip_reason
from .processes import EchoPod, Meshgate, meshgate_exe
from .suite import Condition, ConformanceTest, ExpectedListener, ExpectedParent, Generated, Reply

GATEWAY_NAME_LABEL = "gateway.networking.k8s.io/gateway-name"


def networks(slot: int = 0) -> tuple[str, str]:
    """Gateway pool and Pod network of one concurrent suite (`slot`: a pytest-xdist worker's number).

    Envoy listens with SO_REUSEPORT, so two suites on the same addresses would silently share
    connections: each gets its own pair of /24s."""
    if not 0 <= slot < 80:
        raise ValueError(f"suite slot {slot} out of range")
    return f"127.1.{80 + 2 * slot}.0/24", f"127.1.{81 + 2 * slot}.0/24"

BASE_GATEWAYS = ("same-namespace", "all-namespaces", "backend-namespaces", "same-namespace-with-https-listener")


@dataclass(frozen=True)
class Timing:
    """How long to wait for things to settle (upstream's TimeoutConfig, shortened: all is local)."""

    status: float = 20.0  # status to show what a test expects
    consistency: float = 15.0  # a response to become the expected one
    consecutive: int = 3  # successes in a row that count as consistent (RequiredConsecutiveSuccesses)
    cleanup: float = 20.0
    step: float = 0.05


class TestFailed(Exception):
    """A hard failure: the test stops."""


@dataclass
class Result:
    """How one test went."""

    test: ConformanceTest
    outcome: str  # passed | failed | skipped
    reasons: list[str] = field(default_factory=list)
    seconds: float = 0.0
    not_checked: list[str] = field(default_factory=list)  # upstream assertions this harness cannot make


@dataclass
class _Applied:
    """A manifest written into the watched directory, as documents (text kept for rewriting)."""

    path: Path
    docs: list[str]

    def objects(self) -> list[dict]:
        return [o for d in self.docs for o in documents(d)]


def _split(text: str) -> list[str]:
    parts, current = [], []
    for line in text.splitlines(keepends=True):
        if line.rstrip() == "---":
            parts.append("".join(current))
            current = []
        else:
            current.append(line)
    parts.append("".join(current))
    return [p for p in parts if documents(p)]


def _check_low_ports(pool: str) -> None:
    """The manifests' Gateways listen on 80 and 443: say so plainly when that is not allowed."""
    ip = str(next(ipaddress.ip_network(pool).hosts()))
    with socket.socket() as s:
        try:
            s.bind((ip, 80))
        except PermissionError:
            raise RuntimeError("the conformance Gateways keep the manifests' ports (80, 443): run as root, or "
                               "allow low ports (sysctl net.ipv4.ip_unprivileged_port_start=80)") from None
        except OSError:
            pass  # in use: a Gateway of another run; binding is allowed, which is what is checked here


class Suite:
    """The running stand-in for a cluster with meshgate installed."""

    def __init__(self, root: Path, timing: Timing = Timing(), slot: int = 0) -> None:
        self.root = root
        self.timing = timing
        self.gateway_pool, self.pod_network = networks(slot)
        self.config = root / "config"
        self.certs: dict[tuple[str, str], Certificate] = {}
        self.pods: list[EchoPod] = []
        self.meshgate: Meshgate | None = None
        self.base_objects: list[dict] = []

    # -- lifecycle ----------------------------------------------------------------------------
    def start(self) -> None:
        """Write the base manifests and what the cluster adds, start the Pods and meshgate."""
        _check_low_ports(self.gateway_pool)
        for d in ("config", "work", "logs"):
            (self.root / d).mkdir(parents=True, exist_ok=True)
        base = manifest_text("manifests.yaml")
        self.base_objects = documents(base)
        members = pods(self.base_objects, self.pod_network)
        self.certs = {key: self_signed(hosts) for key, hosts in TLS_SECRETS.items()}
        cluster = [gateway_class(), *endpoint_slices(self.base_objects, members),
                   *(tls_secret(ns, name, cert) for (ns, name), cert in self.certs.items())]
        (self.config / "manifests.yaml").write_text(base)
        (self.config / "cluster.yaml").write_text(dump_all(cluster))
        self.pods = [EchoPod(p, self.root / "logs" / f"{p.namespace}.{p.name}.log") for p in members]
        for pod in self.pods:
            pod.start()
        for pod in self.pods:
            pod.wait_ready()
        self.meshgate = Meshgate(self.config, self.root / "work", self.gateway_pool)
        self.meshgate.start()
        self._wait("the GatewayClass and base Gateways to be ready", lambda doc: sc.gateway_class_accepted(
            doc, GATEWAY_CLASS) or next(filter(None, (sc.gateway_problem(doc, GatewayRef("gateway-conformance-infra", g))
                                                     for g in BASE_GATEWAYS)), None), self.timing.status * 2)

    def stop(self) -> None:
        """Stop meshgate (and so its Envoys) and the Pods."""
        if self.meshgate is not None:
            self.meshgate.stop()
        for pod in self.pods:
            pod.stop()

    def __enter__(self) -> Self:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- state ------------------------------------------------------------------------------------
    def status(self) -> dict:
        """`meshgate status --server ... -o json` (exit status 1 only means some input had problems)."""
        assert self.meshgate is not None
        proc = subprocess.run([meshgate_exe(), "status", "--server", self.meshgate.debug, "-o", "json"],
                              capture_output=True, text=True, timeout=30, check=False)
        if not proc.stdout.strip():
            raise TestFailed(f"meshgate status failed: {proc.stderr.strip()}")
        return json.loads(proc.stdout)

    def settle(self) -> None:
        """Wait until every connected Envoy has answered all it was sent, three looks in a row with
        nothing new sent in between: status is written when config is computed, a moment before
        the Envoys have it, and a test must not meet the previous test's routes."""
        assert self.meshgate is not None
        deadline = time.monotonic() + self.timing.status
        last, same = None, 0
        while same < 3:
            with urllib.request.urlopen(f"http://{self.meshgate.debug}/debug/proxies", timeout=10) as resp:
                proxies = json.load(resp)
            # A type whose last answer was a NACK counts as answered: the test's requests judge it.
            # A type the Envoy no longer subscribes to is skipped: Envoy ignores (and never ACKs)
            # responses for a type it has no watch on, such as the removal of its last cluster's
            # endpoints that crossed its unsubscribe.
            nonces = sorted((p["stream"], t, v["sentNonce"], v["sentNonce"] if v["lastNack"] else v["ackedNonce"])
                            for p in proxies for t, v in p["types"].items() if v["wildcard"] or v["names"])
            synced = all(sent == answered for _, _, sent, answered in nonces)
            same = same + 1 if synced and nonces == last else (1 if synced else 0)
            last = nonces
            if time.monotonic() > deadline:
                raise TestFailed("Envoys did not settle: " + str([n for n in nonces if n[2] != n[3]]))
            time.sleep(self.timing.step)

    def _wait(self, what: str, check: Callable[[dict], str | None], timeout: float) -> dict:
        deadline = time.monotonic() + timeout
        problem = "never checked"
        while True:
            doc = self.status()
            problem = check(doc)
            if problem is None:
                return doc
            if time.monotonic() > deadline:
                raise TestFailed(f"timed out waiting for {what}: {problem}")
            time.sleep(self.timing.step * 4)

    def pods_of(self, service: Key) -> list[EchoPod]:
        """The Pods behind a Service (by its selector)."""
        for obj in self.base_objects:
            meta = obj.get("metadata", {})
            if obj.get("kind") == "Service" and meta.get("name") == service.name and \
                    meta.get("namespace") == service.namespace:
                selector = obj["spec"].get("selector", {})
                return [p for p in self.pods if p.pod.namespace == service.namespace and
                        all(dict(p.pod.labels).get(k) == v for k, v in selector.items())]
        return []

    # -- one test -------------------------------------------------------------------------------
    def run(self, test: ConformanceTest, all_features: bool = False) -> Result:
        """Apply the test's manifests, run its body, clean up; never raises for a test's failure.

        A test needing a feature meshgate does not claim is skipped, unless `all_features`."""
        reason = skip_reason(test)
        if reason and not all_features:
            return Result(test, "skipped", [reason])
        started = time.monotonic()
        applied = [self._apply(name) for name in test.manifests]
        checks = Checks(self, applied)
        try:
            test.body(checks)
        except TestFailed as exc:
            checks.failures.append(str(exc))
        except Exception as exc:  # noqa: BLE001 - a harness or test bug is this test's failure, not the run's
            checks.failures.append(f"{type(exc).__name__}: {exc}")
        finally:
            try:
                self._cleanup(applied)
            except TestFailed as exc:
                checks.failures.append(f"cleanup: {exc}")
        outcome = "failed" if checks.failures else "passed"
        return Result(test, outcome, checks.failures, time.monotonic() - started, checks.unchecked)

    def _apply(self, manifest: str) -> _Applied:
        text = manifest_text(manifest)
        path = self.config / f"test-{manifest}"
        path.write_text(text)
        return _Applied(path, _split(text))

    def _cleanup(self, applied: Sequence[_Applied]) -> None:
        owned = [(o["kind"], Key(o["metadata"].get("namespace", ""), o["metadata"]["name"]))
                 for a in applied for o in a.objects() if o.get("kind") in ("Gateway", "HTTPRoute")]
        for a in applied:
            a.path.unlink(missing_ok=True)
        self._wait("the test's objects to be gone", lambda doc: next(
            (f"{kind} {key} still has status" for kind, key in owned if sc.find(doc, kind, key)), None),
            self.timing.cleanup)
        self.settle()


def _with_unique_query(expected: Expect) -> Expect:
    """The expectation of one probe: its request with a new UUID in `unique_query`, if any."""
    if not expected.unique_query:
        return expected
    path = expected.request.path
    path += ("&" if "?" in path else "?") + f"{expected.unique_query}={uuid.uuid4()}"
    return replace(expected, request=replace(expected.request, path=path))


class Checks:
    """What a test body calls (suite.Checks), bound to one test run."""

    def __init__(self, suite: Suite, applied: list[_Applied]) -> None:
        self.suite = suite
        self.applied = applied
        self.failures: list[str] = []
        self.unchecked: list[str] = []

    # -- status -------------------------------------------------------------------------------------
    def _gateway_spec(self, key: Key) -> dict:
        for obj in self.suite.base_objects + [o for a in self.applied for o in a.objects()]:
            meta = obj.get("metadata", {})
            if obj.get("kind") == "Gateway" and meta.get("name") == key.name and meta.get("namespace") == key.namespace:
                return obj["spec"]
        raise TestFailed(f"no Gateway {key} in the manifests")

    def _address(self, doc: dict, gateway: GatewayRef) -> str:
        ip = sc.gateway_ip(doc, gateway.key)
        listeners = self._gateway_spec(gateway.key)["listeners"]
        if gateway.listeners:
            listeners = [ls for ls in listeners if ls["name"] == gateway.listeners[0]]
        return f"{ip}:{listeners[0]['port']}"

    def gateway_and_routes_accepted(self, gateway: GatewayRef, *routes: Key) -> str:
        doc = self.suite._wait(f"Gateway {gateway.key} and routes {', '.join(map(str, routes))} to be accepted",
                               lambda d: sc.gateway_problem(d, gateway) or next(
                                   filter(None, (sc.route_accepted_problem(d, r, gateway.key) for r in routes)), None),
                               self.suite.timing.status)
        self.suite.settle()
        return self._address(doc, gateway)

    def gateway_address(self, gateway: GatewayRef) -> str:
        doc = self.suite._wait(f"Gateway {gateway.key} to have an address",
                               lambda d: sc.gateway_address_problem(d, gateway.key), self.suite.timing.status)
        return self._address(doc, gateway)

    def gateway_latest_conditions(self, gateway: Key) -> None:
        self.suite._wait(f"Gateway {gateway} to have its latest conditions",
                         lambda d: sc.gateway_latest_problem(d, gateway), self.suite.timing.status)

    def gateway_condition(self, gateway: Key, condition: Condition) -> None:
        self.suite._wait(f"Gateway {gateway} to have {condition.type}={condition.status}",
                         lambda d: sc.gateway_condition_problem(d, gateway, condition), self.suite.timing.status)

    def gateway_spec(self, gateway: Key) -> dict:
        return self._gateway_spec(gateway)

    def generated(self, gateway: Key) -> list[Generated]:
        assert self.suite.meshgate is not None
        found: dict[str, Generated] = {}
        for admin in sorted(set(self.suite.meshgate.envoy_admins().values())):
            try:
                with urllib.request.urlopen(f"{admin}/server_info", timeout=10) as resp:
                    node = json.load(resp)["node"]
            except OSError:
                continue  # an Envoy that has stopped (its Gateway gone) is listed no more
            metadata = node.get("metadata", {})
            labels = metadata.get("meshgate.io/labels", {})
            # Listed as the suite lists: in the Gateway's namespace, by the gateway-name label.
            if metadata.get("meshgate.io/gateway", "").split("/")[0] == gateway.namespace \
                    and labels.get(GATEWAY_NAME_LABEL) == gateway.name:
                found[node["id"]] = Generated("Envoy", node["id"], labels, metadata.get("meshgate.io/annotations", {}))
        return [found[k] for k in sorted(found)]

    def not_checked(self, what: str) -> None:
        self.unchecked.append(what)

    def route_resolved_refs(self, route: Key, gateway: Key) -> None:
        self.route_condition(route, gateway, Condition("ResolvedRefs", "True", "ResolvedRefs"))

    def route_condition(self, route: Key, gateway: Key, condition: Condition) -> None:
        self.suite._wait(f"HTTPRoute {route} to have {condition.type}={condition.status}",
                         lambda d: sc.route_condition_problem(d, route, gateway, condition), self.suite.timing.status)

    def route_parents(self, route: Key, parents: Sequence[ExpectedParent], namespace_required: bool) -> None:
        self.suite._wait(f"HTTPRoute {route} to have its parents",
                         lambda d: sc.route_parents_problem(d, route, parents, namespace_required),
                         self.suite.timing.status)

    def gateway_listeners(self, gateway: Key, listeners: Sequence[ExpectedListener]) -> None:
        self.suite._wait(f"Gateway {gateway} listener status", lambda d: sc.listeners_problem(d, gateway, listeners),
                         self.suite.timing.status)

    # -- traffic ------------------------------------------------------------------------------------
    def _cert(self, tls_cert: Key | None) -> str | None:
        if tls_cert is None:
            return None
        cert = self.suite.certs.get((tls_cert.namespace, tls_cert.name))
        if cert is None:
            raise TestFailed(f"no generated certificate for Secret {tls_cert}")
        return cert.cert_pem

    def request(self, address: str, request: Request, tls_cert: Key | None = None, server_name: str = "") -> Reply:
        return round_trip(address, request, self._cert(tls_cert), server_name=server_name)

    def requests(self, address: str, request: Request, count: int, concurrency: int) -> list[Reply]:
        with ThreadPoolExecutor(max_workers=concurrency) as pool:
            return list(pool.map(lambda _: round_trip(address, request), range(count)))

    def expect(self, address: str, expected: Expect, tls_cert: Key | None = None, server_name: str = "") -> None:
        timing = self.suite.timing
        cert = self._cert(tls_cert)
        scheme = "https" if cert else "http"
        mirrors = {k: [(p, len(p.logs())) for p in self.suite.pods_of(k)] for k in expected.mirrored_to}
        deadline = time.monotonic() + timing.consistency
        streak, problem = 0, ""
        while streak < timing.consecutive:
            probe = _with_unique_query(expected)
            try:
                reply = round_trip(address, probe.request, cert, dict(expected.backend_set_response_headers),
                                   server_name)
                problem = compare(probe, reply, scheme) or ""
            except OSError as exc:
                problem = f"request failed: {exc}"
            streak = 0 if problem else streak + 1
            if problem:
                if time.monotonic() > deadline:
                    self.failures.append(f"{expected.title()}: {problem}")
                    return
                time.sleep(timing.step)
        for service, members in mirrors.items():
            self._expect_mirrored(service, members, expected)

    def _expect_mirrored(self, service: Key, pods: list[tuple[EchoPod, int]], expected: Expect) -> None:
        path = expected.request.path
        if expected.expected_request is not None and expected.expected_request.path is not None:
            path = expected.expected_request.path
        line = f"Echoing back request made to {path} to client"
        deadline = time.monotonic() + self.suite.timing.consistency
        while time.monotonic() < deadline:
            if any(line in p.logs()[offset:] for p, offset in pods):
                return
            time.sleep(self.suite.timing.step)
        self.failures.append(f"{expected.title()}: no Pod of {service} logged the mirrored request to {path}")

    # -- objects and control ------------------------------------------------------------------------
    def delete(self, kind: str, key: Key) -> None:
        for a in self.applied:
            kept = [d for d in a.docs if not any(
                o.get("kind") == kind and o["metadata"].get("name") == key.name and
                o["metadata"].get("namespace", "") == key.namespace for o in documents(d))]
            if len(kept) != len(a.docs):
                a.docs = kept
                a.path.write_text("---\n".join(kept))
                return
        raise TestFailed(f"delete: no {kind} {key} was applied by this test")

    def fail(self, message: str) -> None:
        raise TestFailed(message)

    def eventually(self, what: str, check: Callable[[], str | None]) -> None:
        deadline = time.monotonic() + self.suite.timing.consistency
        while True:
            problem = check()
            if problem is None:
                return
            if time.monotonic() > deadline:
                raise TestFailed(f"{what}: {problem}")
            time.sleep(self.suite.timing.step)


def copy_logs(suite: Suite, dest: Path) -> None:
    """Keep the Pods' and Envoys' logs of a run (for a failure report)."""
    dest.mkdir(parents=True, exist_ok=True)
    for sub in ("logs", "work"):
        src = suite.root / sub
        if src.exists():
            shutil.copytree(src, dest / sub, dirs_exist_ok=True)
