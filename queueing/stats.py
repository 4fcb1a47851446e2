"""Queue statistics computed from the ticket event log.

Every figure is rebuilt from `ticket_events` (plus `ticket_procedures` for which procedures a
ticket handled, and each ticket's issue day and hour); nothing is averaged from averages.

Which tickets
    A range `date_from`..`date_to` (both inclusive) selects the tickets ISSUED on those days in the
    centre's time zone (`tickets.local_day`, fixed when the ticket is issued). Everything that
    happens to such a ticket counts for its issue day, even if it is finished after midnight.
    Pass the centre's own zone as `tz`: stored issue days and hours are in it, and `tz` turns the
    other instants (finish hours, journal times, "today") into local time.

Per ticket (from its events, in log order)
    Events are replayed in the order they were written (`ticket_events.id`), never by their clock
    time: a clock stepped back (NTP, a manual fix) must not reorder a ticket's history. Every
    duration below is clamped at 0, so such a step gives a wait of 0, never a negative one (a 0
    wait is within any target wait).
    A *visit* is one stay at a counter: it begins with a call (`called` or
    `called_out_of_order`) and ends with `finished`, `no_show`, `transferred` or
    `returned_on_sign_out` (or `expired`, when the day closed on a called ticket); `recalled` and `started` belong to the open visit and `rated` to the
    last one. A ticket that is transferred or returned to the queue has several visits.
    - wait    = first call − issue (the `issued` event), for every called ticket, no-shows included.
    - walk    = start − the call that opened the visit; a ticket's walk is the sum over its
                started visits (one visit for nearly every ticket).
    - service = finish − start; a ticket's service time is the sum of its serving periods
                (start → end of each started visit), counted only for finished tickets
                (status done). A ticket that handled several procedures still has ONE service
                time: it counts once per ticket everywhere, and once for each of its procedures
                in the per-procedure breakdown.
    - status  = the status after its last event: done ("served"), no_show, or still open. A no-show
                restored (`restored`, issue 11) waits again: if it is then served it counts as
                served, not as a no-show; its wait stays first call − issue, and it counts once as
                called. Its first visit still counts as a no-show visit at that counter and clerk.
    - transferred = the ticket was transferred (to a service or a counter) at least once.

Ticket breakdowns: service, hour, day, weekday_hour and summary()
    One row counts each ticket once. `service` is the service the ticket was ISSUED for (where
    its wait happened), even if it was later transferred elsewhere; `hour` is the local hour of
    issue (08 = 08:00–08:59); `day` the local issue day; `weekday_hour` the issue weekday and hour
    (key "1-08" = Monday 08:00, 7 = Sunday).
    issued = tickets; called = tickets called at least once; served = finished tickets;
    no_show = tickets that ended as no-shows; expired = tickets still waiting or called when the
    day closed (issued, never served; their wait is not counted unless they had been called);
    transferred = tickets transferred at least once.

Procedure breakdown
    A row holds the finished tickets that handled that procedure (a ticket with two procedures is
    in two rows, with its whole wait, walk and service time in each). issued is None (tickets
    are issued for services, not procedures); called = served = those tickets; no_show = 0.

Counter and clerk breakdowns (visits)
    A row holds the visits at that counter (or with that clerk). called = visits; served = visits
    ended by `finished` there; no_show = visits ended by `no_show` there; transferred = visits
    ended by a transfer away from there; expired = visits the day's close ended there; issued is None. service = finish − start of the visits
    finished there; walk = start − call of the visits started there; wait and SLA count only a
    ticket's FIRST visit (its first call happened there); ratings count at the counter and clerk
    that finished the ticket. So a transferred ticket is one transfer at the first counter and one
    call (and usually one service) at the next.

Rates (percentages 0–100, rounded to 0.1; None when the denominator is 0)
    sla_pct          = tickets whose wait ≤ the target wait (`services.target_wait_s`, as set now)
                       of the service they were issued for / tickets with a wait.
    no_show_pct      = no_show / called.
    satisfaction_pct = (ratings 3 "Rất hài lòng" + ratings 2 "Hài lòng") / ratings.
    ratings          = {"1": n, "2": n, "3": n}.
    procedures_per_ticket = procedures handled / served (rounded to 0.01), None when none served.

Mean, median and p90 (seconds, rounded to 0.1; None for an empty set)
    Exact, over the individual tickets (or visits) of the row. The q-quantile of the n sorted
    values x[0..n-1] is linear interpolation between closest ranks (numpy's default, Excel's
    PERCENTILE.INC): h = (n − 1)·q, value = x[⌊h⌋] + (h − ⌊h⌋)·(x[⌊h⌋+1] − x[⌊h⌋]). The median is
    q = 0.5 (the middle value, or the mean of the two middle values); p90 is q = 0.9.

Rows of compute(by=...)
    Every row has key, label, issued, called, served, no_show, expired, transferred, wait_s, service_s,
    walk_s ({mean, median, p90}), sla_pct, no_show_pct, satisfaction_pct, ratings and
    procedures_per_ticket. Empty keys are listed too, with zero counts and None figures:
    - service: every active service (and any other with tickets) in display order; key = code,
      label = name.
    - procedure: every active procedure (and any other with tickets); key = code, label = name,
      plus `service` (its service's code).
    - counter: every active counter; key = counter number, label "Quầy N – name", plus
      `counter_id`.
    - clerk: every active clerk account and anyone else with visits; key = username, label =
      display name, plus `user_id`.
    - hour: 24 rows, key 0..23, label "08:00".
    - day: one row per date of the range, key "2026-03-02", label "02/03/2026 (T2)".
    - weekday_hour: 7 × 24 rows, key "1-08", label "T2 08:00", plus `weekday` (1 Monday ..
      7 Sunday) and `hour`.

Other figures
    today_kpis: `day` = today in `tz`; waiting_now = today's tickets waiting at this moment;
    serving_now = today's tickets called or being served; longest_wait_s = now − issue of the oldest
    waiting ticket (None when none wait); issued, called, served, no_show, mean_wait_s,
    median_wait_s, sla_pct and satisfaction_pct of the tickets issued today (waits of tickets not
    yet called are not in the mean).
    wait_histogram: how many called tickets had a wait in [from_s, to_s), buckets of bucket_s
    seconds from 0 up to the last non-empty one; [] when no ticket was called.
    hourly_arrivals_served: 24 rows; issued = tickets by local hour of issue, served = finished
    tickets by local hour of finish (of the tickets issued in the range).
    ticket_journal: one flat dict per ticket issued in the range, in issue order: local_day,
    number, service (issued for), service_name, final_service, priority, lang, status, issued_at,
    first_called_at, started_at (first start), finished_at (finish or no-show) as ISO 8601 local
    times, counter, counter_number and clerk of its last visit, procedures ("TP-01, TP-03"),
    rating, wait_s, walk_s, service_s, recalls, transfers. No citizen data: no name, ID number,
    birth year, dossier number or ticket id.

Daily summaries
    Figures of days before today are kept per day in `stats_daily` (counts plus the sorted
    durations, so merged medians stay exact) and read back instead of replaying the log; a
    quantile over many stored days is found by exact selection (a sample brackets the rank,
    bisection in each day proves the bracket, only that slice is sorted). Triggers delete a
    day's `stats_days` row whenever an event, procedure or ticket of that day changes (or a
    target wait changes), which makes the day be rebuilt from the log on the next request.
    Today is always computed from the log.
"""
from __future__ import annotations

