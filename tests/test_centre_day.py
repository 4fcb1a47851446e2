"""A real centre's day against the real server process, as a new user would try it (issue 11's checks):
a counter shared by two services, transfers that never strand a ticket, a phone following its ticket,
and the day's close."""
from __future__ import annotations

import threading
import time

import requests
import socketio


def post(url: str, headers: dict, json=None) -> requests.Response:
    return requests.post(url, headers=headers, json=json, timeout=10)


def test_one_counter_two_services_transfers_a_following_phone_and_the_days_close(live_server):
    base, kiosk = live_server.url, live_server.kiosk
    counter5 = live_server.login("quay5")  # Quầy 5 serves KD and BTXH
    assert post(f"{base}/api/v1/counters/5/sign-in", counter5).status_code == 200

    # five KD tickets wait; a BTXH newcomer is told it comes after them, with a wait
    kd = [post(f"{base}/api/v1/tickets", kiosk, {"service": "KD"}).json() for _ in range(5)]
    newcomer = post(f"{base}/api/v1/tickets", kiosk, {"service": "BTXH"}).json()
    assert newcomer["position"] >= 5 and newcomer["estimated_wait_s"] > 0
    low, high = newcomer["estimated_wait_range_s"]
    assert low <= newcomer["estimated_wait_s"] <= high
    # a service no open counter serves says so instead of a number
    services = {s["code"]: s for s in requests.get(f"{base}/api/v1/services", timeout=10).json()}
    assert services["DD"]["estimated_wait_s"] is None and services["KD"]["estimated_wait_s"] == \
        services["BTXH"]["estimated_wait_s"]

    # the citizen follows the BTXH ticket on a phone; a call moves it up without the phone asking
    updates = []
    moved = threading.Event()
    phone = socketio.Client(reconnection=False)

    @phone.on("ticket_updated")
    def on_update(data):
        updates.append(data)
        if data["position"] < newcomer["position"]:
            moved.set()
    phone.connect(base, transports=["websocket"], wait_timeout=10)
    try:
        assert phone.call("track", newcomer["track_key"], timeout=10) == {"ok": True}
        first = post(f"{base}/api/v1/counters/5/call-next", counter5).json()["ticket"]
        assert first["id"] == kd[0]["id"]
        assert moved.wait(5), updates
        assert updates[-1]["estimated_wait_s"] is not None and updates[-1]["position"] == newcomer["position"] - 1
    finally:
        phone.disconnect()

    # a transfer to a closed counter is refused; to an open one it waits there
    refused = post(f"{base}/api/v1/tickets/{first['id']}/transfer", counter5, {"counter": 4})
    assert refused.status_code == 409 and refused.json()["code"] == "counter_closed" and refused.json()["error"]
    counter1 = live_server.login("quay1")
    assert post(f"{base}/api/v1/counters/1/sign-in", counter1).status_code == 200
    assert post(f"{base}/api/v1/tickets/{first['id']}/transfer", counter5, {"counter": 1}).status_code == 200
    # counter 1 signs out: the ticket goes back to KD at its place, and counter 5 calls it next
    assert post(f"{base}/api/v1/counters/1/sign-out", counter1).status_code == 200
    again = post(f"{base}/api/v1/counters/5/call-next", counter5).json()["ticket"]
    assert again["id"] == first["id"] and again["number"] == first["number"]

    # the manager closes the day: every open ticket expires and nothing is called afterwards
    admin = live_server.login("admin")
    closed = post(f"{base}/api/v1/day/close", admin)
    assert closed.status_code == 200 and closed.json()["expired"] == 6  # the called one and the five waiting
    assert post(f"{base}/api/v1/counters/5/call-next", counter5).json()["ticket"] is None
    assert requests.get(f"{base}/api/v1/tickets/{newcomer['id']}", headers=kiosk, timeout=10).json()["status"] \
        == "expired"
    assert post(f"{base}/api/v1/day/close", counter5).status_code == 403
    time.sleep(0.1)
    assert "Traceback" not in live_server.read_log()
