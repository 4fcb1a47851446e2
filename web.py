"""What every screen shares: the Socket.IO object, the queue per request, who is asking, publishing events."""
from __future__ import annotations

import hmac
import logging
import math
import secrets
import sqlite3
import threading
import time

from flask import current_app, g, jsonify, request, session
from flask_socketio import SocketIO

import sockets
from queueing import accounts, maintenance, store
from queueing.accounts import ANONYMOUS, Principal
from queueing.model import Event, Forbidden, QueueError
from queueing.service import QueueService

log = logging.getLogger("luot")

# Bound to the app in create_app: gevent mode in a monkey-patched server process, threading elsewhere
# (sockets.async_mode; docs/architecture.md, known traps).
socketio = SocketIO()


def get_db():
    """This request's (or Socket.IO event's) database connection, taken from the pool."""
    if "db" not in g:
        g.db = current_app.extensions["luot_pool"].acquire()
    return g.db


def close_db(_exception=None) -> None:
    db = g.pop("db", None)
    if db is not None:
        current_app.extensions["luot_pool"].release(db)


def now() -> float:
    return current_app.config["CLOCK"]()


def get_queue() -> QueueService:
    """The centre's QueueService on this request's connection."""
    if "queue" not in g:
        g.queue = QueueService(get_db(), current_app.config["CENTRE_ID"], clock=current_app.config["CLOCK"])
    return g.queue


class ApiError(QueueError):
    """An HTTP-level refusal (auth, content type, size) with the same JSON shape as domain errors."""


def citizen_url(path: str) -> str:
    """An absolute link for a citizen's phone: under LUOT_PUBLIC_URL when set, else the address this request came to."""
    base = current_app.config.get("PUBLIC_URL") or request.url_root.rstrip("/")
    return base + path


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
    # Idle sessions end on the server (issue 12): a staff PC left signed in is not signed in for ever.
    at, seen = now(), session.get("seen_at")
    if not isinstance(seen, (int, float)) or at - seen > current_app.config["SESSION_IDLE_S"]:
        session.clear()
        return None
    if at - seen >= 60:  # refreshed at most once a minute, so the cookie is not rewritten on every request
        session["seen_at"] = at
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
    response = jsonify({"error": error.message, "code": error.code})
    response.headers.update(getattr(error, "headers", None) or {})
    return response, error.status


# Endpoints whose body is a file (a voice clip, a zip) rather than JSON; each checks its own content type.
FILE_BODY_ENDPOINTS: set[str] = set()

SQLITE_INTEGER = 2 ** 63  # a number in a URL beyond SQLite's range names nothing (and must not crash it)


def guard_api_body() -> None:
    """Before every request: numbers in the path that SQLite can hold; on /api/ a body must be JSON.

    Size is left to MAX_CONTENT_LENGTH (413 when an endpoint reads its body): an endpoint such as the
    configuration import may allow more.
    """
    if any(isinstance(value, int) and not -SQLITE_INTEGER <= value < SQLITE_INTEGER
           for value in (request.view_args or {}).values()):
        from werkzeug.exceptions import NotFound as HTTPNotFound
        raise HTTPNotFound()
    if not request.path.startswith("/api/") or request.method in ("GET", "HEAD", "OPTIONS"):
        return
    if request.endpoint in FILE_BODY_ENDPOINTS:
        return
    if (request.content_length or request.headers.get("Transfer-Encoding")) and not request.is_json:
        raise ApiError("Nội dung phải là JSON (Content-Type must be application/json)",
                       code="unsupported_media_type", status=415)


# ---- sign-in throttling ------------------------------------------------------------------------
# Failures are kept in the database, so every server process sharing it counts the same ones.
LOGIN_FAILURES_ALLOWED = 5
LOGIN_FAILURE_WINDOW_S = 15 * 60


def _login_key(username) -> str:
    # Per account *and* address: one address cannot guess on, and cannot lock a clerk out from elsewhere.
    name = username.strip().lower() if isinstance(username, str) else ""
    return f"{name}|{request.remote_addr or '-'}"


def check_login_throttle(username) -> None:
    """Refuse a sign-in (429, Retry-After) after LOGIN_FAILURES_ALLOWED recent failures for it."""
    at = now()
    times = store.login_failure_times(get_db(), _login_key(username), at - LOGIN_FAILURE_WINDOW_S,
                                      LOGIN_FAILURES_ALLOWED)
    if len(times) >= LOGIN_FAILURES_ALLOWED:
        wait = max(1, math.ceil(times[-1] + LOGIN_FAILURE_WINDOW_S - at))
        error = ApiError(f"Đăng nhập sai quá nhiều lần; thử lại sau {(wait + 59) // 60} phút "
                         "(too many failed sign-ins, try again later)", code="too_many_logins", status=429)
        error.headers = {"Retry-After": str(wait)}
        raise error


def record_login_failure(username) -> None:
    at = now()
    with store.transaction(get_db()):
        store.record_login_failure(get_db(), _login_key(username), at, forget_before=at - LOGIN_FAILURE_WINDOW_S)


