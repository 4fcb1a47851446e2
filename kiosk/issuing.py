"""Issuing a ticket from a kiosk: ID-card QR, rate limit, then the core, then printing after the commit."""
from __future__ import annotations

import threading
import time
from collections import defaultdict, deque
from datetime import datetime, timezone

from flask import current_app

from queueing.citizen import CitizenCard, InvalidCardQR, MinimisedCitizen, id_hash_key, is_elderly, minimise, parse_card_qr
from queueing.dossiers import DossierDesk, public_view
from queueing.model import Conflict, Outcome, QueueError
from web import get_db, get_queue, now


class RateLimiter:
    """At most `limit` actions per key in a sliding minute, in this process."""

    def __init__(self):
        self._lock = threading.Lock()
        self._times: dict[object, deque] = defaultdict(deque)

    def allow(self, key, limit: int, window_s: float = 60.0, at: float | None = None) -> bool:
        at = time.monotonic() if at is None else at
        with self._lock:
            times = self._times[key]
            while times and times[0] <= at - window_s:
                times.popleft()
            if len(times) >= limit:
                return False
            times.append(at)
            return True


def citizen_key() -> bytes:
    """The HMAC key for ID numbers (queueing.citizen derives it from the server's secret)."""
    return id_hash_key(current_app.config["SECRET_KEY"])


def read_card(raw) -> tuple[CitizenCard, MinimisedCitizen]:
    """Parse a scanned ID-card QR and keep only what the clerk needs."""
    if not isinstance(raw, str):
        raise QueueError("Mã QR thẻ căn cước không hợp lệ (citizen_qr must be text)", code="bad_citizen_qr")
    try:
        card = parse_card_qr(raw)
    except InvalidCardQR as error:
        raise QueueError(f"{error.message} ({error.message_en})", code="bad_citizen_qr") from None
    return card, minimise(card, citizen_key())


def check_card(raw) -> dict:
    """What the kiosk shows after a scan: the name and whether the elderly priority applies."""
    card, _ = read_card(raw)
    today = datetime.fromtimestamp(now(), timezone.utc).astimezone(get_queue().tz).date()
    return {"name": card.name, "age": card.age_on(today), "elderly": is_elderly(card, today),
            "suggested_priority": "NCT" if is_elderly(card, today) else None}


def issue_for(principal, data: dict) -> Outcome:
    """Issue a ticket for a kiosk or staff member and queue its printing."""
    queue = get_queue()
    if principal.is_device("kiosk"):
        limit = int(queue.settings["kiosk_tickets_per_minute"])
        if not current_app.extensions["luot_rate_limiter"].allow(("kiosk", principal.id), limit):
            raise QueueError("Lấy số quá nhanh; vui lòng chờ một chút (too many tickets from this kiosk)",
                             code="rate_limited", status=429)
    citizen = None
    if data.get("citizen_qr") not in (None, ""):
        _, citizen = read_card(data["citizen_qr"])
    device_id = principal.id if principal.kind == "device" else None
    dossier = return_dossier(queue, data) if data.get("dossier_code") is not None else None
    outcome = queue.issue_ticket(data.get("service") or (dossier and queue.settings["dossier_return_service"]),
                                 data.get("priority"), device_id=device_id, citizen=citizen,
                                 lang=data.get("lang") or "vi", dossier_code=dossier["code"] if dossier else None)
    ticket = outcome.result
    if dossier is not None:
        ticket["dossier"] = public_view(dossier, queue)
    ticket["track_url"] = f"/t/{ticket['track_key']}"  # the key, never the id displays hear (issue 12)
    printing = current_app.extensions.get("luot_printing")
    if printing is not None:
        ticket["print"] = printing.ticket_issued(get_db(), queue, principal, ticket, data.get("lang") or "vi")
    return outcome


def return_dossier(queue, data: dict) -> dict:
    """The dossier a «Nhận kết quả» ticket comes to collect (a scanned receipt QR or a typed code), if it may."""
    service = data.get("service") or queue.settings["dossier_return_service"]
    if service != queue.settings["dossier_return_service"]:
        raise QueueError("Mã hồ sơ chỉ dùng khi lấy số trả kết quả (dossier_code is for the result-return service)",
                         code="not_return_service")
    dossier = DossierDesk(queue).from_scan(data["dossier_code"])
    if dossier["status"] == "returned":
        raise Conflict(f"Hồ sơ {dossier['code']} đã được trả kết quả (result already handed over)",
                       code="dossier_returned")
    return dossier
