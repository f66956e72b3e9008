"""`python -m tests.kubeapi --port P --kubeconfig OUT [--state FILE] [--tls] [--token T]`: the
emulator standalone on 127.0.0.1 until SIGINT or SIGTERM, with a kubeconfig for it written to OUT
once it listens (the line `serving URL` on stdout says the same)."""

from __future__ import annotations

import argparse
import asyncio
import secrets
import signal
import sys
from pathlib import Path

from .kubeconfig import self_signed, server_ssl_context, write_kubeconfig
from .server import Emulator


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(prog="python -m tests.kubeapi", description=__doc__)
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (0: a free one)")
    parser.add_argument("--kubeconfig", type=Path, required=True, help="where to write the kubeconfig")
    parser.add_argument("--state", type=Path, help="state file: objects and resourceVersions survive restarts")
    parser.add_argument("--tls", action="store_true", help="serve HTTPS with a generated self-signed certificate")
    parser.add_argument("--token", help="bearer token clients must send (default: a random one)")
    parser.add_argument("--no-auth", action="store_true", help="accept requests without a token")
    parser.add_argument("--history", type=int, default=1000, help="watch events kept for resuming")
    parser.add_argument("--bookmark-interval", type=float, default=5.0, help="seconds between idle bookmarks")
    parser.add_argument("--service-cidr", default="127.96.0.0/16",
                        help="where Services' ClusterIPs come from (emulators run side by side need their own)")
    return parser.parse_args(argv)


async def serve(args: argparse.Namespace) -> None:
    """Run until a signal, then stop (saving the state)."""
    token = None if args.no_auth else (args.token or secrets.token_urlsafe(24))
    context, ca = None, None
    if args.tls:
        cert, key = self_signed(args.kubeconfig.parent / f"{args.kubeconfig.name}.tls")
        context, ca = server_ssl_context(cert, key), cert.read_bytes()
    emulator = Emulator(port=args.port, state_file=args.state, token=token, ssl_context=context,
                        history_limit=args.history, bookmark_interval=args.bookmark_interval,
                        service_cidr=args.service_cidr)
    await emulator.start()
    write_kubeconfig(args.kubeconfig, emulator.url, token, ca)
    print(f"serving {emulator.url}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        await emulator.stop()


def main(argv: list[str] | None = None) -> int:
    """Entry point."""
    asyncio.run(serve(parse_args(argv)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