import math
import secrets
import sqlite3
import sys
import time
from array import array
from bisect import bisect_left, bisect_right
from contextlib import contextmanager
from datetime import date, datetime, timedelta, timezone
from itertools import accumulate, chain
from typing import Iterable, Iterator
from zoneinfo import ZoneInfo

from . import store
from .model import QueueError, epoch_to_iso

BREAKDOWNS = ("service", "procedure", "counter", "clerk", "hour", "day", "weekday_hour")
WEEKDAY_SHORT = ("T2", "T3", "T4", "T5", "T6", "T7", "CN")  # Monday first, as in Vietnamese calendars

CALL_KINDS = frozenset({"called", "called_out_of_order"})
END_KINDS = frozenset({"finished", "no_show", "transferred", "returned_on_sign_out", "expired"})

# Stored per day: the ticket breakdowns, the visit breakdowns, and served tickets by finish hour.
DIMENSIONS = ("service", "procedure", "counter", "clerk", "hour", "day", "finish_hour")
DAY_KEY = 0  # the single key of the "day" dimension

# Positions in Tally.counts (stored as an int64 array; append new ones only at the end).
ISSUED, CALLED, SERVED, NO_SHOW, TRANSFERRED, SLA_MET, RATED_1, RATED_2, RATED_3, PROCEDURES, EXPIRED = range(11)
COUNT_FIELDS = 11
COUNT_BYTES = 8 * COUNT_FIELDS
WAITS, SERVICES, WALKS = METRICS = (0, 1, 2)
# Exact quantiles of many stored days: below this many values sort them all, above it select.
SORT_BELOW = 8192
SELECT_RUN_LENGTH = 32  # values per run, on average, worth bisecting
SAMPLE_SIZE = 1024
SAMPLE_MARGIN = 24

