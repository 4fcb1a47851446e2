"""The citizen's booking pages (issue 15): `/book` (phone-first) and `/book/<code>` to see, move or cancel
a booking, with its QR (shown at the kiosk) and an .ics file. The pages speak to the appointments API."""
from __future__ import annotations

import io
from datetime import datetime, timedelta, timezone

import segno
from flask import Response, abort, make_response, render_template, request, url_for

from i18n import current_language
from kiosk.routes import bp
from queueing import appointments
from queueing.model import QueueError
from web import citizen_url, get_queue

BOOK_DAYS_SHOWN = 14

# The booking pages' own texts (Vietnamese, English), kept here so the shared i18n table stays small.
BOOK_TEXT = {
    "book_title": ("Đặt lịch hẹn", "Book an appointment"),
    "book_intro": ("Chọn lĩnh vực, ngày và giờ; đến trước giờ hẹn và xác nhận tại máy lấy số.",
                   "Choose a service, a day and a time; come before it and check in at the kiosk."),
    "service": ("Lĩnh vực", "Service"),
    "procedure": ("Thủ tục (không bắt buộc)", "Procedure (optional)"),
    "any_procedure": ("— Chưa rõ —", "— Not sure —"),
    "day": ("Ngày", "Day"),
    "slot": ("Giờ hẹn", "Time"),
    "no_slots": ("Không còn giờ trống trong ngày này.", "No free time left that day."),
    "places_left": ("còn {n} chỗ", "{n} left"),
    "full": ("hết chỗ", "full"),
    "name": ("Họ và tên", "Full name"),
    "phone": ("Số điện thoại", "Phone number"),
    "consent": ("Tôi đồng ý để trung tâm lưu họ tên và số điện thoại để phục vụ lịch hẹn này; dữ liệu được xoá "
                "sau {days} ngày (Nghị định 13/2023/NĐ-CP).",
                "I agree that the centre keeps my name and phone for this appointment; they are erased after "
                "{days} days (Decree 13/2023)."),
    "book": ("Đặt lịch", "Book"),
    "choose_slot": ("Hãy chọn giờ hẹn.", "Choose a time."),
    "need_consent": ("Cần đồng ý lưu thông tin để đặt lịch.", "Your consent is needed to book."),
    "booked_title": ("Lịch hẹn của Ông/Bà", "Your appointment"),
    "code": ("Mã lịch hẹn", "Booking code"),
    "when": ("Thời gian", "When"),
    "status": ("Trạng thái", "Status"),
    "status_booked": ("Đã đặt", "Booked"),
    "status_checked_in": ("Đã xác nhận tại trung tâm", "Checked in"),
    "status_cancelled": ("Đã huỷ", "Cancelled"),
    "status_missed": ("Quá hạn (không đến)", "Missed"),
    "show_qr": ("Đưa mã QR này vào máy quét của máy lấy số, hoặc nhập mã lịch hẹn, từ 30 phút trước giờ hẹn.",
                "Show this QR to the kiosk's scanner, or type the code, from 30 minutes before your time."),
    "add_calendar": ("Thêm vào lịch (.ics)", "Add to calendar (.ics)"),
    "cancel": ("Huỷ lịch hẹn", "Cancel the appointment"),
    "cancel_confirm": ("Huỷ lịch hẹn này?", "Cancel this appointment?"),
    "move": ("Đổi giờ hẹn", "Change the time"),
    "move_ok": ("Đã đổi giờ hẹn.", "The time was changed."),
    "keep_link": ("Lưu lại trang này (hoặc mã) để đổi hoặc huỷ lịch.", "Keep this page (or the code) to change or "
                                                                     "cancel."),
    "find_title": ("Tra cứu lịch hẹn", "Find a booking"),
    "find": ("Tra cứu", "Find"),
    "new_booking": ("Đặt lịch khác", "Book another"),
    "switch_language": ("English", "Tiếng Việt"),
    "join_title": ("Lấy số qua điện thoại", "Take a number from your phone"),
    "join_intro": ("Lấy số thứ tự mà không cần đến máy lấy số; theo dõi lượt của Ông/Bà trên trang tiếp theo.",
                   "Take a number without the kiosk; follow your turn on the next page."),
    "join_submit": ("Lấy số", "Take a number"),
    "join_none": ("Hiện không có lĩnh vực nào nhận lấy số qua điện thoại.", "No service takes phone tickets now."),
    "join_consent": ("Tôi đồng ý để trung tâm lưu số điện thoại để báo khi sắp đến lượt; dữ liệu được xoá sau "
                     "{days} ngày (Nghị định 13/2023/NĐ-CP).",
                     "I agree that the centre keeps my phone to tell me when my turn is near; it is erased "
                     "after {days} days (Decree 13/2023)."),
}


def book_texts(lang: str) -> dict:
    return {key: pair[1] if lang == "en" else pair[0] for key, pair in BOOK_TEXT.items()}


