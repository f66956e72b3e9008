"""Leader election with a coordination.k8s.io/v1 Lease (kubernetes-asyncio's LeaderElection, the
algorithm of client-go: a candidate takes the Lease once its holder has not renewed it for the
lease duration, as timed by the candidate's own clock).

Every replica serves xDS; only the leader writes status and provisions. A leader that stops
releases the Lease (client-go's ReleaseOnCancel), so that a rolling update hands over at once
rather than after the lease duration; it waits at most the renew deadline for that.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from kubernetes_asyncio import client as k8s
from kubernetes_asyncio.client.exceptions import ApiException
from kubernetes_asyncio.leaderelection.electionconfig import Config
from kubernetes_asyncio.leaderelection.leaderelection import LeaderElection
from kubernetes_asyncio.leaderelection.resourcelock.leaselock import LeaseLock

from ..providers.kubernetes.client import KubeClient

log = logging.getLogger("meshgate.kubernetes.leader")


@dataclass(frozen=True, slots=True)
class LeaseTiming:
    """client-go's defaults; whole seconds (the Lease holds leaseDurationSeconds as an integer)."""

    lease_duration: int = 15
    renew_deadline: int = 10
    retry_period: int = 2


def identity() -> str:
    """This replica's name in the Lease: its Pod's name (downward API), else host and a suffix."""
    return os.environ.get("POD_NAME") or f"{socket.gethostname()}-{uuid.uuid4().hex[:8]}"


class Leadership:
    """Campaigns for the Lease until cancelled; `on_change(True)` when leading, `(False)` when not."""

    def __init__(self, client: KubeClient, namespace: str, name: str, on_change: Callable[[bool], None],
                 timing: LeaseTiming | None = None, who: str | None = None) -> None:
        self.client = client
        self.namespace = namespace
        self.name = name
        self.on_change = on_change
        self.timing = timing or LeaseTiming()
        self.identity = who or identity()
        self.leading = False

    def _set(self, leading: bool) -> None:
        if leading != self.leading:
            self.leading = leading
            log.info("%s %s the lease %s/%s", self.identity, "holds" if leading else "no longer holds",
                     self.namespace, self.name)
            self.on_change(leading)

    async def run(self) -> None:
        """Campaign, lead while the Lease is renewed, campaign again when it is lost."""
        t = self.timing
        try:
            while True:
                lock = LeaseLock(self.name, self.namespace, self.identity, self.client.api)
                config = Config(lock, t.lease_duration, t.renew_deadline, t.retry_period,
                                self._lead, self._lost)
                try:
                    await LeaderElection(config).run()
                except (ApiException, OSError) as exc:  # the API server is unreachable: try again
                    log.warning("leader election: %s", exc)
                self._set(False)
                await asyncio.sleep(t.retry_period)
        finally:
            if self.leading:
                self._set(False)
                # Bounded: an API server that does not answer must not hold up a shutdown (the
                # Lease then expires after its duration, as if this replica had died).
                try:
                    await asyncio.wait_for(self.release(), self.timing.renew_deadline)
                except TimeoutError:
                    log.warning("releasing the lease %s/%s: no answer within %d s; it expires instead",
                                self.namespace, self.name, self.timing.renew_deadline)

    async def _lead(self) -> None:
        self._set(True)
        await asyncio.Event().wait()  # cancelled by LeaderElection when the Lease is lost

    async def _lost(self) -> None:
        self._set(False)

    async def release(self) -> None:
        """Give the Lease up (if this replica still holds it), so another takes it at once."""
        api = k8s.CoordinationV1Api(self.client.api)
        try:
            lease = await api.read_namespaced_lease(self.name, self.namespace)
            if lease.spec is None or lease.spec.holder_identity != self.identity:
                return
            lease.spec.holder_identity = None  # type: ignore[assignment]  # absent: free to take
            lease.spec.lease_duration_seconds = 1
            await api.replace_namespaced_lease(self.name, self.namespace, lease)
        except (ApiException, OSError) as exc:
            log.warning("releasing the lease %s/%s: %s", self.namespace, self.name, exc)
