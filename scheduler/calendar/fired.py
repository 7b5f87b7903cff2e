"""What firing one schedule occurrence did: the contract between the handlers that plan
a kind of occurrence (pulses, check-ins, digests) and the runtime's dispatcher, which
stores `next_due` and `next_occurrence` on the entry."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Fired:
    """What a kind handler did, and when the subject is due next."""

    outcome: str
    next_due: datetime | None
    next_occurrence: str | None
