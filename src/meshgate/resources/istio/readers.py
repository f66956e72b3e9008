"""Field readers shared by the Istio kinds' parsers (string lists, label maps, durations, exportTo)."""

from __future__ import annotations

from ..fields import Fields, _type_name
from .formats import go_duration_ns, tag_key, tag_value, visibility
from .model import _INT32, _UINT32_MAX

# --------------------------------------------------------------------------------------------
# Reading helpers
# --------------------------------------------------------------------------------------------


def _labels(f: Fields, key: str) -> dict[str, str]:
    """Labels, checked as labels.Instance.Validate does."""
    sub = f.map(key)
    if sub is None:
        return {}
    out: dict[str, str] = {}
    for k, v in sub.as_str_map().items():
        reason = tag_key(k)
        if reason:
            sub.error(k, f"invalid label key {k!r}: {reason}")
            continue
        reason = tag_value(v)
        if reason:
            sub.error(k, f"invalid label value {v!r}: {reason}")
            continue
        out[k] = v
    return out


def _selector_labels(f: Fields, key: str, warn_empty: str) -> dict[str, str]:
    """Workload selector labels: no empty key, no '*' (ValidateAlphaWorkloadSelector / validateWorkloadSelector)."""
    sub = f.map(key)
    if sub is None or not sub.data:  # absent, not a mapping, or empty
        f.error(key if f.has(key) else None, warn_empty, severity="warning")
        return {}
    out: dict[str, str] = {}
    for k, v in sub.as_str_map().items():
        if k == "":
            sub.error(k, f"empty key is not supported in selector: {k}={v!r}")
        elif "*" in k or "*" in v:
            sub.error(k, f"wildcard is not supported in selector: {k}={v}")
        else:
            out[k] = v
    return out


def _duration(f: Fields, key: str, *, validate: bool = True) -> int | None:
    """A google.protobuf.Duration in milliseconds; `validate`: Istio's ValidateDuration (≥1ms, ms precision)."""
    if not f.has(key):
        return None
    value = f.data[key]
    if not isinstance(value, str):
        f.error(key, f"must be a duration string such as 10s or 500ms, got {_type_name(value)}")
        return None
    ns = go_duration_ns(value)
    if ns is None:
        f.error(key, f"invalid value {value!r}: must be a duration such as 10s, 500ms, 1m30s or 1h")
        return None
    if validate:
        if ns < 1_000_000:
            f.error(key, f"invalid value {value!r}: duration must be at least 1ms")
            return None
        if ns % 1_000_000:
            f.error(key, f"invalid value {value!r}: only durations to ms precision are supported")
            return None
    return ns // 1_000_000 if ns >= 0 else -((-ns) // 1_000_000)


def _non_negative(f: Fields, key: str, what: str) -> int | None:
    """An int32 field Istio requires to be non-negative."""
    value = f.int(key, min=_INT32[0], max=_INT32[1])
    if value is not None and value < 0:
        f.error(key, f"{what} must be non-negative, got {value}")
        return None
    return value


def _uint32(f: Fields, key: str) -> int | None:
    return f.int(key, min=0, max=_UINT32_MAX)


# --------------------------------------------------------------------------------------------
# exportTo
# --------------------------------------------------------------------------------------------


def _export_to(f: Fields, namespace: str, *, service_entry: bool, selector: bool = False) -> tuple[str, ...]:
    """validateExportTo: no duplicates ("." is the own namespace), "*" and "~" alone."""
    raw = f.data.get("exportTo")
    items = f.str_items("exportTo")
    seen: list[str] = []
    values: list[str] = []
    for it in items:
        key = namespace if it.value == "." else it.value
        if key in seen:
            if key != it.value:
                reason = f"duplicate entries in exportTo: . and the current namespace {namespace}"
            else:
                reason = f"duplicate entries in exportTo for entry {it.value}"
            f.ctx.error(it.line, it.path, reason)
            continue
        if not (service_entry and it.value == "~"):
            invalid = visibility(key)
            if invalid:
                f.ctx.error(it.line, it.path, f"invalid value {it.value!r}: {invalid}")
                continue
        seen.append(key)
        values.append(it.value)
    count = len(raw) if isinstance(raw, list) else 0
    if selector and seen:
        if namespace not in seen:
            f.error("exportTo", "destination rule with workload selector cannot have exportTo beyond current namespace")
        elif len(seen) > 1:
            f.error("exportTo", "destination rule with workload selector cannot have multiple entries in exportTo")
    if "*" in seen and count > 1:
        f.error("exportTo", "cannot have both public (*) and non-public exportTo values for a resource")
    if "~" in seen and count > 1:
        f.error("exportTo", "cannot export service entry to no one (~) and someone")
    return tuple(values)
