"""The day's end (issue 11): open tickets expire at closing time and at midnight; holidays and the cut-off.

A ticket issued one day is never called the next: at the centre's closing time (the latest end of
its active services' opening spans that day) and at local midnight, every waiting or called ticket
becomes `expired`. A ticket being served is left to finish. `DayCloser` does it by itself; a
manager can do it now (POST /api/v1/day/close); and call-next expires leftovers of earlier days in
its own transaction, so a server whose closer did not run still never calls yesterday's A001.

The kiosk also stops issuing on the centre's holidays and, per service, once the forecast says a
new ticket would not be called before closing minus the `cutoff_margin_minutes` setting.
"""
from __future__ import annotations

import logging
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Callable
from zoneinfo import ZoneInfo

from . import audit, store
from .background import BackgroundJob
from .events import queue_changed_marker
from .holidays import holiday_on, local_moment, next_opening, opening_text, spans_on
from .model import Conflict, Event, Outcome, TicketStatus
from .transitions import next_status

log = logging.getLogger("luot.closing")

DAY_END_DEFAULTS = {"cutoff_margin_minutes": 15}
OPEN_AT_CLOSE = (TicketStatus.WAITING.value, TicketStatus.CALLED.value)
# The closer sleeps until the next closing moment, but never longer than this: a clock changed by
# hand or by NTP is noticed within a minute.
CLOSER_CHECK_EVERY_S = 60.0

ACTION_DAY_CLOSED = "day_closed"


def _local(epoch: float, tz) -> datetime:
    return datetime.fromtimestamp(epoch, timezone.utc).astimezone(tz)


def _midnight(day: date, tz) -> float:
    return local_moment(day, "00:00", tz)


def closing_time(db, centre_id: str, tz, day: date) -> float | None:
    """When the centre closes on a local day: the latest span end of its active services that day.

    None when the day has no closing before midnight: a service without opening hours is open all
    day (the demo centre), or no service opens that day.
    """
    ends = []
    for service in store.services(db, centre_id):
        spans = spans_on(service, day)
        if spans is None:
            return None
        ends += [end for _, end in spans]
    return local_moment(day, max(ends), tz) if ends else None


def last_close(db, centre_id: str, tz, now: float) -> float:
    """The latest moment ≤ now at which the day ended: today's closing time if past, else last midnight."""
    today = _local(now, tz).date()
    closing = closing_time(db, centre_id, tz, today)
    if closing is not None and closing <= now:
        return closing
    return _midnight(today, tz)


def next_close(db, centre_id: str, tz, now: float) -> float:
    """The first moment > now at which the day ends (closing time or midnight)."""
    today = _local(now, tz).date()
    closing = closing_time(db, centre_id, tz, today)
    if closing is not None and closing > now:
        return closing
    return _midnight(today + timedelta(days=1), tz)


# ---- expiring --------------------------------------------------------------------------------

def expire_open_tickets(queue, reason: str, issued_before: float | None = None, user_id=None,
                        earlier_than_day: str | None = None) -> Outcome:
    """Expire waiting and called tickets (all of them, or those issued before a moment or a local day).

    Runs inside the caller's write transaction. One `expired` event row per ticket; a counter whose
    called ticket expired is cleared. Answers {expired: N} with the events to publish after commit.
    """
    db, now = queue.db, queue.clock()
    where, arguments = "", []
    if issued_before is not None:
        where += " AND issued_at < ?"
        arguments.append(issued_before)
    if earlier_than_day is not None:
        where += " AND local_day < ?"
        arguments.append(earlier_than_day)
    tickets = store.all_rows(db, f"""SELECT id, status, service_id, counter_id FROM tickets
                                     WHERE centre_id = ? AND status IN (?, ?){where}""",
                             (queue.centre_id, *OPEN_AT_CLOSE, *arguments))
    counters = set()
    for ticket in tickets:
        to_status = next_status("expire", ticket["status"]).value
        changed = store.execute(db, "UPDATE tickets SET status = ? WHERE id = ? AND status = ?",
                                (to_status, ticket["id"], ticket["status"]))
        if changed != 1:
            continue
        store.add_ticket_event(db, queue.centre_id, ticket["id"], now, "expired", ticket["status"], to_status,
                               ticket["service_id"], ticket["counter_id"], user_id, {"reason": reason})
        if ticket["status"] == TicketStatus.CALLED and ticket["counter_id"]:
            store.execute(db, "UPDATE counters SET current_ticket_id = NULL WHERE id = ? AND current_ticket_id = ?",
                          (ticket["counter_id"], ticket["id"]))
            counters.add(ticket["counter_id"])
    events: list[Event] = []
    if tickets:
        events.append(queue_changed_marker())
        for counter_id in sorted(counters):
            events += queue._counter_events(counter_id)
        for ticket in tickets:
            events += queue._ticket_events(ticket["id"])
    return Outcome({"expired": len(tickets)}, events)


