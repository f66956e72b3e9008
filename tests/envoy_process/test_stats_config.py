"""The bootstrap's stats settings (envoy/stats.py): route statistics are kept (`vhost.`), and the
tags are listed explicitly (Envoy's default names, meshgate's regexes for the virtual host and
the route) whether or not the inclusion list is in force; Envoy accepts both."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from google.protobuf.json_format import MessageToJson

from meshgate.envoy.bootstrap import ads_bootstrap
from meshgate.envoy.stats import (
    DEFAULT_PREFIXES,
    ROUTE_TAG_REGEX,
    STATS_ANNOTATION,
    VIRTUAL_HOST_TAG_REGEX,
    inclusion_prefixes,
    stats_config,
)

from .test_bootstrap import envoy_validate

NAME = "vhost.http/shop.example.com.route.httproute/default/web.upstream_rq_200"


def test_route_statistics_are_kept_by_default() -> None:
    assert "vhost." in DEFAULT_PREFIXES
    assert "vhost." in (inclusion_prefixes({STATS_ANNOTATION: "cluster.outbound|"}) or ())


@pytest.mark.parametrize("prefixes", [DEFAULT_PREFIXES, None], ids=["inclusion-list", "all"])
def test_tags_are_explicit_whatever_is_included(prefixes: tuple[str, ...] | None) -> None:
    config = stats_config(prefixes)
    assert config.HasField("use_all_default_tags") and not config.use_all_default_tags.value
    tags = {t.tag_name: t.regex for t in config.stats_tags}
    assert tags["envoy.virtual_host"] == VIRTUAL_HOST_TAG_REGEX
    assert tags["envoy.route"] == ROUTE_TAG_REGEX
    assert tags["envoy.cluster_name"] == "" and tags["envoy.response_code"] == ""  # Envoy's own regex
    assert len(tags) == len(config.stats_tags)
    assert config.HasField("stats_matcher") == (prefixes is not None)


def test_the_regexes_take_the_whole_virtual_host_and_route() -> None:
    # Envoy removes the first group from the name and takes the second as the tag's value.
    vh = re.match(VIRTUAL_HOST_TAG_REGEX, NAME)
    route = re.match(ROUTE_TAG_REGEX, NAME)
    assert vh is not None and route is not None
    assert (vh.group(1), vh.group(2)) == ("http/shop.example.com.", "http/shop.example.com")
    assert (route.group(1), route.group(2)) == ("httproute/default/web.", "httproute/default/web")
    rest = NAME.replace(vh.group(1), "", 1).replace(route.group(1), "", 1)
    assert rest == "vhost.route.upstream_rq_200"
    assert re.match(VIRTUAL_HOST_TAG_REGEX, "vhost.http/a.vcluster.other.upstream_rq_200") is None


@pytest.mark.envoy
@pytest.mark.parametrize("prefixes", [DEFAULT_PREFIXES, None], ids=["inclusion-list", "all"])
def test_envoy_accepts_the_stats_config(prefixes: tuple[str, ...] | None, tmp_path: Path) -> None:
    path = tmp_path / "bootstrap.json"
    path.write_text(MessageToJson(ads_bootstrap("infra/edge", "127.0.0.1", 15010, stats_prefixes=prefixes)))
    proc = envoy_validate(path)
    assert proc.returncode == 0, f"Envoy rejected the bootstrap:\n{proc.stdout}\n{proc.stderr}"


@pytest.mark.envoy
def test_envoy_refuses_an_unknown_default_tag_name(tmp_path: Path) -> None:
    # Why the list is Envoy's exact names: a name without a regex must be one of its defaults.
    boot = ads_bootstrap("infra/edge", "127.0.0.1", 15010)
    boot.stats_config.stats_tags.add(tag_name="envoy.no_such_tag")
    path = tmp_path / "bootstrap.json"
    path.write_text(MessageToJson(boot))
    assert envoy_validate(path).returncode != 0
