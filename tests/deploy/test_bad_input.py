"""`meshgate manifests` refuses what would render objects the API server (or a kubelet) refuses:
one clear line naming the option, exit 2, nothing on stdout."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from meshgate.cli import main
from meshgate.deploy.settings import ManifestOptions


@pytest.mark.parametrize("args, message", [
    (["--replicas", "0"], "Invalid value for '--replicas': 0 is not in the range x>=1."),
    (["--replicas", "-3"], "Invalid value for '--replicas': -3 is not in the range x>=1."),
    (["--replicas", "two"], "Invalid value for '--replicas': 'two' is not a valid integer range."),
    (["--replicas", "1.5"], "Invalid value for '--replicas': '1.5' is not a valid integer range."),
    (["--namespace", "Mesh_Gate"], ("Invalid value for '-n' / '--namespace': 'Mesh_Gate' must consist of lower "
                                    "case alphanumeric characters or '-'")),
    (["--namespace", "-mesh"], "Invalid value for '-n' / '--namespace': '-mesh' must consist of"),
    (["--namespace", "mesh.gate"], "Invalid value for '-n' / '--namespace': 'mesh.gate' must consist of"),
    (["-n", "a" * 64], "must be no more than 63 characters"),
    (["--namespace", ""], "Invalid value for '-n' / '--namespace': '' must consist of"),
    (["--image", "Meshgate:1.0"], "Invalid value for '--image': 'Meshgate:1.0' is not an image reference"),
    (["--image", "meshgate:"], "Invalid value for '--image': 'meshgate:' is not an image reference"),
    (["--image", "ghcr.io/meshgate/meshgate:1.0 --debug"], "is not an image reference"),
    (["--image", "meshgate@sha256:abc"], "is not an image reference"),
    (["--image", "a/" * 130 + "b"], "has a repository name longer than 255 characters"),
    (["--rate-limit-redis-secret", "Redis_URL"], "Invalid value for '--rate-limit-redis-secret': 'Redis_URL'"),
    (["-o", "toml"], "Invalid value for '-o' / '--output': 'toml' is not one of 'yaml', 'json'."),
])
def test_bad_options_are_refused_with_one_clear_line(args: list[str], message: str) -> None:
    result = CliRunner().invoke(main, ["manifests", *args])
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert "apiVersion" not in result.output


@pytest.mark.parametrize("image", ["meshgate", "ghcr.io/meshgate/meshgate:0.1.0", "localhost:5000/mg:dev",
                                   "registry.example.com/team/sub/mg:v1.2.3-rc.1",
                                   "mg@sha256:" + "0f" * 32, "ghcr.io/meshgate/meshgate:0.1.0@sha256:" + "0f" * 32])
def test_good_image_references_are_taken(image: str) -> None:
    result = CliRunner().invoke(main, ["manifests", "--image", image])
    assert result.exit_code == 0, result.output
    assert f"image: {image}" in result.output


@pytest.mark.parametrize("kwargs", [{"replicas": 0}, {"replicas": True}, {"namespace": "A"}, {"image": "x y"},
                                    {"rate_limit_redis_secret": "-x"}])
def test_the_renderer_checks_its_options_too(kwargs: dict) -> None:
    with pytest.raises(ValueError):
        ManifestOptions(**kwargs)
