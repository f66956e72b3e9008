"""A control plane on loopback and a gRPC client that plays Envoy, for protocol tests."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path
from typing import Self

import grpc
from envoy.config.core.v3 import base_pb2
from envoy.service.discovery.v3 import ads_pb2_grpc, discovery_pb2
from google.rpc import status_pb2

from meshgate.providers.files import FileProvider
from meshgate.runtime.controller import ControlPlane
from meshgate.runtime.metrics import Metrics
from meshgate.xds.cache import SnapshotCache
from meshgate.xds.limits import XdsLimits
from meshgate.xds.server import AggregatedDiscoveryService, start_server
from meshgate.xds.streams import StreamRegistry

QUICKSTART = Path(__file__).resolve().parents[2] / "examples" / "quickstart"
GATEWAY = "quickstart/web"
API_CLUSTER = "outbound|80||api.quickstart.svc.cluster.local"
WEB_CLUSTER = "outbound|80||web.quickstart.svc.cluster.local"
REPLY_TIMEOUT = 5.0
QUIET = 0.3  # how long "no response" is waited for


def node(gateway: str = GATEWAY, node_id: str = "test-envoy") -> base_pb2.Node:
    n = base_pb2.Node(id=node_id, cluster=gateway)
    n.metadata.fields["meshgate.io/gateway"].string_value = gateway
    return n


class ControlPlaneUnderTest:
    """ControlPlane + ADS server over a copy of the quickstart."""

    def __init__(self, workdir: Path, limits: XdsLimits | None = None, **service_options: object) -> None:
        self.dir = workdir / "config"
        shutil.copytree(QUICKSTART, self.dir)
        self.metrics = Metrics()
        self.cache = SnapshotCache()
        self.registry = StreamRegistry()
        self.limits = limits or XdsLimits()
        self.service_options = service_options  # e.g. the NACK log interval and clock
        self.control = ControlPlane(FileProvider([self.dir]), self.cache, self.metrics,
                                    max_views=self.limits.max_views)
        self.server: grpc.aio.Server | None = None
        self.service: AggregatedDiscoveryService | None = None
        self.port = 0

    async def __aenter__(self) -> Self:
        self.control.load()
        service = AggregatedDiscoveryService(self.cache, self.registry, self.metrics, resolve=self.control.resolve,
                                             release=self.control.release, limits=self.limits,
                                             ready=self.control.ready, **self.service_options)  # type: ignore[arg-type]
        self.server, self.port = await start_server(service, "127.0.0.1", 0)
        self.service = service
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self.server is not None
        await self.server.stop(grace=None)

    def channel(self) -> grpc.aio.Channel:
        return grpc.aio.insecure_channel(f"127.0.0.1:{self.port}")

    async def change_file(self, name: str, text: str) -> str:
        """Rewrite a file and apply it (as the watcher would); returns the path taken."""
        (self.dir / name).write_text(text)
        path = self.control.apply(self.control.provider.reload(self.dir / name))
        await self.cache.notify()
        return path


class FakeEnvoy:
    """One ADS stream, driven request by request."""

    def __init__(self, channel: grpc.aio.Channel, delta: bool) -> None:
        self.delta = delta
        self._requests: asyncio.Queue = asyncio.Queue()
        stub = ads_pb2_grpc.AggregatedDiscoveryServiceStub(channel)
        method = stub.DeltaAggregatedResources if delta else stub.StreamAggregatedResources
        self.call = method(self._iter())
        # Responses are read continuously: timing out a read would cancel the whole RPC.
        self._responses: asyncio.Queue = asyncio.Queue()
        self._reader = asyncio.ensure_future(self._read())

    async def _read(self) -> None:
        try:
            async for resp in self.call:
                await self._responses.put(resp)
        except grpc.aio.AioRpcError as exc:
            await self._responses.put(exc)
        except asyncio.CancelledError:
            pass

    async def _iter(self):
        while True:
            req = await self._requests.get()
            if req is None:
                return
            yield req

    async def send(self, **fields: object) -> None:
        cls = discovery_pb2.DeltaDiscoveryRequest if self.delta else discovery_pb2.DiscoveryRequest
        await self._requests.put(cls(**fields))

    async def nack(self, type_url: str, nonce: str, message: str, version: str = "") -> None:
        err = status_pb2.Status(code=3, message=message)
        if self.delta:
            await self.send(type_url=type_url, response_nonce=nonce, error_detail=err)
        else:
            await self.send(type_url=type_url, response_nonce=nonce, version_info=version, error_detail=err)

    async def recv(self, timeout: float = REPLY_TIMEOUT):
        item = await asyncio.wait_for(self._responses.get(), timeout)
        if isinstance(item, Exception):
            raise item
        return item

    async def expect_nothing(self, quiet: float = QUIET) -> None:
        try:
            item = await asyncio.wait_for(self._responses.get(), quiet)
        except TimeoutError:
            return
        raise AssertionError(f"expected no response, got {item}")

    async def close(self) -> None:
        await self._requests.put(None)
        self.call.cancel()
        self._reader.cancel()
