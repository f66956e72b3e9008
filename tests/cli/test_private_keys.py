"""Private keys never leave meshgate in clear: not in `meshgate translate` (JSON or YAML), not in
`/debug/config` of a running meshgate, whether they are listener certificates or the client
certificate of a MUTUAL DestinationRule (served to Envoy over SDS, not inline in the cluster)."""

from __future__ import annotations

import base64
import json
import urllib.request
from pathlib import Path

import pytest
import yaml

from ..meshgate_process import MeshgateProcess
from .test_cli import run_cli

CASES = Path(__file__).resolve().parents[1] / "golden" / "cases"
MUTUAL = CASES / "dr-mutual-tls" / "input.yaml"
CLIENT_SECRET = "client/apps/backend-mtls"


def _private_key() -> bytes:
    """The key of the case's Secret, as written there."""
    docs = list(yaml.safe_load_all(MUTUAL.read_text()))
    (secret,) = [d for d in docs if d["kind"] == "Secret"]
    return secret["stringData"]["tls.key"].encode()


def _strings(value: object):
    if isinstance(value, dict):
        for v in value.values():
            yield from _strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)
    elif isinstance(value, str):
        yield value


def assert_no_key(text: str, document: object, key_pem: bytes) -> None:
    """Neither the key's PEM, nor its base64 (as proto3 JSON writes bytes), nor any line of its
    body appears; and no string of the document decodes to a private key."""
    body = [line for line in key_pem.decode().splitlines() if line and not line.startswith("-----")]
    assert body, "the fixture has a key"
    assert "PRIVATE KEY" not in text
    assert base64.b64encode(key_pem).decode() not in text
    for line in body:
        assert line not in text
    der = base64.b64decode("".join(body))
    for s in _strings(document):
        try:
            decoded = base64.b64decode(s, validate=True)
        except ValueError:
            continue
        assert b"PRIVATE KEY" not in decoded and der not in decoded


def _cluster_tls(gateway: dict) -> dict:
    (cluster,) = gateway["clusters"]
    return cluster["transport_socket"]["typed_config"]["common_tls_context"]


@pytest.mark.parametrize("fmt", ["json", "yaml"])
def test_translate_never_prints_a_client_private_key(fmt: str) -> None:
    proc = run_cli("translate", str(MUTUAL), "-o", fmt)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout) if fmt == "json" else yaml.safe_load(proc.stdout)
    assert_no_key(proc.stdout, out, _private_key())
    (gw,) = out["gateways"]
    # The cluster names its client certificate; the certificate itself goes over SDS.
    tls = _cluster_tls(gw)
    assert "tls_certificates" not in tls
    assert [s["name"] for s in tls["tls_certificate_sds_secret_configs"]] == [CLIENT_SECRET]
    secrets = {s["name"]: s for s in gw["secrets"]}
    assert set(secrets) == {"apps/backend-mtls", CLIENT_SECRET}  # listener and client: no collision
    assert secrets[CLIENT_SECRET]["tls_certificate"]["private_key"] == {"inline_bytes": "[redacted]"}
    assert secrets[CLIENT_SECRET]["tls_certificate"]["certificate_chain"]["inline_bytes"]


def test_debug_config_never_shows_a_private_key(tmp_path: Path) -> None:
    with MeshgateProcess("serve", str(MUTUAL), "--xds", "127.0.0.1:0", "--debug-port", "0") as serve:
        m = serve.wait_for_match(r"(http://127\.0\.0\.1:\d+)/metrics", timeout=30)
        with urllib.request.urlopen(f"{m.group(1)}/debug/config?gateway=apps/gw", timeout=5) as resp:
            text = resp.read().decode()
    dump = json.loads(text)
    assert_no_key(text, dump, _private_key())
    secrets = {r["name"]: r["resource"] for r in dump["SDS"]["resources"]}
    assert set(secrets) == {"apps/backend-mtls", CLIENT_SECRET}
    for s in secrets.values():
        assert s["tls_certificate"]["private_key"] == {"inline_bytes": "[redacted]"}
    (cluster,) = dump["CDS"]["resources"]
    tls = cluster["resource"]["transport_socket"]["typed_config"]["common_tls_context"]
    assert "tls_certificates" not in tls
