"""State of the World sends EDS, RDS and SDS by change, with a gRPC client playing Envoy.

The xDS spec has only LDS and CDS responses carry every resource of the type (absence removes);
a response of any other type carries only what changed since the stream was last sent it
(absence removes nothing). So one EndpointSlice change sends one assignment and one route edit
one route configuration. Newly asked-for names are sent even if sent before; what a rejected
(NACKed) response carried goes again with the type's next response; the version names
everything the subscription selects, so it moves on a removal too.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from envoy.config.route.v3 import route_pb2
from google.rpc import status_pb2

from meshgate.xds.resources import CLUSTER, ENDPOINT, LISTENER, ROUTE

from .harness import API_CLUSTER, GATEWAY, WEB_CLUSTER, ControlPlaneUnderTest, FakeEnvoy, node
from .test_make_before_break import BLOG, BLOG_CLUSTER, BLOG_ROUTE, ROUTES, Proxy, apply, names_of
from .test_per_client import HINTED_LATER, located
from .test_protocol import _services_with, addresses, web_slice

ADMIN_ROUTES = "http.18081"
ADMIN_LISTENER = """  - name: admin
    port: 18081
    protocol: HTTP
    allowedRoutes:
      namespaces:
        from: Same
"""
ADMIN_ROUTE = """---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: admin, namespace: quickstart}
spec:
  parentRefs: [{name: web, sectionName: admin}]
  rules:
  - matches: [{path: {type: PathPrefix, value: /admin}}]
    filters:
    - type: RequestHeaderModifier
      requestHeaderModifier:
        set: [{name: x-admin, value: one}]
    backendRefs: [{name: api, port: 80}]
