"""A leader that stops releases its Lease, but an API server that does not answer cannot hold up
the stop: the release is given up after the renew deadline (the Lease then expires instead)."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from pathlib import Path

from meshgate.cluster.leader import Leadership, LeaseTiming
from meshgate.providers.kubernetes.connection import Connection

from ..kubeapi.kubeconfig import write_kubeconfig


def test_stopping_a_leader_is_bounded_when_the_api_server_does_not_answer(tmp_path: Path) -> None:
    async def body() -> None:
        # Listening, never answering: connections are accepted by the kernel and then nothing.
        with socket.socket() as mute:
            mute.bind(("127.0.0.1", 0))
            mute.listen(64)
            kubeconfig = write_kubeconfig(tmp_path / "kubeconfig", f"http://127.0.0.1:{mute.getsockname()[1]}",
                                          "token")
            client = await Connection(str(kubeconfig)).client()
            try:
                leadership = Leadership(client, "meshgate-system", "meshgate", lambda leading: None,
                                        LeaseTiming(3, 2, 1), "replica-a")
                leadership.leading = True  # as if it had been elected before the API server went mute
                task = asyncio.ensure_future(leadership.run())
                await asyncio.sleep(0.2)
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await asyncio.wait_for(task, 15)  # a TimeoutError here: the stop hung on the release
                assert not leadership.leading
            finally:
                await client.close()

    asyncio.run(body())
