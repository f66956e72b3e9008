"""`--log-format json` and `--log-level` of `meshgate serve`/`run` as processes, watchfiles kept
quiet, and echo backends kept out of `meshgate run --echo`'s output."""

from __future__ import annotations

import json
import logging
import queue
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

import pytest

from meshgate.echo import EchoServer

from ..e2e.harness import free_subnet, get

QUICKSTART = Path(__file__).resolve().parents[2] / "examples" / "quickstart"
EXE = Path(sys.executable).parent / "meshgate"
EXTRA_ROUTE = """apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: extra, namespace: quickstart}
spec:
  parentRefs: [{name: web}]
  rules:
  - matches: [{path: {type: PathPrefix, value: /extra}}]
    backendRefs: [{name: web, port: 80}]
"""


class Process:
    """A meshgate subprocess whose stdout and stderr lines are collected by threads."""

    def __init__(self, *args: str, merged: bool = False) -> None:
        self.proc = subprocess.Popen([str(EXE), *args], stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT if merged else subprocess.PIPE, text=True)
        self.out: list[str] = []
        self.err: list[str] = []
        self._lines: queue.Queue[str] = queue.Queue()
        self._threads = [threading.Thread(target=self._read, args=(self.proc.stdout, self.out), daemon=True)]
        if not merged:
            self._threads.append(threading.Thread(target=self._read, args=(self.proc.stderr, self.err), daemon=True))
        for t in self._threads:
            t.start()

    def _read(self, pipe, into: list[str]) -> None:  # type: ignore[no-untyped-def]
        for line in pipe:
            into.append(line)
            self._lines.put(line)

    def wait_for(self, check: Callable[[str], bool], timeout: float = 60.0) -> str:
        """The first line (either stream, from now on) passing `check`; bounded."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self._lines.get(timeout=0.2)
            except queue.Empty:
                assert self.proc.poll() is None, "meshgate exited:\n" + "".join(self.out + self.err)
                continue
            if check(line):
                return line
        raise AssertionError("not seen:\n" + "".join(self.out + self.err))

    def stop(self) -> None:
        """SIGTERM, wait, and collect the rest of the output."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=30)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()
        for t in self._threads:
            t.join(10)


def quickstart(tmp_path: Path) -> Path:
    config = tmp_path / "config"
    shutil.copytree(QUICKSTART, config)
    return config


def test_serve_log_format_json_is_one_object_per_line(tmp_path: Path) -> None:
    config = quickstart(tmp_path)
    p = Process("serve", str(config), "--xds", "127.0.0.1:0", "--debug-port", "0", "--log-format", "json")
    try:
        p.wait_for(lambda line: "metrics and debug on" in line)
        (config / "extra.yaml").write_text(EXTRA_ROUTE)
        p.wait_for(lambda line: '"push' in line)  # after the reload line
        bad = (config / "routes.yaml").read_text().replace("type: PathPrefix", "type: Prefix")
        (config / "routes.yaml").write_text(bad)
        p.wait_for(lambda line: "input error" in line)
    finally:
        p.stop()
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
    p = Process("serve", str(config), "--xds", "127.0.0.1:0", "--debug-port", "0", "--log-level", "warning")
    try:
        p.wait_for(lambda line: "metrics and debug on" in line)
    finally:
        p.stop()
    text = "".join(p.err)
    assert re.search(r"WARNING meshgate\.reload: input error: \S*routes\.yaml:\d+: HTTPRoute quickstart/api "
                     r"spec\.rules\[0\]\.matches\[0\]\.path\.type: unsupported value 'Prefix'", text), text
    assert " INFO " not in text


def test_bad_log_options_are_refused(tmp_path: Path) -> None:
    for option, value in (("--log-level", "loud"), ("--log-format", "xml")):
        proc = subprocess.run([str(EXE), "serve", str(tmp_path), option, value], capture_output=True, text=True,
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
    base = free_subnet()
    config = quickstart(tmp_path)
    for f in config.glob("*.yaml"):  # the quickstart on an address of its own
        f.write_text(f.read_text().replace("127.0.0.", f"{base}."))
    p = Process("run", str(config), "--echo", "--xds", "127.0.0.1:0", "--debug-port", "0",
                "--workdir", str(tmp_path / "work"), merged=True)
    try:
        line = p.wait_for(lambda line: "try: curl" in line)
        url = re.search(r"try: curl -s (\S+)", line).group(1)  # type: ignore[union-attr]
        deadline = time.monotonic() + 30
        reply = get(url + "api/logged")
        while reply.status != 200 and time.monotonic() < deadline:
            time.sleep(0.1)
            reply = get(url + "api/logged")
        assert reply.status == 200 and reply.pod.startswith("api-")  # an echo backend answered
        assert get(url + "web/logged").status == 200
    finally:
        p.stop()
    text = "".join(p.out)
    assert "Echoing back" not in text and "/api/logged" not in text, text
    assert "meshgate.reload: initial load:" in text  # meshgate's own lines are there
