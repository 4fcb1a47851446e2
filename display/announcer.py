"""Spoken announcements as cached WAV files, synthesised by one thread that owns the TTS engine.

Under gevent (the server, issue 12) that thread is the one OS thread of a private gevent ThreadPool:
espeak's C code runs there with the GIL released, never in a greenlet, so synthesis never stops the
hub, and a request waiting for its WAV waits on the job's AsyncResult (a greenlet, no thread).
Elsewhere (tests, tools) it is a plain thread fed by a queue.
"""
import hashlib
import logging
import os
import queue
import re
import tempfile
import threading
import time
import wave
from pathlib import Path

from queueing import store, voice_pack
from queueing.speech_vi import VIETNAMESE_VOICES, tts_text_vi, with_pauses_vi
from queueing.voice_pack import PACK_VOICE
from queueing.text import nfc

logger = logging.getLogger(__name__)

VOICES = {"vi": "vi", "en": "en"}
# espeak-ng speaks 175 words a minute by default. bench/bench_voice.py (an offline recognizer as the
# listener, bench/RESULTS.md) chose the rate and the pauses around numbers (speech_vi.with_pauses_vi).
DEFAULT_RATE = 130
ESPEAK_PAUSES = True
# Generous: a sentence takes ~20 ms, but a busy machine must not turn into a failed announcement.
SYNTHESIS_TIMEOUT_S = 15.0
# pyttsx3 cancels at most the first utterance after a fresh engine's start-up; 3 is ample.
SYNTHESIS_ATTEMPTS = 3
_KEY_PATTERN = re.compile(r"[0-9a-f]{24}")
# Synthesis ahead of a call (the likely next calls) waits while this many jobs are pending, so a real
# call's announcement waits behind at most this many (~20-30 ms each).
AHEAD_AT_ONCE = 2

# pyttsx3.init() hands every caller the same cached engine and espeak initialises once per
# process, so two Announcers would share one engine: only one may drive it at a time.
_ENGINE_LOCK = threading.Lock()


