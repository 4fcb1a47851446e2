"""Dossiers (hồ sơ): what a reception produces, its due date and fee, and the return of its result (issue 16).

A dossier is recorded when a clerk finishes the reception ticket with the code the province's
one-stop system printed on the receipt. Its due date is the procedure's time limit in working days
(weekends and the centre's holiday calendar skipped; see `due_date_for`), unless the clerk sets
another with a reason (audited). Its life: processing → ready (the back office, or the province
system) → returned (at a counter, usually on a result-return ticket, or sent by post). The fee is
paid in cash or by transfer (VietQR, `queueing/vietqr.py`), counted apart.

Every change appends to `ticket_events` on the reception ticket (dossier_received, dossier_paid,
dossier_ready, dossier_returned) in the same transaction as the `dossiers` row it changes: the log
is the record a province hub reads; the row is the current state to find and list.
"""
from __future__ import annotations

import re
import secrets
import unicodedata
from datetime import date, datetime, timedelta, timezone

from . import audit, store
from .holidays import holiday_days
from .model import Conflict, Event, NotFound, Outcome, QueueError
from .vietqr import VietQRError, build_payload

# The national form: agency code, receipt date (yymmdd) and the day's sequence, e.g. 000.00.30.H56-241204-0001.
DEFAULT_CODE_PATTERN = r"\d{3}\.\d{2}\.\d{2}\.[A-Z]\d{2}-\d{6}-\d{4}"
RETURN_SERVICE_CODE = "TKQ"
DOSSIER_DEFAULTS = {"dossier_code_pattern": DEFAULT_CODE_PATTERN, "dossier_return_service": RETURN_SERVICE_CODE,
                    "bank_bin": "", "bank_account": "", "bank_account_name": ""}
DOSSIER_SETTING_LABELS = {
    "dossier_code_pattern": "Mẫu mã hồ sơ (biểu thức chính quy)", "dossier_return_service": "Lĩnh vực trả kết quả",
    "bank_bin": "Mã BIN ngân hàng nhận phí", "bank_account": "Số tài khoản nhận phí",
    "bank_account_name": "Tên tài khoản nhận phí",
}
# Same-day procedures: a dossier received from this local time on is due the next working day (catalogue rule).
SAME_DAY_CUTOFF = "15:00"
PAYMENT_METHODS = ("cash", "transfer")
KEY_PATTERN = re.compile(r"[A-Za-z0-9_-]{16,64}")
PHONE_PATTERN = re.compile(r"(?:\+84|0)\d{9,10}")
REASON_MAX = 200
CODE_MAX = 64
# Tết and a long weekend fit well inside this many calendar days per working day asked for.
CALENDAR_SLACK_DAYS = 40


def dossier_room(key: str) -> str:
    """The Socket.IO room of one dossier's tracking page (joined with the receipt's key)."""
    return f"dossier:{key}"


# ---- settings ---------------------------------------------------------------------------------

def clean_dossier_setting(key: str, value, label: str):
    """One dossier setting's value, checked (ValueError with a bilingual message)."""
    text = unicodedata.normalize("NFC", value.strip()) if isinstance(value, str) else None
    if text is None:
        raise ValueError(f"{label} phải là chữ (must be text)")
    if key == "dossier_code_pattern":
        try:
            re.compile(text or DEFAULT_CODE_PATTERN)
        except re.error as error:
            raise ValueError(f"{label} không hợp lệ: {error} (bad regular expression)") from None
        return text or DEFAULT_CODE_PATTERN
    if key == "bank_bin" and text and not re.fullmatch(r"\d{6}", text):
        raise ValueError(f"{label} gồm 6 chữ số, ví dụ 970415 (BIN is 6 digits)")
    if key == "bank_account" and text and not re.fullmatch(r"[0-9A-Za-z]{1,19}", text):
        raise ValueError(f"{label}: tối đa 19 chữ số hoặc chữ cái (account: up to 19 letters or digits)")
    if len(text) > 120:
        raise ValueError(f"{label} quá dài (too long)")
    return text


# ---- working days -----------------------------------------------------------------------------

def is_working_day(day: date, holidays: set[str]) -> bool:
    return day.weekday() < 5 and day.isoformat() not in holidays


