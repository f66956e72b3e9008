"""Shared pieces of the emulator's tests: a kubernetes-asyncio client for a running emulator, raw
HTTP requests and watch streams (to see the wire format itself), and CRDs to install."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import aiohttp
from kubernetes_asyncio import client, config

from tests.kubeapi import Running

T = TypeVar("T")
TOKEN = "test-token"
WAIT = 10.0  # bound on every wait: a hang fails the test instead of blocking it


def run(body: Callable[[], Awaitable[T]]) -> T:
    """Run an async test body to completion."""
    return asyncio.run(asyncio.wait_for(_call(body), 60))


async def _call(body: Callable[[], Awaitable[T]]) -> T:
    return await body()


@contextlib.asynccontextmanager
async def api_client(kubeconfig: Path) -> AsyncIterator[client.ApiClient]:
    """A kubernetes-asyncio ApiClient configured from the emulator's kubeconfig."""
    api = await config.new_client_from_config(config_file=str(kubeconfig))
    async with api:
        yield api


async def request(em: Running, method: str, path: str, body: Any = None, *, content_type: str = "application/json",
                  params: dict[str, str] | None = None) -> tuple[int, Any]:
    """One raw request; the status code and the decoded JSON answer."""
    data = None if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
    headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": content_type}
    async with aiohttp.ClientSession() as session, session.request(
            method, em.url + path, data=data, headers=headers, params=params,
            timeout=aiohttp.ClientTimeout(total=WAIT)) as response:
        text = await response.text()
        return response.status, (json.loads(text) if text and text[0] in "{[" else text)


class RawWatch:
    """An open watch read line by line, as the wire has it."""

    def __init__(self, response: aiohttp.ClientResponse) -> None:
        self.response = response

    async def next(self) -> dict[str, Any] | None:
        """The next event, or None when the server ended the stream."""
        line = await asyncio.wait_for(self.response.content.readline(), WAIT)
        return json.loads(line) if line else None

    async def until(self, predicate: Callable[[dict[str, Any]], bool], limit: int = 1000) -> list[dict[str, Any]]:
        """Events up to and including the first that satisfies `predicate` (bounded)."""
        seen = []
        for _ in range(limit):
            event = await self.next()
            assert event is not None, f"the stream ended before the expected event; saw {seen}"
            seen.append(event)
            if predicate(event):
                return seen
        raise AssertionError(f"no expected event in {limit}")


@contextlib.asynccontextmanager
async def raw_watch(em: Running, path: str, **params: str) -> AsyncIterator[RawWatch]:
    """GET path?watch=1&params as a stream."""
    headers = {"Authorization": f"Bearer {TOKEN}"}
    async with aiohttp.ClientSession() as session, session.get(
            em.url + path, params={"watch": "1", **params}, headers=headers,
            timeout=aiohttp.ClientTimeout(total=None, sock_read=WAIT)) as response:
        assert response.status == 200, await response.text()
        yield RawWatch(response)


def crd(group: str, kind: str, plural: str, versions: tuple[str, ...] = ("v1",), scope: str = "Namespaced",
        status: bool = True) -> dict[str, Any]:
    """A CustomResourceDefinition (first version is the storage version)."""
    subresources = {"status": {}} if status else {}
    return {
        "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": f"{plural}.{group}"},
        "spec": {"group": group, "scope": scope,
                 "names": {"plural": plural, "singular": kind.lower(), "kind": kind, "listKind": f"{kind}List"},
                 "versions": [{"name": v, "served": True, "storage": i == 0, "subresources": subresources,
                               "schema": {"openAPIV3Schema": {"type": "object",
                                                              "x-kubernetes-preserve-unknown-fields": True}}}
                              for i, v in enumerate(versions)]},
    }


GATEWAY_CRD = crd("gateway.networking.k8s.io", "Gateway", "gateways", ("v1", "v1beta1"))
HTTPROUTE_CRD = crd("gateway.networking.k8s.io", "HTTPRoute", "httproutes", ("v1", "v1beta1"))


def gateway(name: str, namespace: str = "default", **spec: Any) -> dict[str, Any]:
    """A Gateway object."""
    return {"apiVersion": "gateway.networking.k8s.io/v1", "kind": "Gateway",
            "metadata": {"name": name, "namespace": namespace},
            "spec": {"gatewayClassName": "meshgate", "listeners": [{"name": "http", "port": 80, "protocol": "HTTP"}],
                     **spec}}
