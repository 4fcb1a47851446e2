"""Monitor alerts: long waits, long pauses and long queues, at their thresholds, pushed by Socket.IO."""
from __future__ import annotations

import pytest

import web
from manager import alert_push
from queueing import admin, alerts, store
from queueing.centre import DEMO_CENTRE_ID as CENTRE

THRESHOLDS = {"wait_minutes": 10, "pause_minutes": 5, "waiting_count": 3}


def kinds(found: list[dict]) -> list[str]:
    return [alert["kind"] for alert in found]


def test_a_long_wait_fires_at_the_threshold_and_not_before(db, queue, clock):
    ticket = queue.issue_ticket("TP").result
    clock.advance(10 * 60 - 1)
    assert alerts.evaluate(db, CENTRE, clock(), THRESHOLDS) == []
    clock.advance(1)
    [alert] = alerts.evaluate(db, CENTRE, clock(), THRESHOLDS)
    assert alert["kind"] == "long_wait" and alert["ticket"] == "A001" and alert["ticket_id"] == ticket["id"]
    assert alert["service"] == "TP" and alert["minutes"] == 10 and alert["threshold"] == 10
    assert alert["since"] == ticket["issued_at"] == "2026-11-24T08:00:00+07:00"
    assert alert["message"] == "Số A001 (Tư pháp – Hộ tịch) đã chờ 10 phút (ngưỡng 10 phút)"
    assert alert["message_en"].startswith("Ticket A001 (") and "has waited 10 min" in alert["message_en"]


def test_a_called_ticket_no_longer_waits(db, queue, clock, open_counter):
    counter, clerk = open_counter(1)
    queue.issue_ticket("TP")
    clock.advance(15 * 60)
    assert kinds(alerts.evaluate(db, CENTRE, clock(), THRESHOLDS)) == ["long_wait"]
    queue.call_next(counter, clerk)
    assert alerts.evaluate(db, CENTRE, clock(), THRESHOLDS) == []


def test_a_long_pause_fires_at_the_threshold(db, queue, clock, open_counter):
    counter, clerk = open_counter(3)
    clock.advance(60)
    queue.pause(counter, clerk, "meeting")
    clock.advance(5 * 60 - 1)
    assert alerts.evaluate(db, CENTRE, clock(), THRESHOLDS) == []
    clock.advance(1)
    [alert] = alerts.evaluate(db, CENTRE, clock(), THRESHOLDS)
    assert alert["kind"] == "long_pause" and alert["counter"] == 3 and alert["counter_id"] == counter
    assert alert["since"] == "2026-11-24T08:01:00+07:00"
    assert "tạm dừng đã 5 phút (họp; ngưỡng 5 phút)" in alert["message"]
    assert alert["message_en"] == "Counter 3 has been paused for 5 min (meeting; threshold 5 min)"
    queue.resume(counter, clerk)
    assert alerts.evaluate(db, CENTRE, clock(), THRESHOLDS) == []


def test_too_many_waiting_fires_above_the_threshold(db, queue, clock):
    for _ in range(3):
        queue.issue_ticket("CT")
    assert alerts.evaluate(db, CENTRE, clock(), THRESHOLDS) == []  # 3 is not above 3
    queue.issue_ticket("GT")
    [alert] = alerts.evaluate(db, CENTRE, clock(), THRESHOLDS)
    assert alert["kind"] == "many_waiting" and alert["waiting"] == 4 and alert["threshold"] == 3
    assert alert["message"] == "Có 4 người đang chờ, vượt ngưỡng 3"
    assert alert["message_en"] == "4 people are waiting, above the threshold of 3"


def test_zero_switches_an_alert_off_and_settings_give_the_thresholds(db, queue, clock, open_counter):
    counter, clerk = open_counter(1)
    queue.pause(counter, clerk)
    for _ in range(5):
        queue.issue_ticket("TP")
    clock.advance(3 * 3600)
    assert set(kinds(alerts.evaluate(db, CENTRE, clock(), THRESHOLDS))) == {"long_wait", "long_pause", "many_waiting"}
    assert alerts.evaluate(db, CENTRE, clock(), {"wait_minutes": 0, "pause_minutes": 0, "waiting_count": 0}) == []
    # the defaults (30 min, 15 min, 50 people) apply until an admin changes them
    assert set(kinds(alerts.current(db, CENTRE, clock()))) == {"long_wait", "long_pause"}
    admin.update_settings(db, CENTRE, None, {"alert_wait_minutes": 0, "alert_pause_minutes": 0,
                                             "alert_waiting_count": 4})
    assert kinds(alerts.current(db, CENTRE, clock())) == ["many_waiting"]


def test_ticket_alerts_are_capped_oldest_first(db, queue, clock):
    for _ in range(alerts.MAX_TICKET_ALERTS + 5):
        queue.issue_ticket("TP")
        clock.advance(1)
    clock.advance(3600)
    found = alerts.evaluate(db, CENTRE, clock(), {"wait_minutes": 10})
    assert len(found) == alerts.MAX_TICKET_ALERTS and found[0]["ticket"] == "A001"


