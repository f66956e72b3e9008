"""Object identity, origin and metadata, as the Kubernetes API server would fill it in."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from . import formats
from .fields import Fields

_UID_NAMESPACE = uuid.UUID("6d657368-6761-7465-2e69-6f2f75696473")


@dataclass(frozen=True, slots=True)
class Source:
    """An object's origin: the file and line its document starts on (the file provider), or
    the resourceVersion the API server gave it (the Kubernetes provider).

    Only the store and error messages read it: no translation output depends on it.
    """

    file: str
    line: int
    resource_version: str = ""  # set for an object read from the API server (file empty, line 0)

    @classmethod
    def api(cls, resource_version: str) -> Source:
        """The origin of an object read from the API server at `resource_version`."""
        if not resource_version:
            raise ValueError("an object read from the API server has a resourceVersion")
        return cls("", 0, resource_version)

    def __str__(self) -> str:
        """`file:line`, or `resourceVersion N`: how error messages and reports name it."""
        if self.resource_version:
            return f"resourceVersion {self.resource_version}"
        return f"{self.file}:{self.line}"


@dataclass(frozen=True, slots=True)
class ObjectKey:
    """Kind, namespace and name: what identifies an object (namespace empty when cluster-scoped)."""

    kind: str
    namespace: str
    name: str

    @classmethod
    def of(cls, obj: Any) -> ObjectKey:
        """The key of a typed object (anything with `kind` and `meta`)."""
        return cls(obj.kind, obj.meta.namespace, obj.meta.name)

    def __str__(self) -> str:
        return f"{self.kind} {self.namespace}/{self.name}" if self.namespace else f"{self.kind} {self.name}"


@dataclass(frozen=True, slots=True)
class Meta:
    """The metadata the translation reads."""

    name: str
    namespace: str
    labels: dict[str, str] = field(default_factory=dict)
    annotations: dict[str, str] = field(default_factory=dict)
    generation: int = 1
    uid: str = ""
    creation_timestamp: str = ""  # RFC 3339, UTC, second precision: sorts as it compares


def object_uid(kind: str, namespace: str, name: str) -> str:
    """A stable uid for an object that has none: the same object always gets the same uid."""
    return str(uuid.uuid5(_UID_NAMESPACE, f"{kind}/{namespace}/{name}"))


def parse_meta(obj: Fields, kind: str, namespaced: bool, created: str) -> Meta | None:
    """Read `metadata`, filling in what the API server would; None when name is unusable.

    `created` is the creationTimestamp to use when the object has none.
    """
    md = obj.map("metadata", required=True)
    if md is None:
        return None
    name = md.str("name", required=True, check=formats.dns1123_subdomain)
    obj.ctx.name = name or ""  # before the namespace, so its errors name the object
    namespace = ""
    if namespaced:
        namespace = md.str("namespace", default="default", check=formats.dns1123_label) or ""
    elif md.has("namespace"):
        md.error("namespace", f"{kind} is cluster-scoped: namespace is ignored", severity="warning")
    obj.ctx.namespace = namespace
    labels = md.str_map("labels", check_key=formats.label_key)
    label_lines = getattr(md.data.get("labels"), "key_lines", {})
    for key, value in labels.items():
        reason = formats.label_value(value)
        if reason:
            md.ctx.error(label_lines.get(key, md.line_of("labels")), f"metadata.labels.{key}",
                         f"invalid value {value!r}: {reason}")
    annotations = md.str_map("annotations")
    generation = md.int("generation", min=1) or 1
    uid = md.str("uid") or ""
    stamp = md.str("creationTimestamp") or created
    if name is None:
        return None
    if kind == "Namespace":
        # The API server labels every Namespace with its own name.
        labels = {**labels, "kubernetes.io/metadata.name": name}
    return Meta(
        name=name,
        namespace=namespace,
        labels=labels,
        annotations=annotations,
        generation=generation,
        uid=uid or object_uid(kind, namespace, name),
        creation_timestamp=stamp,
    )

METADATA_ANNOTATION_PREFIX = "metadata.meshgate.io/"


def metadata_annotations(annotations: dict[str, str]) -> tuple[tuple[str, str], ...]:
    """The annotations propagated into xDS metadata: those under the prefix, prefix stripped."""
    n = len(METADATA_ANNOTATION_PREFIX)
    return tuple(sorted((k[n:], v) for k, v in annotations.items() if k.startswith(METADATA_ANNOTATION_PREFIX)))