def next_working_day(day: date, holidays: set[str]) -> date:
    """`day` itself when it is a working day, else the first working day after it."""
    while not is_working_day(day, holidays):
        day += timedelta(days=1)
    return day


def add_working_days(start: date, days: int, holidays: set[str]) -> date:
    """The `days`-th working day after `start` (the day of receipt does not count)."""
    day, counted = start, 0
    while counted < days:
        day += timedelta(days=1)
        if is_working_day(day, holidays):
            counted += 1
    return day


def due_date_for(db, centre_id: str, procedure: dict, received_at: float, tz) -> date | None:
    """The default due date of a dossier received at `received_at`: None when the procedure's limit is unknown.

    Same-day procedures (limit 0) are due the day of receipt, or the next working day when received on a
    closed day or from SAME_DAY_CUTOFF on; others `legal_days` working days after the day of receipt.
    """
    days = procedure.get("legal_days")
    if days is None and not procedure.get("same_day"):
        return None
    days = int(days or 0)
    local = datetime.fromtimestamp(received_at, timezone.utc).astimezone(tz)
    received = local.date()
    holidays = holiday_days(db, centre_id, received.isoformat(),
                            (received + timedelta(days=2 * days + CALENDAR_SLACK_DAYS)).isoformat())
    if days == 0:
        if not is_working_day(received, holidays) or local.strftime("%H:%M") >= SAME_DAY_CUTOFF:
            return next_working_day(received + timedelta(days=1), holidays)
        return received
    return add_working_days(received, days, holidays)


# ---- input ------------------------------------------------------------------------------------

def clean_code(value, pattern: str) -> str:
    """A dossier code as typed or scanned, normalised (NFC, trimmed, upper case) and checked against `pattern`."""
    if not isinstance(value, str) or not value.strip():
        raise QueueError("Hãy nhập mã hồ sơ (dossier code is required)", code="dossier_code_required")
    code = unicodedata.normalize("NFC", value).strip().upper()
    if len(code) > CODE_MAX or not re.fullmatch(pattern or DEFAULT_CODE_PATTERN, code):
        raise QueueError(f"Mã hồ sơ «{code[:CODE_MAX]}» không đúng mẫu của trung tâm, ví dụ 000.00.30.H56-241204-0001 "
                         "(dossier code does not match the centre's pattern)", code="bad_dossier_code")
    return code


def clean_request(data) -> dict:
    """The `dossier` object of a finish request, its shape checked before any transaction."""
    if not isinstance(data, dict):
        raise QueueError("`dossier` phải là một đối tượng {code, due_date, fee} (dossier must be an object)",
                         code="bad_dossier")
    unknown = sorted(set(data) - {"code", "due_date", "fee", "due_reason", "phone", "procedure"})
    if unknown:
        raise QueueError(f"Trường không được hỗ trợ trong hồ sơ: {', '.join(unknown)} (unknown fields)",
                         code="unknown_fields")
    cleaned = {"code": data.get("code"), "procedure": data.get("procedure")}
    due = data.get("due_date")
    if due not in (None, ""):
        try:
            cleaned["due_date"] = date.fromisoformat(due) if isinstance(due, str) else None
        except ValueError:
            cleaned["due_date"] = None
        if cleaned["due_date"] is None:
            raise QueueError("Ngày hẹn trả phải có dạng YYYY-MM-DD (due_date must be YYYY-MM-DD)", code="bad_due_date")
    fee = data.get("fee")
    if fee is not None and (not isinstance(fee, int) or isinstance(fee, bool) or not 0 <= fee <= 10**10):
        raise QueueError("Lệ phí phải là số đồng nguyên, không âm (fee must be a whole number of đồng)",
                         code="bad_fee")
    cleaned["fee"] = fee
    reason = data.get("due_reason")
    if reason is not None and (not isinstance(reason, str) or len(reason) > REASON_MAX):
        raise QueueError("Lý do đổi ngày hẹn không hợp lệ (bad due_reason)", code="bad_reason")
    cleaned["due_reason"] = (reason or "").strip() or None
    phone = data.get("phone")
    if phone not in (None, ""):
        phone = re.sub(r"[\s.]", "", phone) if isinstance(phone, str) else ""
        if not PHONE_PATTERN.fullmatch(phone):
            raise QueueError("Số điện thoại không hợp lệ, ví dụ 0912345678 (bad phone number)", code="bad_phone")
    cleaned["phone"] = phone or None
    return cleaned


