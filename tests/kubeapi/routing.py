"""Request paths and verbs: what `/apis/GROUP/VERSION/namespaces/NS/PLURAL/NAME/status` names,
and which authorization verb (get, list, watch, create, update, patch, delete, deletecollection)
a request is."""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web


@dataclass(frozen=True)
class Target:
    """A resource request: group, version, plural, namespace (None: not in the path), name and
    subresource ("" for the object itself)."""

    group: str
    version: str
    plural: str
    namespace: str | None
    name: str
    subresource: str


def parse_resource_path(path: str) -> Target | None:
    """The resource a path names, or None for a path that names none (discovery and the like)."""
    parts = [p for p in path.split("/") if p]
    if parts[:1] == ["api"] and len(parts) >= 3:
        group, version, rest = "", parts[1], parts[2:]
    elif parts[:1] == ["apis"] and len(parts) >= 4:
        group, version, rest = parts[1], parts[2], parts[3:]
    else:
        return None
    namespace = None
    # namespaces/NS/PLURAL... is a namespaced resource; namespaces/NS[/status] the namespace itself.
    if rest[0] == "namespaces" and len(rest) >= 3 and rest[2] not in ("status", "finalize"):
        namespace, rest = rest[1], rest[2:]
    if len(rest) > 3:
        return None
    return Target(group, version, rest[0], namespace, rest[1] if len(rest) > 1 else "",
                  rest[2] if len(rest) > 2 else "")


def is_true(value: str | None) -> bool:
    """A boolean query parameter as the server reads it."""
    return (value or "").lower() in ("1", "true")


def auth_verb(request: web.Request, target: Target) -> str:
    """The RBAC verb of a request."""
    method = request.method
    if method == "GET":
        if target.name:
            return "get"
        return "watch" if is_true(request.query.get("watch")) else "list"
    if method == "POST":
        return "create"
    if method == "PUT":
        return "update"
    if method == "PATCH":
        return "patch"
    if method == "DELETE":
        return "delete" if target.name else "deletecollection"
    return method.lower()