def _days(queue) -> list[dict]:
    today = datetime.fromtimestamp(queue.clock(), timezone.utc).astimezone(queue.tz).date()
    names = ("T2", "T3", "T4", "T5", "T6", "T7", "CN")
    return [{"date": (today + timedelta(days=n)).isoformat(),
             "label": f"{names[(today + timedelta(days=n)).weekday()]} {(today + timedelta(days=n)).strftime('%d/%m')}"}
            for n in range(BOOK_DAYS_SHOWN)]


@bp.get("/book")
def book_page():
    lang = current_language()
    queue = get_queue()
    services = [{"code": s["code"], "name": s["name"] if lang == "vi" else (s["name_en"] or s["name"]),
                 "procedures": [{"code": p["code"], "name": p["name"] if lang == "vi" else (p["name_en"] or p["name"])}
                                for p in s["procedures"]]} for s in queue.services_overview()]
    texts = book_texts(lang)
    texts["consent"] = texts["consent"].format(days=queue.settings["citizen_retention_days"])
    return render_template("kiosk/book.html", lang=lang, texts=texts, services=services, days=_days(queue),
                           page_data={"lang": lang, "texts": texts, "mode": "book"})


@bp.get("/join")
def join_page():
    """The entrance's poster QR: an ordinary ticket of an open service, from the phone."""
    from queueing.phone_tickets import join_enabled
    lang = current_language()
    queue = get_queue()
    services = [{"code": s["code"], "name": s["name"] if lang == "vi" else (s["name_en"] or s["name"])}
                for s in queue.services_overview()
                if s["open"] and not s.get("closed_reason") and not s["sold_out"] and join_enabled(queue, s["code"])]
    texts = book_texts(lang)
    texts["join_consent"] = texts["join_consent"].format(days=queue.settings["citizen_retention_days"])
    return render_template("kiosk/join.html", lang=lang, texts=texts, services=services,
                           page_data={"lang": lang, "texts": texts, "mode": "join"})


@bp.get("/book/find")
def book_find():
    code = request.args.get("code", "")
    try:
        code = appointments.normalise_code(code)
    except QueueError:
        abort(404)
    return Response(status=303, headers={"Location": url_for("kiosk.booking_page", code=code,
                                                             lang=current_language())})


def _booking_or_404(code) -> dict:
    try:
        return appointments.find(get_queue(), code)
    except QueueError:
        abort(404)


@bp.get("/book/<code>")
def booking_page(code):
    lang = current_language()
    queue = get_queue()
    row = _booking_or_404(code)
    booking = appointments.view(queue, row)
    start = datetime.fromisoformat(booking["start"])
    texts = book_texts(lang)
    response = make_response(render_template(
        "kiosk/booking.html", lang=lang, texts=texts, booking=booking, days=_days(queue),
        when=start.strftime("%H:%M %d/%m/%Y"),
        service_name=booking["service_name"] if lang == "vi" else (booking["service_name_en"] or booking["service_name"]),
        page_data={"lang": lang, "texts": texts, "mode": "manage", "code": booking["code"],
                   "service": booking["service"], "status": booking["status"]}))
    response.headers["Cache-Control"] = "private, no-store"  # the code is the booking's only proof
    return response


@bp.get("/book/<code>/qr.svg")
def booking_qr(code):
    """The QR the kiosk's scanner reads: the booking page's address, which ends with the code."""
    row = _booking_or_404(code)
    qr = segno.make(citizen_url(url_for("kiosk.booking_page", code=row["code"])), error="m")
    buffer = io.BytesIO()
    qr.save(buffer, kind="svg", scale=6, border=2, dark="#111")
    return Response(buffer.getvalue(), mimetype="image/svg+xml", headers={"Cache-Control": "private, no-store"})


def _ics_text(value: str) -> str:
    return value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")


@bp.get("/book/<code>.ics")
def booking_ics(code):
    """The booking as an iCalendar event (RFC 5545), times in UTC."""
    queue = get_queue()
    row = _booking_or_404(code)
    stamp = "%Y%m%dT%H%M%SZ"
    utc = lambda epoch: datetime.fromtimestamp(epoch, timezone.utc).strftime(stamp)  # noqa: E731
    centre = queue.centre["name"]
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Luot//Appointments//VI", "CALSCALE:GREGORIAN",
             "BEGIN:VEVENT", f"UID:{row['code']}@luot", f"DTSTAMP:{utc(row['booked_at'])}",
             f"DTSTART:{utc(row['slot_start'])}", f"DTEND:{utc(row['slot_end'])}",
             f"SUMMARY:{_ics_text(row['service_name'] + ' — ' + centre)}",
             f"DESCRIPTION:{_ics_text('Mã lịch hẹn / booking code: ' + row['code'])}",
             f"LOCATION:{_ics_text(centre)}",
             f"STATUS:{'CANCELLED' if row['status'] == 'cancelled' else 'CONFIRMED'}",
             "END:VEVENT", "END:VCALENDAR"]
    return Response("\r\n".join(lines) + "\r\n", mimetype="text/calendar",
                    headers={"Content-Disposition": f'attachment; filename="lich-hen-{row["code"]}.ics"',
                             "Cache-Control": "private, no-store"})
