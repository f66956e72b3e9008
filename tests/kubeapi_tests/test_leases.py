"""Leader election through a coordination.k8s.io Lease with kubernetes-asyncio's own elector:
one candidate leads, and when it dies the other takes over once the lease expires. Only
create, get and update with optimistic concurrency are involved, as in meshgate's replicas."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

from kubernetes_asyncio import client
from kubernetes_asyncio.leaderelection import electionconfig, leaderelection
from kubernetes_asyncio.leaderelection.resourcelock.leaselock import LeaseLock

from tests.kubeapi import running_emulator

from .helpers import WAIT, api_client, run


def test_lease_leader_election_fails_over(tmp_path: Path) -> None:
    async def body() -> None:
        async with running_emulator(tmp_path) as em, api_client(em.kubeconfig) as api:
            leading = {name: asyncio.Event() for name in ("a", "b")}

            def candidate(name: str) -> leaderelection.LeaderElection:
                async def lead() -> None:
                    leading[name].set()
                    await asyncio.Event().wait()  # lead until cancelled

                async def stopped() -> None:
                    return None

                lock = LeaseLock("meshgate-leader", "default", name, api)
                return leaderelection.LeaderElection(electionconfig.Config(
                    lock, lease_duration=2, renew_deadline=1.5, retry_period=1,
                    onstarted_leading=lead, onstopped_leading=stopped))

            first = asyncio.create_task(candidate("a").run())
            await asyncio.wait_for(leading["a"].wait(), WAIT)
            second = asyncio.create_task(candidate("b").run())
            lease = await client.CoordinationV1Api(api).read_namespaced_lease("meshgate-leader", "default")
            assert lease.spec.holder_identity == "a"
            first.cancel()  # the leader dies without releasing
            with contextlib.suppress(asyncio.CancelledError):
                await first
            await asyncio.wait_for(leading["b"].wait(), WAIT)
            lease = await client.CoordinationV1Api(api).read_namespaced_lease("meshgate-leader", "default")
            assert lease.spec.holder_identity == "b"
            second.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await second

    run(body)
