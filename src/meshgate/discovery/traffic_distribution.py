"""Which traffic distribution a Service or ServiceEntry asks for, as Istio reads it.

Istio's GetTrafficDistribution (pilot/pkg/model/service.go), first match wins:

1. a Service's `spec.trafficDistribution`: `PreferClose` and `PreferSameZone` mean same zone,
   `PreferSameNode` same node; any other value is passed over;
2. the object's annotation `networking.istio.io/traffic-distribution`, compared without case;
   a value it does not know means no preference (the Namespace is not asked then);
3. the Namespace's annotation of the same name, read the same way.

ServiceEntries have no spec field: only the annotations count. An empty annotation counts as
absent.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

ANNOTATION = "networking.istio.io/traffic-distribution"
PREFER_SAME_ZONE = "PreferSameZone"
PREFER_SAME_NODE = "PreferSameNode"

_SPEC = {"PreferClose": PREFER_SAME_ZONE, "PreferSameZone": PREFER_SAME_ZONE, "PreferSameNode": PREFER_SAME_NODE}
_ANNOTATION = {k.lower(): v for k, v in _SPEC.items()}


@dataclass(frozen=True, slots=True)
class TrafficDistribution:
    """The preference (PreferSameZone, PreferSameNode, or None for none) and where it was read."""

    preference: str | None
    source: str = ""  # e.g. "spec.trafficDistribution PreferClose", "" when nothing was written


def traffic_distribution(kind: str, spec_value: str | None, annotations: Mapping[str, str],
                         namespace: str, namespace_annotations: Mapping[str, str]) -> TrafficDistribution:
    """The traffic distribution of a Service or ServiceEntry (`kind`); `spec_value` is a
    Service's spec.trafficDistribution (None for a ServiceEntry)."""
    if spec_value is not None and spec_value in _SPEC:
        return TrafficDistribution(_SPEC[spec_value], f"spec.trafficDistribution {spec_value}")
    for value, where in ((annotations.get(ANNOTATION, ""), f"on the {kind}"),
                         (namespace_annotations.get(ANNOTATION, ""), f"on namespace {namespace}")):
        if value:
            source = f"annotation {ANNOTATION}={value} {where}"
            preference = _ANNOTATION.get(value.lower())
            return TrafficDistribution(preference, source if preference else f"{source} (not a known value: none)")
    return TrafficDistribution(None)
