"""Issue 11 over HTTP: status codes, messages and the rows stored, and who may do what."""
from __future__ import annotations

import json

from tests.conftest import rows
from tests.test_api import assert_error


def ticket_row(app, ticket_id):
    return rows(app, "SELECT * FROM tickets WHERE id = ?", (ticket_id,))[0]


def kinds(app, ticket_id):
    return [row["kind"] for row in rows(app, "SELECT kind FROM ticket_events WHERE ticket_id = ? ORDER BY id",
                                        (ticket_id,))]


def test_transfer_to_a_closed_or_paused_counter_is_409_and_sign_out_returns_what_was_sent(client, api, clock):
    clerk1, clerk2, clerk6 = api.headers("quay1"), api.headers("quay2"), api.headers("quay6")
    client.post("/api/v1/counters/1/sign-in", headers=clerk1)
    ticket = api.issue("CT")
    client.post("/api/v1/counters/1/call-next", headers=clerk1)
    closed = client.post(f"/api/v1/tickets/{ticket['id']}/transfer", json={"counter": 2}, headers=clerk1)
    assert_error(closed, 409, "counter_closed")
    assert "Quầy 2" in closed.json["error"] and "(counter 2 is closed)" in closed.json["error"]
    client.post("/api/v1/counters/2/sign-in", headers=clerk2)
    client.post("/api/v1/counters/2/pause", json={"reason": "meeting"}, headers=clerk2)
    assert_error(client.post(f"/api/v1/tickets/{ticket['id']}/transfer", json={"counter": 2}, headers=clerk1),
                 409, "counter_paused")
    assert_error(client.post(f"/api/v1/tickets/{ticket['id']}/transfer", json={"service": "CT"}, headers=clerk1),
                 409, "same_service")
    assert ticket_row(client.application, ticket["id"])["status"] == "called"
    client.post("/api/v1/counters/2/resume", headers=clerk2)
    moved = client.post(f"/api/v1/tickets/{ticket['id']}/transfer", json={"counter": 2}, headers=clerk1)
    assert moved.status_code == 200
    client.post("/api/v1/counters/2/sign-out", headers=clerk2)
    row = ticket_row(client.application, ticket["id"])
    assert row["status"] == "waiting" and row["target_counter_id"] is None
    assert kinds(client.application, ticket["id"])[-1] == "returned_to_service"
    client.post("/api/v1/counters/6/sign-in", headers=clerk6)
    assert client.post("/api/v1/counters/6/call-next", headers=clerk6).json["ticket"]["id"] == ticket["id"]


def test_out_of_order_call_of_another_services_ticket_is_refused(client, api):
    clerk2 = api.headers("quay2")  # counter 2 serves TP only
    client.post("/api/v1/counters/2/sign-in", headers=clerk2)
    land = api.issue("DD")
    refused = client.post("/api/v1/counters/2/call-number", json={"number": land["number"], "reason": "khẩn"},
                          headers=clerk2)
    assert_error(refused, 409, "not_served_here")
    assert_error(client.post(f"/api/v1/tickets/{land['id']}/call", json={"reason": "khẩn"}, headers=clerk2),
                 409, "not_served_here")
    assert ticket_row(client.application, land["id"])["status"] == "waiting"
    assert kinds(client.application, land["id"]) == ["issued"]


def test_recall_limit_over_the_api(client, api, app):
    admin = api.headers("admin")
    assert client.patch("/api/v1/admin/settings", json={"recall_limit": 1}, headers=admin).status_code == 200
    clerk = api.headers("quay1")
    client.post("/api/v1/counters/1/sign-in", headers=clerk)
    ticket = api.issue("TP")
    client.post("/api/v1/counters/1/call-next", headers=clerk)
    assert client.post(f"/api/v1/tickets/{ticket['id']}/recall", headers=clerk).status_code == 200
    refused = client.post(f"/api/v1/tickets/{ticket['id']}/recall", headers=clerk)
    assert_error(refused, 409, "recall_limit")
    assert "Vắng mặt" in refused.json["error"] and ticket_row(app, ticket["id"])["status"] == "called"


def no_show(client, api, clerk, counter=2, service="TP"):
    client.post(f"/api/v1/counters/{counter}/sign-in", headers=clerk)
    ticket = api.issue(service)
    client.post(f"/api/v1/counters/{counter}/call-next", headers=clerk)
    assert client.post(f"/api/v1/tickets/{ticket['id']}/no-show", headers=clerk).json["ticket"]["status"] == "no_show"
    return ticket


