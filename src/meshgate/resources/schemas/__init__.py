"""The upstream structural schemas of the kinds meshgate reads (generated: see generate.py).

Read-only data, loaded once on first use: the schema of each (group, version, kind), the
definitions Kubernetes' own schemas refer to, ObjectMeta (every kind's `metadata`, which the API
server checks whatever the CRD says), and every kind the upstream sources define.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from importlib import resources
from typing import Any

SOURCES = ("gateway-api", "istio", "envoy-gateway", "kubernetes")
OBJECT_META = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"

Node = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Schemas:
    """Every source's kinds and definitions, merged."""

    kinds: dict[str, Node]  # "group/version/Kind" ("v1/Service" for the core group)
    definitions: dict[str, Node]
    all_kinds: frozenset[tuple[str, str]]  # (group, Kind) of every kind the sources define

    def kind(self, group: str, version: str, kind: str) -> Node | None:
        """The schema of one kind at one version, None when no source has it."""
        node = self.kinds.get(f"{group}/{version}/{kind}" if group else f"{version}/{kind}")
        return None if node is None else self.resolve(node)

    def resolve(self, node: Node) -> Node:
        """`node` with its reference followed (a definition, or another version's identical schema)."""
        while True:
            if "$ref" in node:
                node = self.definitions[node["$ref"]]
            elif "$kind" in node:
                node = self.kinds[node["$kind"]]
            else:
                return node

    @property
    def object_meta(self) -> Node:
        """The schema of `metadata`."""
        return self.definitions[OBJECT_META]


@functools.cache
def schemas() -> Schemas:
    """The schemas shipped with meshgate (read on first use, then shared: they never change)."""
    kinds: dict[str, Node] = {}
    definitions: dict[str, Node] = {}
    all_kinds: set[tuple[str, str]] = set()
    for name in SOURCES:
        doc = json.loads(resources.files(__package__).joinpath(f"{name}.json").read_text(encoding="utf-8"))
        kinds.update(doc["kinds"])
        definitions.update(doc["definitions"])
        all_kinds.update((g, k) for g, _, k in (gk.partition("/") for gk in doc["all_kinds"]))
    # meshgate's own kind: its schema is in code, beside its parser (one source with its CRD).
    from ..meshgate_kinds import GROUP, KIND, SCHEMA, VERSION

    kinds[f"{GROUP}/{VERSION}/{KIND}"] = SCHEMA
    all_kinds.add((GROUP, KIND))
    return Schemas(kinds, definitions, frozenset(all_kinds))
