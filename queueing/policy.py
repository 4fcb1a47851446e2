"""Which waiting ticket a counter calls next."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class QueueHeads:
    """The oldest waiting priority ticket, the first checked-in appointment whose slot has begun, and
    the oldest waiting normal ticket a counter may call."""

    priority_ticket_id: str | None
    normal_ticket_id: str | None
    appointment_ticket_id: str | None = None


def choose_next(heads: QueueHeads, consecutive_priority_calls: int, priority_ratio: int,
                consecutive_appointment_calls: int = 0, appointment_ratio: int = 0) -> str | None:
    """Pick priority first, then oldest; after `priority_ratio` priority calls in a row let a normal one through.

    Below the priority groups, an appointment whose slot has begun goes before the ordinary tickets,
    and after `appointment_ratio` appointments in a row an ordinary ticket goes first (issue 15), so a
    busy slot never starves the walk-ins. A ratio of 0 means that class always goes first.
    """
    rest = _appointment_or_normal(heads, consecutive_appointment_calls, appointment_ratio)
    if heads.priority_ticket_id is None:
        return rest
    if rest is None:
        return heads.priority_ticket_id
    if priority_ratio > 0 and consecutive_priority_calls >= priority_ratio:
        return rest
    return heads.priority_ticket_id


def _appointment_or_normal(heads: QueueHeads, consecutive_appointment_calls: int, appointment_ratio: int):
    if heads.appointment_ticket_id is None:
        return heads.normal_ticket_id
    if heads.normal_ticket_id is None:
        return heads.appointment_ticket_id
    if appointment_ratio > 0 and consecutive_appointment_calls >= appointment_ratio:
        return heads.normal_ticket_id
    return heads.appointment_ticket_id
