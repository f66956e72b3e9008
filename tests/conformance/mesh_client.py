"""The mesh client: a request from an echo Pod in the mesh, as the captured connection reaches the waypoint.

Upstream (conformance/utils/echo) execs `client http://<host><path>` in an echo-advanced Pod: the
Pod resolves the host through cluster DNS (a Service name, `name.namespace`, or an IP), connects,
and ztunnel captures the connection to a Service's ClusterIP and hands it to the Service's
waypoint. Here `MeshClient` does both parts: it resolves the host against the mesh's Services
(mesh.py), and a connection to a captured ClusterIP goes to the waypoint's PROXY-protocol port
(15088) with a PROXY v2 header naming the client Pod as source and ClusterIP:port as the original
destination, as ztunnel hands it over; any other address (a Pod IP) is connected to directly. The
socket is bound to the client Pod's address either way.

A request with protocol `grpc` (upstream's `client grpc://echo:7070`, the MESH-GRPC tests) is a
unary gRPC call over HTTP/2 with prior knowledge on that same socket: GrpcEcho/Echo of the gRPC
echo the mesh Pods serve on 7070 (grpc_client.call_over; Istio's echo client calls its own echo
service, with the same effect on what is compared), the `-H` headers as metadata, the host as
:authority. As the Istio echo client reports it, an OK call is status 200 with the headers the
backend saw and its Pod's name; a call that ends otherwise is an error (not ready yet).

`compare_mesh` is upstream's `compareRequest`: status code, request headers present and absent,
response headers present and absent, the answering Pod's name prefix. It does not compare the
path, method or namespace (upstream's mesh client does not either: MeshHTTPRouteNamedRule's table
expects path /named for /unnamed). Beyond upstream, a redirect's Location is checked with the
Gateway tests' rules (compare.py) where the test gives one.
"""

from __future__ import annotations

import http.client
import ipaddress
import json
import socket
import struct
from concurrent.futures import ThreadPoolExecutor

from .cluster import Pod
from .compare import REDIRECTS, _compare_redirect
from .expect import GRPC, Expect
from .grpc_client import call_over
from .mesh import PROXY_PORT, Mesh
from .suite import Reply

TIMEOUT = 10.0
DEFAULT_HOST = "echo"  # makeRequest: an empty Host is "echo"
BATCH_CONCURRENCY = 10


def proxy_v2_header(src: tuple[str, int], dst: tuple[str, int]) -> bytes:
    """A PROXY protocol v2 header (PROXY command, TCP over IPv4) naming `src` and the original `dst`."""
    body = (ipaddress.IPv4Address(src[0]).packed + ipaddress.IPv4Address(dst[0]).packed
            + struct.pack("!HH", src[1], dst[1]))
    return b"\r\n\r\n\x00\r\nQUIT\n" + bytes([0x21, 0x11]) + struct.pack("!H", len(body)) + body


def split_host(host: str) -> tuple[str, int]:
    """"name:port" → (name, port); port 80 (http) when none is given."""
    if host.count(":") == 1:
        name, _, port = host.partition(":")
        return name, int(port)
    return host, 80


def host_header(host: str) -> str:
    """http.CalculateHost: the Host without http's default port."""
    name, port = split_host(host)
    return name if port == 80 else host


