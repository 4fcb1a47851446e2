"""Services, procedures, priority groups and counters: created and changed, each change audited.

Nothing is deleted: a row is deactivated, so the history the statistics read stays whole.
"""
from __future__ import annotations

import re

from ..events import configuration_changed, counter_changed, queue_changed_marker
from .. import store, vocabulary
from ..centre import time_zone
from ..model import Conflict, Event, Outcome
from ..text import nfc
from .changes import _audit_change, _now, _update_columns, _without, audit
from .validation import (_ABSENT, ValidationError, _bool, _clean, _code, _Fields, _int, _optional_text, _prefix,
                         _text, _unique, parse_opening_hours)
from .views import _procedure_view, _row, counter_view, group_view, service_view


def _queue_events(section: str) -> list[Event]:
    """What a change that moves the queue tells the screens: reload the configuration, new waiting counts."""
    return [configuration_changed(section), queue_changed_marker()]


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


def create_service(db, centre_id: str, user_id, data: dict, now: float | None = None) -> Outcome:
    """Add a service (field) with its own ticket prefix."""
    with store.transaction(db):
        values = _clean_service(data, None, _service_unique(db, centre_id))
        service_id = store.insert(db, "services", {"centre_id": centre_id, **_service_columns(values)})
        after = service_view(_row(db, "services", centre_id, service_id, "lĩnh vực"))
        audit(db, centre_id, _now(now), user_id, "service.create",
              {"type": "service", "id": service_id, "code": after["code"]}, None, after)
        events = _queue_events("services")
    return Outcome(after, events)


def update_service(db, centre_id: str, user_id, service_id: int, data: dict, now: float | None = None) -> Outcome:
    """Change a service's names, prefix, target wait, cap, hours or order (its code stays)."""
    with store.transaction(db):
        row = _row(db, "services", centre_id, service_id, "lĩnh vực")
        values = _clean_service(data, row, _service_unique(db, centre_id, service_id))
        before = service_view(row)
        _update_columns(db, "services", service_id, _service_columns(values))
        after = service_view(_row(db, "services", centre_id, service_id, "lĩnh vực"))
        changed = _audit_change(db, centre_id, user_id, now, "service", {"id": service_id, "code": after["code"]},
                                before, after)
        events = _queue_events("services") if changed else []
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


def create_procedure(db, centre_id: str, user_id, data: dict, now: float | None = None) -> Outcome:
    """Add a procedure to a service."""
    with store.transaction(db):
        values = _clean_procedure(db, centre_id, data, None)
        procedure_id = store.insert(db, "procedures", {"centre_id": centre_id, **values})
        after = _procedure_view(db, centre_id, procedure_id)
        audit(db, centre_id, _now(now), user_id, "procedure.create",
              {"type": "procedure", "id": procedure_id, "code": after["code"]}, None, after)
        events = _queue_events("procedures")
    return Outcome(after, events)


def update_procedure(db, centre_id: str, user_id, procedure_id: int, data: dict, now: float | None = None) -> Outcome:
    """Change a procedure's names, service, time limit or fee (its code stays)."""
    with store.transaction(db):
        row = _row(db, "procedures", centre_id, procedure_id, "thủ tục")
        values = _clean_procedure(db, centre_id, data, row)
        before = _procedure_view(db, centre_id, procedure_id)
        _update_columns(db, "procedures", procedure_id, values)
        after = _procedure_view(db, centre_id, procedure_id)
        changed = _audit_change(db, centre_id, user_id, now, "procedure", {"id": procedure_id, "code": after["code"]},
                                before, after)
        events = _queue_events("procedures") if changed else []
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
    with store.transaction(db):
        values = _clean_group(data, None, _unique(db, centre_id, "priority_groups", "code", "Mã nhóm ưu tiên",
                                                  "priority group code"))
        group_id = store.insert(db, "priority_groups", {"centre_id": centre_id, **values})
        after = group_view(_row(db, "priority_groups", centre_id, group_id, "nhóm ưu tiên"))
        audit(db, centre_id, _now(now), user_id, "priority_group.create",
              {"type": "priority_group", "id": group_id, "code": after["code"]}, None, after)
    return Outcome(after, [configuration_changed("priority_groups")])


def update_priority_group(db, centre_id: str, user_id, group_id: int, data: dict, now: float | None = None) -> Outcome:
    with store.transaction(db):
        row = _row(db, "priority_groups", centre_id, group_id, "nhóm ưu tiên")
        values = _clean_group(data, row)
        before = group_view(row)
        _update_columns(db, "priority_groups", group_id, values)
        after = group_view(_row(db, "priority_groups", centre_id, group_id, "nhóm ưu tiên"))
        changed = _audit_change(db, centre_id, user_id, now, "priority_group", {"id": group_id, "code": after["code"]},
                                before, after)
        events = [configuration_changed("priority_groups")] if changed else []
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
    row = store.one(db, "SELECT * FROM counters WHERE id = ?", (counter_id,))
    return [configuration_changed("counters"),
            counter_changed(db, time_zone(db, centre_id), row, extra={"active": bool(row["active"])}),
            queue_changed_marker()]


def _write_counter_services(db, counter_id: int, service_ids: list[int]) -> None:
    store.execute(db, "DELETE FROM counter_services WHERE counter_id = ?", (counter_id,))
    for service_id in service_ids:
        store.insert(db, "counter_services", {"counter_id": counter_id, "service_id": service_id})


def create_counter(db, centre_id: str, user_id, data: dict, now: float | None = None) -> Outcome:
    """Add a counter with the services it serves and where it stands."""
    with store.transaction(db):
        values = _clean_counter(db, centre_id, data, None)
        service_ids = values.pop("services")
        counter_id = store.insert(db, "counters", {"centre_id": centre_id, **values})
        _write_counter_services(db, counter_id, service_ids)
        after = counter_view(db, _row(db, "counters", centre_id, counter_id, "quầy"))
        audit(db, centre_id, _now(now), user_id, "counter.create",
              {"type": "counter", "id": counter_id, "number": after["number"]}, None, _without(after, "state"))
        events = _counter_events(db, centre_id, counter_id)
    return Outcome(after, events)


def update_counter(db, centre_id: str, user_id, counter_id: int, data: dict, now: float | None = None) -> Outcome:
    """Change a counter's name, floor/area or services; a counter with a clerk at it cannot be deactivated."""
    with store.transaction(db):
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
