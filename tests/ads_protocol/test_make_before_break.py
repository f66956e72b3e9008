"""Make-before-break, with a gRPC client playing Envoy (Delta and State of the World).

- A cluster that leaves the config stays with the proxy until it has answered routes that no
  longer name it (a NACKed route keeps the cluster it names).
- After a Cluster is sent, added or changed, its ClusterLoadAssignment follows in the same push
  (Envoy warms the cluster until it gets it), before the routes; nothing unchanged is resent.
- A route added to a Service already in use sends only routes (a Cluster names what made it,
  not the routes using it).
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from envoy.config.cluster.v3 import cluster_pb2
from envoy.config.endpoint.v3 import endpoint_pb2

from meshgate.xds.resources import CLUSTER, ENDPOINT, LISTENER, ROUTE

from .harness import API_CLUSTER, WEB_CLUSTER, ControlPlaneUnderTest, FakeEnvoy, node

BLOG_CLUSTER = "outbound|80||blog.quickstart.svc.cluster.local"
ROUTES = "http.18080"
BLOG = """apiVersion: v1
kind: Service
metadata: {name: blog, namespace: quickstart}
spec:
  ports: [{name: http, port: 80, targetPort: http}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: blog-1
  namespace: quickstart
  labels: {kubernetes.io/service-name: blog}
addressType: IPv4
ports: [{name: http, port: 9003, protocol: TCP}]
endpoints:
- addresses: ["127.0.0.21"]
  conditions: {ready: true}
"""
DOCS = """---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: docs, namespace: quickstart}
spec:
  parentRefs: [{name: web}]
  rules:
  - matches: [{path: {type: PathPrefix, value: /docs}}]
    backendRefs: [{name: api, port: 80}]
"""
# A policy for api: its Cluster changes (load balancing, and the rule in its metadata), its
# endpoints do not.
API_RULE = """apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: api, namespace: quickstart}
spec:
  host: api.quickstart.svc.cluster.local
  trafficPolicy: {loadBalancer: {simple: LEAST_REQUEST}}
