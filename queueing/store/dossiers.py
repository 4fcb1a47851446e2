"""Dossiers after reception (issue 16): its SQL, re-exported by `queueing.store` like every other query."""
from __future__ import annotations

from . import all_rows, one, execute


DOSSIER_COLUMNS = """
    d.*, p.code AS procedure_code, p.name AS procedure_name, p.name_en AS procedure_name_en,
    s.code AS service_code, s.name AS service_name, t.number AS ticket_number, t.local_day AS received_day,
    c.number AS counter_number, u.username AS clerk_username
"""
DOSSIER_FROM = """
    FROM dossiers d JOIN procedures p ON p.id = d.procedure_id JOIN services s ON s.id = d.service_id
    JOIN tickets t ON t.id = d.ticket_id LEFT JOIN counters c ON c.id = d.counter_id
    LEFT JOIN users u ON u.id = d.clerk_id
"""


def dossier_by_code(db, centre_id: str, code: str) -> dict | None:
    return one(db, f"SELECT {DOSSIER_COLUMNS} {DOSSIER_FROM} WHERE d.centre_id = ? AND d.code = ?", (centre_id, code))


def dossier_by_key(db, centre_id: str, key: str) -> dict | None:
    return one(db, f"SELECT {DOSSIER_COLUMNS} {DOSSIER_FROM} WHERE d.centre_id = ? AND d.key = ?", (centre_id, key))


def dossier_of_ticket(db, ticket_id: str) -> dict | None:
    """The dossier a ticket received (reception) or came to collect (a return ticket carries its code)."""
    return one(db, f"""SELECT {DOSSIER_COLUMNS} {DOSSIER_FROM}
                       WHERE d.ticket_id = ?1 OR (d.centre_id, d.code) =
                             (SELECT centre_id, dossier_number FROM tickets WHERE id = ?1)
                       ORDER BY d.id DESC LIMIT 1""", (ticket_id,))


def dossiers_where(db, centre_id: str, where: str, params=(), order: str = "d.due_date, d.id",
                   limit: int = 500) -> list[dict]:
    """A centre's dossiers matching a condition on `d` (the dossier), in `order`."""
    return all_rows(db, f"SELECT {DOSSIER_COLUMNS} {DOSSIER_FROM} WHERE d.centre_id = ? AND ({where}) "
                        f"ORDER BY {order} LIMIT ?", (centre_id, *params, limit))


def update_dossier(db, dossier_id: int, changes: dict, only_if_status: tuple[str, ...] | None = None) -> int:
    """Change a dossier's columns inside the caller's transaction (only while in one of `only_if_status`)."""
    assignments = ", ".join(f"{column} = ?" for column in changes)
    condition = ""
    params = list(changes.values()) + [dossier_id]
    if only_if_status:
        condition = f" AND status IN ({', '.join('?' * len(only_if_status))})"
        params += list(only_if_status)
    return execute(db, f"UPDATE dossiers SET {assignments} WHERE id = ?{condition}", params)


def procedure_for_dossier(db, centre_id: str, procedure_id: int) -> dict | None:
    return one(db, "SELECT * FROM procedures WHERE centre_id = ? AND id = ?", (centre_id, procedure_id))


def dossiers_for_stats(db, centre_id: str, first_due: str, last_due: str) -> list[dict]:
    """The dossiers due between two local days (inclusive), with what on-time statistics group them by."""
    return all_rows(db, """SELECT d.id, d.code, d.procedure_id, d.service_id, d.counter_id, d.clerk_id, d.due_date,
                                  d.status, d.ready_at, d.returned_at, d.received_at
                           FROM dossiers d WHERE d.centre_id = ? AND d.due_date BETWEEN ? AND ?""",
                    (centre_id, first_due, last_due))


def delete_demo_dossiers(db, centre_id: str) -> int:
    return execute(db, "DELETE FROM dossiers WHERE centre_id = ? AND is_demo = 1", (centre_id,))
