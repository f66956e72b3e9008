"""ListenerSetHostnameConflict (conformance/tests/listenerset-hostname-conflict.go): listener precedence. The
Gateway's listeners come first, then each ListenerSet's in order: a set's listener that conflicts
(HostnameConflict) with an earlier one is refused, the set stays accepted while another listener of it
is valid, and a set whose every listener is refused is ListenersNotValid."""

from ..listener_set_checks import FEATURES, expect_precedence
from ..suite import Checks, ConformanceTest


def body(t: Checks) -> None:
    expect_precedence(t, "hostname", "HostnameConflict")


TEST = ConformanceTest(
    short_name="ListenerSetHostnameConflict",
    description="Validate Listener Precedence when a ListenerSet listener has a hostname conflict",
    manifests=("listenerset-hostname-conflict.yaml",),
    features=FEATURES,
    body=body,
    source="conformance/tests/listenerset-hostname-conflict.go @ 4564255ac2c3",
)
