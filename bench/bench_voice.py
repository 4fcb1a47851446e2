"""How well announcements are understood: 20 fixed calls spoken by espeak-ng at several settings and by
a voice pack, transcribed by an offline Vietnamese recognizer (viet-asr), word error rate per setting.

Run with a Python that has bench/requirements-bench.txt (viet-asr is a benchmark dependency only):
    python -m venv .venv-bench && .venv-bench/bin/pip install -r requirements.txt -r bench/requirements-bench.txt
    .venv-bench/bin/python bench/bench_voice.py
The pack here is built from clips espeak-ng synthesises from single segments (no human recordings
exist here): it shows what cutting and joining do to intelligibility, not how a human voice scores.
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from queueing import voice_pack  # noqa: E402
from queueing.speech_vi import announcement_text, tts_text_vi, with_pauses_vi  # noqa: E402
from queueing.voice_audio import join_clips, prepare_clip  # noqa: E402

# (ticket, counter, recall count): every prefix letter of the demo centre, numbers of 1-4 digits.
CALLS = [("A012", 3, 0), ("B001", 1, 0), ("C025", 7, 0), ("D104", 2, 0), ("E015", 12, 0),
         ("G031", 5, 0), ("H110", 4, 1), ("K007", 9, 0), ("L054", 11, 0), ("M099", 6, 0),
         ("N021", 10, 0), ("A245", 8, 1), ("B1000", 1, 0), ("C400", 3, 0), ("D018", 14, 0),
         ("E061", 2, 2), ("G105", 15, 0), ("H044", 21, 0), ("K515", 4, 0), ("L002", 1, 1)]


def spoken_words(text: str) -> list[str]:
    """A sentence's words as a listener should hear them (letters by their names, hyphens as spaces)."""
    return [part for word, _ in voice_pack.words_of(text) for part in word.split("-") if part]


def word_errors(reference: list[str], heard: list[str]) -> int:
    """Word-level edit distance (substitutions, insertions, deletions)."""
    row = list(range(len(heard) + 1))
    for i, expected in enumerate(reference, 1):
        previous, row[0] = row[0], i
        for j, word in enumerate(heard, 1):
            previous, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, previous + (expected != word))
    return row[-1]


def espeak(text: str, path: Path, rate: int, voice: str = "vi") -> None:
    """espeak-ng's command line: the same library, voice and rate (words a minute) as the announcer's pyttsx3."""
    subprocess.run(["espeak-ng", "-v", voice, "-s", str(rate), "-w", str(path), text],
                   check=True, capture_output=True)


def build_pack(folder: Path, rate: int) -> list[dict]:
    """Clips for every segment of the demo configuration, each synthesised alone by espeak-ng."""
    prefixes = list("ABCDEGHKLMN")
    counters = [(n, f"Quầy {n}") for n in range(1, 22)]
    clips = []
    for segment in voice_pack.pack_segments({"recall_limit": 3}, prefixes, counters):
        path = folder / f"{segment.key}.wav"
        espeak(segment.text, path, rate)
        pcm, _ = prepare_clip(path.read_bytes())
        clips.append({"key": segment.key, "text": segment.text, "pcm": pcm})
    return clips


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rates", default="175,150,130,115")
    parser.add_argument("--voices", default="vi", help="espeak-ng voices, e.g. vi,vi-vn-x-central,vi-vn-x-south")
    parser.add_argument("--no-pack", action="store_true", help="espeak-ng settings only")
    args = parser.parse_args()
    import vietasr
    recognizer = vietasr.Pipeline.preset("transcribe")
    sentences = [announcement_text(ticket, counter, "", "vi", None, recall) for ticket, counter, recall in CALLS]
    settings = []
    for voice in args.voices.split(","):
        for rate in [int(r) for r in args.rates.split(",")]:
            settings.append((f"espeak-ng {voice}, {rate} wpm",
                             lambda s, p, r=rate, v=voice: espeak(tts_text_vi(s), p, r, v)))
            settings.append((f"espeak-ng {voice}, {rate} wpm, pauses",
                             lambda s, p, r=rate, v=voice: espeak(tts_text_vi(with_pauses_vi(s)), p, r, v)))
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        pack_folder = folder / "pack"
        pack_folder.mkdir()
        for pack_rate in () if args.no_pack else (150, 130):
            clips = build_pack(pack_folder, pack_rate)
            by_key = {clip["key"]: clip["pcm"] for clip in clips}

            def speak_pack(sentence, path, clips=clips, by_key=by_key):
                planned = voice_pack.plan(sentence, clips)
                path.write_bytes(join_clips([(by_key[key], pause) for key, pause in planned]))
            settings.append((f"pack of espeak-ng single-segment clips, {pack_rate} wpm", speak_pack))
        print(f"{'setting':<55} {'WER %':>6} {'errors/words':>13} {'s/call':>7}")
        for name, speak in settings:
            errors = words = 0
            started = time.monotonic()
            for index, sentence in enumerate(sentences):
                path = folder / f"call-{index}.wav"
                speak(sentence, path)
                heard = recognizer.transcribe(str(path)).text
                reference = spoken_words(sentence)
                errors += word_errors(reference, spoken_words(heard))
                words += len(reference)
            elapsed = (time.monotonic() - started) / len(sentences)
            print(f"{name:<55} {100 * errors / words:>6.1f} {f'{errors}/{words}':>13} {elapsed:>7.2f}", flush=True)
        print(f"\nexample: {sentences[0]!r} -> {recognizer.transcribe(str(folder / 'call-0.wav')).text!r} (last setting)")


if __name__ == "__main__":
    main()
