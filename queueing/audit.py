"""The audit log, in one place: who did what, when and to what (before → after), and reading it back.

A row is written inside the transaction of the change it records, so a change is never kept
without its audit row. Citizen-data views are audited once per viewer and ticket
(queueing/maintenance.record_citizen_view); the administration pages hide them unless asked.
"""
from __future__ import annotations

import json

from . import store

CITIZEN_VIEW_ACTION = "citizen_data_viewed"


def record(db, centre_id: str, at: float, action: str, user_id: int | None = None, device_id: int | None = None,
           ticket_id: str | None = None, detail: dict | None = None) -> None:
    """Append one row to the audit log, inside the caller's transaction if one is open."""
    row = (centre_id, at, user_id, device_id, ticket_id, action, store.dumps(detail) if detail else None)
    sql = """INSERT INTO audit_log (centre_id, at, user_id, device_id, ticket_id, action, detail)
             VALUES (?, ?, ?, ?, ?, ?, ?)"""
    if db.conn.in_transaction:
        db.conn.execute(sql, row)
    else:
        with store.transaction(db):
            db.conn.execute(sql, row)


def record_change(db, centre_id: str, now: float, user_id, action: str, target: dict | None, before, after,
                  extra: dict | None = None) -> None:
    """One configuration change (who, when, what, before → after) inside the caller's transaction."""
    record(db, centre_id, now, action, user_id=user_id,
           detail={"target": target, "before": before, "after": after, **(extra or {})})


def entries(db, centre_id: str, limit: int | None = 200, before_id: int | None = None, include_views: bool = False,
            *, ticket_id: str | None = None, action: str | None = None, since: float | None = None,
            oldest_first: bool = False) -> list[dict]:
    """Audit rows with who made them (a staff member or a device), newest first unless `oldest_first`.

    Citizen-data views are left out unless `include_views` or they are the `action` asked for.
    """
    where, arguments = ["a.centre_id = ?"], [centre_id]
    for clause, value in (("a.ticket_id = ?", ticket_id), ("a.action = ?", action), ("a.at >= ?", since),
                          ("a.id < ?", before_id)):
        if value is not None:
            where.append(clause)
            arguments.append(value)
    if not include_views and action is None:
        where.append("a.action != ?")
        arguments.append(CITIZEN_VIEW_ACTION)
    order = "a.at, a.id" if oldest_first else "a.id DESC"
    limit_clause = f" LIMIT {int(limit)}" if limit is not None else ""
    rows = store.all_rows(
        db, f"""SELECT a.*, u.username, u.display_name, d.name AS device_name FROM audit_log a
                LEFT JOIN users u ON u.id = a.user_id LEFT JOIN devices d ON d.id = a.device_id
                WHERE {' AND '.join(where)} ORDER BY {order}{limit_clause}""", tuple(arguments))
    for row in rows:
        row["detail"] = json.loads(row["detail"]) if row["detail"] else {}
    return rows
