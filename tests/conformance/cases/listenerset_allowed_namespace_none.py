"""ListenerSetAllowedNamespaceNone (conformance/tests/listenerset-allowed-namespace-none.go): allowedListeners from None attaches no ListenerSet."""

from ..expect import INFRA, Key
from ..listener_set_checks import FEATURES, gateway_accepted_with_sets, set_refused
from ..suite import Checks, ConformanceTest


def body(t: Checks) -> None:
    gateway_accepted_with_sets(t, Key(INFRA, "gateway-does-not-allow-listenerset"), 0)
    set_refused(t, Key(INFRA, "listenerset-not-allowed"), "NotAllowed")


TEST = ConformanceTest(
    short_name="ListenerSetAllowedNamespaceNone",
    description="Listener Sets are not allowed on the Gateway when `allowedListeners` is set to `None`",
    manifests=("listenerset-allowed-namespace-none.yaml",),
    features=FEATURES,
    body=body,
    source="conformance/tests/listenerset-allowed-namespace-none.go @ 4564255ac2c3",
)
