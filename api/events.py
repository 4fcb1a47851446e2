"""Socket.IO handlers every screen shares: who connected, which rooms they hear, snapshots."""
from __future__ import annotations

import json
import threading

from flask import current_app, request
from flask_socketio import ConnectionRefusedError as SocketRefused, disconnect, emit, join_room

from kiosk.printing import printer_alerts
from printers.protocol import PRINT_JOB, PRINT_RESULT, PRINTER_READY, parse_print_result
from queueing import accounts, store
from queueing.model import QueueError
from queueing.service import tracking_view
from sockets import client_address, principal_room
from web import TRACKING_ENDS, get_db, get_queue, log_citizen_views, now, session_principal, socketio

ENDED = TRACKING_ENDS  # a tracking page of such a ticket is told, then disconnected

# sid -> Principal of each live connection; set on connect, dropped on disconnect.
_connections: dict[str, accounts.Principal] = {}
_connections_lock = threading.Lock()
# sid -> bearer token of connections that gave one, checked again at every event (revocation).
_tokens: dict[str, str] = {}


def connection_principal() -> accounts.Principal:
    """Who sent this event; a connection whose token was revoked since it connected is dropped."""
    with _connections_lock:
        principal = _connections.get(request.sid, accounts.ANONYMOUS)
        token = _tokens.get(request.sid)
    if token is not None and accounts.principal_for_token(get_db(), token, now()) is None:
        with _connections_lock:
            _connections[request.sid] = accounts.ANONYMOUS
            _tokens.pop(request.sid, None)
        disconnect()
        return accounts.ANONYMOUS
    return principal


def rooms_for(principal: accounts.Principal) -> list[str]:
    """The rooms a connection joins: public screens hear calls, managers the monitor, devices their own."""
    if principal.is_manager:
        return ["display", "monitor"]
    if principal.kind == "device":
        if principal.role == "printer":
            return [f"printer:{principal.id}"]
        if principal.role == "counter" and principal.counter_id:
            return [f"counter:{principal.counter_id}"]
        if principal.role == "kiosk":
            return ["kiosk"]
    if principal.is_staff:
        counter = get_queue().clerk_counter(principal.id)
        return [f"counter:{counter['id']}"] if counter else []
    return ["display"]


@socketio.on("connect")
def on_connect(auth=None):
    """Any screen connects; a bad token is refused, no token means a public display. Sends `snapshot`."""
    token = auth.get("token") if isinstance(auth, dict) else None
    if token:
        principal = accounts.principal_for_token(get_db(), token, now())
        if principal is None:
            raise ConnectionRefusedError("unauthorized")
    else:
        principal = session_principal() or accounts.ANONYMOUS
    addresses = None
    if principal.kind == "anonymous":
        # refused at once, before any work: one address may not take the instance's connections (issue 12)
        addresses = current_app.extensions.get("luot_socket_addresses")
        if addresses is not None and not addresses.admit(request.sid, client_address(request.environ)):
            raise SocketRefused(
                f"Quá nhiều kết nối từ một địa chỉ (too many connections from this address, "
                f"at most {addresses.limit})")
    try:
        with _connections_lock:
            _connections[request.sid] = principal
            if token:
                _tokens[request.sid] = token
        rooms = rooms_for(principal)
        if principal.kind in ("device", "user"):
            join_room(principal_room(principal.kind, principal.id))  # revocation closes them on every instance
        for room in rooms:
            join_room(room)
        snapshot = get_queue().queue_state()
        counter_rooms = [room for room in rooms if room.startswith("counter:")]
        if counter_rooms:
            snapshot["counter"] = get_queue().counter_snapshot(int(counter_rooms[0].split(":")[1]),
                                                               personal=not principal.is_device("counter"))
            log_citizen_views(principal, snapshot["counter"], "socket:snapshot")
        if principal.is_manager:
            from queueing import alerts as queue_alerts
            snapshot["alerts"] = (printer_alerts(get_db(), get_queue().centre_id)
                                  + queue_alerts.current(get_db(), get_queue().centre_id, now()))
        snapshot["you"] = {"kind": principal.kind, "role": principal.role, "name": principal.name}
        emit("snapshot", snapshot)
    except BaseException:
        # a connection refused by an error never reaches on_disconnect: give its place back here
        if addresses is not None:
            addresses.release(request.sid)
        raise


