"""Who may use the system: staff accounts (roles, passwords, deactivation) and registered devices."""
from __future__ import annotations

import secrets
from typing import Callable

from .. import accounts, store
from ..model import Conflict, DeviceKind, Event, NotFound, Outcome, Role
from ..service import QueueService
from .changes import _diff, _now, _update_columns, _without, audit
from .validation import ValidationError, _bool, _Fields, _int, _text, check_password
from .views import _row, device_view, user_view


def _role(value) -> str:
    role = value.strip().lower() if isinstance(value, str) else value
    if role not in {r.value for r in Role}:
        raise ValidationError(f"Vai trò «{value}» không có; chọn admin (quản trị), manager (quản lý) hoặc clerk "
                              "(cán bộ một cửa) (unknown role)", field="role", code="bad_role")
    return role


def _active_admins(db, centre_id: str) -> int:
    return store.scalar(db, "SELECT COUNT(*) FROM users WHERE centre_id = ? AND role = 'admin' AND active = 1",
                        (centre_id,))


def create_user(db, centre_id: str, user_id, data: dict, now: float | None = None) -> Outcome:
    """Add a staff account; without a password one is generated. Answers {user, password} (shown once)."""
    fields = _Fields()
    username = display_name = role = password = None
    with fields.field("username"):
        username = _text(data.get("username"), "username", "Tên đăng nhập", required=True, max_length=40).lower()
        if not accounts.USERNAME_PATTERN.match(username):
            raise ValidationError("Tên đăng nhập gồm 2–40 ký tự a-z, 0-9, '.', '_' hoặc '-' (bad username)",
                                  field="username", code="bad_username")
        if store.one(db, "SELECT id FROM users WHERE username = ?", (username,)):
            raise ValidationError(f"Tên đăng nhập «{username}» đã có (username taken)", field="username",
                                  code="username_taken", status=409)
    with fields.field("display_name"):
        display_name = _text(data.get("display_name"), "display_name", "Họ tên hiển thị") or username
    with fields.field("role"):
        role = _role(data.get("role"))
    generated = not data.get("password")
    with fields.field("password"):
        password = accounts.new_password() if generated else check_password(data["password"], username or "")
    fields.done()
    password_hash = accounts.hash_password(password)
    now = _now(now)
    with store.transaction(db):
        if store.one(db, "SELECT id FROM users WHERE username = ?", (username,)):
            raise ValidationError(f"Tên đăng nhập «{username}» đã có (username taken)", field="username",
                                  code="username_taken", status=409)
        new_id = store.insert(db, "users", {"centre_id": centre_id, "username": username, "display_name": display_name,
                                            "role": role, "password_hash": password_hash, "created_at": now})
        after = user_view(_row(db, "users", centre_id, new_id, "tài khoản"))
        audit(db, centre_id, now, user_id, "user.create", {"type": "user", "id": new_id, "username": username},
              None, _without(after, "created_at"), {"password_generated": generated})
    return Outcome({"user": after, "password": password if generated else None}, [])


def update_user(db, centre_id: str, user_id, target_id: int, data: dict, now: float | None = None) -> Outcome:
    """Change a staff member's display name or role; the last active admin keeps the admin role."""
    with store.transaction(db):
        row = _row(db, "users", centre_id, target_id, "tài khoản")
        given = data.get("username")
        if given not in (None, "") and str(given).strip().lower() != row["username"]:
            raise ValidationError("Không đổi được tên đăng nhập (username cannot change)", field="username")
        values = {}
        if "display_name" in data:
            values["display_name"] = _text(data["display_name"], "display_name", "Họ tên hiển thị") or row["username"]
        if "role" in data:
            values["role"] = _role(data["role"])
            if row["role"] == "admin" and values["role"] != "admin" and row["active"] and _active_admins(db, centre_id) <= 1:
                raise Conflict("Đây là tài khoản quản trị cuối cùng; không thể đổi vai trò "
                               "(the last admin keeps the admin role)", code="last_admin")
        before = _without(user_view(row), "created_at")
        _update_columns(db, "users", target_id, values)
        after = user_view(_row(db, "users", centre_id, target_id, "tài khoản"))
        changed_before, changed_after = _diff(before, _without(after, "created_at"))
        if changed_after:
            audit(db, centre_id, _now(now), user_id, "user.update",
                  {"type": "user", "id": target_id, "username": row["username"]}, changed_before, changed_after)
    return Outcome(after, [])


def reset_password(db, centre_id: str, user_id, target_id: int, password: str | None = None,
                   now: float | None = None) -> Outcome:
    """Give a staff member a new password (generated unless given) and end their sessions and tokens."""
    now = _now(now)
    row = store.one(db, "SELECT * FROM users WHERE centre_id = ? AND id = ?", (centre_id, target_id))
    if row is None:
        raise NotFound("Không tìm thấy tài khoản (unknown user)", code="unknown_user")
    generated = not password
    password = accounts.new_password() if generated else check_password(password, row["username"])
    password_hash = accounts.hash_password(password)
    with store.transaction(db):
        _row(db, "users", centre_id, target_id, "tài khoản")
        store.execute(db, "UPDATE users SET password_hash = ? WHERE id = ?", (password_hash, target_id))
        store.execute(db, "UPDATE staff_tokens SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL",
                      (now, target_id))
        audit(db, centre_id, now, user_id, "user.reset_password",
              {"type": "user", "id": target_id, "username": row["username"]}, None, None,
              {"password_generated": generated})
    return Outcome({"user": user_view(row), "password": password if generated else None}, [])


