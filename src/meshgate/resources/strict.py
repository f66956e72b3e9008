"""Strict input, as `kubectl --validate=strict`: a field the upstream schema does not define, and
a kind that looks like a misspelling of one meshgate reads, are errors, not silence.

Unknown fields are found as the API server prunes them (k8s.io/apiextensions-apiserver's
structural pruning): walk the object with its kind's structural schema; below `properties` a
key the schema does not name is unknown, unless the node preserves unknown fields; an
`additionalProperties` schema is a map whose every value is walked; `items` is walked for every
list item; a node with neither properties nor additionalProperties holds anything. `metadata` is
checked against ObjectMeta, as the API server does for every kind. Values of the wrong type are
not walked: the kind's parser reports those.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Any

from .fields import ObjectContext
from .schemas import Node, Schemas

# How alike two names must be (difflib's ratio, 0..1) for one to be taken for a misspelling of
# the other: HTTPRoutee/HTTPRoute is 0.95, EndpointSlce/EndpointSlice 0.96, ConfigMap/Namespace 0.44.
KIND_CUTOFF = 0.8
FIELD_CUTOFF = 0.6  # difflib's default; backendRef/backendRefs is 0.95, labelz/labels 0.83


@dataclass(frozen=True, slots=True)
class UnknownField:
    """A field the schema does not define: its path, its line, and the closest known field."""

    path: str
    line: int
    suggestion: str | None

    @property
    def reason(self) -> str:
        """The error's reason."""
        return f"unknown field: did you mean {self.suggestion}?" if self.suggestion else "unknown field"


def unknown_fields(obj: dict[str, Any], schema: Node, schemas: Schemas, line: int) -> list[UnknownField]:
    """Every field of `obj` that `schema` (its kind's, resolved) does not define, depth first.

    `line` is the object's own, used where a value has no line of its own.
    """
    found: list[UnknownField] = []
    # (schema node, value, path) of every mapping and list still to walk; a stack, so nesting
    # costs no recursion. Scalars are never pushed: they have no fields.
    stack: list[tuple[Node, Any, str]] = []
    for key, value in reversed(obj.items()):
        if key in ("apiVersion", "kind"):
            continue  # every object has them, whether its schema says so (Istio's do not) or not
        node = schemas.object_meta if key == "metadata" else schema.get("properties", {}).get(key)
        if node is None:
            found.append(_unknown(obj, key, schema, "", line))
        elif isinstance(value, (dict, list)):
            stack.append((node, value, key))
    while stack:
        node, value, path = stack.pop()
        if "$ref" in node or "$kind" in node:
            node = schemas.resolve(node)
        if isinstance(value, list):
            items = node.get("items")
            if items is not None:
                stack.extend((items, value[i], f"{path}[{i}]") for i in range(len(value) - 1, -1, -1)
                             if isinstance(value[i], (dict, list)))
            continue
        if not isinstance(value, dict):
            continue
        props: dict[str, Node] | None = node.get("properties")
        extra = node.get("additionalProperties")
        if not isinstance(extra, dict):
            extra = None
        if props is None and extra is None:
            continue  # holds anything (preserve-unknown-fields, or an opaque object)
        preserve = node.get("x-kubernetes-preserve-unknown-fields", False)
        inner: list[tuple[Node, Any, str]] = []
        for key, item in value.items():
            child = props.get(key) if props is not None else None
            if child is None:
                child = extra
            if child is None:
                if not preserve:
                    found.append(_unknown(value, key, node, path, line))
            elif isinstance(item, (dict, list)):
                inner.append((child, item, f"{path}.{key}"))
        stack.extend(reversed(inner))
    return found


def report_unknown_fields(obj: dict[str, Any], schema: Node, schemas: Schemas, ctx: ObjectContext,
                          line: int) -> None:
    """Record an error for every field of `obj` its schema does not define, except a field the
    parser already reported (one problem, one error)."""
    reported = {e.field for e in ctx.errors}
    for u in unknown_fields(obj, schema, schemas, line):
        if u.path not in reported:
            ctx.error(u.line, u.path, u.reason)


def _unknown(container: Any, key: Any, node: Node, path: str, line: int) -> UnknownField:
    """`key` of `container` (a mapping at `path` whose schema is `node`) as an unknown field."""
    close = difflib.get_close_matches(str(key), list(node.get("properties", ())), n=1, cutoff=FIELD_CUTOFF)
    at = getattr(container, "key_lines", {}).get(key, getattr(container, "line", line))
    return UnknownField(f"{path}.{key}" if path else str(key), at, close[0] if close else None)


@dataclass(frozen=True, slots=True)
class KnownKind:
    """A kind meshgate reads: its group, kind and preferred version."""

    group: str
    kind: str
    version: str

    @property
    def api_version(self) -> str:
        """The apiVersion to write for it."""
        return f"{self.group}/{self.version}" if self.group else self.version


def _alike(a: str, b: str) -> float:
    return difflib.SequenceMatcher(None, a.lower(), b.lower()).ratio()


def misspelt_kind(group: str, kind: str, ours: list[KnownKind], upstream: frozenset[tuple[str, str]]) -> str | None:
    """What a kind meshgate does not read was probably meant to be (`HTTPRoute`, or
    `gateway.networking.k8s.io/v1 HTTPRoute` when the group differs), or None when it is a kind
    of its own: one an upstream source defines, or one not close to any of `ours` (a kind is
    close when its name is alike, and its group is the same, one of ours, or alike)."""
    if (group, kind) in upstream:
        return None  # a real kind (an Istio Gateway, a ServiceAccount): not ours, and not a typo
    groups = {k.group for k in ours}
    best: tuple[float, KnownKind] | None = None
    for k in ours:
        score = _alike(kind, k.kind)
        if score < KIND_CUTOFF or (kind == k.kind and group == k.group):
            continue
        if group != k.group and group not in groups and _alike(group, k.group) < KIND_CUTOFF:
            continue
        score += group == k.group  # the same group first
        if best is None or score > best[0]:
            best = (score, k)
    if best is None:
        return None
    k = best[1]
    return k.kind if k.group == group else f"{k.api_version} {k.kind}"
