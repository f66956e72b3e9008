"""Objects created, changed and deleted through the API change what a provisioned Envoy serves,
and meshgate writes their status back through the status subresource."""

from __future__ import annotations

import asyncio
import base64
import urllib.request
from pathlib import Path
from typing import Any

from cryptography import x509

from meshgate.xds.tls import gateway_spiffe_id

from .harness import (
    NAMESPACE,
    cluster,
    debug_url,
    echo,
    endpoint_slice,
    free_port,
    gateway,
    kubelet,
    route,
    run,
    service,
    serving,
)


def test_objects_through_the_api_are_served_and_their_status_written(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with cluster(tmp_path) as c:
            web, api = f"{c.base}.11", f"{c.base}.12"
            with echo(web, 9001, "web-1"), echo(api, 9001, "api-1"):
                for obj in [gateway(c.base), *service("web", 9001), *service("api", 9001),
                            endpoint_slice("web-1", "web", 9001, [web]), endpoint_slice("api-1", "api", 9001, [api]),
                            route("web", "web")]:
                    await c.create(obj)
                async with serving(c, free_port()) as mg:
                    # In a cluster xDS is mutual TLS by default, from the cluster's CA (waited for in a
                    # thread: the emulator serves from this event loop).
                    await asyncio.get_running_loop().run_in_executor(None, mg.wait_for, "mTLS")
                    async with kubelet(c) as k:
                        # Provisioned: the Deployment ran as an Envoy (the kubelet), which serves the route.
                        assert (await c.until_reply("/", lambda r: r.status == 200)).pod == "web-1"
                        assert list(k.pods) == [(NAMESPACE, "gw-meshgate")]
                        # ...over mTLS, with a certificate naming its Gateway, from the CA in meshgate's namespace.
                        secret = await c.get("Secret", NAMESPACE, "gw-meshgate-xds")
                        assert secret is not None and secret["metadata"]["ownerReferences"][0]["name"] == "gw"
                        cert = x509.load_pem_x509_certificate(base64.b64decode(secret["data"]["tls.crt"]))
                        assert cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value.get_values_for_type(
                            x509.UniformResourceIdentifier) == [gateway_spiffe_id(f"{NAMESPACE}/gw")]
                        assert await c.get("Secret", "meshgate-system", "meshgate-xds-ca") is not None
                        # Envoy's statistics for Prometheus on the metrics port the Pod announces:
                        # process-wide and per-listener ones, no per-cluster ones but meshgate-xds's.
                        pod = k.pods[(NAMESPACE, "gw-meshgate")]
                        dep = await c.get("Deployment", NAMESPACE, "gw-meshgate")
                        assert dep is not None
                        template = dep["spec"]["template"]
                        annotations = template["metadata"]["annotations"]
                        assert annotations["prometheus.io/scrape"] == "true"
                        port = annotations["prometheus.io/port"]
                        assert {"name": "metrics", "containerPort": int(port), "protocol": "TCP"} in \
                            template["spec"]["containers"][0]["ports"]
                        stats = await _text(f"http://127.0.0.1:{pod.ports[port]}{annotations['prometheus.io/path']}")
                        assert "envoy_server_live" in stats and 'envoy_cluster_name="meshgate-xds"' in stats
                        assert "outbound|" not in stats

                        # Status written back: the route's parent and the Gateway, with observedGeneration.
                        accepted = await c.until("route Accepted", lambda: c.condition("HTTPRoute", "web", "Accepted"))
                        assert accepted["status"] == "True" and accepted["observedGeneration"] == 1
                        programmed = await c.until("Gateway Programmed", lambda: _true(c, "Gateway", "gw", "Programmed"))
                        # The leader says so in its metrics, with the writes it made.
                        metrics = await _text(await debug_url(mg) + "/metrics")
                        assert "meshgate_leader 1.0" in metrics
                        written = [line for line in metrics.splitlines()
                                   if line.startswith('meshgate_status_writes_total{result="written"}')]
                        assert written and float(written[0].split()[-1]) >= 2
                        gw = await c.get("Gateway", NAMESPACE, "gw")
                        assert gw is not None and gw["status"]["listeners"][0]["attachedRoutes"] == 1
                        assert gw["status"]["addresses"] == [{"type": "IPAddress", "value": f"{c.base}.1"}]

                        # A change through the API: the route now sends /api to the api Service.
                        await c.create(route("api", "api", "/api"))
                        assert (await c.until_reply("/api/x", lambda r: r.pod == "api-1")).status == 200
                        await c.until("two attached routes", lambda: _attached(c, 2))
                        # An edit bumps the generation; status follows it.
                        await c.patch("HTTPRoute", NAMESPACE, "api", {"spec": {"rules": [{
                            "matches": [{"path": {"type": "PathPrefix", "value": "/v2"}}],
                            "backendRefs": [{"name": "api", "port": 80}]}]}})
                        assert (await c.until_reply("/v2/x", lambda r: r.pod == "api-1")).status == 200
                        assert (await c.until_reply("/api/x", lambda r: r.pod == "web-1")).status == 200
                        await c.until("observedGeneration 2", lambda: _generation(c, "api", 2))

                        # A delete: the route is gone from Envoy and from the Gateway's count.
                        await c.delete("HTTPRoute", NAMESPACE, "api")
                        assert (await c.until_reply("/v2/x", lambda r: r.pod == "web-1")).status == 200
                        await c.until("one attached route", lambda: _attached(c, 1))

                        # The transition time of a condition whose status held did not move.
                        again = await c.condition("Gateway", "gw", "Programmed")
                        assert again is not None and again["lastTransitionTime"] == programmed["lastTransitionTime"]
                assert mg.proc.returncode is not None

    run(scenario())


async def _text(url: str) -> str:
    def get() -> str:
        with urllib.request.urlopen(url, timeout=10) as resp:
            return resp.read().decode()

    return await asyncio.get_running_loop().run_in_executor(None, get)


async def _true(c: Any, kind: str, name: str, type_: str) -> dict | None:
    cond = await c.condition(kind, name, type_)
    return cond if cond is not None and cond["status"] == "True" else None


async def _attached(c: Any, n: int) -> bool:
    gw = await c.get("Gateway", NAMESPACE, "gw")
    return bool(gw) and gw["status"]["listeners"][0]["attachedRoutes"] == n


async def _generation(c: Any, name: str, generation: int) -> bool:
    cond = await c.condition("HTTPRoute", name, "Accepted")
    return cond is not None and cond["observedGeneration"] == generation
