"""`python -m tests.conformance`: run the transcribed upstream tests and print the report (make conformance)."""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from .kube_suite import KubeSuite
from .registry import all_tests
from .report import conformance_report, print_results, report_differences
from .runner import Suite, copy_logs

PROVIDERS = {"files": Suite, "kubernetes": KubeSuite}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.conformance", description=__doc__)
    parser.add_argument("--run-test", action="append", default=[], metavar="SHORTNAME",
                        help="Only these tests (repeatable), as the upstream --run-test.")
    parser.add_argument("--only", choices=("gateway", "mesh"),
                        help="Only the Gateway tests, or only the mesh (GAMMA) tests (those with the Mesh feature).")
    parser.add_argument("--all-features", action="store_true",
                        help="Also run the tests of features meshgate does not claim (as upstream --all-features).")
    parser.add_argument("--provider", choices=sorted(PROVIDERS), default="files",
                        help="files: manifests written into the directory `meshgate run` watches (default); "
                             "kubernetes: objects applied to the API emulator, `meshgate serve --kubernetes`, "
                             "status read from the API.")
    parser.add_argument("--slot", type=int, default=0,
                        help="Which pair of 127.1.x.0/24 networks to use (runs at the same time need different ones).")
    parser.add_argument("--report-output", type=Path, help="Also write the ConformanceReport YAML here.")
    parser.add_argument("--compare-with", type=Path, metavar="REPORT",
                        help="Afterwards, say whether the results match this earlier ConformanceReport "
                             "(exit 1 if not).")
    parser.add_argument("--keep-logs", type=Path, help="Copy Pod and Envoy logs here afterwards.")
    args = parser.parse_args(argv)
    tests = [t for t in all_tests() if (not args.run_test or t.short_name in args.run_test)
             and (args.only is None or ("Mesh" in t.features) == (args.only == "mesh"))]
    if not tests:
        parser.error(f"no test named {args.run_test}")
    results = []
    with tempfile.TemporaryDirectory(prefix="meshgate-conformance-") as tmp:
        # The base manifests each selected test needs (upstream's Setup: Gateway, Mesh).
        mesh = any("Mesh" in t.features for t in tests)
        gateway = any("Mesh" not in t.features for t in tests)
        suite = PROVIDERS[args.provider](Path(tmp), slot=args.slot, gateway=gateway, mesh=mesh)
        with suite:
            for test in tests:
                result = suite.run(test, args.all_features)
                results.append(result)
                print_results([result], sys.stdout)
        if args.keep_logs:  # after the stop: the logs are complete
            copy_logs(suite, args.keep_logs)
    report = conformance_report(results)
    print()
    print(report, end="")
    if args.report_output:
        args.report_output.write_text(report)
    failed = any(r.outcome == "failed" for r in results)
    if args.compare_with:
        print()
        if not args.compare_with.exists():
            print(f"Cannot compare: {args.compare_with} was not written (did that run fail to start?)")
            return 1
        differences = report_differences(args.compare_with.read_text(), report)
        if differences:
            print(f"The results differ from {args.compare_with}:")
            print("\n".join(f"  - {d}" for d in differences))
        else:
            print(f"The results match {args.compare_with}.")
        failed = failed or bool(differences)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
