"""The public HTTP API under /api/v1 (see docs/architecture.md): thin handlers over QueueService."""
from __future__ import annotations

from flask import Blueprint, jsonify, request

from kiosk.issuing import issue_for

from queueing import accounts
from queueing.corrections import ticket_id_from_scan
from queueing.model import Forbidden
from queueing.service import PAUSE_REASONS
from web import (ApiError, bearer_token, check_login_throttle, clear_login_failures, current_principal, get_db,
                 get_queue, json_body, log_citizen_views, now, publish, record_login_failure, require)

bp = Blueprint("api", __name__, url_prefix="/api/v1")

def respond(outcome, status: int = 200):
    publish(outcome.events)
    # A clerk's answers carry the called citizen's name: the audit log records who saw it.
    log_citizen_views(current_principal(), outcome.result, request.endpoint)
    return jsonify(outcome.result), status


@bp.post("/auth/login")
def login():
    data = json_body({"username", "password"})
    check_login_throttle(data.get("username"))
    user = accounts.authenticate(get_db(), data.get("username"), data.get("password"))
    if user is None:
        record_login_failure(data.get("username"))
        raise ApiError("Sai tên đăng nhập hoặc mật khẩu (wrong username or password)", code="bad_credentials",
                       status=401)
    clear_login_failures(data.get("username"))
    token = accounts.issue_staff_token(get_db(), user["id"], now())
    return jsonify({"token": token, "role": user["role"], "name": user["display_name"]})


@bp.post("/auth/logout")
def logout():
    """Revoke the staff token this request carries; device tokens are revoked by an administrator (CLI)."""
    json_body(set())
    principal = require("staff")
    token = bearer_token()
    if token is None:
        raise ApiError("Đăng xuất trang web bằng nút Đăng xuất (sign out of a page with its button)",
                       code="no_token")
    accounts.revoke_staff_token(get_db(), token, now())
    return jsonify({"ok": True, "name": principal.name})


@bp.get("/services")
def services():
    return jsonify(get_queue().services_overview())


@bp.post("/tickets")
def issue_ticket():
    principal = require("kiosk", "staff")
    data = json_body({"service", "priority", "citizen_qr", "lang", "dossier_code"})
    return respond(issue_for(principal, data), 201)


@bp.get("/tickets/<ticket_id>")
def get_ticket(ticket_id):
    """Staff and devices read any ticket; anyone else needs its `?key=` (ids are public: displays hear them)."""
    principal = current_principal()
    queue = get_queue()
    if principal.kind == "anonymous":
        return jsonify(queue.public_ticket(queue.ticket_by_key(ticket_id, request.args.get("key"))))
    row = queue.ticket(ticket_id)
    # The priority group (disability, pregnancy…) only to staff.
    return jsonify(queue.ticket_for_staff(row) if principal.is_staff else queue.public_ticket(row))


@bp.post("/counters/<int:counter_id>/sign-in")
def sign_in(counter_id):
    json_body(set())
    principal = require("clerk", "manager", "admin")
    return respond(get_queue().sign_in(counter_id, principal.id))


@bp.post("/counters/<int:counter_id>/sign-out")
def sign_out(counter_id):
    json_body(set())
    principal = require("clerk", "manager", "admin")
    return respond(get_queue().sign_out(counter_id, principal.id))


@bp.post("/counters/<int:counter_id>/call-next")
def call_next(counter_id):
    json_body(set())
    principal = require("clerk", "manager", "admin")
    return respond(get_queue().call_next(counter_id, principal.id))


@bp.post("/counters/<int:counter_id>/pause")
def pause(counter_id):
    principal = require("clerk", "manager", "admin")
    reason = json_body({"reason"}).get("reason")
    if reason is not None and (not isinstance(reason, str) or reason not in PAUSE_REASONS):
        raise ApiError(f"Lý do tạm dừng phải là một trong: {', '.join(PAUSE_REASONS)} (unknown pause reason)",
                       code="bad_reason")
    return respond(get_queue().pause(counter_id, principal.id, reason))


@bp.post("/counters/<int:counter_id>/resume")
def resume(counter_id):
    json_body(set())
    principal = require("clerk", "manager", "admin")
    return respond(get_queue().resume(counter_id, principal.id))


@bp.get("/counters/<int:counter_id>")
def counter_state(counter_id):
    principal = require("clerk", "manager", "admin", "counter")
    queue = get_queue()
    counter = queue.counter(counter_id)
    if principal.is_device("counter") and principal.counter_id != counter_id:
        raise Forbidden("Thiết bị không thuộc quầy này (device belongs to another counter)", code="forbidden")
    if principal.kind == "user" and not principal.is_manager and counter["clerk_id"] != principal.id:
        raise Forbidden("Cán bộ chưa đăng nhập tại quầy này (not signed in at this counter)", code="not_at_counter")
    snapshot = queue.counter_snapshot(counter_id, personal=not principal.is_device("counter"))
    log_citizen_views(principal, snapshot, request.endpoint)
    return jsonify(snapshot)


def _acting_counter(principal) -> int:
    counter = get_queue().clerk_counter(principal.id)
    if counter is None:
        raise Forbidden("Cán bộ chưa đăng nhập tại quầy nào (sign in at a counter first)", code="not_at_counter")
    return counter["id"]


def _ticket_action():
    """The queue, the acting clerk and the counter they are signed in at."""
    principal = require("clerk", "manager", "admin")
    return get_queue(), principal, _acting_counter(principal)


