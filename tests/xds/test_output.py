"""Envoy resources printed for the CLI and golden files (xds/output.py)."""

from __future__ import annotations

from envoy.config.route.v3 import route_components_pb2 as rc
from google.protobuf import duration_pb2

from meshgate.xds.output import message_dict


def test_per_filter_configs_print_in_name_order() -> None:
    # A proto map iterates in hash order, which varies between processes: a route with a fault and
    # a local rate limit printed them either way round, so its golden file failed some runs.
    route = rc.Route(name="r")
    names = [f"envoy.filters.http.f{i}" for i in (7, 3, 9, 1, 5, 8, 2, 6, 4)]
    for i, name in enumerate(names):
        route.typed_per_filter_config[name].Pack(duration_pb2.Duration(seconds=i))
    out = message_dict(route)
    assert list(out["typed_per_filter_config"]) == sorted(names)
    # The configs themselves keep their own field order.
    assert out["typed_per_filter_config"][names[0]] == {"@type": "type.googleapis.com/google.protobuf.Duration",
                                                        "value": "0s"}
