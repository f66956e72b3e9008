"""`meshgate hints` (ARCHITECTURE §6): hinted EndpointSlices and the controller's events."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from meshgate.cli import main

CONFIG = """apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: apps
  annotations: {service.kubernetes.io/topology-mode: Auto}
spec:
  selector: {app: web}
  ports: [{name: http, port: 80, targetPort: 9000}]
"""
NODE = """---
apiVersion: v1
kind: Node
metadata: {{name: node-{z}, labels: {{topology.kubernetes.io/zone: {z}}}}}
status:
  allocatable: {{cpu: "2"}}
  conditions: [{{type: Ready, status: "True"}}]
"""
POD = """---
apiVersion: v1
kind: Pod
metadata: {{name: web-{i}, namespace: apps, labels: {{app: web}}}}
spec: {{nodeName: node-{z}}}
status:
  podIP: 127.0.0.{i}
  conditions: [{{type: Ready, status: "True"}}]
"""


def test_hints_for_pods_generated_slices(tmp_path: Path) -> None:
    text = CONFIG + NODE.format(z="zone-a") + NODE.format(z="zone-b")
    text += "".join(POD.format(i=i, z="zone-a" if i < 14 else "zone-b") for i in range(11, 17))
    (tmp_path / "in.yaml").write_text(text)
    result = CliRunner().invoke(main, ["hints", str(tmp_path)])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert set(out) == {"endpointSlices", "events"}
    (slice_,) = out["endpointSlices"]
    assert slice_["metadata"]["labels"]["endpointslice.kubernetes.io/managed-by"] == "meshgate.io/endpointslice-controller"
    zones = {ep["addresses"][0]: (ep["zone"], [h["name"] for h in ep["hints"]["forZones"]]) for ep in slice_["endpoints"]}
    assert all(zone == hinted[0] for zone, hinted in zones.values())
    assert out["events"] == [{"type": "Normal", "reason": "TopologyAwareHintsEnabled",
                               "message": "Topology Aware Hints has been enabled, addressType: IPv4",
                               "service": "apps/web"}]


def test_insufficient_node_info_and_bad_input(tmp_path: Path) -> None:
    text = CONFIG.replace("Auto", "Sometimes") + POD.format(i=11, z="zone-a")
    (tmp_path / "in.yaml").write_text(text + "---\nkind: [broken\n")
    result = CliRunner().invoke(main, ["hints", str(tmp_path), "-o", "yaml"])
    assert result.exit_code == 1
    assert "invalid YAML" in result.stderr
    assert "Sometimes" in result.stderr  # the unknown annotation value is named
    assert "endpointSlices:" in result.stdout
