"""Applying rendered objects to the API server, as kubectl's client-side apply does in spirit:
the hash of what meshgate last applied is kept in an annotation, so that an object is written
only when what meshgate wants of it changed (the server's defaults, which always differ from
the rendered spec, never cause a write)."""

from __future__ import annotations

import hashlib
import json

APPLIED_HASH = "meshgate.io/applied-hash"

# kind → (API path prefix, plural): the kinds provisioning writes.
PATHS: dict[str, tuple[str, str]] = {
    "ServiceAccount": ("/api/v1", "serviceaccounts"),
    "ConfigMap": ("/api/v1", "configmaps"),
    "Deployment": ("/apis/apps/v1", "deployments"),
    "Service": ("/api/v1", "services"),
    "Secret": ("/api/v1", "secrets"),
    "HorizontalPodAutoscaler": ("/apis/autoscaling/v2", "horizontalpodautoscalers"),
    "PodDisruptionBudget": ("/apis/policy/v1", "poddisruptionbudgets"),
}


def object_path(kind: str, namespace: str, name: str = "") -> str:
    """The collection path of `kind` in `namespace`, or one object's."""
    prefix, plural = PATHS[kind]
    return f"{prefix}/namespaces/{namespace}/{plural}" + (f"/{name}" if name else "")


def applied_hash(obj: dict) -> str:
    """A digest of a rendered object (without the annotation that carries it)."""
    return hashlib.sha256(json.dumps(obj, sort_keys=True, separators=(",", ":")).encode()).hexdigest()[:16]


def with_hash(obj: dict) -> dict:
    """The rendered object annotated with its own hash."""
    md = obj["metadata"]
    return {**obj, "metadata": {**md, "annotations": {**md.get("annotations", {}), APPLIED_HASH: applied_hash(obj)}}}


def needs_write(desired: dict, current: dict | None) -> bool:
    """Whether `current` (as the API server has it; None when absent) differs from what meshgate
    last applied for `desired` (already annotated by `with_hash`)."""
    if current is None:
        return True
    have = (current.get("metadata", {}).get("annotations") or {}).get(APPLIED_HASH)
    return have != desired["metadata"]["annotations"][APPLIED_HASH]


def replacement(desired: dict, current: dict) -> dict:
    """What to PUT over `current`: the rendered object, at `current`'s resourceVersion (a write
    over a newer version is refused), keeping what the server set that the rendering does not
    say (a Service's clusterIP, which cannot change)."""
    md = {**desired["metadata"], "resourceVersion": current.get("metadata", {}).get("resourceVersion", "")}
    out = {**desired, "metadata": md}
    if desired["kind"] == "Service":
        spec = dict(desired["spec"])
        for kept in ("clusterIP", "clusterIPs", "ipFamilies", "ipFamilyPolicy"):
            if kept in current.get("spec", {}):
                spec[kept] = current["spec"][kept]
        out["spec"] = spec
    return out