def close_day(queue, user_id=None, reason: str = "manual") -> Outcome:
    """Expire every waiting or called ticket now, in one transaction; a manager's request is audited."""
    with store.transaction(queue.db):
        outcome = expire_open_tickets(queue, reason, user_id=user_id)
        if user_id is not None or outcome.result["expired"]:
            audit.record(queue.db, queue.centre_id, queue.clock(), ACTION_DAY_CLOSED, user_id=user_id,
                         detail={"reason": reason, **outcome.result})
    return outcome


def close_if_due(queue) -> Outcome:
    """Expire the tickets still open from before the latest closing time or midnight (idempotent)."""
    moment = last_close(queue.db, queue.centre_id, queue.tz, queue.clock())
    with store.transaction(queue.db):
        outcome = expire_open_tickets(queue, "closing_time", issued_before=moment)
        if outcome.result["expired"]:
                    audit.record(queue.db, queue.centre_id, queue.clock(), ACTION_DAY_CLOSED,
                         detail={"reason": "closing_time", "closed_at": queue.iso(moment), **outcome.result})
    return outcome


def expire_earlier_days(queue) -> list[Event]:
    """Inside a call's transaction: expire open tickets of earlier local days, so none is ever called."""
    from .numbering import local_day
    return expire_open_tickets(queue, "stale_at_call", earlier_than_day=local_day(queue.clock(), queue.tz)).events


class DayCloser(BackgroundJob):
    """Expires open tickets at each closing time and at local midnight, and once at start-up.

    It sleeps until the next computed closing moment (at most CLOSER_CHECK_EVERY_S) and then asks
    the database which tickets are still open from before the latest closing moment. That question
    has the same answer whenever it is asked, so a clock set back or forward never skips a close and
    running twice costs nothing. `publish` gets the events (Socket.IO) after each commit.
    """

    thread_name = "luot-day-closer"

    def __init__(self, database: str | Path, centre_id: str, clock: Callable[[], float] = time.time,
                 publish: Callable[[list], None] | None = None, check_every_s: float = CLOSER_CHECK_EVERY_S):
        super().__init__(database, centre_id, clock, check_every_s)
        self.publish = publish
        self.last_moment: float | None = None

    def _queue(self, db):
        from .service import QueueService
        return QueueService(db, self.centre_id, clock=self.clock)

    def tick(self) -> int | None:
        """Close if a closing moment passed since the last tick (or this is the first); None when not due."""
        db = store.connect(self.database)
        try:
            queue = self._queue(db)
            from .appointments import mark_missed
            mark_missed(queue)  # bookings past their grace free nothing bookable, but are `missed` (issue 15)
            moment = last_close(db, self.centre_id, queue.tz, self.clock())
            if moment == self.last_moment:
                return None
            outcome = close_if_due(queue)
            self.last_moment = moment
            if outcome.result["expired"]:
                log.info("day closed: %d open tickets expired", outcome.result["expired"])
                if self.publish is not None:
                    self.publish(outcome.events)
            return outcome.result["expired"]
        finally:
            db.conn.close()

    def seconds_to_next(self) -> float:
        db = store.connect(self.database)
        try:
            tz = ZoneInfo(store.centre(db, self.centre_id)["timezone"])
            now = self.clock()
            return max(0.5, min(self.check_every_s, next_close(db, self.centre_id, tz, now) - now + 0.5))
        finally:
            db.conn.close()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                wait = self.seconds_to_next()
            except Exception:
                log.exception("day closer: cannot compute the next closing time")
                wait = self.check_every_s
            if self._stop.wait(wait):
                break
            try:
                self.tick()
            except Exception:  # a failed close is retried at the next wake-up, never kills the thread
                log.exception("day close failed")

    def start(self) -> "DayCloser":
        """Close yesterday's leftovers before the server answers anything, then watch the clock."""
        try:
            self.tick()
        except Exception:
            log.exception("day close at start-up failed")
        return super().start()


