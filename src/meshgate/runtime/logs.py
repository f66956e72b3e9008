"""Logging for `meshgate run` and `meshgate serve`: one handler on stderr, text or JSON lines.

Libraries that speak for every event are kept quiet: watchfiles' "N changes detected" (meshgate
says what each reload changed instead) and aiohttp's access log (a scrape every few seconds).
Echo backends log each request on `meshgate.echo` at DEBUG: seen only with --log-level debug.
"""

from __future__ import annotations

import logging
import sys
from typing import TextIO

from pythonjsonlogger.json import JsonFormatter

LEVELS = ("debug", "info", "warning", "error")
FORMATS = ("text", "json")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# Loggers that repeat what meshgate already reports, or report every request.
QUIET = ("watchfiles", "aiohttp.access")


def formatter(fmt: str) -> logging.Formatter:
    """The formatter of a --log-format: plain lines, or one JSON object per line (time, level,
    logger, message, plus the structured fields a record carries, such as `input_error`)."""
    if fmt == "json":
        return JsonFormatter("{asctime}{levelname}{name}{message}", style="{",
                             rename_fields={"asctime": "time", "levelname": "level", "name": "logger"})
    if fmt == "text":
        return logging.Formatter(TEXT_FORMAT)
    raise ValueError(f"log format {fmt!r} is not one of {', '.join(FORMATS)}")


def setup_logging(level: str = "info", fmt: str = "text", stream: TextIO | None = None) -> None:
    """Send every log record at `level` or above to `stream` (stderr) in format `fmt`.

    Replaces the root logger's handlers: called once, by the command line, before anything runs.
    """
    if level not in LEVELS:
        raise ValueError(f"log level {level!r} is not one of {', '.join(LEVELS)}")
    handler = logging.StreamHandler(stream if stream is not None else sys.stderr)
    handler.setFormatter(formatter(fmt))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    for name in QUIET:
        logging.getLogger(name).setLevel(logging.WARNING)
