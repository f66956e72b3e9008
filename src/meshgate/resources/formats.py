"""Value formats that Kubernetes and the Gateway API CRDs enforce, as check functions.

Each check returns None for a valid value or a short reason for an invalid one.
"""

from __future__ import annotations

import ipaddress
import re

import re2

_DNS1123_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
_DNS1123_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
# Gateway API Hostname: an optional leading "*." wildcard, then DNS labels; no IPs.
_HOSTNAME = re.compile(r"(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
# RFC 7230 token, the Gateway API HTTPHeaderName pattern.
_HEADER_NAME = re.compile(r"[A-Za-z0-9!#$%&'*+\-.^_`|~]+")
_LABEL_NAME = re.compile(r"([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]")
_LABEL_VALUE = re.compile(r"(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?")
# Gateway API Duration: 1 to 4 groups of up to 5 digits and a unit (GEP-2257).
_DURATION = re.compile(r"([0-9]{1,5}(h|m|s|ms)){1,4}")
_DURATION_PART = re.compile(r"([0-9]{1,5})(h|ms|m|s)")
_PATH = re.compile(r"/[^\s]*")
# A dotted quad exactly as ipaddress.IPv4Address accepts it: four decimal octets of at most 255,
# without leading zeros.
_IPV4 = re.compile(r"(?:(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\.){3}(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])")


def dns1123_label(value: str) -> str | None:
    """A DNS-1123 label (Service, Namespace names)."""
    if len(value) > 63:
        return "must be no more than 63 characters"
    if not _DNS1123_LABEL.fullmatch(value):
        return "must consist of lower case alphanumeric characters or '-', and start and end with an alphanumeric character"
    return None


def dns1123_subdomain(value: str) -> str | None:
    """A DNS-1123 subdomain (most object names)."""
    if len(value) > 253:
        return "must be no more than 253 characters"
    if not _DNS1123_SUBDOMAIN.fullmatch(value):
        return "must consist of lower case alphanumeric characters, '-' or '.', and start and end with an alphanumeric character"
    return None


def hostname(value: str) -> str | None:
    """A Gateway API Hostname: a DNS name, optionally with one leading `*.` label; not an IP."""
    if len(value) > 253:
        return "must be no more than 253 characters"
    if not _HOSTNAME.fullmatch(value):
        return "must be a lower case DNS name, optionally prefixed by '*.'"
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return None
    return "must be a DNS name, not an IP address"


def header_name(value: str) -> str | None:
    """An HTTP header name (RFC 7230 token)."""
    if len(value) > 256:
        return "must be no more than 256 characters"
    if not _HEADER_NAME.fullmatch(value):
        return "must be a valid HTTP header name"
    return None


def path_value(value: str) -> str | None:
    """An absolute HTTP path as Gateway API accepts it for matches and rewrites."""
    if not _PATH.fullmatch(value):
        return "must be an absolute path starting with '/', without whitespace"
    if "//" in value or "/./" in value or "/../" in value or value.endswith(("/..", "/.")) or "%2f" in value.lower():
        return "must not contain '//', '/./', '/../' or '%2f'"
    return None


def _re2_options() -> re2.Options:
    options = re2.Options()
    options.log_errors = False  # the reason goes into our error, not onto stderr
    return options


_RE2_OPTIONS = _re2_options()


# Envoy refuses a regex whose compiled RE2 program is bigger than its runtime key
# `re2.max_program_size.error_level` (100 unless set), and with it the whole route configuration.
# meshgate's bootstraps raise the key to this, as Istio's do (envoy/bootstrap.py), and the loader
# refuses bigger programs, so what is accepted here is what Envoy accepts.
RE2_MAX_PROGRAM_SIZE = 32768


def regex(value: str) -> str | None:
    """A regular expression in RE2 syntax, which is what Envoy runs (no lookarounds, no backrefs),
    whose program is within Envoy's size limit (RE2_MAX_PROGRAM_SIZE)."""
    try:
        compiled = re2.compile(value, options=_RE2_OPTIONS)
    except re2.error as exc:
        detail = exc.args[0].decode() if exc.args and isinstance(exc.args[0], bytes) else str(exc)
        return f"invalid RE2 regular expression: {detail}"
    # Envoy compiles with RE2's default options (RE2::Quiet), as _RE2_OPTIONS do: same program size.
    if compiled.programsize > RE2_MAX_PROGRAM_SIZE:
        return f"regular expression too complex: program size {compiled.programsize} over {RE2_MAX_PROGRAM_SIZE}"
    return None


def label_key(value: str) -> str | None:
    """A Kubernetes label key: optional DNS-subdomain prefix and '/', then a name."""
    prefix, _, name = value.rpartition("/")
    if prefix and dns1123_subdomain(prefix):
        return "prefix must be a DNS-1123 subdomain"
    if not name or len(name) > 63 or not _LABEL_NAME.fullmatch(name):
        return "name part must be 63 characters or less, alphanumeric, '-', '_' or '.'"
    return None


def label_value(value: str) -> str | None:
    """A Kubernetes label value."""
    if len(value) > 63 or not _LABEL_VALUE.fullmatch(value):
        return "must be 63 characters or less, alphanumeric, '-', '_' or '.', starting and ending alphanumeric"
    return None


def ip_address(value: str) -> str | None:
    """An IPv4 or IPv6 address."""
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return "must be an IP address"
    return None


def ipv4_address(value: str) -> str | None:
    """An IPv4 address (an EndpointSlice of addressType IPv4)."""
    if _IPV4.fullmatch(value):
        return None  # what IPv4Address accepts, at C speed: EndpointSlices hold many addresses
    try:
        ipaddress.IPv4Address(value)
    except ValueError:
        return "must be an IPv4 address"
    return None


def ipv6_address(value: str) -> str | None:
    """An IPv6 address (an EndpointSlice of addressType IPv6)."""
    try:
        ipaddress.IPv6Address(value)
    except ValueError:
        return "must be an IPv6 address"
    return None


def duration(value: str) -> str | None:
    """A Gateway API Duration (GEP-2257), such as 1h30m or 500ms."""
    if not _DURATION.fullmatch(value):
        return "must be a Gateway API duration such as 10s, 500ms or 1h2m (units h, m, s, ms)"
    return None


def duration_ms(value: str) -> int:
    """Milliseconds of a valid Gateway API duration."""
    unit_ms = {"h": 3_600_000, "m": 60_000, "s": 1_000, "ms": 1}
    return sum(int(n) * unit_ms[u] for n, u in _DURATION_PART.findall(value))
