"""Envoy Gateway's ClientTrafficPolicy on a Gateway's Envoy listeners.

A policy attaches to a Gateway or to one of its listeners (sectionName); a Gateway listener gets
its listener's policy, else its Gateway's (which is then Overridden for that listener). Of two
policies on the same target the older wins, the other is Conflicted there (attachment.py).

Settings land where Envoy has them: on the filter chain of the Gateway listener (the HTTP
connection manager, the TCP proxy, the TLS context, the connection limit), or on the Envoy
listener (the PROXY protocol listener filter, the per-connection buffer limit). Two constraints
come from Gateway listeners sharing an Envoy listener:

- plain-HTTP Gateway listeners on one port share one chain: a policy naming one of them by
  sectionName would change the others too, so it is not accepted there (Accepted False, Invalid,
  as Envoy Gateway says it) and the Gateway's policy, if any, applies to them all;
- the listener-wide settings apply when every Gateway listener of the port has the same policy;
  when they differ, no policy's listener-wide settings apply and each such policy gets a
  warning saying so (Envoy Gateway takes the first listener's; meshgate would rather not guess).

A ListenerSet's listeners attached to a Gateway get the Gateway's policy (a ListenerSet is no
target yet, nor are its listeners by name). Waypoints and UDP listeners are left alone.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from ... import ir
from ...naming import CONTROLLER_NAME
from ...resources.envoy_gateway.client_traffic_policy import KIND, ClientTrafficPolicy
from ...resources.errors import InputError
from ...store import Store
from ..conditions import Condition
from ..references import reference_permitted
from .attachment import Attachments, TargetKey, attach
from .backend_traffic import API_VERSION

_GATEWAY_GROUP = "gateway.networking.k8s.io"
_EG_GROUP = "gateway.envoyproxy.io"
CA_KEY = "ca.crt"


@dataclass(frozen=True, slots=True)
class ClientEffect:
    """What a policy does: its chain settings, its client validation (None: none asked, or the
    error why its CA references do not resolve in `invalid`)."""

    settings: ir.ClientSettings
    validation: ir.ClientValidation | None = None
    invalid: str = ""
    proxy_protocol: bool = False
    proxy_protocol_optional: bool = False
    buffer_limit_bytes: int | None = None

    @property
    def listener_wide(self) -> bool:
        return self.proxy_protocol or self.buffer_limit_bytes is not None


def _ca_bundle(store: Store, policy: ClientTrafficPolicy, kind: str, namespace: str | None, name: str
               ) -> tuple[bytes | None, str]:
    ns = namespace or policy.meta.namespace
    label = f"{kind} {ns}/{name}"
    if ns != policy.meta.namespace and not reference_permitted(store, _EG_GROUP, KIND, policy.meta.namespace,
                                                               "", kind, ns, name):
        return None, f"{label}: no ReferenceGrant in {ns} allows {KIND}s from {policy.meta.namespace}"
    obj = store.get(kind, ns, name)
    if obj is None:
        return None, f"{label} does not exist"
    pem = obj.data.get(CA_KEY)
    if isinstance(pem, str):
        pem = pem.encode()
    if not pem or b"-----BEGIN CERTIFICATE-----" not in pem:
        return None, f"{label} has no PEM certificate under {CA_KEY}"
    return pem if pem.endswith(b"\n") else pem + b"\n", ""


def client_effect(store: Store, policy: ClientTrafficPolicy) -> ClientEffect:
    """A policy's settings in IR terms."""
    p = policy
    early = None
    if p.early_set or p.early_add or p.early_remove:
        early = ir.HeaderMutation(p.early_set, p.early_add, p.early_remove)
    tls = p.tls
    source = ir.SourceRef(KIND, API_VERSION, p.meta.namespace, p.meta.name)
    settings = ir.ClientSettings(
        source=source, request_timeout_ms=p.request_received_timeout_ms, idle_timeout_ms=p.http_idle_timeout_ms,
        tcp_idle_timeout_ms=p.tcp_idle_timeout_ms, connection_limit=p.connection_limit,
        headers_with_underscores=p.headers_with_underscores, preserve_request_id=p.preserve_request_id,
        early_headers=early, forward_client_cert=p.forward_client_cert, client_cert_details=p.client_cert_details,
        xff_trusted_hops=p.xff_trusted_hops, custom_ip_header=p.custom_header,
        custom_ip_reject=p.custom_header_fail_closed,
        tls_min=tls.min_version if tls else None, tls_max=tls.max_version if tls else None,
        ciphers=tls.ciphers if tls else (), ecdh_curves=tls.ecdh_curves if tls else (),
        alpn=tls.alpn_protocols if tls else None,
        http1_preserve_case=p.http1_preserve_case, http1_trailers=p.http1_trailers,
        http2_stream_window=p.http2_stream_window, http2_max_streams=p.http2_max_streams,
        escaped_slashes=p.escaped_slashes, merge_slashes=p.merge_slashes, health_check_path=p.health_check_path,
        grpc_web=p.grpc_web, scheme_match_backend=p.scheme_match_backend)
    validation = None
    invalid = ""
    if tls is not None and tls.ca_refs:
        bundles: list[bytes] = []
        problems: list[str] = []
        for ref in tls.ca_refs:
            pem, why = _ca_bundle(store, p, ref.kind, ref.namespace, ref.name)
            if pem is None:
                problems.append(why)
            else:
                bundles.append(pem)
        if problems:
            invalid = "Failed to resolve caCertificateRefs: " + "; ".join(problems)
        else:
            validation = ir.ClientValidation(b"".join(bundles), optional=tls.validation_optional)
    return ClientEffect(settings, validation, invalid, p.proxy_protocol, p.proxy_protocol_optional,
                        p.buffer_limit_bytes)


