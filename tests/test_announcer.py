"""The announcer with the real pyttsx3 + espeak-ng engine, and the chime."""
import array
import math
import threading
import wave
from pathlib import Path

import pytest

import display.announcer
from display.announcer import Announcer, NullAnnouncer

ROOT = Path(__file__).resolve().parent.parent
SENTENCE = "Xin mời công dân có số thứ tự A không mười hai đến quầy số ba."
# Silence has an RMS of 0 and espeak speech ~2000-4000; a broken synthesis is near zero.
RMS_FLOOR = 500

pytestmark = pytest.mark.timeout(120)


@pytest.fixture
def announcer(tmp_path):
    announcer = Announcer(tmp_path / "speech")
    announcer.start()
    yield announcer
    announcer.stop()


def read_pcm(path: Path) -> tuple:
    """Return a WAV file's parameters and its 16-bit samples."""
    with wave.open(str(path), "rb") as audio:
        params = audio.getparams()
        samples = array.array("h", audio.readframes(params.nframes))
    return params, samples


def rms(samples: array.array) -> float:
    """Return the root mean square of the samples."""
    return math.sqrt(sum(sample * sample for sample in samples) / len(samples))


def test_announcement_is_synthesised_as_16_bit_mono_speech(announcer):
    key = announcer.request(SENTENCE, "vi")
    assert len(key) == 24 and set(key) <= set("0123456789abcdef")

    path = announcer.wav_path(key, timeout=30)

    assert path == announcer.cache_dir / f"{key}.wav"
    params, samples = read_pcm(path)
    assert (params.nchannels, params.sampwidth, params.comptype) == (1, 2, "NONE")
    assert params.nframes / params.framerate > 1.0
    assert rms(samples) > RMS_FLOOR
    # Only the finished file is left: the partial one was renamed into place.
    assert [entry.name for entry in announcer.cache_dir.iterdir()] == [path.name]


def test_english_voice_speaks_too(announcer):
    key = announcer.request("Ticket number A, zero one two, please proceed to counter three.", "en")
    params, samples = read_pcm(announcer.wav_path(key, timeout=30))
    assert params.nframes / params.framerate > 1.0 and rms(samples) > RMS_FLOOR


def test_cached_sentence_returns_the_same_key_without_synthesising_again(announcer):
    key = announcer.request(SENTENCE, "vi")
    path = announcer.wav_path(key, timeout=30)
    written = (path.stat().st_ino, path.stat().st_mtime_ns)

    assert announcer.request(SENTENCE, "vi") == key
    announcer.stop()  # finishes anything queued, so a second synthesis would show now
    assert (path.stat().st_ino, path.stat().st_mtime_ns) == written


def test_key_depends_on_language_and_rate(tmp_path, announcer):
    slower = Announcer(tmp_path / "slower", enabled=True, rate=120)
    assert announcer.request("ba", "vi") != announcer.request("ba", "en")
    assert slower.request("ba", "vi") != announcer.request("ba", "vi")


