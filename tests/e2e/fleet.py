"""Several Envoys of different localities in front of one configuration (for the per-client
end-to-end tests): Gateways gw-a, gw-b, … on base.1, base.2, …, each served by its own Envoy
whose node carries a locality, meshgate in process, echo backends as the caller starts them."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from pathlib import Path

from meshgate.discovery.model import Locality
from meshgate.envoy.bootstrap import ads_bootstrap
from meshgate.envoy.process import ManagedEnvoy
from meshgate.runtime.run import Runner, RunOptions

from .harness import get


def gateways_yaml(base: str, names: tuple[str, ...] = ("a", "b"), namespace: str = "apps") -> str:
    """Gateways gw-<name> on base.<1, 2, …>:8080, one HTTP listener each."""
    return "".join(f"""---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {{name: gw-{n}, namespace: {namespace}}}
spec:
  gatewayClassName: meshgate
  addresses: [{{type: IPAddress, value: "{base}.{i}"}}]
  listeners:
  - {{name: http, port: 8080, protocol: HTTP}}
""" for i, n in enumerate(names, start=1))


@dataclass
class Fleet:
    """meshgate plus one Envoy per (gateway, locality)."""

    config_dir: Path
    work: Path
    runner: Runner | None = None
    envoys: list[ManagedEnvoy] = field(default_factory=list)

    async def start(self, localities: dict[str, Locality]) -> None:
        """Serve the config; start an Envoy for each gateway ("ns/name") at its locality."""
        self.runner = Runner(RunOptions([str(self.config_dir)], xds_port=0, debug_port=0, envoys=False),
                             say=lambda line: None)
        await self.runner.start()
        for gateway, locality in localities.items():
            envoy = ManagedEnvoy(gateway, ads_bootstrap(gateway, "127.0.0.1", self.runner.xds_port,
                                                        locality=locality), self.work)
            await envoy.start()
            self.envoys.append(envoy)

    async def stop(self) -> None:
        for envoy in self.envoys:
            await envoy.stop()
        if self.runner is not None:
            await self.runner.stop()


async def pod_at(url: str) -> str:
    """The pod that answered one GET ("" when none did)."""
    return (await asyncio.get_running_loop().run_in_executor(None, get, url)).pod


async def pods_seen(url: str, n: int = 40) -> set[str]:
    """The pods that answered n GETs."""
    return {await pod_at(url) for _ in range(n)}


async def until_pods(url: str, want: set[str], timeout: float = 15.0) -> set[str]:
    """Poll until exactly `want` answer (bounded); the last set seen either way."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    seen = await pods_seen(url)
    while seen != want and loop.time() < deadline:
        await asyncio.sleep(0.1)
        seen = await pods_seen(url)
    return seen
