"""Kubernetes `Status` errors: every failure the emulator answers is a `kind: Status` object with
the HTTP code, `reason` and `details` the real API server uses (meta/v1 StatusReason)."""

from __future__ import annotations

from types import MappingProxyType
from typing import Any

# HTTP code of each reason, as apimachinery's errors package pairs them.
CODES = MappingProxyType({
    "BadRequest": 400,
    "Unauthorized": 401,
    "Forbidden": 403,
    "NotFound": 404,
    "MethodNotAllowed": 405,
    "NotAcceptable": 406,
    "AlreadyExists": 409,
    "Conflict": 409,
    "Gone": 410,
    "Expired": 410,
    "UnsupportedMediaType": 415,
    "Invalid": 422,
    "InternalError": 500,
    "Timeout": 504,
})


class ApiError(Exception):
    """A request the API refuses: carries the Status object to answer with."""

    def __init__(self, reason: str, message: str, *, kind: str = "", name: str = "", group: str = "",
                 causes: list[dict[str, str]] | None = None) -> None:
        super().__init__(message)
        self.reason = reason
        self.code = CODES[reason]
        self.message = message
        self.details: dict[str, Any] = {}
        if name:
            self.details["name"] = name
        if group:
            self.details["group"] = group
        if kind:
            self.details["kind"] = kind
        if causes:
            self.details["causes"] = causes

    def status(self) -> dict[str, Any]:
        """The `Status` object the server sends for this error."""
        body: dict[str, Any] = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                                "message": self.message, "reason": self.reason, "code": self.code}
        if self.details:
            body["details"] = self.details
        return body


def qualified(resource: str, group: str) -> str:
    """`resource.group` as the server names a resource in messages (`gateways.gateway.networking.k8s.io`)."""
    return f"{resource}.{group}" if group else resource


def not_found(resource: str, group: str, name: str) -> ApiError:
    """An object that does not exist."""
    return ApiError("NotFound", f'{qualified(resource, group)} "{name}" not found',
                    kind=resource, name=name, group=group)


def unknown_resource() -> ApiError:
    """A path naming no served resource (a missing CRD, a group/version not served)."""
    return ApiError("NotFound", "the server could not find the requested resource")


def already_exists(resource: str, group: str, name: str) -> ApiError:
    """A create of a name already taken."""
    return ApiError("AlreadyExists", f'{qualified(resource, group)} "{name}" already exists',
                    kind=resource, name=name, group=group)


def conflict(resource: str, group: str, name: str, why: str) -> ApiError:
    """A write whose precondition (resourceVersion, uid) no longer holds."""
    return ApiError("Conflict", f'Operation cannot be fulfilled on {qualified(resource, group)} "{name}": {why}',
                    kind=resource, name=name, group=group)


def invalid(kind: str, group: str, name: str, field: str, why: str) -> ApiError:
    """A body that fails validation (422), with the field named as a cause."""
    return ApiError("Invalid", f'{kind}{"." + group if group else ""} "{name}" is invalid: {field}: {why}',
                    kind=kind, name=name, group=group,
                    causes=[{"reason": "FieldValueInvalid", "message": why, "field": field}])


def expired(requested: int, oldest: int) -> ApiError:
    """A watch (or continue token) from before the kept history: the client must re-list."""
    return ApiError("Expired", f"too old resource version: {requested} ({oldest})")