"""


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 60))


async def connect(cp: ControlPlaneUnderTest, endpoints: list[str], routes: list[str]) -> Proxy:
    """A SotW proxy subscribed to CDS, EDS (`endpoints`), LDS and RDS (`routes`), every answer ACKed."""
    p = Proxy(cp, delta=False)
    p.names[ENDPOINT], p.names[ROUTE] = sorted(endpoints), sorted(routes)
    for i, type_url in enumerate((CLUSTER, ENDPOINT, LISTENER, ROUTE)):
        extra = {"node": node()} if i == 0 else {}
        await p.envoy.send(type_url=type_url, resource_names=p.names[type_url], **extra)
        await p.ack(await p.recv(type_url))
    await p.envoy.expect_nothing()
    return p


def route_names(resp) -> list[str]:
    out = []
    for any_ in resp.resources:
        rc = route_pb2.RouteConfiguration()
        any_.Unpack(rc)
        out.append(rc.name)
    return sorted(out)


def with_blog(cp: ControlPlaneUnderTest) -> None:
    """A third Service, blog, with a route to it (so a third cluster and assignment)."""
    (cp.dir / "blog.yaml").write_text(BLOG)
    (cp.dir / "routes.yaml").write_text((cp.dir / "routes.yaml").read_text() + BLOG_ROUTE)


def api_endpoints_moved(cp: ControlPlaneUnderTest) -> str:
    text = (cp.dir / "services.yaml").read_text()
    moved = text.replace('"127.0.0.12"', '"127.0.0.15"')
    assert moved != text
    return moved


ALL = [API_CLUSTER, BLOG_CLUSTER, WEB_CLUSTER]


def test_an_endpoint_change_sends_only_that_assignment(tmp_path: Path) -> None:
    async def body() -> None:
        cp = ControlPlaneUnderTest(tmp_path)
        with_blog(cp)
        async with cp:
            proxy = await connect(cp, ALL, [ROUTES])
            assert names_of(proxy.last[ENDPOINT]) == ALL  # the first response: everything asked for
            before = proxy.last[ENDPOINT].version_info  # type: ignore[attr-defined]
            path = await cp.change_file("services.yaml", _services_with(web_slice("127.0.0.13", "127.0.0.14")))
            assert path == "endpoints"
            eds = await proxy.recv(ENDPOINT)
            assert names_of(eds) == [WEB_CLUSTER]
            assert addresses(eds.resources[0]) == ["127.0.0.13", "127.0.0.14"]
            # The version is that of the whole subscription, as if every assignment had been sent.
            assert eds.version_info != before
            assert eds.version_info == cp.cache.entry(GATEWAY).version(ENDPOINT)
            await proxy.ack(eds)
            await proxy.envoy.expect_nothing()
            (st,) = cp.registry.all()
            assert st.types[ENDPOINT].acked_version == eds.version_info
            await proxy.envoy.close()
    run(body())


def test_a_route_edit_sends_only_that_route_configuration(tmp_path: Path) -> None:
    async def body() -> None:
        cp = ControlPlaneUnderTest(tmp_path)
        gateway = (cp.dir / "gateway.yaml").read_text()
        (cp.dir / "gateway.yaml").write_text(gateway + ADMIN_LISTENER)
        (cp.dir / "routes.yaml").write_text((cp.dir / "routes.yaml").read_text() + ADMIN_ROUTE)
        async with cp:
            proxy = await connect(cp, [API_CLUSTER, WEB_CLUSTER], [ROUTES, ADMIN_ROUTES])
            assert route_names(proxy.last[ROUTE]) == [ROUTES, ADMIN_ROUTES]
            routes = (cp.dir / "routes.yaml").read_text().replace("value: one", "value: two")
            await apply(cp, {"routes.yaml": routes})
            rds = await proxy.recv(ROUTE)
            assert route_names(rds) == [ADMIN_ROUTES]
            await proxy.ack(rds)
            await proxy.envoy.expect_nothing()  # nothing else moved: no other type is pushed
            await proxy.envoy.close()
    run(body())


def test_names_newly_asked_for_are_sent_even_if_sent_before(tmp_path: Path) -> None:
    async def body() -> None:
        cp = ControlPlaneUnderTest(tmp_path)
        with_blog(cp)
        async with cp:
            proxy = await connect(cp, [API_CLUSTER], [ROUTES])
            assert names_of(proxy.last[ENDPOINT]) == [API_CLUSTER]
            # A name added to the subscription: that assignment, not those already there.
            await proxy.subscribe(ENDPOINT, [WEB_CLUSTER])
            eds = await proxy.recv(ENDPOINT)
            assert names_of(eds) == [WEB_CLUSTER]
            await proxy.ack(eds)
            # Dropped (Envoy removed the cluster), then asked for again: sent again, unchanged.
            await proxy.envoy.send(type_url=ENDPOINT, response_nonce=eds.nonce, version_info=eds.version_info,
                                   resource_names=[API_CLUSTER])
            await proxy.envoy.expect_nothing()  # nothing to send: Envoy dropped web itself
            await proxy.envoy.send(type_url=ENDPOINT, response_nonce=eds.nonce, version_info=eds.version_info,
                                   resource_names=[API_CLUSTER, WEB_CLUSTER])
            again = await proxy.recv(ENDPOINT)
            assert names_of(again) == [WEB_CLUSTER]
            assert again.version_info == eds.version_info  # the same assignments as then
            await proxy.ack(again)
            await proxy.envoy.expect_nothing()
            await proxy.envoy.close()
    run(body())


def test_what_a_rejected_response_carried_goes_with_the_next_one(tmp_path: Path) -> None:
    async def body() -> None:
        cp = ControlPlaneUnderTest(tmp_path)
        with_blog(cp)
        async with cp:
            proxy = await connect(cp, ALL, [ROUTES])
            await cp.change_file("services.yaml", _services_with(web_slice("127.0.0.13")))
            rejected = await proxy.recv(ENDPOINT)
            assert names_of(rejected) == [WEB_CLUSTER]
            # As Envoy does: the subscription again, the version it keeps, and why.
            await proxy.envoy.send(type_url=ENDPOINT, response_nonce=rejected.nonce, resource_names=ALL,
                                   version_info=proxy.acked[ENDPOINT],
                                   error_detail=status_pb2.Status(code=3, message="rejected by the test"))
            await proxy.envoy.expect_nothing()  # nothing is resent until the config moves
            # api's endpoints move: api's assignment, and web's again (the proxy kept its old one).
            assert await cp.change_file("services.yaml", api_endpoints_moved(cp)) == "endpoints"
            eds = await proxy.recv(ENDPOINT)
            assert names_of(eds) == [API_CLUSTER, WEB_CLUSTER]
            web = next(r for r in eds.resources if addresses(r) == ["127.0.0.13"])
            assert web is not None
            await proxy.ack(eds)
            await proxy.envoy.expect_nothing()
            # Accepted now: the next change sends only what changed.
            services = (cp.dir / "services.yaml").read_text()
            await cp.change_file("services.yaml", services.replace('"127.0.0.13"', '"127.0.0.14"'))
            eds = await proxy.recv(ENDPOINT)
            assert names_of(eds) == [WEB_CLUSTER]
            await proxy.ack(eds)
            await proxy.envoy.close()
    run(body())


def test_a_removed_assignment_moves_the_version_with_nothing_resent(tmp_path: Path) -> None:
    """blog goes: its cluster leaves through CDS (once routes without it are ACKed); EDS says
    only that the version moved, with no resource (SotW cannot remove an assignment; Envoy drops
    it with its cluster)."""
    async def body() -> None:
        cp = ControlPlaneUnderTest(tmp_path)
        with_blog(cp)
        async with cp:
            proxy = await connect(cp, ALL, [ROUTES])
            before = proxy.last[ENDPOINT].version_info  # type: ignore[attr-defined]
            (cp.dir / "blog.yaml").unlink()
            routes = (cp.dir / "routes.yaml").read_text().replace(BLOG_ROUTE, "")
            await apply(cp, {"routes.yaml": routes})
            eds = await proxy.recv(ENDPOINT)
            assert list(eds.resources) == [] and eds.version_info != before
            rds = await proxy.recv(ROUTE)
            for resp in (eds, rds):
                await proxy.ack(resp)
            cds = await proxy.recv(CLUSTER)
            assert names_of(cds) == [API_CLUSTER, WEB_CLUSTER]
            await proxy.ack(cds)
            # Envoy drops blog's assignment with the cluster and asks for the others only.
            await proxy.envoy.send(type_url=ENDPOINT, response_nonce=eds.nonce, version_info=eds.version_info,
                                   resource_names=[API_CLUSTER, WEB_CLUSTER])
            await proxy.envoy.expect_nothing()
            await proxy.envoy.close()
    run(body())


def test_a_proxy_moved_to_another_view_is_sent_what_differs(tmp_path: Path) -> None:
    """A slice gains zone hints: the connected proxy moves to its zone's view (another cache
    entry) and is sent the assignment that differs there, and no other."""
    zonal = "outbound|80||zonal.quickstart.svc.cluster.local"

    def zonal_addresses(resp) -> list[str]:
        (res,) = resp.resources
        return addresses(res)

    async def body() -> None:
        cp = ControlPlaneUnderTest(tmp_path)
        (cp.dir / "zonal.yaml").write_text(HINTED_LATER.format(annotations="", hint1="", hint2=""))
        async with cp:
            envoy = FakeEnvoy(cp.channel(), delta=False)
            names = sorted([API_CLUSTER, WEB_CLUSTER, zonal])
            await envoy.send(node=located("r1"), type_url=ENDPOINT, resource_names=names)
            first = await envoy.recv()
            assert names_of(first) == names
            await envoy.send(type_url=ENDPOINT, resource_names=names, version_info=first.version_info,
                             response_nonce=first.nonce)
            hinted = HINTED_LATER.format(annotations="", hint1=", hints: {forZones: [{name: z1}]}",
                                         hint2=", hints: {forZones: [{name: z2}]}")
            await cp.change_file("zonal.yaml", hinted)
            push = await envoy.recv()
            assert names_of(push) == [zonal] and zonal_addresses(push) == ["127.0.9.21"]
            (st,) = cp.registry.all()
            assert st.cache_key != GATEWAY  # served from its zone's view now
            await envoy.send(type_url=ENDPOINT, resource_names=names, version_info=push.version_info,
                             response_nonce=push.nonce)
            await envoy.expect_nothing()
            await cp.change_file("zonal.yaml", HINTED_LATER.format(annotations="", hint1="", hint2=""))
            back = await envoy.recv()
            assert names_of(back) == [zonal] and zonal_addresses(back) == ["127.0.9.21", "127.0.9.22"]
            assert back.version_info == first.version_info  # the same assignments as at first
            await envoy.close()
    run(body())
