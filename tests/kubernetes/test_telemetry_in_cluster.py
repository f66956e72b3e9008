"""Telemetry in a cluster: a Gateway whose GatewayParameters (created through the API) ask for
OpenTelemetry tracing to a collector Service gets it on its provisioned Envoy, which sends its
spans to the Service's endpoint (a real OTLP receiver on a loopback address), named after the
route that matched."""

from __future__ import annotations

import asyncio
from pathlib import Path

from ..e2e.otlp_receiver import OtlpReceiver
from .harness import NAMESPACE, cluster, create_web, echo, free_port, kubelet, run, serving

SPAN_WAIT = 30.0  # Envoy's OpenTelemetry tracer flushes every 5 s


def test_a_provisioned_proxy_traces_to_a_collector_service(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with cluster(tmp_path) as c:
            receiver = OtlpReceiver()
            port = receiver.start(f"{c.base}.20")
            try:
                with echo(f"{c.base}.11", 9001, "web-1"):
                    await create_web(c)
                    await c.create({"apiVersion": "v1", "kind": "Service",
                                    "metadata": {"name": "otel", "namespace": NAMESPACE},
                                    "spec": {"clusterIP": "10.96.0.20",
                                             "ports": [{"name": "otlp", "port": 4317, "targetPort": port}]}})
                    await c.create({"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
                                    "metadata": {"name": "otel-1", "namespace": NAMESPACE,
                                                 "labels": {"kubernetes.io/service-name": "otel"}},
                                    "addressType": "IPv4", "ports": [{"name": "otlp", "port": port, "protocol": "TCP"}],
                                    "endpoints": [{"addresses": [f"{c.base}.20"], "conditions": {"ready": True}}]})
                    await c.create({"apiVersion": "gateway.meshgate.io/v1alpha1", "kind": "GatewayParameters",
                                    "metadata": {"name": "traced", "namespace": NAMESPACE},
                                    "spec": {"telemetry": {"tracing": {"provider": {
                                        "type": "OpenTelemetry", "backendRefs": [{"name": "otel", "port": 4317}]}}}}})
                    await c.patch("Gateway", NAMESPACE, "gw", {"spec": {"infrastructure": {"parametersRef": {
                        "group": "gateway.meshgate.io", "kind": "GatewayParameters", "name": "traced"}}}})
                    async with serving(c, free_port()), kubelet(c):
                        assert (await c.until_reply("/traced", lambda r: r.status == 200)).pod == "web-1"
                        loop = asyncio.get_running_loop()
                        deadline = loop.time() + SPAN_WAIT
                        while loop.time() < deadline and not any(
                                s.attributes.get("http.url", "").endswith("/traced") for s in receiver.received()):
                            await asyncio.sleep(0.2)
                        spans = [s for s in receiver.received() if s.attributes.get("http.url", "").endswith("/traced")]
                        assert spans, f"no span for /traced among {len(receiver.received())}"
                        assert spans[0].attributes["meshgate.route"] == f"{NAMESPACE}/web/rule/0/match/0"
                        assert spans[0].resource["service.name"] == f"gw.{NAMESPACE}"
            finally:
                receiver.stop()

    run(scenario())
