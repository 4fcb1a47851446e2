"""The dossier operations' part of the OpenAPI description (issue 16); api/openapi.py merges it in."""
from __future__ import annotations

from api.openapi import BOOLEAN, INTEGER, TIME, answer, nullable, obj, operation, ref, string

DAY = string(format="date", description="a local day YYYY-MM-DD")
PUBLIC_DOSSIER = obj({
    "code": string(description="as the province's one-stop system printed it, e.g. 000.00.30.H56-241204-0001"),
    "procedure": string(), "procedure_name": string(), "procedure_name_en": string(), "service": string(),
    "received_at": TIME, "due_date": DAY, "status": string(enum=["processing", "ready", "returned"]),
    "ready_at": TIME, "returned_at": TIME, "by_post": BOOLEAN,
    "on_time": nullable(BOOLEAN), "overdue": BOOLEAN, "fee": nullable(INTEGER), "paid": BOOLEAN,
}, ["code", "procedure", "due_date", "status", "ready_at", "returned_at", "on_time"])
SCHEMAS = {
    "PublicDossier": PUBLIC_DOSSIER,
    "Dossier": {"allOf": [ref("PublicDossier"), obj({
        "key": string(description="the receipt's secret: /d/<key> is the citizen's page"), "track_url": string(),
        "ticket_number": string(), "counter": nullable(INTEGER), "clerk": nullable(string()),
        "paid_method": nullable(string(enum=["cash", "transfer"])), "paid_at": TIME,
        "due_date_computed": nullable(DAY), "due_reason": nullable(string()), "phone": nullable(string()),
    }, ["key", "track_url"])]},
    "DueDossiers": obj({"day": DAY, **{name: {"type": "array", "items": ref("Dossier")}
                                       for name in ("due_today", "overdue", "ready", "processing")}},
                       ["day", "due_today", "overdue", "ready"]),
    "PaymentQR": obj({"code": string(), "payload": string(description="VietQR (NAPAS EMVCo) string"),
                      "amount": INTEGER, "message": string(), "bank_bin": string(), "account": string(),
                      "account_name": string(), "paid": BOOLEAN}, ["payload", "amount"]),
    "PaymentResult": obj({"matched": BOOLEAN, "code": string(), "status": string(enum=["paid", "already_paid"]),
                          "dossier": ref("Dossier")}, ["matched"]),
}
BODIES = {
    "DossierAtFinish": obj({
        "code": string(minLength=1, maxLength=64), "due_date": nullable(DAY),
        "fee": nullable({"type": "integer", "minimum": 0}),
        "due_reason": nullable(string(maxLength=200, description="required when due_date differs from the default")),
        "phone": nullable(string(description="for the 'result ready' SMS")),
        "procedure": nullable(string(description="which of the handled procedures; default the first")),
    }, ["code"], closed=True),
    "Returned": obj({"by_post": BOOLEAN}, closed=True),
    "Paid": obj({"method": string(enum=["cash", "transfer"])}, ["method"], closed=True),
    "PaymentNotice": obj({"code": string(), "message": string(), "amount": {"type": "integer", "minimum": 1},
                          "reference": string()}, ["amount"]),
}
CODE = {"name": "code", "in": "path", "required": True, "schema": string()}
KEY = {"name": "key", "in": "query", "required": False, "schema": string(),
       "description": "the receipt's key; anonymous callers need it (404 without)"}
STAFF = ("dossier",)


def paths() -> dict:
    return {
        "/api/v1/dossiers": {"get": operation(
            "dossiers.due_dossiers", "Results due today, overdue, and ready but not collected (staff)",
            answer(ref("DueDossiers")), errors=(403,), tags=STAFF)},
        "/api/v1/procedures/{code}/due-date": {"get": operation(
            "dossiers.due_date_preview", "The due date (working days) and fee a dossier of this procedure received "
            "now would get (staff)",
            answer(obj({"procedure": string(), "due_date": nullable(DAY), "fee": nullable(INTEGER),
                        "legal_days": nullable(INTEGER), "same_day": BOOLEAN}, ["procedure", "due_date"])),
            errors=(403,), parameters=[CODE], tags=STAFF)},
        "/api/v1/dossiers/{code}": {"get": operation(
            "dossiers.get_dossier", "A dossier: staff by code; anyone with the receipt's ?key=",
            answer({"anyOf": [ref("Dossier"), ref("PublicDossier")]}), auth=False, parameters=[CODE, KEY],
            tags=STAFF)},
        "/api/v1/dossiers/{code}/ready": {"post": operation(
            "dossiers.mark_ready", "The result is ready (back office, province system): the citizen is told",
            answer(ref("Dossier")), body="Empty", errors=(403, 409), parameters=[CODE], tags=STAFF)},
        "/api/v1/dossiers/{code}/returned": {"post": operation(
            "dossiers.mark_returned", "The result was handed over, or sent by post",
            answer(ref("Dossier")), body="Returned", errors=(403, 409), parameters=[CODE], tags=STAFF)},
        "/api/v1/dossiers/{code}/paid": {"post": operation(
            "dossiers.mark_paid", "The fee was paid in cash or by transfer (counted apart)",
            answer(ref("Dossier")), body="Paid", errors=(403, 409), parameters=[CODE], tags=STAFF)},
        "/api/v1/dossiers/{code}/payment-qr": {"get": operation(
            "dossiers.payment_qr", "The VietQR for the dossier's fee to the centre's account (?format=svg: the image)",
            {"description": "the VietQR", "content": {"application/json": {"schema": ref("PaymentQR")},
                                                      "image/svg+xml": {"schema": string()}}},
            errors=(403, 409), parameters=[CODE, {"name": "format", "in": "query", "required": False,
                                                  "schema": string(enum=["json", "svg"])}], tags=STAFF)},
        "/api/v1/payments/webhook": {"post": operation(
            "dossiers.payment_webhook", "A bank's notice of a transfer, the raw body signed "
            "(X-Luot-Signature: sha256=<hex HMAC-SHA256>); 404 while LUOT_PAYMENT_WEBHOOK_SECRET is unset",
            answer(ref("PaymentResult")), body="PaymentNotice", errors=(401, 409), auth=False, tags=STAFF)},
    }
