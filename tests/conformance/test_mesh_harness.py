"""The mesh harness's own parts, without Envoy: the stand-in mesh, the mesh client and its comparison,
and the report's profiles. A mesh run that passes says something only if these hold."""

from __future__ import annotations

import http.client
import ipaddress
import json
import socket
import struct
import threading
from dataclasses import replace
from pathlib import Path

import pytest
import yaml

from meshgate.echo.answer import PodContext
from meshgate.echo.grpc_echo import GrpcEchoServer

from .cluster import documents, manifest_text
from .expect import GRPC, MESH, MESH_CONSUMER, Expect, ExpectedRequest, Redirect, Request, Response
from .grpc_client import GrpcCallFailed
from .mesh import (
    MANIFESTS,
    PROXY_PORT,
    USE_WAYPOINT,
    WAYPOINT,
    Mesh,
    build_mesh,
    mesh_pods,
    pod_object,
    service_network,
)
from .mesh_client import MeshClient, compare_mesh, proxy_v2_header, split_host
from .model import Result
from .processes import EchoPod
from .registry import all_tests
from .report import conformance_report, level
from .suite import Reply

POD_NETWORK = "127.1.83.0/24"


def mesh() -> tuple[Mesh, list]:
    objects = documents(manifest_text(MANIFESTS))
    services = service_network(POD_NETWORK)
    free = [str(h) for h in ipaddress.ip_network(POD_NETWORK).hosts() if h not in services]
    return build_mesh(objects, POD_NETWORK), mesh_pods(objects, free)


def echo(pod: str, headers: dict | None = None, response_headers: dict | None = None, status: int = 200) -> Reply:
    body = {"pod": pod, "path": "/ignored", "headers": headers or {}}
    hdrs = {"content-type": ["application/json"]} | {k.lower(): [v] for k, v in (response_headers or {}).items()}
    return Reply(status, hdrs, json.dumps(body).encode(), body if status == 200 else None)


# -- the stand-in mesh ---------------------------------------------------------------------------
def test_services_get_cluster_ips_and_the_mesh_namespace_its_waypoint() -> None:
    m, members = mesh()
    services = service_network(POD_NETWORK)
    assert sorted((s.namespace, s.name) for s in m.services) == [(MESH, "echo"), (MESH, "echo-v1"), (MESH, "echo-v2")]
    ips = {s.cluster_ip for s in m.services} | {m.waypoint_ip}
    assert len(ips) == 4 and all(ipaddress.ip_address(ip) in services for ip in ips)
    assert not ips & {p.ip for p in members}
    assert all(s.captured for s in m.services)
    by_kind = {(o["kind"], o["metadata"]["name"]): o for o in m.objects if o["metadata"].get("namespace", MESH) == MESH
               or o["kind"] == "Namespace"}
    assert by_kind[("Namespace", MESH)]["metadata"]["labels"][USE_WAYPOINT] == WAYPOINT
    assert USE_WAYPOINT not in by_kind[("Namespace", MESH_CONSUMER)]["metadata"]["labels"]
    waypoint = by_kind[("Gateway", WAYPOINT)]
    assert waypoint["spec"]["gatewayClassName"] == "meshgate-waypoint"
    assert waypoint["spec"]["addresses"] == [{"type": "IPAddress", "value": m.waypoint_ip}]
    assert by_kind[("Service", "echo")]["spec"]["clusterIP"] == m.service(MESH, "echo").cluster_ip  # type: ignore[union-attr]
    # The copy of the upstream manifest itself is untouched.
    assert "clusterIP" not in manifest_text(MANIFESTS)


def test_echo_advanced_replicas_become_pods_on_their_http_port() -> None:
    _, members = mesh()
    assert sorted((p.namespace, p.name.rsplit("-", 2)[0], p.port) for p in members) == [
        (MESH, "echo-v1", 8080), (MESH, "echo-v2", 8080), (MESH_CONSUMER, "echo-v1", 8080)]
    assert len({p.ip for p in members}) == 3


