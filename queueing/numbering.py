"""Ticket numbers: a service's prefix letters plus a per-day sequence, e.g. "A012"."""
from __future__ import annotations

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

NUMBER_DIGITS = 3


def format_ticket_number(prefix: str, sequence: int) -> str:
    """Return the printed number for the sequence-th ticket of the day ("A001"; "A1000" past 999)."""
    return f"{prefix}{sequence:0{NUMBER_DIGITS}d}"


def local_day(epoch: float, tz: ZoneInfo) -> str:
    """The centre's calendar day (YYYY-MM-DD) at a UTC epoch; numbering restarts on each new one."""
    return datetime.fromtimestamp(epoch, timezone.utc).astimezone(tz).date().isoformat()


def local_hour(epoch: float, tz: ZoneInfo) -> int:
    """The centre's local hour of day at a UTC epoch."""
    return datetime.fromtimestamp(epoch, timezone.utc).astimezone(tz).hour
