"""`meshgate explain waypoints`: every Service and ServiceEntry, its waypoint and why."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from meshgate.cli import main

CASE = Path(__file__).resolve().parents[1] / "golden" / "cases" / "waypoint-capture" / "input.yaml"


def rows(*flags: str, env: dict[str, str] | None = None) -> dict[str, dict]:
    result = CliRunner(env=env).invoke(main, ["explain", "waypoints", str(CASE), "-o", "json", *flags])
    assert result.exit_code == 0, result.output
    return {f"{r['namespace']}/{r['name']}": r for r in json.loads(result.stdout)}


def test_each_object_its_waypoint_and_why() -> None:
    r = rows()
    assert (r["shop/cart"]["waypoint"], r["shop/cart"]["source"]) == ("shop/wp", "namespace label")
    assert r["pay/payments"]["waypoint"] == "mesh/shared" and r["pay/payments"]["source"] == "object label"
    assert r["shop/legacy"]["waypoint"] == "" and "opted out" in r["shop/legacy"]["reason"]
    assert r["shop/batch"]["waypoint"] == "" and "workload" in r["shop/batch"]["reason"]
    assert r["shop/db"]["waypoint"] == "" and "headless" in r["shop/db"]["reason"].lower()
    assert r["shop/inventory"]["kind"] == "ServiceEntry" and r["shop/inventory"]["waypoint"] == "shop/wp"
    assert r["shop/reviews"]["ingressUseWaypoint"] is False  # its own label says false


def test_global_switch_from_flag_and_environment() -> None:
    assert rows()["pay/payments"]["ingressUseWaypoint"] is True
    assert rows("--no-ingress-use-waypoints")["pay/payments"]["ingressUseWaypoint"] is False
    assert rows(env={"INGRESS_USE_WAYPOINTS": "false"})["pay/payments"]["ingressUseWaypoint"] is False
    # With the switch off, a namespace label of true is inert (as Istio's and kgateway's switches).
    assert rows()["shop/cart"]["ingressUseWaypoint"] is True
    off = rows("--no-ingress-use-waypoints")["shop/cart"]
    assert (off["ingressUseWaypoint"], off["ingressReason"]) == (
        False, "global switch off (INGRESS_USE_WAYPOINTS): ingress-use-waypoint labels are inert")


def test_bad_switch_value_is_a_usage_error() -> None:
    result = CliRunner(env={"INGRESS_USE_WAYPOINTS": "maybe"}).invoke(main, ["explain", "waypoints", str(CASE)])
    assert result.exit_code == 2 and "INGRESS_USE_WAYPOINTS" in result.output
