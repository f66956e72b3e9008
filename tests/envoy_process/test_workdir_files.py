"""What a ManagedEnvoy leaves in its workdir, under a permissive umask: a 0700 directory, 0600
bootstrap, log, admin-address file (written by Envoy itself) and pid record; the record names the
running process and is gone once meshgate stopped it."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from meshgate.envoy.process import ManagedEnvoy

from .test_managed_envoy import _bootstrap, run

pytestmark = pytest.mark.envoy


def test_workdir_and_files_are_private(envoy_binary: str, tmp_path: Path) -> None:
    workdir = tmp_path / "work"
    before = os.umask(0o022)
    try:
        async def scenario() -> None:
            async with ManagedEnvoy("ns/gw", _bootstrap(), workdir, envoy_binary=envoy_binary) as m:
                files = {p.name: stat.S_IMODE(p.stat().st_mode) for p in workdir.iterdir()}
                assert files == {"ns_gw.envoy.json": 0o600, "ns_gw.envoy.log": 0o600,
                                 "ns_gw.envoy.admin": 0o600, "ns_gw.envoy.pid": 0o600}
                from meshgate.envoy.leftovers import is_running, read_record  # new with the records

                record = read_record(m.record_path)
                assert record is not None and record.pid == m.pid and record.name == "ns/gw"
                assert record.config == str(m.config_path) and is_running(record)
            assert not m.record_path.exists()

        run(scenario())
    finally:
        os.umask(before)
    assert stat.S_IMODE(workdir.stat().st_mode) == 0o700
