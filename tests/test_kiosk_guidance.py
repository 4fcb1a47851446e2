"""The kiosk's "Nghe hướng dẫn": each screen's choices read aloud as a WAV by real espeak-ng (issue 17)."""
from __future__ import annotations

import io
import wave
from pathlib import Path

import pytest

from kiosk.guidance import guidance_text
from queueing.model import QueueError
from tests.conftest import make_app
from tests.test_announcements import rms


@pytest.fixture
def speaking_app(tmp_path, clock, app_instance_template):
    application = make_app(tmp_path / "instance", app_instance_template, clock, tts="espeak")
    yield application
    application.extensions["luot_announcer"].stop()


def test_the_home_screen_lists_its_services_in_screen_order_and_the_entry_choices():
    text = guidance_text("home", "vi", ["Tư pháp – Hộ tịch", "Chứng thực"], [], ["result"])
    assert text.index("Tư pháp – Hộ tịch") < text.index("Chứng thực")
    assert "Nhận kết quả" in text and "lịch hẹn" not in text  # only the buttons the screen shows
    assert "nói" not in text  # the kiosk cannot listen: no promise of speech input
    priority = guidance_text("priority", "en", [], ["Elderly", "Disabled"])
    assert "No, a normal ticket" in priority and "Elderly; Disabled" in priority
    assert "A không không mười hai" in guidance_text("ticket", "vi", [], [], number="A0012")


@pytest.mark.parametrize("screen, number", [("elsewhere", None), ("ticket", "<script>"), ("ticket", "A" * 40)])
def test_bad_screens_and_numbers_are_refused(screen, number):
    with pytest.raises(QueueError):
        guidance_text(screen, "vi", [], [], number=number)


def test_the_guidance_is_a_spoken_wav_cached_by_its_text(speaking_app):
    client = speaking_app.test_client()
    first = client.get("/kiosk/guidance.wav?screen=home&lang=vi&choices=appointment,result")
    assert first.status_code == 200 and first.mimetype == "audio/wav"
    with wave.open(io.BytesIO(first.data)) as clip:
        assert clip.getnchannels() == 1 and clip.getsampwidth() == 2
        assert clip.getnframes() / clip.getframerate() > 5  # eleven services read out
        assert rms(clip.readframes(clip.getnframes())) > 100
    cached = list(Path(speaking_app.instance_path).rglob("*.wav"))
    again = client.get("/kiosk/guidance.wav?screen=home&lang=vi&choices=appointment,result",
                       headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304  # the same text is the same file: nothing synthesised again
    assert len(list(Path(speaking_app.instance_path).rglob("*.wav"))) == len(cached)
    priority = client.get("/kiosk/guidance.wav?screen=priority&lang=en")
    assert priority.status_code == 200 and priority.data != first.data


@pytest.mark.parametrize("query, code", [("screen=nowhere", "bad_screen"), ("lang=fr", "bad_lang"),
                                         ("choices=lottery", "bad_choices"), ("screen=ticket&number=%3Cb%3E", "bad_number")])
def test_bad_guidance_requests_are_4xx_json(client, query, code):
    response = client.get("/kiosk/guidance.wav?" + query)
    assert response.status_code == 400 and response.get_json()["code"] == code


def test_with_speech_off_the_guidance_says_so(client):
    response = client.get("/kiosk/guidance.wav?screen=home")
    assert response.status_code == 404 and response.get_json()["code"] == "speech_off"
