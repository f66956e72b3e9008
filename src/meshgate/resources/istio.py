"""Istio kinds (networking.istio.io v1/v1beta1/v1alpha3).

Held as their spec for now: they are stored and indexed, and their translation (with Istio's
validation) arrives with ServiceEntry/DestinationRule support.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .fields import Fields
from .meta import Meta, Source

GROUP = "networking.istio.io"


@dataclass(frozen=True, slots=True)
class IstioObject:
    """A ServiceEntry, WorkloadEntry or DestinationRule, spec as read."""

    meta: Meta
    source: Source
    kind: str
    spec: dict = field(default_factory=dict)


def parse_istio(f: Fields, meta: Meta, source: Source, kind: str) -> IstioObject:
    """Keep the spec of an Istio object (it must be a mapping)."""
    spec = f.map("spec", required=True)
    return IstioObject(meta, source, kind, dict(spec.data) if spec is not None else {})
