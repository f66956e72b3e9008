"""`--log-format json` and `--log-level` of `meshgate serve`/`run` as processes, watchfiles kept
quiet, and echo backends kept out of `meshgate run --echo`'s output."""

from __future__ import annotations

import json
import logging
import re
import shutil
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from meshgate.echo import EchoServer

from ..e2e.harness import get
from ..e2e.run_process import MeshgateRun, quickstart_copy
from ..meshgate_process import MESHGATE, MeshgateProcess

QUICKSTART = Path(__file__).resolve().parents[2] / "examples" / "quickstart"
EXTRA_ROUTE = """apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: extra, namespace: quickstart}
spec:
  parentRefs: [{name: web}]
  rules:
  - matches: [{path: {type: PathPrefix, value: /extra}}]
    backendRefs: [{name: web, port: 80}]
"""


def quickstart(tmp_path: Path) -> Path:
    config = tmp_path / "config"
    shutil.copytree(QUICKSTART, config)
    return config


def test_serve_log_format_json_is_one_object_per_line(tmp_path: Path) -> None:
    config = quickstart(tmp_path)
    p = MeshgateProcess("serve", str(config), "--xds", "127.0.0.1:0", "--debug-port", "0", "--log-format", "json",
                        merge_stderr=False)
    try:  # each line looked for comes after the one looked for before
        p.wait_for("metrics and debug on", after_last=True)
        (config / "extra.yaml").write_text(EXTRA_ROUTE)
        p.wait_for('"push', after_last=True)  # after the reload line
        bad = (config / "routes.yaml").read_text().replace("type: PathPrefix", "type: Prefix")
        (config / "routes.yaml").write_text(bad)
        p.wait_for("input error", after_last=True)
    finally:
        p.terminate(timeout=30)
    assert p.proc.returncode == 0
    records = [json.loads(line) for line in p.err]  # every line: one JSON object
    assert records and all(isinstance(r, dict) and {"time", "level", "logger", "message"} <= r.keys()
                           for r in records)
    reloads = [r for r in records if r["message"].startswith("reload:")]
    assert reloads[0]["logger"] == "meshgate.reload" and reloads[0]["level"] == "INFO"
    assert reloads[0]["reload"]["added"] == ["HTTPRoute quickstart/extra"]
    assert reloads[0]["reload"]["path"] == "full"
    errors = [r for r in records if r["message"].startswith("input error:")]
    assert len(errors) == 1 and errors[0]["level"] == "WARNING"
    line = next(n for n, text in enumerate(bad.splitlines(), 1) if "type: Prefix" in text)
    assert errors[0]["input_error"]["line"] == line
    assert errors[0]["input_error"]["field"] == "spec.rules[0].matches[0].path.type"
    assert errors[0]["input_error"]["file"].endswith("routes.yaml")
    assert "unsupported value 'Prefix'" in errors[0]["input_error"]["reason"]
    assert reloads[0]["reload"]["counts"] == {"added": 1, "changed": 0, "removed": 0}
    # watchfiles' own "N change(s) detected" is not repeated beside meshgate's account.
    assert not [r for r in records if r["logger"].startswith("watchfiles") or "detected" in r["message"]]


def test_serve_log_level_warning_keeps_warnings_only(tmp_path: Path) -> None:
    config = quickstart(tmp_path)
    routes = config / "routes.yaml"
    routes.write_text(routes.read_text().replace("type: PathPrefix", "type: Prefix"))
    p = MeshgateProcess("serve", str(config), "--xds", "127.0.0.1:0", "--debug-port", "0", "--log-level", "warning",
                        merge_stderr=False)
    try:
        p.wait_for("metrics and debug on")
    finally:
        p.terminate(timeout=30)
    text = "".join(p.err)
    assert re.search(r"WARNING meshgate\.reload: input error: \S*routes\.yaml:\d+: HTTPRoute quickstart/api "
                     r"spec\.rules\[0\]\.matches\[0\]\.path\.type: unsupported value 'Prefix'", text), text
    assert " INFO " not in text


def test_bad_log_options_are_refused(tmp_path: Path) -> None:
    for option, value in (("--log-level", "loud"), ("--log-format", "xml")):
        proc = subprocess.run([str(MESHGATE), "serve", str(tmp_path), option, value], capture_output=True, text=True,
                              timeout=60, check=False)
        assert proc.returncode == 2 and f"Invalid value for '{option}'" in proc.stderr


def test_an_echo_server_logs_requests_at_debug_on_its_logger(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="meshgate.echo")
    with EchoServer("127.0.0.1", 0) as server, \
            urllib.request.urlopen(f"http://127.0.0.1:{server.port}/hello", timeout=10) as resp:
        assert resp.status == 200
    lines = [(r.name, r.levelno, r.getMessage()) for r in caplog.records]
    assert [(n, lv) for n, lv, m in lines if m.startswith("Echoing back request made to /hello")] == [
        ("meshgate.echo", logging.DEBUG)]


@pytest.mark.envoy
def test_run_echo_backends_stay_out_of_meshgate_output(tmp_path: Path) -> None:
    config, _ = quickstart_copy(tmp_path)  # the quickstart on an address of its own
    p = MeshgateRun(config, "--workdir", str(tmp_path / "work"))
    try:
        line = p.wait_for("try: curl")
        url = re.search(r"try: curl -s (\S+)", line).group(1)  # type: ignore[union-attr]
        deadline = time.monotonic() + 30
        reply = get(url + "api/logged")
        while reply.status != 200 and time.monotonic() < deadline:
            time.sleep(0.1)
            reply = get(url + "api/logged")
        assert reply.status == 200 and reply.pod.startswith("api-")  # an echo backend answered
        assert get(url + "web/logged").status == 200
    finally:
        p.terminate(timeout=30)
    text = p.text
    assert "Echoing back" not in text and "/api/logged" not in text, text
    assert "meshgate.reload: initial load:" in text  # meshgate's own lines are there
