"""xDS over mutual TLS with real Envoys: `meshgate run`'s own CA and managed Envoys, and an
operator's certificates with an Envoy bootstrapped as `meshgate bootstrap --xds-ca ...` emits."""

from __future__ import annotations

import asyncio
import re
import stat
from pathlib import Path

import grpc
import pytest
from envoy.config.core.v3 import base_pb2
from envoy.service.discovery.v3 import ads_pb2_grpc, discovery_pb2

from meshgate.echo import EchoServer
from meshgate.envoy.bootstrap import XdsClientTLS, ads_bootstrap
from meshgate.envoy.process import ManagedEnvoy
from meshgate.runtime.pki import issue_gateway, issue_server, new_authority, write_issued, write_private
from meshgate.runtime.run import Runner, RunOptions
from meshgate.xds.resources import CLUSTER
from meshgate.xds.tls import load_server_tls

from .harness import GATEWAY, LISTEN_PORT, config, free_subnet, get
from .run_process import MeshgateRun, quickstart_copy

pytestmark = pytest.mark.envoy


def _ssl_stat(stats: str, name: str) -> int:
    m = re.search(rf"^cluster\.meshgate-xds\.ssl\.{re.escape(name)}: (\d+)$", stats, re.MULTILINE)
    assert m, f"no cluster.meshgate-xds.ssl.{name} in Envoy's stats"
    return int(m.group(1))


def _plaintext_cds(port: int) -> grpc.StatusCode | None:
    """Ask for CDS over plaintext; the error code, or None when config came back."""

    async def ask() -> grpc.StatusCode | None:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            stub = ads_pb2_grpc.AggregatedDiscoveryServiceStub(channel)
            node = base_pb2.Node(id="intruder", cluster="quickstart/web")

            async def requests():
                yield discovery_pb2.DiscoveryRequest(node=node, type_url=CLUSTER)
                await asyncio.sleep(5)

            try:
                async for _ in stub.StreamAggregatedResources(requests()):
                    return None
            except grpc.aio.AioRpcError as exc:
                return exc.code()
        return grpc.StatusCode.OK

    return asyncio.run(asyncio.wait_for(ask(), 20))


def _admin_get(url: str) -> str:
    import urllib.request

    with urllib.request.urlopen(url, timeout=5) as resp:
        return resp.read().decode()


def test_run_serves_its_envoys_over_mutual_tls(tmp_path: Path) -> None:
    quickstart, base = quickstart_copy(tmp_path)
    workdir = tmp_path / "work"

    run = MeshgateRun(quickstart, "--workdir", str(workdir))
    try:
        run.wait_for("try: curl")
        text = run.text
        xds_port = int(re.search(r"meshgate: xDS \(Delta ADS, mTLS\) on 127\.0\.0\.1:(\d+)", text).group(1))
        admin = re.search(r"\(Envoy admin (http://127\.0\.0\.1:\d+)", text).group(1)
        assert get(f"http://{base}.1:18080/").status == 200  # config came over mTLS xDS
        stats = _admin_get(f"{admin}/stats?filter=meshgate-xds")
        assert _ssl_stat(stats, "handshake") >= 1
        assert _ssl_stat(stats, "connection_error") == 0
        # Plaintext clients do not get through to the xDS server.
        assert _plaintext_cds(xds_port) == grpc.StatusCode.UNAVAILABLE
    finally:
        assert run.stop(timeout=30) == 0
    pki = workdir / "pki"
    assert stat.S_IMODE(pki.stat().st_mode) == 0o700
    for f in ("ca.crt", "ca.key", "server.crt", "server.key", "gateways/quickstart_web.crt",
              "gateways/quickstart_web.key"):
        assert stat.S_IMODE((pki / f).stat().st_mode) == 0o600, f
    ca = (pki / "ca.crt").read_bytes()

    # The next run of the same workdir keeps the CA.
    run = MeshgateRun(quickstart, "--workdir", str(workdir))
    try:
        run.wait_for("try: curl")
        assert get(f"http://{base}.1:18080/").status == 200
    finally:
        assert run.stop(timeout=30) == 0
    assert (pki / "ca.crt").read_bytes() == ca


def test_operator_certificates_for_served_and_managed_envoys(tmp_path: Path) -> None:
    """The operator's CA for an Envoy bootstrapped elsewhere (verifying the server's IP SAN);
    meshgate run's own CA, picked by SNI, for its managed Envoy, on the same port."""
    base = free_subnet()
    cfg = tmp_path / "config"
    cfg.mkdir()
    for name, text in config(base, [f"{base}.13"]).items():
        (cfg / name).write_text(text)
    ops = new_authority("operator CA")
    pki = tmp_path / "operator"
    write_issued(pki, "server", issue_server(ops, ["127.0.0.1"]))
    write_private(pki / "ca.crt", ops.certificate_pem)
    cert, key = write_issued(pki, "client", issue_gateway(ops, GATEWAY))
    tls = load_server_tls(pki / "server.crt", pki / "server.key", pki / "ca.crt")
    echoes = [EchoServer(f"{base}.11", 9001, pod="api-11", namespace="e2e"),
              EchoServer(f"{base}.13", 9002, pod="web-13", namespace="e2e")]
    for e in echoes:
        e.start()

    async def body() -> None:
        runner = Runner(RunOptions([str(cfg)], xds_port=0, debug_port=0, workdir=tmp_path / "work",
                                   xds_tls=tls, managed_tls=True), say=lambda line: None)
        external: ManagedEnvoy | None = None
        loop = asyncio.get_running_loop()
        try:
            await runner.start()  # its managed Envoy is LIVE once it got config over xDS
            managed = runner.envoys[GATEWAY]
            stats = await managed.admin_get("/stats?filter=meshgate-xds")
            assert _ssl_stat(stats, "handshake") >= 1
            # An Envoy of the operator's, as `meshgate bootstrap --xds 127.0.0.1:PORT --xds-ca ...` makes it.
            boot = ads_bootstrap(GATEWAY, "127.0.0.1", runner.xds_port,
                                 tls=XdsClientTLS(pki / "ca.crt", cert, key))
            external = ManagedEnvoy("external", boot, tmp_path / "external-envoy")
            (tmp_path / "external-envoy").mkdir()
            await external.start()
            stats = await external.admin_get("/stats?filter=meshgate-xds")
            assert _ssl_stat(stats, "handshake") >= 1
            assert _ssl_stat(stats, "fail_verify_san") == 0
            assert len(runner.registry.all()) == 2
            reply = await loop.run_in_executor(None, get, f"http://{base}.1:{LISTEN_PORT}/")
            assert reply.status == 200 and reply.pod == "web-13"
        finally:
            if external is not None:
                await external.stop()
            await runner.stop()

    try:
        asyncio.run(asyncio.wait_for(body(), 90))
    finally:
        for e in echoes:
            e.stop()