class Announcer:
    """Turn announcement text into WAV files; callers enqueue, one owner thread synthesises."""

    def __init__(self, cache_dir: Path, enabled: bool = True, rate: int | None = None, pack=None):
        self.cache_dir = Path(cache_dir)
        # The recorded voice (issue 19): a VoicePackSource, used for voice "pack" in Vietnamese.
        self.pack = pack
        self.enabled = enabled
        self.rate = DEFAULT_RATE if rate is None else rate
        self._jobs: queue.Queue[tuple[str, str, str] | None] = queue.Queue()
        self._changed = threading.Condition()
        self._pending: set[str] = set()
        self._utterance_finished = threading.Event()
        self._utterance_cancelled = threading.Event()
        self._engine_errors: list[Exception] = []
        self._thread: threading.Thread | None = None
        self._pool = None  # gevent: a ThreadPool of one OS thread, the engine's owner
        self._results: dict = {}  # gevent: key -> AsyncResult of its pending job
        self._engine = None
        self._connections: list = []

    def start(self) -> None:
        """Start the owner thread; requests made before it are synthesised once it runs."""
        if not self.enabled or self._thread is not None or self._pool is not None:
            return
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        from sockets import gevent_patched
        if gevent_patched():
            from gevent.threadpool import ThreadPool
            self._pool = ThreadPool(1)  # one OS thread, kept while idle: the engine never changes thread
            return
        # A daemon, so a forgotten stop() never keeps the server process alive.
        self._thread = threading.Thread(target=self._run, name="announcer", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Finish the queued requests and end the owner thread."""
        if self.pack is not None:
            self.pack.close()  # its idle connections; a later request opens new ones
        if self._pool is not None:
            self._pool.join()
            self._pool.spawn(self._release_engine).wait(timeout)
            self._pool.kill()
            self._pool = None
            return
        if self._thread is None:
            return
        self._jobs.put(None)
        self._thread.join(timeout)
        self._thread = None

    def request(self, text: str, lang: str, ahead: bool = False, voice: str | None = None,
                rate: int | None = None) -> str | None:
        """Return the cache key for text at once and queue its synthesis unless it is cached.

        Returns None when disabled or when text is blank: pyttsx3 never finishes an empty
        utterance, so it must not reach the engine. `ahead` (a likely next call, not a call) is
        queued only while fewer than AHEAD_AT_ONCE jobs are pending, else None.
        """
        if lang not in VOICES:
            raise ValueError(f"no voice for language {lang!r}; use one of {sorted(VOICES)}")
        if not self.enabled or not text.strip():
            return None
        if voice == PACK_VOICE and lang == "vi" and self.pack is not None:
            key = self._request_pack(text)
            if key is not None:
                return key
            voice = "vi"  # a sentence the pack cannot speak whole: espeak-ng's voice says it
        # The centre's `voice` and `voice_rate` settings (a Vietnamese voice applies to Vietnamese only).
        voice = voice if lang == "vi" and voice in VIETNAMESE_VOICES else VOICES[lang]
        rate = int(rate) if rate else self.rate
        spoken = tts_text_vi(with_pauses_vi(text) if ESPEAK_PAUSES else text) if lang == "vi" else nfc(text)
        # The key covers everything that changes the audio, so a new voice or rate never
        # serves a stale file.
        digest = hashlib.sha256(f"{lang}\n{voice}\n{rate}\n{spoken}".encode())
        key = digest.hexdigest()[:24]
        if self._cache_path(key).exists():
            return key
        with self._changed:
            if key in self._pending:
                return key
            if ahead and len(self._pending) >= AHEAD_AT_ONCE:
                return None
            self._pending.add(key)
        if self._pool is not None:
            result = self._pool.spawn(self._job, key, voice, spoken, rate)
            self._results[key] = result
            result.rawlink(lambda _result, key=key: self._finished(key))
        else:
            self._jobs.put((key, voice, spoken, rate))
        return key

    def _request_pack(self, text: str) -> str | None:
        """Join the recorded clips of text into its cached WAV at once (a concatenation, no synthesis);
        None when the pack lacks a word of it or cannot be read."""
        try:
            planned = self.pack.plan(text)
            if planned is None:
                return None
            # The clips' digests are in the key, so re-recording a segment never serves a stale file.
            key = hashlib.sha256("\n".join(["pack", *(f"{digest} {int(pause)}" for _, digest, pause in planned)])
                                 .encode()).hexdigest()[:24]
            path = self._cache_path(key)
            if not path.exists():
                self.cache_dir.mkdir(parents=True, exist_ok=True)
                audio = self.pack.audio([(clip, pause) for clip, _, pause in planned])
                descriptor, partial = tempfile.mkstemp(dir=self.cache_dir, prefix=f".{key}.", suffix=".partial")
                with os.fdopen(descriptor, "wb") as file:
                    file.write(audio)
                os.replace(partial, path)
            return key
        except Exception:
            logger.exception("the voice pack could not speak %r; espeak-ng will", text)
            return None

    def pending(self) -> int:
        """Jobs queued or running."""
        return len(self._pending)

    def _finished(self, key: str) -> None:
        with self._changed:
            self._pending.discard(key)
            self._results.pop(key, None)
            self._changed.notify_all()

    def wav_path(self, key: str, timeout: float = 5.0) -> Path | None:
        """Return the complete WAV for key, waiting up to timeout; None if unknown or failed.

        A failed key is simply no longer pending and has no file, so it answers None at once.
        """
        if not isinstance(key, str) or not _KEY_PATTERN.fullmatch(key):
            return None
        path = self._cache_path(key)
        if self._pool is not None:
            result = self._results.get(key)
            if result is not None:
                result.wait(timeout)  # this greenlet waits; the hub and the other requests go on
            return path if path.exists() else None
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                if path.exists():
                    return path
                remaining = deadline - time.monotonic()
                if key not in self._pending or remaining <= 0:
                    return None
                self._changed.wait(remaining)

    def _cache_path(self, key: str) -> Path:
        """Return where the finished WAV for key lives."""
        return self.cache_dir / f"{key}.wav"

    def _run(self) -> None:
        """Synthesise queued requests one by one until stop() sends None."""
        while (job := self._jobs.get()) is not None:
            key, voice, spoken, rate = job
            self._job(key, voice, spoken, rate)
            self._finished(key)
        self._release_engine()

    def _job(self, key: str, voice: str, spoken: str, rate: int | None = None) -> None:
        """Synthesise one announcement on the owner thread; a failure only costs this announcement."""
        try:
            with _ENGINE_LOCK:
                if self._engine is None:
                    self._engine = self._new_engine()
                    self._connections = self._listen_to(self._engine)
                    self._warm_up(self._engine)
                self._synthesise(self._engine, key, voice, spoken, rate or self.rate)
        except Exception:
            # Any TTS failure (espeak missing, engine error) only costs this announcement.
            logger.exception("announcement %s could not be synthesised: %r", key, spoken)

    def _release_engine(self) -> None:
        # The engine outlives this thread (pyttsx3 caches it), so it must stop calling us.
        for connection in self._connections:
            self._engine.disconnect(connection)
        self._connections = []
        self._engine = None

    def _new_engine(self):
        """Create the pyttsx3 engine on the owner thread, which alone will use it."""
        import pyttsx3  # imported here so LUOT_TTS=none never loads libespeak

        return pyttsx3.init("espeak")

    def _listen_to(self, engine) -> list:
        """Subscribe to the engine's notifications and return the subscriptions."""
        return [
            engine.connect("finished-utterance", self._on_utterance_finished),
            # pyttsx3 reports a failed command (such as an unknown voice) only as an event.
            engine.connect("error", lambda exception, **_: self._engine_errors.append(exception)),
        ]

    def _on_utterance_finished(self, completed: bool = True, **_) -> None:
        """Record how the engine's current utterance ended (called from espeak's thread)."""
        (self._utterance_finished if completed else self._utterance_cancelled).set()

    def _warm_up(self, engine) -> None:
        """Speak a throwaway word so the engine's start-up settings are out of the way."""
        # A fresh engine applies its driver's default settings in the same step as the first
        # utterance, and pyttsx3 then drops settings queued in espeak and flags a stop that
        # cancels a later utterance; a throwaway one absorbs the first, a retry the second.
        self._engine_errors.clear()
        with tempfile.TemporaryDirectory(dir=self.cache_dir) as scratch:
            self._speak_to_file(engine, "a", Path(scratch) / "warm-up.wav")

    def _synthesise(self, engine, key: str, voice: str, spoken: str, rate: int) -> None:
        """Write the WAV for key under a temporary name, check it and rename it into place."""
        descriptor, partial_name = tempfile.mkstemp(
            dir=self.cache_dir, prefix=f".{key}.", suffix=".partial"
        )
        os.close(descriptor)
        partial = Path(partial_name)
        try:
            self._engine_errors.clear()
            engine.setProperty("voice", voice)
            engine.setProperty("rate", rate)
            for _ in range(SYNTHESIS_ATTEMPTS):
                if self._speak_to_file(engine, spoken, partial):
                    break
                logger.warning("pyttsx3 cancelled announcement %s; synthesising it again", key)
            else:
                raise RuntimeError(f"pyttsx3 cancelled all {SYNTHESIS_ATTEMPTS} attempts")
            _check_pcm_wav(partial)
            # A rename is atomic, so a reader sees either no file or the complete one.
            os.replace(partial, self._cache_path(key))
        finally:
            partial.unlink(missing_ok=True)

    def _speak_to_file(self, engine, spoken: str, path: Path) -> bool:
        """Synthesise spoken into path; return False if pyttsx3 cancelled the utterance."""
        # pyttsx3's espeak driver cancels the next utterance if it starts while espeak is
        # still busy (settings just sent, or the last utterance's callback still running).
        _wait_until_espeak_idle()
        self._utterance_finished.clear()
        self._utterance_cancelled.clear()
        engine.save_to_file(spoken, str(path))
        engine.runAndWait()
        if self._engine_errors:  # including a setting that failed before this utterance
            raise self._engine_errors[0]
        # runAndWait can return before espeak has written the file; the completed
        # notification comes only after it (docs/architecture.md, known traps), even for a cancelled one.
        if not self._utterance_finished.wait(SYNTHESIS_TIMEOUT_S):
            raise TimeoutError(f"espeak wrote no audio in {SYNTHESIS_TIMEOUT_S} s")
        _wait_until_espeak_idle()
        return not self._utterance_cancelled.is_set()


def _wait_until_espeak_idle() -> None:
    """Wait until espeak has no command or audio in progress."""
    from pyttsx3.drivers import _espeak  # pyttsx3's binding; the engine exposes no such check

    deadline = time.monotonic() + SYNTHESIS_TIMEOUT_S
    while _espeak.IsPlaying():
        if time.monotonic() > deadline:
            raise TimeoutError(f"espeak stayed busy for {SYNTHESIS_TIMEOUT_S} s")
        time.sleep(0.002)


def _check_pcm_wav(path: Path) -> None:
    """Raise ValueError unless path holds non-empty 16-bit mono PCM audio."""
    with wave.open(str(path), "rb") as audio:
        if (audio.getnchannels(), audio.getsampwidth(), audio.getcomptype()) != (1, 2, "NONE"):
            raise ValueError(f"espeak wrote unexpected audio: {audio.getparams()}")
        if audio.getnframes() == 0:
            raise ValueError("espeak wrote an empty WAV")


class VoicePackSource:
    """The centre's recorded clips, read from its database with a connection pool of its own."""

    def __init__(self, database: str | Path, centre_id: str):
        self.pool = store.ConnectionPool(database, keep=2)
        self.centre_id = centre_id

    def plan(self, text: str) -> list[tuple[str, str, bool]] | None:
        """(key, digest, pause after) of each clip that speaks text, or None if the pack lacks a word."""
        db = self.pool.acquire()
        try:
            clips = store.voice_clips(db, self.centre_id)
        finally:
            self.pool.release(db)
        planned = voice_pack.plan(text, clips)
        digests = {clip["key"]: clip["digest"] for clip in clips}
        return [(key, digests[key], pause) for key, pause in planned] if planned else None

    def audio(self, planned: list[tuple[str, bool]]) -> bytes:
        db = self.pool.acquire()
        try:
            return voice_pack.planned_audio(db, self.centre_id, planned)
        finally:
            self.pool.release(db)

    def close(self) -> None:
        self.pool.close()


class NullAnnouncer:
    """An announcer that never speaks, for LUOT_TTS=none."""

    def __init__(
        self, cache_dir: Path | None = None, enabled: bool = False, rate: int | None = None
    ):
        self.cache_dir = cache_dir
        self.enabled = False
        self.rate = rate

    def start(self) -> None:
        """Do nothing: there is no engine."""

    def stop(self, timeout: float = 10.0) -> None:
        """Do nothing: there is no engine."""

    def request(self, text: str, lang: str, ahead: bool = False, voice: str | None = None,
                rate: int | None = None) -> None:
        """Return None: nothing is synthesised."""
        return None

    def wav_path(self, key: str, timeout: float = 5.0) -> None:
        """Return None: no audio exists."""
        return None
