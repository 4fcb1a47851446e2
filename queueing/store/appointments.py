"""Appointments, phone tickets and their SMS nudges (issue 15): its SQL, re-exported by `queueing.store` like every other query."""
from __future__ import annotations

from . import all_rows, one, scalar, execute


def _marks(values) -> str:
    return ", ".join("?" for _ in values)


def appointments_per_slot(db, centre_id: str, service_id: int, day: str, statuses) -> dict[float, int]:
    """Bookings in these statuses per slot start of a service on a local day."""
    return {row[0]: row[1] for row in db.conn.execute(
        f"""SELECT slot_start, COUNT(*) FROM appointments WHERE centre_id = ? AND service_id = ? AND local_day = ?
            AND status IN ({_marks(statuses)}) GROUP BY slot_start""", (centre_id, service_id, day, *statuses))}


def appointments_in_slot(db, centre_id: str, service_id: int, start: float, statuses, except_id=None) -> int:
    return scalar(db, f"""SELECT COUNT(*) FROM appointments WHERE centre_id = ? AND service_id = ?
                          AND slot_start = ? AND status IN ({_marks(statuses)}) AND id IS NOT ?""",
                  (centre_id, service_id, start, *statuses, except_id))


def appointment_same_person(db, centre_id: str, service_id: int, day: str, statuses, phone: str,
                            id_hash: str | None, except_id=None) -> bool:
    """Whether this phone (or ID-number hash) already holds a booking of the service that day."""
    return scalar(db, f"""SELECT COUNT(*) FROM appointments WHERE centre_id = ? AND service_id = ? AND local_day = ?
                          AND status IN ({_marks(statuses)}) AND id IS NOT ?
                          AND (phone = ? OR (? IS NOT NULL AND id_hash = ?))""",
                  (centre_id, service_id, day, *statuses, except_id, phone, id_hash, id_hash)) > 0


APPOINTMENT_SELECT = """
    SELECT a.*, s.code AS service_code, s.name AS service_name, s.name_en AS service_name_en,
           p.code AS procedure_code, p.name AS procedure_name, t.number AS ticket_number
    FROM appointments a JOIN services s ON s.id = a.service_id
    LEFT JOIN procedures p ON p.id = a.procedure_id LEFT JOIN tickets t ON t.id = a.ticket_id
"""


def appointment_by_code(db, centre_id: str, code: str) -> dict | None:
    return one(db, f"{APPOINTMENT_SELECT} WHERE a.centre_id = ? AND a.code = ?", (centre_id, code))


def appointment_for_id_hash(db, centre_id: str, id_hash: str, day: str, opens_by: float) -> dict | None:
    """A person's latest booking of a day whose check-in has opened by `opens_by` (slot start − early)."""
    return one(db, f"""{APPOINTMENT_SELECT} WHERE a.centre_id = ? AND a.id_hash = ? AND a.local_day = ?
                       AND a.status IN ('booked', 'checked_in') AND a.slot_start <= ?
                       ORDER BY a.status = 'booked' DESC, a.slot_start DESC LIMIT 1""",
               (centre_id, id_hash, day, opens_by))


def procedure_of_service(db, centre_id: str, service_id: int, code: str) -> int | None:
    return scalar(db, "SELECT id FROM procedures WHERE centre_id = ? AND code = ? AND service_id = ? AND active = 1",
                  (centre_id, code, service_id))


def set_appointment_status(db, appointment_id: int, status: str, at: float, from_status: str = "booked") -> int:
    return execute(db, "UPDATE appointments SET status = ?, changed_at = ? WHERE id = ? AND status = ?",
                   (status, at, appointment_id, from_status))


def move_appointment(db, appointment_id: int, start: float, end: float, day: str, at: float) -> None:
    execute(db, "UPDATE appointments SET slot_start = ?, slot_end = ?, local_day = ?, changed_at = ? WHERE id = ?",
            (start, end, day, at, appointment_id))


def appointment_checked_in(db, appointment_id: int, at: float, ticket_id: str) -> int:
    return execute(db, """UPDATE appointments SET status = 'checked_in', checked_in_at = ?, ticket_id = ?
                          WHERE id = ? AND status = 'booked'""", (at, ticket_id, appointment_id))


def mark_missed_appointments(db, centre_id: str, now: float, grace_s: float) -> int:
    return execute(db, """UPDATE appointments SET status = 'missed', changed_at = ?
                          WHERE centre_id = ? AND status = 'booked' AND slot_start + ? < ?""",
                   (now, centre_id, grace_s, now))


def appointment_counts(db, centre_id: str, day: str) -> list[dict]:
    """Bookings of a local day by slot, service and status."""
    return all_rows(db, """SELECT a.slot_start, s.code AS service_code, a.status, COUNT(*) AS count
                           FROM appointments a JOIN services s ON s.id = a.service_id
                           WHERE a.centre_id = ? AND a.local_day = ?
                           GROUP BY a.slot_start, s.code, a.status ORDER BY a.slot_start, s.sort_order""",
                    (centre_id, day))


def erase_appointment_citizen_data(db, centre_id: str, before: float) -> int:
    """Name, phone and ID hash of bookings whose slot began before a moment and that are no longer booked."""
    return execute(db, """UPDATE appointments SET name = NULL, phone = NULL, id_hash = NULL
                          WHERE centre_id = ? AND slot_start < ? AND status != 'booked'
                          AND (name IS NOT NULL OR phone IS NOT NULL OR id_hash IS NOT NULL)""",
                   (centre_id, before))


def open_ticket_of_phone(db, centre_id: str, service_id: int, phone: str, statuses) -> bool:
    return scalar(db, f"""SELECT COUNT(*) FROM tickets WHERE centre_id = ? AND citizen_phone = ? AND service_id = ?
                          AND status IN ({_marks(statuses)})""", (centre_id, phone, service_id, *statuses)) > 0


def set_ticket_phone(db, ticket_id: str, phone: str) -> None:
    execute(db, "UPDATE tickets SET citizen_phone = ? WHERE id = ?", (phone, ticket_id))


def tickets_with_phone_to_notify(db, centre_id: str) -> list[dict]:
    """Waiting or called tickets with a phone whose SMS (nudge or call) has not gone yet."""
    return all_rows(db, """SELECT t.id, t.number, t.status, t.citizen_phone, t.sms_nudged_at, t.sms_called_at,
                                  c.number AS counter_number
                           FROM tickets t LEFT JOIN counters c ON c.id = t.counter_id
                           WHERE t.centre_id = ? AND t.citizen_phone IS NOT NULL
                             AND ((t.status = 'waiting' AND t.sms_nudged_at IS NULL)
                                  OR (t.status = 'called' AND t.sms_called_at IS NULL))""", (centre_id,))


def mark_sms(db, ticket_id: str, column: str, at: float) -> bool:
    assert column in ("sms_nudged_at", "sms_called_at")
    return execute(db, f"UPDATE tickets SET {column} = ? WHERE id = ? AND {column} IS NULL", (at, ticket_id)) == 1
