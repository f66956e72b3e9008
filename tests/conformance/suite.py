"""A conformance test as data: its name, manifests, features and body (Go's suite.ConformanceTest).

Bodies receive a `Checks` (the calls the upstream test makes through `kubernetes.*`, `http.*`
and `tls.*` helpers) and fail through it; they never touch processes or files themselves.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from .expect import MESH, Expect, GatewayRef, Key, Request


@dataclass(frozen=True)
class Condition:
    """An expected status condition; an empty reason accepts any."""

    type: str
    status: str = "True"
    reason: str = ""


@dataclass(frozen=True)
class ExpectedParent:
    """One expected `status.parents[]` entry of a route (Go's gatewayv1.RouteParentStatus)."""

    gateway: Key
    section_name: str = ""
    conditions: tuple[Condition, ...] = ()
    # Whether the expected parentRef carries the namespace (it must then equal the Gateway's).
    namespaced: bool = True
    kind: str = "Gateway"  # the parent's kind (a ListenerSet's routes name it)


@dataclass(frozen=True)
class ExpectedListener:
    """One expected `status.listeners[]` entry (Go's gatewayv1.ListenerStatus)."""

    name: str
    attached_routes: int
    supported_kinds: tuple[str, ...] = ("HTTPRoute",)
    conditions: tuple[Condition, ...] = ()


@dataclass(frozen=True)
class Reply:
    """A response as the client saw it; `echo` is the backend's JSON echo when there was one."""

    status: int
    headers: dict[str, list[str]]  # lower-case name -> values
    body: bytes
    echo: dict | None

    def header(self, name: str) -> str | None:
        values = self.headers.get(name.lower())
        return ",".join(values) if values else None


@dataclass(frozen=True)
class Generated:
    """A resource created for a Gateway, as the suite lists them (ServiceAccount, Pod, Service):
    its kind, name, labels and annotations."""

    kind: str
    name: str
    labels: dict[str, str]
    annotations: dict[str, str]


class MeshPod(Protocol):
    """A Pod in the mesh that requests are sent from (upstream's echo.MeshPod)."""

    @property
    def address(self) -> str:
        """The Pod's IP."""

    def request(self, expected: Expect) -> Reply:
        """One request of `expected`, answered as seen."""

    def batch(self, expected: Expect, count: int) -> list[Reply]:
        """`count` copies of one request."""


class Checks(Protocol):
    """What a test body can do. Status checks stop the test on failure (Go's require);
    `expect` records a failed subtest and lets the body go on (Go's t.Run + t.Errorf)."""

    def gateway_and_routes_accepted(self, gateway: GatewayRef, *routes: Key, route_kind: str = "HTTPRoute") -> str:
        """GatewayAndRoutesMustBeAccepted (routes of `route_kind`): the Gateway has an address, every route has an
        Accepted=True/Accepted parent entry for it and every (named) listener is Accepted,
        ResolvedRefs and Programmed. Returns the test address "ip:port" (first or named listener)."""

    def gateway_address(self, gateway: GatewayRef) -> str:
        """GatewayMustHaveAddress (+ the port of the first, or named, listener): "ip:port"."""

    def gateway_latest_conditions(self, gateway: Key) -> None:
        """GatewayMustHaveLatestConditions: every condition has the latest observedGeneration."""

    def gateway_condition(self, gateway: Key, condition: Condition) -> None:
        """GatewayMustHaveCondition (an empty reason accepts any)."""

    def gateway_spec(self, gateway: Key) -> dict:
        """The Gateway's spec as applied (the suite's client.Get of it)."""

    def generated(self, gateway: Key) -> list[Generated]:
        """What was created for the Gateway carrying the `gateway.networking.k8s.io/gateway-name`
        label (the suite lists ServiceAccounts, Pods and Services by it). Without Kubernetes
        meshgate creates one thing per Gateway: its managed Envoy (kind "Envoy"), whose node
        metadata holds its labels and annotations; it stands in for the Gateway's Pod."""

    def not_checked(self, what: str) -> None:
        """Record an upstream assertion this harness cannot make, and why (shown with the result)."""

    def route_resolved_refs(self, route: Key, gateway: Key) -> None:
        """HTTPRouteMustHaveResolvedRefsConditionsTrue."""

    def route_condition(self, route: Key, gateway: Key, condition: Condition) -> None:
        """HTTPRouteMustHaveCondition: the route's parent entry for the Gateway has this condition."""

    def route_parents(self, route: Key, parents: Sequence[ExpectedParent], namespace_required: bool) -> None:
        """HTTPRouteMustHaveParents: the route's parents match these (in any order)."""

    def gateway_listeners(self, gateway: Key, listeners: Sequence[ExpectedListener]) -> None:
        """GatewayStatusMustHaveListeners: exactly these listeners, attachedRoutes, kinds, conditions."""

    def routes_and_parent_accepted(self, parent_kind: str, parent: Key, *routes: Key,
                                   route_kind: str = "HTTPRoute") -> None:
        """RoutesAndParentMustBeAccepted: the parent (e.g. a ListenerSet) is Accepted and each
        route has an Accepted=True/Accepted entry for it."""

    def object_condition(self, kind: str, key: Key, condition: Condition) -> None:
        """<Kind>MustHaveCondition for a kind that is no route (ListenerSetMustHaveCondition)."""

    def listener_conditions(self, kind: str, key: Key, conditions: Sequence[Condition], *names: str) -> None:
        """GatewayListenersMustHaveConditions / ListenerSetListenersMustHaveConditions: each named
        listener (all when none is named) has every one of `conditions`."""

    def policy_condition(self, kind: str, policy: Key, gateway: Key, condition: Condition,
                         generation: int = 1) -> None:
        """BackendTLSPolicyMustHaveCondition: the policy's ancestor entry for the Gateway has the
        condition, and every ancestor's conditions carry `generation` (the latest)."""

    def expect_failure(self, address: str, request: Request) -> None:
        """MakeRequestAndExpectFailure: consistently answered, never 200 (a 200 fails at once)."""

    def apply(self, obj: dict) -> None:
        """Create one more object during the test (removed with the test's objects at cleanup)."""

    def get(self, kind: str, key: Key) -> dict | None:
        """One object as the cluster holds it (the suite's client.Get): applied, or created by the suite."""

    def attached_listener_sets(self, gateway: Key, count: int) -> None:
        """GatewayMustHaveAttachedListeners: status.attachedListenerSets (unset counts as 0)."""

    def listener_set_listeners(self, key: Key, listeners: Sequence[ExpectedListener]) -> None:
        """ListenerSetStatusMustHaveListeners."""

    def expect(self, address: str, expected: Expect, tls_cert: Key | None = None, server_name: str = "") -> None:
        """MakeRequestAndExpectEventuallyConsistentResponse (with `tls_cert`: the TLS variant,
        trusting that Secret's certificate; SNI = `server_name`, else the request host).
        Soft: a failure is recorded."""

    def request(self, address: str, request: Request, tls_cert: Key | None = None, server_name: str = "") -> Reply:
        """One request, answered as seen (no retries, redirects not followed)."""

    def requests(self, address: str, request: Request, count: int, concurrency: int) -> list[Reply]:
        """`count` copies of one request, `concurrency` at a time (for distribution tests)."""

    def expect_websocket(self, address: str, messages: Sequence[str | bytes], name: str, path: str = "/ws",
                         origin: str = "ws://gateway/") -> None:
        """Dial ws://address/path with `origin`, send `messages`; each must come back unchanged,
        consistently (soft). The gRPC, TCP, UDP and DNS variants: stream_checks.StreamChecks."""

    def mesh_client(self, app: str, namespace: str = MESH) -> MeshPod:
        """echo.ConnectToAppInNamespace: the first Pod of `app` ("app=echo,version=v1") in
        `namespace` (gateway-conformance-mesh when not given), to send requests from."""

    def mesh_expect(self, client: MeshPod, expected: Expect) -> None:
        """MeshPod.MakeRequestAndExpectEventuallyConsistentResponse (upstream's mesh comparison,
        mesh_client.compare_mesh). Soft: a failure is recorded."""

    def mesh_batch(self, client: MeshPod, expected: Expect, count: int) -> list[Reply]:
        """MeshPod.RequestBatch: `count` copies of one request, answered as seen."""

    def delete(self, kind: str, key: Key) -> None:
        """Delete one object the test applied (the suite's client.Delete)."""

    def fail(self, message: str) -> None:
        """Record a failure and stop the test."""

    def eventually(self, what: str, check: Callable[[], str | None]) -> None:
        """Retry `check` (None = ok, else the reason) until it passes or the time is up (then fail)."""


@dataclass(frozen=True)
class ConformanceTest:
    """One upstream test (same ShortName), run from the manifests of the same name."""

    short_name: str
    description: str
    manifests: tuple[str, ...]
    features: tuple[str, ...]
    body: Callable[[Checks], None]
    provisional: bool = False
    # Where the upstream source was read (file and the commit or fork, when not the pinned one).
    source: str = ""
    extra: dict = field(default_factory=dict)


def expect_all(t: Checks, address: str, cases: Iterable[Expect], tls_cert: Key | None = None) -> None:
    """Each row of a test table, in order (the Go `for _, tc := range testCases { t.Run(...) }`)."""
    for case in cases:
        t.expect(address, case, tls_cert)


# The apps upstream's mesh tests send from (echo.MeshApplication: Pod labels).
ECHO_V1 = "app=echo,version=v1"
ECHO_V2 = "app=echo,version=v2"
MESH_SOURCE = "conformance/tests/mesh/{} @ 4564255ac2c35d582249b3cdf261bdf51c8bca32"


def mesh_expect_all(t: Checks, cases: Iterable[Expect], app: str = ECHO_V1, namespace: str = MESH) -> None:
    """Each row of a mesh test's table, sent from the first Pod of `app` (echo.ConnectToApp, then
    client.MakeRequestAndExpectEventuallyConsistentResponse per row)."""
    client = t.mesh_client(app, namespace)
    for case in cases:
        t.mesh_expect(client, case)
