"""A stand-in for the envoy binary: serves `/ready` LIVE on the admin port of its bootstrap.

Behaviour from the environment: FAKE_ENVOY_IGNORE_TERM=1 ignores SIGTERM; FAKE_ENVOY_LIFETIME=S
exits with status 1 after S seconds.
"""

from __future__ import annotations

import http.server
import json
import os
import signal
import sys
import threading


def main(argv: list[str]) -> int:
    config = argv[argv.index("-c") + 1]
    admin_path = argv[argv.index("--admin-address-path") + 1] if "--admin-address-path" in argv else None
    with open(config) as f:
        admin = json.load(f)["admin"]["address"]["socket_address"]

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            body = b"LIVE\n" if self.path == "/ready" else b"fake\n"
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer((admin["address"], int(admin.get("port_value", 0))), Handler)
    if admin_path:
        with open(admin_path + ".tmp", "w") as f:
            f.write(f"{admin['address']}:{server.server_address[1]}")
        os.replace(admin_path + ".tmp", admin_path)
    if os.environ.get("FAKE_ENVOY_IGNORE_TERM"):
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
    else:
        signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    lifetime = os.environ.get("FAKE_ENVOY_LIFETIME")
    if lifetime:
        threading.Timer(float(lifetime), lambda: os._exit(1)).start()
    print("fake envoy up", flush=True)
    server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
