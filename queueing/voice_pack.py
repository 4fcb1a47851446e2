"""The recorded voice pack (issue 19): the closed list of segments announcements are made of, their clips,
and how a sentence becomes a sequence of clips.

The segments come from the centre's configuration: the fixed phrases of the announcement templates,
the letter names of the services' prefixes, every word the numbers it can announce are read with
(speech_vi's reading rules: ticket numbers up to 9 999, its counters, the recall ordinals) and, when
the template speaks them, the counters' names. A sentence is cut into the longest recorded segments
that cover it, word by word; if one word is not covered the sentence is not the pack's to speak, and
the announcer falls back to espeak-ng.
"""
from __future__ import annotations

import hashlib
import io
import json
import re
import string
import unicodedata
import zipfile
from dataclasses import dataclass
from functools import cache

from . import store
from .audit import record_change
from .model import Outcome, QueueError
from .service import DEFAULT_SETTINGS
from .speech_vi import DEFAULT_TEMPLATES, LETTER_NAMES_VI, PLACEHOLDERS, read_number_vi, read_ticket_vi, tts_text_vi
from .text import nfc
from .voice_audio import MAX_BYTES, AudioError, join_clips, prepare_clip, wav_bytes

PACK_VOICE = "pack"
# Ticket numbers are a prefix and a day's sequence; a sequence past 9 999 in one service and day is not expected.
LARGEST_TICKET = 9999
MANIFEST = "voice-pack.json"
IMPORT_MAX_BYTES = 64 * 1024 * 1024
_PAUSE_MARKS = ",.;:!?…"
_TONE_KEYS = {"\u0301": "s", "\u0300": "f", "\u0309": "r", "\u0303": "x", "\u0323": "j"}
_VOWEL_KEYS = {"\u0302": lambda base: base, "\u0306": lambda base: "w", "\u031b": lambda base: "w"}
_KEY_PATTERN = re.compile(r"[a-z0-9-]{1,120}")


# Other closed sentences the centre speaks (the kiosk's greetings): callables returning Vietnamese
# sentences, registered by the screens that speak them (server.py), so the core needs no screen import.
SPOKEN_SENTENCES: list = []


class VoicePackError(QueueError):
    status = 400
    code = "bad_voice_clip"


@dataclass(frozen=True)
class Segment:
    key: str
    text: str
    kind: str  # phrase | letter | number | name


def _telex_word(word: str) -> str:
    """A word's key in Telex spelling, so every tone and vowel stays distinct in ASCII ("mười" → "muwowif")."""
    letters, tone = [], ""
    for char in unicodedata.normalize("NFD", word.lower()):
        if char in _TONE_KEYS:
            tone = _TONE_KEYS[char]
        elif char in _VOWEL_KEYS and letters:
            letters.append(_VOWEL_KEYS[char](letters[-1]))
        elif char == "đ":
            letters.append("dd")
        elif char.isascii() and (char.isalnum() or char == "-"):
            letters.append(char)
    return "".join(letters) + tone


def words_of(text: str) -> list[tuple[str, bool]]:
    """A sentence's spoken words, lower case, each with whether a pause (comma, full stop) follows it."""
    words: list[tuple[str, bool]] = []
    for token in tts_text_vi(nfc(text)).lower().replace("/", " ").split():
        word = token.strip(_PAUSE_MARKS + "\"'“”‘’()[]«»-–—")
        pause = any(mark in token[-2:] for mark in _PAUSE_MARKS)
        if word:
            words.append((word, pause))
        elif pause and words:
            words[-1] = (words[-1][0], True)
    return words


def segment_key(text: str) -> str:
    return "-".join(_telex_word(word) for word, _ in words_of(text))


def _segment(text: str, kind: str) -> Segment:
    spoken = " ".join(word for word, _ in words_of(text))
    return Segment(segment_key(text), spoken, kind)


