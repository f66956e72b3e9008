"""ListenerSet (gateway.networking.k8s.io/v1, GEP-1713): listeners added to a Gateway that allows
them, owned by another object (and often another namespace) than the Gateway."""

from __future__ import annotations

from dataclasses import dataclass

from .. import formats
from ..fields import Fields
from ..meta import Meta, Source
from .common import GROUP, check_group, check_kind
from .gateway import Listener, parse_listeners


@dataclass(frozen=True, slots=True)
class ParentGateway:
    """A ListenerSet's parentRef; namespace empty means the ListenerSet's own."""

    group: str
    kind: str
    name: str
    namespace: str


@dataclass(frozen=True, slots=True)
class ListenerSet:
    """A ListenerSet: listeners for its parent Gateway."""

    meta: Meta
    source: Source
    parent: ParentGateway | None
    listeners: tuple[Listener, ...]
    kind = "ListenerSet"

    @property
    def gateway_key(self) -> tuple[str, str] | None:
        """(namespace, name) of the parent when it is a Gateway."""
        p = self.parent
        if p is None or p.group != GROUP or p.kind != "Gateway":
            return None
        return (p.namespace or self.meta.namespace, p.name)


def parse_listener_set(f: Fields, meta: Meta, source: Source) -> ListenerSet:
    """ListenerSet.spec."""
    spec = f.map("spec", required=True)
    if spec is None:
        return ListenerSet(meta, source, None, ())
    parent = None
    pf = spec.map("parentRef", required=True)
    if pf is not None:
        group = pf.str("group", default=GROUP, check=check_group)
        kind = pf.str("kind", default="Gateway", check=check_kind)
        name = pf.str("name", required=True, min_len=1, max_len=253)
        ns = pf.str("namespace", default="", check=formats.dns1123_label)
        if group is not None and kind is not None and name is not None and ns is not None:
            parent = ParentGateway(group, kind, name, ns)
    listeners = parse_listeners(spec)
    return ListenerSet(meta, source, parent, tuple(listeners))
