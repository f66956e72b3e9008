"""What `meshgate status` calls a problem, its filters, its count summary and its exit status.

Pure functions over status documents (the Kubernetes-shaped objects of `translate`/`status -o
json`), input problems and, live, the proxies' last answers. The table of healthy condition
states is here and only here: the exit status, `--problems` and the table's colours all read it.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from .resources.errors import InputError

# The status each Gateway API condition type has when all is well (Gateway API's
# conditions: positive-polarity types are True when healthy, the "abnormal-true" ones False).
# A condition whose type is listed and whose status differs (Unknown included) is a problem;
# types not listed are informational, neither healthy nor a problem.
HEALTHY: Mapping[str, str] = {
    "Accepted": "True",
    "Programmed": "True",
    "ResolvedRefs": "True",
    "SupportedVersion": "True",
    "Ready": "True",
    "PartiallyInvalid": "False",
    "Conflicted": "False",
    "OverlappingTLSConfig": "False",
}

# Exit status of `meshgate status` (README, `meshgate status`). 2 is click's usage error.
EXIT_OK = 0
EXIT_REFUSED = 1  # an input error (a file or object refused), or live, a proxy's last answer is a NACK
EXIT_UNHEALTHY = 3  # everything was accepted, but some object of ours has a condition in its unhealthy state


def health(condition: Mapping[str, str]) -> bool | None:
    """True when the condition is in its healthy state, False when not, None for a type with no known good state."""
    good = HEALTHY.get(condition.get("type", ""))
    return None if good is None else condition.get("status") == good


def is_problem(condition: Mapping[str, str]) -> bool:
    """A condition of a known type, not in its healthy state."""
    return health(condition) is False


def _groups(status: Mapping) -> Iterable[Mapping]:
    """The object's own conditions holder, then each listener's and each parent's."""
    yield status
    yield from status.get("listeners", [])
    yield from status.get("parents", [])
    yield from status.get("ancestors", [])


def has_problem(obj: Mapping) -> bool:
    """Some condition of the object (its own, a listener's or a parent's) is a problem."""
    return any(is_problem(c) for g in _groups(obj.get("status", {})) for c in g.get("conditions", []))


def only_problems(obj: dict) -> dict | None:
    """A copy of the object keeping only its problem conditions (and the listeners and parents
    that have one), or None when it has none."""
    if not has_problem(obj):
        return None
    out = copy.deepcopy(obj)
    st = out.get("status", {})
    if "conditions" in st:
        st["conditions"] = [c for c in st["conditions"] if is_problem(c)]
    for key in ("listeners", "parents", "ancestors"):
        if key in st:
            kept = []
            for part in st[key]:
                conds = [c for c in part.get("conditions", []) if is_problem(c)]
                if conds:
                    kept.append(part | {"conditions": conds})
            st[key] = kept
    return out


@dataclass(frozen=True, slots=True)
class StatusFilter:
    """`--kind` (any of these kinds; none: all), `-n` (this namespace) and `--problems`."""

    kinds: frozenset[str] = frozenset()
    namespace: str | None = None
    problems: bool = False

    def selects(self, kind: str, namespace: str) -> bool:
        """Whether an object of this kind in this namespace ("" when cluster-scoped) is selected."""
        return (not self.kinds or kind in self.kinds) and (self.namespace is None or namespace == self.namespace)


def select_status(status: list[dict], f: StatusFilter) -> list[dict]:
    """The status objects of the selected kinds and namespace (not yet reduced to problems)."""
    return [o for o in status if f.selects(o["kind"], o["metadata"].get("namespace", ""))]


def select_errors(errors: list[InputError], f: StatusFilter) -> list[InputError]:
    """The input problems of selected objects; one that names no object (a file that cannot be
    read or parsed) is kept whatever the filters, as it may hide objects of any kind."""
    return [e for e in errors if not e.kind or not e.name or f.selects(e.kind, e.namespace)]


def select_proxies(proxies: list[dict], f: StatusFilter) -> list[dict]:
    """Proxies of Gateways in the selected namespace (--kind does not apply to them)."""
    if f.namespace is None:
        return proxies
    return [p for p in proxies if p["gateway"].split("/", 1)[0] == f.namespace]


def nacked(proxy: Mapping) -> bool:
    """The proxy's last answer for some xDS type was a NACK."""
    return any(t["lastNack"] for t in proxy["types"].values())


def problems_view(status: list[dict], proxies: list[dict]) -> tuple[list[dict], list[dict]]:
    """`--problems`: objects reduced to their problem conditions, proxies to the types they NACKed."""
    objects = [p for p in (only_problems(o) for o in status) if p is not None]
    rejected = [p | {"types": {t: s for t, s in p["types"].items() if s["lastNack"]}} for p in proxies if nacked(p)]
    return objects, rejected


def _count(n: int, what: str, plural: str = "") -> str:
    return f"{n} {what if n == 1 else plural or what + 's'}"


def summary(status: list[dict], errors: list[InputError], proxies: list[dict] | None = None) -> str:
    """`3 objects, 1 with problems; 2 input errors, 1 warning` (and, live, `; 2 proxies, 1 with a NACK`)."""
    bad = sum(1 for o in status if has_problem(o))
    n_errors = sum(1 for e in errors if e.severity == "error")
    line = (f"{_count(len(status), 'object')}, {bad} with problems; "
            f"{_count(n_errors, 'input error')}, {_count(len(errors) - n_errors, 'warning')}")
    if proxies is not None:
        line += f"; {_count(len(proxies), 'proxy', 'proxies')}, {sum(1 for p in proxies if nacked(p))} with a NACK"
    return line


def exit_status(status: list[dict], errors: list[InputError], proxies: Iterable[Mapping] = ()) -> int:
    """EXIT_REFUSED for input errors or a NACK, else EXIT_UNHEALTHY for a problem condition, else EXIT_OK.

    Warnings alone do not fail: they name things meshgate still served (or rightly left alone).
    """
    if any(e.severity == "error" for e in errors) or any(nacked(p) for p in proxies):
        return EXIT_REFUSED
    if any(has_problem(o) for o in status):
        return EXIT_UNHEALTHY
    return EXIT_OK