class MeshClient:
    """Requests from one echo Pod (echo.MeshPod) through the emulated ztunnel and waypoint."""

    def __init__(self, mesh: Mesh, pod: Pod) -> None:
        self.mesh = mesh
        self.pod = pod

    @property
    def address(self) -> str:
        """The Pod's IP (MeshPod.Address)."""
        return self.pod.ip

    def destination(self, host: str) -> tuple[str, int, bool]:
        """Where a connection to `host` goes: (ip, port, captured by the waypoint)."""
        name, port = split_host(host)
        try:
            ipaddress.ip_address(name)
            ip = name
        except ValueError:
            # Cluster DNS: `svc`, `svc.ns`, `svc.ns.svc[.cluster.local]`, searched from the Pod's namespace.
            parts = name.split(".")
            namespace = parts[1] if len(parts) > 1 else self.pod.namespace
            svc = self.mesh.service(namespace, parts[0])
            if svc is None:
                raise OSError(f"cannot resolve {name!r} from namespace {self.pod.namespace}")
            ip = svc.cluster_ip
        svc = self.mesh.by_ip(ip)
        if svc is not None and not svc.captured:
            raise OSError(f"{svc.namespace}/{svc.name} is not captured by the mesh (no kube-proxy here)")
        return ip, port, svc is not None

    def connect(self, host: str) -> tuple[socket.socket, str, int]:
        """A socket from the Pod to `host` as the mesh carries it (to the waypoint with a PROXY
        header when captured); with the destination's ip and port."""
        ip, port, captured = self.destination(host)
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            sock.settimeout(TIMEOUT)
            sock.bind((self.pod.ip, 0))
            if captured:
                sock.connect((self.mesh.waypoint_ip, PROXY_PORT))
                sock.sendall(proxy_v2_header(sock.getsockname(), (ip, port)))
            else:
                sock.connect((ip, port))
        except BaseException:
            sock.close()
            raise
        return sock, ip, port

    def request(self, expected: Expect) -> Reply:
        """One request as `client http://<host><path> -H ...` sends it (redirects not followed),
        or `client grpc://<host> -H ...` for protocol grpc."""
        req = expected.request
        if req.protocol.lower() == GRPC:
            return self.grpc_request(expected)
        host = req.host or DEFAULT_HOST
        headers = dict(req.headers)
        # `-H Host:x` sets the request's Host (Istio's echo client); the Host is otherwise the URL's.
        host_value = next((v for k, v in headers.items() if k.lower() == "host"), host_header(host))
        headers = {k: v for k, v in headers.items() if k.lower() != "host"}
        sock, ip, port = self.connect(host)
        try:
            conn = http.client.HTTPConnection(ip, port, timeout=TIMEOUT)
            conn.sock = sock
            conn.putrequest(req.method or "GET", req.path or "/", skip_host=True, skip_accept_encoding=True)
            conn.putheader("Host", host_value)
            for name, value in headers.items():
                conn.putheader(name, value)
            conn.endheaders()
            resp = conn.getresponse()
            data = resp.read()
            got: dict[str, list[str]] = {}
            for name, value in resp.getheaders():
                got.setdefault(name.lower(), []).append(value)
        finally:
            sock.close()
        echo = None
        if resp.status == 200 and got.get("content-type") == ["application/json"]:
            try:
                echo = json.loads(data)
            except ValueError:
                echo = None
        return Reply(resp.status, got, data, echo)

    def grpc_request(self, expected: Expect) -> Reply:
        """One gRPC call (see the module docstring), answered as the echo client reports it: the
        backend's Pod and namespace and the metadata it received, as `echo` (HTTP's shape)."""
        req = expected.request
        host = req.host or DEFAULT_HOST
        sock, _, _ = self.connect(host)
        try:
            response, headers = call_over(sock, host, metadata=req.headers)
        finally:
            sock.close()
        a = response.assertions
        seen: dict[str, list[str]] = {}
        for h in a.headers:
            seen.setdefault(h.key, []).append(h.value)
        echo = {"pod": a.context.pod, "namespace": a.context.namespace, "headers": seen}
        return Reply(200, headers, response.SerializeToString(), echo)

    def batch(self, expected: Expect, count: int) -> list[Reply]:
        """`client ... --count=N`: N copies of one request."""
        with ThreadPoolExecutor(max_workers=BATCH_CONCURRENCY) as pool:
            return list(pool.map(lambda _: self.request(expected), range(count)))


def hostname(reply: Reply) -> str:
    """The answering Pod's name (echo's Hostname field); empty when no echo answered."""
    return str((reply.echo or {}).get("pod") or "")


def _echo_headers(reply: Reply) -> dict[str, str] | None:
    if reply.echo is None:
        return None
    out = {}
    for k, v in (reply.echo.get("headers") or {}).items():
        out[k.lower()] = ",".join(v) if isinstance(v, list) else str(v)
    return out


def compare_mesh(expected: Expect, reply: Reply) -> str | None:
    """None when `reply` meets `expected` by upstream's mesh rules (see the module docstring), else why not."""
    want = expected.response
    statuses = want.statuses or (want.status,)
    if reply.status not in statuses:
        return f"wanted status code to be one of {list(statuses)}, got {reply.status}"
    er = expected.expected_request
    if er is not None and er.headers:
        got = _echo_headers(reply)
        if got is None:
            return f"no headers captured, expected {len(er.headers)}"
        for name, value in er.headers.items():
            if name.lower() not in got:
                return f"expected {name} header to be set, actual headers: {got}"
            if got[name.lower()] != value:
                return f"expected {name} header to be set to {value}, got {got[name.lower()]}"
    if er is not None and er.absent_headers:
        got = _echo_headers(reply) or {}
        for name in er.absent_headers:
            if name.lower() in got:
                return f"expected {name} header to not be set, got {got[name.lower()]}"
    for name in want.absent_headers:
        if reply.headers.get(name.lower()):
            return f"expected no header {name!r}, got {reply.headers[name.lower()]}"
    for name, value in want.headers.items():
        values = reply.headers.get(name.lower()) or [""]
        if values[-1] != value:  # the echo client's output keeps the last value of a header
            return f"expected header {name}={value}, got {values[-1]}"
    if not hostname(reply).startswith(expected.backend):
        return f"expected pod name to start with {expected.backend}, got {hostname(reply)}"
    if reply.status in REDIRECTS and expected.redirect is not None:
        return _compare_redirect(expected, reply, "http")
    return None
