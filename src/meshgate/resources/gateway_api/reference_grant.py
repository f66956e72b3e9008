"""ReferenceGrant: lets objects in other namespaces refer to objects in this one."""

from __future__ import annotations

from dataclasses import dataclass

from .. import formats
from ..fields import Fields
from ..meta import Meta, Source
from .common import check_group, check_kind


@dataclass(frozen=True, slots=True)
class ReferenceGrantFrom:
    group: str
    kind: str
    namespace: str


@dataclass(frozen=True, slots=True)
class ReferenceGrantTo:
    group: str
    kind: str
    name: str | None


@dataclass(frozen=True, slots=True)
class ReferenceGrant:
    """A ReferenceGrant: lets objects in `from` namespaces refer to objects in this one."""

    meta: Meta
    source: Source
    from_: tuple[ReferenceGrantFrom, ...]
    to: tuple[ReferenceGrantTo, ...]
    kind = "ReferenceGrant"

    def permits(self, group: str, kind: str, namespace: str, to_group: str, to_kind: str, to_name: str) -> bool:
        """Whether a `kind` in `namespace` may refer to `to_kind` `to_name` in this grant's namespace."""
        if not any(f.group == group and f.kind == kind and f.namespace == namespace for f in self.from_):
            return False
        return any(t.group == to_group and t.kind == to_kind and (t.name is None or t.name == to_name) for t in self.to)


def parse_reference_grant(f: Fields, meta: Meta, source: Source) -> ReferenceGrant:
    """ReferenceGrant.spec."""
    spec = f.map("spec", required=True)
    if spec is None:
        return ReferenceGrant(meta, source, (), ())
    froms: list[ReferenceGrantFrom] = []
    for ff in spec.maps("from", required=True, min_items=1, max_items=16):
        g = ff.str("group", required=True, check=check_group)
        k = ff.str("kind", required=True, check=check_kind)
        ns = ff.str("namespace", required=True, check=formats.dns1123_label)
        if g is not None and k is not None and ns is not None:
            froms.append(ReferenceGrantFrom(g, k, ns))
    tos: list[ReferenceGrantTo] = []
    for tf in spec.maps("to", required=True, min_items=1, max_items=16):
        g = tf.str("group", required=True, check=check_group)
        k = tf.str("kind", required=True, check=check_kind)
        n = tf.str("name", min_len=1, max_len=253)
        if g is not None and k is not None:
            tos.append(ReferenceGrantTo(g, k, n))
    return ReferenceGrant(meta, source, tuple(froms), tuple(tos))
