"""Test controls: RBAC denials (403 Forbidden for a verb on a resource), and the HTTP endpoints
under /emulator/ that drive the emulator from another process (forbid, allow, compact the
history, drop watches, send bookmarks now, wait for the garbage collector, and GET the requests
counted per user, method and path)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiohttp import web

from .errors import ApiError, qualified

if TYPE_CHECKING:
    from .server import Emulator

# Who the emulator says was refused, in the real server's wording.
USER = "system:serviceaccount:meshgate-system:meshgate"


@dataclass(frozen=True)
class Rule:
    """A denial: `verb` ("*" for all) on group/resource (resource may be "gateways/status"), in one
    namespace or (None) everywhere."""

    verb: str
    group: str
    resource: str
    namespace: str | None = None


@dataclass
class AccessRules:
    """The denials in force; everything not denied is allowed."""

    denied: set[Rule] = field(default_factory=set)

    def check(self, verb: str, group: str, resource: str, namespace: str | None) -> None:
        """403 Forbidden when a rule denies this request."""
        for rule in self.denied:
            if (rule.verb in ("*", verb) and rule.group == group and rule.resource == resource
                    and rule.namespace in (None, namespace)):
                plural = resource.split("/")[0]
                where = f'in the namespace "{namespace}"' if namespace else "at the cluster scope"
                raise ApiError("Forbidden", f'{qualified(plural, group)} is forbidden: User "{USER}" cannot {verb} '
                                            f'resource "{resource}" in API group "{group}" {where}',
                               kind=plural, group=group)


def _rule(body: dict[str, Any]) -> Rule:
    return Rule(body.get("verb", "*"), body.get("group", ""), body["resource"], body.get("namespace"))


def control_routes(emulator: Emulator) -> list[web.RouteDef]:
    """The /emulator/ endpoints of one emulator."""

    async def forbid(request: web.Request) -> web.Response:
        emulator.rules.denied.add(_rule(await request.json()))
        return web.json_response({"denied": len(emulator.rules.denied)})

    async def allow(request: web.Request) -> web.Response:
        body = await request.json() if request.can_read_body else {}
        if body:
            emulator.rules.denied.discard(_rule(body))
        else:
            emulator.rules.denied.clear()
        return web.json_response({"denied": len(emulator.rules.denied)})

    async def compact(request: web.Request) -> web.Response:
        return web.json_response({"resourceVersion": str(emulator.compact())})

    async def drop_watches(request: web.Request) -> web.Response:
        return web.json_response({"dropped": emulator.drop_watches()})

    async def bookmark(request: web.Request) -> web.Response:
        return web.json_response({"watchers": emulator.bookmark_now()})

    async def settle(request: web.Request) -> web.Response:
        await emulator.settle()
        return web.json_response({"resourceVersion": str(emulator.store.rv)})

    async def state(request: web.Request) -> web.Response:
        store = emulator.store
        return web.json_response({"resourceVersion": str(store.rv), "historyStart": str(store.history_start),
                                  "watches": len(store.watchers), "objects": len(store.all_objects())})

    async def requests(request: web.Request) -> web.Response:
        return web.json_response([{"user": user, "method": method, "path": path, "count": n}
                                  for (user, method, path), n in sorted(emulator.requests.items())])

    return [
        web.get("/emulator/requests", requests),
        web.post("/emulator/forbid", forbid),
        web.post("/emulator/allow", allow),
        web.post("/emulator/compact", compact),
        web.post("/emulator/drop-watches", drop_watches),
        web.post("/emulator/bookmark", bookmark),
        web.post("/emulator/settle", settle),
        web.get("/emulator/state", state),
    ]