EMPTY_STATS = {"mean": None, "median": None, "p90": None}


# ---- per ticket ------------------------------------------------------------------------------

class Visit:
    """One stay of a ticket at a counter, from the call to whatever ended it."""

    __slots__ = ("counter_id", "clerk_id", "service_id", "called_at", "started_at", "ended_at", "outcome",
                 "recalls", "rating")

    def __init__(self, counter_id, clerk_id, service_id, called_at):
        self.counter_id = counter_id
        self.clerk_id = clerk_id
        self.service_id = service_id
        self.called_at = called_at
        self.started_at = None
        self.ended_at = None
        self.outcome = None
        self.recalls = 0
        self.rating = None


def _elapsed(start: float, end: float) -> float:
    """Seconds from start to end, 0 when the clock was stepped back between them (never negative)."""
    return max(0.0, end - start)


class TicketFacts:
    """One ticket as its events tell it: issue, visits, status, rating and procedures."""

    __slots__ = ("id", "local_day", "local_hour", "service_id", "issued_at", "status", "visits", "rating",
                 "procedure_ids")

    def __init__(self, ticket_id, local_day, local_hour, service_id, issued_at, procedure_ids):
        self.id = ticket_id
        self.local_day = local_day
        self.local_hour = local_hour
        self.service_id = service_id
        self.issued_at = issued_at
        self.status = "waiting"
        self.visits: list[Visit] = []
        self.rating = None
        self.procedure_ids = procedure_ids

    def apply(self, kind, at, service_id, counter_id, clerk_id, to_status, score) -> None:
        """Fold one event, in log order, into the ticket."""
        if to_status:
            self.status = to_status
        if kind in CALL_KINDS:
            self.visits.append(Visit(counter_id, clerk_id, service_id, at))
        elif kind == "issued":
            self.issued_at, self.service_id = at, service_id or self.service_id
        elif not self.visits:
            return  # every other kind needs a call first; an odd log must not crash a report
        elif kind == "started":
            if self.visits[-1].started_at is None:
                self.visits[-1].started_at = at
        elif kind in END_KINDS:
            self.visits[-1].ended_at, self.visits[-1].outcome = at, kind
        elif kind == "recalled":
            self.visits[-1].recalls += 1
        elif kind == "rated" and score in (1, 2, 3):
            self.rating = self.visits[-1].rating = score

    @property
    def first_called_at(self):
        return self.visits[0].called_at if self.visits else None

    @property
    def wait_s(self):
        return _elapsed(self.issued_at, self.visits[0].called_at) if self.visits else None

    @property
    def walk_s(self):
        walks = [_elapsed(v.called_at, v.started_at) for v in self.visits if v.started_at is not None]
        return sum(walks) if walks else None

    @property
    def service_s(self):
        if self.status != "done":
            return None
        return sum(_elapsed(v.started_at, v.ended_at) for v in self.visits
                   if v.started_at is not None and v.ended_at is not None)

    @property
    def started_at(self):
        return next((v.started_at for v in self.visits if v.started_at is not None), None)

    @property
    def finished_at(self):
        return self.visits[-1].ended_at if self.visits and self.status in ("done", "no_show") else None

    @property
    def transfers(self) -> int:
        return sum(1 for v in self.visits if v.outcome == "transferred")

    @property
    def recalls(self) -> int:
        return sum(v.recalls for v in self.visits)


