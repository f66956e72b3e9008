"""The xDS TLS options as operators use them: plaintext refused off loopback, `meshgate certs`,
and `meshgate bootstrap` emitting a mutual-TLS xDS cluster that Envoy accepts."""

from __future__ import annotations

import asyncio
import stat
import subprocess
from pathlib import Path

import pytest
import yaml
from cryptography import x509

from meshgate.envoy.binary import find_envoy
from meshgate.runtime.run import Runner, RunOptions
from meshgate.xds.tls import certificate_gateways

from ..meshgate_process import MESHGATE, MeshgateProcess
from .test_cli import QUICKSTART, run_cli

ENVOY = find_envoy()


def _cli(*args: str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    """Run meshgate; a command that does not end in time is killed and fails the test."""
    try:
        return subprocess.run([str(MESHGATE), *args], check=False, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired as exc:
        raise AssertionError(f"meshgate {' '.join(args)} kept running: {exc.stdout!r}") from None


@pytest.mark.parametrize("address", ["0.0.0.0", "[::]", "xds.example.com"])
def test_plaintext_xds_off_loopback_is_refused(address: str) -> None:
    """`serve` without TLS flags would be plaintext: refused before anything binds. (`run` is
    mutual TLS unless --insecure-xds, which allows plaintext explicitly.)"""
    proc = _cli("serve", str(QUICKSTART), "--xds", f"{address}:0", "--debug-port", "0")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "refusing to serve xDS in plaintext" in lines[0] and "--insecure-xds" in lines[0]


def test_in_process_plaintext_is_refused_off_loopback(tmp_path: Path) -> None:
    """RunOptions default to plaintext (tests, benches), on loopback only."""
    assert RunOptions([str(QUICKSTART)]).plaintext_refusal() is None
    assert RunOptions([str(QUICKSTART)], xds_address="0.0.0.0", insecure_xds=True).plaintext_refusal() is None
    assert RunOptions([str(QUICKSTART)], xds_address="0.0.0.0", managed_tls=True).plaintext_refusal() is None
    runner = Runner(RunOptions([str(QUICKSTART)], xds_address="0.0.0.0", xds_port=0, debug_port=0, envoys=False,
                               workdir=tmp_path), say=lambda line: None)

    async def start() -> None:
        try:
            with pytest.raises(ValueError, match="refusing to serve xDS in plaintext on 0.0.0.0"):
                await runner.start()
            assert runner.server is None  # refused before binding
        finally:
            await runner.stop()
    asyncio.run(asyncio.wait_for(start(), 30))


def test_insecure_xds_keeps_plaintext_on_loopback() -> None:
    with MeshgateProcess("serve", str(QUICKSTART), "--xds", "127.0.0.1:0", "--debug-port", "0",
                         "--insecure-xds") as serve:
        serve.wait_for("meshgate: xDS", timeout=30)
        assert "meshgate: xDS (Delta ADS, plaintext) on 127.0.0.1:" in serve.text, serve.text


def test_tls_flags_go_together_and_bad_files_are_one_line(tmp_path: Path) -> None:
    (tmp_path / "x.pem").write_text("not a certificate\n")
    partial = _cli("serve", str(QUICKSTART), "--xds", "0.0.0.0:0", "--xds-cert", str(tmp_path / "x.pem"))
    assert partial.returncode == 2 and "together" in partial.stderr
    both = _cli("serve", str(QUICKSTART), "--xds-cert", "a", "--xds-key", "b", "--xds-client-ca", "c", "--insecure-xds")
    assert both.returncode == 2
    missing = _cli("serve", str(QUICKSTART), "--xds-cert", str(tmp_path / "none.pem"), "--xds-key",
                   str(tmp_path / "x.pem"), "--xds-client-ca", str(tmp_path / "x.pem"))
    assert missing.returncode == 1 and len(missing.stderr.strip().splitlines()) == 1
    assert "none.pem" in missing.stderr
    bad = _cli("serve", str(QUICKSTART), "--xds-cert", str(tmp_path / "x.pem"), "--xds-key",
               str(tmp_path / "x.pem"), "--xds-client-ca", str(tmp_path / "x.pem"))
    assert bad.returncode == 1 and len(bad.stderr.strip().splitlines()) == 1
    assert "not a PEM certificate" in bad.stderr


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def make_pki(root: Path, gateway: str = "quickstart/web", server: str = "127.0.0.1") -> dict[str, Path]:
    """A CA, a server certificate and a client certificate for `gateway`, with `meshgate certs`."""
    ca_dir, server_dir, client_dir = root / "ca", root / "server", root / "client"
    assert run_cli("certs", "ca", "--out", str(ca_dir)).returncode == 0
    ca = ("--ca-cert", str(ca_dir / "ca.crt"), "--ca-key", str(ca_dir / "ca.key"))
    done = run_cli("certs", "issue", *ca, "--server", server, "--server", "localhost", "--out", str(server_dir))
    assert done.returncode == 0, done.stderr
    done = run_cli("certs", "issue", *ca, "--gateway", gateway, "--out", str(client_dir))
    assert done.returncode == 0, done.stderr
    return {"ca": ca_dir / "ca.crt", "ca_key": ca_dir / "ca.key", "server_cert": server_dir / "tls.crt",
            "server_key": server_dir / "tls.key", "client_cert": client_dir / "tls.crt",
            "client_key": client_dir / "tls.key"}


def test_certs_issue_writes_private_files_naming_the_gateway(tmp_path: Path) -> None:
    files = make_pki(tmp_path)
    for d in ("ca", "server", "client"):
        assert _mode(tmp_path / d) == 0o700
    for f in files.values():
        assert _mode(f) == 0o600
    assert certificate_gateways(files["client_cert"].read_bytes()) == {"quickstart/web"}
    uris = x509.load_pem_x509_certificate(files["client_cert"].read_bytes()).extensions.get_extension_for_class(
        x509.SubjectAlternativeName).value.get_values_for_type(x509.UniformResourceIdentifier)
    assert uris == ["spiffe://meshgate.local/ns/quickstart/gateway/web"]
    server = x509.load_pem_x509_certificate(files["server_cert"].read_bytes())
    san = server.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert [str(ip) for ip in san.get_values_for_type(x509.IPAddress)] == ["127.0.0.1"]
    assert san.get_values_for_type(x509.DNSName) == ["localhost"]
    again = run_cli("certs", "ca", "--out", str(tmp_path / "ca"))
    assert again.returncode == 1 and "not overwriting" in again.stderr
    neither = run_cli("certs", "issue", "--ca-cert", str(files["ca"]), "--ca-key", str(files["ca_key"]),
                      "--out", str(tmp_path / "x"))
    assert neither.returncode == 2


@pytest.mark.envoy
@pytest.mark.parametrize("xds", ["127.0.0.1:18000", "xds.example.com:15010"], ids=["ip", "dns"])
def test_bootstrap_with_tls_flags_passes_envoy_validate(tmp_path: Path, xds: str) -> None:
    files = make_pki(tmp_path, server=xds.rsplit(":", 1)[0])
    proc = run_cli("bootstrap", "--gateway", "quickstart/web", "--xds", xds, "--xds-ca", str(files["ca"]),
                   "--xds-client-cert", str(files["client_cert"]), "--xds-client-key", str(files["client_key"]))
    assert proc.returncode == 0, proc.stderr
    boot = yaml.safe_load(proc.stdout)
    (cluster,) = boot["static_resources"]["clusters"]
    tls = cluster["transport_socket"]["typed_config"]
    assert tls["@type"].endswith("UpstreamTlsContext")
    common = tls["common_tls_context"]
    assert common["tls_certificates"] == [{"certificate_chain": {"filename": str(files["client_cert"])},
                                           "private_key": {"filename": str(files["client_key"])}}]
    assert common["validation_context"]["trusted_ca"] == {"filename": str(files["ca"])}
    (matcher,) = common["validation_context"]["match_typed_subject_alt_names"]
    host = xds.rsplit(":", 1)[0]
    assert matcher == {"san_type": "IP_ADDRESS" if host[0].isdigit() else "DNS", "matcher": {"exact": host}}
    assert tls.get("sni", "") == ("" if host[0].isdigit() else host)
    path = tmp_path / "bootstrap.yaml"
    path.write_text(proc.stdout)
    assert ENVOY is not None
    check = subprocess.run([ENVOY, "--mode", "validate", "-c", str(path), "--log-level", "error",
                            "--disable-hot-restart"], check=False, capture_output=True, text=True, timeout=120)
    assert check.returncode == 0, f"Envoy rejected the bootstrap:\n{check.stdout}\n{check.stderr}"


def test_bootstrap_tls_flags_go_together(tmp_path: Path) -> None:
    proc = run_cli("bootstrap", "--gateway", "a/b", "--xds", "127.0.0.1:1", "--xds-ca", str(tmp_path / "ca.crt"))
    assert proc.returncode == 2 and "together" in proc.stderr
