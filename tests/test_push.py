"""Held-back waiting counts (web.NewestSummary, LUOT_QUEUE_PUSH_MS): screens get `queue_changed`
at most once per interval, made when it is sent so it shows the newest state, and a call's
`ticket_called` goes out ahead of it."""
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


CHANGED = Event("queue_changed", {}, ("*",))


class Waiting:
    """Stands in for the database: the summary shows the count as it is when it is made."""

    def __init__(self):
        self.count, self.made = 0, 0

    def summarise(self):
        self.made += 1
        return {"services": [{"code": "TP", "waiting": self.count}]}


def counts(recorder):
    return [payload["services"][0]["waiting"] for payload in recorder.payloads()]


def wait_for(condition, timeout=5.0):
    deadline = time.monotonic() + timeout
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.01)
    return condition()


def test_a_burst_becomes_one_summary_made_when_sent_one_interval_after_it_began():
    recorder, waiting = Recorder(), Waiting()
    summaries = web.NewestSummary(0.2, waiting.summarise, emit=recorder)
    began = time.monotonic()
    for _ in range(20):
        waiting.count += 1
        summaries.push(CHANGED)
    assert recorder.sent == [] and waiting.made == 0  # held back, nothing queried yet
    waiting.count += 1  # a change still inside the interval is in the summary
    assert wait_for(lambda: recorder.sent)
    time.sleep(0.3)
    assert counts(recorder) == [21] and waiting.made == 1
    assert 0.19 <= recorder.sent[0][0] - began < 1.0
    assert recorder.sent[0][1].rooms == ("*",) and recorder.sent[0][1].name == "queue_changed"
    waiting.count = 3
    summaries.push(CHANGED)  # the next change starts a new interval
    assert wait_for(lambda: len(recorder.sent) == 2)
    assert counts(recorder) == [21, 3]


def test_interval_zero_sends_each_change_at_once():
    recorder, waiting = Recorder(), Waiting()
    summaries = web.NewestSummary(0, waiting.summarise, emit=recorder)
    for count in (1, 2, 3):
        waiting.count = count
        summaries.push(CHANGED)
        assert counts(recorder)[-1] == count
    assert waiting.made == 3


def test_a_failed_send_is_logged_and_the_next_change_is_sent(caplog):
    waiting, sent = Waiting(), []

    def flaky(event):
        if not sent:
            sent.append(None)
            raise ConnectionError("message queue down")
        sent.append(event)
    summaries = web.NewestSummary(0.05, waiting.summarise, emit=flaky)
    summaries.push(CHANGED)
    assert wait_for(lambda: len(sent) == 1)
    waiting.count = 2
    summaries.push(CHANGED)
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


def test_the_interval_grows_with_the_audience_so_summaries_never_fill_the_worker():
    audience = [0]
    summaries = web.NewestSummary(0.25, lambda: {}, emit=lambda event: None, audience=lambda: audience[0])
    assert summaries.current_interval() == 0.25
    audience[0] = 1000
    assert summaries.current_interval() == 0.25
    audience[0] = 5000
    assert summaries.current_interval() == pytest.approx(1.0)
    assert web.NewestSummary(0.25, lambda: {}).current_interval() == 0.25  # nobody counted
