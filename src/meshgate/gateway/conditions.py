"""Kubernetes-shaped status conditions."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Condition:
    """A metav1.Condition (lastTransitionTime is stamped when status is written out)."""

    type: str
    status: bool
    reason: str
    message: str = ""

    def to_dict(self, generation: int, now: str) -> dict:
        """The condition as it appears in an object's status."""
        return {
            "type": self.type,
            "status": "True" if self.status else "False",
            "reason": self.reason,
            "message": self.message,
            "observedGeneration": generation,
            "lastTransitionTime": now,
        }
