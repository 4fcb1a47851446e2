"""Every event the core emits, made in one place: its name, its payload and the rooms that hear it.

Commands return these; `web.publish()` sends them after the commit. Rooms: `display` (hall
screens), `monitor` (managers), `counter:<id>` (one counter's panel and rating tablet),
`ticket:<id>` (one citizen's tracking page); ALL is every connected client. The table of who hears
what is in docs/architecture.md.
"""
from __future__ import annotations

from zoneinfo import ZoneInfo

from . import store
from .model import Event, epoch_to_iso

ALL = ("*",)  # every connected client

TRACKED_FIELDS = ("id", "number", "status", "position", "estimated_wait_s", "estimated_wait_range_s", "counter",
                  "counter_name", "rating")


def ticket_room(ticket_id: str) -> str:
    return f"ticket:{ticket_id}"


def counter_room(counter_id: int) -> str:
    return f"counter:{counter_id}"


def tracking_view(public: dict) -> dict:
    """What a citizen's tracking page is told about their ticket (the `ticket_updated` payload)."""
    return {key: public[key] for key in TRACKED_FIELDS}


def ticket_updated(public: dict) -> Event:
    """A ticket's new status, place or wait, to the phone following it."""
    return Event("ticket_updated", tracking_view(public), (ticket_room(public["id"]),))


def queue_changed_marker() -> Event:
    """A marker that the waiting counts changed, with an EMPTY payload.

    Whoever publishes it fills in `QueueService.queue_summary()` after the commit (web.NewestSummary):
    the screens then get the newest committed state, and a burst of changes costs one summary
    instead of one per change.
    """
    return Event("queue_changed", {}, ALL)


def configuration_changed(section: str) -> Event:
    """Screens that show configuration (kiosk, display, counters) reload it when they hear this."""
    return Event("configuration_changed", {"section": section}, ALL)


def notice_changed(notice: str) -> Event:
    """The notice line the displays and the kiosk show."""
    return Event("notice_changed", {"notice": notice}, ALL)


def counter_state(db, tz: ZoneInfo, counter: dict) -> dict:
    """A counter's public state (the `counter_changed` payload)."""
    ticket = store.one(db, "SELECT number, status FROM tickets WHERE id = ?",
                       (counter["current_ticket_id"],)) if counter["current_ticket_id"] else None
    clerk = store.one(db, "SELECT display_name, username FROM users WHERE id = ?",
                      (counter["clerk_id"],)) if counter["clerk_id"] else None
    return {"counter": counter["id"], "number": counter["number"], "name": counter["name"],
            "clerk": (clerk["display_name"] or clerk["username"]) if clerk else None,
            "floor": counter["floor"], "state": counter["state"],
            "pause_reason": counter["pause_reason"], "since": epoch_to_iso(counter["state_since"], tz),
            "ticket": ticket["number"] if ticket else None,
            "ticket_status": ticket["status"] if ticket else None}


def counter_changed(db, tz: ZoneInfo, counter: dict, *, state_changed: bool = False, to_monitor: bool = True,
                    extra: dict | None = None) -> Event:
    """A counter's new state, to the monitors and the counter's own screens.

    Hall displays hear it only when the counter opens, pauses or closes (it dims there at once): a
    call already reaches them as `ticket_called`, and every other message per call to every display
    is work for the server at the moment the call is pushed (bench/RESULTS.md).
    """
    rooms = (("monitor",) if to_monitor else ()) + (counter_room(counter["id"]),)
    if state_changed:
        rooms += ("display",)
    return Event("counter_changed", {**counter_state(db, tz, counter), **(extra or {})}, rooms)


def ticket_called(payload: dict) -> Event:
    """A call (or recall) with its announcement, to the hall displays and the monitors."""
    return Event("ticket_called", payload, ("display", "monitor"))


def rating_requested(ticket: dict, counter_id: int) -> Event:
    """The counter's rating tablet asks the citizen just served."""
    return Event("rating_requested", {"ticket_id": ticket["id"], "number": ticket["number"]},
                 (counter_room(counter_id),))


def rating_recorded(ticket_id: str, score: int, counter_id) -> Event:
    return Event("rating_recorded", {"ticket_id": ticket_id, "score": score}, ("monitor", counter_room(counter_id)))
