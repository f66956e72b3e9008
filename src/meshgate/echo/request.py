"""One parsed request, and the two ways handling it can end early (a rejection Go would answer
with 400, a connection to drop)."""

from __future__ import annotations


class _Reject(Exception):
    """A request answered with one of Go's fixed error responses, then the connection closes."""

    def __init__(self, code: int = 400, detail: str = "", body: str | None = None) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail
        self.body = body


class _Gone(Exception):
    """The peer went away (or the server is stopping): close without answering."""


class _Request:
    __slots__ = (
        "authority_form",
        "chunked",
        "close",
        "continue_",
        "headers",
        "host",
        "keep_alive_10",
        "length",
        "method",
        "minor",
        "path",
        "proto",
        "query",
        "target",
    )
    # Set from the request line as soon as it is read, before anything else looks at the request.
    method: str
    target: str
    proto: str
    minor: int  # HTTP/1.x

    def __init__(self) -> None:
        self.headers: dict[str, list[str]] = {}
        self.host = ""
        self.path = ""
        self.query = ""
        self.authority_form = False
        self.chunked = False
        self.length = 0
        self.close = False
        self.keep_alive_10 = False
        self.continue_ = False