EVENTS_SQL = """
    SELECT t.id, t.local_day, t.local_hour, t.number_service_id, t.issued_at,
           e.kind, e.at, e.service_id, e.counter_id, e.clerk_id, e.to_status,
           CASE WHEN e.kind = 'rated' THEN json_extract(e.detail, '$.score') END
    FROM tickets t JOIN ticket_events e ON e.ticket_id = t.id
    WHERE t.centre_id = ? AND t.local_day BETWEEN ? AND ?
    ORDER BY t.local_day, t.rowid, e.id
"""


def ticket_facts(db, centre_id: str, first_day: str, last_day: str) -> Iterator[TicketFacts]:
    """Replay the event log of the tickets issued between two local days (inclusive)."""
    procedures: dict[str, list[int]] = {}
    for ticket_id, procedure_id in db.conn.execute(
            """SELECT tp.ticket_id, tp.procedure_id FROM tickets t
               JOIN ticket_procedures tp ON tp.ticket_id = t.id
               WHERE t.centre_id = ? AND t.local_day BETWEEN ? AND ?""", (centre_id, first_day, last_day)):
        procedures.setdefault(ticket_id, []).append(procedure_id)
    current = None
    for (ticket_id, local_day, local_hour, service_id, issued_at, kind, at, event_service_id, counter_id,
         clerk_id, to_status, score) in db.conn.execute(EVENTS_SQL, (centre_id, first_day, last_day)):
        if current is None or current.id != ticket_id:
            if current is not None:
                yield current
            current = TicketFacts(ticket_id, local_day, local_hour, service_id, issued_at,
                                  procedures.get(ticket_id, ()))
        current.apply(kind, at, event_service_id, counter_id, clerk_id, to_status, score)
    if current is not None:
        yield current


# ---- tallies -----------------------------------------------------------------------------------

class Tally:
    """Counts and every duration sample of one key of a breakdown, over one or more days."""

    __slots__ = ("counts", "fresh", "stored_counts", "stored")

    def __init__(self):
        self.counts = [0] * COUNT_FIELDS  # counted while replaying the log
        # Durations appended while replaying the log, in any order: waits, services, walks.
        self.fresh = (array("d"), array("d"), array("d"))
        # Stored days stay bytes until needed, so a year of days costs one join per column:
        # int64 counts and sorted little-endian float64 durations.
        self.stored_counts: list[bytes] = []
        self.stored: tuple[list[bytes], list[bytes], list[bytes]] = ([], [], [])

    def merge(self, other: "Tally") -> None:
        self.counts = [a + b for a, b in zip(self.counts, other.counts)]
        self.stored_counts.extend(other.stored_counts)
        for mine, theirs in zip(self.fresh, other.fresh):
            mine.extend(theirs)
        for mine, theirs in zip(self.stored, other.stored):
            mine.extend(theirs)

    def add_stored(self, counts: bytes, samples) -> None:
        """Add one stored day's counts and (when they were read) its sorted durations."""
        if len(counts) != COUNT_BYTES:  # a row from a version with fewer counts: missing ones are 0
            counts = counts[:COUNT_BYTES].ljust(COUNT_BYTES, b"\0")
        self.stored_counts.append(counts)
        for blobs, blob in zip(self.stored, samples):
            if blob:
                blobs.append(blob)

    def totals(self) -> list[int]:
        """Every count, replayed and stored together."""
        if not self.stored_counts:
            return list(self.counts)
        stored = _unpack("q", b"".join(self.stored_counts))
        return [mine + sum(stored[index::COUNT_FIELDS]) for index, mine in enumerate(self.counts)]

    def size(self, metric: int) -> int:
        return len(self.fresh[metric]) + sum(map(len, self.stored[metric])) // 8

    def runs(self, metric: int) -> list:
        """One metric's durations as sorted runs (one per stored day, one for the replayed days)."""
        stored, fresh = self.stored[metric], self.fresh[metric]
        count, pieces = self.size(metric), len(stored) + bool(fresh)
        if pieces > 1 and (count <= SORT_BELOW or count < SELECT_RUN_LENGTH * pieces):
            # Few values or many short days: one sort of everything beats selecting among runs.
            values = _unpack("d", b"".join(stored))
            values.extend(fresh)
            return [sorted(values)]
        runs = [_unpack("d", blob) for blob in stored]
        if fresh:
            runs.append(array("d", sorted(fresh)))
        return runs

    def to_blobs(self) -> tuple[bytes, bytes, bytes, bytes]:
        return (_pack(array("q", self.totals())),
                *(_pack(array("d", sorted(chain.from_iterable(self.runs(metric))))) for metric in METRICS))


