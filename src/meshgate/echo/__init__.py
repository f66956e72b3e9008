"""The Gateway API conformance echo backend ("echo-basic" behaviour), ARCHITECTURE §6.

A plain HTTP/1.1 server that answers like the upstream conformance backend
(kubernetes-sigs/gateway-api, ``conformance/echo-basic``): every request is
answered with a JSON description of itself, which is what the conformance
tests assert on.

Behaviour of the upstream HTTP port reproduced here:

* ``/health`` answers ``200 OK`` (text); ``/status/NNN`` answers status NNN
  with an empty body (400 when the request target is not exactly
  ``/status/`` and three digits); every other path is echoed.
* Path routing follows Go's ``net/http`` ServeMux as upstream uses it: a
  doubled ``//`` counts as ``/``, paths with ``.``/``..`` segments are
  redirected (301) to their cleaned form, ``/status`` redirects to
  ``/status/``, ``OPTIONS *`` gets an empty 200.
* The echo is ``200`` with ``Content-Type: application/json`` and
  ``X-Content-Type-Options: nosniff``; its body is indented JSON with
  ``path`` (the request target as received, query included), ``host`` (the
  Host header as received, port included), ``method``, ``proto``,
  ``headers`` (canonical header name -> list of values, without Host),
  ``namespace``, ``ingress``, ``service``, ``pod`` and ``sni`` (the last
  three are always empty here; ``tls`` appears only on TLS ports, which this
  server does not have).
* ``X-Echo-Set-Header: Name:value, Other:value`` sets response headers.
* ``/retry/...?uuid=U&succeedAfter=N[&responseCode=C][&delayRetry=D]`` is
  upstream's flaky backend for the retry tests: the first N requests with
  uuid U fail (after waiting D, when given), with status C or, without
  ``responseCode``, by resetting the connection (TCP RST, no response); later
  ones are echoed.  The count is kept per server (per Pod), for the last
  :data:`MAX_RETRY_SESSIONS` uuids; :meth:`EchoServer.retry_attempts` reads it.
  Unlike upstream, a delayed failure does not hold up other uuids' requests.
* ``?delay=<Go duration>`` (``500ms``, ``1.5s``) waits that long before
  answering, at most :data:`MAX_DELAY` seconds; an unparsable duration is
  answered with ``500`` and ``{"message": "<Go's error text>"}``.
* One log line per echoed request, ``Echoing back request made to <target>
  to client (<addr>)``, which the conformance mirror checks look for.
  ``meshgate echo`` writes it to stderr (upstream writes it to stdout; in a pod
  both end up in the container log).  An :class:`EchoServer` inside another
  program (``meshgate run --echo``, tests) logs it on the ``meshgate.echo``
  logger at DEBUG, so that backends stay out of that program's own output,
  unless given another ``log``.

Malformed requests get the terse answers Go's server gives (``400 Bad
Request`` with ``Connection: close``) and the server keeps serving others.
The request body is read and discarded before answering, so connections
stay reusable.

Beyond plain HTTP, as echo-basic (one module each): ``/ws`` is a WebSocket
echoing every message (websocket.py); an optional h2c port answers HTTP/2
with prior knowledge, ``proto`` ``HTTP/2.0`` (h2c.py); an optional TLS port
serves the same over TLS (h2 or http/1.1 by ALPN) and adds ``tls``
(``version``, ``peerCertificates``, ``serverName``, ``negotiatedProtocol``,
``cipherSuite``) and ``sni`` to the answer (tls.py, answer.py). The other
modes of echo-basic are servers of their own, picked by modes.py for
``meshgate echo --mode``: the gRPC GrpcEcho service (grpc_echo.py), the
line-based TCP echo (tcp.py), the UDP echo (udp.py), and a DNS answerer
standing in for the conformance manifests' coredns (dns.py).
"""

from __future__ import annotations

from .go import MAX_DELAY, MAX_RETRY_SESSIONS, _parse_go_duration
from .server import EchoServer, serve_forever, to_stderr

__all__ = ["MAX_DELAY", "MAX_RETRY_SESSIONS", "EchoServer", "_parse_go_duration", "serve_forever", "to_stderr"]