def _template_phrases(template: str) -> tuple[list[str], bool]:
    """The fixed phrases of a template (cut at its placeholders and punctuation) and whether it names counters."""
    phrases, names_counter = [], False
    for literal, field, _, _ in string.Formatter().parse(nfc(template)):
        for chunk in re.split(rf"[{re.escape(_PAUSE_MARKS)}]", literal):
            if chunk.strip():
                phrases.append(chunk.strip())
        if field is not None and PLACEHOLDERS.get(field) == "counter_name":
            names_counter = True
    return phrases, names_counter


@cache
def _ticket_number_words() -> frozenset[str]:
    """Every word a ticket's digits can be read with (leading zeros, then the cardinal)."""
    words = set()
    for sequence in range(1, LARGEST_TICKET + 1):
        words.update(read_ticket_vi(f"{sequence:03d}").split())
    return frozenset(words)


def pack_segments(settings: dict, prefixes: list[str], counters: list[tuple[int, str]],
                  sentences: list[str] = ()) -> list[Segment]:
    """The closed list of segments every Vietnamese announcement of this configuration is made of."""
    settings = {**DEFAULT_SETTINGS, **settings}
    template = settings.get("announcement_template")
    templates = [template] if template else [DEFAULT_TEMPLATES[("vi", False)], DEFAULT_TEMPLATES[("vi", True)]]
    phrases, names_counter = [], False
    for each in templates:
        found, names = _template_phrases(each)
        phrases += found
        names_counter = names_counter or names
    numbers = set(_ticket_number_words())
    for number, _ in counters:
        numbers.update(read_number_vi(number).split())
    for call in range(2, int(settings.get("recall_limit") or 1) + 2):
        numbers.update(({1: "nhất", 4: "tư"}.get(call) or read_number_vi(call)).split())
    letters = sorted({letter for prefix in prefixes for letter in nfc(prefix).upper() if letter in LETTER_NAMES_VI})
    segments = [_segment(phrase, "phrase") for phrase in phrases]
    segments += [_segment(LETTER_NAMES_VI[letter], "letter") for letter in letters]
    order = {word: index for index, word in enumerate(("không", "một", "mốt", "hai", "ba", "bốn", "tư", "năm", "lăm",
                                                       "sáu", "bảy", "tám", "chín", "mười", "mươi", "trăm", "linh",
                                                       "nghìn", "nhất"))}
    segments += [_segment(word, "number") for word in sorted(numbers, key=lambda w: (order.get(w, 99), w))]
    if names_counter:
        segments += [_segment(name, "name") for _, name in counters if name and words_of(name)]
    for sentence in sentences:
        segments += [_segment(phrase, "phrase") for phrase in _template_phrases(sentence.replace("{", "").replace("}", ""))[0]
                     if words_of(phrase)]
    unique: dict[str, Segment] = {}
    for segment in segments:
        unique.setdefault(segment.key, segment)
    return list(unique.values())


def centre_segments(db, centre_id: str) -> list[Segment]:
    centre = store.centre(db, centre_id)
    prefixes = [row["prefix"] for row in store.services(db, centre_id)]
    counters = [(row["number"], row["name"]) for row in store.counters(db, centre_id)]
    sentences = [sentence for source in SPOKEN_SENTENCES for sentence in source()]
    return pack_segments(centre["settings"], prefixes, counters, sentences)


def pack_view(db, centre_id: str) -> dict:
    """`{enabled, complete, segments:[{key, text, kind, recorded, duration_s}]}` for the admin."""
    recorded = {row["key"]: row for row in store.voice_clips(db, centre_id)}
    segments = [{"key": s.key, "text": s.text, "kind": s.kind, "recorded": s.key in recorded,
                 "duration_s": recorded[s.key]["duration_s"] if s.key in recorded else None}
                for s in centre_segments(db, centre_id)]
    enabled = (store.centre(db, centre_id)["settings"].get("voice") == PACK_VOICE)
    return {"enabled": enabled, "complete": all(s["recorded"] for s in segments), "segments": segments}


