"""Access logs under `meshgate run`, through a real Envoy: a Gateway whose GatewayParameters set
`telemetry.accessLog` writes its Text format to a file and sends its JSON fields to a real OTLP
collector as log records (with the sink's resource attributes; the collector given as an address
or as a Service whose EndpointSlice is it); a Gateway of a class whose
parameters disable access logging logs nothing (its Envoy's stdout, where meshgate's default log
would go, holds no record)."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from meshgate.runtime.run import Runner, RunOptions

from .harness import LISTEN_PORT, STEP, EchoServer, endpoint_yaml, free_subnet, get, service_yaml
from .otlp_receiver import LogRecord, OtlpReceiver

pytestmark = pytest.mark.envoy

WAIT = 20.0  # Envoy's file and OTLP loggers flush within a second or so


def _collector(base: str, receiver_port: int, via_service: bool) -> str:
    """The OTLP sink: the receiver's address and port, or a Service whose EndpointSlice is the receiver."""
    if via_service:
        return "{backendRefs: [{name: otel, port: 4317}], resources: {k8s.cluster.name: test}}"
    return f'{{host: "{base}.20", port: {receiver_port}, resources: {{k8s.cluster.name: test}}}}'


def config(base: str, log_file: Path, receiver_port: int, via_service: bool = False) -> str:
    return f"""apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {{name: quiet}}
spec:
  controllerName: meshgate.io/gateway-controller
  parametersRef: {{group: gateway.meshgate.io, kind: GatewayParameters, name: quiet, namespace: e2e}}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {{name: logged, namespace: e2e}}
spec:
  gatewayClassName: meshgate
  addresses: [{{type: IPAddress, value: "{base}.1"}}]
  infrastructure: {{parametersRef: {{group: gateway.meshgate.io, kind: GatewayParameters, name: logged}}}}
  listeners: [{{name: http, port: {LISTEN_PORT}, protocol: HTTP}}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {{name: quiet, namespace: e2e}}
spec:
  gatewayClassName: quiet
  addresses: [{{type: IPAddress, value: "{base}.2"}}]
  listeners: [{{name: http, port: {LISTEN_PORT}, protocol: HTTP}}]
---
apiVersion: gateway.meshgate.io/v1alpha1
kind: GatewayParameters
metadata: {{name: logged, namespace: e2e}}
spec:
  telemetry:
    accessLog:
      settings:
      - format: {{type: Text, text: "text %REQ(:METHOD)% %REQ(:PATH)% %RESPONSE_CODE% %ROUTE_NAME%"}}
        sinks: [{{type: File, file: {{path: "{log_file}"}}}}]
      - format:
          type: JSON
          json: {{path: "%REQ(:PATH)%", status: "%RESPONSE_CODE%", route: "%METADATA(ROUTE:meshgate:resources)%"}}
        sinks:
        - type: OpenTelemetry
          openTelemetry: {_collector(base, receiver_port, via_service)}
      - format: {{type: Text, text: "matched %REQ(:PATH)%"}}
        matches: ["request.path == '/logged'", "request.headers['x-log'] == 'yes'"]
        sinks: [{{type: File, file: {{path: "{log_file.with_name('matched.log')}"}}}}]
---
apiVersion: gateway.meshgate.io/v1alpha1
kind: GatewayParameters
metadata: {{name: quiet, namespace: e2e}}
spec:
  telemetry: {{accessLog: {{disable: true}}}}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {{name: web, namespace: e2e}}
spec:
  parentRefs: [{{name: logged}}, {{name: quiet}}]
  rules: [{{backendRefs: [{{name: web, port: 80}}]}}]
---
{service_yaml("web", 80, 9002, [endpoint_yaml(f"{base}.13", pod="web-13", ready=True)])}---
{service_yaml("otel", 4317, receiver_port, [endpoint_yaml(f"{base}.20", ready=True)], port_name="otlp")}"""


async def _until_ok(url: str) -> None:
    loop = asyncio.get_running_loop()
    deadline = time.monotonic() + 20
    reply = await loop.run_in_executor(None, get, url)
    while reply.status != 200 and time.monotonic() < deadline:
        await asyncio.sleep(STEP)
        reply = await loop.run_in_executor(None, get, url)
    assert reply.pod == "web-13", url


@pytest.mark.parametrize("via_service", [False, True], ids=["host", "backendRefs"])
def test_access_logs_go_to_their_sinks_in_their_formats(tmp_path: Path, via_service: bool) -> None:
    base = free_subnet()
    receiver = OtlpReceiver()
    port = receiver.start(f"{base}.20")
    log_file = tmp_path / "access.log"
    cfg = tmp_path / "config"
    cfg.mkdir()
    (cfg / "all.yaml").write_text(config(base, log_file, port, via_service))
    echo = EchoServer(f"{base}.13", 9002, pod="web-13", namespace="e2e")
    echo.start()
    work = tmp_path / "work"

    async def body() -> tuple[str, list[LogRecord], str]:
        runner = Runner(RunOptions([str(cfg)], xds_port=0, debug_port=0, workdir=work), say=lambda _: None)
        await runner.start()
        try:
            await _until_ok(f"http://{base}.1:{LISTEN_PORT}/logged")
            await _until_ok(f"http://{base}.1:{LISTEN_PORT}/unmatched")
            await _until_ok(f"http://{base}.2:{LISTEN_PORT}/quiet-request")
            deadline = time.monotonic() + WAIT
            while time.monotonic() < deadline and not (
                    "/logged" in (log_file.read_text() if log_file.exists() else "")
                    and any(r.attributes.get("path") == "/logged" for r in receiver.received_logs())):
                await asyncio.sleep(0.1)
            # The quiet Envoy's stdout is flushed every 0.5 s (--file-flush-interval-msec): a record
            # of its request would be there by now.
            await asyncio.sleep(1.5)
            matched.extend((log_file.with_name("matched.log").read_text() or "").splitlines())
            return log_file.read_text() if log_file.exists() else "", receiver.received_logs(), \
                (work / "e2e_quiet.envoy.log").read_text()
        finally:
            await runner.stop()
            echo.stop()
            receiver.stop()

    matched: list[str] = []
    text, records, quiet_log = asyncio.run(asyncio.wait_for(body(), 120))
    assert "text GET /logged 200 e2e/web/rule/0/match/0" in text.splitlines()
    assert "text GET /unmatched 200 e2e/web/rule/0/match/0" in text.splitlines()
    # The setting with matches logs only what one of its CEL expressions selects.
    assert "matched /logged" in matched and not any("/unmatched" in line for line in matched)
    (record,) = [r for r in records if r.attributes.get("path") == "/logged"]
    assert record.attributes["status"] == "200"
    assert '"kind":"HTTPRoute","name":"web"' in record.attributes["route"]
    assert record.resource["k8s.cluster.name"] == "test"
    # The quiet Gateway logged nothing: no meshgate record on its Envoy's stdout (its log file).
    assert "/quiet-request" not in quiet_log and "/quiet-request" not in text
