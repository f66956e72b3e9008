"""xds/ spells decided IR as Envoy protos and never reads an Istio resource: the cluster decisions
(load balancing, hashing, outlier detection, pool, TLS, protocol, locality) come as
ir_clusters.ClusterPolicy, decided in discovery/cluster_policy.py (issue 14 §3)."""

from __future__ import annotations

from pathlib import Path

import pytest

import meshgate.xds

from ..import_scan import imports as scan

XDS = Path(meshgate.xds.__file__).parent
# The package of every Istio kind, and the modules that read DestinationRules.
FORBIDDEN = ("meshgate.resources.istio", "meshgate.discovery.destination_rules", "meshgate.discovery.cluster_policy")


def imports(source: str, package: str = "meshgate.xds") -> set[str]:
    """Every module a module of xds/ imports (tests/import_scan.py)."""
    return scan(source, package)


def forbidden(modules: set[str]) -> set[str]:
    return {m for m in modules if any(m == f or m.startswith(f + ".") for f in FORBIDDEN)}


@pytest.mark.parametrize("source", [
    "from ..resources.istio import DestinationRule",
    "from ..resources import istio",
    "from ..discovery.destination_rules import destination_rule_for",
    "import meshgate.resources.istio.model",
    "def f():\n    from ..discovery import cluster_policy",
])
def test_the_scan_sees_every_spelling(source: str) -> None:
    assert forbidden(imports(source))


def test_the_scan_lets_the_ir_and_discovery_models_through() -> None:
    assert not forbidden(imports("from .. import ir\nfrom ..ir_clusters import ClusterPolicy\n"
                                 "from ..discovery.model import PortModel\nfrom ..resources.core import Secret"))


def test_no_xds_module_imports_istio_resources_or_destination_rules() -> None:
    files = sorted(XDS.rglob("*.py"))
    assert len(files) > 10
    offenders = {f"{p.relative_to(XDS)}: {m}" for p in files for m in forbidden(imports(p.read_text()))}
    assert offenders == set()