# ---- reception --------------------------------------------------------------------------------

def record_received(queue, ticket: dict, counter: dict, clerk_id: int, procedures: list[dict], request: dict,
                    now: float) -> dict:
    """Record the dossier of a reception inside the finishing transaction; returns its staff view.

    `procedures` are the rows the ticket handled; the dossier is for `request["procedure"]` among them, or
    the first one. Refused (nothing written: the caller's transaction rolls back) on a code that does not
    match the pattern, a code already recorded, or a due date that cannot be worked out or is not a working day.
    """
    db, centre_id = queue.db, queue.centre_id
    code = clean_code(request["code"], queue.settings.get("dossier_code_pattern"))
    chosen = request.get("procedure") or procedures[0]["code"]
    procedure = next((row for row in procedures if row["code"] == chosen), None)
    if procedure is None:
        raise QueueError(f"Hồ sơ phải thuộc một thủ tục vừa giải quyết, không phải «{chosen}» "
                         "(dossier procedure must be one of the ticket's)", code="bad_procedure")
    if store.dossier_by_code(db, centre_id, code) is not None:
        raise Conflict(f"Mã hồ sơ {code} đã được tiếp nhận trước đó (dossier code already recorded)",
                       code="dossier_exists")
    computed = due_date_for(db, centre_id, procedure, now, queue.tz)
    due = request.get("due_date") or computed
    if due is None:
        raise QueueError("Thủ tục chưa có thời hạn giải quyết: hãy nhập ngày hẹn trả (due_date is required)",
                         code="due_date_required")
    received_day = datetime.fromtimestamp(now, timezone.utc).astimezone(queue.tz).date()
    if due < received_day or not is_working_day(due, holiday_days(db, centre_id, due.isoformat(), due.isoformat())):
        raise QueueError(f"Ngày hẹn trả {due:%d/%m/%Y} phải là ngày làm việc, không trước hôm nay "
                         "(due date must be a working day, not in the past)", code="bad_due_date")
    overridden = computed is not None and due != computed
    if overridden and not request.get("due_reason"):
        raise QueueError("Đổi ngày hẹn trả cần ghi lý do (a reason is required to change the due date)",
                         code="reason_required")
    fee = request["fee"] if request.get("fee") is not None else procedure.get("fee_vnd")
    row = {"centre_id": centre_id, "code": code, "key": secrets.token_urlsafe(16), "ticket_id": ticket["id"],
           "procedure_id": procedure["id"], "service_id": procedure["service_id"], "counter_id": counter["id"],
           "clerk_id": clerk_id, "received_at": now, "due_date": due.isoformat(),
           "due_date_computed": computed.isoformat() if computed else None,
           "due_reason": request.get("due_reason") if overridden or computed is None else None,
           "fee": fee, "phone": request.get("phone"),
           "is_demo": store.scalar(db, "SELECT is_demo FROM tickets WHERE id = ?", (ticket["id"],)) or 0}
    store.insert(db, "dossiers", row)
    queue._log(ticket, "dossier_received", "done", counter["id"], clerk_id,
               {"code": code, "procedure": procedure["code"], "due_date": due.isoformat(), "fee": fee}, at=now)
    if overridden:
        audit.record(db, centre_id, now, "dossier.due_date", user_id=clerk_id, ticket_id=ticket["id"],
                     detail={"code": code, "before": computed.isoformat(), "after": due.isoformat(),
                             "reason": request["due_reason"]})
    return staff_view(store.dossier_by_code(db, centre_id, code), queue)


# ---- views ------------------------------------------------------------------------------------

def _local_date(epoch, tz) -> date | None:
    return datetime.fromtimestamp(epoch, timezone.utc).astimezone(tz).date() if epoch is not None else None


def resolved_at(row: dict) -> float | None:
    """When the dossier's result was resolved: marked ready, or returned when it never was."""
    return row["ready_at"] if row["ready_at"] is not None else row["returned_at"]


