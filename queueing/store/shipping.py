"""The event log as the province hub receives it (issue 18): its SQL, re-exported by `queueing.store` like every other query."""
from __future__ import annotations

from . import all_rows, one, scalar, execute, transaction


def events_to_ship(db, centre_id: str, after: int, limit: int) -> list[dict]:
    """The next events of the log after `after`, in id order, with their ticket's issue day, hour, issued-for
    service and whether it is a demo ticket (demo rows are never shipped; they may also be deleted)."""
    return all_rows(db, """SELECT e.id, e.ticket_id, e.at, e.kind, e.to_status, e.service_id, e.counter_id, e.detail,
                                  t.local_day, t.local_hour, t.number_service_id, t.is_demo
                           FROM ticket_events e LEFT JOIN tickets t ON t.id = e.ticket_id
                           WHERE e.centre_id = ? AND e.id > ? ORDER BY e.id LIMIT ?""", (centre_id, after, limit))


def backlog(db, centre_id: str, after: int) -> dict:
    """The events after `after`: how many, the newest id and the oldest one's time (None when there are none)."""
    count, newest, oldest = db.conn.execute(
        """SELECT COUNT(*), MAX(id), (SELECT at FROM ticket_events WHERE centre_id = ?1 AND id > ?2 ORDER BY id LIMIT 1)
           FROM ticket_events WHERE centre_id = ?1 AND id > ?2""", (centre_id, after)).fetchone()
    return {"count": count, "newest": newest, "oldest_at": oldest}


def shipping_codes(db, centre_id: str) -> dict:
    """Services, procedures and counters by the codes the hub knows them by."""
    return {
        "services": all_rows(db, "SELECT id, code, name, name_en, target_wait_s FROM services WHERE centre_id = ?",
                             (centre_id,)),
        "procedures": all_rows(db, """SELECT p.code, p.name, p.name_en, s.code AS service FROM procedures p
                                      JOIN services s ON s.id = p.service_id WHERE p.centre_id = ?""", (centre_id,)),
        "counters": all_rows(db, "SELECT id, number, name FROM counters WHERE centre_id = ?", (centre_id,)),
        "centre": one(db, "SELECT name, timezone FROM centres WHERE id = ?", (centre_id,)),
    }


def live_state(db, centre_id: str, day: str) -> dict:
    """Today's waiting tickets, the oldest one's issue time and the open counters (the province's live view)."""
    waiting, oldest = db.conn.execute(
        "SELECT COUNT(*), MIN(issued_at) FROM tickets WHERE centre_id = ? AND status = 'waiting' AND local_day = ?",
        (centre_id, day)).fetchone()
    open_counters = scalar(db, "SELECT COUNT(*) FROM counters WHERE centre_id = ? AND active = 1 AND state = 'open'",
                           (centre_id,))
    return {"waiting": waiting, "oldest_waiting_at": oldest, "open_counters": open_counters}


def shipping_state(db, centre_id: str) -> dict:
    return one(db, "SELECT * FROM hub_shipping WHERE centre_id = ?", (centre_id,)) or {
        "centre_id": centre_id, "acked_seq": 0, "last_attempt_at": None, "last_success_at": None, "last_error": None}


def record_shipping(db, centre_id: str, attempt_at: float, acked_seq: int | None, error: str | None) -> None:
    """Note one shipping attempt: its acknowledgement (on success) or its error."""
    with transaction(db):
        execute(db, "INSERT INTO hub_shipping (centre_id) VALUES (?) ON CONFLICT (centre_id) DO NOTHING", (centre_id,))
        if error is None:
            execute(db, """UPDATE hub_shipping SET acked_seq = ?, last_attempt_at = ?, last_success_at = ?,
                           last_error = NULL WHERE centre_id = ?""", (acked_seq, attempt_at, attempt_at, centre_id))
        else:
            execute(db, "UPDATE hub_shipping SET last_attempt_at = ?, last_error = ? WHERE centre_id = ?",
                    (attempt_at, error[:300], centre_id))
