"""Recording a change: what differs, when, the row written and its audit row."""
from __future__ import annotations

import time

from .. import store
from ..audit import record_change as audit


def _diff(before: dict, after: dict) -> tuple[dict, dict]:
    keys = [key for key in after if key != "id" and before.get(key) != after.get(key)]
    return {key: before.get(key) for key in keys}, {key: after.get(key) for key in keys}


def _now(now: float | None) -> float:
    return time.time() if now is None else now


def _update_columns(db, table: str, row_id: int, columns: dict) -> None:
    if columns:
        assignments = ", ".join(f"{column} = ?" for column in columns)
        store.execute(db, f"UPDATE {table} SET {assignments} WHERE id = ?", (*columns.values(), row_id))


def _audit_change(db, centre_id: str, user_id, now, kind: str, target: dict, before: dict, after: dict) -> bool:
    """Audit an update of one row (named activate/deactivate when only `active` changed); False if nothing changed."""
    changed_before, changed_after = _diff(before, after)
    if not changed_after:
        return False
    action = f"{kind}.update"
    if set(changed_after) == {"active"}:
        action = f"{kind}.activate" if after["active"] else f"{kind}.deactivate"
    audit(db, centre_id, _now(now), user_id, action, {"type": kind, **target}, changed_before, changed_after)
    return True


def _without(view: dict, *keys: str) -> dict:
    return {k: v for k, v in view.items() if k not in keys}