def on_time(row: dict, tz, today: date) -> bool | None:
    """Ready (or returned) on or before the due date; False once overdue; None while it still can be."""
    due = date.fromisoformat(row["due_date"])
    done = _local_date(resolved_at(row), tz)
    if done is not None:
        return done <= due
    return False if today > due else None


def public_view(row: dict, queue) -> dict:
    """A dossier as the citizen holding its receipt sees it (no phone, no clerk)."""
    today = _local_date(queue.clock(), queue.tz)
    return {"code": row["code"], "procedure": row["procedure_code"], "procedure_name": row["procedure_name"],
            "procedure_name_en": row["procedure_name_en"], "service": row["service_code"],
            "received_at": queue.iso(row["received_at"]), "due_date": row["due_date"], "status": row["status"],
            "ready_at": queue.iso(row["ready_at"]), "returned_at": queue.iso(row["returned_at"]),
            "by_post": bool(row["by_post"]), "on_time": on_time(row, queue.tz, today), "fee": row["fee"],
            "paid": row["paid_at"] is not None, "overdue": row["status"] == "processing" and
            today > date.fromisoformat(row["due_date"])}


def staff_view(row: dict, queue) -> dict:
    """A dossier as staff see it: the public view, its key and tracking link, payment and who received it."""
    phone = row["phone"]
    return {**public_view(row, queue), "key": row["key"], "track_url": f"/d/{row['key']}",
            "ticket_number": row["ticket_number"], "counter": row["counter_number"], "clerk": row["clerk_username"],
            "paid_method": row["paid_method"], "paid_at": queue.iso(row["paid_at"]),
            "due_date_computed": row["due_date_computed"], "due_reason": row["due_reason"],
            "phone": f"…{phone[-3:]}" if phone else None}


def dossier_updated(row: dict, queue) -> list[Event]:
    """The dossier's tracking page and the monitors hear its new state."""
    return [Event("dossier_updated", public_view(row, queue), (dossier_room(row["key"]),)),
            Event("dossiers_changed", {"code": row["code"], "status": row["status"]}, ("monitor",))]


# ---- commands after reception ------------------------------------------------------------------

