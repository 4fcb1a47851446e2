"""Appointments (issue 15): a citizen books a slot of a service, comes, checks in at the kiosk, and is
called before the ordinary tickets of the service once the slot has begun (see `policy.choose_next`).

Slots: each service's day is cut into `appointment_slot_minutes` slots (default 15) inside its
appointment hours, `appointment_places` bookings each (default 2; 0 takes no bookings). The
`appointment_services` setting overrides them per service: `{"HT": {"places": 3, "slot_minutes": 20,
"hours": {"mon": [["07:30", "11:00"]], …}}}`. A service's hours default to its opening hours, and a
service without opening hours (the demo centre's) takes bookings at every hour of every day. The
holiday calendar closes whole days.

One booking per phone (and per ID-number hash when the ID-card QR was given) per service per day,
counting `booked` and `checked_in` ones. Check-in is open from `appointment_early_minutes` before the
slot to `appointment_grace_minutes` after its start; a booking not checked in by then becomes
`missed` (the day closer's round marks it), which frees nothing that is still bookable but tells the
statistics. A booking's name, phone and ID hash are citizen data: the retention purge erases them.
"""
from __future__ import annotations

import json
import re
import secrets
from datetime import date, datetime, timedelta, timezone

from . import audit, store
from .holidays import holiday_on, local_moment
from .model import Conflict, NotFound, Outcome, QueueError
from .text import nfc

DEFAULT_SLOT_MINUTES = 15
DEFAULT_PLACES = 2
ALL_DAY = [["00:00", "24:00"]]
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
HOLDING = ("booked", "checked_in")  # the statuses that hold a place
STATUSES = ("booked", "checked_in", "cancelled", "missed")
# No 0/O, 1/I/L: a code is read aloud on the phone and typed at the kiosk.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 8
CODE_PATTERN = re.compile(f"[{CODE_ALPHABET}]{{{CODE_LENGTH}}}")
BOOK_AHEAD_DAYS = 30

ACTION_BOOKED = "appointment.booked"
ACTION_MOVED = "appointment.moved"
ACTION_CANCELLED = "appointment.cancelled"


def normalise_phone(raw) -> str:
    """A Vietnamese phone number as ten digits starting with 0 (+84 / 84 accepted); 400 otherwise."""
    if not isinstance(raw, str):
        raise QueueError("Số điện thoại không hợp lệ (bad phone number)", code="bad_phone")
    digits = re.sub(r"[\s.\-()]", "", raw)
    if digits.startswith("+84"):
        digits = "0" + digits[3:]
    elif digits.startswith("84") and len(digits) == 11:
        digits = "0" + digits[2:]
    if not re.fullmatch(r"0[1-9]\d{8}", digits):
        raise QueueError("Số điện thoại phải gồm 10 chữ số, bắt đầu bằng 0 (bad phone number)", code="bad_phone")
    return digits


def normalise_code(raw) -> str:
    code = re.sub(r"[\s-]", "", raw).upper() if isinstance(raw, str) else ""
    if not CODE_PATTERN.fullmatch(code):
        raise NotFound("Không tìm thấy lịch hẹn với mã này (unknown appointment code)", code="unknown_appointment")
    return code


def _clean_name(raw) -> str:
    name = " ".join(nfc(raw).split()) if isinstance(raw, str) else ""
    if not name or len(name) > 100:
        raise QueueError("Hãy nhập họ tên (tối đa 100 ký tự) (name is required, at most 100 characters)",
                         code="bad_name")
    return name


# ---- slots ------------------------------------------------------------------------------------

def slot_rules(queue, service: dict) -> tuple[int, int, dict]:
    """(slot minutes, places per slot, hours by weekday) of a service, from the centre's settings."""
    own = (queue.settings.get("appointment_services") or {}).get(service["code"]) or {}
    minutes = int(own.get("slot_minutes") or queue.settings.get("appointment_slot_minutes") or DEFAULT_SLOT_MINUTES)
    places = int(own.get("places", queue.settings.get("appointment_places", DEFAULT_PLACES)))
    hours = own.get("hours")
    if hours is None:
        hours = json.loads(service["opening_hours"]) if service["opening_hours"] else {day: ALL_DAY for day in WEEKDAYS}
    return minutes, places, hours