# ---- issuing: holidays and the cut-off -----------------------------------------------------------

def cutoff_margin_s(queue) -> float:
    return 60 * float(queue.settings.get("cutoff_margin_minutes", DAY_END_DEFAULTS["cutoff_margin_minutes"]))


def closure(queue, service: dict, now: float, forecast=None) -> dict | None:
    """Why a service issues no number now beyond its opening hours: {reason, message, opens_at}, or None.

    `holiday`: today is in the centre's calendar. `cut_off`: the service has opening hours, an
    open counter serves it, and the forecast wait ends after its last span today minus the margin.
    `forecast` may be passed when already computed (the services list); otherwise it is asked for.
    """
    tz, today = queue.tz, _local(now, queue.tz).date()
    holiday = holiday_on(queue.db, queue.centre_id, today.isoformat())
    if holiday is not None:
        opens = next_opening(queue.db, queue.centre_id, tz, service, now, today + timedelta(days=1))
        vi, en = opening_text(opens, tz)
        return {"reason": "holiday", "opens_at": queue.iso(opens),
                "message": f"Hôm nay nghỉ {holiday['name']}; trung tâm không cấp số. Mở cửa lại lúc {vi} "
                           f"(closed today for {holiday['name_en'] or holiday['name']}; opens again at {en})"}
    spans = spans_on(service, today)
    if not spans:
        return None  # open all day (its tickets expire at midnight) or closed today by its hours
    forecast = queue.forecast_new_ticket(service) if forecast is None else forecast
    if not forecast:
        return None  # no open counter, no forecast: the opening hours decide alone
    last_end = local_moment(today, max(end for _, end in spans), tz)
    if now >= last_end or now + forecast["wait_s"] <= last_end - cutoff_margin_s(queue):
        return None
    opens = next_opening(queue.db, queue.centre_id, tz, service, now, today + timedelta(days=1))
    vi, en = opening_text(opens, tz)
    return {"reason": "cut_off", "opens_at": queue.iso(opens),
            "message": f"Đã hết giờ cấp số hôm nay cho lĩnh vực này: số mới sẽ không kịp được gọi trước giờ đóng cửa. "
                       f"Vui lòng quay lại lúc {vi} (no more numbers today: a new ticket would not be called "
                       f"before closing; come back at {en})"}


def refuse_if_closed(queue, service: dict, now: float) -> None:
    """Inside issue_ticket: 409 `holiday` or `cut_off` with a message saying when the service opens next."""
    found = closure(queue, service, now)
    if found is not None:
        raise Conflict(found["message"], code=found["reason"])


def mark_closures(queue, services: list[dict]) -> list[dict]:
    """Add `closed_reason`, `closed_message` and `opens_at` to the kiosk's services list (`open` false when closed)."""
    now = queue.clock()
    rows = {row["code"]: row for row in store.services(queue.db, queue.centre_id)}
    for item in services:
        found = None
        service = rows.get(item["code"])
        if service is not None:
            found = closure(queue, service, now)
        if found is None and not item.get("open", True):
            found = {"reason": "hours", "opens_at": queue.iso(next_opening(
                         queue.db, queue.centre_id, queue.tz, service, now, _local(now, queue.tz).date()))
                     if service is not None else None, "message": None}
        item["closed_reason"] = found["reason"] if found else None
        item["closed_message"] = found["message"] if found else None
        item["opens_at"] = found["opens_at"] if found else None
        if found:
            item["open"] = False
    return services
