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
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Self

import yaml

from meshgate.providers.kubernetes.provider import STATUS_KINDS

from . import status_checks as sc
from .ca_certificates import (
    CA_CONFIG_MAPS,
    CA_SIGNED,
    CLIENT_SIGNED,
    authority,
    ca_config_map,
    ca_signed,
    client_certificate,
)
from .checks import Checks
from .cluster import (
    GATEWAY_CLASS,
    TLS_SECRETS,
    UNUSABLE_ADDRESS,
    Certificate,
    Pod,
    documents,
    dump_all,
    endpoint_slices,
    gateway_class,
    manifest_text,
    overlay_addresses,
    pods,
    self_signed,
    tls_secret,
)
from .expect import GatewayRef, Key
from .features import skip_reason
from .mesh import MANIFESTS as MESH_MANIFESTS
from .mesh import (
    MESH_NS,
    MESH_ROUTE_KINDS,
    PROXY_PORT,
    WAYPOINT,
    Mesh,
    build_mesh,
    mesh_pods,
    pod_object,
    service_network,
)
from .model import Applied, Result, TestFailed, Timing, split_documents
from .processes import EchoPod, Meshgate, meshgate_exe
from .suite import ConformanceTest

__all__ = ["BASE_GATEWAYS", "Result", "Suite", "TestFailed", "Timing", "copy_logs", "networks"]


def networks(slot: int = 0) -> tuple[str, str]:
    """Gateway pool and Pod network of one concurrent suite (`slot`: a pytest-xdist worker's number).

    Envoy listens with SO_REUSEPORT, so two suites on the same addresses would silently share
    connections: each gets its own pair of /24s."""
    if not 0 <= slot < 80:
        raise ValueError(f"suite slot {slot} out of range")
    return f"127.1.{80 + 2 * slot}.0/24", f"127.1.{81 + 2 * slot}.0/24"


