"""A kind RBAC forbids and a kind whose CRD is not installed: meshgate says so once, serves
everything else, and picks the kind up within its recheck period (--kind-recheck) once it is
allowed or installed."""

from __future__ import annotations

import asyncio
from pathlib import Path

from .crds import GATEWAY_API, ISTIO, crds
from .harness import (
    NAMESPACE,
    Cluster,
    cluster,
    debug_url,
    echo,
    endpoint_slice,
    fetch_json,
    free_port,
    gateway,
    kubelet,
    route,
    run,
    service,
    serving,
    wait_for,
)

WEB_CLUSTER = f"outbound|80||web.{NAMESPACE}.svc.cluster.local"
RECHECK = 0.5



def least_request(name: str = "web") -> dict:
    """A DestinationRule for the web Service: LEAST_REQUEST balancing on its cluster."""
    return {"apiVersion": "networking.istio.io/v1", "kind": "DestinationRule",
            "metadata": {"name": name, "namespace": NAMESPACE},
            "spec": {"host": "web", "trafficPolicy": {"loadBalancer": {"simple": "LEAST_REQUEST"}}}}


async def lb_policy(debug: str) -> str:
    """The web cluster's lb_policy as the Gateway's proxies are served it ("" for Envoy's default)."""
    dump = await fetch_json(f"{debug}/debug/config?gateway={NAMESPACE}/gw")
    for entry in dump["CDS"]["resources"]:
        if entry["name"] == WEB_CLUSTER:
            return str(entry["resource"].get("lb_policy", ""))
    raise AssertionError(f"no {WEB_CLUSTER} in {[e['name'] for e in dump['CDS']['resources']]}")


async def populate(c: Cluster) -> None:
    for obj in [gateway(c.base), *service("web", 9001), endpoint_slice("web-1", "web", 9001, [f"{c.base}.11"]),
                route("web", "web")]:
        await c.create(obj)


async def until_lb_policy(c: Cluster, debug: str, policy: str) -> None:
    async def probe() -> bool:
        return await lb_policy(debug) == policy

    await c.until(f"the web cluster's lb_policy {policy!r}", probe)


def test_a_forbidden_kind_is_skipped_with_one_warning_and_picked_up_once_allowed(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with cluster(tmp_path) as c:
            for verb in ("list", "watch"):  # meshgate's verbs (the test, as admin, still creates)
                c.emulator.forbid(verb, ISTIO, "destinationrules")
            with echo(f"{c.base}.11", 9001, "web-1"):
                await populate(c)
                await c.create(least_request())
                async with serving(c, free_port(), "--kind-recheck", str(RECHECK)) as mg, kubelet(c):
                    # Everything else is served: the route answers through the provisioned Envoy.
                    assert (await c.until_reply("/", lambda r: r.status == 200)).pod == "web-1"
                    warning = await wait_for(mg, "DestinationRule: forbidden")
                    assert "WARNING" in warning and "destinationrules.networking.istio.io is forbidden" in warning
                    assert f"looking again every {RECHECK:g} s" in warning
                    debug = await debug_url(mg)
                    assert await lb_policy(debug) == ""
                    # Several rechecks later: still the one warning, not one per recheck.
                    await asyncio.sleep(RECHECK * 6)
                    assert mg.text.count("DestinationRule: forbidden") == 1, mg.text

                    c.emulator.allow_all()
                    await until_lb_policy(c, debug, "LEAST_REQUEST")
                    assert (await c.request("/")).pod == "web-1"

    run(scenario())


def test_a_kind_whose_crd_appears_later_is_picked_up(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with cluster(tmp_path, crd_groups=(GATEWAY_API,)) as c:
            with echo(f"{c.base}.11", 9001, "web-1"):
                await populate(c)
                async with serving(c, free_port(), "--kind-recheck", str(RECHECK)) as mg, kubelet(c):
                    assert (await c.until_reply("/", lambda r: r.status == 200)).pod == "web-1"
                    warning = await wait_for(mg, "DestinationRule: not served by the API server")
                    assert "WARNING" in warning and "is its CRD installed?" in warning
                    debug = await debug_url(mg)
                    await asyncio.sleep(RECHECK * 6)
                    assert mg.text.count("DestinationRule: not served") == 1, mg.text

                    # Istio installed: its CRDs, then a DestinationRule.
                    for crd in crds((ISTIO,)):
                        await c.create(crd)
                    await c.create(least_request())
                    await until_lb_policy(c, debug, "LEAST_REQUEST")
                    assert (await c.request("/")).pod == "web-1"

    run(scenario())
