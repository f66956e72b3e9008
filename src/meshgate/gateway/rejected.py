"""Status for Gateways and routes that failed validation, so users see why in status too."""

from __future__ import annotations

from ..naming import WAYPOINT_CLASSES
from ..resources.gateway_api import GROUP, GatewayClass
from ..store import Store
from .conditions import Condition
from .route_kinds import ROUTE_KINDS
from .status import gateway_status, route_status


def _summary(errors: tuple) -> str:
    return "; ".join(f"{e.field}: {e.reason}" if e.field else e.reason for e in errors)


def rejected_statuses(store: Store, owned: dict[str, GatewayClass | None], now: str) -> list[dict]:
    """Accepted=False status for invalid Gateways of our classes and invalid routes to our Gateways."""
    out: list[dict] = []
    for rej in store.rejected:
        raw_spec = rej.raw.get("spec")
        spec = raw_spec if isinstance(raw_spec, dict) else {}
        message = f"Invalid object: {_summary(rej.errors)}"
        if rej.kind == "Gateway":
            cls = spec.get("gatewayClassName")
            if cls not in owned or cls in WAYPOINT_CLASSES:
                continue
            conds = [Condition("Accepted", False, "Invalid", message),
                     Condition("Programmed", False, "Invalid", message)]
            out.append(gateway_status(rej.meta, conds, [], [], now))
        elif rej.kind in ROUTE_KINDS:
            parents = []
            raw_refs = spec.get("parentRefs")
            for ref in raw_refs if isinstance(raw_refs, list) else []:
                if not isinstance(ref, dict) or not isinstance(ref.get("name"), str):
                    continue
                if ref.get("kind", "Gateway") != "Gateway" or ref.get("group", GROUP) != GROUP:
                    continue
                ref_ns = ref.get("namespace")
                ns = ref_ns if isinstance(ref_ns, str) else rej.meta.namespace
                gw = store.get("Gateway", ns, ref["name"])
                if gw is None or gw.class_name not in owned:
                    continue
                parent = {"group": GROUP, "kind": "Gateway", "name": ref["name"]}
                for k in ("namespace", "sectionName", "port"):
                    if k in ref:
                        parent[k] = ref[k]
                parents.append((parent, [Condition("Accepted", False, "UnsupportedValue", message)]))
            if parents:
                out.append(route_status(rej.kind, rej.meta, parents, now))
    return out
