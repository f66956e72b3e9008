"""The data flow's import directions (docs/ARCHITECTURE.md §1, ../shared/DESIGN.md §1): providers →
store → discovery → gateway → IR → xds → server, no back edges. A stage imports only what comes
before it; the IR modules are data types, importing nothing of meshgate but each other. Discovery
may build IR values (a cluster's policy, ir_clusters.py: Istio's semantics live there), and so
may gateway (the rest); neither reaches a later stage."""

from __future__ import annotations

from pathlib import Path

import pytest

import meshgate

from .import_scan import imports

SRC = Path(meshgate.__file__).parent
LATER = ("runtime", "pipeline", "cli", "explain", "envoy")  # the running control plane and its commands
# What is written back to a cluster comes after translation (it reads status and the IR).
OUT = ("cluster",)
# Each stage, and the packages or modules of meshgate it must not import.
RULES: dict[str, tuple[str, ...]] = {
    "resources": ("store", "providers", "incremental", "discovery", "gateway", "ir", "ir_clusters", "ir_security", "xds",
                  *OUT, *LATER),
    "providers": ("store", "incremental", "discovery", "gateway", "ir", "ir_clusters", "xds", *OUT, *LATER),
    "store": ("providers", "incremental", "discovery", "gateway", "ir", "ir_clusters", "ir_security", "xds", *OUT,
              *LATER),
    "incremental": ("providers", "discovery", "gateway", "ir", "ir_clusters", "xds", *OUT, *LATER),
    "discovery": ("providers", "gateway", "xds", *OUT, *LATER),
    "ir": ("resources", "providers", "store", "incremental", "discovery", "gateway", "xds", *OUT, *LATER),
    "ir_clusters": ("resources", "providers", "store", "incremental", "discovery", "gateway", "xds", *OUT, *LATER),
    "ir_security": ("resources", "providers", "store", "incremental", "discovery", "gateway", "xds", *OUT, *LATER),
    "gateway": ("providers", "xds", *OUT, *LATER),
    "xds": ("providers", "gateway", *OUT, *LATER),
    # The rate limit service reads the IR (what each route's rate limit is) and serves Envoy; xds
    # may import it (to put the descriptors on routes), so it must not import xds.
    "ratelimit": ("resources", "providers", "store", "incremental", "discovery", "gateway", "xds", *OUT, *LATER),
    "cluster": ("runtime", "pipeline", "cli", "explain"),  # envoy/ too renders bootstraps: a sibling
    # The manifests that run meshgate: derived from what the stages read, write and provision, never
    # from the running control plane (the CLI renders them without starting one).
    "deploy": ("runtime", "pipeline", "cli", "explain", "xds", "incremental", "store"),
}


def _module(path: Path) -> tuple[str, str]:
    """(the stage a source file belongs to, the package its relative imports start from)."""
    rel = path.relative_to(SRC.parent).with_suffix("")
    parts = rel.parts
    package = ".".join(parts if path.name == "__init__.py" else parts[:-1])
    stage = parts[1] if len(parts) > 1 else ""
    return stage, package


def violations(stage: str, modules: set[str]) -> set[str]:
    """The imported modules `stage` must not import."""
    banned = RULES.get(stage, ())
    return {m for m in modules if m.startswith("meshgate.") and m.split(".")[1] in banned}


@pytest.mark.parametrize("stage, source", [
    ("discovery", "from ..gateway.backends import service_models"),
    ("gateway", "from ..xds import resources"),
    ("ir", "from .resources.meta import Meta"),
    ("store", "import meshgate.discovery.index"),
    ("xds", "def f():\n    from ..runtime.controller import ControlPlane"),
])
def test_the_rules_see_a_back_edge(stage: str, source: str) -> None:
    package = "meshgate" if stage in ("ir", "store") else f"meshgate.{stage}"
    assert violations(stage, imports(source, package))


def test_no_module_imports_a_later_stage() -> None:
    files = sorted(SRC.rglob("*.py"))
    assert len(files) > 100
    offenders = set()
    for path in files:
        stage, package = _module(path)
        stage = stage or path.stem
        offenders |= {f"{path.relative_to(SRC)}: {m}" for m in violations(stage, imports(path.read_text(), package))}
    assert offenders == set()
