"""ListenerSetDefaultNotAllowed (conformance/tests/listenerset-default-not-allowed.go): a Gateway without allowedListeners attaches no ListenerSet."""

from ..expect import INFRA, Key
from ..listener_set_checks import FEATURES, gateway_accepted_with_sets, set_refused
from ..suite import Checks, ConformanceTest


def body(t: Checks) -> None:
    gateway_accepted_with_sets(t, Key(INFRA, "gateway-default-does-not-allow-listenerset"), 0)
    set_refused(t, Key(INFRA, "listenerset-default-not-allowed"), "NotAllowed")


TEST = ConformanceTest(
    short_name="ListenerSetDefaultNotAllowed",
    description="Listener Sets are not allowed on the Gateway by default (i.e. when `allowedListeners` is not set)",
    manifests=("listenerset-default-not-allowed.yaml",),
    features=FEATURES,
    body=body,
    source="conformance/tests/listenerset-default-not-allowed.go @ 4564255ac2c3",
)
