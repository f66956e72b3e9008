"""What Envoy Gateway's policy kinds share: their targets (targetRef, targetRefs and
targetSelectors), Go durations, and fields of theirs meshgate reads but does not implement."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from ..fields import Fields
from ..gateway_api.common import LabelSelector, check_section_name, parse_label_selector
from ..istio.formats import go_duration_ns

GATEWAY_GROUP = "gateway.networking.k8s.io"
TARGET_KINDS = ("Gateway", "HTTPRoute", "GRPCRoute", "TCPRoute", "UDPRoute", "TLSRoute")


@dataclass(frozen=True, slots=True)
class TargetRef:
    """An object of the policy's namespace the policy attaches to; `section_name` narrows it to a
    Gateway's listener or a route's rule (by name)."""

    kind: str
    name: str
    section_name: str | None = None
    line: int = field(default=0, compare=False)
    where: str = field(default="spec.targetRefs", compare=False)  # the field, for errors


@dataclass(frozen=True, slots=True)
class TargetSelector:
    """Objects of one kind in the policy's namespace, by labels."""

    kind: str
    selector: LabelSelector

    def matches(self, labels: dict[str, str]) -> bool:
        """Whether an object with `labels` is selected."""
        return self.selector.matches(labels)


@dataclass(frozen=True, slots=True)
class PolicyTargets:
    """Where a policy attaches: named targets and label selectors."""

    refs: tuple[TargetRef, ...] = ()
    selectors: tuple[TargetSelector, ...] = ()


def _target_ref(tf: Fields) -> TargetRef | None:
    group = tf.str("group", required=True)
    kind = tf.str("kind", required=True, enum=TARGET_KINDS)
    name = tf.str("name", required=True, min_len=1, max_len=253)
    section = tf.str("sectionName", min_len=1, check=check_section_name)
    if group is not None and group != GATEWAY_GROUP:
        tf.error("group", f"invalid value {group!r}: must be {GATEWAY_GROUP}")
        return None
    if kind is None or name is None or (tf.has("sectionName") and section is None):
        return None
    return TargetRef(kind, name, section, tf.line, tf.path)


def parse_targets(spec: Fields) -> PolicyTargets:
    """spec.targetRef (deprecated, one), spec.targetRefs and spec.targetSelectors; at least one."""
    refs: list[TargetRef] = []
    single = spec.map("targetRef")
    if single is not None:
        ref = _target_ref(single)
        if ref is not None:
            refs.append(ref)
    for tf in spec.maps("targetRefs"):
        ref = _target_ref(tf)
        if ref is not None:
            refs.append(ref)
    selectors: list[TargetSelector] = []
    for sf in spec.maps("targetSelectors"):
        group = sf.str("group") or GATEWAY_GROUP
        kind = sf.str("kind", required=True, enum=TARGET_KINDS)
        if group != GATEWAY_GROUP:
            sf.error("group", f"invalid value {group!r}: must be {GATEWAY_GROUP}")
        selector = parse_label_selector(sf)
        if not selector.match_labels and not selector.match_expressions and kind is not None:
            sf.error(None, "must have matchLabels or matchExpressions")
        elif kind is not None:
            selectors.append(TargetSelector(kind, selector))
    has_any = spec.has("targetRef") or spec.has("targetRefs") or spec.has("targetSelectors")
    if not has_any:
        spec.error("targetRefs", "required: a policy must have a targetRef, targetRefs or targetSelectors")
    elif spec.has("targetRef") and (spec.has("targetRefs") or spec.has("targetSelectors")):
        spec.error("targetRef", "give targetRef or targetRefs/targetSelectors, not both")
    return PolicyTargets(tuple(refs), tuple(selectors))


def duration_ms(f: Fields, key: str, *, minimum_ms: int = 0) -> int | None:
    """A Go duration field (metav1.Duration: "1s", "500ms", "1m30s") in milliseconds."""
    raw = f.data.get(key)
    if raw is None:
        return None
    if not isinstance(raw, str):
        f.error(key, f"must be a duration string such as 1s or 500ms, got {type(raw).__name__}")
        return None
    ns = go_duration_ns(raw)
    if ns is None:
        f.error(key, f"invalid duration {raw!r}: use a duration such as 1s, 500ms or 1m30s")
        return None
    ms = ns // 1_000_000
    if ms < minimum_ms:
        f.error(key, f"invalid duration {raw!r}: must be at least {minimum_ms}ms")
        return None
    return ms


def check_fields(f: Fields, supported: Iterable[str], unsupported: Iterable[str] = ()) -> None:
    """A warning for each key of `f` that Envoy Gateway defines and meshgate does not implement
    (`unsupported`): it is ignored. Keys Envoy Gateway does not define are reported by the strict
    check against its CRD's schema (resources/schemas), not here."""
    known = set(supported)
    ignored = set(unsupported)
    for key in f.data:
        if key not in known and key in ignored:
            f.error(str(key), "not supported by meshgate: ignored", severity="warning")


_QUANTITY = re.compile(r"(\d+)(Ki|Mi|Gi|Ti|k|M|G|T)?")
_UNITS = {None: 1, "k": 10**3, "M": 10**6, "G": 10**9, "T": 10**12,
          "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40}


def quantity_bytes(f: Fields, key: str, *, minimum: int = 0, maximum: int | None = None) -> int | None:
    """A resource.Quantity of bytes (an integer, or "32Ki", "1Mi", "10M")."""
    raw = f.data.get(key)
    if raw is None:
        return None
    if isinstance(raw, bool) or not isinstance(raw, (int, str)):
        f.error(key, "must be a quantity such as 32768, 32Ki or 1Mi")
        return None
    if isinstance(raw, int):
        value = raw
    else:
        m = _QUANTITY.fullmatch(raw)
        if m is None:
            f.error(key, f"invalid value {raw!r}: must be a whole number of bytes such as 32768, 32Ki or 1Mi")
            return None
        value = int(m.group(1)) * _UNITS[m.group(2)]
    if value < minimum or (maximum is not None and value > maximum):
        bound = f"between {minimum} and {maximum}" if maximum is not None else f"at least {minimum}"
        f.error(key, f"invalid value {raw!r}: must be {bound} bytes")
        return None
    return value