"""


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 60))


@pytest.fixture(params=["delta", "sotw"])
def delta(request: pytest.FixtureRequest) -> bool:
    return request.param == "delta"


class Proxy:
    """A FakeEnvoy that subscribes as Envoy does and answers what it is sent."""

    def __init__(self, cp: ControlPlaneUnderTest, delta: bool) -> None:
        self.envoy = FakeEnvoy(cp.channel(), delta)
        self.delta = delta
        self.names: dict[str, list[str]] = {CLUSTER: [], LISTENER: [], ENDPOINT: [API_CLUSTER, WEB_CLUSTER],
                                            ROUTE: [ROUTES]}
        self.last: dict[str, object] = {}  # type → the last response received
        self.acked: dict[str, str] = {}  # SotW: type → the version last ACKed

    @classmethod
    async def connect(cls, cp: ControlPlaneUnderTest, delta: bool) -> Proxy:
        """Subscribe to CDS, EDS, LDS and RDS, and ACK every answer."""
        p = cls(cp, delta)
        for i, type_url in enumerate((CLUSTER, ENDPOINT, LISTENER, ROUTE)):
            extra = {"node": node()} if i == 0 else {}
            if delta:
                await p.envoy.send(type_url=type_url, resource_names_subscribe=p.names[type_url], **extra)
            else:
                await p.envoy.send(type_url=type_url, resource_names=p.names[type_url], **extra)
            await p.ack(await p.recv(type_url))
        await p.envoy.expect_nothing()
        return p

    async def recv(self, type_url: str | None = None):
        resp = await self.envoy.recv()
        if type_url is not None:
            assert resp.type_url == type_url, f"expected {type_url}, got {resp}"
        self.last[resp.type_url] = resp
        return resp

    async def ack(self, resp) -> None:
        self.acked[resp.type_url] = getattr(resp, "version_info", "")
        if self.delta:
            await self.envoy.send(type_url=resp.type_url, response_nonce=resp.nonce)
        else:
            await self.envoy.send(type_url=resp.type_url, response_nonce=resp.nonce, version_info=resp.version_info,
                                  resource_names=self.names[resp.type_url])

    async def nack(self, resp) -> None:
        """Reject a response (SotW: naming the version it keeps, the last one it ACKed)."""
        await self.envoy.nack(resp.type_url, resp.nonce, "rejected by the test",
                              version=self.acked.get(resp.type_url, ""))

    async def subscribe(self, type_url: str, names: list[str]) -> None:
        """Ask for more names, as Envoy does once it has new clusters."""
        self.names[type_url] = sorted({*self.names[type_url], *names})
        if self.delta:
            await self.envoy.send(type_url=type_url, resource_names_subscribe=names)
        else:
            last = self.last[type_url]
            await self.envoy.send(type_url=type_url, response_nonce=last.nonce,  # type: ignore[attr-defined]
                                  version_info=last.version_info,  # type: ignore[attr-defined]
                                  resource_names=self.names[type_url])


def names_of(resp) -> list[str]:
    """The names a response carries (Delta: named resources; SotW: unpacked from the Anys)."""
    if hasattr(resp, "removed_resources"):
        return sorted(r.name for r in resp.resources)
    out = []
    for any_ in resp.resources:
        if resp.type_url == CLUSTER:
            c = cluster_pb2.Cluster()
            any_.Unpack(c)
            out.append(c.name)
        elif resp.type_url == ENDPOINT:
            cla = endpoint_pb2.ClusterLoadAssignment()
            any_.Unpack(cla)
            out.append(cla.cluster_name)
        else:
            out.append(any_.type_url)
    return sorted(out)


async def apply(cp: ControlPlaneUnderTest, files: dict[str, str]) -> None:
    """Write files and apply them together (as one watcher batch would), then wake the streams."""
    for name, text in files.items():
        (cp.dir / name).write_text(text)
    assert cp.control.apply(cp.control.provider.load_all()) == "full"
    await cp.cache.notify()


def web_route_to_blog(cp: ControlPlaneUnderTest) -> str:
    """routes.yaml with the route `web` moved to the Service blog, which no other route uses."""
    text = (cp.dir / "routes.yaml").read_text()
    moved = text.replace("  - backendRefs:\n    - name: web\n", "  - backendRefs:\n    - name: blog\n")
    assert moved != text
    return moved


def held(cp: ControlPlaneUnderTest) -> set[str]:
    (st,) = cp.registry.all()
    return getattr(st.types[CLUSTER], "held", set())  # (an attribute the code before make-before-break lacks)


# --------------------------------------------------------------------------------------------
# A cluster leaves only after the routes that named it


def test_a_cluster_is_removed_only_after_routes_without_it_are_acked(tmp_path: Path, delta: bool) -> None:
    async def body() -> None:
        async with ControlPlaneUnderTest(tmp_path) as cp:
            proxy = await Proxy.connect(cp, delta)
            await apply(cp, {"blog.yaml": BLOG, "routes.yaml": web_route_to_blog(cp)})
            cds = await proxy.recv(CLUSTER)
            # The new cluster comes; the old one stays: the proxy's routes still send to it.
            if delta:
                assert names_of(cds) == [BLOG_CLUSTER] and list(cds.removed_resources) == []
            else:
                assert names_of(cds) == [API_CLUSTER, BLOG_CLUSTER, WEB_CLUSTER]
            assert held(cp) == {WEB_CLUSTER}
            # Envoy asks for the new cluster's assignment as soon as it has the cluster...
            await proxy.subscribe(ENDPOINT, [BLOG_CLUSTER])
            eds = await proxy.recv(ENDPOINT)
            assert BLOG_CLUSTER in names_of(eds)  # ...but it is sent at once, unasked
            # The routes to blog wait until the proxy answers for the cluster (Envoy does once
            # the cluster is warm).
            await proxy.envoy.expect_nothing()
            await proxy.ack(cds)
            rds = await proxy.recv(ROUTE)
            await proxy.ack(eds)
            await proxy.envoy.expect_nothing()  # the routes unanswered: web stays
            (st,) = cp.registry.all()
            assert st.types[ENDPOINT].acked_nonce == eds.nonce  # the subscription took no nonce of its own
            assert held(cp) == {WEB_CLUSTER}
            # The routes that no longer name it are ACKed: now it goes, with its assignment.
            await proxy.ack(rds)
            removal = await proxy.recv(CLUSTER)
            if delta:
                assert list(removal.removed_resources) == [WEB_CLUSTER] and not removal.resources
                eds_removal = await proxy.recv(ENDPOINT)
                assert list(eds_removal.removed_resources) == [WEB_CLUSTER]
            else:
                assert names_of(removal) == [API_CLUSTER, BLOG_CLUSTER]
            assert held(cp) == set()
            await proxy.ack(removal)
            await proxy.envoy.expect_nothing()
            await proxy.envoy.close()
    run(body())


def test_a_nacked_route_keeps_the_cluster_it_names(tmp_path: Path) -> None:
    async def body() -> None:
        async with ControlPlaneUnderTest(tmp_path) as cp:
            proxy = await Proxy.connect(cp, delta=True)
            await apply(cp, {"blog.yaml": BLOG, "routes.yaml": web_route_to_blog(cp)})
            cds, eds = await proxy.recv(CLUSTER), await proxy.recv(ENDPOINT)
            await proxy.ack(cds)
            await proxy.ack(eds)
            rds = await proxy.recv(ROUTE)
            # Rejected: the proxy keeps its routes to web, so web stays.
            await proxy.nack(rds)
            await proxy.envoy.expect_nothing()
            assert held(cp) == {WEB_CLUSTER}
            # The next routes (same clusters, another header) are ACKed: web goes.
            routes = (cp.dir / "routes.yaml").read_text().replace("value: meshgate", "value: fixed")
            await apply(cp, {"routes.yaml": routes})
            rds = await proxy.recv(ROUTE)
            await proxy.envoy.expect_nothing()
            await proxy.ack(rds)
            removal = await proxy.recv(CLUSTER)
            assert list(removal.removed_resources) == [WEB_CLUSTER]
            await proxy.envoy.close()
    run(body())


def test_routes_sent_but_not_yet_answered_keep_their_clusters(tmp_path: Path) -> None:
    """Two edits before the proxy answers the first: clusters named by the routes in flight stay."""
    async def body() -> None:
        async with ControlPlaneUnderTest(tmp_path) as cp:
            proxy = await Proxy.connect(cp, delta=True)
            await apply(cp, {"blog.yaml": BLOG, "routes.yaml": web_route_to_blog(cp)})
            cds1, eds1 = await proxy.recv(CLUSTER), await proxy.recv(ENDPOINT)
            await proxy.ack(cds1)
            rds1 = await proxy.recv(ROUTE)
            # Back to web before the proxy answered anything. web never left the proxy, so only
            # the routes move; blog stays, named by the routes in flight.
            await apply(cp, {"routes.yaml": (cp.dir / "routes.yaml").read_text().replace("name: blog\n", "name: web\n")})
            rds2 = await proxy.recv(ROUTE)
            assert held(cp) == {BLOG_CLUSTER}
            for resp in (eds1, rds1):
                await proxy.ack(resp)
            await proxy.envoy.expect_nothing()  # rds2 unanswered; rds1, answered, names blog
            await proxy.ack(rds2)
            removal = await proxy.recv(CLUSTER)
            assert list(removal.removed_resources) == [BLOG_CLUSTER]
            assert list((await proxy.recv(ENDPOINT)).removed_resources) == [BLOG_CLUSTER]
            await proxy.envoy.close()
    run(body())


BLOG_ROUTE = """---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: blog, namespace: quickstart}
spec:
  parentRefs: [{name: web}]
  rules:
  - matches: [{path: {type: PathPrefix, value: /blog}}]
    backendRefs: [{name: blog, port: 80}]
