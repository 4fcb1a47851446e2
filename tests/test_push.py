"""Held-back waiting counts (web.NewestSummary, LUOT_QUEUE_PUSH_MS): screens get the newest
`queue_changed` once per interval, never an older state after a newer one, and a call's
`ticket_called` goes out ahead of them."""
from __future__ import annotations

import threading
import time

import pytest
import requests
import socketio

import web
from queueing.model import Event
from server import queue_push_interval
from tests.conftest import make_app


class Recorder:
    def __init__(self):
        self.sent: list[tuple[float, Event]] = []
        self.lock = threading.Lock()

    def __call__(self, event):
        with self.lock:
            self.sent.append((time.monotonic(), event))

    def payloads(self):
        return [event.payload for _, event in self.sent]


def summary(waiting: int) -> Event:
    return Event("queue_changed", {"services": [{"code": "TP", "waiting": waiting}]}, ("*",))


def wait_for(condition, timeout=5.0):
    deadline = time.monotonic() + timeout
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.01)
    return condition()


def test_a_burst_becomes_one_message_with_the_newest_state_one_interval_after_it_began():
    recorder = Recorder()
    summaries = web.NewestSummary(0.2, emit=recorder)
    began = time.monotonic()
    for waiting in range(1, 21):
        summaries.push(summary(waiting))
    assert recorder.sent == []  # held back
    assert wait_for(lambda: recorder.sent)
    time.sleep(0.3)
    assert recorder.payloads() == [{"services": [{"code": "TP", "waiting": 20}]}]
    assert 0.19 <= recorder.sent[0][0] - began < 1.0
    summaries.push(summary(21))  # the next change starts a new interval
    assert wait_for(lambda: len(recorder.sent) == 2)
    assert recorder.payloads()[-1]["services"][0]["waiting"] == 21


def test_an_older_state_never_follows_a_newer_one():
    recorder = Recorder()
    summaries = web.NewestSummary(0.1, emit=recorder)
    older, newer = summary(5), summary(4)  # made in this order, inside their transactions ...
    summaries.push(newer)  # ... but published in the other order
    summaries.push(older)
    assert wait_for(lambda: recorder.sent)
    summaries.push(older)  # and once more after the newer one went out
    time.sleep(0.3)
    assert recorder.payloads() == [newer.payload]


def test_interval_zero_sends_each_at_once():
    recorder = Recorder()
    summaries = web.NewestSummary(0, emit=recorder)
    for waiting in (1, 2, 3):
        summaries.push(summary(waiting))
    assert [p["services"][0]["waiting"] for p in recorder.payloads()] == [1, 2, 3]


def test_a_failed_send_is_logged_and_the_next_change_is_sent(caplog):
    sent = []

    def flaky(event):
        if not sent:
            sent.append(None)
            raise ConnectionError("message queue down")
        sent.append(event)
    summaries = web.NewestSummary(0.05, emit=flaky)
    summaries.push(summary(1))
    assert wait_for(lambda: len(sent) == 1)
    summaries.push(summary(2))
    assert wait_for(lambda: len(sent) == 2) and sent[1].payload["services"][0]["waiting"] == 2
    assert "could not push queue_changed" in caplog.text


@pytest.mark.parametrize("value", ["abc", "-1", "20000"])
def test_a_bad_interval_stops_the_server_with_a_clear_message(value):
    with pytest.raises(SystemExit, match="LUOT_QUEUE_PUSH_MS"):
        queue_push_interval({"QUEUE_PUSH_MS": value})
    assert queue_push_interval({"QUEUE_PUSH_MS": "250"}) == 0.25


def test_in_the_app_a_call_reaches_displays_before_the_waiting_counts(tmp_path, clock, app_instance_template):
    app = make_app(tmp_path / "instance", app_instance_template, clock, queue_push_ms=200)
    display = web.socketio.test_client(app)
    display.get_received()
    http = app.test_client()
    kiosk = {"Authorization": "Bearer " + app.credentials.kiosk_token}
    clerk = {"Authorization": "Bearer " + http.post("/api/v1/auth/login", json={
        "username": "quay1", "password": app.credentials.passwords["quay1"]}).json["token"]}
    http.post("/api/v1/counters/1/sign-in", headers=clerk)
    for _ in range(10):
        assert http.post("/api/v1/tickets", json={"service": "TP"}, headers=kiosk).status_code == 201
    called = http.post("/api/v1/counters/1/call-next", headers=clerk).json["ticket"]
    now = [m["name"] for m in display.get_received()]
    assert "ticket_called" in now and "queue_changed" not in now  # the call went out at once, alone
    time.sleep(0.5)  # the held-back summary goes out
    later = [m for m in display.get_received() if m["name"] == "queue_changed"]
    assert len(later) == 1  # sign-in, 10 tickets and the call: one message
    waiting = {s["code"]: s["waiting"] for s in later[0]["args"][0]["services"]}
    assert waiting["TP"] == 9 and called["number"].startswith("A")


def test_live_server_kiosk_burst_costs_each_screen_a_few_messages_ending_in_the_true_count(live_server):
    counts = []
    display = socketio.Client(reconnection=False)
    display.on("queue_changed", lambda data: counts.append(sum(s["waiting"] for s in data["services"])))
    display.connect(live_server.url, transports=["websocket"], wait_timeout=10)
    try:
        kiosk = requests.Session()
        kiosk.headers.update(live_server.kiosk)
        began = time.monotonic()
        for index in range(30):
            answer = kiosk.post(live_server.url + "/api/v1/tickets", json={"service": ["TP", "DD", "CT"][index % 3]},
                                timeout=10)
            assert answer.status_code == 201, answer.text
        took = time.monotonic() - began
        assert wait_for(lambda: counts and counts[-1] == 30), counts
        time.sleep(0.5)
        assert counts[-1] == 30
        assert counts == sorted(counts)  # never an older count after a newer one
        assert len(counts) <= took / 0.25 + 2, (len(counts), took)  # one per interval, not one per ticket
    finally:
        display.disconnect()
