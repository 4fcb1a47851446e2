"""What every screen shares: the Socket.IO object, the queue per request, who is asking, publishing events."""
from __future__ import annotations

import hmac
import logging
import secrets

from flask import current_app, g, jsonify, request, session
from flask_socketio import SocketIO

from queueing import accounts, store
from queueing.accounts import ANONYMOUS, Principal
from queueing.model import Event, Forbidden, QueueError
from queueing.service import QueueService

log = logging.getLogger("luot")

# Bound to the app in create_app; threading mode as DESIGN.md's known traps require.
socketio = SocketIO()


def get_db():
    """This request's (or this thread's) database connection, closed on teardown."""
    if "db" not in g:
        g.db = store.connect(current_app.config["DATABASE"])
    return g.db


def close_db(_exception=None) -> None:
    db = g.pop("db", None)
    if db is not None:
        db.conn.close()


def now() -> float:
    return current_app.config["CLOCK"]()


def get_queue() -> QueueService:
    """The centre's QueueService on this request's connection."""
    if "queue" not in g:
        g.queue = QueueService(get_db(), current_app.config["CENTRE_ID"], clock=current_app.config["CLOCK"])
    return g.queue


class ApiError(QueueError):
    """An HTTP-level refusal (auth, content type, size) with the same JSON shape as domain errors."""


def bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer "):
        return header[len("Bearer "):].strip() or None
    return None


def csrf_token() -> str:
    """The session's CSRF token, created on first use; pages put it in a meta tag."""
    if "csrf" not in session:
        session["csrf"] = secrets.token_urlsafe(24)
    return session["csrf"]


def check_csrf() -> None:
    """Cookie-authenticated writes must echo the session's CSRF token in a header or form field."""
    sent = request.headers.get("X-CSRF-Token") or request.form.get("csrf_token") or ""
    expected = session.get("csrf", "")
    if not expected or not hmac.compare_digest(sent, expected):
        raise ApiError("Phiên làm việc đã hết hạn, hãy tải lại trang (CSRF token missing or wrong)",
                       code="csrf", status=403)


def session_principal() -> Principal | None:
    """The staff member signed in through the browser session, if any."""
    user_id = session.get("user_id")
    if not user_id:
        return None
    user = accounts.user_by_id(get_db(), user_id)
    if user is None or session.get("password_hash_tail") != user["password_hash"][-16:]:
        session.clear()
        return None
    return accounts.user_principal(user)


def current_principal() -> Principal:
    """Who is asking: a bearer token wins; then the browser session; otherwise anonymous."""
    if "principal" in g:
        return g.principal
    token = bearer_token()
    if token:
        principal = accounts.principal_for_token(get_db(), token, now())
        if principal is None:
            raise ApiError("Mã truy cập không hợp lệ hoặc đã hết hạn (invalid or expired token)",
                           code="unauthorized", status=401)
    else:
        principal = session_principal()
        if principal is not None and request.method not in ("GET", "HEAD", "OPTIONS"):
            check_csrf()
    g.principal = principal or ANONYMOUS
    return g.principal


def require(*allowed: str) -> Principal:
    """Refuse the request unless the principal is one of `allowed` (roles, device kinds, 'staff', 'anyone')."""
    principal = current_principal()
    if "anyone" in allowed:
        return principal
    if principal.kind == "anonymous":
        raise ApiError("Cần đăng nhập hoặc mã thiết bị (authentication required)", code="unauthorized",
                       status=401)
    if principal.kind == "user" and (principal.role in allowed or "staff" in allowed):
        return principal
    if principal.kind == "device" and principal.role in allowed:
        return principal
    raise Forbidden("Bạn không có quyền thực hiện thao tác này (not allowed)", code="forbidden")


def json_body(allowed: set[str]) -> dict:
    """The request's JSON object, refusing other content types and unknown fields with a message."""
    if not request.content_length and not request.data:
        return {}
    if not request.is_json:
        raise ApiError("Nội dung phải là JSON (Content-Type must be application/json)",
                       code="unsupported_media_type", status=415)
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise ApiError("Nội dung JSON không hợp lệ: cần một đối tượng (body must be a JSON object)",
                       code="bad_json")
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise ApiError(f"Trường không được hỗ trợ: {', '.join(unknown)} (unknown fields)", code="unknown_fields")
    return data


def error_response(error: QueueError):
    return jsonify({"error": error.message, "code": error.code}), error.status


# ---- publishing ------------------------------------------------------------------------------

def publish(events: list[Event]) -> None:
    """Emit events after their transaction committed; announcements get their audio here."""
    announcer = current_app.extensions.get("luot_announcer")
    for event in events:
        payload = event.payload
        if event.name == "ticket_called" and announcer is not None:
            announcement = payload["announcement"]
            key = announcer.request(announcement["text"], announcement["lang"])
            if key:
                announcement["audio_url"] = f"/audio/{key}.wav"
        for hook in current_app.extensions.get("luot_publish_hooks", []):
            hook(event)
        if event.rooms == ("*",):
            socketio.emit(event.name, payload)
        else:
            socketio.emit(event.name, payload, to=list(event.rooms))


# ---- pages ------------------------------------------------------------------------------------

def staff_page(*roles: str):
    """The signed-in staff member for a page, or a redirect to the sign-in page / a refusal."""
    from flask import abort, redirect, url_for
    principal = session_principal()
    if principal is None:
        return None, redirect(url_for("manager.login", next=request.full_path.rstrip("?")))
    if principal.role not in roles:
        abort(403)
    return principal, None
