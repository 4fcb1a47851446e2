"""The assistant's language data per centre (issue 13): abbreviations, synonym groups, stop-words and
requests the centre does not handle, in Vietnamese and English — and the admin's edits of life events.

The bundled ``data/vocabulary.vi.json`` seeds every centre (migration 0010); from then on the row of
``assistant_vocabulary`` is the truth, edited on the admin page "Từ vựng trợ lý", through the API,
or by a configuration import, each change audited. The form's text format: synonym groups one per
line with terms separated by commas, abbreviations ``abbr = expansion`` one per line, stop-words and
out-of-scope requests one per line. This module is part of the core: no Flask.
"""
from __future__ import annotations

import json
import time
import unicodedata
from pathlib import Path

from . import store, vocabulary
from .audit import record_change as audit
from .model import NotFound, Outcome, QueueError
from .text import nfc

LANGUAGE_PATH = Path(__file__).resolve().parent / "data" / "vocabulary.vi.json"
LIST_KEYS = ("stopwords", "stopwords_en")
GROUP_KEYS = ("synonym_groups", "synonym_groups_en")
LANGUAGE_KEYS = {"about", "abbreviations", "out_of_scope", *LIST_KEYS, *GROUP_KEYS}
TERM_MAX = 200
ITEMS_MAX = 2000


class LanguageError(QueueError):
    """Language data that cannot be stored; `errors` lists every reason, each in Vietnamese (English)."""

    status = 400
    code = "bad_vocabulary"

    def __init__(self, errors: list[str], fields: dict | None = None):
        super().__init__("Từ vựng chưa lưu: " + "; ".join(errors) + " (vocabulary not saved)")
        self.errors = errors
        self.fields = fields or {}


def bundled_language(path: Path = LANGUAGE_PATH) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def get_language(db, centre_id: str) -> dict:
    """The centre's language data (the bundled file until the centre has a row)."""
    text = store.assistant_language(db, centre_id)
    return json.loads(text) if text else clean_language(bundled_language())


def seed_language(db, centre_id: str) -> None:
    """Give a centre the bundled language data unless it has its own (inside the caller's transaction)."""
    db.conn.execute("INSERT OR IGNORE INTO assistant_vocabulary (centre_id, data) VALUES (?, ?)",
                    (centre_id, json.dumps(clean_language(bundled_language()), ensure_ascii=False)))


# ---- checking ----------------------------------------------------------------------------------

def _term(value, where: str, errors: list[str]) -> str | None:
    if not isinstance(value, str):
        errors.append(f"{where}: phải là chữ (must be text)")
        return None
    term = " ".join(nfc(value).split())
    if not term:
        errors.append(f"{where}: không được để trống (must not be empty)")
        return None
    if any(unicodedata.category(ch) == "Cc" for ch in term):
        errors.append(f"{where}: có ký tự điều khiển (control characters)")
        return None
    if len(term) > TERM_MAX:
        errors.append(f"{where}: tối đa {TERM_MAX} ký tự (at most {TERM_MAX} characters)")
        return None
    return term


def _terms(value, where: str, errors: list[str]) -> list[str]:
    if not isinstance(value, list):
        errors.append(f"{where}: phải là danh sách chữ (must be a list of text)")
        return []
    if len(value) > ITEMS_MAX:
        errors.append(f"{where}: tối đa {ITEMS_MAX} mục (at most {ITEMS_MAX} items)")
        return []
    out, seen = [], set()
    for index, item in enumerate(value, start=1):
        term = _term(item, f"{where}[{index}]", errors)
        if term is not None and term.casefold() not in seen:
            seen.add(term.casefold())
            out.append(term)
    return out