def set_user_active(db, centre_id: str, user_id, target_id: int, active: bool, now: float | None = None) -> Outcome:
    """Deactivate an account (its sessions and tokens stop working; a counter it holds is closed) or reactivate it."""
    active = _bool(active, "active", "Đang dùng")
    now = _now(now)
    row = _row(db, "users", centre_id, target_id, "tài khoản")
    events: list[Event] = []
    if not active and row["active"]:
        if target_id == user_id:
            raise Conflict("Không thể tự khoá tài khoản của chính mình (you cannot deactivate yourself)",
                           code="self_deactivate")
        if row["role"] == "admin" and _active_admins(db, centre_id) <= 1:
            raise Conflict("Đây là tài khoản quản trị cuối cùng (the last admin cannot be deactivated)",
                           code="last_admin")
        queue = QueueService(db, centre_id, clock=lambda: now)
        counter = queue.clerk_counter(target_id)
        if counter is not None:
            # Its own transaction: a called ticket goes back to the queue in its place, as on sign-out.
            events += queue.sign_out(counter["id"], target_id).events
    with store.transaction(db):
        row = _row(db, "users", centre_id, target_id, "tài khoản")
        if bool(row["active"]) != active:
            store.execute(db, "UPDATE users SET active = ? WHERE id = ?", (int(active), target_id))
            if not active:
                store.execute(db, "UPDATE staff_tokens SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL",
                              (now, target_id))
            audit(db, centre_id, now, user_id, "user.activate" if active else "user.deactivate",
                  {"type": "user", "id": target_id, "username": row["username"]},
                  {"active": bool(row["active"])}, {"active": active})
        after = user_view(_row(db, "users", centre_id, target_id, "tài khoản"))
    return Outcome(after, events)


# ---- devices ----------------------------------------------------------------------------------

def create_device(db, centre_id: str, user_id, data: dict, now: float | None = None,
                  check_printer_uri: Callable[[str], object] | None = None) -> Outcome:
    """Register a kiosk, display, printer agent or counter tablet; answers {device, token}, the token shown once."""
    fields = _Fields()
    name = kind = printer_uri = counter_number = None
    with fields.field("name"):
        name = _text(data.get("name"), "name", "Tên thiết bị", required=True, max_length=80)
    with fields.field("kind"):
        kind = data.get("kind").strip().lower() if isinstance(data.get("kind"), str) else data.get("kind")
        if kind not in {k.value for k in DeviceKind}:
            raise ValidationError(f"Loại thiết bị «{data.get('kind')}» không có; chọn kiosk, display, printer hoặc "
                                  "counter (unknown device kind)", field="kind", code="bad_kind")
    with fields.field("printer_uri"):
        printer_uri = _text(data.get("printer_uri"), "printer_uri", "Máy in", max_length=200) or None
        if printer_uri and kind not in ("kiosk", "printer"):
            raise ValidationError("Chỉ kiosk và máy in có địa chỉ máy in (printer only for a kiosk or printer)",
                                  field="printer_uri")
        if kind == "kiosk" and printer_uri is None:
            printer_uri = "none"
        if printer_uri and check_printer_uri is not None:
            try:
                check_printer_uri(printer_uri)
            except ValueError as error:
                raise ValidationError(f"Địa chỉ máy in không hợp lệ: {error} (bad printer URI)", field="printer_uri",
                                      code="bad_printer") from None
    with fields.field("counter"):
        counter_number = _int(data.get("counter"), "counter", "Quầy", minimum=1, maximum=999, optional=True)
        if kind == "counter" and counter_number is None:
            raise ValidationError("Máy tính bảng đánh giá cần chọn quầy (a counter device needs its counter)",
                                  field="counter", code="required")
        if kind != "counter" and counter_number is not None:
            raise ValidationError("Chỉ thiết bị loại counter gắn với quầy (only counter devices belong to a counter)",
                                  field="counter")
    fields.done()
    token = secrets.token_urlsafe(32)
    now = _now(now)
    with store.transaction(db):
        counter_id = None
        if counter_number is not None:
            counter_id = store.scalar(db, "SELECT id FROM counters WHERE centre_id = ? AND number = ? AND active = 1",
                                      (centre_id, counter_number))
            if counter_id is None:
                raise ValidationError(f"Không có quầy số {counter_number} (unknown counter)", field="counter",
                                      code="unknown_counter")
        device_id = store.insert(db, "devices", {"centre_id": centre_id, "name": name, "kind": kind,
                                                 "printer_uri": printer_uri, "counter_id": counter_id,
                                                 "token_hash": accounts.token_hash(token), "created_at": now})
        after = device_view(db, _row(db, "devices", centre_id, device_id, "thiết bị"))
        audit(db, centre_id, now, user_id, "device.create", {"type": "device", "id": device_id, "name": name},
              None, _without(after, "created_at", "revoked_at"))
    return Outcome({"device": after, "token": token}, [])


def revoke_device(db, centre_id: str, user_id, device_id: int, now: float | None = None) -> Outcome:
    """Make a device's token useless from now on (a lost or replaced kiosk, display or tablet)."""
    now = _now(now)
    with store.transaction(db):
        row = _row(db, "devices", centre_id, device_id, "thiết bị")
        if row["revoked_at"] is not None:
            raise Conflict("Thiết bị này đã bị thu hồi (device already revoked)", code="already_revoked")
        store.execute(db, "UPDATE devices SET revoked_at = ? WHERE id = ?", (now, device_id))
        audit(db, centre_id, now, user_id, "device.revoke", {"type": "device", "id": device_id, "name": row["name"]},
              {"revoked": False}, {"revoked": True})
        after = device_view(db, _row(db, "devices", centre_id, device_id, "thiết bị"))
    return Outcome(after, [])
