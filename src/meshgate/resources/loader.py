"""Loading resources from files and directory trees into typed objects.

Files: *.yaml, *.yml and *.json, found recursively; multi-document; `kind: List` unpacked.
Each object is validated by its kind's parser; an invalid object is reported and left out,
and everything else still loads.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..collector import collector_paused
from .errors import InputError
from .fields import Fields, ObjectContext, _type_name
from .kinds import KINDS, KindSpec, split_api_version
from .meta import Meta, Source, parse_meta
from .yaml_source import (
    Document,
    LDict,
    LList,
    YAMLSyntaxError,
    iter_documents,
    parse_sections,
)

SUFFIXES = (".yaml", ".yml", ".json")
MAX_FILE_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class Rejected:
    """An object that was identified but failed validation: status can still speak of it."""

    kind: str
    meta: Meta
    source: Source
    raw: dict
    errors: tuple[InputError, ...]


@dataclass(slots=True)
class LoadResult:
    """Typed objects that loaded, objects that were rejected, and every error and warning."""

    objects: list[Any] = field(default_factory=list)
    errors: list[InputError] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)

    def extend(self, other: LoadResult) -> None:
        """Add another result's objects and errors to this one."""
        self.objects.extend(other.objects)
        self.errors.extend(other.errors)
        self.rejected.extend(other.rejected)

    @property
    def failed(self) -> bool:
        """True when any error (not warning) was found."""
        return any(e.severity == "error" for e in self.errors)


