"""A ticket from the phone (issue 15): the entrance's poster QR opens `/join`, where a citizen takes an
ordinary ticket of a service without the kiosk — the same ticket (number, tracking page, key), printed
nowhere, `channel = 'phone'`. Only in the service's opening hours (as at the kiosk), one open ticket per
phone per service, not for a service the admin switched off (`phone_join_disabled`: service codes).
A phone number may also be given at the kiosk's keypad after taking a ticket, for an SMS when the
turn is near (`nudge_ahead` people ahead) and when it is called.
"""
from __future__ import annotations

from . import store
from .appointments import normalise_phone
from .model import Conflict, Outcome, QueueError

OPEN = ("waiting", "called", "serving")


def join_enabled(queue, service_code: str) -> bool:
    return service_code not in (queue.settings.get("phone_join_disabled") or [])


def join(queue, service_code, phone, lang: str = "vi") -> Outcome:
    """`POST /join`: an ordinary ticket of a service for this phone; 409 when it already holds one open."""
    phone = normalise_phone(phone)
    if isinstance(service_code, str) and not join_enabled(queue, service_code):
        raise Conflict("Lĩnh vực này không nhận lấy số qua điện thoại; vui lòng lấy số tại kiosk "
                       "(this service takes no phone tickets: use the kiosk)", code="join_disabled")
    with store.transaction(queue.db):
        service = queue.service_by_code(service_code)
        if store.open_ticket_of_phone(queue.db, queue.centre_id, service["id"], phone, OPEN):
            raise Conflict("Số điện thoại này đã có một số đang chờ ở lĩnh vực này "
                           "(this phone already holds an open ticket of this service)", code="already_joined")
        outcome = queue.issue_in_transaction(service_code, lang=lang, channel="phone")
        store.set_ticket_phone(queue.db, outcome.result["id"], phone)
    return outcome


def opt_in(queue, ticket_id, phone) -> dict:
    """The kiosk's keypad: this waiting ticket's phone, for the SMS nudges."""
    phone = normalise_phone(phone)
    with store.transaction(queue.db):
        ticket = queue.ticket(ticket_id)
        if ticket["status"] != "waiting":
            raise QueueError("Phiếu không còn chờ (ticket is no longer waiting)", code="not_waiting")
        store.set_ticket_phone(queue.db, ticket["id"], phone)
    return {"id": ticket["id"], "phone": "*******" + phone[-3:]}


def sms_due(queue) -> list[tuple[str, str]]:
    """(phone, text) of the SMS to send now, each marked sent in the same transaction so it goes once:
    a called ticket's, and a waiting ticket's whose forecast `position` is `nudge_ahead` or less
    (`nudge_ahead` 0 turns the nudge off; the call's SMS stays)."""
    ahead = int(queue.settings.get("nudge_ahead", 3))
    pending = store.tickets_with_phone_to_notify(queue.db, queue.centre_id)
    if not pending:
        return []
    waiting = [row["id"] for row in pending if row["status"] == "waiting"]
    positions = {event.payload["id"]: event.payload["position"]
                 for event in (queue.tracking_updates(waiting) if waiting and ahead else [])}
    due: list[tuple[str, str]] = []
    now = queue.clock()
    with store.transaction(queue.db):
        for row in pending:
            if row["status"] == "called":
                if store.mark_sms(queue.db, row["id"], "sms_called_at", now):
                    due.append((row["citizen_phone"], f"Lượt: mời số {row['number']} đến quầy "
                                                      f"{row['counter_number']}."))
            elif positions.get(row["id"]) is not None and positions[row["id"]] <= ahead:
                if store.mark_sms(queue.db, row["id"], "sms_nudged_at", now):
                    due.append((row["citizen_phone"], f"Lượt: số {row['number']} còn {positions[row['id']]} "
                                                      "người phía trước, vui lòng quay lại quầy."))
    return due
