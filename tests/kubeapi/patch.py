"""The three PATCH bodies the API takes: JSON merge patch (RFC 7386), JSON patch (RFC 6902) and
strategic merge patch.

Strategic merge patch, simplified: a merge patch in which a list named like one of the keyed lists
of the built-in types (below, keyed by field name wherever it appears, not by schema path; `ports`
on containerPort or port, whichever its items have) merges
item by item on its key instead of being replaced, an item `{"$patch": "delete", KEY: ...}` removes
that item, a map with `"$patch": "replace"` replaces instead of merging, and `$setElementOrder`,
`$retainKeys` and `$deleteFromPrimitiveList` directives are not supported (they are dropped).
"""

from __future__ import annotations

import copy
import json
from types import MappingProxyType
from typing import Any

from .errors import ApiError

MERGE = "application/merge-patch+json"
STRATEGIC = "application/strategic-merge-patch+json"
JSON_PATCH = "application/json-patch+json"
APPLY = "application/apply-patch+yaml"

# patchMergeKey of the keyed lists in the built-in types (core/v1, apps/v1, meta/v1).
MERGE_KEYS = MappingProxyType({
    "containers": "name", "initContainers": "name", "ephemeralContainers": "name", "env": "name",
    "volumes": "name", "volumeMounts": "mountPath", "volumeDevices": "devicePath",
    "imagePullSecrets": "name", "conditions": "type", "ownerReferences": "uid", "hostAliases": "ip",
    "topologySpreadConstraints": "topologyKey", "resourceClaims": "name",
})
# Lists of primitives merged as sets.
SET_LISTS = frozenset({"finalizers"})


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386: objects merge key by key, null deletes a key, anything else replaces."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = copy.deepcopy(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def _merge_keyed(target: list[Any], patch: list[Any], key: str) -> list[Any]:
    result = copy.deepcopy(target)
    for item in patch:
        if not isinstance(item, dict) or key not in item:
            raise ApiError("BadRequest", f"strategic merge patch: list item without its merge key {key!r}")
        position = next((i for i, old in enumerate(result) if isinstance(old, dict) and old.get(key) == item[key]),
                        None)
        if item.get("$patch") == "delete":
            if position is not None:
                del result[position]
        elif position is None:
            result.append(strategic_merge_patch({}, item))
        else:
            result[position] = strategic_merge_patch(result[position], item)
    return result


