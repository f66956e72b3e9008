"""Tracing through a real Envoy under `meshgate run`: a Gateway whose GatewayParameters ask for
OpenTelemetry tracing sends its spans over OTLP/gRPC to a real receiver, named after the
parameters' service name and tagged with the route that matched (and the objects that made it),
the backend's cluster and the parameters' custom tags; the receiver is given as an address or as
a Service (`provider.backendRefs`) whose EndpointSlice is the receiver; a BackendTrafficPolicy's
telemetry.tracing adds its tags to its route's spans and samples another route at 0%. Envoy
flushes spans every 5 seconds."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import pytest

from meshgate.runtime.run import Runner, RunOptions

from .harness import LISTEN_PORT, STEP, EchoServer, endpoint_yaml, free_subnet, get, service_yaml
from .otlp_receiver import OtlpReceiver, Span

pytestmark = pytest.mark.envoy

SPAN_WAIT = 20.0  # Envoy's OpenTelemetry tracer flushes every 5 s


def _provider(base: str, receiver_port: int, via_service: bool, http: bool = False) -> str:
    """The provider: the receiver's address and port, or a Service whose EndpointSlice is the
    receiver; OTLP over gRPC, or with `http` OTLP/HTTP."""
    protocol = ", protocol: HTTP" if http else ""
    if via_service:
        return f"{{type: OpenTelemetry, backendRefs: [{{name: otel, port: 4317}}], serviceName: storefront{protocol}}}"
    return f"{{type: OpenTelemetry, host: {base}.20, port: {receiver_port}, serviceName: storefront{protocol}}}"


def config(base: str, receiver_port: int, via_service: bool = False, http: bool = False) -> str:
    return f"""apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {{name: gw, namespace: e2e}}
spec:
  gatewayClassName: meshgate
  addresses: [{{type: IPAddress, value: "{base}.1"}}]
  infrastructure: {{parametersRef: {{group: gateway.meshgate.io, kind: GatewayParameters, name: traced}}}}
  listeners: [{{name: http, port: {LISTEN_PORT}, protocol: HTTP}}]
---
apiVersion: gateway.meshgate.io/v1alpha1
kind: GatewayParameters
metadata: {{name: traced, namespace: e2e}}
spec:
  telemetry:
    tracing:
      samplingRate: 100
      customTags:
        env: {{type: Literal, literal: {{value: prod}}}}
        caller: {{type: RequestHeader, requestHeader: {{name: x-caller, defaultValue: nobody}}}}
      provider: {_provider(base, receiver_port, via_service, http)}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {{name: web, namespace: e2e}}
spec:
  parentRefs: [{{name: gw}}]
  rules: [{{backendRefs: [{{name: web, port: 80}}]}}]
