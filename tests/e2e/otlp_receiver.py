"""A real OTLP receiver for tests: the OpenTelemetry collector's gRPC TraceService/Export and
LogsService/Export on a loopback address, keeping every span and log record it is sent with its
attributes and its resource's."""

from __future__ import annotations

import http.server
import threading
from concurrent import futures
from dataclasses import dataclass, field

import grpc
from opentelemetry.proto.collector.logs.v1 import logs_service_pb2 as logs_service
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2 as service
from opentelemetry.proto.common.v1 import common_pb2

SERVICE = "opentelemetry.proto.collector.trace.v1.TraceService"
LOGS_SERVICE = "opentelemetry.proto.collector.logs.v1.LogsService"


def _text(value: common_pb2.AnyValue) -> str:
    kind = value.WhichOneof("value")
    return str(getattr(value, kind)) if kind is not None else ""


@dataclass(frozen=True)
class Span:
    name: str
    attributes: dict[str, str]
    resource: dict[str, str]


@dataclass(frozen=True)
class LogRecord:
    body: str
    attributes: dict[str, str]
    resource: dict[str, str]


@dataclass
class OtlpReceiver:
    """Start with `start(address)`; `spans` and `logs` fill as exports arrive."""

    spans: list[Span] = field(default_factory=list)
    logs: list[LogRecord] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _server: grpc.Server | None = None
    _http: http.server.ThreadingHTTPServer | None = None

    def _export(self, request: service.ExportTraceServiceRequest, context: grpc.ServicerContext | None
                ) -> service.ExportTraceServiceResponse:
        got = []
        for rs in request.resource_spans:
            resource = {a.key: _text(a.value) for a in rs.resource.attributes}
            # xds-protos ships an older trace.proto: field 2 is named instrumentation_library_spans
            # there (scope_spans on the wire today, the same layout).
            for scope in rs.instrumentation_library_spans:
                got.extend(Span(s.name, {a.key: _text(a.value) for a in s.attributes}, resource) for s in scope.spans)
        with self._lock:
            self.spans.extend(got)
        return service.ExportTraceServiceResponse()

    def _export_logs(self, request: logs_service.ExportLogsServiceRequest, context: grpc.ServicerContext
                     ) -> logs_service.ExportLogsServiceResponse:
        got = []
        for rl in request.resource_logs:
            resource = {a.key: _text(a.value) for a in rl.resource.attributes}
            for scope in rl.instrumentation_library_logs:  # scope_logs on the wire (see _export)
                got.extend(LogRecord(_text(r.body), {a.key: _text(a.value) for a in r.attributes}, resource)
                           for r in scope.logs)
        with self._lock:
            self.logs.extend(got)
        return logs_service.ExportLogsServiceResponse()

    def start(self, address: str) -> int:
        """Listen on `address` (a free port); returns the port."""
        handler = grpc.method_handlers_generic_handler(SERVICE, {"Export": grpc.unary_unary_rpc_method_handler(
            self._export, request_deserializer=service.ExportTraceServiceRequest.FromString,
            response_serializer=service.ExportTraceServiceResponse.SerializeToString)})
        logs = grpc.method_handlers_generic_handler(LOGS_SERVICE, {"Export": grpc.unary_unary_rpc_method_handler(
            self._export_logs, request_deserializer=logs_service.ExportLogsServiceRequest.FromString,
            response_serializer=logs_service.ExportLogsServiceResponse.SerializeToString)})
        self._server = grpc.server(futures.ThreadPoolExecutor(max_workers=2), handlers=[handler, logs])
        port = self._server.add_insecure_port(f"{address}:0")
        self._server.start()
        return port

    def start_http(self, address: str) -> int:
        """Listen for OTLP/HTTP (protobuf, POST /v1/traces) on `address` (a free port); the port."""
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def _body(self) -> bytes:
                if self.headers.get("Transfer-Encoding", "").lower() != "chunked":
                    return self.rfile.read(int(self.headers.get("Content-Length", "0")))
                out = b""
                for _ in range(10_000):  # bounded: a chunk header, its data, CRLF; size 0 ends it
                    size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                    if size == 0:
                        self.rfile.readline()
                        break
                    out += self.rfile.read(size)
                    self.rfile.readline()
                return out

            def do_POST(self) -> None:
                body = self._body()
                if self.path != "/v1/traces":
                    self.send_response(404)
                    self.end_headers()
                    return
                reply = receiver._export(service.ExportTraceServiceRequest.FromString(body), None)
                data = reply.SerializeToString()
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: object) -> None:
                pass

        self._http = http.server.ThreadingHTTPServer((address, 0), Handler)
        threading.Thread(target=self._http.serve_forever, daemon=True).start()
        return self._http.server_address[1]

    def received(self) -> list[Span]:
        with self._lock:
            return list(self.spans)

    def received_logs(self) -> list[LogRecord]:
        with self._lock:
            return list(self.logs)

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop(None)
        if self._http is not None:
            self._http.shutdown()
            self._http.server_close()