@socketio.on("disconnect")
def on_disconnect(*_args):
    with _connections_lock:
        _connections.pop(request.sid, None)
        _tokens.pop(request.sid, None)
    addresses = current_app.extensions.get("luot_socket_addresses")
    if addresses is not None:
        addresses.release(request.sid)


def _let_go(sid: str, after_s: float) -> None:
    socketio.sleep(after_s)
    try:
        socketio.server.disconnect(sid)
    except (KeyError, ValueError):  # already gone
        pass


@socketio.on("track")
def on_track(track_key):
    """A tracking page follows one ticket by its `track_key` (staff may give its id); answered with `ticket_updated`.

    Ids are heard by every display, so an anonymous client giving one is refused like an unknown ticket (issue 12).
    """
    queue = get_queue()
    row = queue.ticket_for_key(track_key)
    if row is None and connection_principal().is_staff and isinstance(track_key, str):
        try:
            row = queue.ticket(track_key)
        except QueueError:
            row = None
    if row is None:
        return {"error": "Không tìm thấy phiếu (unknown ticket)", "code": "unknown_ticket"}
    ticket = queue.public_ticket(row)
    emit("ticket_updated", tracking_view(ticket))
    if ticket["status"] in ENDED:
        # Nothing more will happen to it: the page keeps what it shows and the connection ends — after
        # this answer has gone out (disconnecting first would leave the page waiting for it).
        socketio.start_background_task(_let_go, request.sid, 1.0)
        return {"ok": True, "ended": True}
    join_room(f"ticket:{ticket['id']}")
    return {"ok": True}


@socketio.on("watch_counter")
def on_watch_counter(counter_id):
    """A counter panel signed in after connecting joins its counter's room; answered with `counter_snapshot`."""
    principal = connection_principal()
    if principal.is_staff and not principal.is_manager:
        principal = session_principal() or principal
    queue = get_queue()
    try:
        counter = queue.counter(counter_id)
    except QueueError as error:
        return {"error": error.message, "code": error.code}
    allowed = (principal.is_manager or (principal.is_staff and counter["clerk_id"] == principal.id)
               or (principal.is_device("counter") and principal.counter_id == counter["id"]))
    if not allowed:
        return {"error": "Không có quyền theo dõi quầy này (not allowed)", "code": "forbidden"}
    join_room(f"counter:{counter['id']}")
    snapshot = queue.counter_snapshot(counter["id"], personal=not principal.is_device("counter"))
    log_citizen_views(principal, snapshot, "socket:watch_counter")
    emit("counter_snapshot", snapshot)
    return {"ok": True}


@socketio.on(PRINTER_READY)
def on_printer_ready(payload=None):
    """A print agent (re)connected: it gets the jobs issued while it was away that are still worth printing."""
    principal = connection_principal()
    if not principal.is_device("printer"):
        return {"error": "Chỉ thiết bị in mới gửi sự kiện này (printer devices only)", "code": "forbidden"}
    printing = current_app.extensions["luot_printing"]
    for job in printing.pending_for_agent(get_db(), principal.id):
        emit(PRINT_JOB, {"job_id": job["id"], "slip": json.loads(job["slip"])})
    return {"ok": True}


@socketio.on(PRINT_RESULT)
def on_print_result(payload=None):
    """A print agent reports a job printed or failed; only the agent the job was sent to may."""
    principal = connection_principal()
    if not principal.is_device("printer"):
        return {"error": "Chỉ thiết bị in mới gửi sự kiện này (printer devices only)", "code": "forbidden"}
    try:
        job_id, ok, error = parse_print_result(payload)
    except ValueError as problem:
        return {"error": str(problem), "code": "bad_request"}
    owner = store.print_job_device(get_db(), job_id)
    if owner != principal.id:
        return {"error": "Không có lệnh in này (unknown job)", "code": "unknown_job"}
    current_app.extensions["luot_printing"].job_done(job_id, ok, error)
    return {"ok": True}
