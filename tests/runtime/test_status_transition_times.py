"""The control plane's status: a condition keeps its lastTransitionTime across translations
until its status changes (Kubernetes meta/v1 Condition semantics)."""

from __future__ import annotations

from pathlib import Path

from meshgate.providers.files import FileProvider
from meshgate.runtime.controller import ControlPlane
from meshgate.xds.cache import SnapshotCache

GATEWAY = """apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: gw, namespace: ns}
spec:
  gatewayClassName: meshgate
  listeners:
  - {name: http, port: 8080, protocol: HTTP}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: ns}
spec:
  ports: [{port: 80}]
"""

ROUTE = """apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {{name: r, namespace: ns}}
spec:
  parentRefs: [{{name: gw}}]
  rules:
  - matches: [{{path: {{type: PathPrefix, value: {path}}}}}]
    backendRefs: [{{name: {backend}, port: 80}}]
"""


class Clock:
    """A clock the test moves: each translation reads the time it is set to."""

    def __init__(self) -> None:
        self.now = "2026-01-01T00:00:00Z"

    def __call__(self) -> str:
        return self.now


def conditions(cp: ControlPlane, kind: str) -> dict[str, tuple[str, str, int]]:
    """Condition type → (status, lastTransitionTime, observedGeneration) of the one object of
    `kind` (an HTTPRoute's of its one parent)."""
    (obj,) = [s for s in cp.status if s["kind"] == kind]
    status = obj["status"]
    conds = status["parents"][0]["conditions"] if kind == "HTTPRoute" else status["conditions"]
    return {c["type"]: (c["status"], c["lastTransitionTime"], c["observedGeneration"]) for c in conds}


def test_a_condition_keeps_its_time_until_its_status_changes(tmp_path: Path) -> None:
    (tmp_path / "gw.yaml").write_text(GATEWAY)
    (tmp_path / "route.yaml").write_text(ROUTE.format(path="/a", backend="web"))
    clock = Clock()
    cp = ControlPlane(FileProvider([tmp_path]), SnapshotCache(), clock=clock)
    cp.load()
    t0 = clock.now
    assert conditions(cp, "HTTPRoute") == {"Accepted": ("True", t0, 1), "ResolvedRefs": ("True", t0, 1)}
    gateway_before = conditions(cp, "Gateway")

    # An edit that leaves every condition as it was: the times stay, observedGeneration moves.
    clock.now = "2026-01-01T00:01:00Z"
    (tmp_path / "route.yaml").write_text(ROUTE.format(path="/b", backend="web"))
    assert cp.apply(cp.provider.reload(tmp_path / "route.yaml")) == "full"
    assert conditions(cp, "HTTPRoute") == {"Accepted": ("True", t0, 2), "ResolvedRefs": ("True", t0, 2)}
    assert conditions(cp, "Gateway") == gateway_before

    # An edit that flips ResolvedRefs: that condition takes the new time, Accepted keeps its own.
    clock.now = t2 = "2026-01-01T00:02:00Z"
    (tmp_path / "route.yaml").write_text(ROUTE.format(path="/b", backend="missing"))
    cp.apply(cp.provider.reload(tmp_path / "route.yaml"))
    assert conditions(cp, "HTTPRoute") == {"Accepted": ("True", t0, 3), "ResolvedRefs": ("False", t2, 3)}

    # And back: a transition again.
    clock.now = t3 = "2026-01-01T00:03:00Z"
    (tmp_path / "route.yaml").write_text(ROUTE.format(path="/b", backend="web"))
    cp.apply(cp.provider.reload(tmp_path / "route.yaml"))
    assert conditions(cp, "HTTPRoute") == {"Accepted": ("True", t0, 4), "ResolvedRefs": ("True", t3, 4)}
    assert conditions(cp, "Gateway") == gateway_before
