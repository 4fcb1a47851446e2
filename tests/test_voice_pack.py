"""The recorded voice pack (issue 19): segments from the configuration, clips checked on upload, the pack
switched on only when complete, and a call's audio made of the uploaded clips only, in the sentence's order.

Clips are synthetic tones, one frequency per segment, so the output's sections say which clip they are.
"""
from __future__ import annotations

import io
import math
import struct
import wave

import web
from tests.conftest import make_app
from tests.test_announcements import login as login_with, speaking_app  # noqa: F401 (fixture)


def login(client, app, username):
    return login_with(client, app.credentials, username)


def tone_wav(frequency: float, seconds: float = 0.3, rate: int = 44100, channels: int = 1,
             amplitude: float = 0.5) -> bytes:
    """A sine tone as a 16-bit WAV (44.1 kHz: the pack resamples it to its own rate)."""
    count = int(seconds * rate)
    samples = [int(amplitude * 32767 * math.sin(2 * math.pi * frequency * i / rate)) for i in range(count)]
    frames = struct.pack(f"<{count * channels}h", *(s for s in samples for _ in range(channels)))
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as audio:
        audio.setnchannels(channels)
        audio.setsampwidth(2)
        audio.setframerate(rate)
        audio.writeframes(frames)
    return buffer.getvalue()


def sections(wav: bytes) -> list[float]:
    """The frequency of each sounding section of a WAV, sections split at runs of ≥ 10 ms of exact silence."""
    with wave.open(io.BytesIO(wav)) as audio:
        assert (audio.getnchannels(), audio.getsampwidth()) == (1, 2)
        rate = audio.getframerate()
        samples = struct.unpack(f"<{audio.getnframes()}h", audio.readframes(audio.getnframes()))
    found, current, quiet = [], [], 0
    for sample in list(samples) + [0] * rate:
        if sample == 0:
            quiet += 1
            if quiet >= rate // 100 and current:
                found.append(current)
                current = []
            if current:
                current.append(sample)
        else:
            quiet = 0
            current.append(sample)
    frequencies = []
    for section in found:
        while section and section[-1] == 0:
            section.pop()
        crossings = sum(1 for a, b in zip(section, section[1:]) if (a < 0) != (b < 0))
        frequencies.append(crossings / 2 / (len(section) / rate))
    return frequencies


def frequency_of(index: int) -> float:
    return 220.0 + 70.0 * index


def upload_all(client, admin, segments, skip=()):
    for index, segment in enumerate(segments):
        if segment["key"] in skip:
            continue
        response = client.put(f"/api/v1/admin/voice-pack/{segment['key']}", data=tone_wav(frequency_of(index)),
                              headers={**admin, "Content-Type": "audio/wav"})
        assert response.status_code == 200, response.get_json()
        assert response.get_json()["recorded"] is True and 0.3 <= response.get_json()["duration_s"] <= 0.4


