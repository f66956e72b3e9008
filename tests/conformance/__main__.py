"""`python -m tests.conformance`: run the transcribed upstream tests and print the report (make conformance)."""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from .registry import all_tests
from .report import conformance_report, print_results
from .runner import Suite, copy_logs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.conformance", description=__doc__)
    parser.add_argument("--run-test", action="append", default=[], metavar="SHORTNAME",
                        help="Only these tests (repeatable), as the upstream --run-test.")
    parser.add_argument("--all-features", action="store_true",
                        help="Also run the tests of features meshgate does not claim (as upstream --all-features).")
    parser.add_argument("--report-output", type=Path, help="Also write the ConformanceReport YAML here.")
    parser.add_argument("--keep-logs", type=Path, help="Copy Pod and Envoy logs here afterwards.")
    args = parser.parse_args(argv)
    tests = [t for t in all_tests() if not args.run_test or t.short_name in args.run_test]
    if not tests:
        parser.error(f"no test named {args.run_test}")
    results = []
    with tempfile.TemporaryDirectory(prefix="meshgate-conformance-") as tmp, Suite(Path(tmp)) as suite:
        for test in tests:
            result = suite.run(test, args.all_features)
            results.append(result)
            print_results([result], sys.stdout)
        if args.keep_logs:
            copy_logs(suite, args.keep_logs)
    report = conformance_report(results)
    print()
    print(report, end="")
    if args.report_output:
        args.report_output.write_text(report)
    return 1 if any(r.outcome == "failed" for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
