"""Reading a running meshgate's debug endpoint (for `meshgate status --server`)."""

from __future__ import annotations

import json
import urllib.request

from ..pipeline import Translation
from ..resources.errors import InputError

_FIELDS = ("file", "line", "reason", "field", "kind", "namespace", "name", "severity")


def fetch_status(server: str, timeout: float = 10.0) -> tuple[Translation, list[dict]]:
    """Status, input problems and proxies from http://SERVER/debug/status."""
    url = server if server.startswith("http") else f"http://{server}"
    with urllib.request.urlopen(f"{url.rstrip('/')}/debug/status", timeout=timeout) as resp:
        data = json.load(resp)
    errors = [InputError(**{k: e[k] for k in _FIELDS if k in e}) for e in data.get("errors", [])]
    return Translation(status=data.get("status", []), errors=errors), data.get("proxies", [])
