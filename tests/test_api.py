"""The HTTP API and Socket.IO through Flask's and Flask-SocketIO's test clients, on a real SQLite file."""
from __future__ import annotations

import pytest

import web
from queueing import store

JSON = "application/json"


def assert_error(response, status, code=None):
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == JSON
    body = response.get_json()
    assert isinstance(body["error"], str) and body["error"] and isinstance(body["code"], str)
    if code:
        assert body["code"] == code


def stored_tickets(app):
    db = store.connect(app.config["DATABASE"])
    try:
        return store.all_rows(db, "SELECT * FROM tickets ORDER BY issued_at")
    finally:
        db.conn.close()


def test_services_list_the_demo_centre(client):
    services = client.get("/api/v1/services").get_json()
    assert len(services) >= 6 and sum(len(s["procedures"]) for s in services) >= 20
    first = services[0]
    assert first["name"] == "Tư pháp – Hộ tịch" and first["open"] is True and first["waiting"] == 0
    assert {"code", "name", "name_en"} <= set(first["procedures"][0])


def test_issue_ticket_with_kiosk_token_is_stored(client, api, app):
    ticket = api.issue("TP", priority="NCT")
    assert ticket["number"] == "A001" and ticket["status"] == "waiting" and ticket["position"] == 0
    assert ticket["track_url"] == f"/t/{ticket['track_key']}" and ticket["issued_at"].endswith("+07:00")
    assert len(ticket["track_key"]) >= 22 and ticket["track_key"] != ticket["id"] and ticket["priority"] == "NCT"
    assert ticket["estimated_wait_s"] is None  # no counter is open: the kiosk says so instead of a number
    rows = stored_tickets(app)
    assert len(rows) == 1 and rows[0]["id"] == ticket["id"] and rows[0]["priority_group_id"] is not None
    assert rows[0]["track_key"] == ticket["track_key"]
    public = client.get(f"/api/v1/tickets/{ticket['id']}?key={ticket['track_key']}").get_json()
    assert public["number"] == "A001" and "citizen_name" not in public and "priority" not in public
    page = client.get(ticket["track_url"])
    assert page.status_code == 200 and "A001" in page.get_data(as_text=True)


def test_issue_with_id_card_qr_keeps_only_minimised_data(client, api, app):
    raw = "038155000003|171234567|LÊ VĂN CƯỜNG|15071955|Nam|Xã Hải Long, Tỉnh Thanh Hóa|20042021"
    check = client.post("/api/v1/citizen/check", json={"citizen_qr": raw}, headers=api.headers()).get_json()
    assert check["elderly"] is True and check["suggested_priority"] == "NCT"
    api.issue("TP", citizen_qr=raw)
    row = stored_tickets(app)[0]
    assert row["citizen_name"] == "LÊ VĂN CƯỜNG" and row["citizen_id_last4"] == "0003"
    assert "citizen_id_hash" not in row and "038155000003" not in str(row.values())  # dropped (issue 12)


@pytest.mark.parametrize("body, status, code", [
    ({"service": "NOPE"}, 400, "unknown_service"),
    ({}, 400, "service_required"),
    ({"service": "TP", "priority": "VIP"}, 400, "unknown_priority"),
    ({"service": "TP", "citizen_qr": "hello world"}, 400, "bad_citizen_qr"),
    ({"service": "TP", "colour": "red"}, 400, "unknown_fields"),
    ({"service": ["TP"]}, 400, "service_required"),
])
def test_bad_ticket_requests_are_4xx_json_and_store_nothing(client, api, app, body, status, code):
    assert_error(client.post("/api/v1/tickets", json=body, headers=api.headers()), status, code)
    assert stored_tickets(app) == []


def test_http_level_errors_are_json(client, api):
    headers = api.headers()
    assert_error(client.post("/api/v1/tickets", data="service=TP", headers=headers,
                             content_type="application/x-www-form-urlencoded"), 415)
    assert_error(client.post("/api/v1/tickets", data="[1,2]", headers=headers, content_type=JSON), 400, "bad_json")
    assert_error(client.post("/api/v1/tickets", data="{not json", headers=headers, content_type=JSON), 400)
    assert_error(client.post("/api/v1/tickets", data="x" * 100_000, headers=headers, content_type=JSON), 413)
    assert_error(client.get("/api/v1/tickets/doesnotexist"), 404, "unknown_ticket")
    assert_error(client.get("/api/v1/nothing-here"), 404)
    assert_error(client.delete("/api/v1/services"), 405)
    assert_error(client.post("/api/v1/counters/999/call-next", headers=api.headers("quay1")), 404)


