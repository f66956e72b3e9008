"""What the Gateway API kinds share: the group, name checks, label selectors, parentRefs,
backendRefs, header matches and header modifiers (the schema's common types)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from .. import formats
from ..fields import Fields

GROUP = "gateway.networking.k8s.io"

_SECTION_NAME = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
_GROUP = re.compile(r"|[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
_KIND = re.compile(r"[a-zA-Z]([-a-zA-Z0-9]*[a-zA-Z0-9])?")


@dataclass(frozen=True, slots=True)
class LabelSelector:
    """A Kubernetes label selector (matchLabels and matchExpressions)."""

    match_labels: tuple[tuple[str, str], ...] = ()
    match_expressions: tuple[tuple[str, str, tuple[str, ...]], ...] = ()

    def matches(self, labels: dict[str, str]) -> bool:
        """Whether `labels` satisfy the selector (an empty selector matches everything)."""
        for key, value in self.match_labels:
            if labels.get(key) != value:
                return False
        for key, op, values in self.match_expressions:
            present = key in labels
            if op == "In" and (not present or labels[key] not in values):
                return False
            if op == "NotIn" and present and labels[key] in values:
                return False
            if op == "Exists" and not present:
                return False
            if op == "DoesNotExist" and present:
                return False
        return True


@dataclass(frozen=True, slots=True)
class ParentRef:
    """An HTTPRoute parentRef; namespace empty means the route's own."""

    group: str
    kind: str
    namespace: str
    name: str
    section_name: str | None
    port: int | None

    def to_dict(self) -> dict:
        """The parentRef as status echoes it: group and kind spelled out, namespace only if written."""
        d: dict = {"group": self.group, "kind": self.kind, "name": self.name}
        if self.namespace:
            d["namespace"] = self.namespace
        if self.section_name is not None:
            d["sectionName"] = self.section_name
        if self.port is not None:
            d["port"] = self.port
        return d


@dataclass(frozen=True, slots=True)
class BackendObjectRef:
    """A reference to a backend (Service, or another kind); namespace empty means the route's."""

    group: str
    kind: str
    name: str
    namespace: str
    port: int | None


@dataclass(frozen=True, slots=True)
class ValueMatch:
    """A header or query parameter match; type is Exact or RegularExpression."""

    type: str
    name: str
    value: str


@dataclass(frozen=True, slots=True)
class HeaderModifier:
    """RequestHeaderModifier / ResponseHeaderModifier."""

    set: tuple[tuple[str, str], ...] = ()
    add: tuple[tuple[str, str], ...] = ()
    remove: tuple[str, ...] = ()


def check_section_name(value: str) -> str | None:
    if len(value) > 253 or not _SECTION_NAME.fullmatch(value):
        return "must be a lower case DNS subdomain"
    return None


def check_group(value: str) -> str | None:
    if len(value) > 253 or not _GROUP.fullmatch(value):
        return "must be empty (core) or a DNS subdomain"
    return None


def check_kind(value: str) -> str | None:
    if len(value) > 63 or not _KIND.fullmatch(value):
        return "must be a Kind name (letters, digits and '-', starting with a letter)"
    return None


def parse_label_selector(f: Fields) -> LabelSelector:
    """A metav1.LabelSelector."""
    labels = f.str_map("matchLabels", check_key=formats.label_key)
    exprs: list[tuple[str, str, tuple[str, ...]]] = []
    for e in f.maps("matchExpressions"):
        key = e.str("key", required=True, check=formats.label_key)
        op = e.str("operator", required=True, enum=("In", "NotIn", "Exists", "DoesNotExist"))
        values = e.strs("values") or []
        if op in ("In", "NotIn") and not values:
            e.error("values", f"must be non-empty for operator {op}")
        elif op in ("Exists", "DoesNotExist") and values:
            e.error("values", f"must be empty for operator {op}")
        if key is not None and op is not None:
            exprs.append((key, op, tuple(values)))
    return LabelSelector(tuple(sorted(labels.items())), tuple(exprs))


def parse_parent_ref(f: Fields) -> ParentRef | None:
    name = f.str("name", required=True, min_len=1, max_len=253)
    group = f.str("group", default=GROUP, check=check_group)
    kind = f.str("kind", default="Gateway", check=check_kind)
    ns = f.str("namespace", default="", check=formats.dns1123_label)
    section = f.str("sectionName", check=check_section_name)
    port = f.int("port", min=1, max=65535)
    if name is None or group is None or kind is None or ns is None:
        return None
    if f.has("sectionName") and section is None:
        return None
    if f.has("port") and port is None:
        return None
    return ParentRef(group, kind, ns, name, section, port)


def parse_backend_object_ref(f: Fields) -> BackendObjectRef | None:
    name = f.str("name", required=True, min_len=1, max_len=253)
    group = f.str("group", default="", check=check_group)
    kind = f.str("kind", default="Service", check=check_kind)
    ns = f.str("namespace", default="", check=formats.dns1123_label)
    port = f.int("port", min=1, max=65535)
    if not f.has("port") and ((group == "" and kind == "Service")
                               or (group == "networking.istio.io" and kind in ("ServiceEntry", "Hostname"))):
        f.error("port", f"required when referring to a {kind}")
        return None
    if name is None or group is None or kind is None or ns is None or (f.has("port") and port is None):
        return None
    return BackendObjectRef(group, kind, name, ns, port)


def parse_value_matches(f: Fields, key: str, case_insensitive: bool) -> tuple[ValueMatch, ...]:
    out: list[ValueMatch] = []
    seen: set[str] = set()
    for m in f.maps(key, max_items=16):
        mtype = m.str("type", default="Exact", enum=("Exact", "RegularExpression"))
        name = m.str("name", required=True, check=formats.header_name)
        value = m.str("value", required=True, max_len=4096)
        if mtype == "RegularExpression" and value is not None:
            reason = formats.regex(value)
            if reason:
                m.error("value", reason)
                continue
        if mtype is None or name is None or value is None:
            continue
        folded = name.lower() if case_insensitive else name
        # The spec: only the first entry with an equivalent name is considered.
        if folded in seen:
            continue
        seen.add(folded)
        out.append(ValueMatch(mtype, name, value))
    return tuple(out)


def parse_header_modifier(f: Fields) -> HeaderModifier:
    def pairs(key: str) -> tuple[tuple[str, str], ...]:
        out: list[tuple[str, str]] = []
        seen: set[str] = set()
        for h in f.maps(key, max_items=16):
            name = h.str("name", required=True, check=formats.header_name)
            value = h.str("value", required=True, max_len=4096)
            if name is None or value is None:
                continue
            if name.lower() in seen:
                h.error("name", f"duplicate header name {name!r} (names are case-insensitive)")
                continue
            seen.add(name.lower())
            out.append((name, value))
        return tuple(out)

    set_ = pairs("set")
    add = pairs("add")
    remove = f.strs("remove", max_items=16, check=formats.header_name) or []
    lowered = [r.lower() for r in remove]
    if len(set(lowered)) != len(lowered):
        f.error("remove", "header names must be unique (case-insensitive)")
    return HeaderModifier(set_, add, tuple(remove))
