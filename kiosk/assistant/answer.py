"""The rule-based assistant: reads a request through the search index and decides how sure it is.

Three kinds of answer: one procedure (sure), "Có phải Ông/Bà cần…?" with the top three (unsure),
or "say so and send to the guidance desk" (nothing fits, or a request this centre does not
handle). A life event ("bố tôi mất") answers with its ordered steps across fields; the ticket is
for the first step.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from .index import EVENT, OUT_OF_SCOPE, PROCEDURE, Reading, SearchIndex
from .replies import (NOT_HERE, NOT_UNDERSTOOD, choices_reply, confident_reply, describe_fee,
                      describe_legal_time, is_english, life_event_reply)
from .textnorm import MAX_INPUT_CHARS, nfc, strip_controls
from .vocabulary import LanguageData, LifeEvent, ProcedureInfo, load_language

# Gates, tuned on tests/data/assistant_dev.tsv (never on the test split); see bench/bench_assistant.py.
MIN_SCORE = 3.0           # below this best BM25 score nothing is suggested
MIN_KNOWN_SHARE = 0.34    # ...nor when the vocabulary knows less than this share of the content words
CONFIDENT_SCORE = 6.0     # one procedure named from here on...
CONFIDENT_MARGIN = 0.10   # ...when it leads the runner-up by this share of its score...
CONFIDENT_KNOWN = 0.5     # ...and at least half of what was said is known...
CONFIDENT_MATCHED = 0.5   # ...and the best match explains at least half of the known words
EVENT_NEAR = 0.85         # a life event this close to a procedure it starts with is shown too
SCORE_HALF = 6.0          # the BM25 score shown as 50 out of 100
MAX_SUGGESTIONS = 5
CHOICES = 3


@dataclass(frozen=True)
class Suggestion:
    """A procedure offered to the citizen, with what the kiosk shows next to it."""

    service: str
    procedure: str
    name: str
    score: float  # 0–100, higher is a better match
    service_name: str
    legal_time: str | None
    fee: str | None
    legal_days: int | None = None
    documents: tuple[str, ...] = ()

    def to_dict(self) -> dict:
        """Return the suggestion as JSON-ready data."""
        return {"service": self.service, "procedure": self.procedure, "name": self.name, "score": self.score,
                "service_name": self.service_name, "legal_time": self.legal_time, "fee": self.fee,
                "legal_days": self.legal_days, "documents": list(self.documents)}


@dataclass(frozen=True)
class Answer:
    """The assistant's reply to one question, best suggestion first."""

    reply: str
    suggestions: list[Suggestion]
    understood: bool
    confident: bool = False
    choices: list[Suggestion] = field(default_factory=list)  # offered when unsure (at most three)
    life_event: dict | None = None  # {code, name, steps:[…]} when the request is a life event

    def to_dict(self) -> dict:
        """Return the answer as JSON-ready data (the contract's fields, then the additions)."""
        return {"reply": self.reply, "suggestions": [s.to_dict() for s in self.suggestions],
                "understood": self.understood, "confident": self.confident,
                "choices": [s.to_dict() for s in self.choices], "life_event": self.life_event}


_GREETINGS_VI = {"morning": "Chào buổi sáng", "noon": "Chào buổi trưa", "afternoon": "Chào buổi chiều",
                 "evening": "Chào buổi tối"}
def _greeting_vi(period: str) -> str:
    return (f"{_GREETINGS_VI[period]}! Ông/Bà cần làm thủ tục gì? Hãy chạm vào lĩnh vực "
            "hoặc gõ nhu cầu, ví dụ: “làm giấy khai sinh”.")


def greeting_sentences_vi() -> list[str]:
    """Every Vietnamese greeting the kiosk speaks: closed phrases, so the voice pack records them (issue 19)."""
    return [_greeting_vi(period) for period in _GREETINGS_VI]


_GREETINGS_EN = {"morning": "Good morning", "noon": "Good afternoon",  # before 12:00 see greeting()
                 "afternoon": "Good afternoon", "evening": "Good evening"}


def part_of_day(local_time: datetime) -> str:
    """Return "morning" (05–10:59), "noon" (11–12:59), "afternoon" (13–17:59) or "evening"."""
    hour = local_time.hour
    if 5 <= hour < 11:
        return "morning"
    if 11 <= hour < 13:
        return "noon"
    if 13 <= hour < 18:
        return "afternoon"
    return "evening"


def shown_score(score: float) -> float:
    """A BM25 score as 0–100 for the kiosk (saturating: more evidence, closer to 100)."""
    return round(100 * score / (score + SCORE_HALF), 1)