def _pack(values: array) -> bytes:
    # Stored little-endian so a database file moves between machines unchanged.
    if sys.byteorder == "big":
        values = array(values.typecode, values)
        values.byteswap()
    return values.tobytes()


def _unpack(typecode: str, blob: bytes) -> array:
    values = array(typecode)
    values.frombytes(blob)
    if sys.byteorder == "big":
        values.byteswap()
    return values


def _ticket_share(ticket: TicketFacts, target) -> tuple:
    """What one ticket adds to each ticket breakdown it belongs to: count fields and durations."""
    wait, done = ticket.wait_s, ticket.status == "done"
    fields = [ISSUED]
    if wait is not None:
        fields.append(CALLED)
        if target is not None and wait <= target:
            fields.append(SLA_MET)
    if done:
        fields.append(SERVED)
    elif ticket.status == "no_show":
        fields.append(NO_SHOW)
    elif ticket.status == "expired":
        fields.append(EXPIRED)
    if ticket.transfers:
        fields.append(TRANSFERRED)
    if ticket.rating:
        fields.append(RATED_1 + ticket.rating - 1)
    return fields, len(ticket.procedure_ids) if done else 0, wait, ticket.walk_s, ticket.service_s


def _add_share(tally: Tally, share: tuple) -> None:
    """Count a ticket once in a ticket breakdown."""
    fields, procedures, wait, walk, service = share
    counts = tally.counts
    for field in fields:
        counts[field] += 1
    counts[PROCEDURES] += procedures
    if wait is not None:
        tally.fresh[WAITS].append(wait)
    if walk is not None:
        tally.fresh[WALKS].append(walk)
    if service is not None:
        tally.fresh[SERVICES].append(service)


def _add_visit(tally: Tally, ticket: TicketFacts, visit: Visit, first: bool, target) -> None:
    """Count one visit in a counter or clerk breakdown."""
    counts = tally.counts
    counts[CALLED] += 1
    if first:
        wait = _elapsed(ticket.issued_at, visit.called_at)
        tally.fresh[WAITS].append(wait)
        if target is not None and wait <= target:
            counts[SLA_MET] += 1
    if visit.started_at is not None:
        tally.fresh[WALKS].append(_elapsed(visit.called_at, visit.started_at))
    if visit.outcome == "finished":
        counts[SERVED] += 1
        counts[PROCEDURES] += len(ticket.procedure_ids)
        if visit.started_at is not None:
            tally.fresh[SERVICES].append(_elapsed(visit.started_at, visit.ended_at))
    elif visit.outcome == "no_show":
        counts[NO_SHOW] += 1
    elif visit.outcome == "transferred":
        counts[TRANSFERRED] += 1
    elif visit.outcome == "expired":
        counts[EXPIRED] += 1
    if visit.rating:
        counts[RATED_1 + visit.rating - 1] += 1


def _tally_of(tallies: dict, dimension: str, key) -> Tally:
    found = tallies.get((dimension, key))
    if found is None:
        found = tallies[(dimension, key)] = Tally()
    return found


