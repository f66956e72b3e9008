"""GatewayClass: which controller owns Gateways of a class, and its parametersRef."""

from __future__ import annotations

import re
from dataclasses import dataclass

from .. import formats
from ..fields import Fields
from ..meta import Meta, Source
from .common import check_group, check_kind

_CONTROLLER = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/[A-Za-z0-9/\-._~%!$&'()*+,;=:]+")


@dataclass(frozen=True, slots=True)
class ParametersRef:
    """A parametersRef (GatewayClass: namespace None for a cluster-scoped referent; Gateway
    `spec.infrastructure`: always None, the referent is in the Gateway's namespace)."""

    group: str
    kind: str
    name: str
    namespace: str | None = None

    def describe(self) -> str:
        """"group/Kind name" as messages name it ("core" for the empty group)."""
        where = f"{self.namespace}/" if self.namespace else ""
        return f"{self.group or 'core'}/{self.kind} {where}{self.name}"


@dataclass(frozen=True, slots=True)
class GatewayClass:
    """A GatewayClass: which controller owns Gateways of this class."""

    meta: Meta
    source: Source
    controller_name: str
    parameters_ref: ParametersRef | None = None
    # Not translated, but part of the spec: a change of it is a new generation (GatewayClass status
    # then carries it as observedGeneration, GatewayClassObservedGenerationBump).
    description: str | None = None
    kind = "GatewayClass"


def parse_parameters_ref(f: Fields, namespaced: bool) -> ParametersRef | None:
    """A ParametersReference (`namespaced`: GatewayClass, may name a namespace) or a
    LocalParametersReference (Gateway infrastructure)."""
    group = f.str("group", required=True, check=check_group)
    kind = f.str("kind", required=True, check=check_kind)
    name = f.str("name", required=True, min_len=1, max_len=253)
    namespace = f.str("namespace", check=formats.dns1123_label) if namespaced else None
    if group is None or kind is None or name is None or (f.has("namespace") and namespaced and namespace is None):
        return None
    return ParametersRef(group, kind, name, namespace)


def parse_gateway_class(f: Fields, meta: Meta, source: Source) -> GatewayClass:
    """GatewayClass.spec."""
    spec = f.map("spec", required=True)
    controller = ""
    params = None
    description = None
    if spec is not None:
        controller = spec.str("controllerName", required=True, pattern=_CONTROLLER, max_len=253,
                              pattern_hint="must be a domain-prefixed path such as example.com/controller") or ""
        pf = spec.map("parametersRef")
        params = parse_parameters_ref(pf, namespaced=True) if pf is not None else None
        description = spec.str("description", max_len=64)  # as the CRD checks it (the API server refuses longer)
    return GatewayClass(meta, source, controller, params, description)