def clean_service_rules(value) -> dict:
    """The `appointment_services` setting checked: {CODE: {places?, slot_minutes?, hours?: {mon: [[HH:MM, HH:MM]]}}}.
    Raises ValueError with a readable message."""
    if not isinstance(value, dict):
        raise ValueError("phải là một bảng mã lĩnh vực → quy định (must be an object)")
    clean = {}
    for code, rules in value.items():
        if not isinstance(code, str) or not isinstance(rules, dict) or set(rules) - {"places", "slot_minutes", "hours"}:
            raise ValueError(f"quy định của «{code}» chỉ gồm places, slot_minutes, hours (bad rules for {code})")
        entry = {}
        for key, low, high in (("places", 0, 100), ("slot_minutes", 5, 240)):
            if key in rules:
                if not isinstance(rules[key], int) or isinstance(rules[key], bool) or not low <= rules[key] <= high:
                    raise ValueError(f"{code}.{key} phải từ {low} đến {high} ({key} must be {low}..{high})")
                entry[key] = rules[key]
        if "hours" in rules:
            hours = rules["hours"]
            if not isinstance(hours, dict) or set(hours) - set(WEEKDAYS):
                raise ValueError(f"{code}.hours: ngày là mon…sun (days are mon..sun)")
            for spans in hours.values():
                if not isinstance(spans, list) or not all(
                        isinstance(span, list) and len(span) == 2 and all(
                            isinstance(t, str) and re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d|24:00", t) for t in span)
                        and span[0] < span[1] for span in spans):
                    raise ValueError(f"{code}.hours: mỗi khoảng là [\"HH:MM\", \"HH:MM\"] (spans are [start, end])")
            entry["hours"] = hours
        clean[code] = entry
    return clean


def _parse_day(raw) -> date:
    try:
        return date.fromisoformat(raw) if isinstance(raw, str) and len(raw) == 10 else _bad_day()
    except ValueError:
        return _bad_day()


def _bad_day():
    raise QueueError("Ngày phải có dạng YYYY-MM-DD (date must be YYYY-MM-DD)", code="bad_date")


def day_slots(queue, service: dict, day: date) -> list[tuple[float, float]]:
    """Every slot (start, end) of a service on a local day; none on a holiday."""
    if holiday_on(queue.db, queue.centre_id, day.isoformat()):
        return []
    minutes, places, hours = slot_rules(queue, service)
    if places <= 0:
        return []
    slots = []
    for begin, end in hours.get(WEEKDAYS[day.weekday()], []):
        start, stop = local_moment(day, begin, queue.tz), local_moment(day, end, queue.tz)
        while start + minutes * 60 <= stop + 0.5:
            slots.append((start, start + minutes * 60))
            start += minutes * 60
    return sorted(slots)


def free_slots(queue, service_code, day_text) -> list[dict]:
    """`GET /appointments/slots`: the slots of a day still to begin, with their free places, in time order."""
    service = queue.service_by_code(service_code)
    day = _parse_day(day_text)
    now = queue.clock()
    _, places, _ = slot_rules(queue, service)
    taken = store.appointments_per_slot(queue.db, queue.centre_id, service["id"], day.isoformat(), HOLDING)
    return [{"start": queue.iso(start), "end": queue.iso(end), "free": max(0, places - taken.get(start, 0))}
            for start, end in day_slots(queue, service, day) if start > now]


def _slot_at(queue, service: dict, raw_start) -> tuple[float, float]:
    """The slot of a service that begins at an ISO 8601 moment; 400 when there is none or it has begun."""
    try:
        moment = datetime.fromisoformat(raw_start) if isinstance(raw_start, str) else None
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise QueueError("Giờ hẹn phải là thời điểm ISO 8601 có múi giờ (start must be ISO 8601 with offset)",
                         code="bad_start")
    epoch = moment.timestamp()
    if epoch <= queue.clock():
        raise QueueError("Khung giờ này đã qua; hãy chọn khung giờ khác (this slot is in the past)",
                         code="slot_past")
    local = moment.astimezone(queue.tz).date()
    if local > (datetime.fromtimestamp(queue.clock(), timezone.utc).astimezone(queue.tz).date()
                + timedelta(days=BOOK_AHEAD_DAYS)):
        raise QueueError(f"Chỉ đặt lịch trước tối đa {BOOK_AHEAD_DAYS} ngày (too far ahead)", code="too_far_ahead")
    for start, end in day_slots(queue, service, local):
        if abs(start - epoch) < 1:
            return start, end
    raise QueueError("Không có khung giờ hẹn này (no such slot; the day may be a holiday)", code="no_such_slot")


def _refuse_if_unavailable(queue, service: dict, start: float, phone: str, id_hash: str | None,
                           day: str, except_id: int | None = None) -> None:
    _, places, _ = slot_rules(queue, service)
    if store.appointments_in_slot(queue.db, queue.centre_id, service["id"], start, HOLDING, except_id) >= places:
        raise Conflict("Khung giờ này đã hết chỗ; hãy chọn khung giờ khác (this slot is full)", code="slot_full")
    if store.appointment_same_person(queue.db, queue.centre_id, service["id"], day, HOLDING, phone, id_hash,
                                     except_id):
        raise Conflict("Số điện thoại (hoặc CCCD) này đã có lịch hẹn cho lĩnh vực này trong ngày "
                       "(already booked for this service that day)", code="already_booked")


# ---- booking, reading, cancelling, moving -----------------------------------------------------

def book(queue, data: dict, id_hash: str | None = None, citizen_name: str | None = None) -> Outcome:
    """`POST /appointments`: a place in a slot, durable before the answer; 409 full or already booked."""
    service = queue.service_by_code(data.get("service"))
    phone = normalise_phone(data.get("phone"))
    name = _clean_name(data.get("name") or citizen_name)
    lang = data.get("lang") if data.get("lang") in ("vi", "en") else "vi"
    procedure_id = None
    if data.get("procedure") not in (None, ""):
        procedure_id = store.procedure_of_service(queue.db, queue.centre_id, service["id"], data.get("procedure")) \
            if isinstance(data.get("procedure"), str) else None
        if procedure_id is None:
            raise QueueError("Thủ tục không thuộc lĩnh vực đã chọn (procedure does not belong to the service)",
                             code="bad_procedure")
    with store.transaction(queue.db):
        start, end = _slot_at(queue, service, data.get("start"))
        day = datetime.fromtimestamp(start, timezone.utc).astimezone(queue.tz).date().isoformat()
        _refuse_if_unavailable(queue, service, start, phone, id_hash, day)
        now = queue.clock()
        code = _new_code(queue)
        store.insert(queue.db, "appointments", {
            "centre_id": queue.centre_id, "code": code, "service_id": service["id"], "procedure_id": procedure_id,
            "local_day": day, "slot_start": start, "slot_end": end, "status": "booked", "name": name,
            "phone": phone, "id_hash": id_hash, "lang": lang, "booked_at": now})
        audit.record(queue.db, queue.centre_id, now, ACTION_BOOKED,
                     detail={"code": code, "service": service["code"], "start": queue.iso(start)})
        result = view(queue, store.appointment_by_code(queue.db, queue.centre_id, code))
    return Outcome(result, [])


def _new_code(queue) -> str:
    while True:
        code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
        if store.appointment_by_code(queue.db, queue.centre_id, code) is None:
            return code


def find(queue, raw_code) -> dict:
    row = store.appointment_by_code(queue.db, queue.centre_id, normalise_code(raw_code))
    if row is None:
        raise NotFound("Không tìm thấy lịch hẹn với mã này (unknown appointment code)", code="unknown_appointment")
    return row


def view(queue, row: dict) -> dict:
    """A booking as its code's holder sees it: the phone shown only by its last three digits."""
    return {"code": row["code"], "service": row["service_code"], "service_name": row["service_name"],
            "service_name_en": row["service_name_en"], "procedure": row["procedure_code"],
            "procedure_name": row["procedure_name"], "start": queue.iso(row["slot_start"]),
            "end": queue.iso(row["slot_end"]), "status": row["status"], "name": row["name"],
            "phone": ("*******" + row["phone"][-3:]) if row["phone"] else None,
            "checked_in_at": queue.iso(row["checked_in_at"]), "ticket_number": row["ticket_number"],
            "manage_url": f"/book/{row['code']}"}


def cancel(queue, raw_code) -> Outcome:
    """`DELETE /appointments/<code>`: the place is free again; only a booking not yet checked in."""
    with store.transaction(queue.db):
        row = find(queue, raw_code)
        if row["status"] != "booked":
            raise Conflict(f"Lịch hẹn đang ở trạng thái «{row['status']}», không huỷ được "
                           f"(cannot cancel a {row['status']} appointment)", code="not_booked")
        now = queue.clock()
        store.set_appointment_status(queue.db, row["id"], "cancelled", now)
        audit.record(queue.db, queue.centre_id, now, ACTION_CANCELLED, detail={"code": row["code"]})
        result = view(queue, find(queue, row["code"]))
    return Outcome(result, [])


def move(queue, raw_code, new_start) -> Outcome:
    """`PATCH /appointments/<code>` {start}: another slot of the same service, same rules as booking."""
    with store.transaction(queue.db):
        row = find(queue, raw_code)
        if row["status"] != "booked":
            raise Conflict(f"Lịch hẹn đang ở trạng thái «{row['status']}», không đổi được "
                           f"(cannot move a {row['status']} appointment)", code="not_booked")
        service = queue.service_by_code(row["service_code"])
        start, end = _slot_at(queue, service, new_start)
        day = datetime.fromtimestamp(start, timezone.utc).astimezone(queue.tz).date().isoformat()
        _refuse_if_unavailable(queue, service, start, row["phone"], row["id_hash"], day, except_id=row["id"])
        now = queue.clock()
        store.move_appointment(queue.db, row["id"], start, end, day, now)
        audit.record(queue.db, queue.centre_id, now, ACTION_MOVED,
                     detail={"code": row["code"], "from": queue.iso(row["slot_start"]), "to": queue.iso(start)})
        result = view(queue, find(queue, row["code"]))
    return Outcome(result, [])


# ---- arrival ----------------------------------------------------------------------------------

def check_in_window(queue) -> tuple[float, float]:
    """(seconds before a slot check-in opens, seconds after its start it closes)."""
    return (int(queue.settings["appointment_early_minutes"]) * 60,
            int(queue.settings["appointment_grace_minutes"]) * 60)


def check_in(queue, raw_code=None, id_hash: str | None = None, device_id=None, citizen=None,
             lang: str = "vi") -> Outcome:
    """`POST /appointments/<code>/check-in`: the ticket (as `POST /tickets` answers) plus `appointment`.

    By code, or by the ID card's hash (today's booked appointment of that person that is open for
    check-in). 409 `too_early` (saying when to come) or `too_late` (take an ordinary ticket)."""
    early, grace = check_in_window(queue)
    with store.transaction(queue.db):
        now = queue.clock()
        if raw_code not in (None, ""):
            row = find(queue, raw_code)
        elif id_hash:
            row = store.appointment_for_id_hash(queue.db, queue.centre_id, id_hash,
                                                datetime.fromtimestamp(now, timezone.utc).astimezone(queue.tz)
                                                .date().isoformat(), now + early)
            if row is None:
                raise NotFound("Không tìm thấy lịch hẹn hôm nay cho thẻ này (no appointment today for this card)",
                               code="unknown_appointment")
        else:
            raise QueueError("Hãy nhập mã lịch hẹn (code is required)", code="code_required")
        if row["status"] == "checked_in":
            raise Conflict(f"Lịch hẹn đã được xác nhận, số của bạn là {row['ticket_number']} "
                           f"(already checked in: {row['ticket_number']})", code="already_checked_in")
        if row["status"] != "booked":
            raise Conflict(f"Lịch hẹn đã {'huỷ' if row['status'] == 'cancelled' else 'quá hạn'}; vui lòng lấy số "
                           f"thường ({row['status']}: take an ordinary ticket)", code="not_booked")
        start = row["slot_start"]
        local_start = datetime.fromtimestamp(start, timezone.utc).astimezone(queue.tz)
        if now < start - early:
            opens = datetime.fromtimestamp(start - early, timezone.utc).astimezone(queue.tz)
            when = opens.strftime("%H:%M") + ("" if opens.date() == datetime.fromtimestamp(now, timezone.utc)
                                              .astimezone(queue.tz).date() else opens.strftime(" %d/%m/%Y"))
            raise Conflict(f"Chưa đến giờ xác nhận lịch hẹn {local_start.strftime('%H:%M')}. Vui lòng quay lại "
                           f"từ {when} (too early: come back from {when})", code="too_early")
        if now > start + grace:
            raise Conflict(f"Đã quá giờ hẹn {local_start.strftime('%H:%M')}; vui lòng lấy số thường "
                           "(too late for this appointment: take an ordinary ticket)", code="too_late")
        outcome = queue.issue_in_transaction(row["service_code"], device_id=device_id, citizen=citizen, lang=lang,
                                             channel="appointment", appointment_start=start)
        ticket = outcome.result
        store.appointment_checked_in(queue.db, row["id"], now, ticket["id"])
        ticket["appointment"] = view(queue, find(queue, row["code"]))
    return Outcome(ticket, outcome.events)


def mark_missed(queue) -> int:
    """Bookings not checked in by the end of their grace become `missed`; returns how many."""
    _, grace = check_in_window(queue)
    with store.transaction(queue.db):
        return store.mark_missed_appointments(queue.db, queue.centre_id, queue.clock(), grace)


# ---- the manager's view -----------------------------------------------------------------------

def day_bookings(queue, day_text: str | None = None) -> dict:
    """Today's (or a day's) bookings per slot and service, for the monitor: no names, counts only."""
    day = day_text or datetime.fromtimestamp(queue.clock(), timezone.utc).astimezone(queue.tz).date().isoformat()
    rows = store.appointment_counts(queue.db, queue.centre_id, _parse_day(day).isoformat())
    slots: dict[float, dict] = {}
    for row in rows:
        slot = slots.setdefault(row["slot_start"], {"start": queue.iso(row["slot_start"]), "services": {}})
        counts = slot["services"].setdefault(row["service_code"], {s: 0 for s in STATUSES})
        counts[row["status"]] = row["count"]
    return {"date": day, "slots": [slots[key] for key in sorted(slots)]}
