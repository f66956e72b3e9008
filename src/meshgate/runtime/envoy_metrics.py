"""The statistics of every Envoy `meshgate run` manages, as one Prometheus scrape
(`/metrics/envoy` on the debug port): each Envoy's `/stats/prometheus`, its samples labelled
with their Gateway (`gateway="ns/name"`), one metric family for all of them."""

from __future__ import annotations


def _labelled(sample: str, gateway: str) -> str:
    """A sample line with the gateway label first."""
    label = f'gateway="{gateway}"'
    brace, space = sample.find("{"), sample.find(" ")
    if brace != -1 and (space == -1 or brace < space):
        rest = sample[brace + 1:]
        return f"{sample[:brace]}{{{label}{'' if rest.startswith('}') else ','}{rest}"
    return f"{sample[:space]}{{{label}}}{sample[space:]}" if space != -1 else sample


def federate(texts: dict[str, str]) -> str:
    """Prometheus text expositions by Gateway ("ns/name") → one exposition: every family once,
    with the samples of every Gateway (a family two Envoys both declare must not repeat)."""
    families: dict[str, tuple[list[str], list[str]]] = {}  # name → (its comment lines, its samples)
    for gateway, text in sorted(texts.items()):
        current: list[str] | None = None
        for line in text.splitlines():
            if not line.strip():
                continue
            if line.startswith("#"):
                parts = line.split(maxsplit=3)
                if len(parts) >= 3 and parts[1] in ("TYPE", "HELP"):
                    comments, samples = families.setdefault(parts[2], ([], []))
                    if line not in comments:
                        comments.append(line)
                    current = samples
                continue
            if current is None:  # a sample before any TYPE: a family of its own
                current = families.setdefault(line.split("{", 1)[0].split(" ", 1)[0], ([], []))[1]
            current.append(_labelled(line, gateway))
    out = [line for comments, samples in families.values() for line in (*comments, *samples)]
    return "\n".join(out) + ("\n" if out else "")