# -- the mesh client -----------------------------------------------------------------------------
def test_hosts_resolve_as_cluster_dns_from_the_pods_namespace() -> None:
    m, members = mesh()
    in_mesh = next(p for p in members if p.namespace == MESH)
    consumer = next(p for p in members if p.namespace == MESH_CONSUMER)
    echo_ip = m.service(MESH, "echo").cluster_ip  # type: ignore[union-attr]
    v1_ip = m.service(MESH, "echo-v1").cluster_ip  # type: ignore[union-attr]
    assert MeshClient(m, in_mesh).destination("echo") == (echo_ip, 80, True)
    assert MeshClient(m, in_mesh).destination("echo-v1:8080") == (v1_ip, 8080, True)
    assert MeshClient(m, consumer).destination("echo-v1.gateway-conformance-mesh") == (v1_ip, 80, True)
    assert MeshClient(m, in_mesh).destination(f"{consumer.ip}:8080") == (consumer.ip, 8080, False)
    with pytest.raises(OSError, match="cannot resolve"):
        MeshClient(m, consumer).destination("echo")  # no Service echo in the consumer namespace
    assert split_host("echo-v2:8080") == ("echo-v2", 8080)


def test_proxy_v2_header() -> None:
    header = proxy_v2_header(("127.1.83.5", 40000), ("127.1.83.200", 80))
    assert header[:12] == b"\r\n\r\n\x00\r\nQUIT\n"
    assert header[12:16] == bytes([0x21, 0x11, 0, 12])  # v2 PROXY, TCP over IPv4, 12 bytes of addresses
    assert header[16:] == socket.inet_aton("127.1.83.5") + socket.inet_aton("127.1.83.200") + struct.pack("!HH", 40000, 80)


def test_a_captured_request_goes_to_the_waypoint_with_the_original_destination() -> None:
    """A stand-in waypoint on loopback reads the PROXY header and answers: the client sent the Pod
    as source, the ClusterIP and port as destination, and the Host a `-H Host:` header asked for."""
    m, members = mesh()
    waypoint_ip = "127.1.251.1"
    m = Mesh(m.services, waypoint_ip, m.objects)
    pod = next(p for p in members if p.namespace == MESH)
    pod = type(pod)(pod.namespace, pod.name, pod.labels, "127.1.251.2", pod.port)
    seen: dict = {}
    server = socket.create_server((waypoint_ip, PROXY_PORT))
    server.settimeout(10)

    def serve() -> None:
        conn, _ = server.accept()
        with conn:
            data = b""
            while b"\r\n\r\n" not in data[28:]:
                data += conn.recv(4096)
            seen["src"] = socket.inet_ntoa(data[16:20])
            seen["dst"] = (socket.inet_ntoa(data[20:24]), struct.unpack("!H", data[26:28])[0])
            seen["request"] = data[28:].decode()
            body = json.dumps({"pod": "echo-v2-abc-def", "headers": {"X-Seen": ["yes"]}}).encode()
            conn.sendall(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: "
                         + str(len(body)).encode() + b"\r\nx-header-set: set\r\n\r\n" + body)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        reply = MeshClient(m, pod).request(Expect(Request(host="echo-v2", headers={"Host": "echo-v1"}, path="/p")))
    finally:
        thread.join(10)
        server.close()
    assert seen["src"] == "127.1.251.2"
    assert seen["dst"] == (m.service(MESH, "echo-v2").cluster_ip, 80)  # type: ignore[union-attr]
    assert seen["request"].startswith("GET /p HTTP/1.1\r\n")
    assert "\r\nHost: echo-v1\r\n" in seen["request"] and seen["request"].count("Host:") == 1
    assert compare_mesh(Expect(response=Response(headers={"X-Header-Set": "set"}),
                               expected_request=ExpectedRequest(headers={"x-seen": "yes"}), backend="echo-v2"),
                        reply) is None


def test_mesh_pods_serve_grpc_on_7070_as_echo_advanced() -> None:
    """echo-advanced's `--grpc=7070` (and its default, for the consumer namespace's Pod without
    args): each mesh Pod runs `meshgate echo` with the gRPC echo beside HTTP."""
    _, members = mesh()
    assert members and all((p.spec.port, p.spec.grpc_port) == (8080, 7070) for p in members)
    cmd = EchoPod(members[0], Path("unused.log")).command()
    assert cmd[cmd.index("--grpc-port") + 1] == "7070"
    ports = pod_object(members[0])["spec"]["containers"][0]["ports"]
    assert {p["containerPort"] for p in ports} == {8080, 7070}


