"""The daily cache: closed days summarised once in `stats_daily` (counts and sorted durations), today replayed."""
from __future__ import annotations

import secrets
import sqlite3
import time
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from .. import store
from ..model import QueueError
from .replay import ticket_facts
from .tallies import DIMENSIONS, Tally, tally_tickets


@contextmanager
def _snapshot(db):
    """Run several reads in one transaction so they see one state of the database."""
    if db.conn.in_transaction:
        yield
        return
    db.conn.execute("BEGIN")
    try:
        yield
    finally:
        if db.conn.in_transaction:
            db.conn.execute("COMMIT")


def _days(date_from: date, date_to: date) -> list[str]:
    return [(date_from + timedelta(days=offset)).isoformat() for offset in range((date_to - date_from).days + 1)]


def _runs(days: list[str]) -> list[tuple[str, str]]:
    """Contiguous spans (first, last) of a sorted list of ISO days, to read each span in one query."""
    runs = []
    for day in days:
        if runs and date.fromisoformat(runs[-1][1]) + timedelta(days=1) == date.fromisoformat(day):
            runs[-1] = (runs[-1][0], day)
        else:
            runs.append((day, day))
    return runs


def _targets(db, centre_id: str) -> dict[int, int]:
    return {row[0]: row[1] for row in db.conn.execute(
        "SELECT id, target_wait_s FROM services WHERE centre_id = ?", (centre_id,))}


def _build(db, centre_id: str, tz: ZoneInfo, days: list[str]) -> dict[str, dict[tuple[str, int], Tally]]:
    """Tallies of some days straight from the event log."""
    built: dict[str, dict[tuple[str, int], Tally]] = {}
    for first, last in _runs(days):
        with _snapshot(db):
            built.update(tally_tickets(ticket_facts(db, centre_id, first, last), _targets(db, centre_id), tz))
    return built


def _read_cache(db, centre_id: str, tz: ZoneInfo, first: str, last: str, dimensions: tuple[str, ...],
                samples: bool = True) -> tuple[set[str], list[tuple]]:
    """The ready days of a span and their stored rows (day, dimension, key, counts, *durations)."""
    marks = ", ".join("?" for _ in dimensions)
    columns = "counts, waits, services, walks" if samples else "counts"
    with _snapshot(db):
        tokens = {row[0]: row[1] for row in db.conn.execute(
            """SELECT local_day, token FROM stats_days WHERE centre_id = ? AND local_day BETWEEN ? AND ?
               AND ready = 1 AND timezone = ?""", (centre_id, first, last, tz.key))}
        rows = []
        if tokens and dimensions:
            # Rows of a day rebuilt since carry another token; matching here keeps the plan a plain range scan.
            rows = [row for row in db.conn.execute(
                f"""SELECT local_day, dimension, key, token, {columns} FROM stats_daily
                    WHERE centre_id = ? AND dimension IN ({marks}) AND local_day BETWEEN ? AND ?""",
                (centre_id, *dimensions, first, last)) if tokens.get(row[0]) == row[3]]
    return set(tokens), rows


def _claim(db, centre_id: str, tz: ZoneInfo, days: list[str], token: str) -> bool:
    """Mark days as being built by us; an event arriving meanwhile deletes the mark."""
    try:
        with store.transaction(db):
            db.conn.executemany(
                """INSERT OR REPLACE INTO stats_days (centre_id, local_day, timezone, token, ready, built_at)
                   VALUES (?, ?, ?, ?, 0, ?)""", [(centre_id, day, tz.key, token, time.time()) for day in days])
        return True
    except sqlite3.OperationalError:  # read-only file or a writer holding the lock: just don't keep it
        return False


