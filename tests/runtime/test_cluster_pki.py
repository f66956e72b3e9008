"""Proxies' xDS client certificates in a cluster: kept while valid, reissued when not."""

from __future__ import annotations

import base64
import datetime

from cryptography import x509

from meshgate.cluster.render import GatewayOwner
from meshgate.runtime.cluster_pki import ClusterPKI
from meshgate.runtime.pki import issue_gateway, new_authority
from meshgate.xds.tls import gateway_spiffe_id

OWNER = GatewayOwner("shop", "gw", "uid-1", "meshgate")


def _uris(secret: dict) -> list[str]:
    cert = x509.load_pem_x509_certificate(base64.b64decode(secret["data"]["tls.crt"]))
    return cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value.get_values_for_type(
        x509.UniformResourceIdentifier)


def test_a_valid_certificate_is_kept_byte_for_byte() -> None:
    pki = ClusterPKI(new_authority())
    first = pki.gateway_secret(OWNER, "gw-meshgate-xds", None)
    assert _uris(first) == [gateway_spiffe_id("shop/gw")]
    again = pki.gateway_secret(OWNER, "gw-meshgate-xds", first)
    assert again["data"] == first["data"]  # no rewrite, no restart


def test_a_certificate_of_another_ca_or_gateway_or_near_expiry_is_reissued() -> None:
    pki = ClusterPKI(new_authority())
    other_ca = ClusterPKI(new_authority()).gateway_secret(OWNER, "s", None)
    assert pki.gateway_secret(OWNER, "s", other_ca)["data"] != other_ca["data"]
    other_gateway = pki.gateway_secret(GatewayOwner("shop", "other", "u", "meshgate"), "s", None)
    reissued = pki.gateway_secret(OWNER, "s", other_gateway)
    assert _uris(reissued) == [gateway_spiffe_id("shop/gw")]
    issued = issue_gateway(pki.authority, "shop/gw", days=90)
    current = {"data": {"tls.crt": base64.b64encode(issued.certificate).decode(),
                        "tls.key": base64.b64encode(issued.private_key).decode(),
                        "ca.crt": base64.b64encode(pki.authority.certificate_pem).decode()}}
    cert = x509.load_pem_x509_certificate(issued.certificate)
    at_two_thirds = cert.not_valid_before_utc + datetime.timedelta(days=59)
    assert pki.gateway_secret(OWNER, "s", current, now=at_two_thirds)["data"] == current["data"]
    past_two_thirds = cert.not_valid_before_utc + datetime.timedelta(days=61)
    assert pki.gateway_secret(OWNER, "s", current, now=past_two_thirds)["data"] != current["data"]
    assert pki.gateway_secret(OWNER, "s", {"data": {"tls.crt": "garbage"}})["data"]["tls.crt"] != "garbage"


def test_the_server_certificate_names_where_proxies_reach_meshgate() -> None:
    pki = ClusterPKI(new_authority())
    tls = pki.server_tls(["meshgate.meshgate-system.svc", "127.0.0.1"])
    (key, chain), = tls.key_pairs
    cert = x509.load_pem_x509_certificate(chain)
    sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert sans.get_values_for_type(x509.DNSName) == ["meshgate.meshgate-system.svc"]
    assert [str(a) for a in sans.get_values_for_type(x509.IPAddress)] == ["127.0.0.1"]
    assert tls.client_ca == pki.authority.certificate_pem and key