@bp.post("/tickets/<ticket_id>/recall")
def recall(ticket_id):
    json_body(set())
    queue, principal, counter_id = _ticket_action()
    return respond(queue.recall(ticket_id, counter_id, principal.id))


@bp.post("/tickets/<ticket_id>/start")
def start(ticket_id):
    json_body(set())
    queue, principal, counter_id = _ticket_action()
    return respond(queue.start(ticket_id, counter_id, principal.id))


@bp.post("/tickets/<ticket_id>/no-show")
def no_show(ticket_id):
    json_body(set())
    queue, principal, counter_id = _ticket_action()
    return respond(queue.no_show(ticket_id, counter_id, principal.id))


@bp.post("/tickets/<ticket_id>/finish")
def finish(ticket_id):
    data = json_body({"procedure", "procedures", "dossier_number", "dossier"})
    queue, principal, counter_id = _ticket_action()
    procedures = data.get("procedures", data.get("procedure"))
    return respond(queue.finish(ticket_id, counter_id, principal.id, procedures, data.get("dossier_number"),
                                dossier=data.get("dossier")))


@bp.post("/tickets/<ticket_id>/transfer")
def transfer(ticket_id):
    data = json_body({"service", "counter"})
    queue, principal, counter_id = _ticket_action()
    return respond(queue.transfer(ticket_id, counter_id, principal.id, data.get("service"), data.get("counter")))


@bp.post("/tickets/<ticket_id>/call")
def call_out_of_order(ticket_id):
    data = json_body({"reason"})
    queue, principal, counter_id = _ticket_action()
    return respond(queue.call_ticket(counter_id, principal.id, data.get("reason"), ticket_id=ticket_id))


@bp.post("/counters/<int:counter_id>/call-number")
def call_number(counter_id):
    """Call today's waiting ticket with this number out of order, with a logged reason."""
    data = json_body({"number", "reason"})
    principal = require("clerk", "manager", "admin")
    return respond(get_queue().call_ticket(counter_id, principal.id, data.get("reason"), number=data.get("number")))


@bp.post("/tickets/<ticket_id>/restore")
def restore(ticket_id):
    """A late-comer is back: a clerk signed in at a counter, or a manager, puts the no-show back in the queue."""
    json_body(set())
    principal = require("clerk", "manager", "admin")
    queue = get_queue()
    counter = queue.clerk_counter(principal.id)
    if counter is None and not principal.is_manager:
        raise Forbidden("Cán bộ chưa đăng nhập tại quầy nào (sign in at a counter first)", code="not_at_counter")
    return respond(queue.restore_no_show(ticket_id=ticket_id, by="clerk" if counter else "manager",
                                         counter_id=counter["id"] if counter else None, user_id=principal.id))


@bp.post("/counters/<int:counter_id>/restore")
def restore_number(counter_id):
    """Restore today's no-show with this number, from the counter panel."""
    data = json_body({"number"})
    principal = require("clerk", "manager", "admin")
    return respond(get_queue().restore_no_show(number=data.get("number"), by="clerk", counter_id=counter_id,
                                               user_id=principal.id))


@bp.post("/kiosk/back")
def kiosk_back():
    """«Tôi đã quay lại»: the kiosk posts the text its scanner read from the slip's QR (the tracking URL)."""
    principal = require("kiosk")
    scan = json_body({"scan"}).get("scan")
    queue = get_queue()
    return respond(queue.restore_no_show(ticket_id=ticket_id_from_scan(queue, scan), by="kiosk",
                                               device_id=principal.id))


@bp.post("/tickets/<ticket_id>/priority")
def change_priority(ticket_id):
    """Remove or change a wrongly claimed priority group, with a reason: the calling counter or a manager."""
    data = json_body({"priority", "reason"})
    principal = require("clerk", "manager", "admin")
    return respond(get_queue().change_priority(ticket_id, data.get("priority"), data.get("reason"), principal.id,
                                               is_manager=principal.is_manager))


@bp.post("/tickets/<ticket_id>/rating")
def rating(ticket_id):
    """The citizen rates with the ticket's key (tracking page); the counter's rating tablet, at its counter."""
    data = json_body({"score", "key"})
    principal = current_principal()
    queue = get_queue()
    if data.get("key") is not None or principal.kind == "anonymous":
        # The id alone is heard by every display: it must never be enough to rate (issue 12).
        ticket = queue.ticket_by_key(ticket_id, data.get("key"))
    else:
        ticket = queue.ticket(ticket_id)
        if not principal.is_device("counter"):
            raise Forbidden("Chỉ công dân (mã theo dõi) hoặc bảng đánh giá của quầy mới đánh giá được "
                            "(only the citizen's key or the counter's rating tablet)", code="forbidden")
        if principal.counter_id != ticket["counter_id"]:
            raise Forbidden("Thiết bị không thuộc quầy đã phục vụ phiếu này (wrong counter)", code="forbidden")
    return respond(queue.rate(ticket["id"], data.get("score")))


@bp.get("/queue")
def queue_state():
    require("staff", "kiosk", "display", "printer", "counter")
    return jsonify(get_queue().queue_state())


@bp.get("/me")
def me():
    principal = current_principal()
    answer = {"kind": principal.kind, "name": principal.name, "role": principal.role}
    if principal.is_staff:
        counter = get_queue().clerk_counter(principal.id)
        answer["counter"] = counter["id"] if counter else None
    return jsonify(answer)


