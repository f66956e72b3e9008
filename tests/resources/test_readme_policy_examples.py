"""The README's policy examples load without a problem (a policy section's first YAML block)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from meshgate.resources.loader import load_text

README = Path(__file__).resolve().parents[2] / "README.md"


def _example(heading: str) -> str:
    text = README.read_text()
    section = text[text.index(f"\n{heading}\n"):]
    block = re.search(r"```yaml\n(.*?)```", section, re.DOTALL)
    assert block is not None, f"no YAML example under {heading}"
    return block.group(1)


@pytest.mark.parametrize("heading, kinds", [("### BackendTrafficPolicy", ["BackendTrafficPolicy"]),
                                            ("### ClientTrafficPolicy", ["ClientTrafficPolicy"]),
                                            ("### SecurityPolicy", ["SecurityPolicy"]),
                                            ("### Istio AuthorizationPolicy and RequestAuthentication",
                                             ["AuthorizationPolicy", "RequestAuthentication"])])
def test_the_example_loads_cleanly(heading: str, kinds: list[str]) -> None:
    loaded = load_text(_example(heading), "README.md", "2026-01-01T00:00:00Z")
    assert loaded.errors == []
    assert [o.kind for o in loaded.objects] == kinds
