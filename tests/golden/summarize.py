"""Print a golden expected file as one line per virtual host, route and condition, for review.

    .venv/bin/python tests/golden/summarize.py tests/golden/cases/<case>/expected.yaml
"""

from __future__ import annotations

import sys

import yaml

_CHOSEN = {"Conflicted": "False", "PartiallyInvalid": "False"}


def _route(r: dict) -> str:
    for kind in ("route", "redirect", "direct_response"):
        if kind in r:
            action = {k: v for k, v in r[kind].items() if k not in ("timeout", "cluster_not_found_response_code")}
            extra = {k: v for k, v in r.items() if k not in ("name", "match", kind)}
            return f"{r['name']} {r['match']} {kind} {action} {extra if extra else ''}"
    return str(r)


def summarize(doc: dict) -> list[str]:
    """The lines to print for one expected file."""
    out: list[str] = []
    for g in doc["gateways"]:
        chains = [(l["name"], [c.get("name") for c in l.get("filter_chains", [])]) for l in g["listeners"]]
        out.append(f"GW {g['gateway']} listeners={chains}")
        for rc in g["routes"]:
            out.append(f" RC {rc['name']}")
            for vh in rc.get("virtual_hosts", []):
                out.append(f"  VH {vh['name']} {vh['domains']}")
                out.extend(f"    - {_route(r)}" for r in vh.get("routes", []))
        out.append(f" clusters {[c['name'] for c in g['clusters']]}")
        for e in g["endpoints"]:
            eps = [(lb["endpoint"]["address"]["socket_address"]["address"],
                    lb["endpoint"]["address"]["socket_address"]["port_value"], lb.get("health_status", "UNKNOWN"),
                    loc.get("locality", {}))
                   for loc in e.get("endpoints", []) for lb in loc.get("lb_endpoints", [])]
            out.append(f"  EP {e['cluster_name']} {eps}")
    for s in doc["status"]:
        st, name = s["status"], f"{s['kind']} {s['metadata'].get('namespace', '')}/{s['metadata']['name']}"
        for p in st.get("parents", []):
            conds = [(c["type"], c["status"], c["reason"], c["message"]) for c in p["conditions"]]
            out.append(f"ST {name} parent={p['parentRef']} {conds}")
        if "conditions" in st:
            out.append(f"ST {name} {[(c['type'], c['status'], c['reason']) for c in st['conditions']]}")
        for l in st.get("listeners", []):
            odd = [(c["type"], c["status"], c["reason"], c["message"]) for c in l["conditions"]
                   if c["status"] != _CHOSEN.get(c["type"], "True")]
            out.append(f"   listener {l['name']} attached={l['attachedRoutes']} kinds={len(l['supportedKinds'])} {odd}")
    out.extend(f"ERR {e}" for e in doc["errors"])
    return out


if __name__ == "__main__":
    for path in sys.argv[1:]:
        with open(path) as f:
            print("\n".join(summarize(yaml.safe_load(f))))