def clear_login_failures(username) -> None:
    with store.transaction(get_db()):
        store.clear_login_failures(get_db(), _login_key(username))


# ---- who saw citizen data --------------------------------------------------------------------

def _citizen_tickets(payload):
    """The tickets inside an answer that carry a citizen's data."""
    if isinstance(payload, dict):
        if payload.get("id") and any(payload.get(key) is not None for key in
                                     ("citizen_name", "citizen_id_last4", "citizen_birth_year")):
            yield payload
        for value in payload.values():
            yield from _citizen_tickets(value)
    elif isinstance(payload, list):
        for value in payload:
            yield from _citizen_tickets(value)


def log_citizen_views(principal: Principal, payload, via: str) -> None:
    """Record in the audit log that `principal` was shown the citizen data inside `payload`."""
    for ticket in _citizen_tickets(payload):
        try:
            maintenance.record_citizen_view(get_db(), current_app.config["CENTRE_ID"], now(), principal.kind,
                                            principal.id, ticket["id"], via)
        except sqlite3.OperationalError:
            # The call itself is committed: failing the answer would make the clerk call again.
            log.exception("audit: could not record that %s %s saw ticket %s", principal.kind, principal.id,
                          ticket["id"])


# ---- publishing ------------------------------------------------------------------------------

def publish(events: list[Event]) -> None:
    """Emit events after their transaction committed; announcements get their audio here."""
    announcer = current_app.extensions.get("luot_announcer")
    summaries = current_app.extensions.get("luot_queue_summaries")
    for event in events:
        payload = event.payload
        if event.name == "ticket_called" and announcer is not None:
            announcement = payload["announcement"]
            key = announcer.request(announcement["text"], announcement["lang"], voice=announcement.get("voice"),
                                    rate=announcement.get("rate"))
            if key:
                announcement["audio_url"] = f"/audio/{key}.wav"
        for hook in current_app.extensions.get("luot_publish_hooks", []):
            hook(event)
        if event.name == "queue_changed" and summaries is not None:
            summaries.push(event)
            ahead = current_app.extensions.get("luot_calls_ahead")
            if ahead is not None:
                ahead.push()
        else:
            emit_event(event)
        if event.name == "ticket_updated" and payload.get("status") in TRACKING_ENDS:
            # the tracking pages were just told; nothing more will happen to the ticket, so their
            # connections end here, on every instance (issue 12: a socket per phone costs little, not nothing)
            for room in event.rooms:
                if room.startswith("ticket:"):
                    sockets.disconnect_room(socketio, room)


TRACKING_ENDS = ("done", "no_show", "expired")


def emit_event(event: Event) -> None:
    if event.rooms == ("*",):
        socketio.emit(event.name, event.payload)
    else:
        socketio.emit(event.name, event.payload, to=list(event.rooms))


class NewestSummary:
    """Sends `queue_changed` with the waiting counts as they are when it is sent, at most once per `interval`.

    The summary (waiting counts and estimates per service) is made after the commit, when it goes
    out, not inside each change's transaction: it always shows the newest state, and a burst of
    changes (kiosks at opening time) costs one query and one message per screen instead of one per
    ticket. Holding it back a moment also lets a call's `ticket_called` reach every display first:
    every message to every screen wakes that socket's own thread in the one worker (threading mode;
    bench/RESULTS.md). Nobody reads a waiting count to the quarter of a second; an interval of 0
    sends one at every change.
    """

    # Each message to one socket costs the one worker ~50 µs (bench/RESULTS.md, issue 12): with thousands of
    # screens and phones connected, a summary every 250 ms would keep the worker writing summaries most of
    # the time and kiosks would queue behind them. The interval grows with the audience so summaries take
    # at most about a fifth of the worker: 250 ms up to ~1,200 connections, 1 s at 5,000.
    SECONDS_PER_LISTENER = 0.0002

    def __init__(self, interval: float, summarise, emit=emit_event, followers=None, audience=None):
        self.interval, self.summarise, self.emit = interval, summarise, emit
        self.followers = followers  # more events made at the same moment (tracking pages' new places)
        self.audience = audience  # how many connections a summary goes to (None: not counted)
        self.lock = threading.Lock()  # guards `pending`
        self.sending = threading.Lock()  # one summary made and sent at a time, so they go out in order
        self.pending: Event | None = None  # the change that started the running interval

    def push(self, event: Event) -> None:
        if self.interval <= 0:
            self._send(event)
            return
        with self.lock:
            if self.pending is not None:
                return  # the summary already due will show this change too
            self.pending = event
        sockets.spawn(self._send_later)  # never waits: this runs inside the request that made the change

    def current_interval(self) -> float:
        listeners = self.audience() if self.audience else 0
        return max(self.interval, listeners * self.SECONDS_PER_LISTENER)

    def _send_later(self) -> None:
        time.sleep(self.current_interval())
        with self.lock:
            event, self.pending = self.pending, None
        try:
            self._send(event)
        except Exception:  # noqa: BLE001 - logged; the next change sends a fresh summary
            log.exception("could not push %s", event.name)

    def _send(self, event: Event) -> None:
        with self.sending:
            self.emit(Event(event.name, self.summarise(), event.rooms))
            for follower in (self.followers() if self.followers else ()):
                self.emit(follower)


