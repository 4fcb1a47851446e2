"""Reports: a breakdown's rows, the range's summary, today's headline figures, charts and the ticket journal."""
from __future__ import annotations

import time
from bisect import bisect_left
from datetime import date, datetime, timezone
from typing import Iterator
from zoneinfo import ZoneInfo

from .. import store
from . import ontime
from ..model import QueueError, epoch_to_iso
from .daily import _build, _check_range, _days, _gather, _snapshot
from .quantiles import describe_runs
from .replay import ticket_facts
from .tallies import (CALLED, DAY_KEY, EXPIRED, ISSUED, NO_SHOW, PROCEDURES, RATED_1, RATED_2, RATED_3, SERVED,
                      SERVICES, SLA_MET, TRANSFERRED, WAITS, WALKS, Tally)

BREAKDOWNS = ("service", "procedure", "counter", "clerk", "hour", "day", "weekday_hour")
WEEKDAY_SHORT = ("T2", "T3", "T4", "T5", "T6", "T7", "CN")  # Monday first, as in Vietnamese calendars


def _pct(part: int, whole: int):
    return round(100 * part / whole, 1) if whole else None


def _figures(tally: Tally, counts_issued: bool) -> dict:
    """The contract's row fields from one tally."""
    counts = tally.totals()
    ratings = counts[RATED_1] + counts[RATED_2] + counts[RATED_3]
    return {
        "issued": counts[ISSUED] if counts_issued else None,
        "called": counts[CALLED], "served": counts[SERVED], "no_show": counts[NO_SHOW], "expired": counts[EXPIRED],
        "transferred": counts[TRANSFERRED],
        "wait_s": describe_runs(tally.runs(WAITS)), "service_s": describe_runs(tally.runs(SERVICES)),
        "walk_s": describe_runs(tally.runs(WALKS)),
        "sla_pct": _pct(counts[SLA_MET], tally.size(WAITS)),
        "no_show_pct": _pct(counts[NO_SHOW], counts[CALLED]),
        "satisfaction_pct": _pct(counts[RATED_3] + counts[RATED_2], ratings),
        "ratings": {"1": counts[RATED_1], "2": counts[RATED_2], "3": counts[RATED_3]},
        "procedures_per_ticket": round(counts[PROCEDURES] / counts[SERVED], 2) if counts[SERVED] else None,
    }


class _Names:
    """Names and display order of a centre's services, procedures, counters and clerks."""

    def __init__(self, db, centre_id: str):
        self.services = store.all_rows(db, "SELECT id, code, name, sort_order, active FROM services "
                                           "WHERE centre_id = ? ORDER BY sort_order, code", (centre_id,))
        self.procedures = store.all_rows(
            db, """SELECT p.id, p.code, p.name, p.active, s.code AS service_code FROM procedures p
                   JOIN services s ON s.id = p.service_id WHERE p.centre_id = ?
                   ORDER BY s.sort_order, s.code, p.code""", (centre_id,))
        self.counters = store.all_rows(db, "SELECT id, number, name, active FROM counters WHERE centre_id = ? "
                                           "ORDER BY number", (centre_id,))
        self.clerks = store.all_rows(db, "SELECT id, username, display_name, role, active FROM users "
                                         "WHERE centre_id = ? ORDER BY username", (centre_id,))


def counter_label(number: int, name: str) -> str:
    """"Quầy 3 – Công an", without repeating "Quầy 3" when the name already starts with it."""
    prefix = f"Quầy {number}"
    if name.startswith(prefix) and not name[len(prefix):len(prefix) + 1].isdigit():
        return name
    return f"{prefix} – {name}" if name else prefix


def hour_label(hour: int) -> str:
    return f"{hour:02d}:00"


def day_label(day: date) -> str:
    return f"{day:%d/%m/%Y} ({WEEKDAY_SHORT[day.weekday()]})"


