"""The kiosk's greeting assistant and procedure finder: pluggable, rule-based by default.

The kiosk asks an ``Assistant`` two things: a greeting for the time of day, and which procedures
match what a citizen said or typed ("lam can cuoc", "bố tôi mất rồi giờ làm gì"). The default
backend, ``RuleBasedAssistant``, needs no network and no model. Its parts, along their seams:

- ``textnorm``   reading text: NFC, words, folding, Telex/VNI typed with the keyboard off;
- ``vocabulary`` the data: procedures with everyday phrasings, life events, the language file;
- ``index``      the SQLite FTS5 index (BM25, accented and folded columns, synonym expansion);
- ``replies``    times, fees and the sentences the kiosk shows and speaks;
- ``answer``     deciding: one procedure, three choices, a life event's steps, or the guidance desk.

Plugging in another backend (for example an LLM) later:

1. Write a class with the two methods of ``Assistant`` — ``greeting(local_time, lang)`` and
   ``ask(text, lang) -> Answer`` — built from ``list[ProcedureInfo]`` (and, as a keyword,
   ``life_events``). It must return only procedures from that list and must answer
   ``understood=False`` rather than guess. Wrapping ``RuleBasedAssistant`` as the fallback for
   timeouts is the safe shape.
2. Register it: ``register_assistant("llm", LlmAssistant)`` (or add it to ``BACKENDS``).
3. Choose it with the ``LUOT_ASSISTANT`` setting (default ``"rules"``). The server calls
   ``make_assistant(value, procedures, life_events, language)`` lazily, at the first assistant request of a
   process (kiosk/routes.py), NOT at start-up: an unknown name makes that request fail with a
   ValueError listing the known ones (logged; the kiosk answers 500), and the server starts anyway. ``ask`` is called from many request threads
   at once: keep shared state thread-safe.

This package is pure Python (no Flask), so it can be tested and benchmarked alone.
"""
from __future__ import annotations

from datetime import datetime
from typing import Callable, Protocol, runtime_checkable

from .answer import Answer, RuleBasedAssistant, Suggestion, part_of_day
from .replies import describe_fee, describe_legal_time
from .textnorm import MAX_INPUT_CHARS
from .vocabulary import (LanguageData, LifeEvent, ProcedureInfo, language_from_data, life_event_from_data,
                         load_catalogue_life_events, load_catalogue_procedures, load_language,
                         procedure_from_catalogue)

__all__ = ["Answer", "Assistant", "BACKENDS", "LanguageData", "LifeEvent", "MAX_INPUT_CHARS", "ProcedureInfo",
           "RuleBasedAssistant", "Suggestion", "describe_fee", "describe_legal_time", "language_from_data", "life_event_from_data",
           "load_catalogue_life_events", "load_catalogue_procedures", "load_language", "make_assistant",
           "part_of_day", "procedure_from_catalogue", "register_assistant"]


@runtime_checkable
class Assistant(Protocol):
    """What the kiosk needs from any assistant backend."""

    def greeting(self, local_time: datetime, lang: str = "vi") -> str:
        """Return the welcome line for the centre's local time."""
        ...

    def ask(self, text: str, lang: str = "vi") -> Answer:
        """Return the procedures matching what the citizen said or typed."""
        ...


AssistantFactory = Callable[..., Assistant]

BACKENDS: dict[str, AssistantFactory] = {"rules": RuleBasedAssistant}
DEFAULT_BACKEND = "rules"


def register_assistant(name: str, factory: AssistantFactory) -> None:
    """Make a backend choosable by name in the assistant setting."""
    BACKENDS[name] = factory


def make_assistant(name: str, procedures: list[ProcedureInfo], life_events: list[LifeEvent] | None = None,
                   language: LanguageData | None = None) -> Assistant:
    """Build the assistant backend the setting names ("rules" is the default); `language` is the centre's
    language data (abbreviations, synonyms, stop-words), the bundled file when None."""
    key = (name or DEFAULT_BACKEND).strip().lower()
    if key not in BACKENDS:
        known = ", ".join(sorted(BACKENDS))
        raise ValueError(f"unknown assistant {name!r}; known assistants: {known}")
    extra = {}
    if life_events:
        extra["life_events"] = list(life_events)
    if language is not None:
        extra["language"] = language
    return BACKENDS[key](list(procedures), **extra)
