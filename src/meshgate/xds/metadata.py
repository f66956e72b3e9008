"""xDS metadata: `filter_metadata["meshgate"]` naming the Kubernetes objects behind a resource.

`{"resources": [{kind, groupVersion, namespace, name, sectionName?, annotations?}, ...]}`,
sorted and without duplicates, so that metadata alone never makes a config change.
"""

from __future__ import annotations

from collections.abc import Iterable

from envoy.config.core.v3 import base_pb2
from google.protobuf import struct_pb2

from ..ir import SourceRef

FILTER = "meshgate"


_GROUP_VERSIONS = {"Service": "v1", "Pod": "v1", "ServiceEntry": "networking.istio.io/v1",
                   "WorkloadEntry": "networking.istio.io/v1"}


def object_ref(kind: str, namespace: str, name: str, annotations: tuple[tuple[str, str], ...] = ()) -> SourceRef:
    """A reference to a Service, ServiceEntry, Pod or WorkloadEntry."""
    return SourceRef(kind, _GROUP_VERSIONS.get(kind, "v1"), namespace, name, annotations=annotations)


def _entry(ref: SourceRef) -> dict:
    d: dict = {"kind": ref.kind, "groupVersion": ref.group_version, "namespace": ref.namespace, "name": ref.name}
    if ref.section_name is not None:
        d["sectionName"] = ref.section_name
    if ref.annotations:
        d["annotations"] = dict(ref.annotations)
    return d


def _key(ref: SourceRef) -> tuple:
    return (ref.kind, ref.group_version, ref.namespace, ref.name, ref.section_name or "", ref.annotations)


def metadata(refs: Iterable[SourceRef | None]) -> base_pb2.Metadata | None:
    """Metadata naming `refs` (None when there is none)."""
    unique = {_key(r): r for r in refs if r is not None}
    if not unique:
        return None
    body = struct_pb2.Struct()
    body.update({"resources": [_entry(unique[k]) for k in sorted(unique)]})
    out = base_pb2.Metadata()
    out.filter_metadata[FILTER].CopyFrom(body)
    return out


def set_metadata(msg, refs: Iterable[SourceRef | None]) -> None:
    """Write the metadata of `refs` into `msg.metadata` (nothing when there are none)."""
    md = metadata(refs)
    if md is not None:
        msg.metadata.CopyFrom(md)