def compute(db, centre_id: str, tz: ZoneInfo, date_from: date, date_to: date, by: str,
            now: float | None = None) -> list[dict]:
    """One row of figures per key of a breakdown (see the module docstring for every definition); procedure,
    service, counter and clerk rows also carry the on-time figures of the dossiers due in the range (ontime.py)."""
    if by not in BREAKDOWNS:
        raise QueueError(f"Cách nhóm không hợp lệ; chọn một trong: {', '.join(BREAKDOWNS)} (unknown breakdown)",
                         code="bad_breakdown")
    _check_range(date_from, date_to)
    if by == "day":
        merged = _gather(db, centre_id, tz, date_from, date_to, ("day",), lambda day, dimension, key: day)
    elif by == "weekday_hour":
        weekdays = {day: date.fromisoformat(day).isoweekday() for day in _days(date_from, date_to)}
        merged = _gather(db, centre_id, tz, date_from, date_to, ("hour",),
                         lambda day, dimension, key: (weekdays[day], key))
    else:
        merged = _gather(db, centre_id, tz, date_from, date_to, (by,), lambda day, dimension, key: key)
    names = _Names(db, centre_id)
    rows = []

    on_time = ontime.by_dimension(db, centre_id, tz, date_from, date_to, by, now or time.time()) \
        if by in ontime.DIMENSIONS else None

    def row(key, label, tally, counts_issued=True, group_id=None, **extra):
        rows.append({"key": key, "label": label, **extra, **_figures(tally or Tally(), counts_issued)})
        if on_time is not None:
            rows[-1].update(on_time.get(group_id) or ontime.empty())

    if by == "service":
        for service in names.services:
            if service["active"] or service["id"] in merged or service["id"] in (on_time or {}):
                row(service["code"], service["name"], merged.get(service["id"]), group_id=service["id"])
    elif by == "procedure":
        for procedure in names.procedures:
            if procedure["active"] or procedure["id"] in merged or procedure["id"] in (on_time or {}):
                row(procedure["code"], procedure["name"], merged.get(procedure["id"]), counts_issued=False,
                    group_id=procedure["id"], service=procedure["service_code"])
    elif by == "counter":
        for counter in names.counters:
            if counter["active"] or counter["id"] in merged or counter["id"] in (on_time or {}):
                row(counter["number"], counter_label(counter["number"], counter["name"]), merged.get(counter["id"]),
                    counts_issued=False, group_id=counter["id"], counter_id=counter["id"])
    elif by == "clerk":
        for user in names.clerks:
            if (user["active"] and user["role"] == "clerk") or user["id"] in merged or user["id"] in (on_time or {}):
                row(user["username"], user["display_name"] or user["username"], merged.get(user["id"]),
                    counts_issued=False, group_id=user["id"], user_id=user["id"])
    elif by == "hour":
        for hour in range(24):
            row(hour, hour_label(hour), merged.get(hour))
    elif by == "day":
        for day in _days(date_from, date_to):
            row(day, day_label(date.fromisoformat(day)), merged.get(day))
    else:
        for weekday in range(1, 8):
            for hour in range(24):
                row(f"{weekday}-{hour:02d}", f"{WEEKDAY_SHORT[weekday - 1]} {hour_label(hour)}",
                    merged.get((weekday, hour)), weekday=weekday, hour=hour)
    return rows


def _total(db, centre_id, tz, date_from, date_to) -> Tally:
    merged = _gather(db, centre_id, tz, date_from, date_to, ("day",), lambda day, dimension, key: DAY_KEY)
    return merged.get(DAY_KEY) or Tally()


def summary(db, centre_id: str, tz: ZoneInfo, date_from: date, date_to: date, now: float | None = None) -> dict:
    """The whole range's figures in one row, with the same fields as a breakdown row, and its dossiers' on-time figures."""
    _check_range(date_from, date_to)
    on_time = ontime.by_dimension(db, centre_id, tz, date_from, date_to, None, now or time.time())
    return {"key": "all", "label": "Tổng cộng", "date_from": date_from.isoformat(), "date_to": date_to.isoformat(),
            **_figures(_total(db, centre_id, tz, date_from, date_to), True), **(on_time.get(None) or ontime.empty())}


def today_kpis(db, centre_id: str, tz: ZoneInfo, now_epoch: float) -> dict:
    """Today's headline figures for the manager's monitor, always from the live event log."""
    today = datetime.fromtimestamp(now_epoch, timezone.utc).astimezone(tz).date()
    tally = _build(db, centre_id, tz, [today.isoformat()]).get(today.isoformat(), {}).get(("day", DAY_KEY)) or Tally()
    figures = _figures(tally, True)
    # Today's tickets only: one left over from an earlier day (not yet expired) is not today's queue.
    waiting, oldest = db.conn.execute(
        "SELECT COUNT(*), MIN(issued_at) FROM tickets WHERE centre_id = ? AND status = 'waiting' AND local_day = ?",
        (centre_id, today.isoformat())).fetchone()
    # Tickets at a counter now (called or being served), not open counters: the monitor's "serving now".
    at_counters = store.scalar(db, """SELECT COUNT(*) FROM tickets WHERE centre_id = ? AND status IN ('called', 'serving')
                                  AND local_day = ?""", (centre_id, today.isoformat()))
    return {
        "day": today.isoformat(), "waiting_now": waiting, "serving_now": at_counters,
        "longest_wait_s": round(max(0.0, now_epoch - oldest), 1) if oldest is not None else None,
        "mean_wait_s": figures["wait_s"]["mean"], "median_wait_s": figures["wait_s"]["median"],
        "issued": figures["issued"], "called": figures["called"], "served": figures["served"],
        "no_show": figures["no_show"], "expired": figures["expired"], "sla_pct": figures["sla_pct"],
        "satisfaction_pct": figures["satisfaction_pct"],
    }