def clean_language(data) -> dict:
    """Check language data (the JSON shape of the bundled file); raises LanguageError listing every fault."""
    if not isinstance(data, dict):
        raise LanguageError(["từ vựng phải là một đối tượng JSON (vocabulary must be an object)"])
    errors: list[str] = []
    unknown = sorted(set(data) - LANGUAGE_KEYS)
    if unknown:
        errors.append(f"mục không được hỗ trợ {', '.join(unknown)} (unknown keys; allowed: "
                      f"{', '.join(sorted(LANGUAGE_KEYS))})")
    clean: dict = {}
    if "about" in data:
        clean["about"] = data["about"] if isinstance(data["about"], str) else ""
    abbreviations = data.get("abbreviations", {})
    clean["abbreviations"] = {}
    if not isinstance(abbreviations, dict):
        errors.append("abbreviations: phải là bảng chữ viết tắt → từ đầy đủ (must map text to text)")
    else:
        for key, value in abbreviations.items():
            short = _term(key, f"abbreviations «{key}»", errors)
            full = _term(value, f"abbreviations «{key}»", errors)
            if short and full:
                clean["abbreviations"][short] = full
    for key in GROUP_KEYS:
        groups = data.get(key, [])
        clean[key] = []
        if not isinstance(groups, list):
            errors.append(f"{key}: phải là danh sách các nhóm (must be a list of groups)")
            continue
        for index, group in enumerate(groups, start=1):
            terms = _terms(group, f"{key}[{index}]", errors)
            if isinstance(group, list) and len(terms) < 2:
                errors.append(f"{key}[{index}]: mỗi nhóm cần ít nhất 2 từ khác nhau (a group needs at least 2 terms)")
            elif len(terms) >= 2:
                clean[key].append(terms)
    for key in LIST_KEYS:
        clean[key] = _terms(data.get(key, []), key, errors)
    out_of_scope = data.get("out_of_scope", {})
    if not isinstance(out_of_scope, dict) or set(out_of_scope) - {"vi", "en"}:
        errors.append("out_of_scope: phải có dạng {\"vi\": [...], \"en\": [...]} (must be {vi: [...], en: [...]})")
        out_of_scope = {}
    clean["out_of_scope"] = {lang: _terms(out_of_scope.get(lang, []), f"out_of_scope.{lang}", errors)
                             for lang in ("vi", "en")}
    if errors:
        raise LanguageError(errors)
    return clean


# ---- the admin form's text ---------------------------------------------------------------------

def language_to_form(data: dict) -> dict:
    """Language data as the form's text areas."""
    return {"abbreviations": "\n".join(f"{k} = {v}" for k, v in data.get("abbreviations", {}).items()),
            **{key: "\n".join(", ".join(group) for group in data.get(key, [])) for key in GROUP_KEYS},
            **{key: "\n".join(data.get(key, [])) for key in LIST_KEYS},
            "out_of_scope": "\n".join(data.get("out_of_scope", {}).get("vi", [])),
            "out_of_scope_en": "\n".join(data.get("out_of_scope", {}).get("en", []))}


def language_from_form(form: dict, about: str = "") -> dict:
    """The form's text areas as language data (checked by clean_language); a line without '=' is refused."""
    lines = lambda key: [line.strip() for line in str(form.get(key) or "").splitlines() if line.strip()]  # noqa: E731
    errors, abbreviations = [], {}
    for line in lines("abbreviations"):
        short, sep, full = line.partition("=")
        if not sep:
            errors.append(f"chữ viết tắt «{line}»: cần dạng «viết tắt = đầy đủ» (expected 'abbr = expansion')")
            continue
        abbreviations[short.strip()] = full.strip()
    if errors:
        raise LanguageError(errors, {"abbreviations": errors[0]})
    return {"about": about, "abbreviations": abbreviations,
            **{key: [[term.strip() for term in line.split(",") if term.strip()] for line in lines(key)]
               for key in GROUP_KEYS},
            **{key: lines(key) for key in LIST_KEYS},
            "out_of_scope": {"vi": lines("out_of_scope"), "en": lines("out_of_scope_en")}}


# ---- changes, audited ------------------------------------------------------------------------------

