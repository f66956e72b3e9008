"""Make-before-break under route edits: failed requests while routes move between Services and
routes are added to Services already in use, through meshgate and a real Envoy (issue 13, §4).

For each protocol (Delta, State of the World): meshgate runs in process with one managed Envoy
and echo backends on a free 127.A.B.0/24 (tests/e2e/harness.py's Scenario); requests go out at
--rate per second for --seconds while routes.yaml is rewritten every --interval seconds
(tests/e2e/churn.py says what each edit does); with --edits backends, the routes stay and
the Services' EndpointSlices are rewritten instead (an endpoint added or removed, an endpoint
replaced). Reported per protocol: failed requests /
requests over N edits, and Envoy's initial-fetch timeouts (a cluster left warming because its
ClusterLoadAssignment was not sent again after a Cluster update).

    .venv/bin/python bench/make_before_break.py [--seconds 60] [--rate 200] [--interval 2]
        [--protocols delta,sotw] [--edits routes|backends] [--json]

Exit status 1 when any request failed or any initial fetch timed out.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import logging
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.e2e.churn import EDITS, Result, churn, prepare
from tests.e2e.harness import Scenario


async def one(protocol: str, seconds: float, rate: float, interval: float, edits: str = "routes") -> Result:
    with tempfile.TemporaryDirectory(prefix="meshgate-mbb-") as tmp:
        sc = Scenario(Path(tmp), delta=protocol == "delta")
        try:
            prepare(sc)
            await sc.start()
            return await churn(sc, seconds, rate, interval, edits_of=edits)
        finally:
            await sc.stop()


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seconds", type=float, default=60.0)
    p.add_argument("--rate", type=float, default=200.0, help="requests per second")
    p.add_argument("--interval", type=float, default=2.0, help="seconds between edits")
    p.add_argument("--protocols", default="delta,sotw")
    p.add_argument("--edits", choices=EDITS, default="routes", help="what is edited every --interval")
    p.add_argument("--json", action="store_true", help="also print each result as JSON")
    args = p.parse_args()
    logging.basicConfig(level=logging.WARNING)
    bad = False
    for protocol in args.protocols.split(","):
        result = asyncio.run(one(protocol, args.seconds, args.rate, args.interval, args.edits))
        print(result.line(), flush=True)
        if result.failed:
            print(f"  failures by path and status: {result.statuses}; first: {result.samples[:5]}", flush=True)
        if args.json:
            print(json.dumps(dataclasses.asdict(result)), flush=True)
        bad = bad or bool(result.failed or result.init_fetch_timeouts)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
