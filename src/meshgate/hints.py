"""`meshgate hints`: the EndpointSlices as the EndpointSlice controller would write them.

Slices from the input and (for Services with a selector) generated from Pods, with topology
hints where the controller manages them, and the controller's events (ARCHITECTURE §6).
"""

from __future__ import annotations

from dataclasses import asdict

from .discovery.index import Discovery
from .discovery.topology_hints import hinted_slices_json, hints_mode
from .store import Store


def hints_document(store: Store) -> tuple[dict, list[dict]]:
    """({"endpointSlices": [...], "events": [...]}, warnings per Service)."""
    discovery = Discovery(store)
    slices = []
    events: list[dict] = []
    warnings: list[dict] = []
    seen: set[tuple[str, str]] = set()
    for service in store.list("Service"):
        ns, name = service.meta.namespace, service.meta.name
        _, warning = hints_mode(service)
        if warning:
            warnings.append({"service": f"{ns}/{name}", "message": warning})
        for s in discovery.slices(ns, name):
            slices.append(s)
            seen.add((s.meta.namespace, s.meta.name))
        events.extend(asdict(e) for e in discovery.hint_events.get((ns, name), ()))
    # Slices of Services that do not exist are shown as they are.
    slices += [s for s in store.list("EndpointSlice") if (s.meta.namespace, s.meta.name) not in seen]
    slices.sort(key=lambda s: (s.meta.namespace, s.meta.name))
    return {"endpointSlices": hinted_slices_json(slices), "events": events}, warnings
