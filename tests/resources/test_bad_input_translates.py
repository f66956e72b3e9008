"""Each bad-input case through the whole pipeline: errors are reported, nothing crashes, and
every valid Gateway in the file is still translated, with status."""

from __future__ import annotations

from pathlib import Path

import pytest

from meshgate.pipeline import translate_paths
from meshgate.resources.loader import load_paths

CORPUS = Path(__file__).parent / "bad_input"
CASES = sorted(p for p in CORPUS.iterdir() if p.suffix in (".yaml", ".json"))
STAMP = "2026-01-01T00:00:00Z"


@pytest.mark.parametrize("case", CASES, ids=[p.name for p in CASES])
def test_case_translates_what_is_valid(case: Path) -> None:
    tr = translate_paths([case], now=STAMP, created=STAMP)
    # Every case but the warnings-only ones (unknown kinds are skipped, not errors) fails.
    assert tr.failed == (case.name not in ("warnings_only.yaml", "unknown_kind.yaml"))
    loaded = load_paths([case], created=STAMP)
    ours = {f"{o.meta.namespace}/{o.meta.name}" for o in loaded.objects
            if o.kind == "Gateway" and o.class_name == "meshgate"}
    assert {s.gateway for s in tr.snapshots} == ours
    with_status = {f"{s['metadata']['namespace']}/{s['metadata']['name']}" for s in tr.status if s["kind"] == "Gateway"}
    assert ours <= with_status


def test_corpus_has_valid_gateways_to_translate() -> None:
    """The check above is not vacuous: several cases hold a valid Gateway beside the bad input."""
    with_gateways = [c for c in CASES if translate_paths([c], now=STAMP, created=STAMP).snapshots]
    assert len(with_gateways) >= 5