def _store(db, centre_id: str, days: dict[str, dict[tuple[str, int], Tally]], token: str) -> None:
    """Keep the tallies of the claimed days that no change has touched since we claimed them."""
    marks = ", ".join("?" for _ in DIMENSIONS)
    try:
        with store.transaction(db):
            for day, tallies in days.items():
                mark = db.conn.execute("SELECT token, ready FROM stats_days WHERE centre_id = ? AND local_day = ?",
                                       (centre_id, day)).fetchone()
                if mark is None or tuple(mark) != (token, 0):
                    continue  # changed while we read it, or someone else is building it
                db.conn.execute(f"DELETE FROM stats_daily WHERE centre_id = ? AND dimension IN ({marks})"
                                " AND local_day = ?", (centre_id, *DIMENSIONS, day))
                db.conn.executemany(
                    """INSERT INTO stats_daily (centre_id, dimension, local_day, key, token, counts, waits,
                                                services, walks) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                    [(centre_id, dimension, day, key, token, *tally.to_blobs())
                     for (dimension, key), tally in tallies.items()])
                db.conn.execute("UPDATE stats_days SET ready = 1, built_at = ? WHERE centre_id = ? AND local_day = ?",
                                (time.time(), centre_id, day))
    except sqlite3.OperationalError:
        pass


def forget_stale(db, centre_id: str) -> int:
    """Delete stored daily rows that no ready or building day owns any more (call inside a write)."""
    return store.execute(db, """DELETE FROM stats_daily WHERE centre_id = ? AND NOT EXISTS (
                                SELECT 1 FROM stats_days s WHERE s.centre_id = stats_daily.centre_id
                                AND s.local_day = stats_daily.local_day AND s.token = stats_daily.token)""",
                         (centre_id,))


def _local_today(tz: ZoneInfo) -> str:
    return datetime.now(tz).date().isoformat()


def _gather(db, centre_id: str, tz: ZoneInfo, date_from: date, date_to: date, dimensions: tuple[str, ...],
            group, samples: bool = True) -> dict:
    """Tallies of some dimensions over a range, merged under group(day, dimension, key).

    Stored summaries serve the days that have one; the other days are replayed from the event log,
    and those already closed are stored for next time.
    """
    merged: dict = {}

    def tally_of(target) -> Tally:
        found = merged.get(target)
        if found is None:
            found = merged[target] = Tally()
        return found

    days = _days(date_from, date_to)
    ready, rows = _read_cache(db, centre_id, tz, days[0], days[-1], dimensions, samples)
    for day, dimension, key, _token, counts, *durations in rows:
        tally_of(group(day, dimension, key)).add_stored(counts, durations)
    missing = [day for day in days if day not in ready]
    if not missing:
        return merged
    today = _local_today(tz)
    # Today changes with every call; summarising it would only churn the write lock.
    closed = [day for day in missing if day < today] if not db.conn.in_transaction else []
    token = secrets.token_hex(8)
    keep = bool(closed) and _claim(db, centre_id, tz, closed, token)
    built = _build(db, centre_id, tz, missing)
    if keep:
        _store(db, centre_id, {day: built.get(day, {}) for day in closed}, token)
    for day, tallies in built.items():
        for (dimension, key), tally in tallies.items():
            if dimension in dimensions:
                tally_of(group(day, dimension, key)).merge(tally)
    return merged


def refresh(db, centre_id: str, tz: ZoneInfo, date_from: date, date_to: date) -> int:
    """Build the stored daily summaries of the closed days of a range now; returns how many were built."""
    _check_range(date_from, date_to)
    before = _ready_days(db, centre_id, tz, date_from, date_to)
    _gather(db, centre_id, tz, date_from, date_to, (), None)
    return _ready_days(db, centre_id, tz, date_from, date_to) - before


def _ready_days(db, centre_id, tz, date_from, date_to) -> int:
    return store.scalar(db, """SELECT COUNT(*) FROM stats_days WHERE centre_id = ? AND local_day BETWEEN ? AND ?
                               AND ready = 1 AND timezone = ?""",
                        (centre_id, date_from.isoformat(), date_to.isoformat(), tz.key))


def _check_range(date_from, date_to) -> None:
    if not isinstance(date_from, date) or not isinstance(date_to, date):
        raise QueueError("Khoảng ngày không hợp lệ (dates must be YYYY-MM-DD)", code="bad_range")
    if date_from > date_to:
        raise QueueError("Ngày bắt đầu sau ngày kết thúc (from is after to)", code="bad_range")
