"""Recorded voice clips as plain PCM: decode an uploaded WAV, bring it to the pack's one format, join clips.

Plain Python (the `wave` and `array` modules): clips are short (≤ 10 s) and are prepared once, when
recorded, so joining an announcement is only a concatenation of stored 16-bit samples and silences.
"""
from __future__ import annotations

import io
import math
import sys
import wave
from array import array

# The pack's one format: 16-bit mono PCM at 22 050 Hz (espeak-ng's own rate, so both voices match).
RATE = 22050
MAX_BYTES = 2 * 1024 * 1024
MAX_SECONDS = 10.0
# A clip whose loudest sample stays under -40 dBFS is silence (or a muted microphone).
SILENT_PEAK = 0.01
# Speech starts where a 10 ms frame's RMS passes this share of the clip's peak frame.
TRIM_SHARE = 0.08
TRIM_MARGIN_S = 0.03
MIN_VOICED_S = 0.05
# Loudness: the voiced frames' RMS is brought to -20 dBFS, never letting a peak pass -1 dBFS.
TARGET_RMS = 0.1
PEAK_LIMIT = 0.89
# Gaps of a joined announcement: between segments, at a comma or full stop, before and after.
WORD_GAP_S = 0.08
PAUSE_GAP_S = 0.30
LEAD_S = 0.10
TAIL_S = 0.25


class AudioError(ValueError):
    """An uploaded clip the pack cannot use; `code` says why (not_wav, too_long, silent, too_large)."""

    def __init__(self, message: str, code: str):
        super().__init__(message)
        self.code = code


def decode_wav(data: bytes) -> tuple[list[float], int]:
    """Return a WAV's samples (mono, -1..1) and its sample rate; AudioError unless it is a PCM WAV."""
    if len(data) > MAX_BYTES:
        raise AudioError(f"Tệp quá lớn ({len(data) // 1024} KB), tối đa 2 MB (clip larger than 2 MB)", "too_large")
    if data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise AudioError("Không phải tệp WAV (not a WAV file)", "not_wav")
    try:
        with wave.open(io.BytesIO(data), "rb") as audio:
            channels, width, rate, frames = (audio.getnchannels(), audio.getsampwidth(), audio.getframerate(),
                                             audio.getnframes())
            raw = audio.readframes(frames)
    except (wave.Error, EOFError) as error:
        raise AudioError(f"WAV không đọc được, cần PCM 8/16/24/32 bit (unreadable or non-PCM WAV: {error})",
                         "not_wav") from None
    if not frames or not rate or width not in (1, 2, 3, 4):
        raise AudioError("WAV trống hoặc sai định dạng (empty or malformed WAV)", "not_wav")
    if frames / rate > MAX_SECONDS:
        raise AudioError(f"Đoạn ghi dài {frames / rate:.1f} giây, tối đa {MAX_SECONDS:.0f} giây "
                         f"(clip longer than {MAX_SECONDS:.0f} s)", "too_long")
    samples = _samples(raw, width)
    if channels > 1:  # mixed down: the pack is mono
        samples = [sum(samples[i:i + channels]) / channels for i in range(0, len(samples) - channels + 1, channels)]
    return samples, rate


def _samples(raw: bytes, width: int) -> list[float]:
    if width == 1:  # 8-bit WAV is unsigned
        return [(byte - 128) / 128 for byte in raw]
    if width == 3:
        return [int.from_bytes(raw[i:i + 3], "little", signed=True) / 8388608 for i in range(0, len(raw) - 2, 3)]
    values = array("h" if width == 2 else "i")
    values.frombytes(raw[:len(raw) - len(raw) % width])
    if sys.byteorder == "big":
        values.byteswap()
    scale = 32768 if width == 2 else 2147483648
    return [value / scale for value in values]


def resample(samples: list[float], rate: int, to_rate: int = RATE) -> list[float]:
    """Linear interpolation to to_rate (speech clips, so its small aliasing is inaudible)."""
    if rate == to_rate or not samples:
        return list(samples)
    count = max(1, round(len(samples) * to_rate / rate))
    step, last = rate / to_rate, len(samples) - 1
    out = []
    for index in range(count):
        position = index * step
        left = int(position)
        if left >= last:
            out.append(samples[last])
            continue
        fraction = position - left
        out.append(samples[left] * (1 - fraction) + samples[left + 1] * fraction)
    return out


def _frame_rms(samples: list[float], frame: int) -> list[float]:
    return [math.sqrt(sum(s * s for s in samples[i:i + frame]) / len(samples[i:i + frame]))
            for i in range(0, len(samples), frame)]


def prepare_clip(data: bytes) -> tuple[bytes, float]:
    """Check an uploaded WAV and return it in the pack's format (silence trimmed, loudness set) and its length."""
    samples, rate = decode_wav(data)
    if max((abs(s) for s in samples), default=0) < SILENT_PEAK:
        raise AudioError("Đoạn ghi im lặng: không nghe thấy tiếng (the clip is silent)", "silent")
    samples = resample(samples, rate)
    frame = RATE // 100
    levels = _frame_rms(samples, frame)
    threshold = max(levels) * TRIM_SHARE
    voiced = [index for index, level in enumerate(levels) if level >= threshold]
    margin = int(TRIM_MARGIN_S * RATE)
    start = max(0, voiced[0] * frame - margin)
    end = min(len(samples), (voiced[-1] + 1) * frame + margin)
    if (voiced[-1] - voiced[0] + 1) * frame < MIN_VOICED_S * RATE:
        raise AudioError("Đoạn ghi quá ngắn, chỉ có tiếng động (the clip holds no speech)", "silent")
    samples = samples[start:end]
    loud = [level for level in levels[voiced[0]:voiced[-1] + 1] if level >= threshold]
    rms = math.sqrt(sum(level * level for level in loud) / len(loud))
    peak = max(abs(s) for s in samples)
    gain = min(TARGET_RMS / rms, PEAK_LIMIT / peak)
    return encode_pcm([s * gain for s in samples]), len(samples) / RATE


def encode_pcm(samples: list[float]) -> bytes:
    """16-bit little-endian PCM of samples in -1..1 (clipped)."""
    values = array("h", (max(-32768, min(32767, round(s * 32767))) for s in samples))
    if sys.byteorder == "big":
        values.byteswap()
    return values.tobytes()


def wav_bytes(pcm: bytes, rate: int = RATE) -> bytes:
    """A 16-bit mono WAV file holding pcm."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as audio:
        audio.setnchannels(1)
        audio.setsampwidth(2)
        audio.setframerate(rate)
        audio.writeframes(pcm)
    return buffer.getvalue()


def silence(seconds: float) -> bytes:
    return b"\x00\x00" * int(seconds * RATE)


def join_clips(clips: list[tuple[bytes, bool]]) -> bytes:
    """One WAV of clips (PCM in the pack's format) in order; `True` after a clip means a longer pause."""
    parts = [silence(LEAD_S)]
    for index, (pcm, pause_after) in enumerate(clips):
        parts.append(pcm)
        if index < len(clips) - 1:
            parts.append(silence(PAUSE_GAP_S if pause_after else WORD_GAP_S))
    parts.append(silence(TAIL_S))
    return wav_bytes(b"".join(parts))
