"""The API server connection: kubernetes-asyncio's configuration (kubeconfig or in-cluster: auth,
TLS) with raw JSON requests on top, so that every kind is read the same way, as the dicts the
resource loader parses (the generated typed models would be converted back to dicts).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
from kubernetes_asyncio import client as k8s
from kubernetes_asyncio.client.exceptions import ApiException

MERGE_PATCH = "application/merge-patch+json"
# A watch line is one object: the API server has no limit, but one past this is not ours to hold.
MAX_LINE = 64 * 1024 * 1024


class ApiError(Exception):
    """A request the API server refused (or could not be reached for: code 0)."""

    def __init__(self, code: int, reason: str, message: str) -> None:
        super().__init__(f"{code} {reason}: {message}" if code else message)
        self.code = code
        self.reason = reason
        self.message = message

    @classmethod
    def of(cls, exc: ApiException) -> ApiError:
        """From kubernetes-asyncio's exception, reading the Status object it carries when there is one."""
        body = exc.body.decode() if isinstance(exc.body, bytes) else exc.body
        try:
            status = json.loads(body) if body else {}
        except ValueError:
            status = {}
        if not isinstance(status, dict):
            status = {}
        return cls(int(exc.status or 0), str(status.get("reason") or exc.reason or ""),
                   str(status.get("message") or body or exc.reason or ""))


class KubeClient:
    """Raw JSON requests through one kubernetes-asyncio ApiClient (its session, auth and TLS)."""

    @classmethod
    async def connect(cls, kubeconfig: str | None, context: str | None) -> KubeClient:
        """A client for a kubeconfig (and context), or in-cluster when no kubeconfig is given."""
        from kubernetes_asyncio import config as k8s_config  # only when connecting

        configuration = k8s.Configuration()
        if kubeconfig is not None:
            await k8s_config.load_kube_config(config_file=kubeconfig, context=context,
                                              client_configuration=configuration, persist_config=False)
        else:
            k8s_config.load_incluster_config(client_configuration=configuration)
        return cls(k8s.ApiClient(configuration))

    def __init__(self, api: k8s.ApiClient) -> None:
        self.api = api

    async def close(self) -> None:
        """Close the session."""
        await self.api.close()

    async def _request(self, method: str, path: str, query: dict[str, Any] | None = None,
                       body: Any = None, content_type: str = "application/json",
                       timeout: float | aiohttp.ClientTimeout | None = None) -> aiohttp.ClientResponse:
        try:
            response = await self.api.call_api(
                path, method, query_params=list((query or {}).items()), body=body,
                header_params={"Accept": "application/json", "Content-Type": content_type},
                auth_settings=["BearerToken"], _preload_content=False,
                _request_timeout=timeout)
        except ApiException as exc:
            raise ApiError.of(exc) from None
        except (aiohttp.ClientError, OSError, TimeoutError) as exc:
            raise ApiError(0, "Unreachable", f"{method} {path}: {exc or type(exc).__name__}") from None
        if not 200 <= response.status <= 299:
            data = (await response.read()).decode(errors="replace")
            try:
                status = json.loads(data)
            except ValueError:
                status = None
            if not isinstance(status, dict):
                status = {}
            raise ApiError(response.status, str(status.get("reason") or response.reason or ""),
                           str(status.get("message") or data or response.reason or ""))
        return response

    async def get(self, path: str, query: dict[str, Any] | None = None, timeout: float = 60) -> dict:
        """GET a JSON object (an object, a list, a discovery document)."""
        response = await self._request("GET", path, query, timeout=timeout)
        try:
            return await response.json(content_type=None)
        except (ValueError, aiohttp.ClientError) as exc:
            raise ApiError(0, "BadResponse", f"GET {path}: {exc}") from None

    async def send(self, method: str, path: str, body: Any, content_type: str = "application/json",
                   timeout: float = 30) -> dict:
        """POST, PUT or PATCH a JSON body; the object the server answers with."""
        response = await self._request(method, path, None, body, content_type, timeout)
        return await response.json(content_type=None)

    async def delete(self, path: str, timeout: float = 30) -> None:
        """DELETE an object."""
        response = await self._request("DELETE", path, None, None, timeout=timeout)
        response.release()

    async def watch(self, path: str, query: dict[str, Any], timeout: float) -> AsyncIterator[dict]:
        """The events of a watch request, one JSON object per line, until the server ends it
        (`timeoutSeconds`) or `timeout` seconds pass without a line."""
        response = await self._request("GET", path, {**query, "watch": "true"},
                                        timeout=aiohttp.ClientTimeout(sock_read=timeout, connect=timeout))
        try:
            buffered = b""
            async for chunk in response.content.iter_any():
                buffered += chunk
                if len(buffered) > MAX_LINE:
                    raise ApiError(0, "BadResponse", f"watch {path}: an event over {MAX_LINE} bytes")
                *lines, buffered = buffered.split(b"\n")
                for line in lines:
                    if line.strip():
                        yield json.loads(line)
        except (aiohttp.ClientError, OSError, TimeoutError) as exc:
            raise ApiError(0, "Unreachable", f"watch {path}: {exc or type(exc).__name__}") from None
        except ValueError as exc:
            raise ApiError(0, "BadResponse", f"watch {path}: {exc}") from None
        finally:
            response.release()
