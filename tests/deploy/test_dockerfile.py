"""The Dockerfile's invariants (no Docker on these machines, so it is read, not built): installed
from requirements.lock with hashes and nothing resolved, run as the non-root uid the Deployment
names, `meshgate` as the entrypoint; .dockerignore lets in what it copies and nothing else."""

from __future__ import annotations

import fnmatch
import json
from pathlib import Path

import pytest

from meshgate.deploy.deployment import UID

ROOT = Path(__file__).resolve().parents[2]


def instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of a Dockerfile: continuation lines joined, comments dropped."""
    out: list[tuple[str, str]] = []
    pending = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        line = pending + line
        pending = ""
        word, _, rest = line.partition(" ")
        out.append((word.upper(), " ".join(rest.split())))
    assert not pending, "a continuation at the end of the file"
    return out


def stages(parsed: list[tuple[str, str]]) -> list[list[tuple[str, str]]]:
    """The instructions of each build stage (each starting at its FROM)."""
    out: list[list[tuple[str, str]]] = []
    for ins in parsed:
        if ins[0] == "FROM":
            out.append([])
        out[-1].append(ins)
    return out


@pytest.fixture(scope="module")
def parsed() -> list[tuple[str, str]]:
    return instructions((ROOT / "Dockerfile").read_text())


def test_the_parser_joins_continuations_and_drops_comments() -> None:
    assert instructions("# c\nFROM a\nRUN x \\\n && y\n\nUSER 1\n") == [("FROM", "a"), ("RUN", "x && y"), ("USER", "1")]


def test_every_stage_is_python_3_11_slim(parsed: list[tuple[str, str]]) -> None:
    bases = [args.split()[0] for word, args in parsed if word == "FROM"]
    assert bases and all(b == "python:3.11-slim" for b in bases)


def test_dependencies_come_from_the_lock_with_hashes_and_nothing_else_is_resolved(
        parsed: list[tuple[str, str]]) -> None:
    runs = [args for word, args in parsed if word == "RUN"]
    installs = [cmd.strip() for run in runs for cmd in run.split("&&") if "pip install" in cmd]
    assert any("--require-hashes" in c and "--no-deps" in c and "-r requirements.lock" in c for c in installs)
    # Every install is either the lock (hash-checked) or meshgate itself without its dependencies
    # and without an isolated build environment (which would download setuptools).
    for cmd in installs:
        assert "--no-deps" in cmd, cmd
        assert "-r requirements.lock" in cmd or ("--no-build-isolation" in cmd and cmd.endswith(" .")), cmd
    assert ("COPY", "requirements.lock ./") in parsed
    for word, args in parsed:
        assert not (word == "ADD" and "://" in args), "no downloads into the image"
        assert not any(tool in args for tool in ("curl ", "wget ", "apt-get install")), args


def test_the_image_runs_meshgate_as_the_non_root_uid_the_deployment_names(parsed: list[tuple[str, str]]) -> None:
    final = stages(parsed)[-1]
    users = [args for word, args in final if word == "USER"]
    assert users, "the final stage sets a user"
    uid, _, gid = users[-1].partition(":")
    assert uid.isdigit() and int(uid) != 0 and int(uid) == UID  # numeric: runAsNonRoot can check it
    assert gid.isdigit() and int(gid) != 0
    last_user = max(i for i, (word, _) in enumerate(final) if word == "USER")
    assert all(word != "RUN" for word, _ in final[last_user:]), "nothing runs as root after USER"
    (entrypoint,) = [json.loads(args) for word, args in final if word == "ENTRYPOINT"]
    assert entrypoint == ["meshgate"]  # exec form: signals reach meshgate, not a shell


def _ignored(path: str, patterns: list[str]) -> bool:
    """Whether Docker's context leaves `path` out (last matching pattern wins; ! re-includes)."""
    ignored = False
    for pattern in patterns:
        negate = pattern.startswith("!")
        pat = pattern[1:] if negate else pattern
        pat = pat.rstrip("/")
        if fnmatch.fnmatch(path, pat) or fnmatch.fnmatch(path, pat.replace("**/", "*/")) or \
                path.startswith(pat + "/"):
            ignored = not negate
    return ignored


def test_dockerignore_admits_what_is_copied_and_keeps_the_rest_out(parsed: list[tuple[str, str]]) -> None:
    patterns = [line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()
                if line.strip() and not line.startswith("#")]
    copied = [src for word, args in parsed if word == "COPY" and not args.startswith("--from")
              for src in args.split()[:-1]]
    assert copied
    for src in copied:
        assert not _ignored(src.rstrip("/"), patterns), src
    assert not _ignored("src/meshgate/cli/__init__.py", patterns)
    for kept_out in (".venv/bin/python", ".git/HEAD", "tests/conftest.py", "bench/translate.py",
                     "src/meshgate/__pycache__/cli.cpython-311.pyc"):
        assert _ignored(kept_out, patterns), kept_out