def tally_tickets(tickets: Iterable[TicketFacts], targets: dict[int, int], tz: ZoneInfo
                  ) -> dict[str, dict[tuple[str, int], Tally]]:
    """Every dimension's tallies per issue day: {day: {(dimension, key): Tally}}."""
    days: dict[str, dict[tuple[str, int], Tally]] = {}
    for ticket in tickets:
        tallies = days.get(ticket.local_day)
        if tallies is None:
            tallies = days[ticket.local_day] = {}
        target = targets.get(ticket.service_id)
        share = _ticket_share(ticket, target)
        _add_share(_tally_of(tallies, "service", ticket.service_id), share)
        _add_share(_tally_of(tallies, "hour", ticket.local_hour), share)
        _add_share(_tally_of(tallies, "day", DAY_KEY), share)
        for procedure_id in dict.fromkeys(ticket.procedure_ids):
            _add_share(_tally_of(tallies, "procedure", procedure_id), share)
        for index, visit in enumerate(ticket.visits):
            visit_target = targets.get(visit.service_id, target)
            if visit.counter_id is not None:
                _add_visit(_tally_of(tallies, "counter", visit.counter_id), ticket, visit, index == 0, visit_target)
            if visit.clerk_id is not None:
                _add_visit(_tally_of(tallies, "clerk", visit.clerk_id), ticket, visit, index == 0, visit_target)
        if ticket.status == "done" and ticket.visits:
            hour = datetime.fromtimestamp(ticket.visits[-1].ended_at, tz).hour
            _tally_of(tallies, "finish_hour", hour).counts[SERVED] += 1
    return days


# ---- daily summaries -----------------------------------------------------------------------------

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
        with store.write_lock(db):
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
        with store.write_lock(db):
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


# ---- figures ----------------------------------------------------------------------------------

def quantile(ordered, numerator: int, denominator: int) -> float:
    """The (numerator/denominator)-quantile of sorted values by linear interpolation between closest ranks."""
    index, remainder = divmod((len(ordered) - 1) * numerator, denominator)
    low = ordered[index]
    if remainder == 0:
        return low
    return low + (ordered[index + 1] - low) * remainder / denominator


