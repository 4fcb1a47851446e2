"""Write static/sounds/chime.wav: a two-tone ding-dong of about one second, 16-bit mono PCM."""
import argparse
import math
import struct
import wave
from pathlib import Path

SAMPLE_RATE = 22050  # the rate espeak-ng's announcements use, so the display plays both alike
DURATION_S = 1.1
PEAK = 0.6 * 32767  # headroom: the two tones overlap for a moment
# (start second, frequency Hz): E5 then C5, the familiar falling "ding-dong".
TONES = ((0.0, 659.25), (0.38, 523.25))
# Bell-like timbre: the fundamental plus two softer partials.
PARTIALS = ((1.0, 1.0), (2.0, 0.35), (3.0, 0.12))
DECAY_PER_S = 4.0
ATTACK_S = 0.006  # a short ramp so the tone starts without a click
RELEASE_S = 0.08  # fade out the tail so the file ends on silence


def tone_sample(elapsed_s: float, frequency: float) -> float:
    """Return one sample (-1..1) of a decaying bell tone elapsed_s after it was struck."""
    if elapsed_s < 0:
        return 0.0
    envelope = min(1.0, elapsed_s / ATTACK_S) * math.exp(-DECAY_PER_S * elapsed_s)
    total_weight = sum(weight for _, weight in PARTIALS)
    wave_value = sum(
        weight * math.sin(2 * math.pi * frequency * multiple * elapsed_s)
        for multiple, weight in PARTIALS
    )
    return envelope * wave_value / total_weight


def chime_frames() -> bytes:
    """Return the chime as little-endian 16-bit PCM frames."""
    sample_count = int(SAMPLE_RATE * DURATION_S)
    samples = []
    for index in range(sample_count):
        time_s = index / SAMPLE_RATE
        release = min(1.0, (DURATION_S - time_s) / RELEASE_S)
        value = sum(tone_sample(time_s - start, frequency) for start, frequency in TONES)
        samples.append(round(PEAK * release * value))
    return struct.pack(f"<{sample_count}h", *samples)


def main() -> None:
    """Write the chime to the path given, by default static/sounds/chime.wav."""
    default = Path(__file__).resolve().parent.parent / "static" / "sounds" / "chime.wav"
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("output", nargs="?", type=Path, default=default)
    output = parser.parse_args().output
    output.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(output), "wb") as chime:
        chime.setnchannels(1)
        chime.setsampwidth(2)
        chime.setframerate(SAMPLE_RATE)
        chime.writeframes(chime_frames())
    print(f"wrote {output}")


if __name__ == "__main__":
    main()
