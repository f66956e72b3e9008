"""BackendTLSPolicy (GEP-1897): how a Gateway connects to a backend Service over TLS, with the
CRD's schema and CEL checks (v1, also served as v1alpha3).

A policy targets Services (or one port of each, by `sectionName`, the port's name) in its own
namespace; its `validation` names the CA that verifies the backend (ConfigMaps or Secrets with a
`ca.crt` key, or the system's well-known CAs), the `hostname` sent as SNI and, unless
`subjectAltNames` are given, verified against the certificate. What the references resolve to and
which policy wins are the translation's business (discovery/backend_tls.py, gateway/backend_tls_status.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .. import formats
from ..fields import Fields
from ..meta import Meta, Source
from .common import check_group, check_kind, check_section_name

SYSTEM_CA = "System"
# The CRD's WellKnownCACertificatesType: System, or an implementation's prefixed name.
_WELL_KNOWN = re.compile(r"System|([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*"
                         r"/([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9])")
_PRECISE_HOSTNAME = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
# RFC 3986 as the CRD's AbsoluteURI pattern writes it: a scheme and an authority.
_ABSOLUTE_URI = re.compile(r"(([^:/?#]+):)(//([^/?#]*))([^?#]*)(\?([^#]*))?(#(.*))?")


@dataclass(frozen=True, slots=True)
class PolicyTargetRef:
    """A LocalPolicyTargetReferenceWithSectionName: an object of the policy's namespace, and for a
    Service, optionally one of its ports by name."""

    group: str
    kind: str
    name: str
    section_name: str | None

    @property
    def is_service(self) -> bool:
        """True when the target is a core Service (the only kind meshgate applies the policy to)."""
        return self.group == "" and self.kind == "Service"


@dataclass(frozen=True, slots=True)
class CACertificateRef:
    """A LocalObjectReference to what holds a CA bundle (ConfigMap or Secret, key ca.crt)."""

    group: str
    kind: str
    name: str


@dataclass(frozen=True, slots=True)
class SubjectAltName:
    """A name the backend's certificate must carry: type Hostname (a DNS SAN) or URI."""

    type: str
    value: str


@dataclass(frozen=True, slots=True)
class BackendTLSPolicy:
    """A BackendTLSPolicy: TLS from the Gateway to the targeted Services."""

    meta: Meta
    source: Source
    target_refs: tuple[PolicyTargetRef, ...]
    ca_certificate_refs: tuple[CACertificateRef, ...]
    well_known_ca: str | None
    hostname: str
    subject_alt_names: tuple[SubjectAltName, ...] = ()
    options: tuple[tuple[str, str], ...] = ()
    kind = "BackendTLSPolicy"


def _target_refs(spec: Fields) -> tuple[PolicyTargetRef, ...]:
    refs: list[tuple[PolicyTargetRef, int]] = []
    for tf in spec.maps("targetRefs", required=True, min_items=1, max_items=16):
        group = tf.str("group", required=True, check=check_group)
        kind = tf.str("kind", required=True, min_len=1, check=check_kind)
        name = tf.str("name", required=True, min_len=1, max_len=253)
        section = tf.str("sectionName", min_len=1, check=check_section_name)
        if group is None or kind is None or name is None or (tf.has("sectionName") and section is None):
            continue
        refs.append((PolicyTargetRef(group, kind, name, section), tf.line))
    # The CRD's two CEL rules: a target named twice needs a sectionName each time, all distinct.
    seen: dict[tuple[str, str, str], list[str | None]] = {}
    for ref, _ in refs:
        seen.setdefault((ref.group, ref.kind, ref.name), []).append(ref.section_name)
    for sections in seen.values():
        if len(sections) < 2:
            continue
        if any(s is None for s in sections) and any(s is not None for s in sections):
            spec.error("targetRefs", "sectionName must be specified when targetRefs includes 2 or more "
                                     "references to the same target")
        if len(set(sections)) != len(sections):
            spec.error("targetRefs", "sectionName must be unique when targetRefs includes 2 or more "
                                     "references to the same target")
    return tuple(r for r, _ in refs)


def _subject_alt_names(vf: Fields) -> tuple[SubjectAltName, ...]:
    out: list[SubjectAltName] = []
    for sf in vf.maps("subjectAltNames", max_items=5):
        stype = sf.str("type", required=True, enum=("Hostname", "URI"))
        host = sf.str("hostname", max_len=253, check=formats.hostname)
        uri = sf.str("uri", max_len=253, pattern=_ABSOLUTE_URI, pattern_hint="must be an absolute URI")
        # The CRD's CEL rules: the field of the type, and only that one.
        if stype == "Hostname" and not sf.data.get("hostname"):
            sf.error(None, "SubjectAltName element must contain Hostname, if Type is set to Hostname")
        elif stype != "Hostname" and sf.data.get("hostname"):
            sf.error(None, "SubjectAltName element must not contain Hostname, if Type is not set to Hostname")
        elif stype == "URI" and not sf.data.get("uri"):
            sf.error(None, "SubjectAltName element must contain URI, if Type is set to URI")
        elif stype != "URI" and sf.data.get("uri"):
            sf.error(None, "SubjectAltName element must not contain URI, if Type is not set to URI")
        elif stype == "Hostname" and host:
            out.append(SubjectAltName("Hostname", host))
        elif stype == "URI" and uri:
            out.append(SubjectAltName("URI", uri))
    return tuple(out)


def parse_backend_tls_policy(f: Fields, meta: Meta, source: Source) -> BackendTLSPolicy:
    """BackendTLSPolicy.spec."""
    spec = f.map("spec", required=True)
    if spec is None:
        return BackendTLSPolicy(meta, source, (), (), None, "")
    targets = _target_refs(spec)
    vf = spec.map("validation", required=True)
    refs: list[CACertificateRef] = []
    well_known = hostname = None
    sans: tuple[SubjectAltName, ...] = ()
    if vf is not None:
        for cf in vf.maps("caCertificateRefs", max_items=8):
            group = cf.str("group", required=True, check=check_group)
            kind = cf.str("kind", required=True, min_len=1, check=check_kind)
            name = cf.str("name", required=True, min_len=1, max_len=253)
            if group is not None and kind is not None and name is not None:
                refs.append(CACertificateRef(group, kind, name))
        well_known = vf.str("wellKnownCACertificates", min_len=1, max_len=253, pattern=_WELL_KNOWN,
                            pattern_hint="must be System or a domain-prefixed name")
        has_refs = bool(vf.data.get("caCertificateRefs"))
        has_well_known = bool(vf.data.get("wellKnownCACertificates"))
        if has_refs and has_well_known:
            vf.error(None, "must not contain both CACertificateRefs and WellKnownCACertificates")
        elif not has_refs and not has_well_known:
            vf.error(None, "must specify either CACertificateRefs or WellKnownCACertificates")
        hostname = vf.str("hostname", required=True, min_len=1, max_len=253, pattern=_PRECISE_HOSTNAME,
                          pattern_hint="must be a lower case DNS name without a wildcard")
        sans = _subject_alt_names(vf)
    options: dict[str, str] = {}
    of = spec.map("options")
    if of is not None:
        if len(of.data) > 16:
            spec.error("options", f"must have at most 16 properties, got {len(of.data)}")
        options = of.as_str_map(check_key=formats.label_key)
        for key, value in options.items():
            if len(value) > 4096:
                of.error(key, f"must be at most 4096 characters, got {len(value)}")
    return BackendTLSPolicy(meta, source, targets, tuple(refs), well_known, hostname or "", sans,
                            tuple(sorted(options.items())))
