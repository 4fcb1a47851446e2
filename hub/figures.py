"""What each ticket adds to the hub's summary rows, and the contract's figures read back from them.

Plain Python, no database. A ticket's facts come from the core's own replay (`queueing.stats.replay`)
and its share from the core's own tally rules (`queueing.stats.tallies`), so wait, service, SLA,
no-show and satisfaction mean exactly what they mean at a centre. When a ticket's log grows, its
old share is taken away and its new one added: a summary row is always the sum of its tickets' shares.

Exact and not exact
    counts (issued, called, served, no_show, expired), SLA, satisfaction, no-show and on-time shares
    and every mean are exact (counts and sums of seconds). Medians and p90 are read from per-day
    histograms: 5 s buckets up to 10 min, 30 s up to 1 h, 5 min up to 6 h, then one bucket; within a
    bucket the rank is interpolated linearly, so a median or p90 is within one bucket width (5 s for
    anything under 10 minutes) of the exact figure a centre computes from every value.
"""
from __future__ import annotations

import sys
from array import array
from bisect import bisect_right
from datetime import date

from queueing.stats.replay import TicketFacts
from queueing.stats.tallies import (CALLED, EXPIRED, ISSUED, NO_SHOW, RATED_1, RATED_2, RATED_3, SERVED,
                                    SLA_MET, _ticket_share)

# Positions in a summary row's `counts` (append new ones only at the end).
(C_ISSUED, C_CALLED, C_SERVED, C_NO_SHOW, C_EXPIRED, C_SLA_MET, C_RATED_1, C_RATED_2, C_RATED_3, C_WAIT_N,
 C_SERVICE_N, C_DOSSIERS_DONE, C_DOSSIERS_ON_TIME) = range(13)
COUNT_FIELDS = 13
_FROM_TALLY = {ISSUED: C_ISSUED, CALLED: C_CALLED, SERVED: C_SERVED, NO_SHOW: C_NO_SHOW, EXPIRED: C_EXPIRED,
               SLA_MET: C_SLA_MET, RATED_1: C_RATED_1, RATED_2: C_RATED_2, RATED_3: C_RATED_3}
S_WAIT, S_SERVICE = 0, 1  # positions in `sums` (seconds)

# Histogram bucket lower edges (seconds): 5 s to 10 min, 30 s to 1 h, 5 min to 6 h, then one open bucket.
EDGES = ([5 * i for i in range(120)] + [600 + 30 * i for i in range(100)] + [3600 + 300 * i for i in range(72)]
         + [21600])
BUCKETS = len(EDGES)
_OPEN_BUCKET_WIDTH = 3600  # an open-ended bucket is read as one hour wide

SERVICE_ROW = ""  # the `procedure` of a service's own row


def pack_histogram(counts) -> bytes:
    """A histogram as stored: little-endian int32 per bucket, trailing empty buckets left out."""
    end = len(counts)
    while end and not counts[end - 1]:
        end -= 1
    values = array("i", counts[:end])
    if sys.byteorder == "big":
        values.byteswap()
    return values.tobytes()


def unpack_histogram(blob) -> array:
    values = array("i")
    values.frombytes(bytes(blob or b""))
    if sys.byteorder == "big":
        values.byteswap()
    return values


def bucket_of(seconds: float) -> int:
    return bisect_right(EDGES, max(0.0, seconds)) - 1


def _width(index: int) -> float:
    return EDGES[index + 1] - EDGES[index] if index + 1 < BUCKETS else _OPEN_BUCKET_WIDTH


class Delta:
    """What a batch changes in one summary row: counts, sums and sparse histogram changes."""

    __slots__ = ("counts", "sums", "wait_hist", "service_hist")

    def __init__(self):
        self.counts = [0] * COUNT_FIELDS
        self.sums = [0.0, 0.0]
        self.wait_hist: dict[int, int] = {}
        self.service_hist: dict[int, int] = {}

    def add_share(self, share: tuple, sign: int) -> None:
        fields, _procedures, wait, _walk, service = share
        for field in fields:
            position = _FROM_TALLY.get(field)
            if position is not None:
                self.counts[position] += sign
        if wait is not None:
            self.counts[C_WAIT_N] += sign
            self.sums[S_WAIT] += sign * wait
            bucket = bucket_of(wait)
            self.wait_hist[bucket] = self.wait_hist.get(bucket, 0) + sign
        if service is not None:
            self.counts[C_SERVICE_N] += sign
            self.sums[S_SERVICE] += sign * service
            bucket = bucket_of(service)
            self.service_hist[bucket] = self.service_hist.get(bucket, 0) + sign

    def merge(self, other: "Delta") -> None:
        self.counts = [a + b for a, b in zip(self.counts, other.counts)]
        self.sums = [a + b for a, b in zip(self.sums, other.sums)]
        for mine, theirs in ((self.wait_hist, other.wait_hist), (self.service_hist, other.service_hist)):
            for bucket, count in theirs.items():
                mine[bucket] = mine.get(bucket, 0) + count

    def is_empty(self) -> bool:
        return (not any(self.counts) and not any(self.wait_hist.values()) and not any(self.service_hist.values())
                and not any(self.sums))