def save_language(db, centre_id: str, user_id, data, now: float | None = None) -> Outcome:
    """Replace a centre's language data; audited as `vocabulary.update` with the keys that changed."""
    clean = clean_language(data)
    if "about" not in clean:
        clean["about"] = get_language(db, centre_id).get("about", "")
    with store.transaction(db):
        changed = apply_language(db, centre_id, clean)
        if changed:
            audit(db, centre_id, time.time() if now is None else now, user_id, "vocabulary.update",
                  {"type": "vocabulary", "id": centre_id}, *changed)
    return Outcome(clean, [])


def apply_language(db, centre_id: str, clean: dict) -> tuple[dict, dict] | None:
    """Write checked language data inside the caller's transaction; returns (before, after) of what changed."""
    before = get_language(db, centre_id)
    db.conn.execute("INSERT INTO assistant_vocabulary (centre_id, data) VALUES (?, ?) ON CONFLICT (centre_id) "
                    "DO UPDATE SET data = excluded.data", (centre_id, json.dumps(clean, ensure_ascii=False)))
    keys = [key for key in clean if before.get(key) != clean.get(key)]
    return ({key: before.get(key) for key in keys}, {key: clean[key] for key in keys}) if keys else None


def event_from_form(form: dict) -> dict:
    """A life event typed on the admin page: procedure codes separated by commas or spaces, phrasings one per line."""
    codes = str(form.get("procedures") or "").replace(",", " ").split()
    return {"code": str(form.get("code") or "").strip(), "name": str(form.get("name") or ""),
            "name_en": str(form.get("name_en") or ""), "procedures": codes,
            "phrasings": str(form.get("phrasings") or ""), "phrasings_en": str(form.get("phrasings_en") or "")}


def save_event(db, centre_id: str, user_id, item, now: float | None = None) -> Outcome:
    """Add or edit one life event; audited as `life_events.create` / `life_events.update`."""
    known = {row["code"] for row in store.all_rows(db, "SELECT code FROM procedures WHERE centre_id = ?", (centre_id,))}
    if isinstance(item, dict):
        item = {**item, "phrasings": item.get("phrasings") or [], "phrasings_en": item.get("phrasings_en") or []}
        if "active" not in item and isinstance(item.get("code"), str):  # an edit keeps its active state
            active = store.scalar(db, "SELECT active FROM life_events WHERE centre_id = ? AND code = ?",
                                  (centre_id, item["code"].strip()))
            item["active"] = True if active is None else bool(active)
    try:
        values = vocabulary.clean_life_event(item, known)
    except vocabulary.PhraseError as error:
        raise LanguageError([str(error)]) from None
    with store.transaction(db):
        order = store.scalar(db, "SELECT COALESCE(MAX(sort_order), -1) + 1 FROM life_events WHERE centre_id = ?",
                             (centre_id,))
        existing = store.scalar(db, "SELECT sort_order FROM life_events WHERE centre_id = ? AND code = ?",
                                (centre_id, values["code"]))
        before, after = vocabulary.save_life_event(db, centre_id, values, order if existing is None else existing)
        if before != after:
            audit(db, centre_id, time.time() if now is None else now, user_id,
                  "life_events.update" if before else "life_events.create",
                  {"type": "life_event", "code": values["code"]}, before, after)
    return Outcome(after, [])


def set_event_active(db, centre_id: str, user_id, code: str, active: bool, now: float | None = None) -> Outcome:
    """Deactivate (or reactivate) a life event; audited as `life_events.deactivate` / `.activate`."""
    with store.transaction(db):
        row = store.one(db, "SELECT * FROM life_events WHERE centre_id = ? AND code = ?", (centre_id, code))
        if row is None:
            raise NotFound(f"Không có sự kiện «{code}» (unknown life event)", code="unknown_life_event")
        if bool(row["active"]) != active:
            store.execute(db, "UPDATE life_events SET active = ? WHERE id = ?", (int(active), row["id"]))
            audit(db, centre_id, time.time() if now is None else now, user_id,
                  "life_events.activate" if active else "life_events.deactivate",
                  {"type": "life_event", "code": code}, {"active": bool(row["active"])}, {"active": active})
        after = vocabulary.event_view(store.one(db, "SELECT * FROM life_events WHERE id = ?", (row["id"],)))
    return Outcome(after, [])
