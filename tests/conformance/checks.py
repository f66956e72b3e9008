"""What a test body calls (suite.Checks), bound to one test run of a Suite (runner.py)."""

from __future__ import annotations

import http.client
import json
import time
import urllib.request
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import TYPE_CHECKING

import yaml

from . import status_checks as sc
from .client import round_trip
from .cluster import Pod, documents
from .compare import compare
from .expect import Expect, GatewayRef, Key, Request
from .mesh import MESH_NS
from .mesh_client import MeshClient, compare_mesh
from .model import Applied, TestFailed
from .processes import EchoPod
from .stream_checks import StreamChecks
from .suite import Condition, ExpectedListener, ExpectedParent, Generated, Reply

if TYPE_CHECKING:
    from .runner import Suite

GATEWAY_NAME_LABEL = "gateway.networking.k8s.io/gateway-name"


def with_unique_query(expected: Expect) -> Expect:
    """The expectation of one probe: its request with a new UUID in `unique_query`, if any."""
    if not expected.unique_query:
        return expected
    path = expected.request.path
    path += ("&" if "?" in path else "?") + f"{expected.unique_query}={uuid.uuid4()}"
    return replace(expected, request=replace(expected.request, path=path))


class Checks(StreamChecks):
    """What a test body calls (suite.Checks), bound to one test run."""

    def __init__(self, suite: Suite, applied: list[Applied]) -> None:
        self.suite = suite
        self.applied = applied
        self.failures: list[str] = []
        self.unchecked: list[str] = []
        # metadata.generation of the objects whose spec the test has patched (else 1, as applied).
        self.generations: dict[tuple[str, Key], int] = {}

    def generation(self, kind: str, key: Key) -> int:
        """The generation the API server gives the object now: 1, plus one per spec patch."""
        return self.generations.get((kind, key), sc.GENERATION)

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

    def gateway_and_routes_accepted(self, gateway: GatewayRef, *routes: Key, route_kind: str = "HTTPRoute") -> str:
        doc = self.suite._wait(f"Gateway {gateway.key} and routes {', '.join(map(str, routes))} to be accepted",
                               lambda d: sc.gateway_problem(d, gateway, self.generation("Gateway", gateway.key)) or next(
                                   filter(None, (sc.route_accepted_problem(d, r, gateway.key, route_kind)
                                                 for r in routes)), None),
                               self.suite.timing.status)
        self.suite.settle()
        return self._address(doc, gateway)

    def gateway_address(self, gateway: GatewayRef) -> str:
        doc = self.suite._wait(f"Gateway {gateway.key} to have an address",
                               lambda d: sc.gateway_address_problem(d, gateway.key, self.generation("Gateway", gateway.key)),
                               self.suite.timing.status)
        return self._address(doc, gateway)

    def gateway_latest_conditions(self, gateway: Key) -> None:
        self.suite._wait(f"Gateway {gateway} to have its latest conditions",
                         lambda d: sc.gateway_latest_problem(d, gateway, self.generation("Gateway", gateway)),
                         self.suite.timing.status)

    def gateway_condition(self, gateway: Key, condition: Condition) -> None:
        self.suite._wait(f"Gateway {gateway} to have {condition.type}={condition.status}",
                         lambda d: sc.gateway_condition_problem(d, gateway, condition, self.generation("Gateway", gateway)),
                         self.suite.timing.status)

    def gateway_spec(self, gateway: Key) -> dict:
        return self._gateway_spec(gateway)

    def gateway_status_addresses(self, gateway: Key) -> list[dict]:
        """The Gateway's status.addresses now (empty without status)."""
        obj = sc.find(self.suite.status(), "Gateway", gateway)
        return list((obj or {}).get("status", {}).get("addresses") or [])

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

    def pods(self, deployment: Key) -> list[Pod]:
        """The Pods of a base Deployment, by its selector (the suite's Pod list by label)."""
        for obj in self.suite.base_objects:
            md = obj.get("metadata", {})
            if obj.get("kind") == "Deployment" and md.get("name") == deployment.name and \
                    md.get("namespace") == deployment.namespace:
                selector = obj["spec"]["selector"].get("matchLabels", {})
                return [p.pod for p in self.suite.pods if p.pod.namespace == deployment.namespace and
                        all(dict(p.pod.labels).get(k) == v for k, v in selector.items())]
        raise TestFailed(f"no Deployment {deployment} in the base manifests")

    def not_checked(self, what: str) -> None:
        self.unchecked.append(what)

    def route_resolved_refs(self, route: Key, gateway: Key) -> None:
        self.route_condition(route, gateway, Condition("ResolvedRefs", "True", "ResolvedRefs"))

    def route_condition(self, route: Key, gateway: Key, condition: Condition, route_kind: str = "HTTPRoute",
                        parent_kind: str = "Gateway") -> None:
        self.suite._wait(f"{route_kind} {route} to have {condition.type}={condition.status}",
                         lambda d: sc.route_condition_problem(d, route, gateway, condition, route_kind, parent_kind),
                         self.suite.timing.status)

    def routes_and_parent_accepted(self, parent_kind: str, parent: Key, *routes: Key,
                                   route_kind: str = "HTTPRoute") -> None:
        """RoutesAndParentMustBeAccepted: the parent (a ListenerSet) Accepted, each route Accepted by it."""
        self.suite._wait(
            f"{parent_kind} {parent} and routes {', '.join(map(str, routes))} to be accepted",
            lambda d: sc.object_condition_problem(d, parent_kind, parent, Condition("Accepted")) or next(
                filter(None, (sc.route_accepted_problem(d, r, parent, route_kind, parent_kind) for r in routes)), None),
            self.suite.timing.status)

    def object_condition(self, kind: str, key: Key, condition: Condition) -> None:
        """<Kind>MustHaveCondition for kinds other than routes (ListenerSetMustHaveCondition)."""
        self.suite._wait(f"{kind} {key} to have {condition.type}={condition.status}",
                         lambda d: sc.object_condition_problem(d, kind, key, condition), self.suite.timing.status)

    def listener_conditions(self, kind: str, key: Key, conditions: Sequence[Condition], *names: str) -> None:
        """GatewayListenersMustHaveConditions / ListenerSetListenersMustHaveConditions."""
        self.suite._wait(f"{kind} {key} listeners {', '.join(names) or '(all)'} conditions",
                         lambda d: sc.listener_conditions_problem(d, kind, key, conditions, names),
                         self.suite.timing.status)

    def attached_listener_sets(self, gateway: Key, count: int) -> None:
        """GatewayMustHaveAttachedListeners."""
        self.suite._wait(f"Gateway {gateway} to have {count} attached ListenerSets",
                         lambda d: sc.attached_listener_sets_problem(d, gateway, count), self.suite.timing.status)

    def policy_condition(self, kind: str, policy: Key, gateway: Key, condition: Condition,
                         generation: int = 1) -> None:
        """BackendTLSPolicyMustHaveCondition (at `generation`, the policy's latest)."""
        self.suite._wait(f"{kind} {policy} to have {condition} for {gateway}",
                         lambda d: sc.policy_condition_problem(d, kind, policy, gateway, condition, generation),
                         self.suite.timing.status)

    def listener_set_listeners(self, key: Key, listeners: Sequence[ExpectedListener]) -> None:
        """ListenerSetStatusMustHaveListeners."""
        self.suite._wait(f"ListenerSet {key} listener status",
                         lambda d: sc.listeners_problem(d, key, listeners, "ListenerSet"), self.suite.timing.status)

    def route_parents(self, route: Key, parents: Sequence[ExpectedParent], namespace_required: bool,
                      route_kind: str = "HTTPRoute") -> None:
        self.suite._wait(f"{route_kind} {route} to have its parents",
                         lambda d: sc.route_parents_problem(d, route, parents, namespace_required, route_kind),
                         self.suite.timing.status)

    def route_no_accepted_parents(self, route: Key, route_kind: str = "HTTPRoute") -> None:
        self.suite._wait(f"{route_kind} {route} to have no accepted parent",
                         lambda d: sc.route_no_accepted_parents_problem(d, route, route_kind), self.suite.timing.status)

    def gateway_zero_routes(self, gateway: Key) -> None:
        self.suite._wait(f"Gateway {gateway} to have no attached route",
                         lambda d: sc.gateway_zero_routes_problem(d, gateway), self.suite.timing.status)

    def gateway_listeners(self, gateway: Key, listeners: Sequence[ExpectedListener]) -> None:
        self.suite._wait(f"Gateway {gateway} listener status",
                         lambda d: sc.listeners_problem(d, gateway, listeners,
                                                        generation=self.generation("Gateway", gateway)),
                         self.suite.timing.status)

    # -- traffic ------------------------------------------------------------------------------------
    def _cert(self, tls_cert: Key | None) -> str | None:
        if tls_cert is None:
            return None
        cert = self.suite.certs.get((tls_cert.namespace, tls_cert.name))
        if cert is None:
            raise TestFailed(f"no generated certificate for Secret {tls_cert}")
        return cert.cert_pem

    def tls_secret_certificate(self, secret: Key) -> str:
        """The PEM certificate (tls.crt) of a TLS Secret the suite made (kubernetes.GetTLSSecret)."""
        return self._cert(secret) or ""

    def _client_files(self, client_cert: Key | None) -> tuple[str, str] | None:
        """A client certificate Secret the suite made, as the certificate and key files ssl loads."""
        if client_cert is None:
            return None
        cert = self.suite.certs.get((client_cert.namespace, client_cert.name))
        if cert is None:
            raise TestFailed(f"no generated certificate for Secret {client_cert}")
        where = self.suite.root / "client-certificates"
        where.mkdir(exist_ok=True)
        crt, key = where / f"{client_cert.namespace}.{client_cert.name}.crt", where / f"{client_cert.namespace}.{client_cert.name}.key"
        crt.write_text(cert.cert_pem)
        key.write_text(cert.key_pem)
        return str(crt), str(key)

    def request(self, address: str, request: Request, tls_cert: Key | None = None, server_name: str = "") -> Reply:
        return round_trip(address, request, self._cert(tls_cert), server_name=server_name)

    def expect_tls_failure(self, address: str, request: Request, tls_cert: Key, server_name: str,
                           client_cert: Key | None = None) -> None:
        """MakeTLSRequestAndExpectEventuallyConsistentFailureResponse: the TLS request (trusting
        `tls_cert`, presenting `client_cert` if any) fails (no answer at all: a refused connection,
        a handshake or read error), the required number of times in a row. Soft, as `expect`."""
        timing = self.suite.timing
        cert, files = self._cert(tls_cert), self._client_files(client_cert)
        deadline = time.monotonic() + timing.consistency
        streak = 0
        while streak < timing.consecutive:
            try:
                reply = round_trip(address, request, cert, server_name=server_name, client_cert=files)
                streak = 0
                if time.monotonic() > deadline:
                    self.failures.append(f"TLS request to {request.host}{request.path} at {address} should fail, "
                                         f"got status {reply.status}")
                    return
                time.sleep(timing.step)
            except OSError:
                streak += 1

    def requests(self, address: str, request: Request, count: int, concurrency: int) -> list[Reply]:
        with ThreadPoolExecutor(max_workers=concurrency) as pool:
            return list(pool.map(lambda _: round_trip(address, request), range(count)))

    def expect(self, address: str, expected: Expect, tls_cert: Key | None = None, server_name: str = "",
               client_cert: Key | None = None) -> None:
        timing = self.suite.timing
        cert = self._cert(tls_cert)
        files = self._client_files(client_cert)
        scheme = "https" if cert else "http"
        mirrors = {k: [(p, len(p.logs())) for p in self.suite.pods_of(k)] for k in expected.mirrored_to}
        deadline = time.monotonic() + timing.consistency
        streak, problem = 0, ""
        while streak < timing.consecutive:
            probe = with_unique_query(expected)
            try:
                reply = round_trip(address, probe.request, cert, dict(expected.backend_set_response_headers),
                                   server_name, files)
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

    def expect_failure(self, address: str, request: Request) -> None:
        """MakeRequestAndExpectFailure (WaitForConsistentFailureResponse): a 200 fails the test
        at once; any other answer counts, until seen enough times in a row."""
        timing = self.suite.timing
        deadline = time.monotonic() + timing.consistency
        streak = 0
        while streak < timing.consecutive:
            try:
                reply = round_trip(address, request)
            except OSError:
                streak = 0
            else:
                if reply.status == 200:
                    raise TestFailed(f"request {request} should have failed, got 200")
                streak += 1
                continue
            if time.monotonic() > deadline:
                raise TestFailed(f"request {request}: no answer")
            time.sleep(timing.step)

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

    def expect_each(self, address: str, expected: Expect, count: int, concurrency: int) -> None:
        """`count` copies of one expectation, `concurrency` at a time, each retried until it is met
        once (upstream's MakeRequestAndExpectEventuallyConsistentResponse with
        RequiredConsecutiveSuccesses 1, in goroutines). Hard: stops the test on a failure."""
        def one(_: int) -> str | None:
            deadline = time.monotonic() + self.suite.timing.consistency
            while True:
                try:
                    problem = compare(expected, round_trip(address, expected.request), "http")
                except OSError as exc:
                    problem = f"request failed: {exc}"
                if problem is None or time.monotonic() > deadline:
                    return problem
                time.sleep(self.suite.timing.step)

        with ThreadPoolExecutor(max_workers=concurrency) as pool:
            problems = [p for p in pool.map(one, range(count)) if p]
        if problems:
            raise TestFailed(f"{expected.title()}: {len(problems)} of {count} requests failed: {problems[0]}")

    def mirrored_count(self, service: Key, path: str) -> int:
        """How many requests to `path` (query included) the Pods of `service` logged as mirrored
        (upstream's GetMirrorLogRegexp over DumpEchoLogs), once that count stops moving: mirrors
        are sent after the answer, so the last ones may still be on their way."""
        line = f"Echoing back request made to {path} to client"
        pods = self.suite.pods_of(service)
        deadline = time.monotonic() + self.suite.timing.consistency
        last, same = -1, 0
        while same < 3 and time.monotonic() < deadline:
            count = sum(p.logs().count(line) for p in pods)
            same = same + 1 if count == last else 0
            last = count
            time.sleep(self.suite.timing.step * 4)
        return last

    # -- the mesh -----------------------------------------------------------------------------------
    def mesh_client(self, app: str, namespace: str = MESH_NS) -> MeshClient:
        mesh = self.suite.mesh
        if mesh is None:
            raise TestFailed("this suite runs without the mesh manifests (a mesh test needs them)")
        wanted = dict(kv.split("=", 1) for kv in app.split(","))
        pods = sorted((p.pod for p in self.suite.pods if p.pod.namespace == namespace and
                       all(dict(p.pod.labels).get(k) == v for k, v in wanted.items())), key=lambda p: p.name)
        if not pods:
            raise TestFailed(f"no pods found in app {app}")
        return MeshClient(mesh, pods[0])

    def mesh_expect(self, client: MeshClient, expected: Expect) -> None:
        timing = self.suite.timing
        deadline = time.monotonic() + timing.consistency
        streak, problem = 0, ""
        while streak < timing.consecutive:
            try:
                problem = compare_mesh(expected, client.request(expected)) or ""
            except (OSError, http.client.HTTPException) as exc:
                problem = f"request failed: {exc!r}"
            streak = 0 if problem else streak + 1
            if problem:
                if time.monotonic() > deadline:
                    self.failures.append(f"{expected.title()}: {problem}")
                    return
                time.sleep(timing.step)

    def mesh_batch(self, client: MeshClient, expected: Expect, count: int) -> list[Reply]:
        try:
            return client.batch(expected, count)
        except (OSError, http.client.HTTPException) as exc:
            raise TestFailed(f"batch request failed: {exc!r}") from exc

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

    def get(self, kind: str, key: Key) -> dict | None:
        """The object as last written: by the test (applied, created, patched) or the suite."""
        for obj in [o for a in reversed(self.applied) for o in a.objects()] + self.suite.config_maps:
            if _is(obj, kind, key):
                return obj
        return None

    def apply(self, obj: dict) -> None:
        """Create one more object (the suite's MustApplyObjectsWithCleanup): appended to the test's
        first manifest file, and so removed with it."""
        a = self.applied[0]
        a.docs.append(yaml.safe_dump(obj, sort_keys=False))
        a.path.write_text("---\n".join(a.docs))

    def patch(self, kind: str, key: Key, change: dict) -> None:
        """A JSON merge patch (RFC 7386) of one object the test applied, as `kubectl patch --type
        merge`; a change of its spec moves its generation on (what later status checks expect)."""
        self._patch(kind, key, change)
        if "spec" in change:
            self.generations[(kind, key)] = self.generation(kind, key) + 1

    def _patch(self, kind: str, key: Key, change: dict) -> None:
        """The patch itself: here the object's file rewritten."""
        for a in self.applied:
            for i, doc in enumerate(a.docs):
                objs = documents(doc)
                if len(objs) == 1 and _is(objs[0], kind, key):
                    a.docs[i] = yaml.safe_dump(merge_patch(objs[0], change), sort_keys=False)
                    a.path.write_text("---\n".join(a.docs))
                    return
        raise TestFailed(f"patch: no {kind} {key} was applied by this test")

    def latest_generation(self, kind: str, key: Key, generation: int, parent: Key | None = None) -> None:
        """<Kind>MustHaveLatestConditions at `generation` (after spec changes), Accepted."""
        self.suite._wait(f"{kind} {key} to have conditions of generation {generation}",
                         lambda d: sc.latest_generation_problem(d, kind, key, generation, parent),
                         self.suite.timing.status)

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


def _is(obj: dict, kind: str, key: Key) -> bool:
    md = obj.get("metadata", {})
    return obj.get("kind") == kind and md.get("name") == key.name and md.get("namespace", "") == key.namespace


def merge_patch(target: object, patch: object) -> object:
    """RFC 7386: `patch` merged into `target` (objects recursively, null deletes, the rest replaces)."""
    if not isinstance(patch, dict):
        return patch
    out = dict(target) if isinstance(target, dict) else {}
    for k, v in patch.items():
        if v is None:
            out.pop(k, None)
        else:
            out[k] = merge_patch(out.get(k), v)
    return out