class AnnouncementsAhead:
    """After a change of the queue (at most once per `interval`), the likely next calls' audio is queued
    for synthesis, so a call finds its WAV cached: a few at a time (Announcer.AHEAD_AT_ONCE), retried
    while some are left and the engine was busy, never more than `limit` per round (issue 12)."""

    def __init__(self, app, announcer, interval: float = 0.25, limit: int = 40, rounds: int = 20):
        self.app, self.announcer = app, announcer
        self.interval, self.limit, self.rounds = interval, limit, rounds
        self.lock = threading.Lock()
        self.scheduled = False

    def push(self) -> None:
        with self.lock:
            if self.scheduled:
                return
            self.scheduled = True
        sockets.spawn(self._run)

    def _run(self) -> None:
        try:
            for _ in range(self.rounds):
                time.sleep(self.interval)
                with self.lock:
                    self.scheduled = False
                if not self.round():
                    return
                with self.lock:
                    if self.scheduled:
                        return  # a newer change scheduled its own round
                    self.scheduled = True
            with self.lock:
                self.scheduled = False
        except Exception:  # noqa: BLE001 - only a head start is lost; the call synthesises its own
            with self.lock:
                self.scheduled = False
            log.exception("could not synthesise announcements ahead")

    def round(self) -> bool:
        """Queue what is not cached yet; True when some were left for a later round (engine busy)."""
        pool = self.app.extensions["luot_pool"]
        db = pool.acquire()
        try:
            queue = QueueService(db, self.app.config["CENTRE_ID"], clock=self.app.config["CLOCK"])
            likely, voice = queue.likely_announcements(self.limit), queue.voice()
        finally:
            pool.release(db)
        return any(self.announcer.request(text, lang, ahead=True, **voice) is None for text, lang in likely)


def queue_summary_now(app) -> dict:
    """The centre's waiting counts as committed now, on a pooled connection (from any thread)."""
    pool = app.extensions["luot_pool"]
    db = pool.acquire()
    try:
        return QueueService(db, app.config["CENTRE_ID"], clock=app.config["CLOCK"]).queue_summary()
    finally:
        pool.release(db)


def connection_count() -> int:
    """Socket.IO connections this process holds now."""
    server = socketio.server
    engine = getattr(server, "eio", None) if server is not None else None
    return len(getattr(engine, "sockets", ()) or ())


class TrackingPushes:
    """After a change of the queue, every tracking page that is open gets its ticket's new place and wait,
    all from one forecast; a page is sent nothing when neither moved (by a minute or more)."""

    def __init__(self, app, socket_server=None):
        self.app = app
        self.socket_server = socket_server
        self.last_sent: dict[str, tuple] = {}

    def watched_ticket_ids(self) -> list[str]:
        """Tickets with a tracking page connected to this process (its Socket.IO rooms)."""
        server = self.socket_server or socketio.server
        rooms = server.manager.rooms.get("/", {}) if server is not None else {}
        return [room[len("ticket:"):] for room, members in list(rooms.items())
                if isinstance(room, str) and room.startswith("ticket:") and members]

    def __call__(self) -> list[Event]:
        watched = self.watched_ticket_ids()
        if not watched:
            self.last_sent.clear()
            return []
        pool = self.app.extensions["luot_pool"]
        db = pool.acquire()
        try:
            updates = QueueService(db, self.app.config["CENTRE_ID"], clock=self.app.config["CLOCK"]) \
                .tracking_updates(watched)
        finally:
            pool.release(db)
        changed = []
        for event in updates:
            wait = event.payload["estimated_wait_s"]
            shown = (event.payload["position"], None if wait is None else wait // 60)
            if self.last_sent.get(event.payload["id"]) != shown:
                self.last_sent[event.payload["id"]] = shown
                changed.append(event)
        for ticket_id in set(self.last_sent) - set(watched):
            del self.last_sent[ticket_id]
        return changed


class SmsNudges:
    """After a change of the queue, the SMS due (issue 15): a phone ticket whose turn is `nudge_ahead` away,
    and one just called; each goes once (queueing.phone_tickets.sms_due), through `app.extensions["luot.sms"]`."""

    def __init__(self, app):
        self.app = app

    def __call__(self) -> list[Event]:
        sender = self.app.extensions.get("luot.sms")
        if sender is None:
            return []
        from queueing.phone_tickets import sms_due
        pool = self.app.extensions["luot_pool"]
        db = pool.acquire()
        try:
            due = sms_due(QueueService(db, self.app.config["CENTRE_ID"], clock=self.app.config["CLOCK"]))
        finally:
            pool.release(db)
        for phone, text in due:
            sender.send(phone, text)
        return []


def followers_of(*makers):
    """Several `NewestSummary` followers as one: their events, in order."""
    return lambda: [event for maker in makers for event in maker()]


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