BASE_GATEWAYS = ("same-namespace", "all-namespaces", "backend-namespaces", "same-namespace-with-https-listener")



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

    # Whether meshgate computes EndpointSlices from Pod objects itself (`meshgate run`, standalone,
    # does): then the mesh's Pods are written without EndpointSlices, which would double them.
    SLICES_FROM_PODS = True

    def __init__(self, root: Path, timing: Timing | None = None, slot: int = 0, gateway: bool = True,
                 mesh: bool = False) -> None:
        """`gateway`, `mesh`: whether to apply the Gateway tests' base manifests and the mesh
        tests' (as upstream's Setup applies each when a test needs it)."""
        self.root = root
        self.timing = timing or Timing()
        self.gateway_pool, self.pod_network = networks(slot)
        self.config = root / "config"
        self.certs: dict[tuple[str, str], Certificate] = {}
        self.pods: list[EchoPod] = []
        self.test_pods: list[EchoPod] = []  # the running test's own Pods (its manifests' Deployments)
        self.meshgate: Meshgate | None = None
        self.base_objects: list[dict] = []
        self.config_maps: list[dict] = []  # the CA ConfigMaps the suite creates (ca_certificates.py)
        self.with_gateway = gateway
        self.with_mesh = mesh
        self.mesh: Mesh | None = None

    # -- lifecycle ----------------------------------------------------------------------------
    def start(self) -> None:
        """Write the base manifests and what the cluster adds, start the Pods and meshgate."""
        cluster = self.prepare()
        if self.with_gateway:
            (self.config / "manifests.yaml").write_text(manifest_text("manifests.yaml"))
        if self.mesh is not None:
            (self.config / "mesh.yaml").write_text(dump_all(list(self.mesh.objects)))
        (self.config / "cluster.yaml").write_text(dump_all(cluster))
        self.start_pods()
        self.meshgate = Meshgate(self.config, self.root / "work", self.gateway_pool)
        self.meshgate.start()
        self.wait_base_ready()

    def prepare(self) -> list[dict]:
        """Check the ports, make the directories, read the base manifests, name the Pods and
        generate the certificates: the objects a cluster adds (GatewayClass, EndpointSlices, Secrets)."""
        _check_low_ports(self.gateway_pool)
        for d in ("config", "work", "logs"):
            (self.root / d).mkdir(parents=True, exist_ok=True)
        added: list[dict] = []
        members: list[Pod] = []
        if self.with_gateway:
            self.base_objects = documents(manifest_text("manifests.yaml"))
            members = pods(self.base_objects, self.pod_network)
            self.certs = {key: self_signed(hosts) for key, hosts in TLS_SECRETS.items()}
            # The CAs the suite publishes as ConfigMaps, and the Secrets it signs with them: server
            # certificates (TLSRoute, BackendTLSPolicy) and client certificates (frontend validation).
            cas = {key: authority() for key in CA_CONFIG_MAPS}
            self.certs.update({key: ca_signed(cas[ca], names) for key, (ca, names) in CA_SIGNED.items()})
            self.certs.update({client: client_certificate(cas[ca]) for ca, client in CLIENT_SIGNED.items()})
            self.config_maps = [ca_config_map(ns, name, ca) for (ns, name), ca in cas.items()]
            added += [gateway_class(), *endpoint_slices(self.base_objects, members),
                      *(tls_secret(ns, name, cert) for (ns, name), cert in self.certs.items()), *self.config_maps]
        services = service_network(self.pod_network)
        free = [str(h) for h in ipaddress.ip_network(self.pod_network).hosts() if h not in services]
        if len(members) > len(free):
            raise RuntimeError(f"{len(members)} Pods do not fit below the service network {services}")
        if self.with_mesh:
            mesh_objects = documents(manifest_text(MESH_MANIFESTS))
            self.mesh = build_mesh(mesh_objects, self.pod_network)
            in_mesh = mesh_pods(mesh_objects, free[len(members):])
            members += in_mesh
            added += [pod_object(p) for p in in_mesh]
            if not self.SLICES_FROM_PODS:
                added += endpoint_slices(mesh_objects, in_mesh)
        self.pods = [EchoPod(p, self.root / "logs" / f"{p.namespace}.{p.name}.log", tls_files=self._mount(p),
                           client_ca=self._mount_ca(p))
                     for p in members]
        return added

    def _mount(self, pod: Pod) -> tuple[Path, Path] | None:
        """The certificate and key files of the Secret a Pod mounts (the kubelet's secret volume)."""
        secret = pod.spec.tls_secret
        if secret is None or secret not in self.certs:
            return None
        d = self.root / "secrets" / f"{secret[0]}.{secret[1]}"
        d.mkdir(parents=True, exist_ok=True)
        cert = self.certs[secret]
        (d / "crt").write_text(cert.cert_pem)
        (d / "key").write_text(cert.key_pem)
        return d / "crt", d / "key"

    def _mount_ca(self, pod: Pod) -> Path | None:
        """The ca.crt of the ConfigMap a Pod mounts for TLS_CLIENT_CACERTS (the kubelet's
        configMap volume), when it names one of the suite's CA ConfigMaps."""
        ref = pod.spec.tls_client_ca
        found = next((c for c in self.config_maps if ref is not None and
                      (c["metadata"]["namespace"], c["metadata"]["name"]) == ref), None)
        if ref is None or found is None:
            return None
        d = self.root / "configmaps" / f"{ref[0]}.{ref[1]}"
        d.mkdir(parents=True, exist_ok=True)
        (d / "ca").write_text(found["data"]["ca.crt"])
        return d / "ca"

    def start_pods(self) -> None:
        """Start the echo Pods and wait until each listens."""
        for pod in self.pods:
            pod.start()
        for pod in self.pods:
            pod.wait_ready()

    def wait_base_ready(self) -> None:
        """Wait for the suite's precondition: the GatewayClass accepted, the base Gateways ready;
        in the mesh, the waypoint programmed, served and listening."""
        if self.with_gateway:
            self._wait("the GatewayClass and base Gateways to be ready", lambda doc: sc.gateway_class_accepted(
                doc, GATEWAY_CLASS) or next(filter(None, (sc.gateway_problem(
                    doc, GatewayRef("gateway-conformance-infra", g)) for g in BASE_GATEWAYS)), None),
                self.timing.status * 2)
        if self.mesh is not None:
            self._wait("the waypoint to be ready", lambda doc: sc.gateway_problem(doc, GatewayRef(MESH_NS, WAYPOINT)),
                       self.timing.status * 2)
            self.settle()
            self._wait_waypoint_listening(self.mesh.waypoint_ip)

    def _wait_waypoint_listening(self, ip: str) -> None:
        """The waypoint's Envoy accepts on its PROXY-protocol port (its listener may be warming
        a moment after the ACK)."""
        deadline = time.monotonic() + self.timing.status * 2
        while True:
            try:
                with socket.create_connection((ip, PROXY_PORT), timeout=1):
                    return
            except OSError as exc:
                if time.monotonic() > deadline:
                    raise TestFailed(f"the waypoint's Envoy does not listen on {ip}:{PROXY_PORT}: {exc}") from None
                time.sleep(self.timing.step)

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
    def debug_address(self) -> str:
        """host:port of meshgate's debug endpoint (status, /debug/proxies)."""
        assert self.meshgate is not None
        return self.meshgate.debug

    def status(self) -> dict:
        """The status documents the tests check: here what meshgate serves (meshgate_status)."""
        return self.meshgate_status()

    def meshgate_status(self) -> dict:
        """`meshgate status --server ... -o json` (exit status 1 only means some input had problems)."""
        proc = subprocess.run([meshgate_exe(), "status", "--server", self.debug_address(), "-o", "json"],
                              capture_output=True, text=True, timeout=30, check=False)
        if not proc.stdout.strip():
            raise TestFailed(f"meshgate status failed: {proc.stderr.strip()}")
        return json.loads(proc.stdout)

    def settle(self) -> None:
        """Wait until every connected Envoy has answered all it was sent, three looks in a row with
        nothing new sent in between: status is written when config is computed, a moment before
        the Envoys have it, and a test must not meet the previous test's routes."""
        deadline = time.monotonic() + self.timing.status
        last, same = None, 0
        while same < 3:
            with urllib.request.urlopen(f"http://{self.debug_address()}/debug/proxies", timeout=10) as resp:
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
        """The Pods behind a base Service (by its selector), the running test's Pods included."""
        for obj in self.base_objects:
            meta = obj.get("metadata", {})
            if obj.get("kind") == "Service" and meta.get("name") == service.name and \
                    meta.get("namespace") == service.namespace:
                selector = obj["spec"].get("selector", {})
                return [p for p in self.pods + self.test_pods if p.pod.namespace == service.namespace and
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
        checks = self.checks(applied)
        test_pods: list[EchoPod] = []
        try:
            test_pods = self._start_test_pods(applied)
            if "Mesh" in test.features:
                self._mesh_sync(applied)
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
            finally:
                self._stop_test_pods(test_pods)
        outcome = "failed" if checks.failures else "passed"
        return Result(test, outcome, checks.failures, time.monotonic() - started, checks.unchecked)

    def _start_test_pods(self, applied: list[Applied]) -> list[EchoPod]:
        """The Pods of the Deployments a test's own manifests bring (the TCPRoute and UDPRoute tests
        have their own backends), on the next free Pod addresses, and the EndpointSlices of the
        test's Services (over the base Pods and these), written once the Pods listen."""
        objects = [o for a in applied for o in a.objects()]
        members = pods(objects, self.pod_network, skip=len(self.pods))
        started = [EchoPod(p, self.root / "logs" / f"{p.namespace}.{p.name}.log", tls_files=self._mount(p),
                           client_ca=self._mount_ca(p))
                   for p in members]
        self.test_pods = started
        for pod in started:
            pod.start()
        for pod in started:
            pod.wait_ready()
        slices = endpoint_slices(objects, [p.pod for p in self.pods] + members)
        if slices:
            self._add_test_slices(slices)
        return started

    def _add_test_slices(self, slices: list[dict]) -> None:
        """Make a test's EndpointSlices known (file mode: one more file in the watched directory)."""
        (self.config / "test-cluster.yaml").write_text(dump_all(slices))

    def _remove_test_slices(self) -> None:
        (self.config / "test-cluster.yaml").unlink(missing_ok=True)

    def _stop_test_pods(self, started: list[EchoPod]) -> None:
        self._remove_test_slices()
        for pod in started:
            pod.stop()
        self.test_pods = []

    def checks(self, applied: list[Applied]) -> Checks:
        """What the test body calls, for one run."""
        return Checks(self, applied)

    def _mesh_sync(self, applied: Sequence[Applied]) -> None:
        """Before a mesh test's requests: its routes translated and the Envoys up to date. Upstream
        only retries requests; this keeps a test from passing on the previous configuration (the
        mesh tests read no status of their own)."""
        routes = [(o["kind"], Key(o["metadata"].get("namespace", ""), o["metadata"]["name"]))
                  for a in applied for o in a.objects() if o.get("kind") in MESH_ROUTE_KINDS]
        self._wait("the test's routes to be translated", lambda doc: next(
            filter(None, (sc.mesh_route_programmed_problem(doc, r, kind) for kind, r in routes)), None),
            self.timing.status)
        self.settle()

    @property
    def usable_address(self) -> str:
        """GatewayStaticAddresses' usable address: the last of the Gateway pool (handed out last)."""
        return str(ipaddress.ip_network(self.gateway_pool).broadcast_address - 1)

    def test_documents(self, manifest: str) -> list[str]:
        """A test's manifest as applied: its documents, static address placeholders filled as the
        suite's Applier does."""
        text = manifest_text(manifest)
        docs = []
        for doc in split_documents(text):
            objs = documents(doc)
            overlaid = overlay_addresses(objs[0], self.usable_address, UNUSABLE_ADDRESS) if len(objs) == 1 else None
            docs.append(doc if overlaid is None else yaml.safe_dump(overlaid, sort_keys=False))
        return docs

    def _apply(self, manifest: str) -> Applied:
        docs = self.test_documents(manifest)
        path = self.config / f"test-{manifest.replace('/', '-')}"
        path.write_text("---\n".join(docs))
        return Applied(path, docs)

    def _cleanup(self, applied: Sequence[Applied]) -> None:
        owned = [(o["kind"], Key(o["metadata"].get("namespace", ""), o["metadata"]["name"]))
                 for a in applied for o in a.objects()
                 if o.get("kind") in STATUS_KINDS and o.get("kind") != "GatewayClass"]
        for a in applied:
            a.path.unlink(missing_ok=True)
        self._wait("the test's objects to be gone", lambda doc: next(
            (f"{kind} {key} still has status" for kind, key in owned if sc.find(doc, kind, key)), None),
            self.timing.cleanup)
        self.settle()



def copy_logs(suite: Suite, dest: Path) -> None:
    """Keep the Pods' and Envoys' logs of a run (for a failure report)."""
    dest.mkdir(parents=True, exist_ok=True)
    for sub in ("logs", "work"):
        src = suite.root / sub
        if src.exists():
            shutil.copytree(src, dest / sub, dirs_exist_ok=True)