def wait_histogram(db, centre_id: str, tz: ZoneInfo, date_from: date, date_to: date,
                   bucket_s: int = 300) -> list[dict]:
    """How many called tickets waited [from_s, to_s), from 0 up to the last non-empty bucket."""
    _check_range(date_from, date_to)
    if not isinstance(bucket_s, int) or isinstance(bucket_s, bool) or bucket_s <= 0:
        raise QueueError("Độ rộng khoảng phải là số giây dương (bucket_s must be a positive integer)",
                         code="bad_bucket")
    runs = [run for run in _total(db, centre_id, tz, date_from, date_to).runs(WAITS) if run]
    if not runs:
        return []
    buckets = int(max(run[-1] for run in runs) // bucket_s) + 1
    # Counting by bisection in each sorted run avoids sorting a year of waits.
    below = [sum(bisect_left(run, index * bucket_s) for run in runs) for index in range(buckets + 1)]
    return [{"from_s": index * bucket_s, "to_s": (index + 1) * bucket_s, "count": below[index + 1] - below[index]}
            for index in range(buckets)]


def hourly_arrivals_served(db, centre_id: str, tz: ZoneInfo, date_from: date, date_to: date) -> list[dict]:
    """Per local hour: tickets issued in that hour and tickets finished in that hour (of those issued in range)."""
    _check_range(date_from, date_to)
    merged = _gather(db, centre_id, tz, date_from, date_to, ("hour", "finish_hour"),
                     lambda day, dimension, key: (dimension, key), samples=False)
    empty = Tally()
    return [{"hour": hour, "label": hour_label(hour),
             "issued": merged.get(("hour", hour), empty).totals()[ISSUED],
             "served": merged.get(("finish_hour", hour), empty).totals()[SERVED]} for hour in range(24)]


# ---- journal ----------------------------------------------------------------------------------

def _seconds(value):
    return round(value, 1) if value is not None else None


def ticket_journal(db, centre_id: str, tz: ZoneInfo, date_from: date, date_to: date) -> Iterator[dict]:
    """Every ticket of the range, one flat dict each in issue order, for exports (no citizen data)."""
    _check_range(date_from, date_to)
    names = _Names(db, centre_id)
    services = {row["id"]: row for row in names.services}
    counters = {row["id"]: row for row in names.counters}
    users = {row["id"]: row for row in names.clerks}
    procedures = {row["id"]: row["code"] for row in names.procedures}
    priorities = {row["id"]: row["code"] for row in store.all_rows(
        db, "SELECT id, code FROM priority_groups WHERE centre_id = ?", (centre_id,))}
    for day in _days(date_from, date_to):
        # One day at a time: a year's export never sits in memory.
        with _snapshot(db):
            facts = list(ticket_facts(db, centre_id, day, day))
            tickets = {row[0]: row for row in db.conn.execute(
                """SELECT id, number, service_id, priority_group_id, lang FROM tickets
                   WHERE centre_id = ? AND local_day = ?""", (centre_id, day))}
        facts.sort(key=lambda ticket: (ticket.issued_at, tickets[ticket.id][1]))
        for ticket in facts:
            _, number, final_service_id, priority_id, lang = tickets[ticket.id]
            last = ticket.visits[-1] if ticket.visits else None
            counter = counters.get(last.counter_id) if last else None
            clerk = users.get(last.clerk_id) if last else None
            service = services.get(ticket.service_id, {})
            yield {
                "local_day": day, "number": number,
                "service": service.get("code"), "service_name": service.get("name"),
                "final_service": services.get(final_service_id, {}).get("code"),
                "priority": priorities.get(priority_id, ""), "lang": lang, "status": ticket.status,
                "issued_at": epoch_to_iso(ticket.issued_at, tz),
                "first_called_at": epoch_to_iso(ticket.first_called_at, tz),
                "started_at": epoch_to_iso(ticket.started_at, tz),
                "finished_at": epoch_to_iso(ticket.finished_at, tz),
                "counter": counter_label(counter["number"], counter["name"]) if counter else None,
                "counter_number": counter["number"] if counter else None,
                "clerk": (clerk["display_name"] or clerk["username"]) if clerk else None,
                "procedures": ", ".join(procedures.get(pid, str(pid)) for pid in ticket.procedure_ids),
                "rating": ticket.rating, "wait_s": _seconds(ticket.wait_s), "walk_s": _seconds(ticket.walk_s),
                "service_s": _seconds(ticket.service_s), "recalls": ticket.recalls, "transfers": ticket.transfers,
            }
