"""Virtual hosts kept across translations: a change rebuilds a gateway's virtual hosts, and most
come out holding the same routes as before. Handing out the very object made last time lets the
stages after (policies, the xDS route builder) recognise an unchanged virtual host with one
lookup by identity instead of comparing its routes.

Keys hold identities: each entry keeps its virtual host, and so its routes and sources, alive,
so an id in a live entry cannot belong to another object. `sweep` forgets what the translation
did not ask for.
"""

from __future__ import annotations

from .. import ir


class VirtualHostMemo:
    """Virtual hosts by name, listener sources (by value) and routes (by identity)."""

    __slots__ = ("_hosts", "_next", "_sources", "_sources_next")

    def __init__(self) -> None:
        self._hosts: dict[tuple, ir.VirtualHost] = {}
        self._next: dict[tuple, ir.VirtualHost] = {}
        self._sources: dict[tuple[ir.SourceRef, ...], tuple[ir.SourceRef, ...]] = {}
        self._sources_next: dict[tuple[ir.SourceRef, ...], tuple[ir.SourceRef, ...]] = {}

    def sources(self, made: tuple[ir.SourceRef, ...]) -> tuple[ir.SourceRef, ...]:
        """`made` (a listener's sources, built anew each translation), or the equal tuple used
        before: once per listener, so that its virtual hosts can be keyed by its identity."""
        kept = self._sources.get(made) or self._sources_next.get(made) or made
        self._sources_next[kept] = kept
        return kept

    def host(self, name: str, domains: tuple[str, ...], routes: tuple[ir.Route, ...],
             sources: tuple[ir.SourceRef, ...]) -> ir.VirtualHost:
        """The virtual host of these parts: the one made before when they are the same objects
        (`sources` from `sources`)."""
        key = (name, id(sources), *map(id, routes))
        vh = self._hosts.get(key)
        if vh is None or vh.domains != domains:
            vh = self._next.get(key)
            if vh is None or vh.domains != domains:
                vh = ir.VirtualHost(name, domains, routes, sources)
        self._next[key] = vh
        return vh

    def sweep(self) -> None:
        """The translation is over: keep what it asked for, forget the rest."""
        self._hosts, self._next = self._next, {}
        self._sources, self._sources_next = self._sources_next, {}