def test_a_call_with_the_pack_on_is_made_of_the_uploaded_clips_only_in_order(speaking_app):  # noqa: F811
    client, app = speaking_app.test_client(), speaking_app
    admin = login(client, app, "admin")
    pack = client.get("/api/v1/admin/voice-pack", headers=admin).get_json()
    assert pack["enabled"] is False and not any(s["recorded"] for s in pack["segments"])
    segments = pack["segments"]
    texts = [s["text"] for s in segments]
    # The closed list: the template's phrases, the prefixes' letter names and the number words.
    assert {"xin mời công dân có số thứ tự", "đến quầy số", "xin mời lần thứ", "a", "bê", "không", "mười",
            "mươi", "lăm", "mốt", "tư", "trăm", "linh", "nghìn"} <= set(texts)

    # Not every segment recorded: the pack cannot be switched on.
    upload_all(client, admin, segments, skip={segments[-1]["key"]})
    refused = client.patch("/api/v1/admin/settings", json={"voice": "pack"}, headers=admin)
    assert refused.status_code == 400 and refused.get_json()["code"] == "voice_pack_incomplete"
    assert segments[-1]["text"] in refused.get_json()["error"]

    upload_all(client, admin, segments)
    assert client.get("/api/v1/admin/voice-pack", headers=admin).get_json()["complete"] is True
    switched = client.patch("/api/v1/admin/settings", json={"voice": "pack"}, headers=admin)
    assert switched.status_code == 200 and switched.get_json()["voice"] == "pack"
    assert client.get("/api/v1/admin/voice-pack", headers=admin).get_json()["enabled"] is True

    display = web.socketio.test_client(app)
    display.get_received()
    kiosk = {"Authorization": "Bearer " + app.credentials.kiosk_token}
    number = client.post("/api/v1/tickets", json={"service": "TP"}, headers=kiosk).get_json()["number"]
    clerk = login(client, app, "quay2")
    client.post("/api/v1/counters/2/sign-in", headers=clerk)
    ticket = client.post("/api/v1/counters/2/call-next", headers=clerk).get_json()["ticket"]
    assert client.post(f"/api/v1/tickets/{ticket['id']}/recall", json={}, headers=clerk).status_code == 200
    calls = [m["args"][0] for m in display.get_received() if m["name"] == "ticket_called"]
    assert [c["recall"] for c in calls] == [False, True]
    assert number == "A001"
    expected = {
        False: ["xin mời công dân có số thứ tự", "a", "không", "không", "một", "đến quầy số", "hai"],
        True: ["xin mời lần thứ", "hai", "công dân có số thứ tự", "a", "không", "không", "một", "đến quầy số", "hai"],
    }
    for call in calls:
        response = client.get(call["announcement"]["audio_url"])
        assert response.status_code == 200 and response.mimetype == "audio/wav"
        heard = sections(response.data)
        assert len(heard) == len(expected[call["recall"]]), heard
        for frequency, text in zip(heard, expected[call["recall"]]):
            assert abs(frequency - frequency_of(texts.index(text))) < 10, (frequency, text)

    # The kiosk's greeting is closed phrases: the pack speaks it too.
    greeting = client.get("/api/v1/assistant/greeting").get_json()
    heard = sections(client.get(greeting["audio_url"]).data)
    phrases = ["chào buổi sáng", "ông bà cần làm thủ tục gì", "hãy chạm vào lĩnh vực hoặc gõ nhu cầu", "ví dụ",
               "làm giấy khai sinh"]
    assert len(heard) == len(phrases), heard
    for frequency, text in zip(heard, phrases):
        assert abs(frequency - frequency_of(texts.index(text))) < 10, (frequency, text)
    # What the pack cannot say whole (the assistant's free answer) is still spoken, by espeak-ng.
    answer = client.post("/api/v1/assistant/ask", json={"text": "đăng ký khai sinh"}, headers=kiosk).get_json()
    spoken = client.get(answer["audio_url"])
    assert spoken.status_code == 200 and len(sections(spoken.data)) > 0

    back = client.patch("/api/v1/admin/settings", json={"voice": "vi"}, headers=admin)
    assert back.status_code == 200 and back.get_json()["voice"] == "vi"


def test_bad_clips_are_refused_with_a_clear_400(app, client, api):
    admin = api.headers("admin")
    key = client.get("/api/v1/admin/voice-pack", headers=admin).get_json()["segments"][0]["key"]
    wav = {**admin, "Content-Type": "audio/wav"}
    cases = {
        "not_wav": b"this is not audio at all",
        "too_long": tone_wav(440, seconds=10.5, rate=8000),
        "silent": tone_wav(440, amplitude=0.0),
        "too_large": tone_wav(440, seconds=6, rate=96000, channels=2),  # 2.3 MB, under 10 s
    }
    for code, body in cases.items():
        response = client.put(f"/api/v1/admin/voice-pack/{key}", data=body, headers=wav)
        assert response.status_code == 400, (code, response.get_json())
        assert response.get_json()["code"] == code and response.get_json()["error"]
    assert client.put("/api/v1/admin/voice-pack/no-such-segment", data=tone_wav(440), headers=wav).status_code == 404
    assert client.put(f"/api/v1/admin/voice-pack/{key}", data=tone_wav(440),
                      headers={"Content-Type": "audio/wav"}).status_code == 401
    assert client.put(f"/api/v1/admin/voice-pack/{key}", data=tone_wav(440),
                      headers={**admin, "Content-Type": "text/plain"}).status_code == 415
    pack = client.get("/api/v1/admin/voice-pack", headers=admin).get_json()
    assert not any(segment["recorded"] for segment in pack["segments"])


