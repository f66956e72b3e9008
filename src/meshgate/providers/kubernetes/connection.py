"""Where the API server is and how to reach it: light to import (the client library is
imported only when connecting, so that standalone mode does not pay for it)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .client import KubeClient


@dataclass(frozen=True, slots=True)
class Connection:
    """A kubeconfig (and context), or the in-cluster service account when no kubeconfig is given."""

    kubeconfig: str | None = None
    context: str | None = None

    async def client(self) -> KubeClient:
        """Connect: a client for this API server."""
        from .client import KubeClient  # lazily: see the module docstring

        return await KubeClient.connect(self.kubeconfig, self.context)
