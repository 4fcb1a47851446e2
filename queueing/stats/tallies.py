"""Tallies: the counts and duration samples of one key of a breakdown, and how each ticket adds to them."""
from __future__ import annotations

import sys
from array import array
from datetime import datetime
from itertools import chain
from typing import Iterable
from zoneinfo import ZoneInfo

from . import quantiles
from .replay import TicketFacts, Visit, _elapsed

# Stored per day: the ticket breakdowns, the visit breakdowns, and served tickets by finish hour.
DIMENSIONS = ("service", "procedure", "counter", "clerk", "hour", "day", "finish_hour")
DAY_KEY = 0  # the single key of the "day" dimension

# Positions in Tally.counts (stored as an int64 array; append new ones only at the end).
ISSUED, CALLED, SERVED, NO_SHOW, TRANSFERRED, SLA_MET, RATED_1, RATED_2, RATED_3, PROCEDURES, EXPIRED = range(11)
COUNT_FIELDS = 11
COUNT_BYTES = 8 * COUNT_FIELDS
WAITS, SERVICES, WALKS = METRICS = (0, 1, 2)


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
        if pieces > 1 and (count <= quantiles.SORT_BELOW or count < quantiles.SELECT_RUN_LENGTH * pieces):
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