def strategic_merge_patch(target: Any, patch: Any) -> Any:
    """The simplified strategic merge patch described in the module docstring."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    if patch.get("$patch") == "replace":
        return {k: copy.deepcopy(v) for k, v in patch.items() if k != "$patch"}
    if patch.get("$patch") == "delete":
        return None
    result = copy.deepcopy(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if key.startswith("$"):  # directives ($setElementOrder/..., $retainKeys...): not supported, dropped
            continue
        old = result.get(key)
        if value is None:
            result.pop(key, None)
        elif key in MERGE_KEYS and isinstance(value, list) and isinstance(old, list):
            result[key] = _merge_keyed(old, value, MERGE_KEYS[key])
        elif key == "ports" and isinstance(value, list) and isinstance(old, list):
            # A container's ports merge on containerPort, a Service's on port.
            keyed = "containerPort" if any(isinstance(p, dict) and "containerPort" in p for p in value) else "port"
            result[key] = _merge_keyed(old, value, keyed)
        elif key in SET_LISTS and isinstance(value, list) and isinstance(old, list):
            result[key] = old + [v for v in value if v not in old]
        elif isinstance(value, dict):
            merged = strategic_merge_patch(old, value)
            if merged is None:
                result.pop(key, None)
            else:
                result[key] = merged
        else:
            result[key] = copy.deepcopy(value)
    return result


def _pointer(path: str) -> list[str]:
    if path == "":
        return []
    if not path.startswith("/"):
        raise ApiError("BadRequest", f"json patch: invalid path {path!r}")
    return [p.replace("~1", "/").replace("~0", "~") for p in path[1:].split("/")]


def _parent(doc: Any, tokens: list[str], op: str) -> tuple[Any, str]:
    node = doc
    for token in tokens[:-1]:
        if isinstance(node, dict) and token in node:
            node = node[token]
        elif isinstance(node, list) and token.isdigit() and int(token) < len(node):
            node = node[int(token)]
        else:
            raise ApiError("Invalid", f"json patch {op}: path /{'/'.join(tokens)} does not exist")
    return node, tokens[-1]


def _get(doc: Any, tokens: list[str], op: str) -> Any:
    if not tokens:
        return doc
    node, last = _parent(doc, tokens, op)
    if isinstance(node, dict) and last in node:
        return node[last]
    if isinstance(node, list) and last.isdigit() and int(last) < len(node):
        return node[int(last)]
    raise ApiError("Invalid", f"json patch {op}: path /{'/'.join(tokens)} does not exist")


def _remove(doc: Any, tokens: list[str], op: str) -> Any:
    value = _get(doc, tokens, op)
    node, last = _parent(doc, tokens, op)
    if isinstance(node, dict):
        del node[last]
    else:
        del node[int(last)]
    return value


def _add(doc: Any, tokens: list[str], value: Any, op: str) -> Any:
    if not tokens:
        return value
    node, last = _parent(doc, tokens, op)
    if isinstance(node, dict):
        node[last] = value
    elif isinstance(node, list) and last == "-":
        node.append(value)
    elif isinstance(node, list) and last.isdigit() and int(last) <= len(node):
        node.insert(int(last), value)
    else:
        raise ApiError("Invalid", f"json patch {op}: path /{'/'.join(tokens)} does not exist")
    return doc


def json_patch(target: Any, operations: Any) -> Any:
    """RFC 6902: add, remove, replace, move, copy and test, applied in order (all or nothing)."""
    if not isinstance(operations, list):
        raise ApiError("BadRequest", "json patch: the body must be a list of operations")
    doc = copy.deepcopy(target)
    for operation in operations:
        if not isinstance(operation, dict) or "op" not in operation or "path" not in operation:
            raise ApiError("BadRequest", f"json patch: malformed operation {operation!r}")
        op, tokens = operation["op"], _pointer(operation["path"])
        if op == "add":
            doc = _add(doc, tokens, copy.deepcopy(operation.get("value")), op)
        elif op == "remove":
            _remove(doc, tokens, op)
        elif op == "replace":
            _get(doc, tokens, op)
            if tokens:
                _remove(doc, tokens, op)
            doc = _add(doc, tokens, copy.deepcopy(operation.get("value")), op)
        elif op in ("move", "copy"):
            source = _pointer(operation.get("from", ""))
            value = _remove(doc, source, op) if op == "move" else copy.deepcopy(_get(doc, source, op))
            doc = _add(doc, tokens, value, op)
        elif op == "test":
            if _get(doc, tokens, op) != operation.get("value"):
                raise ApiError("Invalid", f"json patch test failed at {operation['path']}")
        else:
            raise ApiError("BadRequest", f"json patch: unknown operation {op!r}")
    return doc


def apply_patch(content_type: str, target: dict[str, Any], body: bytes, custom: bool) -> dict[str, Any]:
    """The object `target` becomes under a PATCH of this content type. Custom resources refuse
    strategic merge patch (415), as the real server does; server-side apply is not emulated."""
    media = content_type.split(";")[0].strip().lower()
    accepted = f"{JSON_PATCH}, {MERGE}" + ("" if custom else f", {STRATEGIC}")
    if media not in (MERGE, JSON_PATCH) and not (media == STRATEGIC and not custom):
        raise ApiError("UnsupportedMediaType", f"the body of the request was in an unknown format - accepted media "
                                               f"types include: {accepted} (server-side apply is not emulated)")
    try:
        patch = json.loads(body or b"null")
    except ValueError as exc:
        raise ApiError("BadRequest", f"the patch is not valid JSON: {exc}") from exc
    if media == JSON_PATCH:
        result = json_patch(target, patch)
    elif not isinstance(patch, dict):
        raise ApiError("BadRequest", "a merge patch body must be a JSON object")
    elif media == MERGE:
        result = merge_patch(target, patch)
    else:
        result = strategic_merge_patch(target, patch)
    if not isinstance(result, dict):
        raise ApiError("BadRequest", "the patched object is not a JSON object")
    return result
