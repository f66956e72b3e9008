"""A CA certificate no server can chain to: what a cluster trusts when the BackendTLSPolicy that
applies to it has no valid CA (GEP-1897: connections then MUST fail with a 5xx, never fall back
to plaintext or to unverified TLS).

A self-signed certificate made once for this purpose; its private key was discarded when it was
made, so no certificate signed by it exists. Envoy needs a well-formed CA to accept the cluster
(an empty or broken one would be a NACK of every cluster of the update), hence a real one.
"""

UNUSABLE_CA_PEM = b"""-----BEGIN CERTIFICATE-----
MIIBfTCCASKgAwIBAgIBATAKBggqhkjOPQQDAjA8MTowOAYDVQQDDDFtZXNoZ2F0
ZTogbm8gdmFsaWQgQ0EgY2VydGlmaWNhdGUgKGtleSBkaXNjYXJkZWQpMCAXDTI2
MDEwMTAwMDAwMFoYDzIxMjUxMjA4MDAwMDAwWjA8MTowOAYDVQQDDDFtZXNoZ2F0
ZTogbm8gdmFsaWQgQ0EgY2VydGlmaWNhdGUgKGtleSBkaXNjYXJkZWQpMFkwEwYH
KoZIzj0CAQYIKoZIzj0DAQcDQgAEU6KaDPy15t2+WuN9ODWgYrH5EvUVJSLgsoG9
xDXb/rPOQ/a4imMvVft1bAXYasrMiR5wcv0vJK9DjeORgLbhXKMTMBEwDwYDVR0T
AQH/BAUwAwEB/zAKBggqhkjOPQQDAgNJADBGAiEAoGx2CusDRVQlOzjMwaNNHOr7
2bHNogR7H+vRLOV6dfMCIQCPTJ7Bnuq1Frny+jusP/WN0ZVIljX33mep6Br3CLK1
lg==
-----END CERTIFICATE-----
"""