def _policy_key(policy: Any) -> tuple[str, str]:
    return (policy.meta.namespace, policy.meta.name)


@dataclass(slots=True)
class ClientPolicies:
    """The store's ClientTrafficPolicies, attached; applied to each Gateway's Envoy listeners."""

    store: Store
    att: Attachments = field(init=False)
    effects: dict[tuple[str, str], ClientEffect] = field(default_factory=dict)
    # (policy key) → (target, message) where it is not accepted; overridden sections per (target, policy)
    invalid: dict[tuple[str, str], dict[TargetKey, str]] = field(default_factory=dict)
    overridden: dict[tuple[TargetKey, tuple[str, str]], set[str]] = field(default_factory=dict)
    problems: list[InputError] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.att = attach(self.store, KIND, lambda p: p.targets)
        self.problems.extend(self.att.problems)
        for policy in self.att.policies:
            effect = client_effect(self.store, policy)
            self.effects[_policy_key(policy)] = effect
            if effect.invalid:
                for target in self.att.targets.get(_policy_key(policy), ()):
                    self.invalid.setdefault(_policy_key(policy), {})[target] = effect.invalid

    def __bool__(self) -> bool:
        return bool(self.att.policies)

    def _effective(self, gateway: tuple[str, str], sections: list[str], served: list[str]) -> ClientTrafficPolicy | None:
        """The policy of a chain serving the Gateway's listeners `sections` and, with them, the
        listeners `served` (its ListenerSets' too, which only a Gateway-wide policy reaches)."""
        whole = TargetKey("Gateway", gateway[0], gateway[1])
        found = None
        for section in sections:
            key = TargetKey("Gateway", gateway[0], gateway[1], section)
            policy = self.att.winner.get(key)
            if policy is None:
                continue
            if len(served) > 1:
                message = (f"{KIND} is being applied to multiple http (non https) listeners "
                           f"({', '.join(served)}) on the same port, which is not allowed")
                self.invalid.setdefault(_policy_key(policy), {})[key] = message
                continue
            found = policy
        gateway_policy = self.att.winner.get(whole)
        if found is not None:
            if gateway_policy is not None and gateway_policy is not found:
                self.overridden.setdefault((whole, _policy_key(gateway_policy)), set()).update(sections)
            return None if self.effects[_policy_key(found)].invalid else found
        if gateway_policy is not None and not self.effects[_policy_key(gateway_policy)].invalid:
            return gateway_policy
        return None

    def apply(self, gateway: tuple[str, str], listeners: Iterable[ir.Listener]) -> list[ir.Listener]:
        """The Gateway's Envoy listeners with its policies' settings."""
        out: list[ir.Listener] = []
        for lst in listeners:
            if lst.protocol in ("UDP", "MESH"):
                out.append(lst)
                continue
            chains = []
            chosen: list[ClientTrafficPolicy | None] = []
            for chain in lst.filter_chains:
                sections = [s.section_name for s in chain.sources if s.kind == "Gateway"
                            and (s.namespace, s.name) == gateway and s.section_name]
                # A ListenerSet's listeners on this Gateway's chains are attached to it.
                served = sections + [f"{s.namespace}/{s.name}/{s.section_name}" for s in chain.sources
                                     if s.kind == "ListenerSet" and s.section_name]
                policy = self._effective(gateway, sections, served) if served else None
                chosen.append(policy)
                if policy is None:
                    chains.append(chain)
                    continue
                effect = self.effects[_policy_key(policy)]
                changes: dict[str, Any] = {"client": effect.settings}
                if effect.validation is not None and (lst.protocol == "HTTPS" or chain.secrets):
                    changes["client_validation"] = effect.validation
                chains.append(dataclasses.replace(chain, **changes))
            new = dataclasses.replace(lst, filter_chains=tuple(chains))
            distinct = {id(p): p for p in chosen}
            if len(distinct) == 1 and chosen[0] is not None:
                effect = self.effects[_policy_key(chosen[0])]
                new = dataclasses.replace(new, proxy_protocol=effect.proxy_protocol,
                                          proxy_protocol_optional=effect.proxy_protocol_optional,
                                          buffer_limit_bytes=effect.buffer_limit_bytes)
            elif len(distinct) > 1:
                for policy in distinct.values():
                    if policy is not None and self.effects[_policy_key(policy)].listener_wide:
                        self.problems.append(InputError(
                            policy.source.file, policy.source.line,
                            f"port {lst.port} of Gateway {gateway[0]}/{gateway[1]} serves listeners with different "
                            f"{KIND}s: its proxyProtocol and connection.bufferLimit, which are per port, are not applied",
                            "spec", KIND, policy.meta.namespace, policy.meta.name, severity="warning"))
            out.append(new)
        return out

    def statuses(self, gateways: set[tuple[str, str]], now: str) -> list[dict]:
        """Every policy's status: one ancestor per target (a Gateway of ours, or its listener)."""
        out: list[dict] = []
        for policy in self.att.policies:
            key = _policy_key(policy)
            lost = set(self.att.lost.get(key, ()))
            entries = []
            for target in self.att.targets.get(key, ()):
                if (target.namespace, target.name) not in gateways:
                    continue
                conds = self._conditions(policy, target, lost)
                ref: dict = {"group": _GATEWAY_GROUP, "kind": "Gateway", "namespace": target.namespace,
                             "name": target.name}
                if target.section:
                    ref["sectionName"] = target.section
                entries.append({"ancestorRef": ref, "controllerName": CONTROLLER_NAME,
                                "conditions": [c.to_dict(policy.meta.generation, now) for c in conds]})
            out.append({"apiVersion": API_VERSION, "kind": KIND,
                        "metadata": {"namespace": policy.meta.namespace, "name": policy.meta.name},
                        "status": {"ancestors": entries}})
        return out

    def _conditions(self, policy: ClientTrafficPolicy, target: TargetKey, lost: set[TargetKey]) -> list[Condition]:
        key = _policy_key(policy)
        if target in lost:
            return [Condition("Accepted", False, "Conflicted",
                              f"Unable to target {target.describe()}, another {KIND} has already attached to it")]
        message = self.invalid.get(key, {}).get(target)
        if message:
            return [Condition("Accepted", False, "Invalid", message)]
        conds = [Condition("Accepted", True, "Accepted", "Policy has been accepted.")]
        sections = self.overridden.get((target, key))
        if sections:
            conds.append(Condition("Overridden", True, "Overridden",
                                   "There are existing ClientTrafficPolicies that are overriding these sections "
                                   f"[{', '.join(sorted(sections))}]"))
        return conds


def client_policies(store: Store) -> ClientPolicies | None:
    """The store's ClientTrafficPolicies attached, None when there is none (nothing to do)."""
    return ClientPolicies(store) if store.list(KIND) else None


__all__ = ["ClientEffect", "ClientPolicies", "client_effect", "client_policies"]
