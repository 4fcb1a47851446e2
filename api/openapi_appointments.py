"""The OpenAPI description of the appointment routes (issue 15), merged into api/openapi.py's document."""
from __future__ import annotations

from api.openapi import TIME, answer, nullable, obj, operation, ref, string

CODE = {"name": "code", "in": "path", "required": True, "schema": string(),
        "description": "the booking's code (8 characters); holding it is the only proof needed"}
APPOINTMENT_STATUS = string(enum=["booked", "checked_in", "cancelled", "missed"])

SCHEMAS = {
    "Slot": obj({"start": string(format="date-time"), "end": string(format="date-time"),
                 "free": {"type": "integer", "minimum": 0}}, ["start", "end", "free"]),
    "Appointment": obj({
        "code": string(), "service": string(), "service_name": string(), "service_name_en": string(),
        "procedure": nullable(string()), "procedure_name": nullable(string()),
        "start": string(format="date-time"), "end": string(format="date-time"), "status": APPOINTMENT_STATUS,
        "name": nullable(string()), "phone": nullable(string(description="only the last three digits shown")),
        "checked_in_at": TIME, "ticket_number": nullable(string()),
        "manage_url": string(description="/book/<code>, the page to move or cancel it")},
        ["code", "service", "start", "end", "status", "manage_url"]),
    "CheckedInTicket": {"allOf": [ref("IssuedTicket"), obj({"appointment": ref("Appointment")}, ["appointment"])]},
    "DayBookings": obj({"date": string(format="date"), "slots": {"type": "array", "items": obj({
        "start": string(format="date-time"),
        "services": {"type": "object", "description": "service code -> {booked, checked_in, cancelled, missed}"}},
        ["start", "services"])}}, ["date", "slots"]),
}

BODIES = {
    "Booking": obj({
        "service": string(minLength=1), "start": string(format="date-time", description="a slot's start"),
        "name": string(minLength=1, maxLength=100), "phone": string(description="10 digits from 0, or +84…"),
        "procedure": nullable(string()), "citizen_qr": nullable(string(maxLength=512)),
        "lang": {"description": "vi or en"}}, ["service", "start", "phone"], closed=True),
    "MoveBooking": obj({"start": string(format="date-time")}, ["start"], closed=True),
    "Join": obj({"service": string(minLength=1), "phone": string(), "lang": {"description": "vi or en"}},
                ["service", "phone"], closed=True),
    "Phone": obj({"phone": string()}, ["phone"], closed=True),
    "CheckIn": obj({"citizen_qr": nullable(string(maxLength=512)), "lang": {"description": "vi or en"}},
                   closed=True),
}


def paths() -> dict:
    public = ("appointments",)
    return {
        "/api/v1/appointments/slots": {"get": operation(
            "appointments.slots", "A service's slots of a day still to begin, with their free places",
            answer({"type": "array", "items": ref("Slot")}), auth=False, tags=public,
            parameters=[{"name": "service", "in": "query", "required": True, "schema": string()},
                        {"name": "date", "in": "query", "required": True, "schema": string(format="date")}])},
        "/api/v1/appointments": {
            "post": operation("appointments.book", "Book a place in a slot (rate-limited); 409 full or already "
                              "booked by this phone or ID number for the service that day",
                              answer(ref("Appointment")), status=201, body="Booking", errors=(409, 429),
                              auth=False, tags=public),
            "get": operation("appointments.day_bookings", "A day's bookings per slot and service (managers)",
                             answer(ref("DayBookings")), errors=(403,), tags=("monitor",),
                             parameters=[{"name": "date", "in": "query", "required": False, "schema": string(),
                                          "description": "a local day YYYY-MM-DD; empty or absent: today"}])},
        "/api/v1/appointments/{code}": {
            "get": operation("appointments.read", "A booking by its code", answer(ref("Appointment")),
                             errors=(429,), auth=False, parameters=[CODE], tags=public),
            "patch": operation("appointments.move", "Move a booking to another slot of its service",
                               answer(ref("Appointment")), body="MoveBooking", errors=(409, 429), auth=False,
                               parameters=[CODE], tags=public),
            "delete": operation("appointments.cancel", "Cancel a booking: its place is free again",
                                answer(ref("Appointment")), errors=(409, 429), auth=False, parameters=[CODE],
                                tags=public)},
        "/api/v1/appointments/{code}/check-in": {"post": operation(
            "appointments.check_in", "Arrival at the kiosk: the ticket, marked as an appointment; 409 too early "
            "(saying when) or too late (take an ordinary ticket)", answer(ref("CheckedInTicket")), status=201,
            body="CheckIn", errors=(403, 409), parameters=[CODE], tags=("kiosk",))},
        "/api/v1/stats/channels": {"get": operation(
            "appointments.stats_channels", "Tickets, calls and waits by channel (kiosk, appointment, phone) and the "
            "appointments' punctuality (managers)", answer(obj({
                "from": string(format="date"), "to": string(format="date"),
                "rows": {"type": "array", "items": obj({"key": string(enum=["kiosk", "appointment", "phone"]),
                                                        "label": string(), "issued": {"type": "integer"},
                                                        "called": {"type": "integer"},
                                                        "wait_s": nullable({"type": "object"})}, ["key", "issued"])},
                "appointments": obj({"called": {"type": "integer"}, "punctual": {"type": "integer"},
                                     "punctual_pct": nullable({"type": "number"}),
                                     "within_minutes": {"type": "integer"}})}, ["rows", "appointments"])),
            errors=(403,), tags=("statistics",),
            parameters=[{"name": name, "in": "query", "required": False, "schema": string(),
                         "description": "a local day YYYY-MM-DD; empty or absent: the last 7 days"}
                        for name in ("from", "to")])},
        "/api/v1/join": {"post": operation(
            "appointments.join", "A ticket from the phone (/join): an ordinary ticket, not printed; 409 when the "
            "phone holds an open one of the service, the service is closed or takes no phone tickets",
            answer(ref("IssuedTicket")), status=201, body="Join", errors=(409, 429), auth=False, tags=public)},
        "/api/v1/tickets/{ticket_id}/phone": {"post": operation(
            "appointments.ticket_phone", "The kiosk's keypad: a waiting ticket's phone, for an SMS when the turn "
            "is near and when it is called", answer(obj({"id": string(), "phone": string()}, ["id", "phone"])),
            body="Phone", errors=(403,), parameters=[{"name": "ticket_id", "in": "path", "required": True,
                                                      "schema": string()}], tags=("kiosk",))},
        "/api/v1/appointments/check-in": {"post": operation(
            "appointments.check_in_by_card", "Arrival by the ID card's QR: that person's booking today",
            answer(ref("CheckedInTicket")), status=201, body="CheckIn", errors=(403, 409), tags=("kiosk",))},
    }