def _ranked(runs: list[array], count: int, ranks: list[int]) -> list[float]:
    """The values at some 0-based ranks of the union of sorted runs, without sorting all of it."""
    if len(runs) == 1:
        return [runs[0][rank] for rank in ranks]
    if count <= SORT_BELOW or count < SELECT_RUN_LENGTH * len(runs):
        # few values, or many short runs: merging them all is cheaper than bisecting each run
        ordered = sorted(chain.from_iterable(runs))
        return [ordered[rank] for rank in ranks]
    # A sample of about SAMPLE_SIZE values, each standing for its share of its run, estimates where
    # a rank lies; exact counts by bisection then prove that a bracket [low, high] of sample values
    # holds it, and only that slice of each run is sorted.
    step = max(1, count // SAMPLE_SIZE)
    sample = []
    for run in runs:
        picks = -(-len(run) // step)
        share = len(run) / picks
        sample.extend((run[int((pick + 0.5) * share)], share) for pick in range(picks))
    sample.sort()
    positions = list(accumulate(share for _, share in sample))
    found: dict[int, float] = {}
    for rank in ranks:
        if rank in found:
            continue
        guess = bisect_right(positions, rank)
        for margin in (SAMPLE_MARGIN, 8 * SAMPLE_MARGIN):
            low, high = guess - margin, guess + margin
            starts = [bisect_left(run, sample[low][0]) for run in runs] if low > 0 else [0] * len(runs)
            ends = [bisect_right(run, sample[high][0]) for run in runs] if high < len(sample) else list(map(len, runs))
            below, upto = sum(starts), sum(ends)
            if below <= rank < upto:
                window = sorted(chain.from_iterable(run[start:end] for run, start, end in zip(runs, starts, ends)))
                # the next ranks (the other side of an interpolation) are usually in the same window
                found.update((other, window[other - below]) for other in ranks if below <= other < upto)
                break
        else:  # the sample misled us twice: sort everything rather than guess
            ordered = sorted(chain.from_iterable(runs))
            return [ordered[rank] for rank in ranks]
    return [found[rank] for rank in ranks]


def _quantiles_of_runs(runs: list[array], count: int, fractions: list[tuple[int, int]]) -> list[float]:
    """Quantiles (numerator, denominator) of sorted runs, interpolated as `quantile` does."""
    places = [(*divmod((count - 1) * numerator, denominator), denominator) for numerator, denominator in fractions]
    needed = sorted({rank for index, remainder, _ in places
                     for rank in ((index, index + 1) if remainder else (index,))})
    found = dict(zip(needed, _ranked(runs, count, needed)))
    return [found[index] + (found[index + 1] - found[index]) * remainder / denominator if remainder else found[index]
            for index, remainder, denominator in places]


def describe_runs(runs: list[array]) -> dict:
    """Mean, median and p90 of sorted runs of durations in seconds, rounded to 0.1 s; None when empty."""
    count = sum(map(len, runs))
    if not count:
        return dict(EMPTY_STATS)
    # fsum is exact, so the mean is the same whatever order the days were read in.
    median, p90 = _quantiles_of_runs(runs, count, [(1, 2), (9, 10)])
    return {"mean": round(math.fsum(chain.from_iterable(runs)) / count, 1), "median": round(median, 1),
            "p90": round(p90, 1)}


def describe(values) -> dict:
    """Mean, median and p90 of some durations in seconds, rounded to 0.1 s; None when there are none."""
    return describe_runs([array("d", sorted(values))])


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


def _check_range(date_from, date_to) -> None:
    if not isinstance(date_from, date) or not isinstance(date_to, date):
        raise QueueError("Khoảng ngày không hợp lệ (dates must be YYYY-MM-DD)", code="bad_range")
    if date_from > date_to:
        raise QueueError("Ngày bắt đầu sau ngày kết thúc (from is after to)", code="bad_range")


def compute(db, centre_id: str, tz: ZoneInfo, date_from: date, date_to: date, by: str) -> list[dict]:
    """One row of figures per key of a breakdown (see the module docstring for every definition)."""
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

    def row(key, label, tally, counts_issued=True, **extra):
        rows.append({"key": key, "label": label, **extra, **_figures(tally or Tally(), counts_issued)})

    if by == "service":
        for service in names.services:
            if service["active"] or service["id"] in merged:
                row(service["code"], service["name"], merged.get(service["id"]))
    elif by == "procedure":
        for procedure in names.procedures:
            if procedure["active"] or procedure["id"] in merged:
                row(procedure["code"], procedure["name"], merged.get(procedure["id"]), counts_issued=False,
                    service=procedure["service_code"])
    elif by == "counter":
        for counter in names.counters:
            if counter["active"] or counter["id"] in merged:
                row(counter["number"], counter_label(counter["number"], counter["name"]), merged.get(counter["id"]),
                    counts_issued=False, counter_id=counter["id"])
    elif by == "clerk":
        for user in names.clerks:
            if (user["active"] and user["role"] == "clerk") or user["id"] in merged:
                row(user["username"], user["display_name"] or user["username"], merged.get(user["id"]),
                    counts_issued=False, user_id=user["id"])
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


def summary(db, centre_id: str, tz: ZoneInfo, date_from: date, date_to: date) -> dict:
    """The whole range's figures in one row, with the same fields as a breakdown row."""
    _check_range(date_from, date_to)
    return {"key": "all", "label": "Tổng cộng", "date_from": date_from.isoformat(), "date_to": date_to.isoformat(),
            **_figures(_total(db, centre_id, tz, date_from, date_to), True)}


def today_kpis(db, centre_id: str, tz: ZoneInfo, now_epoch: float) -> dict:
    """Today's headline figures for the manager's monitor, always from the live event log."""
    today = datetime.fromtimestamp(now_epoch, timezone.utc).astimezone(tz).date()
    tally = _build(db, centre_id, tz, [today.isoformat()]).get(today.isoformat(), {}).get(("day", DAY_KEY)) or Tally()
    figures = _figures(tally, True)
    # Today's tickets only: one left over from an earlier day (not yet expired) is not today's queue.
    waiting, oldest = db.conn.execute(
        "SELECT COUNT(*), MIN(issued_at) FROM tickets WHERE centre_id = ? AND status = 'waiting' AND local_day = ?",
        (centre_id, today.isoformat())).fetchone()
    serving = store.scalar(db, """SELECT COUNT(*) FROM tickets WHERE centre_id = ? AND status IN ('called', 'serving')
                                  AND local_day = ?""", (centre_id, today.isoformat()))
    return {
        "day": today.isoformat(), "waiting_now": waiting, "serving_now": serving,
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
