"""ReferenceGrant checks for cross-namespace references."""

from __future__ import annotations

from ..store import Store


def reference_permitted(
    store: Store,
    from_group: str,
    from_kind: str,
    from_namespace: str,
    to_group: str,
    to_kind: str,
    to_namespace: str,
    to_name: str,
) -> bool:
    """Whether an object may refer to another; same-namespace references always may."""
    if from_namespace == to_namespace:
        return True
    return any(
        grant.permits(from_group, from_kind, from_namespace, to_group, to_kind, to_name)
        for grant in store.in_namespace("ReferenceGrant", to_namespace)
    )
