"""The dossier receipt slip as a PNG (issue 16): the counter prints it for the citizen, /d/<key>/receipt.png."""
from __future__ import annotations

import io
from datetime import date

from flask import Response, abort, url_for

from i18n import current_language
from kiosk.routes import bp
from printers.receipt import ReceiptData, render_receipt
from printers.slip import WIDTH_80MM_PX
from queueing.dossiers import DossierDesk
from queueing.model import QueueError
from queueing.stats import day_label
from web import citizen_url, get_queue


def receipt_for(desk: DossierDesk, row: dict, lang: str) -> ReceiptData:
    """What the receipt of a dossier says; the fee's VietQR only when a fee is due and the account is set."""
    queue = desk.queue
    payload = None
    if row["fee"] and row["paid_at"] is None:
        try:
            payload = desk.payment_qr(row["code"])["payload"]
        except QueueError:
            payload = None  # no account set: the slip says the fee, the counter takes it
    english = lang == "en"
    return ReceiptData(
        centre_name=(queue.centre["name_en"] or queue.centre["name"]) if english else queue.centre["name"],
        procedure_name=(row["procedure_name_en"] or row["procedure_name"]) if english else row["procedure_name"],
        code=row["code"], due_date_local=day_label(date.fromisoformat(row["due_date"])),
        track_url=citizen_url(url_for("dossiers.dossier_page", key=row["key"])),
        fee=row["fee"], paid=row["paid_at"] is not None, payment_payload=payload, lang="en" if english else "vi")


@bp.get("/d/<key>/receipt.png")
def dossier_receipt(key):
    """The receipt slip of a dossier, as the thermal printer prints it (80 mm)."""
    desk = DossierDesk(get_queue())
    row = desk.by_key(key)
    if row is None:
        abort(404)
    image = render_receipt(receipt_for(desk, row, current_language()), WIDTH_80MM_PX)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return Response(buffer.getvalue(), mimetype="image/png", headers={"Cache-Control": "private, no-store"})
