"""What a module imports, read from its source (ast): for tests that hold the architecture's
import directions."""

from __future__ import annotations

import ast


def imports(source: str, package: str) -> set[str]:
    """Every module a module of `package` imports, absolute; `from a import b` counts as both
    `a` and `a.b` (b may be a module). Imports inside functions count too."""
    out = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            out.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.rsplit(".", node.level - 1)[0]
                base = f"{parent}.{base}" if base else parent
            out.add(base)
            out.update(f"{base}.{alias.name}" for alias in node.names)
    return out