class DossierDesk:
    """What staff, the province system and the payment webhook do to a dossier; each command one transaction."""

    def __init__(self, queue):
        self.queue = queue
        self.db, self.centre_id = queue.db, queue.centre_id

    def get(self, code) -> dict:
        row = store.dossier_by_code(self.db, self.centre_id, code.strip().upper()) if isinstance(code, str) else None
        if row is None:
            raise NotFound("Không tìm thấy hồ sơ (unknown dossier)", code="unknown_dossier")
        return row

    def by_key(self, key) -> dict | None:
        if not isinstance(key, str) or not KEY_PATTERN.fullmatch(key):
            return None
        return store.dossier_by_key(self.db, self.centre_id, key)

    def get_with_key(self, code, key) -> dict:
        """The dossier `code` if `key` is its receipt's key (404 otherwise, as for an unknown code)."""
        row = self.by_key(key)
        if row is None or not isinstance(code, str) or row["code"] != code.strip().upper():
            raise NotFound("Không tìm thấy hồ sơ (unknown dossier)", code="unknown_dossier")
        return row

    def from_scan(self, text) -> dict:
        """The dossier a kiosk scan or typed text names: the receipt's tracking link (/d/<key>) or a code."""
        if isinstance(text, str):
            found = re.search(r"/d/([A-Za-z0-9_-]{16,64})", text)
            if found:
                row = self.by_key(found.group(1))
                if row is not None:
                    return row
        code = clean_code(text, self.queue.settings.get("dossier_code_pattern"))
        return self.get(code)

    def _log(self, row: dict, kind: str, detail: dict, user_id=None, counter_id=None, at=None) -> None:
        ticket = store.ticket_row(self.db, row["ticket_id"])
        store.add_ticket_event(self.db, self.centre_id, row["ticket_id"], at or self.queue.clock(), kind,
                               ticket["status"], ticket["status"], ticket["service_id"], counter_id, user_id, detail)

    def mark_ready(self, code, user_id=None, device_id=None) -> Outcome:
        """The result is ready to collect; the citizen's tracking page hears it (SMS is the caller's, after commit)."""
        with store.transaction(self.db):
            row = self.get(code)
            if row["status"] != "processing":
                raise Conflict(f"Hồ sơ đã ở trạng thái «{row['status']}» (dossier is not processing)",
                               code="dossier_not_processing")
            now = self.queue.clock()
            store.update_dossier(self.db, row["id"], {"status": "ready", "ready_at": now}, ("processing",))
            self._log(row, "dossier_ready", {"code": row["code"]}, user_id=user_id, at=now)
            if device_id is not None:
                audit.record(self.db, self.centre_id, now, "dossier.ready", device_id=device_id,
                             ticket_id=row["ticket_id"], detail={"code": row["code"]})
            row = self.get(row["code"])
            return Outcome(staff_view(row, self.queue), dossier_updated(row, self.queue))

    def mark_returned(self, code, user_id=None, by_post: bool = False, counter_id=None, device_id=None) -> Outcome:
        """The result was handed over (at a counter, or sent by post): the dossier's story ends."""
        if not isinstance(by_post, bool):
            raise QueueError("by_post phải là true hoặc false (by_post must be a boolean)", code="bad_request")
        with store.transaction(self.db):
            row = self.get(code)
            if row["status"] == "returned":
                raise Conflict("Hồ sơ đã trả kết quả (dossier already returned)", code="dossier_returned")
            now = self.queue.clock()
            store.update_dossier(self.db, row["id"], {"status": "returned", "returned_at": now, "by_post": int(by_post)},
                                 ("processing", "ready"))
            detail = {"code": row["code"], **({"by_post": True} if by_post else {})}
            self._log(row, "dossier_returned", detail, user_id=user_id, counter_id=counter_id, at=now)
            if device_id is not None:
                audit.record(self.db, self.centre_id, now, "dossier.returned", device_id=device_id,
                             ticket_id=row["ticket_id"], detail=detail)
            row = self.get(row["code"])
            return Outcome(staff_view(row, self.queue), dossier_updated(row, self.queue))

    def mark_paid(self, code, method, user_id=None, reference=None, amount=None) -> Outcome:
        """The fee was paid in cash (the clerk) or by transfer (the clerk, or the bank's webhook)."""
        if method not in PAYMENT_METHODS:
            raise QueueError("Hình thức nộp phí phải là cash hoặc transfer (method must be cash or transfer)",
                             code="bad_method")
        with store.transaction(self.db):
            row = self.get(code)
            if not row["fee"]:
                raise Conflict("Hồ sơ này không có lệ phí (no fee to pay)", code="no_fee")
            if row["paid_at"] is not None:
                raise Conflict("Lệ phí đã được nộp (fee already paid)", code="already_paid")
            if amount is not None and amount < row["fee"]:
                raise Conflict(f"Số tiền {amount} nhỏ hơn lệ phí {row['fee']} (amount below the fee)",
                               code="amount_short")
            now = self.queue.clock()
            store.update_dossier(self.db, row["id"], {"paid_at": now, "paid_method": method})
            detail = {"code": row["code"], "method": method, **({"reference": str(reference)[:64]} if reference else {})}
            self._log(row, "dossier_paid", detail, user_id=user_id, at=now)
            row = self.get(row["code"])
            return Outcome(staff_view(row, self.queue), dossier_updated(row, self.queue))

    def payment_qr(self, code) -> dict:
        """The VietQR string for the dossier's fee to the centre's account, the code as its message."""
        row = self.get(code)
        settings = self.queue.settings
        if not row["fee"]:
            raise Conflict("Hồ sơ này không có lệ phí (no fee to pay)", code="no_fee")
        if not settings.get("bank_bin") or not settings.get("bank_account"):
            raise Conflict("Trung tâm chưa khai báo tài khoản nhận phí (bank_bin, bank_account) "
                           "(the centre has no bank account set)", code="no_bank_account")
        try:
            payload = build_payload(settings["bank_bin"], settings["bank_account"], int(row["fee"]), row["code"])
        except VietQRError as error:
            raise Conflict(f"Không tạo được mã VietQR: {error} (cannot build the VietQR)", code="bad_bank_account")
        return {"code": row["code"], "payload": payload, "amount": row["fee"], "message": row["code"],
                "bank_bin": settings["bank_bin"], "account": settings["bank_account"],
                "account_name": settings.get("bank_account_name") or "", "paid": row["paid_at"] is not None}

    def due_date_preview(self, procedure_code) -> dict:
        """What a dossier of this procedure received now would be due and cost (the counter's finish dialog)."""
        row = store.one(self.db, "SELECT * FROM procedures WHERE centre_id = ? AND code = ? AND active = 1",
                        (self.centre_id, procedure_code)) if isinstance(procedure_code, str) else None
        if row is None:
            raise NotFound("Không có thủ tục này (unknown procedure)", code="unknown_procedure")
        due = due_date_for(self.db, self.centre_id, row, self.queue.clock(), self.queue.tz)
        return {"procedure": row["code"], "due_date": due.isoformat() if due else None, "fee": row["fee_vnd"],
                "legal_days": row["legal_days"], "same_day": bool(row["same_day"])}

    def sms_for_ready(self, code) -> tuple[str, str] | None:
        """(phone, text) to tell the citizen the result is ready, when they gave a phone."""
        row = self.get(code)
        if not row["phone"]:
            return None
        return row["phone"], (f"{self.queue.centre['name']}: kết quả hồ sơ {row['code']} đã có. "
                              "Mời Ông/Bà đến nhận kết quả, mang theo giấy biên nhận.")

    def due_lists(self, limit: int = 100) -> dict:
        """The monitor's panel: results due today, overdue, and ready but not collected."""
        today = _local_date(self.queue.clock(), self.queue.tz).isoformat()
        lists = {
            "due_today": store.dossiers_where(self.db, self.centre_id, "d.status = 'processing' AND d.due_date = ?",
                                              (today,), limit=limit),
            "overdue": store.dossiers_where(self.db, self.centre_id, "d.status = 'processing' AND d.due_date < ?",
                                            (today,), limit=limit),
            "ready": store.dossiers_where(self.db, self.centre_id, "d.status = 'ready'", (), order="d.ready_at, d.id",
                                          limit=limit),
            "processing": store.dossiers_where(self.db, self.centre_id, "d.status = 'processing'", (), limit=limit),
        }
        return {"day": today, **{name: [staff_view(row, self.queue) for row in rows] for name, rows in lists.items()}}


