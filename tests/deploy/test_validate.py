"""Every object `meshgate manifests` renders validates against the Kubernetes schemas
(kubernetes-validate's strict schemas, shipped in its wheel: no network), at the oldest and the
newest Kubernetes minor the manifests are meant for; the GatewayClasses, a CRD kind those schemas
do not hold, through meshgate's strict loader (the Gateway API CRD's structural schema)."""

from __future__ import annotations

import socket

import kubernetes_validate
import pytest
import yaml

from meshgate.deploy.render import manifests
from meshgate.deploy.settings import ManifestOptions
from meshgate.resources.gateway_api import GatewayClass
from meshgate.resources.loader import load_text

# 1.31: the oldest minor still supported upstream when the manifests were written; 1.36: the newest
# meshgate's own schemas are taken from (resources/schemas/README.md).
VERSIONS = ("1.31.0", "1.36.0")
OPTIONS = [ManifestOptions(), ManifestOptions(namespace="mesh", replicas=1, image="registry.example:5000/mg@sha256:"
                                              + "ab" * 32, rate_limit_redis_secret="meshgate-redis")]


@pytest.fixture
def offline(monkeypatch: pytest.MonkeyPatch) -> None:
    """No connection may be opened: the schemas must come from the wheel."""
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("a network connection was attempted")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


@pytest.mark.usefixtures("offline")
@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("options", OPTIONS, ids=["defaults", "options"])
def test_every_builtin_kind_validates_strictly(version: str, options: ManifestOptions) -> None:
    checked = []
    for obj in manifests(options):
        if obj["kind"] == "GatewayClass":
            continue
        kubernetes_validate.validate(obj, version, strict=True)
        checked.append(obj["kind"])
    assert "Deployment" in checked and "ClusterRole" in checked


@pytest.mark.usefixtures("offline")
def test_the_strict_validation_is_real() -> None:
    deployment = next(o for o in manifests(ManifestOptions()) if o["kind"] == "Deployment")
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    container["securityContext"]["runAsNonRot"] = True  # a typo an operator could make
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, VERSIONS[0], strict=True)
    container["securityContext"].pop("runAsNonRot")
    deployment["spec"]["replicas"] = "2"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, VERSIONS[0], strict=True)


def test_gateway_classes_load_through_the_strict_loader() -> None:
    classes = [o for o in manifests(ManifestOptions()) if o["kind"] == "GatewayClass"]
    result = load_text(yaml.safe_dump_all(classes), "manifests.yaml", "2026-01-01T00:00:00Z")
    assert result.errors == []
    assert [type(o) for o in result.objects] == [GatewayClass] * len(classes)
    assert all(len(o["spec"]["description"]) <= 64 for o in classes)  # the CRD's maxLength