def test_the_kiosk_restores_a_no_show_from_the_scanned_slip(client, api, app, clock):
    clerk = api.headers("quay2")
    ticket = no_show(client, api, clerk)
    clock.advance(5 * 60)
    scanned = "http://192.168.1.10:5000" + ticket["track_url"] + "\r\n"  # a scanner types the QR, then Enter
    assert_error(client.post("/api/v1/kiosk/back", json={"scan": scanned}, headers=clerk), 403)
    back = client.post("/api/v1/kiosk/back", json={"scan": scanned}, headers=api.headers())
    assert back.status_code == 200, back.json
    assert back.json["ticket"]["status"] == "waiting" and back.json["ticket"]["number"] == ticket["number"]
    assert "citizen_name" not in back.json["ticket"]
    event = rows(app, "SELECT * FROM ticket_events WHERE ticket_id = ? AND kind = 'restored'", (ticket["id"],))[0]
    detail = json.loads(event["detail"])
    assert detail["by"] == "kiosk" and detail["absent_s"] == 300.0 and event["clerk_id"] is None
    assert_error(client.post("/api/v1/kiosk/back", json={"scan": scanned}, headers=api.headers()), 409, "not_no_show")
    assert_error(client.post("/api/v1/kiosk/back", json={"scan": "xin chào"}, headers=api.headers()), 400, "bad_scan")
    assert_error(client.post("/api/v1/kiosk/back", json={"scan": "http://x/t/khongco123"}, headers=api.headers()),
                 404, "unknown_ticket")
    assert client.post("/api/v1/counters/2/call-next", headers=clerk).json["ticket"]["id"] == ticket["id"]


def test_the_clerk_restores_by_number_until_the_limit(client, api, app, clock):
    admin = api.headers("admin")
    client.patch("/api/v1/admin/settings", json={"no_show_restore_minutes": 10, "no_show_restore_place": "original"},
                 headers=admin)
    clerk = api.headers("quay2")
    late = no_show(client, api, clerk)
    clock.advance(11 * 60)
    too_late = client.post("/api/v1/counters/2/restore", json={"number": late["number"]}, headers=clerk)
    assert_error(too_late, 409, "restore_too_late")
    assert "10 phút" in too_late.json["error"] and ticket_row(app, late["id"])["status"] == "no_show"
    in_time = no_show(client, api, clerk)
    clock.advance(9 * 60)
    assert_error(client.post("/api/v1/counters/1/restore", json={"number": in_time["number"]}, headers=clerk), 403,
                 "not_at_counter")
    restored = client.post("/api/v1/counters/2/restore", json={"number": in_time["number"]}, headers=clerk)
    assert restored.status_code == 200 and restored.json["ticket"]["status"] == "waiting"
    row = ticket_row(app, in_time["id"])
    assert row["queue_at"] == row["issued_at"]  # `original`: back at its place
    assert_error(client.post("/api/v1/counters/2/restore", json={}, headers=clerk), 400, "number_required")


def test_priority_correction_over_the_api_is_logged_and_reflected(client, api, app):
    clerk1, clerk2 = api.headers("quay1"), api.headers("quay2")
    client.post("/api/v1/counters/1/sign-in", headers=clerk1)
    client.post("/api/v1/counters/2/sign-in", headers=clerk2)
    ticket = api.issue("TP", priority="NKT")
    client.post("/api/v1/counters/1/call-next", headers=clerk1)
    body = {"priority": None, "reason": "Không có giấy xác nhận khuyết tật"}
    assert_error(client.post(f"/api/v1/tickets/{ticket['id']}/priority", json=body, headers=clerk2), 403,
                 "not_your_ticket")
    assert_error(client.post(f"/api/v1/tickets/{ticket['id']}/priority", json={"priority": None}, headers=clerk1),
                 400, "reason_required")
    assert_error(client.post(f"/api/v1/tickets/{ticket['id']}/priority", json={**body, "priority": "VIP"},
                             headers=clerk1), 400, "unknown_priority")
    changed = client.post(f"/api/v1/tickets/{ticket['id']}/priority", json=body, headers=clerk1)
    assert changed.status_code == 200 and changed.json["ticket"]["priority"] is None
    assert ticket_row(app, ticket["id"])["priority_group_id"] is None
    event = rows(app, "SELECT * FROM ticket_events WHERE ticket_id = ? AND kind = 'priority_changed'",
                 (ticket["id"],))
    assert len(event) == 1 and json.loads(event[0]["detail"]) == {"from": "NKT", "to": None,
                                                                  "reason": "Không có giấy xác nhận khuyết tật"}
    waiting = api.issue("TP", priority="NCT")
    assert_error(client.post(f"/api/v1/tickets/{waiting['id']}/priority", json=body, headers=clerk1), 403)
    by_manager = client.post(f"/api/v1/tickets/{waiting['id']}/priority", json={**body, "priority": "NKT"},
                             headers=api.headers("admin"))
    assert by_manager.status_code == 200 and by_manager.json["ticket"]["priority"] == "NKT"
