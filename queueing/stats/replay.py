"""Replaying the event log: each ticket's issue, visits, status, rating and procedures, in log order."""
from __future__ import annotations

from typing import Iterator

CALL_KINDS = frozenset({"called", "called_out_of_order"})
END_KINDS = frozenset({"finished", "no_show", "transferred", "returned_on_sign_out", "expired"})


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
