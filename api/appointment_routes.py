"""Appointments over HTTP (issue 15): slots, booking, reading, moving and cancelling by code, and the
kiosk's check-in, which issues (and prints) the ticket as `POST /tickets` does."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

from flask import Blueprint, current_app, jsonify, request

from kiosk.issuing import read_card
from queueing import appointments, phone_tickets
from queueing.model import QueueError
from web import bearer_token, current_principal, get_db, get_queue, json_body, publish, require

bp = Blueprint("appointments", __name__, url_prefix="/api/v1")

BOOKINGS_PER_MINUTE = 5  # per client address: a person books once or twice, a script many times
LOOKUPS_PER_MINUTE = 30  # codes are 8 of 31 characters: guessing one is hopeless at this pace


def _limit(kind: str, per_minute: int) -> None:
    # Only a bearer token is looked at (a browser session would ask for a CSRF token); see kiosk.ask.
    principal = current_principal() if bearer_token() else None
    who = ("device", principal.id) if principal is not None and principal.kind == "device" \
        else ("address", request.remote_addr)
    if not current_app.extensions["luot_rate_limiter"].allow((kind, *who), per_minute):
        raise QueueError("Quá nhiều yêu cầu; vui lòng chờ một chút (too many requests)", code="rate_limited",
                         status=429)


def _citizen(raw):
    """The minimised card (name, last digits, keyed hash) of a scanned ID-card QR, or None."""
    if raw in (None, ""):
        return None
    _, citizen = read_card(raw)
    return citizen


@bp.get("/appointments/slots")
def slots():
    return jsonify(appointments.free_slots(get_queue(), request.args.get("service"), request.args.get("date")))


@bp.post("/appointments")
def book():
    current_principal()  # anyone may write here, but a staff browser session still shows its CSRF token
    data = json_body({"service", "start", "name", "phone", "procedure", "citizen_qr", "lang"})
    _limit("book", BOOKINGS_PER_MINUTE)
    citizen = _citizen(data.get("citizen_qr"))
    outcome = appointments.book(get_queue(), data, id_hash=citizen.id_hash if citizen else None,
                                citizen_name=citizen.name if citizen else None)
    return jsonify(outcome.result), 201


@bp.get("/appointments/<code>")
def read(code):
    _limit("lookup", LOOKUPS_PER_MINUTE)
    queue = get_queue()
    return jsonify(appointments.view(queue, appointments.find(queue, code)))


@bp.patch("/appointments/<code>")
def move(code):
    current_principal()  # anyone may write here, but a staff browser session still shows its CSRF token
    data = json_body({"start"})
    _limit("lookup", LOOKUPS_PER_MINUTE)
    return jsonify(appointments.move(get_queue(), code, data.get("start")).result)


@bp.delete("/appointments/<code>")
def cancel(code):
    current_principal()  # anyone may write here, but a staff browser session still shows its CSRF token
    json_body(set())
    _limit("lookup", LOOKUPS_PER_MINUTE)
    return jsonify(appointments.cancel(get_queue(), code).result)


def _check_in(code, data):
    principal = require("kiosk", "staff")
    citizen = _citizen(data.get("citizen_qr"))
    lang = data.get("lang") if data.get("lang") in ("vi", "en") else "vi"
    queue = get_queue()
    outcome = appointments.check_in(queue, code, id_hash=citizen.id_hash if citizen else None,
                                    device_id=principal.id if principal.kind == "device" else None,
                                    citizen=citizen, lang=lang)
    ticket = outcome.result
    ticket["track_url"] = f"/t/{ticket['track_key']}"
    printing = current_app.extensions.get("luot_printing")
    if printing is not None:
        ticket["print"] = printing.ticket_issued(get_db(), queue, principal, ticket, lang)
    publish(outcome.events)
    return jsonify(ticket), 201


@bp.post("/appointments/<code>/check-in")
def check_in(code):
    return _check_in(code, json_body({"citizen_qr", "lang"}))


@bp.post("/appointments/check-in")
def check_in_by_card():
    """The kiosk scanned an ID card instead of a booking: today's booking of that person."""
    require("kiosk", "staff")
    data = json_body({"citizen_qr", "lang"})
    if data.get("citizen_qr") in (None, ""):
        raise QueueError("Hãy quét thẻ căn cước (citizen_qr is required)", code="bad_citizen_qr")
    return _check_in(None, data)


@bp.get("/appointments")
def day_bookings():
    """Today's (or `?date=`) bookings per slot and service, counts only: the monitor's panel."""
    require("manager", "admin")
    return jsonify(appointments.day_bookings(get_queue(), request.args.get("date")))


# ---- a ticket from the phone, and the kiosk's phone opt-in -------------------------------------

@bp.post("/join")
def join():
    """`/join` (the entrance's poster QR): an ordinary ticket without the kiosk, for one phone."""
    current_principal()  # anyone may write here, but a staff browser session still shows its CSRF token
    data = json_body({"service", "phone", "lang"})
    queue = get_queue()
    per_hour = int(queue.settings.get("phone_join_per_address_per_hour", 6))
    if not current_app.extensions["luot_rate_limiter"].allow(("join", request.remote_addr), per_hour, 3600.0):
        raise QueueError("Đã lấy quá nhiều số từ địa chỉ này; vui lòng lấy số tại kiosk "
                         "(too many phone tickets from this address)", code="rate_limited", status=429)
    lang = data.get("lang") if data.get("lang") in ("vi", "en") else "vi"
    outcome = phone_tickets.join(queue, data.get("service"), data.get("phone"), lang)
    ticket = outcome.result
    ticket["track_url"] = f"/t/{ticket['track_key']}"
    publish(outcome.events)
    return jsonify(ticket), 201


@bp.post("/tickets/<ticket_id>/phone")
def ticket_phone(ticket_id):
    """The kiosk's keypad after a ticket: the citizen's phone, for an SMS when the turn is near."""
    require("kiosk", "staff")
    data = json_body({"phone"})
    return jsonify(phone_tickets.opt_in(get_queue(), ticket_id, data.get("phone")))


@bp.get("/stats/channels")
def stats_channels():
    """Tickets, calls and waits by channel (kiosk, appointment, phone) and the appointments' punctuality."""
    from queueing.stats.channels import DEFAULT_PUNCTUAL_MINUTES, channel_report
    require("manager", "admin")
    queue = get_queue()
    today = datetime.fromtimestamp(queue.clock(), timezone.utc).astimezone(queue.tz).date()
    try:
        date_to = date.fromisoformat(request.args["to"]) if request.args.get("to") else today
        date_from = date.fromisoformat(request.args["from"]) if request.args.get("from") \
            else date_to - timedelta(days=6)
    except ValueError:
        raise QueueError("Ngày phải có dạng YYYY-MM-DD (dates must be YYYY-MM-DD)", code="bad_date") from None
    minutes = int(queue.settings.get("appointment_punctual_minutes", DEFAULT_PUNCTUAL_MINUTES))
    report = channel_report(get_db(), queue.centre_id, date_from, date_to, minutes)
    return jsonify({"from": date_from.isoformat(), "to": date_to.isoformat(), **report})