def _relay_after_proxy_header(server: socket.socket, backend: tuple[str, int], seen: dict) -> None:
    """A stand-in waypoint: read the PROXY v2 header of one connection, then relay its bytes to
    `backend` both ways until either side closes."""
    conn, _ = server.accept()
    with conn, socket.create_connection(backend, timeout=10) as up:
        header = b""
        while len(header) < 28:
            header += conn.recv(28 - len(header))
        seen["src"] = socket.inet_ntoa(header[16:20])
        seen["dst"] = (socket.inet_ntoa(header[20:24]), struct.unpack("!H", header[26:28])[0])

        def pump(a: socket.socket, b: socket.socket) -> None:
            for _ in range(10_000):
                try:
                    data = a.recv(65536)
                except OSError:
                    data = b""
                if not data:
                    b.shutdown(socket.SHUT_WR)
                    return
                b.sendall(data)
        back = threading.Thread(target=pump, args=(up, conn), daemon=True)
        back.start()
        pump(conn, up)
        back.join(10)


def test_a_grpc_request_goes_to_the_waypoint_as_h2c_after_the_proxy_header() -> None:
    """`client grpc://echo:7070 -H ...`: a gRPC call over the PROXY-prefixed connection, the
    headers as metadata; the reply carries what the gRPC echo saw, compared as upstream compares."""
    m, members = mesh()
    waypoint_ip = "127.1.251.5"
    m = Mesh(m.services, waypoint_ip, m.objects)
    pod = next(p for p in members if p.namespace == MESH)
    pod = replace(pod, ip="127.1.251.6")
    backend = GrpcEchoServer("127.1.251.7", 0, PodContext(MESH, "", "", "echo-v2-abc-def"))
    backend.start()
    seen: dict = {}
    server = socket.create_server((waypoint_ip, PROXY_PORT))
    server.settimeout(10)
    thread = threading.Thread(target=_relay_after_proxy_header, args=(server, ("127.1.251.7", backend.port), seen),
                              daemon=True)
    thread.start()
    expected = Expect(Request(protocol=GRPC, path="", host="echo:7070", headers={"X-Test-Case": "set"}),
                      ExpectedRequest(headers={"x-test-case": "set", ":authority": "echo:7070"}), backend="echo-v2")
    try:
        reply = MeshClient(m, pod).request(expected)
    finally:
        thread.join(10)
        server.close()
        backend.stop()
    assert seen == {"src": "127.1.251.6", "dst": (m.service(MESH, "echo").cluster_ip, 7070)}  # type: ignore[union-attr]
    assert reply.status == 200 and reply.echo is not None and reply.echo["namespace"] == MESH
    assert compare_mesh(expected, reply) is None
    assert "expected pod name to start with echo-v1" in (compare_mesh(replace(expected, backend="echo-v1"), reply) or "")


