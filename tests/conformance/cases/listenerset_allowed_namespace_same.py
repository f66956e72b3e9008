"""ListenerSetAllowedNamespaceSame (conformance/tests/listenerset-allowed-namespace-same.go): allowedListeners from Same: the set in the Gateway's namespace attaches, one elsewhere is NotAllowed."""

from ..expect import INFRA, Key
from ..listener_set_checks import FEATURES, gateway_accepted_with_sets, set_attached, set_refused
from ..suite import Checks, ConformanceTest


def body(t: Checks) -> None:
    gateway_accepted_with_sets(t, Key(INFRA, "gateway-allows-listenerset-in-same-namespace"), 1)
    set_attached(t, Key(INFRA, "listenerset-in-same-namespace"), "listenerset-in-same-namespace-listener")
    set_refused(t, Key("gateway-api-listenerset-not-allowed-ns", "listenerset-in-different-namespace"), "NotAllowed")


TEST = ConformanceTest(
    short_name="ListenerSetAllowedNamespaceSame",
    description="ListenerSets in the same namespace as the Gateway are allowed when `allowedListeners` is set to `Same`",
    manifests=("listenerset-allowed-namespace-same.yaml",),
    features=FEATURES,
    body=body,
    source="conformance/tests/listenerset-allowed-namespace-same.go @ 4564255ac2c3",
)
