"""Which waiting ticket a counter calls next."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class QueueHeads:
    """The oldest waiting priority ticket and the oldest waiting normal ticket a counter may call."""

    priority_ticket_id: str | None
    normal_ticket_id: str | None


def choose_next(heads: QueueHeads, consecutive_priority_calls: int, priority_ratio: int) -> str | None:
    """Pick priority first, then oldest; after `priority_ratio` priority calls in a row let a normal one through.

    A ratio of 0 means priority tickets always go first.
    """
    if heads.priority_ticket_id is None:
        return heads.normal_ticket_id
    if heads.normal_ticket_id is None:
        return heads.priority_ticket_id
    if priority_ratio > 0 and consecutive_priority_calls >= priority_ratio:
        return heads.normal_ticket_id
    return heads.priority_ticket_id