class RuleBasedAssistant:
    """Greets by time of day and finds procedures and life events in an FTS5 index of phrasings."""

    def __init__(self, procedures: list[ProcedureInfo], life_events: list[LifeEvent] | None = None,
                 language: LanguageData | None = None):
        self.procedures = list(procedures)
        self.by_code = {procedure.code: procedure for procedure in self.procedures}
        # An event whose steps are not all in this centre's catalogue keeps the steps that are.
        self.life_events = {}
        for event in life_events or []:
            steps = tuple(code for code in event.procedures if code in self.by_code)
            if steps:
                self.life_events[event.code] = (event, steps)
        self.index = SearchIndex(self.procedures, [event for event, _ in self.life_events.values()],
                                 language or load_language())

    def greeting(self, local_time: datetime, lang: str = "vi") -> str:
        """Return the welcome line for the centre's local time."""
        period = part_of_day(local_time)
        if is_english(lang):
            salutation = _GREETINGS_EN[period]
            if period == "noon" and local_time.hour < 12:
                salutation = "Good morning"
            return (f"{salutation}! What procedure do you need? Touch a field, or type "
                    "what you need, e.g. “birth registration”.")
        return _greeting_vi(period)

    def ask(self, text: str, lang: str = "vi") -> Answer:
        """Return the procedures matching what the citizen said or typed, best first."""
        english = is_english(lang)
        key = "en" if english else "vi"
        text = strip_controls(nfc((text or "")[:MAX_INPUT_CHARS]))
        reading = self.index.read(text, "en" if english else "vi") if self.procedures else Reading("vi")
        ranked = reading.ranked
        if not ranked or ranked[0][1] < MIN_SCORE or reading.known_share < MIN_KNOWN_SHARE:
            return Answer(NOT_UNDERSTOOD[key], [], False)
        best_target, best = ranked[0]
        if best_target.startswith(OUT_OF_SCOPE + ":"):
            return Answer(NOT_HERE[key], [], False)

        event = self._event(ranked, best)
        ordered = self._ordered(ranked, event)
        suggestions, previous = [], 100.0
        for code, score in ordered[:MAX_SUGGESTIONS]:
            previous = min(previous, shown_score(score))  # steps keep their order, scores never rise
            suggestions.append(self._suggestion(self.by_code[code], previous, lang))
        runner_up = next((score for target, score in ranked[1:] if not self._same(target, best_target, event)), 0.0)
        confident = (best >= CONFIDENT_SCORE and (best - runner_up) / best >= CONFIDENT_MARGIN
                     and reading.known_share >= CONFIDENT_KNOWN and reading.matched_share >= CONFIDENT_MATCHED)
        if event is not None:
            life_event, steps = event
            step_procedures = [self.by_code[code] for code in steps]
            return Answer(life_event_reply(life_event, step_procedures, lang), suggestions, True, confident, [],
                          self._life_event_view(life_event, step_procedures, lang))
        if confident:
            return Answer(confident_reply(self.by_code[ordered[0][0]], lang), suggestions, True, True)
        choices = suggestions[:CHOICES]
        return Answer(choices_reply([self.by_code[s.procedure] for s in choices], lang), suggestions, True,
                      False, choices)

    def _event(self, ranked: list[tuple[str, float]], best: float):
        """The life event the request is about: the best match, or close to a procedure it starts with."""
        target = ranked[0][0]
        if target.startswith(EVENT + ":"):
            return self.life_events[target[2:]]
        for other, score in ranked[1:6]:
            if other.startswith(EVENT + ":") and score >= EVENT_NEAR * best:
                event = self.life_events[other[2:]]
                if event[1][0] == target[2:]:
                    return event
        return None

    @staticmethod
    def _same(target: str, best_target: str, event) -> bool:
        # A life event's own steps are not its rivals.
        return target == best_target or (event is not None and target[2:] in event[1])

    def _ordered(self, ranked: list[tuple[str, float]], event) -> list[tuple[str, float]]:
        """Procedure codes best first; a life event's steps first, in their order."""
        out: dict[str, float] = {}
        if event is not None:
            top = ranked[0][1]
            for code in event[1]:
                out[code] = top
        for target, score in ranked:
            if target.startswith(PROCEDURE + ":"):
                out.setdefault(target[2:], score)
            elif target.startswith(EVENT + ":") and event is None and score >= EVENT_NEAR * ranked[0][1]:
                out.setdefault(self.life_events[target[2:]][1][0], score)
        return list(out.items())

    def _suggestion(self, procedure: ProcedureInfo, score: float, lang: str) -> Suggestion:
        english = is_english(lang)
        return Suggestion(
            service=procedure.service, procedure=procedure.code,
            name=(procedure.name_en or procedure.name) if english else procedure.name, score=score,
            service_name=(procedure.service_name_en or procedure.service_name) if english else procedure.service_name,
            legal_time=describe_legal_time(procedure, lang), fee=describe_fee(procedure, lang),
            legal_days=procedure.legal_days,
            documents=(procedure.documents_en or procedure.documents) if english else procedure.documents)

    def _life_event_view(self, event: LifeEvent, steps: list[ProcedureInfo], lang: str) -> dict:
        english = is_english(lang)
        return {"code": event.code, "name": (event.name_en or event.name) if english else event.name,
                "steps": [{"service": step.service, "procedure": step.code,
                           "name": (step.name_en or step.name) if english else step.name,
                           "fee": describe_fee(step, lang), "legal_days": step.legal_days,
                           "legal_time": describe_legal_time(step, lang),
                           "documents": list((step.documents_en or step.documents) if english else step.documents)}
                          for step in steps]}
