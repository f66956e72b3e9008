"""Per-stage golden tests: each own case's IR (resources → IR), next to its xDS (IR → xDS,
test_golden.py), so a change reads as the decision that moved and then its spelling in Envoy's
terms. Regenerate with `make golden` and review the diff."""

from __future__ import annotations

import pytest

from .harness import GoldenCase, ir_output, own_cases, render, run_case

CASES = own_cases()


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_ir_golden(case: GoldenCase, update_golden: bool) -> None:
    assert case.expected_ir is not None
    _, tr = run_case(case)
    text = render(ir_output(tr))
    if update_golden:
        case.expected_ir.write_text(text)
        return
    assert case.expected_ir.exists(), f"no expected IR yet: run `make golden` and review {case.expected_ir}"
    assert text == case.expected_ir.read_text(), f"{case.expected_ir} differs: run `make golden` and review the diff"
