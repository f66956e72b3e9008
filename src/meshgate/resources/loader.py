"""Loading resources from files and directory trees into typed objects.

Files: *.yaml, *.yml and *.json, found recursively; multi-document; `kind: List` unpacked.
A *.json file is parsed by the standard library's C scanner (json_source), its fields' lines
found only for objects that have a problem; anything that scanner does not take is read as YAML.
Each object is validated by its kind's parser; an invalid object is reported and left out,
and everything else still loads. A file larger than, or with more documents than, the input
limits is refused whole with an error naming the limit.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from stat import S_ISREG
from typing import Any

from ..collector import collector_paused
from .errors import InputError
from .fields import Fields, ObjectContext, _type_name
from .json_source import JsonDocument, located, parse_json
from .kinds import KINDS, KindSpec, split_api_version
from .meta import Meta, Source, parse_meta
from .schemas import schemas
from .strict import KnownKind, misspelt_kind, report_unknown_fields
from .yaml_source import (
    Document,
    LDict,
    LList,
    YAMLSyntaxError,
    iter_documents,
    parse_sections,
)

SUFFIXES = (".yaml", ".yml", ".json")
# Kubernetes refuses objects over 1.5 MiB, so a file of a few of them is far below these; the
# limits bound what one file can cost the control plane (a 50 MB file parsed for a minute).
MAX_FILE_BYTES = 8 * 1024 * 1024
MAX_DOCUMENTS = 5_000


@dataclass(frozen=True, slots=True)
class InputLimits:
    """How much one input file may hold; a file over either limit is refused whole."""

    max_file_bytes: int = MAX_FILE_BYTES
    max_documents: int = MAX_DOCUMENTS  # YAML documents, each item of a `kind: List` counting as one


class _TooManyDocuments(Exception):
    def __init__(self, line: int) -> None:
        super().__init__(line)
        self.line = line


@dataclass(slots=True)
class _Budget:
    """Documents a text may still hold; counting stops the parse as soon as it runs out."""

    left: int | None  # None: no limit

    def take(self, line: int) -> None:
        if self.left is None:
            return
        self.left -= 1
        if self.left < 0:
            raise _TooManyDocuments(line)


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


def reached_by_scan(path: str | os.PathLike[str], root: str | os.PathLike[str]) -> bool:
    """Whether `find_files([root])` would read `path` as it is on disk now: `is_resource_file`,
    not a directory, and no symlinked directory on the way below `root` (the scan does not
    follow those, so a file seen through one would be read twice under two names)."""
    if not is_resource_file(path, root):
        return False
    path, root = os.path.abspath(path), os.path.abspath(root)
    if path == root:
        return not os.path.isdir(path)
    if os.path.isdir(path):
        return False
    parent = os.path.dirname(path)
    while parent != root and len(parent) > len(root):
        if os.path.islink(parent):
            return False
        parent = os.path.dirname(parent)
    return True


def scan_key(path: str | os.PathLike[str], roots: Sequence[str | os.PathLike[str]]) -> tuple | None:
    """A sort key giving the order in which `find_files(roots)` reads `path`: the roots in the
    order given; below a directory, its files by name, then its subdirectories by name. None
    when no root holds `path`. Paths are compared as spelled (made absolute, not resolved)."""
    keys = []
    for i, root in enumerate(roots):
        if not is_resource_file(path, root):
            continue
        parts = Path(os.path.relpath(os.path.abspath(path), os.path.abspath(root))).parts
        keys.append((i, (*((1, d) for d in parts[:-1]), (0, parts[-1]))) if parts else (i, ()))
    return min(keys) if keys else None


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
            errors.append(InputError(str(path), 0, _unreadable(path)))
    return files, errors


def _unreadable(path: Path) -> str:
    """Why `path` cannot be read, in the words errors use."""
    try:
        path.stat()
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return "symlink loop"
        if exc.errno == errno.ENOENT:
            return "no such file or directory"
        return f"cannot read: {exc.strerror or exc}"
    return "not a file or directory"


def load_paths(paths: Iterable[str | os.PathLike[str]], created: str | None = None,
               limits: InputLimits = InputLimits()) -> LoadResult:
    """Load every resource under `paths`.

    `created` is the creationTimestamp given to objects that have none; by default each file's
    modification time, so an object keeps its age while its file is unchanged.
    """
    files, errors = find_files(paths)
    result = LoadResult(errors=errors)
    with collector_paused():
        for path in files:
            result.extend(load_file(path, created, limits))
    return result


def load_file(path: Path, created: str | None = None, limits: InputLimits = InputLimits()) -> LoadResult:
    """Load one file; a file over `limits`, or one that cannot be read, gives only an error."""
    name = str(path)
    try:
        stat = path.stat()
        if not S_ISREG(stat.st_mode):  # a FIFO or a device would block the reader, or never end
            return LoadResult(errors=[InputError(name, 0, "not a regular file")])
        raw = b""
        if stat.st_size <= limits.max_file_bytes:
            with open(path, "rb") as f:
                raw = f.read(limits.max_file_bytes + 1)  # one byte more: a file that grew is caught too
    except OSError as exc:
        reason = "symlink loop" if exc.errno == errno.ELOOP else f"cannot read file: {exc.strerror or exc}"
        return LoadResult(errors=[InputError(name, 0, reason)])
    if stat.st_size > limits.max_file_bytes or len(raw) > limits.max_file_bytes:
        return LoadResult(errors=[InputError(
            name, 0, f"file is larger than {limits.max_file_bytes} bytes (--max-file-bytes): not loaded")])
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return LoadResult(errors=[InputError(name, 1, f"not UTF-8 text: {exc.reason} at byte {exc.start}")])
    del raw  # the text is what stays alive while the file parses
    return load_text(text, name, created or rfc3339(stat.st_mtime), limits.max_documents)


def load_text(text: str, file: str, created: str, max_documents: int | None = None) -> LoadResult:
    """Load every object in a YAML/JSON text; `file` names it in errors. A text with more than
    `max_documents` documents (List items included) gives only an error; text already in memory
    has no limit unless one is given (files get InputLimits' through load_file)."""
    with collector_paused():
        try:
            if file.endswith(".json"):
                doc = parse_json(text)
                if doc is not None:
                    return _load_json(doc, text, file, created, max_documents)
            return _load_text(text, file, created, max_documents)
        except _TooManyDocuments as exc:
            return LoadResult(errors=[InputError(
                file, exc.line, f"more than {max_documents} documents (--max-documents): not loaded")])


def _load_text(text: str, file: str, created: str, max_documents: int | None) -> LoadResult:
    result = LoadResult()
    budget = _Budget(max_documents)
    try:
        # Each document is typed as soon as it is parsed, and its tree dropped.
        for doc in iter_documents(text):
            _load_document(doc, file, created, result, budget)
        return result
    except YAMLSyntaxError:
        pass
    # A broken document: start over, part by part, so the good documents around it still load.
    budget = _Budget(max_documents)
    docs, syntax_errors = parse_sections(text)
    result = LoadResult(errors=[InputError(file, exc.line, exc.reason) for exc in syntax_errors])
    for doc in docs:
        _load_document(doc, file, created, result, budget)
    return result


# Kinds whose typed objects keep a line of a field that is shown after loading (a Gateway's
# gatewayClassName, for problems with its class): read with lines even when they load cleanly.
_LINES_KEPT = frozenset({"Gateway"})


def _load_json(doc: JsonDocument, text: str, file: str, created: str, max_documents: int | None) -> LoadResult:
    """Load the objects of a JSON text read by the fast path (json_source).

    Each object is validated from its plain value; one that has any problem, or whose kind keeps
    field lines, is read again with lines and validated again, so its errors name the line of
    the field at fault exactly as the YAML reader's would.
    """
    result = LoadResult()
    budget = _Budget(max_documents)
    if not doc.listed:
        budget.take(doc.objects[0].line)
    for obj in doc.objects:
        if doc.listed:
            budget.take(obj.line)
        found = LoadResult()
        typed = parse_object(obj.value, file, obj.line, created, found)
        if found.errors or found.rejected or obj.value.get("kind") in _LINES_KEPT:
            lined = located(text, obj)
            if lined is not None:
                found = LoadResult()
                typed = parse_object(lined, file, obj.line, created, found)
        if typed is not None:
            found.objects.append(typed)
        result.extend(found)
    return result


def _load_document(doc: Document, file: str, created: str, result: LoadResult, budget: _Budget) -> None:
    for value, line in _unpack(doc, file, result.errors, budget):
        obj = parse_object(value, file, line, created, result)
        if obj is not None:
            result.objects.append(obj)


def _unpack(doc: Document, file: str, errors: list[InputError], budget: _Budget) -> Iterator[tuple[dict, int]]:
    value = doc.value
    listed = isinstance(value, dict) and (value.get("kind") == "List" or (
        isinstance(value.get("kind"), str) and value["kind"].endswith("List") and "items" in value))
    if not listed:
        budget.take(doc.line)  # a List counts as the items it holds
    if value is None:
        return  # an empty document
    if not isinstance(value, dict):
        errors.append(InputError(file, doc.line, f"document must be a mapping (a Kubernetes object), got {_type_name(value)}"))
        return
    if listed:
        items = value.get("items")
        if items is None:
            return
        if not isinstance(items, list):
            line = value.key_lines.get("items", doc.line) if isinstance(value, LDict) else doc.line
            errors.append(InputError(file, line, "items must be a list", "items", "List"))
            return
        for i, item in enumerate(items):
            line = items.item_lines[i] if isinstance(items, LList) else doc.line
            budget.take(line)
            if not isinstance(item, dict):
                errors.append(InputError(file, line, "must be a mapping (a Kubernetes object)", f"items[{i}]", "List"))
                continue
            yield item, line
        return
    yield value, getattr(value, "line", doc.line)


# The kinds meshgate reads, for suggestions: each at its first (preferred) version.
_KNOWN_KINDS = [KnownKind(s.group, s.kind, s.versions[0]) for s in KINDS.values()]


def parse_object(value: dict, file: str, line: int, created: str, result: LoadResult,
                 source: Source | None = None) -> Any:
    """Validate and type one object; None (with errors recorded) when it is unusable or skipped.

    `source` is its origin when it is not `file:line` (an object read from the API server).
    """
    errors = result.errors
    source = source or Source(file, line)
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
        meant = misspelt_kind(group, kind, _KNOWN_KINDS, schemas().all_kinds)
        if meant is None:
            f.error(None, f"unknown kind {kind} in {api_version}: skipped", severity="warning")
        else:  # an error: the file keeps its last good objects, the one this document defined included
            f.error("kind", f"unknown kind {kind} in {api_version}: did you mean {meant}?")
        errors.extend(ctx.errors)
        return None
    if version not in spec.versions:
        f.error("apiVersion", f"unsupported version {api_version!r} for {kind}: use one of "
                + ", ".join(f"{group + '/' if group else ''}{v}" for v in spec.versions))
        errors.extend(ctx.errors)
        return None
    meta = parse_meta(f, kind, spec.namespaced, created)
    obj = spec.parse(f, meta, source) if meta is not None else None
    schema = schemas().kind(group, version, kind)
    if schema is not None:
        report_unknown_fields(value, schema, schemas(), ctx, line)
    errors.extend(ctx.errors)
    if meta is None:
        return None
    if ctx.failed:
        bad = tuple(e for e in ctx.errors if e.severity == "error")
        result.rejected.append(Rejected(kind, meta, source, value, bad))
        return None
    return obj


def parse_api_object(value: dict, result: LoadResult) -> Any:
    """Validate and type one object read from the API server, its origin the resourceVersion it
    was read at (errors name it so: the API server has no file and line); None when unusable."""
    md = value.get("metadata")
    rv = md.get("resourceVersion") if isinstance(md, dict) else None
    source = Source.api(rv if isinstance(rv, str) and rv else "unknown")
    return parse_object(value, str(source), 0, "", result, source)
