"""`meshgate serve --kubernetes`: its options are checked before anything starts (a clear usage
error, exit 2), and they do not mix with PATHS."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from meshgate.cli import main


@pytest.mark.parametrize(("args", "message"), [
    ([], "give PATHS to serve, or --kubernetes"),
    (["examples/quickstart", "--kubernetes"], "give PATHS or --kubernetes, not both"),
    (["examples/quickstart", "--watch-namespace", "shop"], "--watch-namespace only go with --kubernetes"),
    (["examples/quickstart", "--lease-duration", "20"], "--lease-duration only go with --kubernetes"),
    (["--kubernetes", "--watch-namespace", "Shop_1"], "--watch-namespace"),
    (["--kubernetes", "--lease-namespace", "-x"], "--lease-namespace"),
    (["--kubernetes", "--lease-duration", "2"], "2 is not in the range x>=3"),
    (["--kubernetes", "--kubeconfig", "no/such/file"], "does not exist"),
    (["--kubernetes", "--proxy-xds", "meshgate:x"], "is not HOST:PORT"),
    (["examples/quickstart", "--proxy-xds", "h:1"], "--proxy-xds only go with --kubernetes"),
    (["examples/quickstart", "--kind-recheck", "1"], "--kind-recheck only go with --kubernetes"),
    (["--kubernetes", "--kind-recheck", "0"], "0 is not in the range x>=0.1"),
])
def test_bad_kubernetes_options_are_usage_errors(args: list[str], message: str) -> None:
    root = Path(__file__).resolve().parents[2]
    result = CliRunner().invoke(main, ["serve", *args], catch_exceptions=False, env={"PWD": str(root)})
    assert result.exit_code == 2, result.output
    assert message in result.output