def test_authentication_and_roles(client, api):
    assert_error(client.post("/api/v1/tickets", json={"service": "TP"}), 401, "unauthorized")
    assert_error(client.post("/api/v1/tickets", json={"service": "TP"},
                             headers={"Authorization": "Bearer wrong"}), 401)
    assert_error(client.post("/api/v1/auth/login", json={"username": "quay1", "password": "nope-nope"}), 401)
    assert_error(client.get("/api/v1/queue"), 401)
    kiosk = api.headers()
    # a kiosk token cannot sign in, call or act on tickets
    assert_error(client.post("/api/v1/counters/1/sign-in", headers=kiosk), 403)
    assert_error(client.post("/api/v1/counters/1/call-next", headers=kiosk), 403)
    # staff may issue tickets too (a help desk)
    staff = api.headers("quay1")
    assert client.post("/api/v1/tickets", json={"service": "TP"}, headers=staff).status_code == 201


def test_clerk_cannot_act_at_another_counter(client, api):
    clerk1, clerk2 = api.headers("quay1"), api.headers("quay2")
    assert client.post("/api/v1/counters/1/sign-in", headers=clerk1).status_code == 200
    assert_error(client.post("/api/v1/counters/1/sign-in", headers=clerk2), 409, "counter_taken")
    assert_error(client.post("/api/v1/counters/1/call-next", headers=clerk2), 403, "not_at_counter")
    assert_error(client.post("/api/v1/counters/1/pause", headers=clerk2), 403)
    ticket = api.issue("TP")
    client.post("/api/v1/counters/1/call-next", headers=clerk1)
    client.post("/api/v1/counters/2/sign-in", headers=clerk2)
    for action in ("recall", "start", "no-show"):
        assert_error(client.post(f"/api/v1/tickets/{ticket['id']}/{action}", headers=clerk2), 403, "not_your_ticket")
    assert client.get("/api/v1/tickets/" + ticket["id"], headers=clerk1).get_json()["status"] == "called"


def test_counter_flow_over_the_api(client, api):
    clerk = api.headers("quay1")
    assert client.post("/api/v1/counters/1/call-next", headers=clerk).status_code == 403  # not signed in yet
    state = client.post("/api/v1/counters/1/sign-in", headers=clerk).get_json()
    assert state["state"] == "open" and state["waiting"] == 0
    assert client.post("/api/v1/counters/1/call-next", headers=clerk).get_json() == {"ticket": None}
    ticket = api.issue("CT")
    called = client.post("/api/v1/counters/1/call-next", headers=clerk).get_json()["ticket"]
    assert called["id"] == ticket["id"] and called["counter"] == 1
    assert client.post(f"/api/v1/tickets/{ticket['id']}/recall", headers=clerk).status_code == 200
    assert client.post(f"/api/v1/tickets/{ticket['id']}/start", headers=clerk).get_json()["ticket"]["status"] == "serving"
    assert_error(client.post(f"/api/v1/tickets/{ticket['id']}/finish", json={"procedure": "TP-01"}, headers=clerk),
                 400, "bad_procedure")
    assert_error(client.post(f"/api/v1/tickets/{ticket['id']}/finish", json={}, headers=clerk), 400)
    done = client.post(f"/api/v1/tickets/{ticket['id']}/finish", json={"procedure": "CT-01"}, headers=clerk)
    assert done.get_json()["ticket"]["status"] == "done"
    assert_error(client.post(f"/api/v1/tickets/{ticket['id']}/start", headers=clerk), 403)
    key = ticket["track_key"]
    assert_error(client.post(f"/api/v1/tickets/{ticket['id']}/rating", json={"score": 5, "key": key}), 400, "bad_score")
    assert client.post(f"/api/v1/tickets/{ticket['id']}/rating", json={"score": 3, "key": key}).status_code == 200
    assert_error(client.post(f"/api/v1/tickets/{ticket['id']}/rating", json={"score": 2, "key": key}), 409,
                 "already_rated")
    paused = client.post("/api/v1/counters/1/pause", json={"reason": "break"}, headers=clerk).get_json()
    assert paused["state"] == "paused" and paused["pause_reason"] == "break"
    assert_error(client.post("/api/v1/counters/1/call-next", headers=clerk), 409, "counter_paused")
    assert client.post("/api/v1/counters/1/resume", headers=clerk).get_json()["state"] == "open"
    queue = client.get("/api/v1/queue", headers=clerk).get_json()
    assert {"services", "counters", "recent_calls"} <= set(queue) and queue["recent_calls"][0]["number"] == "B001"


