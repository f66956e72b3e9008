"""The emulated API server: aiohttp routes for discovery and every resource verb, bound to
127.0.0.1, with start, stop and restart on the same port (objects and resourceVersions kept,
in memory and, given a state file, on disk)."""

from __future__ import annotations

import asyncio
import collections
import contextlib
import json
import ssl
from pathlib import Path
from typing import Any

from aiohttp import web

from . import discovery, errors
from .controls import AccessRules, Rule, control_routes
from .gc import GarbageCollector
from .resources import Registry, ResourceType
from .routing import Target, auth_verb, is_true, parse_resource_path
from .selectors import Selector
from .store import Store, load_state, save_state
from .verbs import Verbs, version_string
from .watch import WatchRequest, serve_watch

HOST = "127.0.0.1"
USER_KEY = web.RequestKey("user", str)  # who a request authenticated as


def _json(body: Any, status: int = 200) -> web.Response:
    return web.json_response(body, status=status, dumps=lambda o: json.dumps(o, separators=(",", ":")))


class Emulator:
    """One Kubernetes API server emulator (see the package docstring for what it covers)."""

    def __init__(self, *, port: int = 0, state_file: Path | None = None, token: str | None = None,
                 ssl_context: ssl.SSLContext | None = None, history_limit: int = 1000,
                 bookmark_interval: float = 5.0, max_watch_seconds: float = 1800.0,
                 service_cidr: str = "127.96.0.0/16", watcher_queue_limit: int = 10000) -> None:
        self.port = port
        self.state_file = state_file
        self.token = token
        self.ssl_context = ssl_context
        self.bookmark_interval = bookmark_interval
        self.max_watch_seconds = max_watch_seconds
        self.store = Store(history_limit=history_limit, watcher_queue_limit=watcher_queue_limit)
        self.registry = Registry()
        self.verbs = Verbs(self.store, self.registry, service_cidr)
        self.gc = GarbageCollector(self.verbs)
        self.rules = AccessRules()
        self._runner: web.AppRunner | None = None
        self._saver: asyncio.Task[None] | None = None
        self._saved_rv = -1
        self._continues: dict[str, tuple[int, list[dict[str, Any]]]] = {}
        # Other users' bearer tokens (token → user name); `token` is the user "admin".
        self.users: dict[str, str] = {}
        # Requests to resources: (user, method, path) → how many (for tests and benchmarks to count
        # writes, e.g. status writes per replica).
        self.requests: collections.Counter[tuple[str, str, str]] = collections.Counter()
        if state_file is not None:
            load_state(self.store, state_file)
        self.verbs.bootstrap()

    @property
    def url(self) -> str:
        """The server's base URL."""
        return f"{'https' if self.ssl_context else 'http'}://{HOST}:{self.port}"

    # -- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        """Listen on 127.0.0.1 (on a free port the first time when port is 0)."""
        app = web.Application(middlewares=[self._errors], client_max_size=8 * 1024 * 1024)
        app.add_routes(control_routes(self))
        app.router.add_route("*", "/{tail:.*}", self._dispatch)
        runner = web.AppRunner(app, handle_signals=False, shutdown_timeout=1.0)
        await runner.setup()
        site = web.TCPSite(runner, HOST, self.port, ssl_context=self.ssl_context, reuse_address=True)
        await site.start()
        if self.port == 0:
            self.port = int(runner.addresses[0][1])
        self._runner = runner
        self.gc.start()
        if self.state_file is not None:
            self._saver = asyncio.create_task(self._save_loop(), name="kubeapi-save")

    async def stop(self) -> None:
        """Close every watch and connection and stop listening; the state is saved."""
        self.store.drop_watches()
        if self._saver is not None:
            self._saver.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._saver
            self._saver = None
        await self.gc.stop()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        self.save()

    async def restart(self) -> None:
        """Stop and start again on the same port: clients see their connections and watches end."""
        await self.stop()
        if self.state_file is not None:
            load_state(self.store, self.state_file)
            self.verbs.refresh_crds()
        await self.start()

    def save(self) -> None:
        """Write the state file now (when there is one)."""
        if self.state_file is not None and self._saved_rv != self.store.rv:
            save_state(self.store, self.state_file)
            self._saved_rv = self.store.rv

    async def _save_loop(self) -> None:
        # Written a little after changes, not per write: a kill -9 loses at most the last 0.2 s.
        while True:
            await asyncio.sleep(0.2)
            self.save()

    # -- test controls -----------------------------------------------------------------------

    def compact(self) -> int:
        """Drop the event history (and list continue tokens): older resourceVersions get 410."""
        self._continues.clear()
        return self.store.compact()

    def drop_watches(self) -> int:
        """End every open watch, as an API server restart or a load balancer would."""
        return self.store.drop_watches()

    def bookmark_now(self) -> int:
        """Send a BOOKMARK now to every watch that allows bookmarks."""
        return self.store.bookmark_now()

    def forbid(self, verb: str, group: str, resource: str, namespace: str | None = None) -> None:
        """Answer 403 Forbidden to `verb` ("*": any) on group/resource (e.g. "gateways/status")."""
        self.rules.denied.add(Rule(verb, group, resource, namespace))

    def allow_all(self) -> None:
        """Lift every denial."""
        self.rules.denied.clear()

    def add_user(self, token: str, name: str) -> None:
        """Accept `token` too, as the user `name` (requests are counted per user)."""
        self.users[token] = name

    def count(self, *, methods: tuple[str, ...] = (), suffix: str = "", user: str | None = None) -> int:
        """How many resource requests were made with one of `methods` (any when empty), to a path
        ending with `suffix`, by `user` (anyone when None)."""
        return sum(n for (who, method, path), n in self.requests.items()
                   if (not methods or method in methods) and path.endswith(suffix) and user in (None, who))

    async def settle(self, timeout: float = 10.0) -> None:
        """Wait until the garbage collector has handled every deletion so far."""
        await self.gc.settle(timeout)

    # -- requests ----------------------------------------------------------------------------

    @web.middleware
    async def _errors(self, request: web.Request, handler: Any) -> web.StreamResponse:
        try:
            if self.token and not request.path.startswith("/emulator/"):
                user = self._user(request.headers.get("Authorization", ""))
                if user is None:
                    raise errors.ApiError("Unauthorized", "Unauthorized")
                request[USER_KEY] = user
            return await handler(request)  # type: ignore[no-any-return]
        except errors.ApiError as exc:
            return _json(exc.status(), exc.code)
        except json.JSONDecodeError as exc:
            return _json(errors.ApiError("BadRequest", f"the body is not valid JSON: {exc}").status(), 400)
        except web.HTTPException:
            raise
        except Exception as exc:  # noqa: BLE001 - a bug of the emulator answers 500, as the real server's would
            return _json(errors.ApiError("InternalError", f"emulator error: {exc!r}").status(), 500)

    def _user(self, authorization: str) -> str | None:
        """Who a request's Authorization header says it is (None: nobody we know)."""
        token = authorization.removeprefix("Bearer ") if authorization.startswith("Bearer ") else None
        if token is None:
            return None
        return "admin" if token == self.token else self.users.get(token)

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        path = request.path.rstrip("/") or "/"
        target = parse_resource_path(path)
        if target is not None:
            self.requests[(request.get(USER_KEY, "anonymous"), request.method, path)] += 1
            return await self._resource(request, target)
        body = self._discovery(path)
        if body is None:
            raise errors.ApiError("NotFound", "the server could not find the requested resource")
        return body if isinstance(body, web.Response) else _json(body)

    def _discovery(self, path: str) -> Any:
        parts = [p for p in path.split("/") if p]
        if path in ("/healthz", "/livez", "/readyz"):
            return web.Response(text="ok")
        if path == "/version":
            return version_string()
        if parts == ["api"]:
            return discovery.core_versions(f"{HOST}:{self.port}")
        if parts == ["apis"]:
            return discovery.group_list(self.registry)
        if len(parts) == 2 and parts[0] == "api":
            return discovery.resource_list(self.registry, "", parts[1])
        if len(parts) == 2 and parts[0] == "apis":
            return discovery.group(self.registry, parts[1])
        if len(parts) == 3 and parts[0] == "apis":
            return discovery.resource_list(self.registry, parts[1], parts[2])
        return None

    async def _resource(self, request: web.Request, target: Target) -> web.StreamResponse:
        verb = auth_verb(request, target)
        resource = f"{target.plural}/{target.subresource}" if target.subresource else target.plural
        self.rules.check(verb, target.group, resource, target.namespace)
        rtype = self.registry.lookup(target.group, target.version, target.plural)
        if rtype is None:
            raise errors.unknown_resource()
        if rtype.namespaced != (target.namespace is not None) and (target.name or request.method != "GET"):
            raise errors.unknown_resource()
        if target.subresource and (target.subresource != "status" or not rtype.status):
            raise errors.unknown_resource()
        status = target.subresource == "status"
        ns = target.namespace or ""
        if not target.name:
            return await self._collection(request, rtype, target, verb)
        if verb == "get":
            return _json(self._present(rtype, target.version, self.verbs.get(rtype, ns, target.name)))
        if verb == "update":
            obj = self.verbs.update(rtype, ns, target.name, await request.json(), status, target.version)
        elif verb == "patch":
            obj = self.verbs.patch(rtype, ns, target.name, request.content_type, await request.read(), status)
        elif verb == "delete" and not status:
            options = await request.json() if request.can_read_body else {}
            obj = self.verbs.delete(rtype, ns, target.name, options or dict(request.query))
        else:
            raise errors.ApiError("MethodNotAllowed", "the server does not allow this method on the requested "
                                                      "resource")
        return _json(self._present(rtype, target.version, obj))

    async def _collection(self, request: web.Request, rtype: ResourceType, target: Target, verb: str
                          ) -> web.StreamResponse:
        query = request.query
        selector = Selector.parse(query.get("labelSelector"), query.get("fieldSelector"))
        if verb == "create":
            obj = self.verbs.create(rtype, target.namespace or "", await request.json(), target.version)
            return _json(self._present(rtype, target.version, obj), 201)
        if verb == "watch":
            timeout = float(query.get("timeoutSeconds") or self.max_watch_seconds)
            watch = WatchRequest(rtype, target.version, target.namespace, selector, query.get("resourceVersion"),
                                 is_true(query.get("allowWatchBookmarks")), is_true(query.get("sendInitialEvents")),
                                 min(timeout, self.max_watch_seconds))
            return await serve_watch(request, self.store, watch, self.bookmark_interval)
        if verb == "deletecollection":
            items, _ = self.verbs.list(rtype, target.namespace, selector)
            gone = [self.verbs.delete(rtype, o["metadata"].get("namespace", ""), o["metadata"]["name"]) for o in items]
            return _json(self._list_body(rtype, target.version, gone, self.store.rv, {}))
        if verb != "list":
            raise errors.ApiError("MethodNotAllowed", "the server does not allow this method on the requested resource")
        return _json(self._list(rtype, target, selector, query))

    def _list(self, rtype: ResourceType, target: Target, selector: Selector, query: Any) -> dict[str, Any]:
        rv_param, match = query.get("resourceVersion") or "", query.get("resourceVersionMatch") or ""
        if rv_param not in ("", "0"):
            if not rv_param.isdigit():
                raise errors.ApiError("BadRequest", f"invalid resource version: {rv_param!r}")
            if int(rv_param) > self.store.rv:
                raise errors.ApiError("Timeout", f"Too large resource version: {rv_param}, current: {self.store.rv}")
            if match == "Exact" and int(rv_param) != self.store.rv:
                # Only the present is kept, not past snapshots (a simplification of etcd's MVCC).
                raise errors.expired(int(rv_param), self.store.rv)
        token = query.get("continue")
        if token:
            if token not in self._continues:
                raise errors.ApiError("Expired", "The provided continue parameter is too old to display a consistent "
                                                 "list result. You can start a new list without the continue parameter.")
            rv, items = self._continues.pop(token)
        else:
            items, rv = self.verbs.list(rtype, target.namespace, selector)
        meta: dict[str, Any] = {}
        limit = int(query.get("limit") or 0)
        if 0 < limit < len(items):
            items, rest = items[:limit], items[limit:]
            next_token = f"{rv}-{len(self._continues)}-{id(rest)}"
            self._continues[next_token] = (rv, rest)
            while len(self._continues) > 64:  # bounded: the oldest tokens expire
                self._continues.pop(next(iter(self._continues)))
            meta.update({"continue": next_token, "remainingItemCount": len(rest)})
        return self._list_body(rtype, target.version, items, rv, meta)

    def _list_body(self, rtype: ResourceType, version: str, items: list[dict[str, Any]], rv: int,
                   meta: dict[str, Any]) -> dict[str, Any]:
        # Built-in lists carry kind and apiVersion on the list only; custom resource lists (served
        # unstructured) on every item too, as the real server sends them.
        shown = [self._present(rtype, version, o) for o in items]
        if not rtype.custom:
            shown = [{k: v for k, v in o.items() if k not in ("kind", "apiVersion")} for o in shown]
        return {"kind": f"{rtype.kind}List", "apiVersion": rtype.api_version(version),
                "metadata": {"resourceVersion": str(rv), **meta}, "items": shown}

    @staticmethod
    def _present(rtype: ResourceType, version: str, obj: dict[str, Any]) -> dict[str, Any]:
        return {**obj, "apiVersion": rtype.api_version(version), "kind": rtype.kind}
