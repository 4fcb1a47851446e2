"""What the administration pages show: each row of the configuration as a plain dict, and the lists."""
from __future__ import annotations

import json

from .. import store, vocabulary
from ..model import NotFound


def _row(db, table: str, centre_id: str, row_id, label: str) -> dict:
    row = store.one(db, f"SELECT * FROM {table} WHERE centre_id = ? AND id = ?", (centre_id, row_id))
    if row is None:
        raise NotFound(f"Không tìm thấy {label} (unknown {table[:-1]})", code=f"unknown_{table[:-1]}")
    return row


def service_view(row: dict) -> dict:
    return {"id": row["id"], "code": row["code"], "name": row["name"], "name_en": row["name_en"],
            "prefix": row["prefix"], "target_wait_s": row["target_wait_s"],
            "default_service_s": row["default_service_s"], "daily_cap": row["daily_cap"],
            "opening_hours": json.loads(row["opening_hours"]) if row["opening_hours"] else None,
            "sort_order": row["sort_order"], "active": bool(row["active"])}


def procedure_view(row: dict, service_code: str) -> dict:
    return {"id": row["id"], "code": row["code"], "service": service_code, "name": row["name"],
            "name_en": row["name_en"], "legal_days": row["legal_days"], "same_day": bool(row["same_day"]),
            "legal_days_note": row["legal_days_note"], "fee_vnd": row["fee_vnd"], "fee_note": row["fee_note"],
            **{key: vocabulary.loads(row.get(key)) for key in vocabulary.PHRASE_FIELDS},
            "active": bool(row["active"])}


def group_view(row: dict) -> dict:
    return {"id": row["id"], "code": row["code"], "name": row["name"], "name_en": row["name_en"],
            "sort_order": row["sort_order"], "active": bool(row["active"])}


def user_view(row: dict) -> dict:
    return {"id": row["id"], "username": row["username"], "display_name": row["display_name"],
            "role": row["role"], "active": bool(row["active"]), "created_at": row["created_at"]}


def _counter_services(db, counter_id: int) -> list[str]:
    return [row["code"] for row in store.all_rows(
        db, """SELECT s.code FROM counter_services cs JOIN services s ON s.id = cs.service_id
               WHERE cs.counter_id = ? ORDER BY s.sort_order, s.code""", (counter_id,))]


def counter_view(db, row: dict) -> dict:
    return {"id": row["id"], "number": row["number"], "name": row["name"], "floor": row["floor"],
            "services": _counter_services(db, row["id"]), "active": bool(row["active"]),
            "state": row["state"]}


def device_view(db, row: dict) -> dict:
    counter_number = store.scalar(db, "SELECT number FROM counters WHERE id = ?", (row["counter_id"],)) \
        if row["counter_id"] else None
    return {"id": row["id"], "name": row["name"], "kind": row["kind"], "printer_uri": row["printer_uri"],
            "counter": counter_number, "created_at": row["created_at"], "revoked_at": row["revoked_at"],
            "active": row["revoked_at"] is None}


def list_services(db, centre_id: str) -> list[dict]:
    return [service_view(row) for row in store.services(db, centre_id, active_only=False)]


def list_procedures(db, centre_id: str) -> list[dict]:
    return [procedure_view(row, row["service_code"]) for row in store.all_rows(
        db, """SELECT p.*, s.code AS service_code FROM procedures p JOIN services s ON s.id = p.service_id
               WHERE p.centre_id = ? ORDER BY s.sort_order, s.code, p.code""", (centre_id,))]


def list_counters(db, centre_id: str) -> list[dict]:
    return [counter_view(db, row) for row in store.all_rows(
        db, "SELECT * FROM counters WHERE centre_id = ? ORDER BY number", (centre_id,))]


def list_groups(db, centre_id: str) -> list[dict]:
    return [group_view(row) for row in store.all_rows(
        db, "SELECT * FROM priority_groups WHERE centre_id = ? ORDER BY sort_order, code", (centre_id,))]


def list_users(db, centre_id: str) -> list[dict]:
    return [user_view(row) for row in store.all_rows(
        db, "SELECT * FROM users WHERE centre_id = ? ORDER BY active DESC, role, username", (centre_id,))]


def list_devices(db, centre_id: str) -> list[dict]:
    return [device_view(db, row) for row in store.all_rows(
        db, "SELECT * FROM devices WHERE centre_id = ? ORDER BY revoked_at IS NOT NULL, kind, name", (centre_id,))]


def _procedure_view(db, centre_id: str, procedure_id: int) -> dict:
    row = _row(db, "procedures", centre_id, procedure_id, "thủ tục")
    service_code = store.scalar(db, "SELECT code FROM services WHERE id = ?", (row["service_id"],))
    return procedure_view(row, service_code)