def test_the_tracker_raises_each_alert_once_until_it_clears():
    tracker = alerts.AlertTracker()
    first = {"key": "long_wait:x", "kind": "long_wait"}
    second = {"key": "many_waiting", "kind": "many_waiting"}
    assert tracker.update([first]) == ([first], [])
    assert tracker.update([first, second]) == ([second], [])
    assert tracker.update([second]) == ([], ["long_wait:x"])
    assert tracker.update([first, second]) == ([first], [])


def test_thresholds_from_settings():
    assert alerts.thresholds_from_settings({}) == {"wait_minutes": 30, "pause_minutes": 15, "waiting_count": 50}
    assert alerts.thresholds_from_settings({"alert_wait_minutes": 5, "notice": "x"})["wait_minutes"] == 5


# ---- pushed to the live monitor --------------------------------------------------------------

@pytest.fixture
def monitor(app, api):
    client = web.socketio.test_client(app, auth={"token": api.token("admin")})
    assert client.is_connected()
    return client


def pushed(client, name="alert") -> list[dict]:
    return [message["args"][0] for message in client.get_received() if message["name"] == name]


def test_alerts_are_pushed_to_monitors_once_and_cleared(app, client, api, clock, monitor):
    headers = api.headers("admin")
    assert client.patch("/api/v1/admin/settings", json={"alert_wait_minutes": 10, "alert_pause_minutes": 5,
                                                        "alert_waiting_count": 0},
                        headers=headers).status_code == 200
    display = web.socketio.test_client(app)
    monitor.get_received()
    display.get_received()
    ticket = api.issue("TP")
    clock.advance(9 * 60)
    assert alert_push.check_alerts(app) == [] and pushed(monitor) == []
    clock.advance(60)
    assert len(alert_push.check_alerts(app)) == 1
    [alert] = pushed(monitor)
    assert alert["kind"] == "long_wait" and alert["ticket"] == ticket["number"] and alert["since"] == ticket["issued_at"]
    assert "đã chờ 10 phút" in alert["message"]
    clock.advance(60)
    assert alert_push.check_alerts(app) == [] and pushed(monitor) == []  # raised once, not every round
    assert pushed(display) == []  # public screens never hear alerts
    # a monitor that connects now gets the standing alerts in its snapshot
    late = web.socketio.test_client(app, auth={"token": api.token("admin")})
    snapshot = [m["args"][0] for m in late.get_received() if m["name"] == "snapshot"][0]
    assert [a["kind"] for a in snapshot["alerts"] if a["kind"] == "long_wait"] == ["long_wait"]
    # once the ticket is called the alert clears, and monitors hear so
    clerk = api.headers("quay1")
    client.post("/api/v1/counters/1/sign-in", headers=clerk)
    client.post("/api/v1/counters/1/call-next", headers=clerk)
    monitor.get_received()
    alert_push.check_alerts(app)
    assert pushed(monitor, "alert_resolved") == [{"key": f"long_wait:{ticket['id']}"}]


def test_a_paused_counter_alert_reaches_the_monitor(app, client, api, clock, monitor):
    client.patch("/api/v1/admin/settings", json={"alert_pause_minutes": 5}, headers=api.headers("admin"))
    clerk = api.headers("quay2")
    client.post("/api/v1/counters/2/sign-in", headers=clerk)
    client.post("/api/v1/counters/2/pause", json={"reason": "break"}, headers=clerk)
    monitor.get_received()
    clock.advance(5 * 60)
    alert_push.check_alerts(app)
    [alert] = pushed(monitor)
    assert alert["kind"] == "long_pause" and alert["counter"] == 2
    assert "nghỉ giải lao" in alert["message"]


def test_managers_read_alerts_over_the_api(app, client, api, clock):
    for _ in range(3):
        api.issue("TP")
    headers = api.headers("admin")
    client.patch("/api/v1/admin/settings", json={"alert_waiting_count": 2}, headers=headers)
    found = client.get("/api/v1/admin/alerts", headers=headers).get_json()
    assert [a["kind"] for a in found] == ["many_waiting"]
    assert client.get("/api/v1/admin/alerts", headers=api.headers("quay1")).status_code == 403


def test_the_alert_loop_survives_a_failing_round(app, monkeypatch):
    rounds = []

    def failing(_app):
        rounds.append(1)
        if len(rounds) == 1:
            raise RuntimeError("database is locked")
        raise SystemExit  # ends the test's loop

    monkeypatch.setattr(alert_push, "check_alerts", failing)
    monkeypatch.setattr(web.socketio, "sleep", lambda _seconds: None)
    with pytest.raises(SystemExit):
        alert_push.alert_loop(app, interval=0)
    assert len(rounds) == 2


def test_alert_settings_are_stored(db):
    admin.update_settings(db, CENTRE, None, {"alert_wait_minutes": "45"})
    assert store.centre(db, CENTRE)["settings"]["alert_wait_minutes"] == 45
