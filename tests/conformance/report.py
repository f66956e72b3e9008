"""The run's results: one line per test, and a ConformanceReport shaped like the upstream suite's."""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from typing import TextIO

import yaml

from meshgate import __version__

from .features import SUPPORTED
from .model import Result
from .profiles import PROFILES, Profile
from .suite import ConformanceTest

GATEWAY_API_VERSION = "v1.6.1"  # the manifests are from 4564255ac2c3, just after v1.6.1


def level(test: ConformanceTest) -> str:
    """core | extended (in the first profile the test belongs to) | no profile (as upstream
    reports it: in none, e.g. MeshPorts, whose HTTPRouteParentRefPort no mesh profile lists)."""
    for profile in PROFILES:
        if profile.has(test):
            return "core" if profile.is_core(test) else "extended"
    return "no profile"


def print_results(results: Sequence[Result], out: TextIO) -> None:
    """`PASSED  ShortName (core|extended, 1.2 s)`, failures and skips with their reasons."""
    for r in results:
        timing = f", {r.seconds:.1f} s" if r.outcome != "skipped" else ""
        out.write(f"{r.outcome.upper():8} {r.test.short_name} ({level(r.test)}{timing})\n")
        out.writelines(f"         - {reason}\n" for reason in r.reasons)
        out.writelines(f"         - not checked: {what}\n" for what in r.not_checked)
        out.flush()


def _section(results: Sequence[Result]) -> dict:
    stats = {o: sum(r.outcome == o for r in results) for o in ("failed", "passed", "skipped")}
    section: dict = {
        "result": "failure" if stats["failed"] else ("partial" if stats["skipped"] else "success"),
        "statistics": {"Failed": stats["failed"], "Passed": stats["passed"], "Skipped": stats["skipped"]},
    }
    for outcome, field in (("skipped", "skippedTests"), ("failed", "failedTests")):
        names = sorted(r.test.short_name for r in results if r.outcome == outcome)
        if names:
            section[field] = names
    return section


def _profile_report(profile: Profile, results: Sequence[Result]) -> dict:
    core = [r for r in results if profile.is_core(r.test)]
    extended = [r for r in results if not profile.is_core(r.test)]
    seen = {f for r in results for f in r.test.features if f not in profile.core}
    ext = _section(extended)
    ext["supportedFeatures"] = sorted(f for f in SUPPORTED if f in profile.extended)
    unsupported = sorted(seen - SUPPORTED)
    if unsupported:
        ext["unsupportedFeatures"] = unsupported
    words = {"success": "succeeded", "partial": "partially succeeded", "failure": "failed"}
    return {
        "name": profile.name,
        "core": _section(core),
        "extended": ext,
        "summary": (f"Core tests {words[_section(core)['result']]} with "
                    f"{sum(r.outcome == 'passed' for r in core)} test passes. Extended tests "
                    f"{words[ext['result']]} with {sum(r.outcome == 'passed' for r in extended)} test passes."),
    }


def conformance_report(results: Sequence[Result], now: datetime.datetime | None = None) -> str:
    """The report as YAML (apiVersion gateway.networking.k8s.io/v1, kind ConformanceReport): one
    profile entry per profile some result belongs to; results of tests in no profile count in none
    (as upstream), except among the provisional tests passed."""
    now = now or datetime.datetime.now(datetime.UTC)
    report = {
        "apiVersion": "gateway.networking.k8s.io/v1",
        "kind": "ConformanceReport",
        "date": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "gatewayAPIVersion": GATEWAY_API_VERSION,
        "gatewayAPIChannel": "experimental",
        "implementation": {"organization": "meshgate", "project": "meshgate", "url": "https://github.com/meshgate",
                           "version": __version__, "contact": ["@meshgate/maintainers"]},
        "mode": "default",
        "profiles": [_profile_report(p, members) for p in PROFILES
                     if (members := [r for r in results if p.has(r.test)])],
        "succeededProvisionalTests": sorted(r.test.short_name for r in results
                                            if r.test.provisional and r.outcome == "passed"),
    }
    return yaml.safe_dump(report, sort_keys=False)


def report_differences(first: str, second: str) -> list[str]:
    """How two ConformanceReports' results differ (outcomes per profile section, failed and
    skipped tests, provisional tests passed); dates, versions and timings are not results."""
    a, b = yaml.safe_load(first), yaml.safe_load(second)
    out = []
    profiles_a = {p["name"]: p for p in a.get("profiles", [])}
    profiles_b = {p["name"]: p for p in b.get("profiles", [])}
    for name in sorted(profiles_a.keys() | profiles_b.keys()):
        pa, pb = profiles_a.get(name, {}), profiles_b.get(name, {})
        for section in ("core", "extended"):
            sa, sb = pa.get(section, {}), pb.get(section, {})
            for key in ("result", "statistics", "failedTests", "skippedTests"):
                if sa.get(key) != sb.get(key):
                    out.append(f"{name} {section} {key}: {sa.get(key)} vs {sb.get(key)}")
    if a.get("succeededProvisionalTests") != b.get("succeededProvisionalTests"):
        out.append(f"succeededProvisionalTests: {a.get('succeededProvisionalTests')} vs "
                   f"{b.get('succeededProvisionalTests')}")
    return out