"""


@pytest.mark.parametrize("answer", ["ack", "nack"])
def test_routes_to_a_new_cluster_wait_until_the_proxy_answers_for_it(tmp_path: Path, delta: bool,
                                                                    answer: str) -> None:
    async def body() -> None:
        async with ControlPlaneUnderTest(tmp_path) as cp:
            proxy = await Proxy.connect(cp, delta)
            await apply(cp, {"blog.yaml": BLOG, "routes.yaml": (cp.dir / "routes.yaml").read_text() + BLOG_ROUTE})
            cds = await proxy.recv(CLUSTER)
            assert BLOG_CLUSTER in names_of(cds)
            eds = await proxy.recv(ENDPOINT)
            assert BLOG_CLUSTER in names_of(eds)
            await proxy.envoy.expect_nothing()  # the route to blog waits: the cluster may be warming
            # Envoy answers CDS once the cluster is warm; a rejection does not hold routes back either.
            await (proxy.ack(cds) if answer == "ack" else proxy.nack(cds))
            rds = await proxy.recv(ROUTE)
            await proxy.ack(rds)
            await proxy.envoy.expect_nothing()
            await proxy.envoy.close()
    run(body())


# --------------------------------------------------------------------------------------------
# An updated cluster gets its assignment again


def test_an_updated_cluster_is_followed_by_its_assignment_and_nothing_else(tmp_path: Path, delta: bool) -> None:
    async def body() -> None:
        async with ControlPlaneUnderTest(tmp_path) as cp:
            proxy = await Proxy.connect(cp, delta)
            before = proxy.last[ENDPOINT]
            # A DestinationRule for api: api's Cluster changes, its endpoints do not.
            await apply(cp, {"api-rule.yaml": API_RULE})
            cds = await proxy.recv(CLUSTER)
            if delta:
                assert names_of(cds) == [API_CLUSTER]
            eds = await proxy.recv(ENDPOINT)
            if delta:
                # Only api's assignment, unchanged.
                assert names_of(eds) == [API_CLUSTER]
                old = {r.name: r.version for r in before.resources}  # type: ignore[attr-defined]
                assert eds.resources[0].version == old[API_CLUSTER]
            else:
                assert names_of(eds) == [API_CLUSTER]  # EDS goes by change in SotW too
                assert eds.version_info == before.version_info  # type: ignore[attr-defined]
                assert eds.nonce != before.nonce  # type: ignore[attr-defined]
            for resp in (cds, eds):
                await proxy.ack(resp)
            await proxy.envoy.expect_nothing()
            (st,) = cp.registry.all()
            assert st.types[ENDPOINT].acked_nonce == eds.nonce  # the resent assignment is ACKed like any
            # A route change that changes no cluster: only the routes.
            await apply(cp, {"routes.yaml": (cp.dir / "routes.yaml").read_text().replace("value: meshgate", "value: x")})
            rds = await proxy.recv(ROUTE)
            await proxy.ack(rds)
            await proxy.envoy.expect_nothing()
            await proxy.envoy.close()
    run(body())


def test_an_updated_cluster_counts_as_an_endpoint_change_in_the_cache(tmp_path: Path) -> None:
    async def body() -> None:
        async with ControlPlaneUnderTest(tmp_path) as cp:
            entry = cp.cache.entry("quickstart/web")
            revision = entry.revision
            await apply(cp, {"api-rule.yaml": API_RULE})
            assert entry.changed_since(CLUSTER, revision) == [API_CLUSTER]
            assert entry.changed_since(ENDPOINT, revision) == [API_CLUSTER]  # what reload logs report
    run(body())


def test_a_route_added_to_a_service_in_use_sends_only_routes(tmp_path: Path, delta: bool) -> None:
    # A Cluster names what made it, not the routes that use it (lean metadata, issue 14 §7):
    # a new route to api leaves api's Cluster, and so its assignment, as they were.
    async def body() -> None:
        async with ControlPlaneUnderTest(tmp_path) as cp:
            proxy = await Proxy.connect(cp, delta)
            entry = cp.cache.entry("quickstart/web")
            revision = entry.revision
            await apply(cp, {"routes.yaml": (cp.dir / "routes.yaml").read_text() + DOCS})
            assert entry.changed_since(CLUSTER, revision) == []
            assert entry.changed_since(ENDPOINT, revision) == []
            rds = await proxy.recv(ROUTE)  # the first thing sent: no CDS or EDS before it
            await proxy.ack(rds)
            await proxy.envoy.expect_nothing()
            await proxy.envoy.close()
    run(body())

