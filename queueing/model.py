"""Domain objects of a centre's queue: tickets, services, counters and the events they emit."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from enum import StrEnum


class TicketStatus(StrEnum):
    WAITING = "waiting"
    CALLED = "called"
    SERVING = "serving"
    DONE = "done"
    NO_SHOW = "no_show"
    EXPIRED = "expired"  # still open when the day closed: never called afterwards


class CounterState(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    PAUSED = "paused"


class Role(StrEnum):
    ADMIN = "admin"
    MANAGER = "manager"
    CLERK = "clerk"


class DeviceKind(StrEnum):
    KIOSK = "kiosk"
    DISPLAY = "display"
    PRINTER = "printer"
    COUNTER = "counter"


class QueueError(Exception):
    """A request the queue refuses; `code` is the API slug and `status` the HTTP status."""

    status = 400
    code = "bad_request"

    def __init__(self, message: str, *, code: str | None = None, status: int | None = None):
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        if status:
            self.status = status


class NotFound(QueueError):
    status = 404
    code = "not_found"


class Conflict(QueueError):
    status = 409
    code = "conflict"


class Forbidden(QueueError):
    status = 403
    code = "forbidden"


def epoch_to_iso(epoch: float | None, tz) -> str | None:
    """Format a stored UTC epoch as ISO 8601 with the centre's offset."""
    if epoch is None:
        return None
    return datetime.fromtimestamp(epoch, timezone.utc).astimezone(tz).isoformat(timespec="seconds")


@dataclass(frozen=True)
class Event:
    """Something that happened, to publish to `rooms` only after its transaction committed."""

    name: str
    payload: dict
    rooms: tuple[str, ...]


@dataclass
class Outcome:
    """What a core command returns: its answer plus the events to publish after the commit."""

    result: object
    events: list[Event] = field(default_factory=list)