def missing_segments(db, centre_id: str) -> list[Segment]:
    recorded = {row["key"] for row in store.voice_clips(db, centre_id)}
    return [segment for segment in centre_segments(db, centre_id) if segment.key not in recorded]


def _find_segment(db, centre_id: str, key: str) -> Segment:
    for segment in centre_segments(db, centre_id):
        if segment.key == key:
            return segment
    raise QueueError(f"Không có đoạn «{key}» trong bộ giọng (no such voice pack segment)", code="not_found",
                     status=404)


def _clip_row(segment: Segment, data: bytes, user_id, now: float) -> dict:
    try:
        pcm, duration = prepare_clip(data)
    except AudioError as error:
        raise VoicePackError(f"«{segment.text}»: {error}", code=error.code) from None
    return {"key": segment.key, "text": segment.text, "audio": pcm, "duration_s": round(duration, 3),
            "digest": hashlib.sha256(pcm).hexdigest()[:24], "recorded_at": now, "recorded_by": user_id}


def put_clip(db, centre_id: str, user_id, key: str, data: bytes, now: float) -> Outcome:
    """Record (or replace) the clip of one segment, audited."""
    segment = _find_segment(db, centre_id, key)
    row = _clip_row(segment, data, user_id, now)
    with store.transaction(db):
        before = {row["key"]: row["digest"] for row in store.voice_clips(db, centre_id) if row["key"] == key}
        store.save_voice_clip(db, centre_id, row)
        record_change(db, centre_id, now, user_id, "voice_pack.record", {"type": "voice_clip", "key": key},
                      before.get(key), {"text": segment.text, "duration_s": row["duration_s"], "digest": row["digest"]})
    return Outcome({"key": key, "recorded": True, "duration_s": row["duration_s"]}, [])


def clip_wav(db, centre_id: str, key: str) -> bytes | None:
    pcm = store.voice_clip_audio(db, centre_id, [key]).get(key)
    return wav_bytes(pcm) if pcm is not None else None


def export_pack(db, centre_id: str) -> bytes:
    """Every recorded clip as one zip: `<key>.wav` files and a manifest of their texts."""
    clips = store.voice_clips(db, centre_id)
    audio = store.voice_clip_audio(db, centre_id, [clip["key"] for clip in clips]) if clips else {}
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(MANIFEST, json.dumps({"format": "luot-voice-pack/1", "segments": [
            {"key": clip["key"], "text": clip["text"], "file": f"{clip['key']}.wav"} for clip in clips]},
            ensure_ascii=False, indent=1))
        for clip in clips:
            archive.writestr(f"{clip['key']}.wav", wav_bytes(audio[clip["key"]]))
    return buffer.getvalue()


def import_pack(db, centre_id: str, user_id, data: bytes, now: float) -> Outcome:
    """Load a pack exported here (or any zip of `<key>.wav`): every clip is checked, then all are saved at once.

    Files for segments this centre does not use are skipped and listed; one bad clip refuses the whole file.
    """
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        names = [name for name in archive.namelist() if name.lower().endswith(".wav")]
    except (zipfile.BadZipFile, ValueError):
        raise VoicePackError("Không phải tệp zip của bộ giọng (not a voice pack zip file)", code="not_zip") from None
    segments = {segment.key: segment for segment in centre_segments(db, centre_id)}
    rows, skipped = [], []
    for name in names:
        key = name.rsplit("/", 1)[-1][:-4]
        if key not in segments:
            skipped.append(key)
            continue
        info = archive.getinfo(name)
        if info.file_size > MAX_BYTES:
            raise VoicePackError(f"«{key}»: tệp quá lớn, tối đa 2 MB (clip larger than 2 MB)", code="too_large")
        rows.append(_clip_row(segments[key], archive.read(name), user_id, now))
    if not rows:
        raise VoicePackError("Tệp không có đoạn ghi nào của bộ giọng này (no clip of this pack in the file)",
                             code="empty_pack")
    with store.transaction(db):
        for row in rows:
            store.save_voice_clip(db, centre_id, row)
        record_change(db, centre_id, now, user_id, "voice_pack.import", {"type": "voice_pack"}, None,
                      {"imported": [row["key"] for row in rows], "skipped": skipped})
    return Outcome({"imported": [row["key"] for row in rows], "skipped": skipped}, [])


