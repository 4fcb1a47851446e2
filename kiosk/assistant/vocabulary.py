"""What the assistant knows, as data: procedures with their everyday phrasings, life events, and
the language file (abbreviations, synonym groups, stop-words, requests this centre does not handle).

Procedures and life events come from the centre's catalogue (the bundled
``queueing/data/catalogue.vi.json`` or the database the admin edits); so does the language data:
the server passes the centre's copy from the database (table ``assistant_vocabulary``, edited on the
admin page "Từ vựng trợ lý"), and ``load_language()`` reads the bundled
``queueing/data/vocabulary.vi.json`` that seeds it (the default for the bench and tests). Nothing
here is hard-coded in Python, so a centre can teach the assistant its own words without a release.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from .textnorm import fold, nfc, words

VOCABULARY_PATH = Path(__file__).resolve().parents[2] / "queueing" / "data" / "vocabulary.vi.json"


@dataclass(frozen=True)
class ProcedureInfo:
    """One procedure as the assistant sees it, from the catalogue file or the database."""

    service: str
    code: str
    name: str
    name_en: str
    service_name: str
    service_name_en: str
    legal_days: int | None
    same_day: bool
    fee_vnd: int | None
    fee_note: str | None
    legal_days_note: str | None = None  # tells "10 ngày" from "10 ngày làm việc"
    phrasings: tuple[str, ...] = ()     # how citizens ask for it, in Vietnamese
    phrasings_en: tuple[str, ...] = ()  # ... and in English
    documents: tuple[str, ...] = ()     # what to bring, when the catalogue says
    documents_en: tuple[str, ...] = ()


@dataclass(frozen=True)
class LifeEvent:
    """Something that happens to a family (a birth, a death) and the procedures it needs, in order."""

    code: str
    name: str
    name_en: str
    procedures: tuple[str, ...]
    phrasings: tuple[str, ...] = ()
    phrasings_en: tuple[str, ...] = ()


@dataclass(frozen=True)
class LanguageData:
    """The language file, folded once for matching."""

    abbreviations: dict[str, str] = field(default_factory=dict)   # folded word → folded words
    synonym_groups: list[list[str]] = field(default_factory=list)  # folded phrases
    synonym_groups_en: list[list[str]] = field(default_factory=list)  # lower-case English phrases
    stopwords: frozenset[str] = frozenset()         # accented, lower case
    stopwords_folded: frozenset[str] = frozenset()  # their folded forms
    stopwords_en: frozenset[str] = frozenset()
    out_of_scope: tuple[str, ...] = ()
    out_of_scope_en: tuple[str, ...] = ()


def _texts(value) -> tuple[str, ...]:
    """A list of phrases from JSON (list) or from an admin form (one per line), NFC, no blanks."""
    if not value:
        return ()
    items = value.splitlines() if isinstance(value, str) else value
    seen, out = set(), []
    for item in items:
        text = nfc(str(item)).strip()
        if text and text not in seen:
            seen.add(text)
            out.append(text)
    return tuple(out)


def procedure_from_catalogue(service: dict, procedure: dict) -> ProcedureInfo:
    """Build a ProcedureInfo from a catalogue file's field and procedure entries."""
    optional = lambda key: nfc(procedure[key]) if procedure.get(key) else None  # noqa: E731
    return ProcedureInfo(
        service=service["code"], code=procedure["code"], name=nfc(procedure["name_vi"]),
        name_en=procedure.get("name_en") or "", service_name=nfc(service["name_vi"]),
        service_name_en=service.get("name_en") or "", legal_days=procedure.get("legal_days"),
        same_day=bool(procedure.get("same_day")), fee_vnd=procedure.get("fee_vnd"),
        fee_note=optional("fee_note"), legal_days_note=optional("legal_days_note"),
        phrasings=_texts(procedure.get("phrasings")), phrasings_en=_texts(procedure.get("phrasings_en")),
        documents=_texts(procedure.get("documents")), documents_en=_texts(procedure.get("documents_en")),
    )


def life_event_from_data(item: dict) -> LifeEvent:
    """Build a LifeEvent from a catalogue's or a configuration's `life_events` entry."""
    return LifeEvent(
        code=str(item.get("code") or item.get("id")), name=nfc(item.get("name") or item.get("name_vi") or ""),
        name_en=item.get("name_en") or "", procedures=tuple(item.get("procedures") or ()),
        phrasings=_texts(item.get("phrasings")), phrasings_en=_texts(item.get("phrasings_en")),
    )


def load_catalogue_procedures(path: str | Path) -> list[ProcedureInfo]:
    """Read every procedure of a catalogue file (``fields[].procedures[]``)."""
    catalogue = json.loads(Path(path).read_text(encoding="utf-8"))
    return [procedure_from_catalogue(service, procedure)
            for service in catalogue["fields"] for procedure in service["procedures"]]


def load_catalogue_life_events(path: str | Path) -> list[LifeEvent]:
    """Read the life events of a catalogue file (its ``life_events`` section, if any)."""
    catalogue = json.loads(Path(path).read_text(encoding="utf-8"))
    return [life_event_from_data(item) for item in catalogue.get("life_events", [])]


def _folded_phrase(text: str) -> str:
    return " ".join(fold(word) for word in words(text))


def load_language(path: str | Path = VOCABULARY_PATH) -> LanguageData:
    """Read the language file and fold its keys for matching."""
    return language_from_data(json.loads(Path(path).read_text(encoding="utf-8")))


def language_from_data(data: dict) -> LanguageData:
    """Language data in the file's shape (e.g. a centre's copy from the database), folded for matching."""
    stopwords = frozenset(word for phrase in data.get("stopwords", []) for word in words(phrase))
    out_of_scope = data.get("out_of_scope", {})
    return LanguageData(
        abbreviations={_folded_phrase(key): _folded_phrase(value)
                       for key, value in data.get("abbreviations", {}).items()},
        synonym_groups=[[_folded_phrase(member) for member in group] for group in data.get("synonym_groups", [])],
        synonym_groups_en=[[" ".join(words(member)) for member in group] for group in data.get("synonym_groups_en", [])],
        stopwords=stopwords,
        stopwords_folded=frozenset(fold(word) for word in stopwords),
        stopwords_en=frozenset(word for phrase in data.get("stopwords_en", []) for word in words(phrase)),
        out_of_scope=_texts(out_of_scope.get("vi")),
        out_of_scope_en=_texts(out_of_scope.get("en")),
    )