---
{service_yaml("web", 80, 9002, [endpoint_yaml(f"{base}.13", pod="web-13", ready=True)])}---
{service_yaml("otel", 4317, receiver_port, [endpoint_yaml(f"{base}.20", ready=True)], port_name="otlp")}"""


def _traced(tmp_path: Path, base: str, receiver: OtlpReceiver, text: str, paths: tuple[str, ...]) -> list[Span]:
    """`meshgate run` on `text` with the web echo: each of `paths` requested until it answers 200
    (bounded), then the spans received once an ingress span for the last path has come."""
    cfg = tmp_path / "config"
    cfg.mkdir()
    (cfg / "all.yaml").write_text(text)
    echo = EchoServer(f"{base}.13", 9002, pod="web-13", namespace="e2e")
    echo.start()

    async def body() -> list[Span]:
        runner = Runner(RunOptions([str(cfg)], xds_port=0, debug_port=0, workdir=tmp_path / "work"), say=lambda _: None)
        await runner.start()
        loop = asyncio.get_running_loop()
        try:
            deadline = time.monotonic() + 20
            for path in paths:
                url = f"http://{base}.1:{LISTEN_PORT}{path}"
                reply = await loop.run_in_executor(None, get, url)
                while reply.status != 200 and time.monotonic() < deadline:
                    await asyncio.sleep(STEP)
                    reply = await loop.run_in_executor(None, get, url)
                assert reply.status == 200 and reply.pod == "web-13", path
            deadline = time.monotonic() + SPAN_WAIT
            while not any(s.name == "ingress" and s.attributes.get("http.url", "").endswith(paths[-1])
                          for s in receiver.received()) and time.monotonic() < deadline:
                await asyncio.sleep(0.1)
            return receiver.received()
        finally:
            await runner.stop()
            echo.stop()
            receiver.stop()
    return asyncio.run(asyncio.wait_for(body(), 120))


@pytest.mark.parametrize("via_service, http", [(False, False), (True, False), (False, True), (True, True)],
                         ids=["host", "backendRefs", "http-host", "http-backendRefs"])
def test_spans_reach_the_otlp_receiver_with_route_and_backend(tmp_path: Path, via_service: bool, http: bool) -> None:
    base = free_subnet()
    receiver = OtlpReceiver()
    port = receiver.start_http(f"{base}.20") if http else receiver.start(f"{base}.20")
    spans = _traced(tmp_path, base, receiver, config(base, port, via_service, http), ("/shop",))
    ingress = [s for s in spans if s.name == "ingress"]
    assert ingress, f"no ingress span among {[s.name for s in spans]}"
    span = ingress[-1]
    assert span.resource["service.name"] == "storefront"
    assert span.attributes["http.url"].endswith("/shop")
    assert span.attributes["meshgate.route"] == "e2e/web/rule/0/match/0"
    assert json.loads(span.attributes["meshgate.route_resources"]) == [{
        "groupVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute", "name": "web", "namespace": "e2e",
        "sectionName": "0"}]
    assert span.attributes["upstream_cluster"] == "outbound|80||web.e2e.svc.cluster.local"
    assert (span.attributes["env"], span.attributes["caller"]) == ("prod", "nobody")
    # The upstream request has a span of its own, naming the cluster it went to.
    assert any(s.name.startswith("router ") and s.attributes.get("upstream_address") == f"{base}.13:9002"
               for s in spans)


def test_a_collector_service_that_does_not_resolve_leaves_the_gateway_serving(tmp_path: Path) -> None:
    """A Zipkin tracer naming a cluster Envoy does not have makes it refuse the listener: a
    collector Service that does not exist gets neither a cluster nor tracing (nor its access log
    sink), and the Gateway serves, its listener ACKed."""
    base = free_subnet()
    cfg = tmp_path / "config"
    cfg.mkdir()
    missing = "backendRefs: [{name: missing, port: 4317}]"
    (cfg / "all.yaml").write_text(config(base, 4317).replace(
        "provider: {type: OpenTelemetry, host: " + f"{base}.20, port: 4317, serviceName: storefront}}",
        "provider: {type: Zipkin, " + missing + "}").replace(
        "  telemetry:\n    tracing:\n",
        "  telemetry:\n    accessLog: {settings: [{sinks: [{type: OpenTelemetry, openTelemetry: {"
        + missing + "}}]}]}\n    tracing:\n"))
    assert "type: Zipkin" in (cfg / "all.yaml").read_text()
    echo = EchoServer(f"{base}.13", 9002, pod="web-13", namespace="e2e")
    echo.start()

    async def body() -> tuple[int, list[str]]:
        runner = Runner(RunOptions([str(cfg)], xds_port=0, debug_port=0, workdir=tmp_path / "work"), say=lambda _: None)
        await runner.start()
        loop = asyncio.get_running_loop()
        try:
            url = f"http://{base}.1:{LISTEN_PORT}/"
            deadline = time.monotonic() + 20
            reply = await loop.run_in_executor(None, get, url)
            while reply.status != 200 and time.monotonic() < deadline:
                await asyncio.sleep(STEP)
                reply = await loop.run_in_executor(None, get, url)
            (stream,) = runner.registry.all()
            return reply.status, [ts.nack for ts in stream.types.values() if ts.nack]
        finally:
            await runner.stop()
            echo.stop()

    status, nacks = asyncio.run(asyncio.wait_for(body(), 60))
    assert (status, nacks) == (200, [])


def test_a_backend_traffic_policy_traces_its_route_its_own_way(tmp_path: Path) -> None:
    """BackendTrafficPolicy telemetry.tracing: the `web` route's spans carry the policy's tags (a
    literal and a request header's), and the `quiet` route, sampled at 0% by its own policy,
    sends none, over the Gateway's 100%."""
    base = free_subnet()
    receiver = OtlpReceiver()
    port = receiver.start(f"{base}.20")
    policies = """---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: quiet, namespace: e2e}
spec:
  parentRefs: [{name: gw}]
  rules: [{matches: [{path: {value: /quiet}}], backendRefs: [{name: web, port: 80}]}]
---
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: BackendTrafficPolicy
metadata: {name: tagged, namespace: e2e}
spec:
  targetRefs: [{group: gateway.networking.k8s.io, kind: HTTPRoute, name: web}]
  telemetry:
    tracing:
      tags: {team: storefront}
      customTags: {tier: {type: RequestHeader, requestHeader: {name: x-tier, defaultValue: free}}}
---
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: BackendTrafficPolicy
metadata: {name: unsampled, namespace: e2e}
spec:
  targetRefs: [{group: gateway.networking.k8s.io, kind: HTTPRoute, name: quiet}]
  telemetry: {tracing: {samplingFraction: {numerator: 0}}}
"""
    spans = _traced(tmp_path, base, receiver, config(base, port) + policies, ("/quiet", "/shop"))
    ingress = [s for s in spans if s.name == "ingress"]
    shop = [s for s in ingress if s.attributes.get("http.url", "").endswith("/shop")]
    assert shop, f"no /shop span among {[s.attributes.get('http.url') for s in ingress]}"
    assert (shop[-1].attributes["team"], shop[-1].attributes["tier"]) == ("storefront", "free")
    assert shop[-1].attributes["env"] == "prod"  # the Gateway's tags stay
    assert not [s for s in ingress if s.attributes.get("http.url", "").endswith("/quiet")]