def test_a_grpc_call_that_does_not_end_ok_is_a_failed_request() -> None:
    """No gRPC echo behind the port (HTTP/1.1 there): the call fails as a request (not ready yet)."""
    m, members = mesh()
    pod = replace(next(p for p in members if p.namespace == MESH), ip="127.1.251.8")
    server = socket.create_server(("127.1.251.9", 7070))
    server.settimeout(10)

    def answer() -> None:
        conn, _ = server.accept()
        with conn:
            conn.recv(65536)
            conn.sendall(b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n")
    thread = threading.Thread(target=answer, daemon=True)
    thread.start()
    try:
        with pytest.raises((GrpcCallFailed, ConnectionError)):
            MeshClient(m, pod).request(Expect(Request(protocol=GRPC, host="127.1.251.9:7070")))
    finally:
        thread.join(10)
        server.close()


# -- the mesh comparison (upstream's compareRequest) ------------------------------------------------
@pytest.mark.parametrize("expected, reply, reason", [
    (Expect(backend="echo-v1"), echo("echo-v2-abc-def"), "expected pod name to start with echo-v1, got echo-v2-abc-def"),
    (Expect(response=Response(status=404)), echo("echo-v1-abc-def"), "wanted status code to be one of [404], got 200"),
    (Expect(expected_request=ExpectedRequest(headers={"X-A": "1"})), echo("p"), "expected X-A header to be set"),
    (Expect(expected_request=ExpectedRequest(headers={"X-A": "1"})), echo("p", {"x-a": ["1", "2"]}),
     "expected X-A header to be set to 1, got 1,2"),
    (Expect(expected_request=ExpectedRequest(absent_headers=("X-Gone",))), echo("p", {"X-Gone": ["v"]}),
     "expected X-Gone header to not be set"),
    (Expect(response=Response(headers={"X-Header-Set": "v1"})), echo("p", response_headers={"X-Header-Set": "v2"}),
     "expected header X-Header-Set=v1, got v2"),
    (Expect(response=Response(absent_headers=("X-Header-Set",))), echo("p", response_headers={"X-Header-Set": "v"}),
     "expected no header 'X-Header-Set'"),
    (Expect(Request(path="/port"), response=Response(status=302), redirect=Redirect(port="8083")),
     Reply(302, {"location": ["http://echo/port"]}, b"", None), "expected redirect port '8083'"),
])
def test_mesh_mismatches_are_reported(expected: Expect, reply: Reply, reason: str) -> None:
    assert reason in (compare_mesh(expected, reply) or "")


def test_the_mesh_comparison_ignores_path_method_and_namespace_as_upstream() -> None:
    """MeshHTTPRouteNamedRule's second row expects path /named for /unnamed: upstream's mesh
    client never compares it."""
    expected = Expect(Request(path="/unnamed"), ExpectedRequest(path="/named", method="POST"), backend="echo-v2",
                      namespace="elsewhere")
    assert compare_mesh(expected, echo("echo-v2-abc-def")) is None
    assert compare_mesh(Expect(Request(path="/port"), response=Response(status=302), redirect=Redirect(port="8083")),
                        Reply(302, {"location": ["http://echo:8083/port"]}, b"", None)) is None


# -- the report's profiles -------------------------------------------------------------------------
def test_each_test_counts_in_its_profile() -> None:
    tests = {t.short_name: t for t in all_tests()}
    assert level(tests["MeshBasic"]) == "core"
    assert level(tests["MeshHTTPRouteQueryParamMatching"]) == "extended"
    assert level(tests["MeshPorts"]) == "no profile"  # HTTPRouteParentRefPort is in no mesh profile
    assert level(tests["HTTPRouteMatching"]) == "core"
    assert level(tests["MeshGRPCRouteWeight"]) == level(tests["MeshGRPCRouteRequestHeaderModifier"]) == "core"
    names = ["MeshBasic", "MeshHTTPRouteQueryParamMatching", "MeshPorts", "MeshHTTPRoute303Redirect",
             "HTTPRouteMatching", "MeshGRPCRouteWeight"]
    report = yaml.safe_load(conformance_report([Result(tests[n], "passed") for n in names]))
    profiles = {p["name"]: p for p in report["profiles"]}
    assert profiles["MESH-HTTP"]["core"]["statistics"]["Passed"] == 1
    assert profiles["MESH-HTTP"]["extended"]["statistics"]["Passed"] == 1
    assert profiles["GATEWAY-HTTP"]["core"]["statistics"]["Passed"] == 1
    assert profiles["MESH-GRPC"]["core"]["statistics"]["Passed"] == 2  # MeshBasic counts there too
    assert "Mesh" not in profiles["GATEWAY-HTTP"]["extended"]["supportedFeatures"]
    assert "MeshConsumerRoute" in profiles["MESH-HTTP"]["extended"]["supportedFeatures"]
    assert report["succeededProvisionalTests"] == ["MeshHTTPRoute303Redirect"]


def test_a_request_that_reaches_nothing_fails_as_a_request() -> None:
    """No waypoint listening: the client raises (checks.mesh_expect records it as a failed request)."""
    m, members = mesh()
    m = Mesh(m.services, "127.1.251.3", m.objects)
    pod = next(p for p in members if p.namespace == MESH)
    pod = type(pod)(pod.namespace, pod.name, pod.labels, "127.1.251.4", pod.port)
    with pytest.raises((OSError, http.client.HTTPException)):
        MeshClient(m, pod).request(Expect(Request(host="echo")))
