"""Redirect Locations from a real Envoy running the generated config.

Which port a Location carries depends on Envoy's own rules (it keeps the request's Host port,
drops it when host_redirect is set, drops the old scheme's default port); meshgate sets
port_redirect to get the Gateway API's answer. This runs the `redirect-variants` golden case in
Envoy, bound on free loopback ports, and checks what clients see.
"""

from __future__ import annotations

import http.client
import socket
import subprocess
import time

import pytest
from google.protobuf.json_format import MessageToJson

from meshgate.envoy.binary import find_envoy
from meshgate.envoy.static_config import static_bootstrap

from ..golden.harness import own_cases, run_case

pytestmark = pytest.mark.envoy


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def envoy_ports(tmp_path_factory: pytest.TempPathFactory):
    """Envoy serving the redirect-variants gateway; maps each Gateway port to where it listens."""
    case = next(c for c in own_cases() if c.name == "redirect-variants")
    _, tr = run_case(case)
    boot = static_bootstrap(tr.snapshots[0], admin_port=_free_port())
    ports: dict[int, int] = {}
    for lst in boot.static_resources.listeners:
        ports[lst.address.socket_address.port_value] = _free_port()
        lst.address.socket_address.address = "127.0.0.1"
        lst.address.socket_address.port_value = ports[lst.address.socket_address.port_value]
    path = tmp_path_factory.mktemp("envoy") / "redirects.json"
    path.write_text(MessageToJson(boot))
    envoy = find_envoy()
    assert envoy is not None
    proc = subprocess.Popen([envoy, "-c", str(path), "--log-level", "error", "--disable-hot-restart"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else "envoy exited"
            try:
                socket.create_connection(("127.0.0.1", ports[8080]), timeout=0.5).close()
                socket.create_connection(("127.0.0.1", ports[80]), timeout=0.5).close()
                break
            except OSError:
                time.sleep(0.05)
        else:
            pytest.fail("envoy did not start listening within 20s")
        yield ports
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _location(port: int, path: str, host: str) -> tuple[int, str | None]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    conn.request("GET", path, headers={"Host": host})
    resp = conn.getresponse()
    return resp.status, resp.getheader("location")


@pytest.mark.parametrize(
    ("gateway_port", "host", "path", "status", "location"),
    [
        # Listener on 80: the default port never shows.
        (80, "foo", "/plain", 302, "http://foo/plain"),
        (80, "foo", "/scheme", 302, "https://foo/scheme"),
        (80, "foo:80", "/scheme", 302, "https://foo/scheme"),
        (80, "foo", "/port", 303, "http://foo:8443/port"),
        (80, "foo", "/host", 301, "http://example.org/host"),
        (80, "foo", "/strip/a?x=1", 302, "http://foo/a?x=1"),
        (80, "foo", "/prefix/a", 308, "http://foo/new/a"),
        (80, "foo", "/full/a", 302, "http://foo/full-new"),
        # Listener on 8080: the listener port stays unless the scheme or port changes.
        (8080, "foo:8080", "/plain", 302, "http://foo:8080/plain"),
        (8080, "foo:8080", "/host", 301, "http://example.org:8080/host"),
        # The scheme's default port, spelled out (the conformance suite accepts it), never 8080.
        (8080, "foo:8080", "/scheme", 302, "https://foo:443/scheme"),
        (8080, "foo:8080", "/port-80", 307, "http://foo:80/port-80"),
    ],
)
def test_location(envoy_ports: dict[int, int], gateway_port: int, host: str, path: str, status: int,
                  location: str) -> None:
    assert _location(envoy_ports[gateway_port], path, host) == (status, location)
