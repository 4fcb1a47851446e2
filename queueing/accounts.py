"""Staff accounts, device tokens and who a bearer token belongs to."""
from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from . import store
from .model import DeviceKind, NotFound, QueueError, Role

STAFF_TOKEN_HOURS = 12
USERNAME_PATTERN = re.compile(r"^[a-z0-9_.-]{2,40}$")
MIN_PASSWORD_LENGTH = 8

_hasher = PasswordHasher()
# Verifying against this when the user is unknown keeps response times alike for both cases.
_DUMMY_HASH = _hasher.hash("not-a-real-password")


@dataclass(frozen=True)
class Principal:
    """Whoever is making a request: a staff member, a device, or nobody."""

    kind: str  # "user", "device" or "anonymous"
    id: int | None = None
    name: str = ""
    role: str | None = None  # for users: admin/manager/clerk; for devices: kiosk/display/printer/counter
    centre_id: str | None = None
    printer_uri: str | None = None
    counter_id: int | None = None

    @property
    def is_staff(self) -> bool:
        return self.kind == "user"

    @property
    def is_manager(self) -> bool:
        return self.kind == "user" and self.role in (Role.ADMIN, Role.MANAGER)

    def is_device(self, kind: str) -> bool:
        return self.kind == "device" and self.role == kind


ANONYMOUS = Principal("anonymous")


def token_hash(token: str) -> str:
    """Tokens are stored hashed, so a stolen database holds no usable token."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_password() -> str:
    """A generated password that is easy to read aloud and type."""
    return "-".join(secrets.token_hex(3) for _ in range(3))


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def create_user(db, centre_id: str, username: str, password: str, role: str, display_name: str = "",
                now: float = 0.0) -> int:
    """Add a staff account, refusing bad names, roles, short passwords and duplicates."""
    if not isinstance(username, str) or not USERNAME_PATTERN.match(username):
        raise QueueError("Tên đăng nhập gồm 2–40 ký tự a-z, 0-9, '.', '_' hoặc '-' (bad username)",
                         code="bad_username")
    if role not in {r.value for r in Role}:
        raise QueueError("Vai trò phải là admin, manager hoặc clerk (bad role)", code="bad_role")
    if not isinstance(password, str) or len(password) < MIN_PASSWORD_LENGTH:
        raise QueueError(f"Mật khẩu phải có ít nhất {MIN_PASSWORD_LENGTH} ký tự (password too short)",
                         code="weak_password")
    with store.transaction(db):
        if store.one(db, "SELECT id FROM users WHERE username = ?", (username,)):
            raise QueueError(f"Tên đăng nhập '{username}' đã tồn tại (username taken)", code="username_taken",
                             status=409)
        return store.insert(db, "users", {"centre_id": centre_id, "username": username,
                                          "display_name": display_name or username, "role": role,
                                          "password_hash": hash_password(password), "created_at": now})


def authenticate(db, username, password) -> dict | None:
    """The active user with these credentials, or None."""
    if not isinstance(username, str) or not isinstance(password, str):
        return None
    user = store.one(db, "SELECT * FROM users WHERE username = ? AND active = 1", (username,))
    try:
        _hasher.verify(user["password_hash"] if user else _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        return None
    return user


def issue_staff_token(db, user_id: int, now: float) -> str:
    """A bearer token for a signed-in staff member, valid for one working day."""
    token = secrets.token_urlsafe(32)
    with store.transaction(db):
        store.insert(db, "staff_tokens", {"token_hash": token_hash(token), "user_id": user_id,
                                          "created_at": now, "expires_at": now + STAFF_TOKEN_HOURS * 3600})
    return token


def create_device(db, centre_id: str, name: str, kind: str, now: float, printer_uri: str | None = None,
                  counter_id: int | None = None, kiosk_id: int | None = None, paper_mm: int = 80) -> str:
    """Register a kiosk, display, printer agent or counter tablet and return its token (shown once)."""
    if not isinstance(name, str) or not name.strip() or len(name) > 80:
        raise QueueError("Tên thiết bị từ 1 đến 80 ký tự (bad device name)", code="bad_name")
    if kind not in {k.value for k in DeviceKind}:
        raise QueueError("Loại thiết bị phải là kiosk, display, printer hoặc counter (bad kind)", code="bad_kind")
    if paper_mm not in (58, 80):
        raise QueueError("Khổ giấy phải là 58 hoặc 80 mm (paper must be 58 or 80 mm)", code="bad_paper")
    token = secrets.token_urlsafe(32)
    with store.transaction(db):
        store.insert(db, "devices", {"centre_id": centre_id, "name": name.strip(), "kind": kind,
                                     "printer_uri": printer_uri, "counter_id": counter_id,
                                     "kiosk_id": kiosk_id, "paper_mm": paper_mm,
                                     "token_hash": token_hash(token), "created_at": now})
    return token


def revoke_device(db, device_id: int, now: float) -> None:
    with store.transaction(db):
        if not store.execute(db, "UPDATE devices SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
                             (now, device_id)):
            raise NotFound("Không có thiết bị này (unknown device)", code="unknown_device")


def revoke_staff_token(db, token: str, now: float) -> None:
    with store.transaction(db):
        store.execute(db, "UPDATE staff_tokens SET revoked_at = ? WHERE token_hash = ?", (now, token_hash(token)))


def revoke_user_tokens(db, username: str, now: float) -> int:
    """End every signed-in API session of a staff member (a lost tablet); returns how many."""
    with store.transaction(db):
        user_id = store.scalar(db, "SELECT id FROM users WHERE username = ?", (username,))
        if user_id is None:
            raise NotFound(f"Không có tài khoản '{username}' (unknown user)", code="unknown_user")
        return store.execute(db, """UPDATE staff_tokens SET revoked_at = ?
                                    WHERE user_id = ? AND revoked_at IS NULL AND expires_at > ?""",
                             (now, user_id, now))


def devices(db, centre_id: str) -> list[dict]:
    """A centre's devices, oldest first; never their tokens (only hashes are stored)."""
    return store.all_rows(db, """SELECT id, name, kind, printer_uri, counter_id, created_at, revoked_at
                                 FROM devices WHERE centre_id = ? ORDER BY id""", (centre_id,))


def user_principal(user: dict) -> Principal:
    return Principal("user", user["id"], user["display_name"] or user["username"], user["role"], user["centre_id"])


def principal_for_token(db, token: str | None, now: float) -> Principal | None:
    """Who holds this bearer token: a staff member, a device, or None for an unknown/expired one."""
    if not token:
        return None
    digest = token_hash(token)
    user = store.one(db, """SELECT u.* FROM staff_tokens t JOIN users u ON u.id = t.user_id
                            WHERE t.token_hash = ? AND t.revoked_at IS NULL AND t.expires_at > ? AND u.active = 1""",
                     (digest, now))
    if user:
        return user_principal(user)
    device = store.one(db, "SELECT * FROM devices WHERE token_hash = ? AND revoked_at IS NULL", (digest,))
    if device:
        return Principal("device", device["id"], device["name"], device["kind"], device["centre_id"],
                         device["printer_uri"], device["counter_id"])
    return None


def user_by_id(db, user_id) -> dict | None:
    return store.one(db, "SELECT * FROM users WHERE id = ? AND active = 1", (user_id,))
