"""The payment webhook's one small interface (issue 16): a signed notice that a transfer arrived.

A bank or gateway POSTs JSON `{code?, message?, amount, reference?}` to /api/v1/payments/webhook with
the header `X-Luot-Signature: sha256=<hex HMAC-SHA256 of the raw body>` keyed with the centre's
secret (LUOT_PAYMENT_WEBHOOK_SECRET). The dossier is its `code`, or the first code of the centre's
pattern found in the transfer's `message` (the VietQR puts the code there). Any gateway is wired in
by a small relay that speaks this; nothing here knows one bank's format.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import re

from .dossiers import DEFAULT_CODE_PATTERN
from .model import Conflict, NotFound, Outcome, QueueError

SIGNATURE_HEADER = "X-Luot-Signature"


def sign(secret: str, body: bytes) -> str:
    """The header value a sender puts on `body`."""
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def signature_is_valid(secret: str, body: bytes, header: str | None) -> bool:
    return bool(header) and hmac.compare_digest(sign(secret, body), header.strip())


def parse_notice(body: bytes) -> dict:
    """The notice's fields, checked: amount a positive whole number, code or message text."""
    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        data = None
    if not isinstance(data, dict):
        raise QueueError("Nội dung phải là một đối tượng JSON (body must be a JSON object)", code="bad_json")
    amount = data.get("amount")
    if not isinstance(amount, int) or isinstance(amount, bool) or amount <= 0:
        raise QueueError("amount phải là số đồng nguyên dương (amount must be a positive integer)", code="bad_amount")
    texts = [data.get(key) for key in ("code", "message")]
    if not any(isinstance(text, str) and text.strip() for text in texts):
        raise QueueError("Cần code hoặc message (code or message is required)", code="dossier_code_required")
    reference = data.get("reference")
    return {"code": data.get("code") if isinstance(data.get("code"), str) else None,
            "message": data.get("message") if isinstance(data.get("message"), str) else "",
            "amount": amount, "reference": str(reference)[:64] if reference is not None else None}


def apply_notice(desk, notice: dict) -> Outcome:
    """Mark the named dossier paid by transfer; a repeated notice answers `already_paid` (gateways retry)."""
    pattern = desk.queue.settings.get("dossier_code_pattern") or DEFAULT_CODE_PATTERN
    code = notice["code"]
    if not code:
        found = re.search(pattern.strip("^$"), notice["message"].upper())
        code = found.group(0) if found else None
    if not code:
        return Outcome({"matched": False}, [])
    try:
        outcome = desk.mark_paid(code, "transfer", reference=notice["reference"], amount=notice["amount"])
    except NotFound:
        return Outcome({"matched": False, "code": code}, [])
    except Conflict as refusal:
        if refusal.code != "already_paid":
            raise
        return Outcome({"matched": True, "code": code, "status": "already_paid"}, [])
    return Outcome({"matched": True, "code": code, "status": "paid", "dossier": outcome.result}, outcome.events)
