"""Golden tests: translate each case and compare with its reviewed expected output.

Regenerate with `make golden` (pytest --update-golden) and review the diff.
"""

from __future__ import annotations

import pytest

from .harness import GoldenCase, conformance_cases, own_cases, render, run_case

CASES = own_cases() + conformance_cases()


@pytest.mark.parametrize("case", CASES, ids=[("conformance/" if c.conformance else "") + c.name for c in CASES])
def test_golden(case: GoldenCase, update_golden: bool) -> None:
    out, _ = run_case(case)
    text = render(out)
    if update_golden:
        case.expected.write_text(text)
        return
    assert case.expected.exists(), f"no expected output yet: run `make golden` and review {case.expected}"
    expected = case.expected.read_text()
    assert text == expected, f"{case.expected} differs: run `make golden` and review the diff"