# ---- the result-return service ------------------------------------------------------------------

def add_return_service_to_demo(db) -> None:
    """The demo centre's «Trả kết quả» service (prefix R, every counter), when it has none (migration 0012)."""
    centre_id = "demo"
    if store.scalar(db, "SELECT 1 FROM centres WHERE id = ?", (centre_id,)) is None:
        return
    if store.scalar(db, "SELECT 1 FROM services WHERE centre_id = ? AND (code = ? OR prefix = 'R')",
                    (centre_id, RETURN_SERVICE_CODE)) is not None:
        return
    order = (store.scalar(db, "SELECT MAX(sort_order) FROM services WHERE centre_id = ?", (centre_id,)) or 0) + 1
    fields = {key: value for key, value in RETURN_SERVICE.items() if key != "procedures"}
    service_id = store.insert(db, "services", fields | {"centre_id": centre_id, "sort_order": order})
    for procedure in RETURN_SERVICE["procedures"]:
        store.insert(db, "procedures", procedure | {"centre_id": centre_id, "service_id": service_id,
                                                    "same_day": int(procedure["same_day"])})
    for (counter_id,) in db.execute("SELECT id FROM counters WHERE centre_id = ?", (centre_id,)).fetchall():
        store.insert(db, "counter_services", {"counter_id": counter_id, "service_id": service_id})


# What the kiosk's «Nhận kết quả» issues tickets for; finishing such a ticket records the one procedure.
RETURN_SERVICE = {"code": RETURN_SERVICE_CODE, "name": "Trả kết quả", "name_en": "Result collection", "prefix": "R",
                  "default_service_s": 120,
                  "procedures": [{"code": "TKQ-01", "name": "Trả kết quả giải quyết thủ tục hành chính",
                                  "name_en": "Handing over a procedure's result", "legal_days": 0, "same_day": True,
                                  "fee_vnd": 0}]}
