"""Dossiers over HTTP (issue 16): reading, ready/returned/paid, the fee's VietQR, the payment webhook, the
citizen's dossier page /d/<key>. Thin handlers over queueing.dossiers; SMS and printing after the commit."""
from __future__ import annotations

import io
import logging

import segno
from flask import Blueprint, Response, abort, current_app, jsonify, make_response, render_template, request

from i18n import current_language
from queueing import payments
from queueing.dossiers import DossierDesk, public_view, staff_view
from settings import setting
from web import ApiError, current_principal, get_queue, json_body, publish, require

bp = Blueprint("dossiers", __name__, template_folder="templates")
log = logging.getLogger("luot.dossiers")

STAFF = ("clerk", "manager", "admin")


def desk() -> DossierDesk:
    return DossierDesk(get_queue())


def _acting_counter(principal):
    counter = get_queue().clerk_counter(principal.id) if principal.kind == "user" else None
    return counter["id"] if counter else None


@bp.get("/api/v1/dossiers/<code>")
def get_dossier(code):
    """Staff read any dossier; anyone else needs the receipt's `?key=`."""
    principal = current_principal()
    if principal.is_staff:
        return jsonify(staff_view(desk().get(code), get_queue()))
    return jsonify(public_view(desk().get_with_key(code, request.args.get("key")), get_queue()))


@bp.get("/api/v1/dossiers")
def due_dossiers():
    """The monitor's and counter's lists: due today, overdue, ready and not collected."""
    require(*STAFF)
    return jsonify(desk().due_lists())


@bp.get("/api/v1/procedures/<code>/due-date")
def due_date_preview(code):
    """The due date and fee a dossier of this procedure received now would get (the finish dialog's preview)."""
    require(*STAFF)
    return jsonify(desk().due_date_preview(code))


@bp.post("/api/v1/dossiers/<code>/ready")
def mark_ready(code):
    """The back office (a clerk or manager, or the province system with a staff token) marks the result ready."""
    json_body(set())
    principal = require(*STAFF)
    outcome = desk().mark_ready(code, user_id=principal.id)
    publish(outcome.events)
    send_ready_sms(outcome.result["code"])
    return jsonify(outcome.result)


@bp.post("/api/v1/dossiers/<code>/returned")
def mark_returned(code):
    data = json_body({"by_post"})
    principal = require(*STAFF)
    outcome = desk().mark_returned(code, user_id=principal.id, by_post=data.get("by_post", False),
                                   counter_id=_acting_counter(principal))
    publish(outcome.events)
    return jsonify(outcome.result)


@bp.post("/api/v1/dossiers/<code>/paid")
def mark_paid(code):
    """The clerk took the fee in cash, or saw the transfer arrive."""
    data = json_body({"method"})
    principal = require(*STAFF)
    outcome = desk().mark_paid(code, data.get("method"), user_id=principal.id)
    publish(outcome.events)
    return jsonify(outcome.result)


@bp.get("/api/v1/dossiers/<code>/payment-qr")
def payment_qr(code):
    """The VietQR string for the dossier's fee: JSON, or the QR itself with ?format=svg (the counter's tablet)."""
    require(*STAFF)
    answer = desk().payment_qr(code)
    if request.args.get("format") == "svg":
        buffer = io.BytesIO()
        segno.make(answer["payload"], error="m").save(buffer, kind="svg", scale=6, border=4, dark="#111")
        return Response(buffer.getvalue(), mimetype="image/svg+xml", headers={"Cache-Control": "no-store"})
    return jsonify(answer)


@bp.post("/api/v1/payments/webhook")
def payment_webhook():
    """A bank or payment gateway reports a transfer: the raw body signed with HMAC-SHA256 (queueing/payments.py)."""
    secret = setting("LUOT_PAYMENT_WEBHOOK_SECRET")
    if not secret:
        raise ApiError("Chưa bật nhận báo có thanh toán (payment webhook is off)", code="webhook_off", status=404)
    body = request.get_data(cache=True)
    if not payments.signature_is_valid(secret, body, request.headers.get(payments.SIGNATURE_HEADER)):
        raise ApiError("Chữ ký không đúng (bad signature)", code="bad_signature", status=401)
    notice = payments.parse_notice(body)
    outcome = payments.apply_notice(desk(), notice)
    publish(outcome.events)
    return jsonify(outcome.result)


def send_ready_sms(code: str) -> None:
    """Tell the citizen by SMS, when they gave a phone, through the centre's SMS sender; a failure is only logged."""
    message = desk().sms_for_ready(code)
    if message is None:
        return
    sender = current_app.extensions.get("luot.sms")
    if sender is None:
        log.info("result of dossier %s is ready: no SMS sender configured, SMS not sent", code)
        return
    try:
        sender.send(*message)
    except Exception:  # noqa: BLE001 - the dossier is ready and committed; the tracking page still shows it
        log.exception("could not send the 'result ready' SMS of dossier %s", code)


# ---- the citizen's page -------------------------------------------------------------------------

def dossier_for_key_or_404(key) -> dict:
    row = desk().by_key(key)
    if row is None:
        abort(404)
    return row


@bp.get("/d/<key>")
def dossier_page(key):
    """The phone page of one dossier (the receipt's QR): its due date and state, live."""
    lang = current_language()
    queue = get_queue()
    dossier = public_view(dossier_for_key_or_404(key), queue)
    response = make_response(render_template("dossiers/dossier.html", dossier=dossier, key=key, lang=lang,
                                             page_data={"lang": lang, "key": key, "dossier": dossier}))
    response.headers["Cache-Control"] = "private, no-store"
    return response