def test_requests_from_many_threads_all_produce_files(announcer):
    keys = []
    keys_lock = threading.Lock()

    def call_counter(thread_number: int) -> None:
        for call_number in range(2):
            text = f"Xin mời số A không {thread_number} {call_number} đến quầy số {thread_number}."
            key = announcer.request(text, "vi")
            with keys_lock:
                keys.append(key)

    threads = [threading.Thread(target=call_counter, args=(number,)) for number in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(set(keys)) == 10
    paths = [announcer.wav_path(key, timeout=30) for key in keys]
    assert all(path is not None for path in paths)
    assert all(rms(read_pcm(path)[1]) > RMS_FLOOR for path in paths)


def test_blank_text_is_not_sent_to_the_engine(announcer):
    assert announcer.request("  ", "vi") is None


def test_disabled_and_null_announcers_return_none(tmp_path):
    disabled = Announcer(tmp_path / "off", enabled=False)
    disabled.start()
    assert disabled.request(SENTENCE, "vi") is None
    disabled.stop()
    assert not (tmp_path / "off").exists()

    null = NullAnnouncer()
    null.start()
    assert null.request(SENTENCE, "vi") is None
    assert null.wav_path("0" * 24) is None
    null.stop()


@pytest.mark.parametrize(
    "key", ["../../etc/passwd", "../" + "0" * 21, "0" * 23, "0" * 25, "G" * 24, "A" * 24, "", None]
)
def test_bad_keys_return_none(announcer, key):
    assert announcer.wav_path(key, timeout=0.1) is None


def test_unknown_key_returns_none_without_waiting(announcer):
    assert announcer.wav_path("0" * 24, timeout=30) is None


def test_failing_engine_is_logged_and_the_thread_keeps_working(announcer, monkeypatch, caplog):
    real_new_engine = announcer._new_engine
    attempts = []

    def engine_missing_once():
        attempts.append(1)
        if len(attempts) == 1:
            raise OSError("libespeak-ng.so.1: cannot open shared object file")
        return real_new_engine()

    monkeypatch.setattr(announcer, "_new_engine", engine_missing_once)

    failed_key = announcer.request(SENTENCE, "vi")
    assert announcer.wav_path(failed_key, timeout=30) is None
    assert "could not be synthesised" in caplog.text

    working_key = announcer.request("Xin mời số B một trăm.", "vi")
    assert announcer.wav_path(working_key, timeout=30) is not None
    retried_key = announcer.request(SENTENCE, "vi")
    assert retried_key == failed_key
    assert announcer.wav_path(retried_key, timeout=30) is not None


def test_unknown_voice_is_an_error_not_a_silent_fallback(announcer, monkeypatch):
    monkeypatch.setitem(display.announcer.VOICES, "xx", "no-such-voice")
    key = announcer.request("hello", "xx")
    assert announcer.wav_path(key, timeout=30) is None
    assert announcer.wav_path(announcer.request(SENTENCE, "vi"), timeout=30) is not None


def test_unknown_language_is_refused(announcer):
    with pytest.raises(ValueError):
        announcer.request(SENTENCE, "fr")


def test_chime_is_a_short_16_bit_mono_ding_dong():
    params, samples = read_pcm(ROOT / "static" / "sounds" / "chime.wav")
    assert (params.nchannels, params.sampwidth, params.comptype) == (1, 2, "NONE")
    assert 0.8 <= params.nframes / params.framerate <= 1.5
    assert rms(samples) > RMS_FLOOR
    assert max(abs(sample) for sample in samples) < 32767  # no clipping


def test_cancelled_utterance_is_synthesised_again(announcer, monkeypatch, caplog):
    real_speak_to_file = announcer._speak_to_file
    calls = []

    def cancelled_after_warm_up(engine, spoken, path):
        calls.append(spoken)
        completed = real_speak_to_file(engine, spoken, path)
        # The warm-up is the first call; pretend pyttsx3 cancelled the announcement after it.
        return completed and len(calls) != 2

    monkeypatch.setattr(announcer, "_speak_to_file", cancelled_after_warm_up)

    key = announcer.request(SENTENCE, "vi")

    path = announcer.wav_path(key, timeout=30)
    assert path is not None and rms(read_pcm(path)[1]) > RMS_FLOOR
    assert len(calls) == 3
    assert "synthesising it again" in caplog.text


def test_the_centres_voice_and_rate_change_what_is_heard(announcer):
    """The `voice` and `voice_rate` settings reach the engine: a slower rate is a longer WAV, another
    Vietnamese voice other audio, and each has its own cache entry."""
    normal = announcer.request(SENTENCE, "vi", voice="vi", rate=150)
    slow = announcer.request(SENTENCE, "vi", voice="vi", rate=90)
    southern = announcer.request(SENTENCE, "vi", voice="vi-vn-x-south", rate=150)
    assert len({normal, slow, southern}) == 3
    durations = {}
    for name, key in (("normal", normal), ("slow", slow), ("southern", southern)):
        params, samples = read_pcm(announcer.wav_path(key, timeout=30))
        assert rms(samples) > RMS_FLOOR
        durations[name] = (params.nframes / params.framerate, bytes(samples))
    assert durations["slow"][0] > durations["normal"][0] * 1.3
    assert durations["southern"][1] != durations["normal"][1]
    # an unknown voice falls back to the default one rather than failing the call
    assert announcer.request(SENTENCE, "vi", voice="klingon", rate=150) == normal
