"""The assistant's vocabulary in the database (issue 13): phrasings per procedure, and life events.

A procedure's everyday phrasings (``phrasings`` Vietnamese, ``phrasings_en`` English) and what to
bring (``documents``, ``documents_en``) are JSON lists in its row; the admin edits them one phrase
per line. Life events (a birth, a death…) are rows of ``life_events``: names, phrasings and the
ordered procedure codes they need. Both travel in the configuration export and import, and the
bundled catalogue seeds them. This module is part of the core: no Flask.
"""
from __future__ import annotations

import json
import unicodedata

from . import store
from .text import nfc

PHRASE_FIELDS = ("phrasings", "phrasings_en", "documents", "documents_en")
PHRASE_MAX = 200     # one phrase, in characters
PHRASES_MAX = 200    # phrases per list
EVENT_KEYS = {"code", "name", "name_en", "procedures", "phrasings", "phrasings_en", "active"}


class PhraseError(ValueError):
    """A phrase list the admin typed cannot be stored; the message says why in both languages."""


def clean_phrases(value, label: str) -> list[str]:
    """A list of phrases from JSON (list of text) or a form (one per line): NFC, trimmed, no duplicates."""
    if value is None or value == "":
        return []
    if isinstance(value, str):
        items = value.splitlines()
    elif isinstance(value, list) and all(isinstance(item, str) for item in value):
        items = value
    else:
        raise PhraseError(f"{label} phải là danh sách câu chữ, mỗi dòng một câu (must be a list of text)")
    phrases, seen = [], set()
    for item in items:
        phrase = " ".join(nfc(item).split())
        if not phrase or phrase.casefold() in seen:
            continue
        if any(unicodedata.category(ch) == "Cc" for ch in phrase):
            raise PhraseError(f"{label} có ký tự điều khiển (control characters)")
        if len(phrase) > PHRASE_MAX:
            raise PhraseError(f"{label}: mỗi câu tối đa {PHRASE_MAX} ký tự (at most {PHRASE_MAX} characters each)")
        seen.add(phrase.casefold())
        phrases.append(phrase)
    if len(phrases) > PHRASES_MAX:
        raise PhraseError(f"{label}: tối đa {PHRASES_MAX} câu (at most {PHRASES_MAX} phrases)")
    return phrases


def dumps(phrases: list[str]) -> str:
    return json.dumps(phrases, ensure_ascii=False)


def loads(text: str | None) -> list[str]:
    """A stored JSON list, tolerant of NULL or '' (rows written before the migration filled them)."""
    if not text:
        return []
    value = json.loads(text)
    return [str(item) for item in value] if isinstance(value, list) else []


# ---- life events ----------------------------------------------------------------------------

def event_view(row: dict) -> dict:
    return {"code": row["code"], "name": row["name"], "name_en": row["name_en"],
            "procedures": loads(row["procedures"]), "phrasings": loads(row["phrasings"]),
            "phrasings_en": loads(row["phrasings_en"]), "active": bool(row["active"])}


def list_life_events(db, centre_id: str, active_only: bool = False) -> list[dict]:
    """A centre's life events in display order."""
    rows = store.all_rows(db, "SELECT * FROM life_events WHERE centre_id = ? "
                              + ("AND active = 1 " if active_only else "") + "ORDER BY sort_order, code",
                          (centre_id,))
    return [event_view(row) for row in rows]


def clean_life_event(item, known_codes: set[str]) -> dict:
    """One life event from a configuration file, checked; raises PhraseError with every reason."""
    if not isinstance(item, dict):
        raise PhraseError("phải là một đối tượng (must be an object)")
    unknown = sorted(set(item) - EVENT_KEYS)
    if unknown:
        raise PhraseError(f"trường không được hỗ trợ {', '.join(unknown)} (unknown fields)")
    code = item.get("code")
    if not isinstance(code, str) or not code.strip() or len(code) > 40:
        raise PhraseError("cần 'code' là chữ, tối đa 40 ký tự (code is required)")
    name = item.get("name")
    if not isinstance(name, str) or not name.strip() or len(name) > 120:
        raise PhraseError("cần 'name' (tên tiếng Việt, tối đa 120 ký tự) (name is required)")
    name_en = item.get("name_en", "")
    if not isinstance(name_en, str) or len(name_en) > 120:
        raise PhraseError("'name_en' phải là chữ, tối đa 120 ký tự (name_en must be text)")
    procedures = item.get("procedures")
    if (not isinstance(procedures, list) or not procedures
            or not all(isinstance(code_, str) for code_ in procedures)):
        raise PhraseError("cần 'procedures': danh sách mã thủ tục theo thứ tự (procedures: ordered codes)")
    missing = [code_ for code_ in procedures if code_.upper() not in known_codes]
    if missing:
        raise PhraseError(f"không có thủ tục {', '.join(missing)} (unknown procedure codes)")
    active = item.get("active", True)
    if not isinstance(active, bool):
        raise PhraseError("'active' phải là true hoặc false (active must be true or false)")
    return {"code": code.strip(), "name": " ".join(nfc(name).split()), "name_en": " ".join(name_en.split()),
            "procedures": dumps([code_.upper() for code_ in procedures]),
            "phrasings": dumps(clean_phrases(item.get("phrasings"), "phrasings")),
            "phrasings_en": dumps(clean_phrases(item.get("phrasings_en"), "phrasings_en")),
            "active": int(active)}


def save_life_event(db, centre_id: str, values: dict, sort_order: int) -> tuple[dict | None, dict]:
    """Add or update one life event by code (inside the caller's transaction); returns (before, after)."""
    existing = store.one(db, "SELECT * FROM life_events WHERE centre_id = ? AND code = ?", (centre_id, values["code"]))
    if existing is None:
        store.insert(db, "life_events", {"centre_id": centre_id, "sort_order": sort_order, **values})
    else:
        columns = {key: value for key, value in values.items() if key != "code"}
        assignments = ", ".join(f"{key} = ?" for key in columns)
        store.execute(db, f"UPDATE life_events SET {assignments} WHERE id = ?", (*columns.values(), existing["id"]))
    after = store.one(db, "SELECT * FROM life_events WHERE centre_id = ? AND code = ?", (centre_id, values["code"]))
    return (event_view(existing) if existing else None), event_view(after)


# ---- the bundled catalogue ------------------------------------------------------------------------

def seed_from_catalogue(db, centre_id: str, catalogue: dict) -> None:
    """Give a centre the catalogue's phrasings (procedures with its codes and no phrasings yet) and life events."""
    codes = set()
    for field in catalogue.get("fields", []):
        for procedure in field.get("procedures", []):
            codes.add(procedure["code"])
            values = {key: dumps(procedure.get(key) or []) for key in PHRASE_FIELDS}
            db.execute("UPDATE procedures SET phrasings = ?, phrasings_en = ?, documents = ?, documents_en = ? "
                       "WHERE centre_id = ? AND code = ? AND phrasings IN ('', '[]')",
                       (*values.values(), centre_id, procedure["code"]))
    present = {row[0] for row in db.execute("SELECT code FROM procedures WHERE centre_id = ?", (centre_id,)).fetchall()}
    for order, event in enumerate(catalogue.get("life_events", [])):
        steps = [code for code in event["procedures"] if code in present]
        if not steps:
            continue
        db.execute("INSERT OR IGNORE INTO life_events (centre_id, code, name, name_en, procedures, phrasings, "
                   "phrasings_en, sort_order) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                   (centre_id, event["code"], event["name"], event.get("name_en", ""), dumps(steps),
                    dumps(event.get("phrasings") or []), dumps(event.get("phrasings_en") or []), order))