def require_complete(db, centre_id: str) -> None:
    """Refuse to switch the pack on while a segment has no clip."""
    missing = missing_segments(db, centre_id)
    if missing:
        shown = ", ".join(f"«{segment.text}»" for segment in missing[:8]) + ("…" if len(missing) > 8 else "")
        raise QueueError(f"Bộ giọng còn thiếu {len(missing)} đoạn chưa ghi: {shown} "
                         f"(the voice pack is incomplete: {len(missing)} segments not recorded)",
                         code="voice_pack_incomplete")


def plan(text: str, clips: list[dict]) -> list[tuple[str, bool]] | None:
    """The clip keys (each with whether a pause follows) that speak text, longest segments first;
    None when a word has no clip."""
    index: dict[tuple[str, ...], str] = {}
    for clip in clips:
        words = tuple(word for word, _ in words_of(clip["text"]))
        if words:
            index.setdefault(words, clip["key"])
    longest = max((len(words) for words in index), default=0)
    spoken = words_of(text)
    planned, position = [], 0
    while position < len(spoken):
        for size in range(min(longest, len(spoken) - position), 0, -1):
            window = spoken[position:position + size]
            key = index.get(tuple(word for word, _ in window))
            if key is not None:
                planned.append((key, window[-1][1]))
                position += size
                break
        else:
            return None
    return planned or None


def planned_audio(db, centre_id: str, planned: list[tuple[str, bool]]) -> bytes:
    """The joined WAV of a plan."""
    audio = store.voice_clip_audio(db, centre_id, [key for key, _ in planned])
    return join_clips([(audio[key], pause) for key, pause in planned])


def sample_audio(db, centre_id: str, key: str) -> tuple[str, bytes]:
    """A call sentence containing the segment, and its WAV from the clips recorded so far (others left out)."""
    from .speech_vi import announcement_text
    segment = _find_segment(db, centre_id, key)
    settings = {**DEFAULT_SETTINGS, **store.centre(db, centre_id)["settings"]}
    prefixes = [row["prefix"] for row in store.services(db, centre_id)] or ["A"]
    counters = [(row["number"], row["name"]) for row in store.counters(db, centre_id)] or [(1, "")]
    wanted = tuple(segment.text.split())
    text = segment.text
    for recall in (0, 1):
        for prefix in prefixes:
            for sequence in (12, 1, 5, 10, 21, 24, 35, 100, 104, 1000, 2024):
                for number, name in counters:
                    sentence = announcement_text(f"{prefix}{sequence:03d}", number, name, "vi",
                                                 settings.get("announcement_template"), recall)
                    words = [word for word, _ in words_of(sentence)]
                    if any(tuple(words[i:i + len(wanted)]) == wanted for i in range(len(words))):
                        text = sentence
                        break
                else:
                    continue
                break
            else:
                continue
            break
        else:
            continue
        break
    everything = [{"key": s.key, "text": s.text} for s in centre_segments(db, centre_id)]
    planned = plan(text, everything) or [(key, False)]
    audio = store.voice_clip_audio(db, centre_id, [k for k, _ in planned])
    return text, join_clips([(audio[k], pause) for k, pause in planned if k in audio])


def valid_key(key: str) -> bool:
    return isinstance(key, str) and bool(_KEY_PATTERN.fullmatch(key))