def test_transfer_over_the_api(client, api):
    clerk1, clerk6 = api.headers("quay1"), api.headers("quay6")
    client.post("/api/v1/counters/1/sign-in", headers=clerk1)
    client.post("/api/v1/counters/6/sign-in", headers=clerk6)
    ticket = api.issue("TP")
    client.post("/api/v1/counters/1/call-next", headers=clerk1)
    assert_error(client.post(f"/api/v1/tickets/{ticket['id']}/transfer", json={}, headers=clerk1), 400)
    assert_error(client.post(f"/api/v1/tickets/{ticket['id']}/transfer", json={"service": "ZZ"}, headers=clerk1), 400)
    moved = client.post(f"/api/v1/tickets/{ticket['id']}/transfer", json={"service": "LLTP"}, headers=clerk1)
    assert moved.get_json()["ticket"]["status"] == "waiting" and moved.get_json()["ticket"]["number"] == "A001"
    assert client.post("/api/v1/counters/6/call-next", headers=clerk6).get_json()["ticket"]["id"] == ticket["id"]


def test_socketio_snapshot_and_live_events(app, client, api):
    display = web.socketio.test_client(app)
    assert display.is_connected()
    snapshot = [m for m in display.get_received() if m["name"] == "snapshot"]
    assert snapshot and {"services", "counters", "recent_calls"} <= set(snapshot[0]["args"][0])
    clerk = api.headers("quay1")
    monitor = web.socketio.test_client(app, auth={"token": api.token("admin")})
    monitor.get_received()
    client.post("/api/v1/counters/1/sign-in", headers=clerk)
    opened = [m["args"][0] for m in display.get_received() if m["name"] == "counter_changed"]
    assert [(c["number"], c["state"]) for c in opened] == [(1, "open")]  # the hall sees the counter open
    ticket = api.issue("TP")
    client.post("/api/v1/counters/1/call-next", headers=clerk)
    received = display.get_received()
    names = [m["name"] for m in received]
    # a call reaches displays as ticket_called alone: its counter's state did not change
    assert "queue_changed" in names and "ticket_called" in names and "counter_changed" not in names
    call = next(m["args"][0] for m in received if m["name"] == "ticket_called")
    assert call["number"] == ticket["number"] and call["counter"] == 1 and call["recall"] is False
    assert call["announcement"]["text"].startswith("Xin mời công dân có số thứ tự A không không một")
    assert "counter_changed" in [m["name"] for m in monitor.get_received()]
    client.post(f"/api/v1/tickets/{ticket['id']}/no-show", headers=clerk)
    client.post("/api/v1/counters/1/pause", json={"reason": "break"}, headers=clerk)
    changed = [m["args"][0] for m in display.get_received() if m["name"] == "counter_changed"]
    assert [(c["number"], c["state"]) for c in changed] == [(1, "paused")]  # it dims on the display at once
    assert all("citizen_name" not in str(payload) for payload in opened + changed)


def test_socketio_refuses_a_bad_token_and_tracks_a_ticket(app, api):
    assert not web.socketio.test_client(app, auth={"token": "forged"}).is_connected()
    ticket = api.issue("TP")
    phone = web.socketio.test_client(app)
    phone.get_received()
    assert phone.emit("track", ticket["track_key"], callback=True) == {"ok": True}
    update = [m for m in phone.get_received() if m["name"] == "ticket_updated"][0]["args"][0]
    assert update["id"] == ticket["id"] and update["position"] == 0 and "citizen_name" not in update
    assert phone.emit("track", "nope", callback=True)["code"] == "unknown_ticket"


def test_pages_render_in_vietnamese_by_default_and_english_on_request(client):
    kiosk = client.get("/kiosk").get_data(as_text=True)
    assert 'lang="vi"' in kiosk and "Lấy số thứ tự" in kiosk
    assert "Take a number" in client.get("/kiosk?lang=en").get_data(as_text=True)
    assert "Màn hình gọi số" in client.get("/display").get_data(as_text=True)
    assert client.get("/counter").status_code == 302 and client.get("/manager").status_code == 302
    for page in ("/kiosk", "/display", "/login"):
        headers = client.get(page).headers
        assert "script-src 'self'" in headers["Content-Security-Policy"]
        assert headers["X-Content-Type-Options"] == "nosniff"


def test_browser_login_uses_session_and_csrf(client, api):
    page = client.get("/login").get_data(as_text=True)
    token = page.split('name="csrf_token" value="')[1].split('"')[0]
    password = api.credentials.passwords["admin"]
    refused = client.post("/login", data={"username": "admin", "password": password})
    assert refused.status_code == 403
    ok = client.post("/login", data={"username": "admin", "password": password, "csrf_token": token})
    assert ok.status_code == 302 and ok.headers["Location"] == "/manager"
    monitor = client.get("/manager")
    assert monitor.status_code == 200
    # signing in starts a new session with a new CSRF token; API writes by cookie must echo it
    token = monitor.get_data(as_text=True).split('name="csrf-token" content="')[1].split('"')[0]
    assert_error(client.post("/api/v1/tickets", json={"service": "TP"}), 403, "csrf")
    assert client.post("/api/v1/tickets", json={"service": "TP"}, headers={"X-CSRF-Token": token}).status_code == 201
