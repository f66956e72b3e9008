"""Value formats Istio checks (domains, labels, ports, protocols, Go durations), as check functions."""

from __future__ import annotations

import ipaddress
import re
from fractions import Fraction

from ..formats import ip_address
from .model import PROTOCOLS

# --------------------------------------------------------------------------------------------
# Value formats, as Istio checks them
# --------------------------------------------------------------------------------------------

# pkg/config/labels: Istio's DNS-1123 label admits upper case letters.
_LABEL_FMT = r"[a-zA-Z0-9](?:[-a-zA-Z0-9]*[a-zA-Z0-9])?"
_DNS1123_LABEL = re.compile(_LABEL_FMT)
_WILDCARD_LABEL = re.compile(r"(\*|(\*|\*-)?" + _LABEL_FMT + ")")
_QUALIFIED_NAME = r"(?:[A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]"
_TAG_KEY = re.compile(r"(" + _LABEL_FMT + r"(?:\." + _LABEL_FMT + r")*/)?(" + _QUALIFIED_NAME + ")")
_TAG_VALUE = re.compile(r"(" + _QUALIFIED_NAME + ")?")
_GO_INT = re.compile(r"[+-]?[0-9]+")


def is_dns1123_label(value: str) -> bool:
    """labels.IsDNS1123Label."""
    return len(value) <= 63 and _DNS1123_LABEL.fullmatch(value) is not None


def _all_numeric(label: str) -> bool:
    """strconv.Atoi succeeds: a (signed) decimal integer within int64."""
    return _GO_INT.fullmatch(label) is not None and -(2**63) <= int(label) < 2**63


def _domain_preconditions(name: str) -> str | None:
    if len(name) > 255:
        return "domain name too long (max 255)"
    if not name:
        return "empty domain name not allowed"
    return None


def _dns1123_labels(domain: str) -> str | None:
    """ValidateDNS1123Labels: every label a DNS-1123 label, the top level one not all-numeric."""
    parts = domain.split(".")
    if _all_numeric(parts[-1]):
        return f"top level domain {parts[-1]!r} cannot be all-numeric"
    for i, label in enumerate(parts):
        if i == len(parts) - 1 and label == "":
            return None  # a trailing dot: "istio.io."
        if not is_dns1123_label(label):
            return f"label {label!r} is not a valid DNS-1123 label"
    return None


def fqdn(value: str) -> str | None:
    """ValidateFQDN: a domain name (short names allowed), no wildcard."""
    return _domain_preconditions(value) or _dns1123_labels(value)


def wildcard_domain(value: str) -> str | None:
    """ValidateWildcardDomain: a domain name whose first label may be `*`, `*foo` or `*-foo`."""
    reason = _domain_preconditions(value)
    if reason:
        return reason
    first, dot, rest = value.partition(".")
    if len(first) > 63 or not _WILDCARD_LABEL.fullmatch(first):
        if "*" in first:
            return f"label {first!r} is not valid: a wildcard may only start the first label (*, *foo or *-foo)"
        return f"label {first!r} is not a valid DNS-1123 label"
    return _dns1123_labels(rest) if dot else None


def is_ip(value: str) -> bool:
    """netip.ParseAddr accepts it."""
    return ip_address(value) is None


def ip_subnet(value: str) -> str | None:
    """ValidateIPSubnet: an IP address, or a CIDR block when it has one '/'."""
    if value.count("/") == 1:
        try:
            ipaddress.ip_network(value, strict=False)
        except ValueError:
            return "not a valid CIDR block"
        return None
    return None if is_ip(value) else "not a valid IP address or CIDR block"


def unix_path(path: str) -> str | None:
    """ValidateUnixAddress (the part after unix://) and the CRD's UDS rules."""
    if not path:
        return "unix address must not be empty"
    if path.startswith("@"):
        return None  # an abstract socket
    if not path.startswith("/"):
        return "a unix socket path must be absolute (or an abstract socket, @name)"
    if path.endswith("/"):
        return "a unix socket path may not be a directory"
    return None


def port_name(value: str) -> str | None:
    """ValidatePortName: a DNS-1123 label."""
    return None if is_dns1123_label(value) else "invalid port name: must be a DNS-1123 label"


def protocol(value: str) -> str | None:
    """ValidateProtocol: one of Istio's protocols, in any case (empty means sniffing)."""
    if value and value.lower() not in PROTOCOLS:
        return "unsupported protocol: must be one of " + ", ".join(PROTOCOLS.values()) + " (any case)"
    return None


def tag_key(key: str) -> str | None:
    """labels validateTagKey: a Kubernetes label name with an optional DNS prefix."""
    m = _TAG_KEY.fullmatch(key)
    if m is None:
        return "not a valid label key"
    if m.group(1) and len(m.group(1)) - 1 > 253:
        return "not a valid label key (DNS prefix is too long)"
    if len(m.group(2)) > 63:
        return "not a valid label key (name is too long)"
    return None


def tag_value(value: str) -> str | None:
    """labels.Instance.Validate for a value."""
    return None if _TAG_VALUE.fullmatch(value) else "not a valid label value"


def subset_name(value: str) -> str | None:
    """validateSubsetName."""
    if not value:
        return "subset name cannot be empty"
    return None if is_dns1123_label(value) else "subset name is invalid: must be a DNS-1123 label"


def visibility(value: str) -> str | None:
    """visibility.Instance.Validate: ".", "*" or a namespace name."""
    if value in (".", "*"):
        return None
    if value == "~":
        return "exportTo ~ (none) is not allowed for Istio configuration objects"
    if not is_dns1123_label(value):
        return "only ., * or a namespace name (a DNS-1123 label) is allowed as an exportTo entry"
    return None


_GO_UNITS = {
    "ns": 1, "us": 1_000, "\u00b5s": 1_000, "\u03bcs": 1_000, "ms": 1_000_000,
    "s": 1_000_000_000, "m": 60_000_000_000, "h": 3_600_000_000_000,
}
_GO_COMPONENT = re.compile(r"([0-9]*)(?:\.([0-9]*))?([^0-9.]*)")


def go_duration_ns(value: str) -> int | None:
    """Nanoseconds of a Go duration ("1h2m", "1.5s", "300ms", "-2s", "0"), None when invalid.

    This is time.ParseDuration, which Istio's JSON decoding uses for google.protobuf.Duration.
    """
    s = value
    negative = False
    if s[:1] in ("+", "-"):
        negative = s[0] == "-"
        s = s[1:]
    if s == "0":
        return 0
    if not s:
        return None
    total = Fraction(0)
    pos = 0
    while pos < len(s):
        m = _GO_COMPONENT.match(s, pos)
        assert m is not None  # every part of the pattern may be empty: it matches anywhere
        whole, frac, unit = m.group(1), m.group(2), m.group(3)
        if not whole and not frac:
            return None  # no digits before or after the dot
        if unit not in _GO_UNITS:
            return None  # missing or unknown unit
        amount = Fraction(int(whole or "0")) + (Fraction(int(frac), 10 ** len(frac)) if frac else 0)
        total += amount * _GO_UNITS[unit]
        pos = m.end()
    if total > 2**63 - (0 if negative else 1):
        return None  # overflows a Go time.Duration
    ns = int(total)
    return -ns if negative else ns


def is_prime(x: int) -> bool:
    """Envoy's isPrime (which Istio copies): 1, 2 and 3 count as prime."""
    if 0 < x < 4:
        return True
    if x % 2 == 0:
        return False
    factor = 3
    while factor * factor <= x:
        if x % factor == 0:
            return False
        factor += 2
    return True
