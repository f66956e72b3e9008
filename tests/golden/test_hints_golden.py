"""Golden tests for `meshgate hints` output (ARCHITECTURE §6): EndpointSlices with topology hints, and events.

Each case is tests/golden/hints/<case>/input.yaml (its first comment says what it checks) next to
expected.yaml: the `meshgate hints` document ({"endpointSlices", "events"}) plus what the
command reports besides it, on stderr: `errors` (input refused, as the API server would) and
`warnings` (hints_mode's, per Service). Regenerate with pytest `--update-golden` and review the
diff (tests/golden/hints/README.md).
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from meshgate.hints import hints_document
from meshgate.resources.loader import load_text
from meshgate.store import Store

HERE = Path(__file__).parent / "hints"
CREATED = "2026-01-01T00:00:00Z"
CASES = sorted(p.name for p in HERE.iterdir() if p.is_dir() and (p / "input.yaml").exists())


def hints_output(case: str) -> dict:
    """What `meshgate hints` gives for a case (the same function the command calls), with what it
    reports on stderr besides: refused input and per-Service warnings."""
    name = f"{case}/input.yaml"
    result = load_text((HERE / case / "input.yaml").read_text(), name, CREATED)
    store, duplicates = Store.from_load(result)
    document, warnings = hints_document(store)
    errors = []
    for e in result.errors + duplicates:
        d = e.to_dict()
        d.pop("message", None)
        errors.append(d)
    return {**document, "errors": errors, "warnings": warnings}


def render(out: dict) -> str:
    return yaml.dump(out, Dumper=getattr(yaml, "CSafeDumper", yaml.SafeDumper), sort_keys=False,
                     default_flow_style=False, width=120)


def test_cases_exist() -> None:
    assert len(CASES) >= 10


@pytest.mark.parametrize("case", CASES)
def test_hints_golden(case: str, update_golden: bool) -> None:
    text = render(hints_output(case))
    expected = HERE / case / "expected.yaml"
    if update_golden:
        expected.write_text(text)
        return
    assert expected.exists(), f"no expected output yet: run pytest --update-golden and review {expected}"
    assert text == expected.read_text(), f"{expected} differs: run pytest --update-golden and review the diff"


@pytest.mark.parametrize("case", CASES)
def test_case_says_what_it_checks(case: str) -> None:
    assert (HERE / case / "input.yaml").read_text().startswith("# "), f"{case}/input.yaml: start with a comment"
