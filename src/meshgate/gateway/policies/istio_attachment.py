"""Which of Istio's security policies (AuthorizationPolicy, RequestAuthentication) a gateway's
proxies enforce, and for which of a waypoint's services, as Istio decides.

- An ingress Gateway (its pods labelled `gateway.networking.k8s.io/gateway-name: <name>` and its
  infrastructure labels) enforces the policies of its namespace that target it by `targetRefs`
  (kind Gateway), select its pods by `selector`, or have neither (namespace-wide); and those of
  the root namespace (`istio-system`) with a selector matching its pods or with neither
  (mesh-wide), or targeting its GatewayClass.
- A waypoint enforces only policies with `targetRefs` (Istio ignores selectors and namespace-wide
  policies there): to the waypoint Gateway (every service it captures), or to a Service or
  ServiceEntry (in the policy's namespace) it captures: traffic to that service only.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

ROOT_NAMESPACE = "istio-system"
GATEWAY_NAME_LABEL = "gateway.networking.k8s.io/gateway-name"
_GATEWAY_GROUP = "gateway.networking.k8s.io"


@dataclass(slots=True)
class Enforced:
    """The policies one gateway enforces: on all its traffic, and per captured service
    ((kind, namespace, name): a waypoint's)."""

    everywhere: list[Any] = field(default_factory=list)
    by_service: dict[tuple[str, str, str], list[Any]] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.everywhere or self.by_service)

    def for_service(self, key: tuple[str, str, str] | None) -> list[Any]:
        """The policies on traffic to a service (the gateway's own, then the service's)."""
        return self.everywhere + (self.by_service.get(key, []) if key is not None else [])


def _selected(selector: tuple[tuple[str, str], ...], labels: dict[str, str]) -> bool:
    return all(labels.get(k) == v for k, v in selector)


def enforced(policies: Iterable[Any], namespace: str, name: str, class_name: str, labels: dict[str, str],
             waypoint: bool) -> Enforced:
    """The policies (AuthorizationPolicies or RequestAuthentications, read) that the Gateway
    `namespace/name` of class `class_name` enforces; `labels`: its infrastructure labels."""
    pod_labels = {**labels, GATEWAY_NAME_LABEL: name}
    out = Enforced()
    for p in policies:
        ns = p.meta.namespace
        if ns not in (namespace, ROOT_NAMESPACE):
            continue
        if p.targets:
            for t in p.targets:
                own = t.kind == "Gateway" and t.group in ("", _GATEWAY_GROUP) and ns == namespace and t.name == name
                by_class = t.kind == "GatewayClass" and ns == ROOT_NAMESPACE and t.name == class_name
                if own or by_class:
                    out.everywhere.append(p)
                elif waypoint and t.kind in ("Service", "ServiceEntry"):
                    out.by_service.setdefault((t.kind, ns, t.name), []).append(p)
            continue
        if waypoint:
            continue  # a waypoint enforces only what targets it
        if p.selector is None or _selected(p.selector, pod_labels):
            out.everywhere.append(p)
    return out