def facts_of(ticket: str, local_day: str, local_hour: int, service: str, log: list, procedures: list,
             ) -> TicketFacts:
    """The core's facts of one ticket from its shipped log [kind, at, service, counter, to_status, score]."""
    facts = TicketFacts(ticket, local_day, local_hour, service, None, list(procedures))
    for kind, at, event_service, counter, to_status, score in log:
        facts.apply(kind, at, event_service, counter, None, to_status, score)
    if facts.issued_at is None:  # an odd log without its issue (never from a centre): nothing to measure from
        facts.issued_at = log[0][1] if log else 0.0
    return facts


def share_of(facts: TicketFacts, target_wait_s) -> tuple:
    return _ticket_share(facts, target_wait_s)


def ticket_rows(facts: TicketFacts) -> list[tuple[str, str]]:
    """The (service, procedure) summary rows a ticket counts in: its service's, and each procedure's once done."""
    rows = [(facts.service_id, SERVICE_ROW)]
    if facts.status == "done":
        rows += [(facts.service_id, code) for code in dict.fromkeys(facts.procedure_ids)]
    return rows


def on_time(due_date: date | None, ready_day: date | None, returned_day: date | None) -> bool | None:
    """A dossier is on time when it was ready (or returned, if never marked ready) by its due date."""
    done = ready_day or returned_day
    if done is None or due_date is None:
        return None
    return done <= due_date


# ---- reading figures back --------------------------------------------------------------------------

def quantile_of(histogram: list[int], q: float) -> float | None:
    """The q-quantile of the values a histogram counts, interpolated within the bucket holding its rank."""
    total = sum(histogram)
    if total <= 0:
        return None
    rank = (total - 1) * q  # the same rank a centre uses (linear interpolation between closest ranks)
    seen = 0
    for index, count in enumerate(histogram):
        if count <= 0:
            continue
        if rank < seen + count:
            position = (rank - seen + 0.5) / count  # spread the bucket's values evenly across it
            return EDGES[index] + position * _width(index)
        seen += count
    return float(EDGES[-1])


def _pct(part: int, whole: int):
    return round(100 * part / whole, 1) if whole else None


def _round(value):
    return None if value is None else round(value, 1)


def figures(counts: list[int], sums: list[float], wait_hist: list[int], service_hist: list[int],
            counts_issued: bool = True) -> dict:
    """The contract's row fields from summed summary rows."""
    ratings = counts[C_RATED_1] + counts[C_RATED_2] + counts[C_RATED_3]
    waits, services = counts[C_WAIT_N], counts[C_SERVICE_N]
    return {
        "issued": counts[C_ISSUED] if counts_issued else None,
        "called": counts[C_CALLED], "served": counts[C_SERVED], "no_show": counts[C_NO_SHOW],
        "expired": counts[C_EXPIRED],
        "wait_s": {"mean": _round(sums[S_WAIT] / waits) if waits else None,
                   "median": _round(quantile_of(wait_hist, 0.5)), "p90": _round(quantile_of(wait_hist, 0.9))},
        "service_s": {"mean": _round(sums[S_SERVICE] / services) if services else None,
                      "median": _round(quantile_of(service_hist, 0.5)),
                      "p90": _round(quantile_of(service_hist, 0.9))},
        "sla_pct": _pct(counts[C_SLA_MET], waits),
        "no_show_pct": _pct(counts[C_NO_SHOW], counts[C_CALLED]),
        "satisfaction_pct": _pct(counts[C_RATED_3] + counts[C_RATED_2], ratings),
        "ratings": {"1": counts[C_RATED_1], "2": counts[C_RATED_2], "3": counts[C_RATED_3]},
        "dossiers_done": counts[C_DOSSIERS_DONE],
        "on_time_pct": _pct(counts[C_DOSSIERS_ON_TIME], counts[C_DOSSIERS_DONE]),
    }


def add_into(total: list, row: list) -> None:
    """Elementwise total += row (rows of one kind always have the same length)."""
    if len(row) > len(total):
        total.extend([0] * (len(row) - len(total)))
    for index, value in enumerate(row):
        if value:
            total[index] += value
