"""The provisioner: while this replica leads, the cluster holds exactly the proxy objects the
served Gateways render to (render.py): missing ones are created, changed ones replaced, and the
ones meshgate created for a Gateway it no longer serves are deleted (the garbage collector
deletes them with their Gateway too; this covers a Gateway that moved to another class).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from .. import ir
from ..providers.kubernetes.client import ApiError, KubeClient
from .apply import PATHS, needs_write, object_path, replacement, with_hash
from .proxy_status import ProxyState, observed_state
from .render import MANAGED_BY, MANAGED_BY_VALUE, GatewayOwner, ProxyDefaults, proxy_objects, xds_secret_name
from .rounds import in_rounds

log = logging.getLogger("meshgate.provision")

Owned = list[tuple[ir.GatewayConfig, GatewayOwner]]
# (owner, Secret name, the Secret as it is now or None) → the Secret as it should be: a proxy's
# xDS client certificate, the same one while it is valid (runtime/cluster_pki.py issues them).
SecretFor = Callable[[GatewayOwner, str, dict | None], dict]


CERTIFICATE_ANNOTATION = "meshgate.io/xds-certificate"


def _rolled_with(obj: dict, secret: dict) -> dict:
    """A Deployment whose Pods carry the digest of their xDS certificate: Envoy reads the
    certificate at start, so a reissued one rolls the Pods (one by one, as any rollout) before
    the old one expires; other objects as they are."""
    if obj["kind"] != "Deployment":
        return obj
    digest = hashlib.sha256((secret.get("data") or {}).get("tls.crt", "").encode()).hexdigest()[:16]
    template = obj["spec"]["template"]
    meta = template.get("metadata", {})
    annotated = {**meta, "annotations": {**meta.get("annotations", {}), CERTIFICATE_ANNOTATION: digest}}
    return {**obj, "spec": {**obj["spec"], "template": {**template, "metadata": annotated}}}


@dataclass
class ProvisionCounts:
    """What the provisioner did (for tests, metrics and benchmarks)."""

    created: int = 0
    replaced: int = 0
    deleted: int = 0
    failures: int = 0


@dataclass
class Provisioner:
    """See the module docstring."""

    client: KubeClient
    defaults: ProxyDefaults
    gateways: Callable[[], Owned]  # the served Gateways, with what owns their objects
    xds_secret: SecretFor | None = None  # with defaults.xds_tls: each proxy's client certificate
    interval: float = 0.5
    active: bool = False
    counts: ProvisionCounts = field(default_factory=ProvisionCounts)
    states: dict[str, ProxyState] = field(default_factory=dict)  # "ns/gateway" → its proxy as last seen
    on_states: Callable[[], None] | None = None  # the states moved (status may change)
    _wake: asyncio.Event = field(default_factory=asyncio.Event)

    def wake(self) -> None:
        """The served Gateways may have changed."""
        self._wake.set()

    async def run(self, resync: float = 30.0, waiting: float = 1.0) -> None:
        """Sync when woken (at most every `interval`) and every `resync` seconds (`waiting`
        seconds while a proxy has no available replica or address yet), until cancelled."""
        def every() -> float:
            pending = any(s.available == 0 or not s.addresses for s in self.states.values())
            return waiting if pending else resync

        async def sync() -> None:
            try:
                await self.sync()
            except ApiError as exc:
                self.counts.failures += 1
                log.warning("provisioning: %s (tried again within %g s)", exc, resync)

        await in_rounds(self._wake, lambda: self.active, sync, self.interval, every)

    def desired(self, existing: dict[tuple[str, str, str], dict]) -> dict[tuple[str, str, str], dict]:
        """(kind, namespace, name) → the object as it should be (annotated with its hash)."""
        out = {}
        for cfg, owner in self.gateways():
            objects = proxy_objects(cfg, owner, self.defaults)
            if self.defaults.xds_tls and self.xds_secret is not None:
                proxy = objects[0]["metadata"]["name"]
                key = ("Secret", owner.namespace, xds_secret_name(proxy))
                secret = self.xds_secret(owner, key[2], existing.get(key))
                objects.insert(0, {**secret, "metadata": {**objects[0]["metadata"], "name": key[2]}})
                objects = [_rolled_with(o, secret) for o in objects]
            for obj in objects:
                md = obj["metadata"]
                out[(obj["kind"], md["namespace"], md["name"])] = with_hash(obj)
        return out

    async def _existing(self, kind: str) -> dict[tuple[str, str, str], dict]:
        prefix, plural = PATHS[kind]
        doc = await self.client.get(f"{prefix}/{plural}", {"labelSelector": f"{MANAGED_BY}={MANAGED_BY_VALUE}"})
        # Ours to keep in step: what meshgate created for a Gateway (other objects it labels, the
        # xDS CA's Secret, are not the provisioner's).
        return {(kind, i["metadata"].get("namespace", ""), i["metadata"]["name"]): i for i in doc.get("items") or []
                if any(o.get("kind") == "Gateway" for o in i["metadata"].get("ownerReferences") or [])}

    async def sync(self) -> None:
        """One pass: create, replace and delete until the cluster matches."""
        existing: dict[tuple[str, str, str], dict] = {}
        for kind in PATHS:
            existing.update(await self._existing(kind))
        desired = self.desired(existing)
        for key, obj in desired.items():
            current = existing.get(key)
            if not needs_write(obj, current):
                continue
            kind, ns, name = key
            try:
                if current is None:
                    await self.client.send("POST", object_path(kind, ns), obj)
                    self.counts.created += 1
                    log.info("created %s %s/%s", kind, ns, name)
                else:
                    await self.client.send("PUT", object_path(kind, ns, name), replacement(obj, current))
                    self.counts.replaced += 1
                    log.info("updated %s %s/%s", kind, ns, name)
            except ApiError as exc:
                if exc.code not in (409,):  # 409: changed meanwhile, the next pass sees the new version
                    raise
        self._observe(desired, existing)
        for key in sorted(existing.keys() - desired.keys(), reverse=True):  # Services before Deployments
            kind, ns, name = key
            try:
                await self.client.delete(object_path(kind, ns, name))
                self.counts.deleted += 1
                log.info("deleted %s %s/%s (its Gateway is no longer served)", kind, ns, name)
            except ApiError as exc:
                if exc.code != 404:
                    raise

    def _observe(self, desired: dict[tuple[str, str, str], dict], existing: dict[tuple[str, str, str], dict]) -> None:
        """Each served Gateway's proxy state, from the Deployment and Service just listed."""
        states = {}
        for (kind, ns, name), obj in desired.items():
            if kind == "Deployment":
                gateway = obj["metadata"]["ownerReferences"][0]["name"]
                states[f"{ns}/{gateway}"] = observed_state(existing.get(("Deployment", ns, name)),
                                                           existing.get(("Service", ns, name)))
        if states != self.states:
            self.states = states
            if self.on_states is not None:
                self.on_states()
