"""What a replica does in a cluster besides serving xDS: campaign for the leader's Lease and,
while leading, write status back (provisioning comes next)."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from dataclasses import dataclass, field

from ..providers.kubernetes.leader import Leadership, LeaseTiming
from ..providers.kubernetes.provider import KubernetesProvider
from ..providers.kubernetes.status_writer import StatusWriter


def lease_namespace() -> str:
    """Where the Lease lives: the replica's own namespace (downward API), else meshgate-system."""
    return os.environ.get("POD_NAMESPACE") or "meshgate-system"


@dataclass
class ClusterDuties:
    """The leader's work, and the campaign that decides who does it."""

    provider: KubernetesProvider
    statuses: Callable[[], list[dict]]
    lease_name: str = "meshgate"
    lease_namespace: str = field(default_factory=lease_namespace)
    lease_timing: LeaseTiming = field(default_factory=LeaseTiming)
    identity: str | None = None
    writer: StatusWriter | None = None
    leadership: Leadership | None = None
    _tasks: list[asyncio.Task] = field(default_factory=list)

    def start(self) -> None:
        """Start campaigning, and the status writer (idle until this replica leads)."""
        client = self.provider.client
        assert client is not None, "the provider is started first"
        self.writer = StatusWriter(client, self.statuses, self.provider.raw, self.provider.resource)
        self.provider.on_status_object = self.writer.wake
        self.leadership = Leadership(client, self.lease_namespace, self.lease_name, self._leading,
                                     self.lease_timing, self.identity)
        self._tasks = [asyncio.ensure_future(self.writer.run()), asyncio.ensure_future(self.leadership.run())]

    def _leading(self, leading: bool) -> None:
        assert self.writer is not None
        self.writer.active = leading
        if leading:
            self.writer.wake()

    def changed(self) -> None:
        """The control plane applied a change: status may have moved."""
        if self.writer is not None:
            self.writer.wake()

    async def stop(self) -> None:
        """Stop writing and campaigning (the Lease is released if held)."""
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []
