"""Administration of a centre: validated changes to its configuration, each one written to the audit log.

Every command checks its input first and refuses with a clear message (Vietnamese, English in
brackets) before anything is written; the change and its audit row share one transaction.
Nothing is ever deleted: services, procedures, counters, users and priority groups are deactivated,
devices revoked, so the history that statistics read stays whole.
"""
from __future__ import annotations

import json
import re
import secrets
import time
import unicodedata
from contextlib import contextmanager
from typing import Callable
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from . import accounts, holidays, store, vocabulary
from .alerts import ALERT_DEFAULTS
from .closing import DAY_END_DEFAULTS
from .corrections import RESTORE_PLACES, current_setting_names
from .model import Conflict, DeviceKind, Event, NotFound, Outcome, QueueError, Role
from .service import ALL, DEFAULT_SETTINGS, WEEKDAYS, QueueService, counter_room, queue_changed
from .speech_vi import LETTER_NAMES_VI, validate_template
from .text import nfc

# espeak-ng's Vietnamese voices (DESIGN.md, known traps).
VOICES = ("vi", "vi-vn-x-central", "vi-vn-x-south")
SETTING_DEFAULTS = {**DEFAULT_SETTINGS, "voice": "vi", "voice_rate": 150, **ALERT_DEFAULTS, **DAY_END_DEFAULTS}
CENTRE_FIELDS = ("name", "name_en", "timezone")
NOTICE_MAX = 300
NAME_MAX = 120
NOTE_MAX = 500
CODE_PATTERN = re.compile(r"^[A-Z0-9][A-Z0-9_.-]{0,31}$")
TIME_PATTERN = re.compile(r"^(\d{1,2}):(\d{2})$")
# Day names accepted in the opening-hours text: English and Vietnamese (Thứ 2 … Chủ nhật).
DAY_ALIASES = {**{day: index for index, day in enumerate(WEEKDAYS)},
               "t2": 0, "t3": 1, "t4": 2, "t5": 3, "t6": 4, "t7": 5, "cn": 6}
DAY_LABELS = {"vi": ("T2", "T3", "T4", "T5", "T6", "T7", "CN"),
              "en": ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
COMMON_PASSWORDS = {"12345678", "123456789", "1234567890", "password", "password1", "matkhau", "matkhau1",
                    "matkhau123", "11111111", "00000000", "qwertyui", "abcd1234", "admin123", "12341234"}


class ValidationError(QueueError):
    """Input an administrator must correct; `field` names the form field at fault."""

    status = 400
    code = "invalid"

    def __init__(self, message: str, *, field: str | None = None, code: str | None = None,
                 status: int | None = None, errors: list[str] | None = None, fields: dict | None = None):
        super().__init__(message, code=code, status=status)
        self.field = field
        self.errors = errors or [message]
        # every field at fault -> its message, so a form marks them all at once
        self.fields = fields if fields is not None else ({field: message} if field else {})


class _Fields:
    """Collects each field's refusal, so one answer lists every mistake of a form."""

    def __init__(self):
        self.refusals: dict[str, ValidationError] = {}

    @contextmanager
    def field(self, name: str):
        try:
            yield
        except ValidationError as error:
            self.refusals.setdefault(error.field or name, error)

    def done(self) -> None:
        refusals = list(self.refusals.values())
        if len(refusals) == 1:
            raise refusals[0]
        if refusals:
            messages = [error.message for error in refusals]
            raise ValidationError(f"Có {len(messages)} lỗi cần sửa: " + "; ".join(messages),
                                  field=refusals[0].field, code=refusals[0].code, status=refusals[0].status,
                                  errors=messages, fields={name: error.message for name, error in self.refusals.items()})


_ABSENT = object()  # as a default: the check runs only when the field is given


def _clean(data: dict, checks, existing: dict | None, key=None, unique=None) -> dict:
    """Run each (field, check, default-on-create) over the input; `key` is the (field, check, message) fixed at creation."""
    creating = existing is None
    fields = _Fields()
    out: dict = {}
    if key is not None:
        name, check, message = key
        with fields.field(name):
            if creating:
                out[name] = check(data.get(name))
            elif data.get(name) not in (None, "") and check(data[name]) != existing[name]:
                raise ValidationError(message, field=name, code="fixed")
    for name, check, default in checks:
        if name in data:
            value = data[name]
        elif creating and default is not _ABSENT:
            value = default
        else:
            continue
        with fields.field(name):
            out[name] = check(value)
    if unique is not None:
        unique(out, fields)  # duplicates are reported along with the other mistakes
    fields.done()
    return out


def _unique(db, centre_id: str, table: str, column: str, label: str, label_en: str, row_id=None):
    """A check that a value is not already used by another row of the centre (codes, numbers)."""
    def check(out: dict, fields: _Fields) -> None:
        with fields.field(column):
            if column in out and store.one(db, f"SELECT id FROM {table} WHERE centre_id = ? AND {column} = ? "
                                               "AND id IS NOT ?", (centre_id, out[column], row_id)):
                raise ValidationError(f"{label} «{out[column]}» đã có ({label_en} already used)", field=column,
                                      code="duplicate_number" if column == "number" else "duplicate_code",
                                      status=409)
    return check


# ---- cleaning input ---------------------------------------------------------------------------

def _text(value, field: str, label: str, *, required: bool = False, max_length: int = NAME_MAX) -> str:
    """NFC text on one line, trimmed; refuses non-text, control characters and overlong text."""
    if value is None:
        value = ""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        raise ValidationError(f"{label} phải là chữ ({field} must be text)", field=field)
    value = " ".join(nfc(value).split())
    if any(unicodedata.category(ch) == "Cc" for ch in value):
        raise ValidationError(f"{label} có ký tự điều khiển không hợp lệ ({field} has control characters)",
                              field=field)
    if required and not value:
        raise ValidationError(f"{label} không được để trống ({field} is required)", field=field, code="required")
    if len(value) > max_length:
        raise ValidationError(f"{label} dài tối đa {max_length} ký tự, hiện có {len(value)} "
                              f"({field}: at most {max_length} characters)", field=field, code="too_long")
    return value


def _optional_text(value, field: str, label: str, max_length: int = NOTE_MAX) -> str | None:
    return _text(value, field, label, max_length=max_length) or None


def _int(value, field: str, label: str, *, minimum: int | None = None, maximum: int | None = None,
         optional: bool = False) -> int | None:
    """A whole number in range; '' or None is None when optional."""
    if value is None or (isinstance(value, str) and not value.strip()):
        if optional:
            return None
        raise ValidationError(f"{label} không được để trống ({field} is required)", field=field, code="required")
    number = None
    if isinstance(value, bool):
        number = None
    elif isinstance(value, int):
        number = value
    elif isinstance(value, float) and value.is_integer():
        number = int(value)
    elif isinstance(value, str) and re.fullmatch(r"\s*[+-]?\d{1,12}\s*", value):
        number = int(value)
    if number is None or (minimum is not None and number < minimum) or (maximum is not None and number > maximum):
        if minimum is not None and maximum is not None:
            span, span_en = f"từ {minimum} đến {maximum}", f"from {minimum} to {maximum}"
        elif minimum is not None:
            span, span_en = f"từ {minimum} trở lên", f"of at least {minimum}"
        else:
            span, span_en = f"không quá {maximum}", f"of at most {maximum}"
        raise ValidationError(f"{label} phải là số nguyên {span}, không phải «{value}» "
                              f"({field} must be a whole number {span_en})", field=field, code="out_of_range")
    return number


def _bool(value, field: str, label: str) -> bool:
    if isinstance(value, bool):
        return value
    if value in (None, "", 0, "0", "false", "off", "no", "False"):
        return False
    if value in (1, "1", "true", "on", "yes", "True"):
        return True
    raise ValidationError(f"{label} phải là có hoặc không ({field} must be true or false)", field=field)


def _code(value, field: str, label: str) -> str:
    code = _text(value, field, label, required=True, max_length=32).upper()
    if not CODE_PATTERN.match(code):
        raise ValidationError(f"{label} chỉ gồm chữ A-Z, số 0-9 và '_', '-', '.', tối đa 32 ký tự, không phải «{code}» "
                              f"({field}: letters A-Z, digits and _ - . only)", field=field, code="bad_code")
    return code


def _prefix(value) -> str:
    prefix = _text(value, "prefix", "Chữ đầu số thứ tự", required=True, max_length=2).upper()
    if not all(letter in LETTER_NAMES_VI for letter in prefix):
        raise ValidationError(f"Chữ đầu số thứ tự gồm 1–2 chữ cái in hoa, ví dụ A hoặc HK, không phải «{prefix}» "
                              "(prefix: 1 or 2 capital letters)", field="prefix", code="bad_prefix")
    return prefix


def check_password(password, username: str = "") -> str:
    """Refuse a weak password: under 8 characters, one kind of character, common, or the username."""
    field, label = "password", "Mật khẩu"
    if not isinstance(password, str) or len(password) < accounts.MIN_PASSWORD_LENGTH:
        raise ValidationError(f"Mật khẩu phải có ít nhất {accounts.MIN_PASSWORD_LENGTH} ký tự "
                              "(password too short)", field=field, code="weak_password")
    if len(password) > 200:
        raise ValidationError("Mật khẩu dài tối đa 200 ký tự (password too long)", field=field, code="weak_password")
    kinds = sum(bool(re.search(pattern, password)) for pattern in (r"[^\W\d_]", r"\d", r"[\W_]"))
    if kinds < 2 or password.lower() in COMMON_PASSWORDS or (username and username.lower() in password.lower()):
        raise ValidationError(f"{label} quá dễ đoán: hãy trộn chữ với số hoặc ký hiệu, không dùng tên đăng nhập "
                              "(password too weak: mix letters with digits or symbols)", field=field,
                              code="weak_password")
    return password


def _time(text: str) -> str:
    match = TIME_PATTERN.match(text)
    if not match or int(match.group(1)) > 24 or int(match.group(2)) > 59 or (
            int(match.group(1)) == 24 and match.group(2) != "00"):
        raise ValidationError(f"Giờ không hợp lệ: «{text}»; viết GG:PP từ 00:00 đến 24:00, ví dụ 07:30 "
                              "(bad time: use HH:MM from 00:00 to 24:00)", field="opening_hours",
                              code="bad_opening_hours")
    return f"{int(match.group(1)):02d}:{match.group(2)}"


def _bad_hours(detail: str, detail_en: str) -> ValidationError:
    return ValidationError(f"Giờ làm việc không hợp lệ: {detail}. Ví dụ: «T2-T6 07:30-11:30, 13:30-17:00; "
                           f"T7 07:30-11:30» (bad opening hours: {detail_en})", field="opening_hours",
                           code="bad_opening_hours")


def _day(token: str) -> int:
    day = DAY_ALIASES.get(token.lower())
    if day is None:
        raise _bad_hours(f"không hiểu ngày «{token}» (dùng T2…T7, CN hoặc mon…sun)", f"unknown day {token!r}")
    return day


def parse_opening_hours(value) -> dict | None:
    """Opening hours as stored: {"mon": [["07:30", "11:30"], …], …}, from that dict or from text; None = always."""
    if value is None or (isinstance(value, str) and not value.strip()) or value == {}:
        return None
    spans: dict[int, list[tuple[str, str]]] = {}
    if isinstance(value, dict):
        for key, ranges in value.items():
            if key not in WEEKDAYS:
                raise _bad_hours(f"ngày «{key}» không có (dùng {', '.join(WEEKDAYS)})", f"unknown day {key!r}")
            if not isinstance(ranges, list) or not all(
                    isinstance(r, (list, tuple)) and len(r) == 2 and all(isinstance(t, str) for t in r)
                    for r in ranges):
                raise _bad_hours(f"ngày {key} cần danh sách [giờ mở, giờ đóng]", f"{key} needs [start, end] pairs")
            spans.setdefault(WEEKDAYS.index(key), []).extend((_time(a.strip()), _time(b.strip())) for a, b in ranges)
    elif isinstance(value, str):
        text = nfc(value).replace("–", "-").replace("—", "-")
        for part in re.split(r"[;\n]+", text):
            tokens = [token for token in re.split(r"[\s,]+", part.strip()) if token]
            if not tokens:
                continue
            days: list[int] = []
            ranges: list[tuple[str, str]] = []
            for token in tokens:
                if ":" in token:
                    times = token.split("-")
                    if len(times) != 2:
                        raise _bad_hours(f"«{token}» phải có dạng GG:PP-GG:PP", f"{token!r} must be HH:MM-HH:MM")
                    ranges.append((_time(times[0]), _time(times[1])))
                elif ranges:
                    raise _bad_hours(f"ngày «{token}» phải đứng trước giờ", f"day {token!r} after the times")
                elif "-" in token:
                    first, _, last = token.partition("-")
                    start, end = _day(first), _day(last)
                    if end < start:
                        raise _bad_hours(f"khoảng ngày «{token}» ngược", f"day range {token!r} is reversed")
                    days.extend(range(start, end + 1))
                else:
                    days.append(_day(token))
            if not days or not ranges:
                raise _bad_hours(f"«{part.strip()}» cần cả ngày và giờ", f"{part.strip()!r} needs days and times")
            for day in days:
                spans.setdefault(day, []).extend(ranges)
    else:
        raise _bad_hours("cần chữ hoặc bảng theo ngày", "text or a mapping by day expected")
    hours = {}
    for day in sorted(spans):
        ranges = sorted(set(spans[day]))
        for start, end in ranges:
            if start >= end:
                raise _bad_hours(f"{start}-{end}: giờ đóng phải sau giờ mở", f"{start}-{end} ends before it starts")
        for (_, end), (start, _) in zip(ranges, ranges[1:]):
            if start < end:
                raise _bad_hours(f"các khoảng giờ của {DAY_LABELS['vi'][day]} chồng lên nhau",
                                 f"overlapping times on {WEEKDAYS[day]}")
        hours[WEEKDAYS[day]] = [list(r) for r in ranges]
    return hours or None


def format_opening_hours(hours: dict | None, lang: str = "vi") -> str:
    """Stored opening hours as the text the form shows: "T2-T6 07:30-11:30, 13:30-17:00; T7 07:30-11:30"."""
    if not hours:
        return ""
    labels = DAY_LABELS.get(lang, DAY_LABELS["vi"])
    groups: list[tuple[int, int, str]] = []
    for day, name in enumerate(WEEKDAYS):
        ranges = hours.get(name)
        if not ranges:
            continue
        times = ", ".join(f"{start}-{end}" for start, end in ranges)
        if groups and groups[-1][1] == day - 1 and groups[-1][2] == times:
            groups[-1] = (groups[-1][0], day, times)
        else:
            groups.append((day, day, times))
    return "; ".join((labels[a] if a == b else f"{labels[a]}-{labels[b]}") + f" {times}" for a, b, times in groups)


# ---- audit ------------------------------------------------------------------------------------

def audit(db, centre_id: str, now: float, user_id, action: str, target: dict | None, before, after,
          extra: dict | None = None) -> None:
    """One audit row (who, when, what, before → after) inside the caller's transaction."""
    detail = {"target": target, "before": before, "after": after, **(extra or {})}
    store.insert(db, "audit_log", {"centre_id": centre_id, "at": now, "user_id": user_id, "action": action,
                                   "detail": store.dumps(detail)})


# Written once per viewer and ticket by queueing.maintenance: a privacy record, not a configuration change.
CITIZEN_VIEW_ACTION = "citizen_data_viewed"


def audit_entries(db, centre_id: str, limit: int = 200, before_id: int | None = None,
                  include_views: bool = False) -> list[dict]:
    """The latest audit rows, newest first, with who made them (a staff member or a device)."""
    rows = store.all_rows(
        db, """SELECT a.*, u.username, u.display_name, d.name AS device_name
               FROM audit_log a LEFT JOIN users u ON u.id = a.user_id LEFT JOIN devices d ON d.id = a.device_id
               WHERE a.centre_id = ? AND a.id < ? AND (? OR a.action != ?) ORDER BY a.id DESC LIMIT ?""",
        (centre_id, before_id or 2**62, int(include_views), CITIZEN_VIEW_ACTION, limit))
    for row in rows:
        row["detail"] = json.loads(row["detail"]) if row["detail"] else {}
    return rows


def _diff(before: dict, after: dict) -> tuple[dict, dict]:
    keys = [key for key in after if key != "id" and before.get(key) != after.get(key)]
    return {key: before.get(key) for key in keys}, {key: after.get(key) for key in keys}


def _now(now: float | None) -> float:
    return time.time() if now is None else now


# ---- reading ----------------------------------------------------------------------------------

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


def effective_settings(db, centre_id: str) -> dict:
    """Every setting with its default where the centre has not set it."""
    centre = store.centre(db, centre_id)
    if centre is None:
        raise NotFound(f"Không có trung tâm '{centre_id}' (unknown centre)")
    return {**SETTING_DEFAULTS, **centre["settings"]}


# ---- events -----------------------------------------------------------------------------------

def _config_event(section: str) -> Event:
    """Screens that show configuration (kiosk, display, counters) reload it when they hear this."""
    return Event("configuration_changed", {"section": section}, ALL)


def _queue_events(db, centre_id: str, section: str) -> list[Event]:
    return [_config_event(section), queue_changed()]


# ---- services ---------------------------------------------------------------------------------

ACTIVE_CHECK = ("active", lambda v: int(_bool(v, "active", "Đang dùng")), _ABSENT)
SERVICE_KEY = ("code", lambda v: _code(v, "code", "Mã lĩnh vực"),
               "Không đổi được mã lĩnh vực; hãy tạo lĩnh vực mới (code cannot change)")
SERVICE_CHECKS = (
    ("name", lambda v: _text(v, "name", "Tên lĩnh vực", required=True), ""),
    ("name_en", lambda v: _text(v, "name_en", "Tên tiếng Anh"), ""),
    ("prefix", _prefix, ""),
    ("target_wait_s", lambda v: _int(v, "target_wait_s", "Thời gian chờ mục tiêu (giây)", minimum=60,
                                     maximum=36000), 900),
    ("target_wait_min", lambda v: 60 * _int(v, "target_wait_min", "Thời gian chờ mục tiêu (phút)", minimum=1,
                                            maximum=600), _ABSENT),
    ("default_service_s", lambda v: _int(v, "default_service_s", "Thời gian phục vụ ước tính (giây)", minimum=30,
                                         maximum=14400), 420),
    ("default_service_min", lambda v: 60 * _int(v, "default_service_min", "Thời gian phục vụ ước tính (phút)",
                                                minimum=1, maximum=240), _ABSENT),
    ("daily_cap", lambda v: _int(v, "daily_cap", "Số phiếu tối đa trong ngày", minimum=1, maximum=100000,
                                 optional=True), None),
    ("opening_hours", parse_opening_hours, None),
    ("sort_order", lambda v: _int(v, "sort_order", "Thứ tự hiển thị", minimum=0, maximum=10000, optional=True) or 0,
     0),
    ACTIVE_CHECK,
)


def _clean_service(data: dict, existing: dict | None, unique=None) -> dict:
    out = _clean(data, SERVICE_CHECKS, existing, SERVICE_KEY, unique)
    # forms speak minutes, the file and the database seconds
    for minutes, seconds in (("target_wait_min", "target_wait_s"), ("default_service_min", "default_service_s")):
        if minutes in out:
            out[seconds] = out.pop(minutes)
    return out


def _service_unique(db, centre_id: str, service_id=None):
    code_unique = _unique(db, centre_id, "services", "code", "Mã lĩnh vực", "service code", service_id)

    def check(out: dict, fields: _Fields) -> None:
        code_unique(out, fields)
        with fields.field("prefix"):
            other = store.one(db, "SELECT code, name FROM services WHERE centre_id = ? AND prefix = ? AND id IS NOT ?",
                              (centre_id, out["prefix"], service_id)) if "prefix" in out else None
            if other:
                raise ValidationError(f"Chữ đầu «{out['prefix']}» đang dùng cho lĩnh vực «{other['name']}» "
                                      f"({other['code']}); mỗi lĩnh vực một chữ đầu riêng (prefix already used)",
                                      field="prefix", code="duplicate_prefix", status=409)
    return check


def _service_columns(values: dict) -> dict:
    columns = dict(values)
    if "opening_hours" in columns:
        columns["opening_hours"] = store.dumps(columns["opening_hours"]) if columns["opening_hours"] else None
    if "active" in columns:
        columns["active"] = int(columns["active"])
    return columns


def _update_columns(db, table: str, row_id: int, columns: dict) -> None:
    if columns:
        assignments = ", ".join(f"{column} = ?" for column in columns)
        store.execute(db, f"UPDATE {table} SET {assignments} WHERE id = ?", (*columns.values(), row_id))


def create_service(db, centre_id: str, user_id, data: dict, now: float | None = None) -> Outcome:
    """Add a service (field) with its own ticket prefix."""
    with store.write_lock(db):
        values = _clean_service(data, None, _service_unique(db, centre_id))
        service_id = store.insert(db, "services", {"centre_id": centre_id, **_service_columns(values)})
        after = service_view(_row(db, "services", centre_id, service_id, "lĩnh vực"))
        audit(db, centre_id, _now(now), user_id, "service.create",
              {"type": "service", "id": service_id, "code": after["code"]}, None, after)
        events = _queue_events(db, centre_id, "services")
    return Outcome(after, events)


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


def update_service(db, centre_id: str, user_id, service_id: int, data: dict, now: float | None = None) -> Outcome:
    """Change a service's names, prefix, target wait, cap, hours or order (its code stays)."""
    with store.write_lock(db):
        row = _row(db, "services", centre_id, service_id, "lĩnh vực")
        values = _clean_service(data, row, _service_unique(db, centre_id, service_id))
        before = service_view(row)
        _update_columns(db, "services", service_id, _service_columns(values))
        after = service_view(_row(db, "services", centre_id, service_id, "lĩnh vực"))
        changed = _audit_change(db, centre_id, user_id, now, "service", {"id": service_id, "code": after["code"]},
                                before, after)
        events = _queue_events(db, centre_id, "services") if changed else []
    return Outcome(after, events)


def set_service_active(db, centre_id: str, user_id, service_id: int, active: bool, now=None) -> Outcome:
    """Deactivate (no new tickets; history kept) or reactivate a service."""
    return update_service(db, centre_id, user_id, service_id, {"active": active}, now)


# ---- procedures -------------------------------------------------------------------------------

PROCEDURE_KEY = ("code", lambda v: _code(v, "code", "Mã thủ tục"),
                 "Không đổi được mã thủ tục; hãy tạo thủ tục mới (code cannot change)")
PROCEDURE_CHECKS = (
    ("name", lambda v: _text(v, "name", "Tên thủ tục", required=True, max_length=300), ""),
    ("name_en", lambda v: _text(v, "name_en", "Tên tiếng Anh", max_length=300), ""),
    ("legal_days", lambda v: _int(v, "legal_days", "Thời hạn giải quyết (ngày)", minimum=0, maximum=365,
                                  optional=True), None),
    ("same_day", lambda v: int(_bool(v, "same_day", "Trả trong ngày")), False),
    ("legal_days_note", lambda v: _optional_text(v, "legal_days_note", "Ghi chú thời hạn"), None),
    ("fee_vnd", lambda v: _int(v, "fee_vnd", "Lệ phí (đồng)", minimum=0, maximum=10**10, optional=True), None),
    ("fee_note", lambda v: _optional_text(v, "fee_note", "Ghi chú lệ phí"), None),
    # The assistant's vocabulary (issue 13): lists, or one phrase per line from the form.
    ("phrasings", lambda v: _phrases(v, "phrasings", "Cách người dân hỏi"), []),
    ("phrasings_en", lambda v: _phrases(v, "phrasings_en", "Cách hỏi bằng tiếng Anh"), []),
    ("documents", lambda v: _phrases(v, "documents", "Giấy tờ cần mang"), []),
    ("documents_en", lambda v: _phrases(v, "documents_en", "Giấy tờ cần mang (tiếng Anh)"), []),
    ACTIVE_CHECK,
)


def _phrases(value, field: str, label: str) -> str:
    try:
        return vocabulary.dumps(vocabulary.clean_phrases(value, label))
    except vocabulary.PhraseError as error:
        raise ValidationError(str(error), field=field) from None


def _service_ref(db, centre_id: str, value) -> int:
    code = _text(value, "service", "Lĩnh vực", required=True, max_length=32).upper()
    service_id = store.scalar(db, "SELECT id FROM services WHERE centre_id = ? AND code = ?", (centre_id, code))
    if service_id is None:
        raise ValidationError(f"Không có lĩnh vực «{code}» (unknown service)", field="service", code="unknown_service")
    return service_id


def _clean_procedure(db, centre_id: str, data: dict, existing: dict | None) -> dict:
    checks = PROCEDURE_CHECKS + (("service", lambda v: _service_ref(db, centre_id, v), ""),)
    unique = _unique(db, centre_id, "procedures", "code", "Mã thủ tục", "procedure code")
    out = _clean(data, checks, existing, PROCEDURE_KEY, unique)
    if "service" in out:
        out["service_id"] = out.pop("service")
    return out


def _procedure_view(db, centre_id: str, procedure_id: int) -> dict:
    row = _row(db, "procedures", centre_id, procedure_id, "thủ tục")
    service_code = store.scalar(db, "SELECT code FROM services WHERE id = ?", (row["service_id"],))
    return procedure_view(row, service_code)


def create_procedure(db, centre_id: str, user_id, data: dict, now: float | None = None) -> Outcome:
    """Add a procedure to a service."""
    with store.write_lock(db):
        values = _clean_procedure(db, centre_id, data, None)
        procedure_id = store.insert(db, "procedures", {"centre_id": centre_id, **values})
        after = _procedure_view(db, centre_id, procedure_id)
        audit(db, centre_id, _now(now), user_id, "procedure.create",
              {"type": "procedure", "id": procedure_id, "code": after["code"]}, None, after)
        events = _queue_events(db, centre_id, "procedures")
    return Outcome(after, events)


def update_procedure(db, centre_id: str, user_id, procedure_id: int, data: dict, now: float | None = None) -> Outcome:
    """Change a procedure's names, service, time limit or fee (its code stays)."""
    with store.write_lock(db):
        row = _row(db, "procedures", centre_id, procedure_id, "thủ tục")
        values = _clean_procedure(db, centre_id, data, row)
        before = _procedure_view(db, centre_id, procedure_id)
        _update_columns(db, "procedures", procedure_id, values)
        after = _procedure_view(db, centre_id, procedure_id)
        changed = _audit_change(db, centre_id, user_id, now, "procedure", {"id": procedure_id, "code": after["code"]},
                                before, after)
        events = _queue_events(db, centre_id, "procedures") if changed else []
    return Outcome(after, events)


def set_procedure_active(db, centre_id: str, user_id, procedure_id: int, active: bool, now=None) -> Outcome:
    return update_procedure(db, centre_id, user_id, procedure_id, {"active": active}, now)


# ---- priority groups --------------------------------------------------------------------------

GROUP_KEY = ("code", lambda v: _code(v, "code", "Mã nhóm ưu tiên"),
             "Không đổi được mã nhóm ưu tiên (code cannot change)")
GROUP_CHECKS = (
    ("name", lambda v: _text(v, "name", "Tên nhóm ưu tiên", required=True), ""),
    ("name_en", lambda v: _text(v, "name_en", "Tên tiếng Anh"), ""),
    ("sort_order", lambda v: _int(v, "sort_order", "Thứ tự hiển thị", minimum=0, maximum=10000, optional=True) or 0,
     0),
    ACTIVE_CHECK,
)


def _clean_group(data: dict, existing: dict | None, unique=None) -> dict:
    return _clean(data, GROUP_CHECKS, existing, GROUP_KEY, unique)


def create_priority_group(db, centre_id: str, user_id, data: dict, now: float | None = None) -> Outcome:
    """Add a priority group the kiosk offers (elderly, disabled, …)."""
    with store.write_lock(db):
        values = _clean_group(data, None, _unique(db, centre_id, "priority_groups", "code", "Mã nhóm ưu tiên",
                                                  "priority group code"))
        group_id = store.insert(db, "priority_groups", {"centre_id": centre_id, **values})
        after = group_view(_row(db, "priority_groups", centre_id, group_id, "nhóm ưu tiên"))
        audit(db, centre_id, _now(now), user_id, "priority_group.create",
              {"type": "priority_group", "id": group_id, "code": after["code"]}, None, after)
    return Outcome(after, [_config_event("priority_groups")])


def update_priority_group(db, centre_id: str, user_id, group_id: int, data: dict, now: float | None = None) -> Outcome:
    with store.write_lock(db):
        row = _row(db, "priority_groups", centre_id, group_id, "nhóm ưu tiên")
        values = _clean_group(data, row)
        before = group_view(row)
        _update_columns(db, "priority_groups", group_id, values)
        after = group_view(_row(db, "priority_groups", centre_id, group_id, "nhóm ưu tiên"))
        changed = _audit_change(db, centre_id, user_id, now, "priority_group", {"id": group_id, "code": after["code"]},
                                before, after)
        events = [_config_event("priority_groups")] if changed else []
    return Outcome(after, events)


def set_priority_group_active(db, centre_id: str, user_id, group_id: int, active: bool, now=None) -> Outcome:
    return update_priority_group(db, centre_id, user_id, group_id, {"active": active}, now)


# ---- counters ---------------------------------------------------------------------------------

COUNTER_KEY = ("number", lambda v: _int(v, "number", "Số quầy", minimum=1, maximum=999),
               "Không đổi được số quầy; hãy tạo quầy mới (counter number cannot change)")
COUNTER_CHECKS = (
    ("name", lambda v: _text(v, "name", "Tên quầy", required=True), ""),
    ("floor", lambda v: _text(v, "floor", "Tầng / khu vực", max_length=60), ""),
    ACTIVE_CHECK,
)


def _service_codes(value) -> list[str]:
    codes = value or []
    if isinstance(codes, str):
        codes = [code for code in re.split(r"[\s,;]+", codes) if code]
    if not isinstance(codes, list) or not all(isinstance(code, str) for code in codes):
        raise ValidationError("Lĩnh vực của quầy phải là danh sách mã (services must be a list of codes)",
                              field="services")
    return list(dict.fromkeys(nfc(code).strip().upper() for code in codes))


def _service_ids(db, centre_id: str, value) -> list[int]:
    ids, unknown = [], []
    for code in _service_codes(value):
        service_id = store.scalar(db, "SELECT id FROM services WHERE centre_id = ? AND code = ?", (centre_id, code))
        (unknown.append(code) if service_id is None else ids.append(service_id))
    if unknown:
        shown = ", ".join(f"«{code}»" for code in unknown)
        raise ValidationError(f"Quầy phục vụ lĩnh vực không có: {shown} (counter serves an unknown service)",
                              field="services", code="unknown_service")
    return ids


def _clean_counter(db, centre_id: str, data: dict, existing: dict | None) -> dict:
    checks = COUNTER_CHECKS + (("services", lambda v: _service_ids(db, centre_id, v), []),)
    return _clean(data, checks, existing, COUNTER_KEY, _unique(db, centre_id, "counters", "number", "Quầy số",
                                                               "counter number"))


def _counter_events(db, centre_id: str, counter_id: int) -> list[Event]:
    queue = QueueService(db, centre_id)
    row = store.one(db, "SELECT * FROM counters WHERE id = ?", (counter_id,))
    return [_config_event("counters"),
            Event("counter_changed", {**queue.counter_view(row), "active": bool(row["active"])},
                  ("monitor", counter_room(counter_id))),
            queue_changed()]


def _write_counter_services(db, counter_id: int, service_ids: list[int]) -> None:
    store.execute(db, "DELETE FROM counter_services WHERE counter_id = ?", (counter_id,))
    for service_id in service_ids:
        store.insert(db, "counter_services", {"counter_id": counter_id, "service_id": service_id})


def create_counter(db, centre_id: str, user_id, data: dict, now: float | None = None) -> Outcome:
    """Add a counter with the services it serves and where it stands."""
    with store.write_lock(db):
        values = _clean_counter(db, centre_id, data, None)
        service_ids = values.pop("services")
        counter_id = store.insert(db, "counters", {"centre_id": centre_id, **values})
        _write_counter_services(db, counter_id, service_ids)
        after = counter_view(db, _row(db, "counters", centre_id, counter_id, "quầy"))
        audit(db, centre_id, _now(now), user_id, "counter.create",
              {"type": "counter", "id": counter_id, "number": after["number"]}, None, _without(after, "state"))
        events = _counter_events(db, centre_id, counter_id)
    return Outcome(after, events)


def _without(view: dict, *keys: str) -> dict:
    return {k: v for k, v in view.items() if k not in keys}


def update_counter(db, centre_id: str, user_id, counter_id: int, data: dict, now: float | None = None) -> Outcome:
    """Change a counter's name, floor/area or services; a counter with a clerk at it cannot be deactivated."""
    with store.write_lock(db):
        row = _row(db, "counters", centre_id, counter_id, "quầy")
        values = _clean_counter(db, centre_id, data, row)
        if values.get("active") == 0 and row["active"] and row["clerk_id"]:
            clerk = store.one(db, "SELECT display_name, username FROM users WHERE id = ?", (row["clerk_id"],))
            raise Conflict(f"Quầy {row['number']} đang có cán bộ {clerk['display_name'] or clerk['username']} làm việc; "
                           "cán bộ cần rời quầy trước (a clerk is signed in at this counter)", code="counter_in_use")
        before = _without(counter_view(db, row), "state")
        if "services" in values:
            _write_counter_services(db, counter_id, values.pop("services"))
        _update_columns(db, "counters", counter_id, values)
        after_view = counter_view(db, _row(db, "counters", centre_id, counter_id, "quầy"))
        changed = _audit_change(db, centre_id, user_id, now, "counter",
                                {"id": counter_id, "number": after_view["number"]}, before,
                                _without(after_view, "state"))
        events = _counter_events(db, centre_id, counter_id) if changed else []
    return Outcome(after_view, events)


def set_counter_active(db, centre_id: str, user_id, counter_id: int, active: bool, now=None) -> Outcome:
    return update_counter(db, centre_id, user_id, counter_id, {"active": active}, now)


# ---- users ------------------------------------------------------------------------------------

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
    with store.write_lock(db):
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
    with store.write_lock(db):
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
    with store.write_lock(db):
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
    with store.write_lock(db):
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
    with store.write_lock(db):
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
    with store.write_lock(db):
        row = _row(db, "devices", centre_id, device_id, "thiết bị")
        if row["revoked_at"] is not None:
            raise Conflict("Thiết bị này đã bị thu hồi (device already revoked)", code="already_revoked")
        store.execute(db, "UPDATE devices SET revoked_at = ? WHERE id = ?", (now, device_id))
        audit(db, centre_id, now, user_id, "device.revoke", {"type": "device", "id": device_id, "name": row["name"]},
              {"revoked": False}, {"revoked": True})
        after = device_view(db, _row(db, "devices", centre_id, device_id, "thiết bị"))
    return Outcome(after, [])


# ---- settings ---------------------------------------------------------------------------------

SETTING_LABELS = {
    "language": "Ngôn ngữ thông báo", "priority_ratio": "Tỉ lệ ưu tiên (số lượt ưu tiên liên tiếp)",
    "recall_limit": "Số lần gọi lại tối đa", "announcement_template": "Mẫu câu thông báo",
    "no_show_restore_minutes": "Thời gian cho khôi phục số vắng mặt (phút)",
    "no_show_restore_place": "Vị trí của số được khôi phục",
    "announcement_repeat": "Số lần đọc mỗi thông báo", "notice": "Dòng thông báo trên màn hình",
    "kiosk_tickets_per_minute": "Số phiếu tối đa mỗi phút ở kiosk",
    "citizen_retention_days": "Số ngày giữ thông tin công dân", "voice": "Giọng đọc", "voice_rate": "Tốc độ đọc",
    "alert_wait_minutes": "Cảnh báo khi một số chờ quá (phút)",
    "alert_pause_minutes": "Cảnh báo khi quầy tạm dừng quá (phút)",
    "alert_waiting_count": "Cảnh báo khi số người chờ vượt quá",
    "cutoff_margin_minutes": "Ngừng cấp số trước giờ đóng cửa (phút)",
    "name": "Tên trung tâm", "name_en": "Tên trung tâm (tiếng Anh)", "timezone": "Múi giờ",
}


def clean_setting(key: str, value):
    """One setting's value, checked; raises ValidationError naming the setting."""
    label = SETTING_LABELS.get(key, key)
    ranges = {"priority_ratio": (0, 100), "recall_limit": (1, 10), "announcement_repeat": (1, 5),
              "no_show_restore_minutes": (0, 1440),
              "kiosk_tickets_per_minute": (1, 600), "citizen_retention_days": (1, 3650), "voice_rate": (80, 260),
              "alert_wait_minutes": (0, 1440), "alert_pause_minutes": (0, 1440), "alert_waiting_count": (0, 100000),
              "cutoff_margin_minutes": (0, 240)}
    if key in ranges:
        return _int(value, key, label, minimum=ranges[key][0], maximum=ranges[key][1])
    if key == "language":
        if value not in ("vi", "en"):
            raise ValidationError(f"{label} phải là vi hoặc en, không phải «{value}» (language must be vi or en)",
                                  field=key, code="bad_language")
        return value
    if key == "no_show_restore_place":
        if value not in RESTORE_PLACES:
            raise ValidationError(f"{label} phải là behind_waiting (sau những người đang chờ) hoặc original (vị trí cũ) "
                                  "(must be behind_waiting or original)", field=key, code="bad_restore_place")
        return value
    if key == "voice":
        if value not in VOICES:
            raise ValidationError(f"{label} phải là một trong {', '.join(VOICES)} (unknown voice)", field=key,
                                  code="bad_voice")
        return value
    if key == "announcement_template":
        template = _text(value, key, label, max_length=300) or None
        if template is not None:
            try:
                validate_template(template)
            except ValueError as error:
                raise ValidationError(str(error), field=key, code="bad_template") from None
        return template
    if key == "notice":
        return _text(value, key, label, max_length=NOTICE_MAX)
    if key in ("name", "name_en"):
        return _text(value, key, label, required=key == "name")
    if key == "timezone":
        zone = _text(value, key, label, required=True, max_length=60)
        try:
            ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValidationError(f"Múi giờ «{zone}» không có; ví dụ Asia/Ho_Chi_Minh (unknown time zone)",
                                  field=key, code="bad_timezone") from None
        return zone
    raise ValidationError(f"Không có thiết lập «{key}» (unknown setting)", field=key, code="unknown_setting")


def _clean_settings(data: dict) -> dict:
    if not isinstance(data, dict):
        raise ValidationError("Thiết lập phải là một bảng tên → giá trị (settings must be an object)")
    fields, values = _Fields(), {}
    for key, value in current_setting_names(data).items():
        with fields.field(key):
            values[key] = clean_setting(key, value)
    fields.done()
    return values


def centre_settings_view(db, centre_id: str) -> dict:
    """The centre's names, time zone and every setting (defaults filled in)."""
    centre = store.centre(db, centre_id)
    return {"name": centre["name"], "name_en": centre["name_en"], "timezone": centre["timezone"],
            **{**SETTING_DEFAULTS, **centre["settings"]}}


def update_settings(db, centre_id: str, user_id, data: dict, now: float | None = None) -> Outcome:
    """Change the centre's names and settings (announcement, notice line, ratios, alert thresholds)."""
    values = _clean_settings(data)
    with store.write_lock(db):
        centre = store.centre(db, centre_id)
        before = centre_settings_view(db, centre_id)
        columns = {key: values[key] for key in CENTRE_FIELDS if key in values}
        settings = {**centre["settings"], **{k: v for k, v in values.items() if k not in CENTRE_FIELDS}}
        columns["settings"] = store.dumps(settings)
        _update_columns(db, "centres", centre_id, columns)
        after = centre_settings_view(db, centre_id)
        changed_before, changed_after = _diff(before, after)
        events: list[Event] = []
        if changed_after:
            audit(db, centre_id, _now(now), user_id, "settings.update", {"type": "centre", "id": centre_id},
                  changed_before, changed_after)
            events.append(_config_event("settings"))
            if "notice" in changed_after:
                events.append(Event("notice_changed", {"notice": after["notice"]}, ALL))
    return Outcome(after, events)


# ---- configuration file -----------------------------------------------------------------------

def export_configuration(db, centre_id: str) -> dict:
    """The centre's configuration in the format load_configuration reads (no accounts, devices or secrets)."""
    centre = store.centre(db, centre_id)
    if centre is None:
        raise NotFound(f"Không có trung tâm '{centre_id}' (unknown centre)")
    procedures: dict[str, list[dict]] = {}
    for procedure in list_procedures(db, centre_id):
        item = _without(procedure, "id", "service")
        procedures.setdefault(procedure["service"], []).append(item)
    services = []
    for service in list_services(db, centre_id):
        item = _without(service, "id")
        item["procedures"] = procedures.get(service["code"], [])
        services.append(item)
    return {
        "centre": {"id": centre["id"], "name": centre["name"], "name_en": centre["name_en"],
                   "timezone": centre["timezone"], "settings": {**SETTING_DEFAULTS, **centre["settings"]}},
        "services": services,
        "priority_groups": [_without(group, "id") for group in list_groups(db, centre_id)],
        "counters": [_without(counter, "id", "state") for counter in list_counters(db, centre_id)],
        "holidays": holidays.list_holidays(db, centre_id),
        "life_events": vocabulary.list_life_events(db, centre_id),
    }


SERVICE_KEYS = {"code", "name", "name_en", "prefix", "target_wait_s", "default_service_s", "daily_cap",
                "opening_hours", "sort_order", "active", "procedures"}
PROCEDURE_KEYS = {"code", "name", "name_en", "legal_days", "same_day", "legal_days_note", "fee_vnd", "fee_note",
                  "active", *vocabulary.PHRASE_FIELDS}
GROUP_KEYS = {"code", "name", "name_en", "sort_order", "active"}
COUNTER_KEYS = {"number", "name", "floor", "services", "active"}
MAX_ERRORS_SHOWN = 15


def import_configuration(db, centre_id: str, config: dict, user_id, now: float | None = None) -> Outcome:
    """Apply a configuration file: everything is checked first, then written in one transaction.

    Services, procedures and priority groups are matched by code and counters by number: matches are
    updated, new ones added; nothing missing from the file is deleted (history stays whole).
    """
    errors: list[str] = []
    plan = _plan_import(db, centre_id, config, errors)
    closed_days = holidays.clean_import(config.get("holidays") if isinstance(config, dict) else None, errors)
    if errors:
        shown = "; ".join(f"{n}) {e}" for n, e in enumerate(errors[:MAX_ERRORS_SHOWN], start=1))
        more = f"; … và {len(errors) - MAX_ERRORS_SHOWN} lỗi khác" if len(errors) > MAX_ERRORS_SHOWN else ""
        raise ValidationError(f"Tệp cấu hình có {len(errors)} lỗi, chưa thay đổi gì: {shown}{more} "
                              f"(configuration file has {len(errors)} errors; nothing was changed)",
                              code="bad_configuration", errors=errors)
    now = _now(now)
    with store.write_lock(db):
        before = export_configuration(db, centre_id)
        changes = _apply_import(db, centre_id, plan)
        holidays.seed_defaults(db, centre_id, closed_days)  # added or kept, never removed, like the rest
        after = export_configuration(db, centre_id)
        summary = {section: {"added": sum(1 for c in changes if c["section"] == section and c["before"] is None),
                             "updated": sum(1 for c in changes if c["section"] == section and c["before"] is not None)}
                   for section in ("centre", "services", "procedures", "priority_groups", "counters", "life_events")}
        audit(db, centre_id, now, user_id, "configuration.import", {"type": "centre", "id": centre_id},
              None, None, {"summary": summary, "changes": changes})
        events = _queue_events(db, centre_id, "all")
        if before["centre"]["settings"].get("notice") != after["centre"]["settings"].get("notice"):
            events.append(Event("notice_changed", {"notice": after["centre"]["settings"]["notice"]}, ALL))
    return Outcome({"summary": summary, "changes": len(changes)}, events)


def _collect(errors: list[str], where: str, function, *args):
    """Run a cleaner, turning its refusal into one line of the error list."""
    try:
        return function(*args)
    except ValidationError as error:
        errors.extend(f"{where}: {message}" for message in error.errors)
        return None


def _unknown_keys(errors: list[str], where: str, item: dict, allowed: set[str]) -> None:
    unknown = sorted(set(item) - allowed)
    if unknown:
        errors.append(f"{where}: trường không được hỗ trợ {', '.join(unknown)} (unknown fields)")


def _plan_import(db, centre_id: str, config, errors: list[str]) -> dict:
    """Every item of the file cleaned and matched to what exists; problems go to `errors`."""
    plan: dict = {"centre": {}, "services": [], "procedures": [], "groups": [], "counters": []}
    if not isinstance(config, dict) or not isinstance(config.get("centre"), dict):
        errors.append("Tệp cấu hình phải là JSON có mục 'centre' (a centre configuration needs 'centre')")
        return plan
    unknown = sorted(set(config) - {"centre", "services", "priority_groups", "counters", "holidays", "life_events"})
    if unknown:
        errors.append(f"Mục không được hỗ trợ: {', '.join(unknown)} (unknown sections)")
    centre = config["centre"]
    _unknown_keys(errors, "centre", centre, {"id", "name", "name_en", "timezone", "settings"})
    centre_values = {key: centre[key] for key in CENTRE_FIELDS if key in centre}
    settings = current_setting_names(centre.get("settings", {}))
    if not isinstance(settings, dict):
        errors.append("centre.settings phải là một bảng (settings must be an object)")
        settings = {}
    for key, value in {**centre_values, **settings}.items():
        if key in CENTRE_FIELDS and key in settings:
            errors.append(f"centre.settings: «{key}» thuộc mục centre (belongs to centre)")
            continue
        cleaned = _collect(errors, f"centre.{key}", clean_setting, key, value)
        if cleaned is not None or key in ("announcement_template",):
            plan["centre"][key] = cleaned
    for section in ("services", "priority_groups", "counters"):
        if not isinstance(config.get(section, []), list):
            errors.append(f"Mục '{section}' phải là một danh sách ({section} must be a list)")
            config = {**config, section: []}

    existing_services = {row["code"]: row for row in store.services(db, centre_id, active_only=False)}
    final_prefix = {code: row["prefix"] for code, row in existing_services.items()}
    seen_services: set[str] = set()
    seen_procedures: set[str] = set()
    for index, item in enumerate(config.get("services", []), start=1):
        where = f"services[{index}]"
        if not isinstance(item, dict):
            errors.append(f"{where}: phải là một đối tượng (must be an object)")
            continue
        _unknown_keys(errors, where, item, SERVICE_KEYS)
        code = _collect(errors, where, _code, item.get("code"), "code", "Mã lĩnh vực")
        if code is None:
            continue
        where = f"lĩnh vực {code}"
        if code in seen_services:
            errors.append(f"{where}: mã bị lặp trong tệp (duplicate service code)")
            continue
        seen_services.add(code)
        existing = existing_services.get(code)
        data = {k: v for k, v in item.items() if k != "procedures"}
        if existing is None and "sort_order" not in data:
            # like load_configuration, a new service without an order goes where the file puts it: last
            data["sort_order"] = max((row["sort_order"] for row in existing_services.values()), default=-1) + index
        values = _collect(errors, where, _clean_service, data, existing)
        if values is None:
            continue
        values.pop("code", None)
        if "prefix" in values:
            final_prefix[code] = values["prefix"]
        plan["services"].append((code, existing, values))
        procedures = item.get("procedures", [])
        if not isinstance(procedures, list):
            errors.append(f"{where}: 'procedures' phải là một danh sách (procedures must be a list)")
            continue
        for position, procedure in enumerate(procedures, start=1):
            place = f"{where}, thủ tục thứ {position}"
            if not isinstance(procedure, dict):
                errors.append(f"{place}: phải là một đối tượng (must be an object)")
                continue
            _unknown_keys(errors, place, procedure, PROCEDURE_KEYS)
            procedure_code = _collect(errors, place, _code, procedure.get("code"), "code", "Mã thủ tục")
            if procedure_code is None:
                continue
            place = f"thủ tục {procedure_code}"
            if procedure_code in seen_procedures:
                errors.append(f"{place}: mã bị lặp trong tệp (duplicate procedure code)")
                continue
            seen_procedures.add(procedure_code)
            existing_procedure = store.one(db, "SELECT * FROM procedures WHERE centre_id = ? AND code = ?",
                                           (centre_id, procedure_code))
            cleaned = _collect(errors, place, _clean_procedure_fields, procedure, existing_procedure)
            if cleaned is not None:
                cleaned.pop("code", None)
                plan["procedures"].append((procedure_code, code, existing_procedure, cleaned))
    by_prefix: dict[str, list[str]] = {}
    for code, prefix in final_prefix.items():
        by_prefix.setdefault(prefix, []).append(code)
    for prefix, codes in sorted(by_prefix.items()):
        if len(codes) > 1:
            errors.append(f"Chữ đầu «{prefix}» dùng cho nhiều lĩnh vực: {', '.join(sorted(codes))} "
                          "(prefix used by several services)")

    existing_groups = {row["code"]: row for row in store.all_rows(
        db, "SELECT * FROM priority_groups WHERE centre_id = ?", (centre_id,))}
    seen_groups: set[str] = set()
    for index, item in enumerate(config.get("priority_groups", []), start=1):
        where = f"priority_groups[{index}]"
        if not isinstance(item, dict):
            errors.append(f"{where}: phải là một đối tượng (must be an object)")
            continue
        _unknown_keys(errors, where, item, GROUP_KEYS)
        code = _collect(errors, where, _code, item.get("code"), "code", "Mã nhóm ưu tiên")
        if code is None:
            continue
        if code in seen_groups:
            errors.append(f"nhóm ưu tiên {code}: mã bị lặp trong tệp (duplicate priority group code)")
            continue
        seen_groups.add(code)
        data = dict(item) if "sort_order" in item or code in existing_groups else {**item, "sort_order": index - 1}
        values = _collect(errors, f"nhóm ưu tiên {code}", _clean_group, data, existing_groups.get(code))
        if values is not None:
            values.pop("code", None)
            plan["groups"].append((code, existing_groups.get(code), values))

    known_services = set(existing_services) | seen_services
    existing_counters = {row["number"]: row for row in store.all_rows(
        db, "SELECT * FROM counters WHERE centre_id = ?", (centre_id,))}
    seen_counters: set[int] = set()
    for index, item in enumerate(config.get("counters", []), start=1):
        where = f"counters[{index}]"
        if not isinstance(item, dict):
            errors.append(f"{where}: phải là một đối tượng (must be an object)")
            continue
        _unknown_keys(errors, where, item, COUNTER_KEYS)
        number = _collect(errors, where, lambda v: _int(v, "number", "Số quầy", minimum=1, maximum=999),
                          item.get("number"))
        if number is None:
            continue
        where = f"quầy {number}"
        if number in seen_counters:
            errors.append(f"{where}: số quầy bị lặp trong tệp (duplicate counter number)")
            continue
        seen_counters.add(number)
        existing = existing_counters.get(number)
        data = {k: v for k, v in item.items() if k not in ("number", "services")}
        values = _collect(errors, where, _clean_counter_fields, data, existing)
        if values is None:
            continue
        if "services" in item or existing is None:
            codes = item.get("services") or []
            if not isinstance(codes, list) or not all(isinstance(c, str) for c in codes):
                errors.append(f"{where}: 'services' phải là danh sách mã lĩnh vực (services must be a list of codes)")
                continue
            codes = list(dict.fromkeys(nfc(c).strip().upper() for c in codes))
            unknown_codes = [c for c in codes if c not in known_services]
            if unknown_codes:
                errors.append(f"{where}: phục vụ lĩnh vực không có: {', '.join(unknown_codes)} "
                              "(counter serves an unknown service)")
                continue
            values["services"] = codes
        if values.get("active") == 0 and existing is not None and existing["active"] and existing["clerk_id"]:
            errors.append(f"{where}: đang có cán bộ làm việc, không thể ngừng dùng (a clerk is signed in)")
            continue
        plan["counters"].append((number, existing, values))
    # Life events name procedures of the file or of the centre, by code (issue 13).
    known = seen_procedures | {row["code"] for row in store.all_rows(
        db, "SELECT code FROM procedures WHERE centre_id = ?", (centre_id,))}
    events = config.get("life_events", [])
    if not isinstance(events, list):
        errors.append("Mục 'life_events' phải là một danh sách (life_events must be a list)")
        events = []
    plan["life_events"] = []
    for index, item in enumerate(events, start=1):
        try:
            plan["life_events"].append(vocabulary.clean_life_event(item, known))
        except vocabulary.PhraseError as error:
            errors.append(f"life_events[{index}]: {error}")
    return plan


def _clean_procedure_fields(data: dict, existing: dict | None) -> dict:
    """A procedure's own fields (its service comes from where it sits in the file)."""
    return _clean(data, PROCEDURE_CHECKS, existing, PROCEDURE_KEY)


def _clean_counter_fields(data: dict, existing: dict | None) -> dict:
    return _clean(data, COUNTER_CHECKS, existing)


def _record(changes: list[dict], section: str, key, before: dict | None, after: dict) -> None:
    if before is None:
        changes.append({"section": section, "key": key, "before": None, "after": after})
        return
    changed_before, changed_after = _diff(before, after)
    if changed_after:
        changes.append({"section": section, "key": key, "before": changed_before, "after": changed_after})


def _apply_import(db, centre_id: str, plan: dict) -> list[dict]:
    """Write a checked plan inside the caller's transaction; returns what changed."""
    changes: list[dict] = []
    if plan["centre"]:
        centre = store.centre(db, centre_id)
        before = centre_settings_view(db, centre_id)
        columns = {key: plan["centre"][key] for key in CENTRE_FIELDS if key in plan["centre"]}
        settings = {**centre["settings"], **{k: v for k, v in plan["centre"].items() if k not in CENTRE_FIELDS}}
        columns["settings"] = store.dumps(settings)
        _update_columns(db, "centres", centre_id, columns)
        _record(changes, "centre", centre_id, before, centre_settings_view(db, centre_id))
    # Prefixes may be swapped between services: park the changing ones first so UNIQUE holds throughout.
    for code, existing, values in plan["services"]:
        if existing is not None and "prefix" in values and values["prefix"] != existing["prefix"]:
            store.execute(db, "UPDATE services SET prefix = ? WHERE id = ?", (f"~{existing['id']}", existing["id"]))
    service_ids = {}
    for code, existing, values in plan["services"]:
        if existing is None:
            service_ids[code] = store.insert(db, "services", {"centre_id": centre_id, "code": code,
                                                              **_service_columns(values)})
            _record(changes, "services", code, None,
                    service_view(store.one(db, "SELECT * FROM services WHERE id = ?", (service_ids[code],))))
        else:
            service_ids[code] = existing["id"]
            _update_columns(db, "services", existing["id"], _service_columns(values))
            _record(changes, "services", code, service_view(existing),
                    service_view(store.one(db, "SELECT * FROM services WHERE id = ?", (existing["id"],))))
    for code, service_code, existing, values in plan["procedures"]:
        values = {**values, "service_id": service_ids[service_code]}
        if existing is None:
            procedure_id = store.insert(db, "procedures", {"centre_id": centre_id, "code": code, **values})
            _record(changes, "procedures", code, None, _procedure_view(db, centre_id, procedure_id))
        else:
            before = _procedure_view(db, centre_id, existing["id"])
            _update_columns(db, "procedures", existing["id"], values)
            _record(changes, "procedures", code, before, _procedure_view(db, centre_id, existing["id"]))
    for code, existing, values in plan["groups"]:
        if existing is None:
            group_id = store.insert(db, "priority_groups", {"centre_id": centre_id, "code": code, **values})
            _record(changes, "priority_groups", code, None,
                    group_view(store.one(db, "SELECT * FROM priority_groups WHERE id = ?", (group_id,))))
        else:
            _update_columns(db, "priority_groups", existing["id"], values)
            _record(changes, "priority_groups", code, group_view(existing),
                    group_view(store.one(db, "SELECT * FROM priority_groups WHERE id = ?", (existing["id"],))))
    for number, existing, values in plan["counters"]:
        codes = values.pop("services", None)
        if existing is None:
            counter_id = store.insert(db, "counters", {"centre_id": centre_id, "number": number, **values})
            before = None
        else:
            counter_id = existing["id"]
            before = _without(counter_view(db, existing), "state")
            _update_columns(db, "counters", counter_id, values)
        if codes is not None:
            _write_counter_services(db, counter_id, [store.scalar(
                db, "SELECT id FROM services WHERE centre_id = ? AND code = ?", (centre_id, code)) for code in codes])
        after = _without(counter_view(db, store.one(db, "SELECT * FROM counters WHERE id = ?", (counter_id,))),
                         "state")
        _record(changes, "counters", number, before, after)
    for order, values in enumerate(plan.get("life_events", [])):
        before, after = vocabulary.save_life_event(db, centre_id, values, order)
        if before != after:
            _record(changes, "life_events", values["code"], before, after)
    return changes
