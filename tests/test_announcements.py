"""Calls reach the display in order, with real espeak-ng audio served as WAV."""
from __future__ import annotations

import io
import math
import struct
import wave

import pytest

import web
from tests.conftest import make_app


@pytest.fixture
def speaking_app(tmp_path, clock, app_instance_template):
    application = make_app(tmp_path / "instance", app_instance_template, clock, tts="espeak")
    yield application
    application.extensions["luot_announcer"].stop()


def login(client, credentials, username):
    response = client.post("/api/v1/auth/login", json={"username": username,
                                                       "password": credentials.passwords[username]})
    return {"Authorization": "Bearer " + response.get_json()["token"]}


def rms(frames: bytes) -> float:
    samples = struct.unpack(f"<{len(frames) // 2}h", frames)
    return math.sqrt(sum(s * s for s in samples) / max(1, len(samples)))


def test_each_call_is_announced_with_valid_non_silent_audio_in_call_order(speaking_app):
    client = speaking_app.test_client()
    credentials = speaking_app.credentials
    kiosk = {"Authorization": "Bearer " + credentials.kiosk_token}
    display = web.socketio.test_client(speaking_app)
    display.get_received()
    numbers = []
    for counter in (1, 2, 3):
        service = {1: "TP", 2: "TP", 3: "CA_CT"}[counter]
        numbers.append(client.post("/api/v1/tickets", json={"service": service}, headers=kiosk).get_json()["number"])
    for counter in (1, 2, 3):
        clerk = login(client, credentials, f"quay{counter}")
        client.post(f"/api/v1/counters/{counter}/sign-in", headers=clerk)
        client.post(f"/api/v1/counters/{counter}/call-next", headers=clerk)
    calls = [m["args"][0] for m in display.get_received() if m["name"] == "ticket_called"]
    assert [(c["number"], c["counter"]) for c in calls] == [(numbers[0], 1), (numbers[1], 2), (numbers[2], 3)]
    assert calls[2]["announcement"]["text"] == "Xin mời công dân có số thứ tự C không không một đến quầy số ba."
    assert calls[0]["announcement"]["repeat"] == 2
    for call in calls:
        response = client.get(call["announcement"]["audio_url"])
        assert response.status_code == 200 and response.mimetype == "audio/wav"
        with wave.open(io.BytesIO(response.data)) as audio:
            assert audio.getsampwidth() == 2 and audio.getnchannels() == 1
            duration = audio.getnframes() / audio.getframerate()
            frames = audio.readframes(audio.getnframes())
        assert duration > 1.0
        assert rms(frames) > 300


def test_without_tts_the_call_still_reaches_the_display(app, client, api):
    display = web.socketio.test_client(app)
    display.get_received()
    api.issue("TP")
    clerk = api.headers("quay1")
    client.post("/api/v1/counters/1/sign-in", headers=clerk)
    client.post("/api/v1/counters/1/call-next", headers=clerk)
    call = [m["args"][0] for m in display.get_received() if m["name"] == "ticket_called"][0]
    assert call["announcement"]["audio_url"] is None and call["announcement"]["text"]
    assert client.get("/audio/" + "0" * 24 + ".wav").status_code == 404
    assert client.get("/audio/../../etc/passwd.wav").status_code == 404
    assert client.get("/static/sounds/chime.wav").status_code == 200


def test_greeting_comes_with_voice(speaking_app):
    client = speaking_app.test_client()
    greeting = client.get("/api/v1/assistant/greeting").get_json()
    assert greeting["text"].startswith("Chào buổi sáng")  # the fixed clock is 08:00 local
    assert client.get(greeting["audio_url"]).status_code == 200


def test_a_call_is_announced_with_the_centres_voice_and_rate(db, clock):
    from queueing import admin, centre as centre_module
    from queueing.service import QueueService
    from tests.conftest import clerk_id, counter_id
    admin.update_settings(db, centre_module.DEMO_CENTRE_ID, None, {"voice": "vi-vn-x-south", "voice_rate": 120})
    queue = QueueService(db, centre_module.DEMO_CENTRE_ID, clock=clock)
    queue.issue_ticket("TP")
    counter, clerk = counter_id(db, 1), clerk_id(db, 1)
    queue.sign_in(counter, clerk)
    called = next(event for event in queue.call_next(counter, clerk).events if event.name == "ticket_called")
    assert (called.payload["announcement"]["voice"], called.payload["announcement"]["rate"]) == ("vi-vn-x-south", 120)