def rfc3339(ts: float) -> str:
    """A POSIX timestamp as Kubernetes writes creationTimestamp."""
    return datetime.fromtimestamp(int(ts), tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _hidden(name: str) -> bool:
    # Dot-files and dot-directories are not configuration: editors' files, VCS directories,
    # and a Kubernetes ConfigMap mount's `..data` copies of the files it also shows by name.
    return name.startswith(".")


def is_resource_file(path: str | os.PathLike[str], root: str | os.PathLike[str]) -> bool:
    """Whether `find_files([root])` would load `path`: `root` itself when it is a file, else a
    *.yaml, *.yml or *.json file below it with no dot-file or dot-directory on the way.

    Paths are compared as spelled (made absolute, not resolved), as a file watcher reports them.
    """
    path, root = os.path.abspath(path), os.path.abspath(root)
    if path == root:
        return True
    # A path outside `root` starts with "..", so is refused as hidden too.
    return path.endswith(SUFFIXES) and not any(_hidden(part) for part in Path(os.path.relpath(path, root)).parts)


def find_files(paths: Iterable[str | os.PathLike[str]]) -> tuple[list[Path], list[InputError]]:
    """Every resource file under `paths`, sorted, with errors for paths that do not exist."""
    files: list[Path] = []
    errors: list[InputError] = []
    for p in paths:
        path = Path(p)
        if path.is_dir():
            for root, dirs, names in os.walk(path):
                dirs[:] = sorted(d for d in dirs if not _hidden(d))  # nothing below would load
                files.extend(Path(root, n) for n in sorted(names) if is_resource_file(Path(root, n), path))
        elif path.is_file():
            files.append(path)
        else:
            errors.append(InputError(str(path), 0, "no such file or directory"))
    return files, errors


def load_paths(paths: Iterable[str | os.PathLike[str]], created: str | None = None) -> LoadResult:
    """Load every resource under `paths`.

    `created` is the creationTimestamp given to objects that have none; by default each file's
    modification time, so an object keeps its age while its file is unchanged.
    """
    files, errors = find_files(paths)
    result = LoadResult(errors=errors)
    with collector_paused():
        for path in files:
            result.extend(load_file(path, created))
    return result


def load_file(path: Path, created: str | None = None) -> LoadResult:
    """Load one file."""
    name = str(path)
    try:
        stat = path.stat()
        if stat.st_size > MAX_FILE_BYTES:
            return LoadResult(errors=[InputError(name, 0, f"file is larger than {MAX_FILE_BYTES} bytes")])
        raw = path.read_bytes()
    except OSError as exc:
        return LoadResult(errors=[InputError(name, 0, f"cannot read file: {exc.strerror or exc}")])
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return LoadResult(errors=[InputError(name, 1, f"not UTF-8 text: {exc.reason} at byte {exc.start}")])
    return load_text(text, name, created or rfc3339(stat.st_mtime))


def load_text(text: str, file: str, created: str) -> LoadResult:
    """Load every object in a YAML/JSON text; `file` names it in errors."""
    with collector_paused():
        return _load_text(text, file, created)


def _load_text(text: str, file: str, created: str) -> LoadResult:
    result = LoadResult()
    try:
        # Each document is typed as soon as it is parsed, and its tree dropped.
        for doc in iter_documents(text):
            _load_document(doc, file, created, result)
        return result
    except YAMLSyntaxError:
        pass
    # A broken document: start over, part by part, so the good documents around it still load.
    docs, syntax_errors = parse_sections(text)
    result = LoadResult(errors=[InputError(file, exc.line, exc.reason) for exc in syntax_errors])
    for doc in docs:
        _load_document(doc, file, created, result)
    return result


def _load_document(doc: Document, file: str, created: str, result: LoadResult) -> None:
    for value, line in _unpack(doc, file, result.errors):
        obj = parse_object(value, file, line, created, result)
        if obj is not None:
            result.objects.append(obj)


def _unpack(doc: Document, file: str, errors: list[InputError]) -> Iterator[tuple[dict, int]]:
    value = doc.value
    if value is None:
        return  # an empty document
    if not isinstance(value, dict):
        errors.append(InputError(file, doc.line, f"document must be a mapping (a Kubernetes object), got {_type_name(value)}"))
        return
    if value.get("kind") == "List" or (isinstance(value.get("kind"), str) and value["kind"].endswith("List") and "items" in value):
        items = value.get("items")
        if items is None:
            return
        if not isinstance(items, list):
            line = value.key_lines.get("items", doc.line) if isinstance(value, LDict) else doc.line
            errors.append(InputError(file, line, "items must be a list", "items", "List"))
            return
        for i, item in enumerate(items):
            line = items.item_lines[i] if isinstance(items, LList) else doc.line
            if not isinstance(item, dict):
                errors.append(InputError(file, line, "must be a mapping (a Kubernetes object)", f"items[{i}]", "List"))
                continue
            yield item, line
        return
    yield value, getattr(value, "line", doc.line)


def parse_object(value: dict, file: str, line: int, created: str, result: LoadResult) -> Any:
    """Validate and type one object; None (with errors recorded) when it is unusable or skipped."""
    errors = result.errors
    ctx = ObjectContext(file, line)
    f = Fields(value, "", ctx, line)
    api_version = value.get("apiVersion")
    kind = value.get("kind")
    if not isinstance(kind, str) or not kind:
        f.error("kind", "required field is missing" if kind is None else "must be a non-empty string")
        errors.extend(ctx.errors)
        return None
    ctx.kind = kind
    if not isinstance(api_version, str) or not api_version:
        f.error("apiVersion", "required field is missing" if api_version is None else "must be a non-empty string")
        errors.extend(ctx.errors)
        return None
    group, version = split_api_version(api_version)
    spec: KindSpec | None = KINDS.get((group, kind))
    if spec is None:
        md = value.get("metadata")
        name, namespace = (md.get("name"), md.get("namespace")) if isinstance(md, dict) else (None, None)
        ctx.name = name if isinstance(name, str) else ""
        ctx.namespace = namespace if isinstance(namespace, str) else ""
        f.error(None, f"unknown kind {kind} in {api_version}: skipped", severity="warning")
        errors.extend(ctx.errors)
        return None
    if version not in spec.versions:
        f.error("apiVersion", f"unsupported version {api_version!r} for {kind}: use one of "
                + ", ".join(f"{group + '/' if group else ''}{v}" for v in spec.versions))
        errors.extend(ctx.errors)
        return None
    meta = parse_meta(f, kind, spec.namespaced, created)
    obj = spec.parse(f, meta, Source(file, line)) if meta is not None else None
    errors.extend(ctx.errors)
    if meta is None:
        return None
    if ctx.failed:
        bad = tuple(e for e in ctx.errors if e.severity == "error")
        result.rejected.append(Rejected(kind, meta, Source(file, line), value, bad))
        return None
    return obj
