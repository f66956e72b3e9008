"""What a conformance run is made of: its timing, a test's result, a hard failure, and the
manifests a test applied (shared by the file-mode and the Kubernetes-mode suites)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from .cluster import documents
from .suite import ConformanceTest


@dataclass(frozen=True)
class Timing:
    """How long to wait for things to settle (upstream's TimeoutConfig, shortened: all is local)."""

    status: float = 20.0  # status to show what a test expects
    consistency: float = 15.0  # a response to become the expected one
    consecutive: int = 3  # successes in a row that count as consistent (RequiredConsecutiveSuccesses)
    cleanup: float = 20.0
    step: float = 0.05


class TestFailed(Exception):
    """A hard failure: the test stops."""


@dataclass
class Result:
    """How one test went."""

    test: ConformanceTest
    outcome: str  # passed | failed | skipped
    reasons: list[str] = field(default_factory=list)
    seconds: float = 0.0
    not_checked: list[str] = field(default_factory=list)  # upstream assertions this harness cannot make


@dataclass
class Applied:
    """A manifest a test applied, as documents (text kept for rewriting); `path` is the file it was
    written to (file mode) or only its name (Kubernetes mode, where its objects went to the API)."""

    path: Path
    docs: list[str]

    def objects(self) -> list[dict]:
        return [o for d in self.docs for o in documents(d)]


def split_documents(text: str) -> list[str]:
    parts, current = [], []
    for line in text.splitlines(keepends=True):
        if line.rstrip() == "---":
            parts.append("".join(current))
            current = []
        else:
            current.append(line)
    parts.append("".join(current))
    return [p for p in parts if documents(p)]