def test_export_then_import_round_trips_the_pack(tmp_path, clock, app_instance_template, app, client, api):
    admin = api.headers("admin")
    segments = client.get("/api/v1/admin/voice-pack", headers=admin).get_json()["segments"]
    for index, segment in enumerate(segments[:5]):
        client.put(f"/api/v1/admin/voice-pack/{segment['key']}", data=tone_wav(frequency_of(index)),
                   headers={**admin, "Content-Type": "audio/wav"})
    exported = client.get("/api/v1/admin/voice-pack/export", headers=admin)
    assert exported.status_code == 200 and exported.mimetype == "application/zip"
    clips = {s["key"]: client.get(f"/api/v1/admin/voice-pack/{s['key']}", headers=admin).data for s in segments[:5]}

    other = make_app(tmp_path / "other", app_instance_template, clock)
    other_client = other.test_client()
    other_admin = login(other_client, other, "admin")
    assert other_client.post("/api/v1/admin/voice-pack/import", data=b"not a zip",
                             headers={**other_admin, "Content-Type": "application/zip"}).get_json()["code"] == "not_zip"
    imported = other_client.post("/api/v1/admin/voice-pack/import", data=exported.data,
                                 headers={**other_admin, "Content-Type": "application/zip"})
    assert imported.status_code == 200 and sorted(imported.get_json()["imported"]) == sorted(clips)
    pack = other_client.get("/api/v1/admin/voice-pack", headers=other_admin).get_json()
    assert {s["key"] for s in pack["segments"] if s["recorded"]} == set(clips)
    for key, audio in clips.items():
        assert other_client.get(f"/api/v1/admin/voice-pack/{key}", headers=other_admin).data == audio


def test_segments_follow_the_configuration_and_a_sentence_the_pack_lacks_is_not_planned():
    from queueing import voice_pack
    segments = voice_pack.pack_segments({"announcement_template": "Mời số {so}, tới {ten_quay}.", "recall_limit": 1},
                                        ["Đ", "Y"], [(3, "Quầy hộ tịch"), (27, "Bàn tiếp nhận")])
    texts = [segment.text for segment in segments]
    # The custom template's phrases, the prefixes' letter names, the counters' names it speaks.
    assert {"mời số", "tới", "đê", "i dài", "quầy hộ tịch", "bàn tiếp nhận"} <= set(texts)
    assert "xin mời công dân có số thứ tự" not in texts and "bảy" in texts  # counter 27 is read "hai mươi bảy"
    assert len({segment.key for segment in segments}) == len(segments)  # keys tell "mười" from "mươi"
    clips = [{"key": s.key, "text": s.text} for s in segments]
    planned = voice_pack.plan("Mời số Y không hai mươi bảy, tới Quầy hộ tịch.", clips)
    assert [key for key, _ in planned] == [voice_pack.segment_key(t) for t in
                                           ("mời số", "i dài", "không", "hai", "mươi", "bảy", "tới", "quầy hộ tịch")]
    assert [pause for _, pause in planned][5] is True  # the comma after "bảy" is a longer gap
    assert voice_pack.plan("Mời số Q không một, tới Quầy hộ tịch.", clips) is None  # no "quy" clip: espeak-ng says it


def test_numbers_get_pauses_either_side_for_espeak():
    from queueing.speech_vi import with_pauses_vi
    assert (with_pauses_vi("Xin mời công dân có số thứ tự A không mười hai đến quầy số ba.")
            == "Xin mời công dân có số thứ tự, A không mười hai, đến quầy số, ba.")
    assert with_pauses_vi("Chào buổi sáng! Ông/Bà cần làm thủ tục gì?") == "Chào buổi sáng! Ông/Bà cần làm thủ tục gì?"
