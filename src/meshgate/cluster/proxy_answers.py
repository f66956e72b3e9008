"""Proxies' answers shared between replicas. A proxy's NACK is known only to the replica it is
connected to, and only the leader writes status; so every replica publishes the rejections
standing on its streams in a ConfigMap of meshgate's namespace (`meshgate-answers-<replica>`,
renewed every `renew` seconds, owned by the replica's Pod when it runs in one), and the leader
adds the other replicas' fresh ones to its own before it writes status.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from ..providers.kubernetes.client import ApiError, KubeClient

LABEL = "meshgate.io/proxy-answers"


def board_name(identity: str) -> str:
    """The ConfigMap of one replica's answers (the identity hashed: any string is a valid name)."""
    return f"meshgate-answers-{hashlib.sha256(identity.encode()).hexdigest()[:12]}"


@dataclass
class AnswerBoard:
    """This replica's published rejections, and the other replicas' as last read."""

    client: KubeClient
    namespace: str
    identity: str
    local: Callable[[], list[dict]]  # the rejections standing on this replica's streams
    renew: float = 5.0  # seconds between renewals (a board older than 3 × this is a dead replica's)
    remote: list[dict] = field(default_factory=list)
    _published: tuple[str, float] | None = None  # (what, when) last written

    def _path(self, name: str = "") -> str:
        return f"/api/v1/namespaces/{self.namespace}/configmaps" + (f"/{name}" if name else "")

    async def publish(self) -> bool:
        """Write this replica's rejections when they changed or are due for renewal; True when written."""
        text = json.dumps(self.local(), sort_keys=True)
        now = time.time()
        if self._published is not None and self._published[0] == text and now - self._published[1] < self.renew:
            return False
        md: dict = {"name": board_name(self.identity), "namespace": self.namespace, "labels": {LABEL: "true"}}
        pod, uid = os.environ.get("POD_NAME"), os.environ.get("POD_UID")
        if pod and uid:  # gone with the replica's Pod
            md["ownerReferences"] = [{"apiVersion": "v1", "kind": "Pod", "name": pod, "uid": uid}]
        body = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": md,
                "data": {"replica": self.identity, "renewed": f"{now:.3f}", "rejections": text}}
        try:
            await self.client.send("PUT", self._path(md["name"]), body)
        except ApiError as exc:
            if exc.code != 404:
                raise
            await self.client.send("POST", self._path(), body)
        self._published = (text, now)
        return True

    async def read(self) -> list[dict]:
        """The other replicas' fresh rejections (kept in `remote`)."""
        doc = await self.client.get(self._path(), {"labelSelector": f"{LABEL}=true"})
        now = time.time()
        out: list[dict] = []
        for item in doc.get("items") or []:
            data = item.get("data") or {}
            try:
                fresh = now - float(data.get("renewed", "0")) < 3 * self.renew
                answers = json.loads(data.get("rejections") or "[]")
            except ValueError:
                continue
            if data.get("replica") != self.identity and fresh and isinstance(answers, list):
                out.extend(a for a in answers if isinstance(a, dict))
        self.remote = out
        return out

    async def run(self, leading: Callable[[], bool], changed: Callable[[], None], step: float = 1.0) -> None:
        """Every `step` seconds until cancelled: publish ours; while leading, read the others'
        (calling `changed` when they moved)."""
        while True:
            try:
                await self.publish()
                if leading():
                    before = self.remote
                    if await self.read() != before:
                        changed()
                elif self.remote:
                    self.remote = []
            except ApiError:
                pass  # the API server is away: the next step tries again
            await asyncio.sleep(step)
