"""`meshgate status`: conditions of every object we own, and input problems, as rich tables."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table
from rich.text import Text

from .pipeline import Translation
from .status_report import health

# A condition in its healthy state is green, one in its unhealthy state red (status_report.HEALTHY
# says which is which: Conflicted False is healthy), Unknown yellow; other types are left plain.
_UNKNOWN_STYLE = "yellow"


def status_text(cond: dict) -> Text:
    """The Status cell of one condition, coloured by whether that is the type's healthy state."""
    value = cond["status"]
    good = health(cond)
    if good is None:
        return Text(value)
    if good:
        return Text(value, style="green")
    return Text(value, style=_UNKNOWN_STYLE if value == "Unknown" else "red")


def _rows(obj: dict) -> list[tuple[str, dict]]:
    """(scope, condition) pairs: the object's own, each listener's, each parent's."""
    st = obj.get("status", {})
    rows = [("", c) for c in st.get("conditions", [])]
    for ls in st.get("listeners", []):
        scope = f"listener {ls['name']} ({ls['attachedRoutes']} routes)"
        rows.extend((scope, c) for c in ls.get("conditions", []))
    for p in st.get("parents", []):
        ref = p["parentRef"]
        scope = f"parent {ref.get('namespace', '')}{'/' if ref.get('namespace') else ''}{ref['name']}"
        if "sectionName" in ref:
            scope += f" ({ref['sectionName']})"
        rows.extend((scope, c) for c in p.get("conditions", []))
    for a in st.get("ancestors", []):  # a policy's
        ref = a["ancestorRef"]
        scope = f"ancestor {ref.get('namespace', '')}{'/' if ref.get('namespace') else ''}{ref['name']}"
        rows.extend((scope, c) for c in a.get("conditions", []))
    return rows


def print_status(tr: Translation, console: Console | None = None) -> None:
    """Print the status table and the input problems, each when there is anything to show."""
    if console is None:
        plain = Console()
        # Piped output gets a wide table instead of rich's 80-column default.
        console = plain if plain.is_terminal else Console(width=160)
    table = Table(title="Status", show_lines=False)
    table.add_column("Object", no_wrap=True)
    table.add_column("Scope", no_wrap=True)
    for col in ("Condition", "Status", "Reason"):
        table.add_column(col, no_wrap=True)
    table.add_column("Message", overflow="fold")
    for obj in tr.status:
        md = obj["metadata"]
        name = f"{md['namespace']}/{md['name']}" if md.get("namespace") else md["name"]
        label = f"{obj['kind']} {name}"
        last_scope = None
        for scope, cond in _rows(obj):
            table.add_row(label, scope if scope != last_scope else "", cond["type"],
                          status_text(cond), cond["reason"], cond.get("message", ""))
            label, last_scope = "", scope
        table.add_section()
    if tr.status:
        console.print(table)
    if tr.errors:
        errors = Table(title="Input problems")
        errors.add_column("Severity", no_wrap=True)
        errors.add_column("Where", no_wrap=True)
        for col in ("Object", "Field", "Reason"):
            errors.add_column(col, overflow="fold")
        for e in tr.errors:
            errors.add_row(Text(e.severity, style="red" if e.severity == "error" else "yellow"),
                           f"{e.file}:{e.line}", e.object, e.field, e.reason)
        console.print(errors)


def print_proxies(proxies: list[dict], console: Console | None = None) -> None:
    """Connected proxies: per xDS type, the ACKed version and the last NACK, if any."""
    if console is None:
        plain = Console()
        console = plain if plain.is_terminal else Console(width=160)
    table = Table(title="Proxies")
    for col in ("Gateway", "Node", "Protocol", "Type", "ACKed version", "NACKs", "Last NACK"):
        table.add_column(col, overflow="fold")
    for p in proxies:
        first = True
        for t, s in p["types"].items():
            table.add_row(p["gateway"] if first else "", p["node"] if first else "", p["protocol"] if first else "",
                          t, s["ackedVersion"], str(s["nacks"]),
                          Text(s["lastNack"], style="red") if s["lastNack"] else "")
            first = False
        table.add_section()
    console.print(table)
