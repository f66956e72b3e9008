"""API discovery documents (/api, /api/v1, /apis, /apis/GROUP, /apis/GROUP/VERSION) in the
unaggregated v1 form every client understands, built from what the Registry serves now."""

from __future__ import annotations

from typing import Any

from .resources import ALL_VERBS, Registry, ResourceType


def _resource_entries(rtype: ResourceType) -> list[dict[str, Any]]:
    entry: dict[str, Any] = {"name": rtype.plural, "singularName": rtype.singular, "namespaced": rtype.namespaced,
                             "kind": rtype.kind, "verbs": list(ALL_VERBS)}
    if rtype.short_names:
        entry["shortNames"] = list(rtype.short_names)
    if rtype.categories:
        entry["categories"] = list(rtype.categories)
    entries = [entry]
    if rtype.status:
        entries.append({"name": f"{rtype.plural}/status", "singularName": "", "namespaced": rtype.namespaced,
                        "kind": rtype.kind, "verbs": ["get", "patch", "update"]})
    return entries


def core_versions(server_address: str) -> dict[str, Any]:
    """/api: the core group's versions."""
    return {"kind": "APIVersions", "versions": ["v1"],
            "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}]}


def _group(name: str, versions: list[str]) -> dict[str, Any]:
    listed = [{"groupVersion": f"{name}/{v}", "version": v} for v in versions]
    return {"name": name, "versions": listed, "preferredVersion": listed[0]}


def group_list(registry: Registry) -> dict[str, Any]:
    """/apis: every named group with its versions."""
    groups = [_group(name, versions) for name, versions in registry.group_versions().items() if name]
    return {"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}


def group(registry: Registry, name: str) -> dict[str, Any] | None:
    """/apis/GROUP, or None when the group is not served."""
    versions = registry.group_versions().get(name)
    if not name or not versions:
        return None
    return {"kind": "APIGroup", "apiVersion": "v1", **_group(name, versions)}


def resource_list(registry: Registry, group_name: str, version: str) -> dict[str, Any] | None:
    """/api/v1 or /apis/GROUP/VERSION: the resources served there, or None when nothing is."""
    types = [t for t in registry.all() if t.group == group_name and version in t.versions]
    if not types:
        return None
    group_version = f"{group_name}/{version}" if group_name else version
    resources = [entry for t in types for entry in _resource_entries(t)]
    return {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": group_version, "resources": resources}
