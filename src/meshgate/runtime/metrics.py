"""Prometheus metrics of one control plane (its own registry: no process-wide state).

Besides meshgate's own: the process (CPU, memory, open fds, start time), the Python platform,
and `meshgate_build_info{version,python,envoy}`.
"""

from __future__ import annotations

import platform
import time
from collections.abc import Callable, Iterator

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    generate_latest,
)
from prometheus_client.core import InfoMetricFamily, Metric

from .. import __version__
from ..envoy.binary import envoy_version
from ..xds.resources import SHORT_NAMES

_CONVERGENCE = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
_FAST = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class Metrics:
    """Connected proxies, pushes and NACKs by type, translation and push durations."""

    def __init__(self, envoy: Callable[[], str] = envoy_version) -> None:
        """`envoy` tells the Envoy version for the build info; it is called once, at the first scrape."""
        self.registry = CollectorRegistry()
        r = self.registry
        self.connected = Gauge("meshgate_connected_proxies", "xDS streams open", ["protocol"], registry=r)
        self.pushes = Counter("meshgate_xds_pushes", "xDS responses sent", ["type"], registry=r)
        self.nacks = Counter("meshgate_xds_nacks", "xDS responses rejected by a proxy", ["type"], registry=r)
        self.push_seconds = Histogram("meshgate_xds_push_seconds", "Time to build one xDS response", ["type"],
                                      buckets=_FAST, registry=r)
        self.last_push = Gauge("meshgate_xds_last_push_timestamp_seconds", "When the last xDS response of a type "
                               "was built, to be sent (seconds since the epoch)", ["type"], registry=r)
        self.translate_seconds = Histogram("meshgate_translate_seconds", "Time to apply a change set",
                                           ["path"], buckets=_FAST, registry=r)
        self.denied_streams = Counter("meshgate_xds_denied_streams",
                                      "xDS streams refused: the node named a Gateway its client certificate does not",
                                      registry=r)
        self.input_errors = Gauge("meshgate_input_errors", "Invalid inputs currently reported", registry=r)
        self.rate_limit_store_errors = Counter(
            "meshgate_rate_limit_store_errors", "Global rate limit requests answered with an error because the "
            "counter store (Redis) could not count them (Envoy lets them through)", registry=r)
        ProcessCollector(registry=r)
        PlatformCollector(registry=r)
        self.build_info = BuildInfo(envoy)
        r.register(self.build_info)
        self.views = Gauge("meshgate_xds_views", "Per-client views (cache entries for proxies whose locality or "
                           "labels change their config), each alive while a stream uses it", registry=r)
        self.refused = Counter("meshgate_xds_refused", "xDS streams ended by the server for a request it "
                               "will not serve, by the check that refused it", ["reason"], registry=r)
        self.status_writes = Counter("meshgate_status_writes", "Status writes to the Kubernetes API (the leader's), "
                                     "by result: written, conflict (retried from the newer version), failed",
                                     ["result"], registry=r)
        self.convergence = Histogram(
            "meshgate_proxy_convergence_seconds",
            "From a change reaching meshgate (the first event of a batch) to a proxy having ACKed "
            "everything it was sent for it, once per proxy and change batch (Istio's pilot_proxy_convergence_time)",
            buckets=_CONVERGENCE, registry=r)
        self.leader = Gauge("meshgate_leader", "1 while this replica holds the leader's Lease (Kubernetes mode)",
                            registry=r)

    # ServerEvents
    def stream_opened(self, protocol: str) -> None:
        self.connected.labels(protocol).inc()

    def stream_closed(self, protocol: str) -> None:
        self.connected.labels(protocol).dec()

    def pushed(self, type_url: str, seconds: float) -> None:
        t = SHORT_NAMES.get(type_url, type_url)
        self.pushes.labels(t).inc()
        self.push_seconds.labels(t).observe(seconds)
        self.last_push.labels(t).set(time.time())

    def nacked(self, type_url: str) -> None:
        self.nacks.labels(SHORT_NAMES.get(type_url, type_url)).inc()

    def converged(self, seconds: float) -> None:
        self.convergence.observe(seconds)

    def stream_refused(self, reason: str) -> None:
        self.refused.labels(reason).inc()
    def denied(self) -> None:
        self.denied_streams.inc()

    def exposition(self) -> bytes:
        """The Prometheus text format."""
        return generate_latest(self.registry)


class BuildInfo:
    """`meshgate_build_info{version,python,envoy} 1`: what runs here. The Envoy version is read
    once, at the first scrape (running `envoy --version` takes a tenth of a second)."""

    def __init__(self, envoy: Callable[[], str]) -> None:
        self._read_envoy = envoy
        self._envoy: str | None = None

    def labels(self) -> dict[str, str]:
        """The label values."""
        if self._envoy is None:
            self._envoy = self._read_envoy()
        return {"version": __version__, "python": platform.python_version(), "envoy": self._envoy}

    def describe(self) -> Iterator[Metric]:
        # Registration asks for the names only: no `envoy --version` until a scrape.
        yield InfoMetricFamily("meshgate_build", "meshgate, Python and Envoy versions")

    def collect(self) -> Iterator[Metric]:
        yield InfoMetricFamily("meshgate_build", "meshgate, Python and Envoy versions", value=self.labels())
