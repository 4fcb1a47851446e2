"""The kiosk's greeting assistant and procedure finder: pluggable, rule-based by default.

The kiosk asks an ``Assistant`` two things: a greeting for the time of day, and which
procedures match what a citizen said or typed ("lam can cuoc", "sang tên sổ đỏ"). The
default backend, ``RuleBasedAssistant``, needs no network and no model: it folds the text
(case and diacritics ignored), maps everyday words to catalogue terms with the hand-written
tables below, and ranks procedures with rapidfuzz plus IDF-weighted word and word-pair
matches. When nothing fits it says so and sends the citizen to the help desk.

Plugging in another backend (for example an LLM) later:

1. Write a class with the two methods of ``Assistant`` — ``greeting(local_time, lang)``
   and ``ask(text, lang) -> Answer`` — built from ``list[ProcedureInfo]``. It must return
   only procedures from that list and must answer ``understood=False`` rather than guess.
   Wrapping ``RuleBasedAssistant`` as the fallback for timeouts is the safe shape.
2. Register it: ``register_assistant("llm", LlmAssistant)`` (or add it to ``BACKENDS``).
3. Choose it with the server's assistant setting (declared in ``settings.py`` like the
   others, e.g. ``LUOT_ASSISTANT``, default ``"rules"``). The server calls
   ``make_assistant(value, procedures)`` once at start-up, so an unknown name fails there
   with a ValueError listing the known ones, not on a citizen's first question. ``ask``
   is called from many request threads at once: keep shared state thread-safe.

This module is pure Python (no Flask), so it can be tested and benchmarked alone.
"""
from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Callable, Protocol, runtime_checkable

from rapidfuzz import fuzz, process
from rapidfuzz.distance import DamerauLevenshtein

from queueing.text import fold, nfc

# ---------------------------------------------------------------------------------------
# Hand-written language data. Keys are folded (lower case, no diacritics, đ→d), words
# separated by single spaces; each table is applied longest key first, in one pass.
# ---------------------------------------------------------------------------------------

# Abbreviations and spelling variants, applied first so later tables see one spelling.
ABBREVIATIONS: dict[str, str] = {
    "ki": "ky",  # "đăng kí" and "đăng ký" are both correct spellings
    "li": "ly",  # "lí lịch"
    "dk": "dang ky",
    "dki": "dang ky",
    "cmnd": "can cuoc",
    "cmt": "can cuoc",
    "cccd": "can cuoc",
    "chung minh nhan dan": "can cuoc",
    "chung minh thu": "can cuoc",
    "chung minh": "can cuoc",
    "can cuoc cong dan": "can cuoc",
    "bhyt": "bao hiem y te",
    "bhxh": "bao hiem xa hoi",
    "gplx": "giay phep lai xe",
    "lltp": "ly lich tu phap",
    "qsdd": "quyen su dung dat",
    "gcn": "giay chung nhan",
    "gpxd": "giay phep xay dung",
    "hkd": "ho kinh doanh",
    "ct07": "xac nhan thong tin ve cu tru",
    "ct 07": "xac nhan thong tin ve cu tru",
}

# What citizens say → the words the catalogue uses for it.
SYNONYMS: dict[str, str] = {
    # Hộ tịch
    "giay khai sinh": "dang ky khai sinh",
    "giay chung sinh": "dang ky khai sinh",
    "ban sao giay khai sinh": "cap ban sao trich luc ho tich",
    "ban sao khai sinh": "cap ban sao trich luc ho tich",
    "ban sao giay ket hon": "cap ban sao trich luc ho tich",
    "ban sao ket hon": "cap ban sao trich luc ho tich",
    "trich luc": "cap ban sao trich luc ho tich",
    "giay ket hon": "dang ky ket hon",
    "lay vo": "dang ky ket hon",
    "lay chong": "dang ky ket hon",
    "xac nhan doc than": "xac nhan tinh trang hon nhan",
    "doc than": "xac nhan tinh trang hon nhan",
    "giay chung tu": "dang ky khai tu",
    "bao tu": "dang ky khai tu",
    "qua doi": "dang ky khai tu",
    "nguoi mat": "dang ky khai tu",
    "nguoi chet": "dang ky khai tu",
    "ho ten": "thong tin ho tich",
    "sua ten": "thay doi cai chinh thong tin ho tich",
    "doi ten": "thay doi cai chinh thong tin ho tich",
    "sua ngay sinh": "cai chinh thong tin ho tich",
    "sua giay khai sinh": "cai chinh thong tin ho tich",
    # Chứng thực
    "sao y ban chinh": "chung thuc ban sao tu ban chinh",
    "sao y": "chung thuc ban sao",
    "cong chung ban sao": "chung thuc ban sao",
    "photo cong chung": "chung thuc ban sao",
    "cong chung giay to": "chung thuc ban sao giay to",
    "cong chung hop dong": "chung thuc giao dich",
    "cong chung": "chung thuc",
    "xac nhan chu ky": "chung thuc chu ky",
    "ky ten": "chu ky",
    "lan tay": "diem chi",
    "hop dong mua ban": "chung thuc giao dich",
    "mua ban nha": "chung thuc giao dich nha o",
    # Cư trú
    "nhap ho khau": "dang ky thuong tru",
    "chuyen ho khau": "dang ky thuong tru",
    "nhap khau": "dang ky thuong tru",
    "cat ho khau": "xoa dang ky thuong tru",
    "xoa ho khau": "xoa dang ky thuong tru",
    "tach ho khau": "tach ho",
    "ho khau": "thuong tru",
    "xac nhan cu tru": "xac nhan thong tin ve cu tru",
    "giay xac nhan cu tru": "xac nhan thong tin ve cu tru",
    "xac nhan noi o": "xac nhan thong tin ve cu tru",
    "di vang": "khai bao tam vang",
    # Căn cước
    "lam can cuoc": "cap the can cuoc lan dau",
    "lam the can cuoc": "cap the can cuoc lan dau",
    "doi can cuoc": "cap doi the can cuoc",
    "mat can cuoc": "cap lai the can cuoc",
    "mat the can cuoc": "cap lai the can cuoc",
    "lam lai": "cap lai",
    "bi mat": "cap lai",
    "bi hong": "cap lai",
    "sua thong tin dan cu": "dieu chinh thong tin co so du lieu quoc gia ve dan cu",
    "du lieu dan cu": "co so du lieu quoc gia ve dan cu",
    "tich hop": "tich hop cap nhat thong tin tren the can cuoc",
    # Đất đai
    "lam so do": "cap giay chung nhan quyen su dung dat lan dau",
    "cap so do": "cap giay chung nhan quyen su dung dat lan dau",
    "so do": "giay chung nhan quyen su dung dat",
    "so hong": "giay chung nhan quyen su dung dat",
    "sang ten": "dang ky bien dong chuyen nhuong",
    "mua ban dat": "dang ky bien dong chuyen nhuong quyen su dung dat",
    "chuyen nhuong dat": "dang ky bien dong chuyen nhuong quyen su dung dat",
    "tach so": "tach thua",
    "chia dat": "tach thua",
    "gop thua": "hop thua",
    # Xây dựng
    "xay nha": "giay phep xay dung nha o rieng le",
    "xay dung nha": "giay phep xay dung nha o rieng le",
    "giay phep xay nha": "giay phep xay dung nha o rieng le",
    "phep xay nha": "giay phep xay dung nha o rieng le",
    # Kinh doanh
    "mo cua hang": "dang ky thanh lap ho kinh doanh",
    "mo quan": "dang ky thanh lap ho kinh doanh",
    "mo tiem": "dang ky thanh lap ho kinh doanh",
    "mo shop": "dang ky thanh lap ho kinh doanh",
    "kinh doanh ca the": "ho kinh doanh",
    "buon ban": "ho kinh doanh",
    "giay phep kinh doanh": "dang ky kinh doanh",
    "mo cong ty": "dang ky thanh lap doanh nghiep",
    "thanh lap cong ty": "dang ky thanh lap doanh nghiep",
    "cong ty": "doanh nghiep",
    "dong cua hang": "cham dut hoat dong ho kinh doanh",
    "nghi kinh doanh": "tam ngung kinh doanh ho kinh doanh",
    "ngung kinh doanh": "tam ngung kinh doanh ho kinh doanh",
    # Bảo trợ xã hội
    "tro cap": "tro cap xa hoi",
    "nguoi gia": "tro cap xa hoi hang thang",
    "nguoi cao tuoi": "tro cap xa hoi hang thang",
    "mai tang phi": "ho tro chi phi mai tang",
    "tien ma chay": "ho tro chi phi mai tang",
    "tien mai tang": "ho tro chi phi mai tang",
    # Lý lịch tư pháp
    "tien an": "phieu ly lich tu phap",
    "tien su": "phieu ly lich tu phap",
    # Giấy phép lái xe
    "bang lai xe": "giay phep lai xe",
    "bang lai": "giay phep lai xe",
    "bang xe": "giay phep lai xe",
    # Bảo hiểm
    "rut bao hiem xa hoi": "huong bao hiem xa hoi mot lan",
    "rut bao hiem": "huong bao hiem xa hoi mot lan",
    "lanh bao hiem": "huong bao hiem xa hoi",
    "so bao hiem": "so bao hiem xa hoi",
}

# Words that carry no meaning for the search ("tôi muốn làm ... cần giấy tờ gì").
FILLERS: tuple[str, ...] = (
    "toi muon", "toi can", "em muon", "em can", "minh muon", "minh can", "chau muon",
    "cho toi hoi", "cho hoi", "xin hoi", "muon hoi", "vui long", "giup toi",
    "thu tuc hanh chinh", "thu tuc", "giay to gi", "nhung giay to gi", "can giay to gi",
    "ho so gi", "ho so", "can nhung gi", "can gi", "lam sao", "lam the nao", "nhu the nao",
    "the nao", "o dau", "mat bao lau", "bao lau", "bao nhieu tien", "het bao nhieu",
    "bao nhieu", "huong dan", "nop o dau",
    "toi", "em", "minh", "chau", "con", "ong", "ba", "anh", "chi", "co", "muon", "can",
    "lam", "xin", "hoi", "cho", "gi", "nao", "sao", "a", "ah", "nhe", "o", "tai", "dau",
    "di", "duoc", "khong", "phai", "la", "va", "voi", "cua", "de", "thi", "nhu", "viec",
    "giup", "hay", "oi", "da", "vay", "nay", "nhung", "cac", "ve", "mot", "nguoi", "vao",
    "tren", "ra",
)

# English: for citizens who type English on the English kiosk screen.
EN_SYNONYMS: dict[str, str] = {
    "id card": "identity card",
    "citizen id": "identity card",
    "id": "identity card",
    "driver license": "driving licence",
    "drivers license": "driving licence",
    "driver s license": "driving licence",
    "driving license": "driving licence",
    "license": "licence",
    "birth certificate": "birth registration",
    "marriage certificate": "marriage registration",
    "get married": "marriage registration",
    "death certificate": "death registration",
    "register": "registration",
    "single status": "certificate of marital status",
    "unmarried": "certificate of marital status",
    "police check": "criminal record certificate",
    "police clearance": "criminal record certificate",
    "building permit": "construction permit",
    "build a house": "construction permit detached private house",
    "red book": "land use right certificate",
    "pink book": "land use right certificate",
    "land title": "land use right certificate",
    "notarize": "certification of copies",
    "notarise": "certification of copies",
    "certified copy": "certification of copies",
    "open a shop": "household business registration",
    "company": "enterprise registration",
}

EN_FILLERS: tuple[str, ...] = (
    "i want to", "i would like to", "i need to", "how do i", "how to", "where can i",
    "what documents", "i", "want", "would", "like", "need", "to", "how", "do", "can",
    "get", "a", "an", "the", "my", "for", "please", "where", "what", "is", "are",
    "documents", "document", "apply", "make", "me", "of", "and", "help",
)

# Scoring (0–100). Tuned on the phrasings in tests/test_assistant.py.
WEIGHT_QUERY_COVERAGE = 0.60  # how much of what was said the procedure explains
WEIGHT_NAME_COVERAGE = 0.25   # how much of the procedure's name was said (prefers the exact one)
WEIGHT_FUZZY = 0.15           # rapidfuzz similarity of the whole phrase, for leftovers
BIGRAM_WEIGHT = 1.5           # word pairs ("khai sinh") say more than single syllables
SERVICE_CREDIT = 0.5          # a word found only in the field's name counts half
MIN_SUGGESTION_SCORE = 40.0   # below this a procedure is not suggested at all
MIN_QUERY_COVERAGE = 0.45     # the best match must explain this share of the request
CONFIDENT_SCORE = 60.0        # one named procedure in the reply from here on...
CONFIDENT_MARGIN = 8.0        # ...when it beats the runner-up by this much
SUGGESTION_SPREAD = 35.0      # suggestions stay within this many points of the best
MAX_SUGGESTIONS = 5
MAX_INPUT_CHARS = 500

_TOKEN = re.compile(r"[a-z0-9]+")
_CLAUSE_BREAK = re.compile(r"[,;:()–—/.&]|\s-\s")


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

    def to_dict(self) -> dict:
        """Return the suggestion as JSON-ready data."""
        return {
            "service": self.service,
            "procedure": self.procedure,
            "name": self.name,
            "score": self.score,
            "service_name": self.service_name,
            "legal_time": self.legal_time,
            "fee": self.fee,
        }


@dataclass(frozen=True)
class Answer:
    """The assistant's reply to one question, best suggestion first."""

    reply: str
    suggestions: list[Suggestion]
    understood: bool

    def to_dict(self) -> dict:
        """Return the answer as JSON-ready data."""
        return {
            "reply": self.reply,
            "suggestions": [suggestion.to_dict() for suggestion in self.suggestions],
            "understood": self.understood,
        }


@runtime_checkable
class Assistant(Protocol):
    """What the kiosk needs from any assistant backend."""

    def greeting(self, local_time: datetime, lang: str = "vi") -> str:
        """Return the welcome line for the centre's local time."""
        ...

    def ask(self, text: str, lang: str = "vi") -> Answer:
        """Return the procedures matching what the citizen said or typed."""
        ...


def load_catalogue_procedures(path: str | Path) -> list[ProcedureInfo]:
    """Read every procedure of a catalogue file (``fields[].procedures[]``)."""
    catalogue = json.loads(Path(path).read_text(encoding="utf-8"))
    procedures = []
    for service in catalogue["fields"]:
        for procedure in service["procedures"]:
            procedures.append(
                ProcedureInfo(
                    service=service["code"],
                    code=procedure["code"],
                    name=nfc(procedure["name_vi"]),
                    name_en=procedure.get("name_en") or "",
                    service_name=nfc(service["name_vi"]),
                    service_name_en=service.get("name_en") or "",
                    legal_days=procedure.get("legal_days"),
                    same_day=bool(procedure.get("same_day")),
                    fee_vnd=procedure.get("fee_vnd"),
                    fee_note=_optional_nfc(procedure.get("fee_note")),
                    legal_days_note=_optional_nfc(procedure.get("legal_days_note")),
                )
            )
    return procedures


def _optional_nfc(text: str | None) -> str | None:
    return nfc(text) if text else None


def _is_english(lang: str) -> bool:
    return (lang or "").lower().startswith("en")


def describe_legal_time(procedure: ProcedureInfo, lang: str = "vi") -> str | None:
    """Return the legal processing time in words ("Trong ngày", "3 ngày làm việc"), or None."""
    english = _is_english(lang)
    if procedure.same_day or procedure.legal_days == 0:
        return "Same day" if english else "Trong ngày"
    days = procedure.legal_days
    if days is None:
        return None
    working = _counts_working_days(days, procedure.legal_days_note)
    if english:
        unit = "working day" if working else "day"
        return f"{days} {unit}{'' if days == 1 else 's'}"
    return f"{days} ngày làm việc" if working else f"{days} ngày"


def _counts_working_days(days: int, note: str | None) -> bool:
    # Most limits are working days; the note says when one is not ("10 ngày", "07 ngày").
    if not note:
        return True
    stated = re.search(rf"(?<!\d)0*{days}\s+ngày(\s+làm\s+việc)?", note)
    return stated is None or stated.group(1) is not None


# Fee units worth showing, found in the note right after the amount ("2.000 đ/trang").
_FEE_UNITS_EN = {
    "trang": "page",
    "trường hợp": "case",
    "hợp đồng": "contract",
    "lần": "request",
    "bản sao trích lục": "copy",
    "bản sao": "copy",
    "bản": "copy",
}


def describe_fee(procedure: ProcedureInfo, lang: str = "vi") -> str | None:
    """Return the fee in words ("Miễn phí", "50.000 đồng", "2.000 đồng/trang"), or None."""
    english = _is_english(lang)
    amount = procedure.fee_vnd
    if amount is None:
        return None
    if amount == 0:
        return "Free" if english else "Miễn phí"
    unit = _fee_unit(amount, procedure.fee_note)
    if english:
        unit_en = _FEE_UNITS_EN.get(unit or "")
        return f"{amount:,} VND" + (f" per {unit_en}" if unit_en else "")
    return f"{amount:,}".replace(",", ".") + " đồng" + (f"/{unit}" if unit else "")


def _fee_unit(amount: int, note: str | None) -> str | None:
    if not note:
        return None
    written = f"{amount:,}".replace(",", ".")
    match = re.search(rf"(?<![\d.]){re.escape(written)}\s*đ/([^/;,.(—]+)", note)
    if not match:
        return None
    unit = re.split(r"\s+cho\s+|\s+\(", match.group(1))[0].strip()
    return unit if unit in _FEE_UNITS_EN else None


# ---------------------------------------------------------------------------------------
# Matching
# ---------------------------------------------------------------------------------------


def _tokens(text: str) -> list[str]:
    return _TOKEN.findall(fold(text))


def _bigrams(tokens: list[str]) -> list[str]:
    return [f"{first} {second}" for first, second in zip(tokens, tokens[1:])]


def _catalogue_terms(text: str) -> tuple[list[str], set[str]]:
    """Return the words of a catalogue text and its word pairs, not paired across punctuation."""
    words = _tokens(text)
    pairs = {pair for part in _CLAUSE_BREAK.split(text) for pair in _bigrams(_tokens(part))}
    return words, set(words) | pairs


def _phrase_pattern(phrases) -> re.Pattern | None:
    ordered = sorted(set(phrases), key=len, reverse=True)  # longest first wins at a position
    if not ordered:
        return None
    return re.compile(r"\b(?:" + "|".join(re.escape(phrase) for phrase in ordered) + r")\b")


class _Language:
    """Folded index of one language's procedure texts, and how to read a request in it."""

    def __init__(
        self,
        documents: list[tuple[str, str]],
        abbreviations: dict[str, str],
        synonyms: dict[str, str],
        fillers: tuple[str, ...],
    ):
        self.abbreviations = abbreviations
        self.synonyms = synonyms
        self.abbreviation_pattern = _phrase_pattern(abbreviations)
        self.synonym_pattern = _phrase_pattern(synonyms)
        self.phrase_fillers = _phrase_pattern(f for f in fillers if " " in f)
        self.word_fillers = frozenset(f for f in fillers if " " not in f)

        # Inverted index: term (word or word pair) → procedures whose name or field has it.
        self.names: list[str] = []
        name_postings: dict[str, list[int]] = {}
        service_postings: dict[str, list[int]] = {}
        for position, (name, service_name) in enumerate(documents):
            name_words, name_terms = _catalogue_terms(name)
            _, service_terms = _catalogue_terms(service_name)
            self.names.append(" ".join(name_words))
            for term in name_terms:
                name_postings.setdefault(term, []).append(position)
            for term in service_terms - name_terms:
                service_postings.setdefault(term, []).append(position)
        count = max(len(documents), 1)
        self.unknown_idf = math.log(1 + count)
        self.idf = {
            term: math.log(1 + count / len(set(name_postings.get(term, []))
                                           | set(service_postings.get(term, []))))
            for term in name_postings.keys() | service_postings.keys()
        }
        self.name_postings = name_postings
        self.service_postings = service_postings
        self.name_word_weight = [0.0] * len(documents)  # for "how much of the name was said"
        for term, positions in name_postings.items():
            if " " not in term:
                for position in positions:
                    self.name_word_weight[position] += self.idf[term]

        # Words and word pairs we know, for typo correction and for protecting fillers
        # that are also catalogue words ("cần" vs "căn cước", "cho" vs "tặng cho").
        self.catalogue_bigrams = {term for term in self.idf if " " in term}
        self.known_tokens = {term for term in self.idf if " " not in term}
        self.known_bigrams = set(self.catalogue_bigrams)
        for phrase in [*abbreviations, *abbreviations.values(), *synonyms, *synonyms.values(),
                       *fillers]:
            words = phrase.split()
            self.known_tokens.update(words)
            self.known_bigrams.update(_bigrams(words))
        self.tokens_by_length: dict[int, list[str]] = {}
        for token in sorted(self.known_tokens):
            self.tokens_by_length.setdefault(len(token), []).append(token)
        self._near_cache: dict[str, list[str]] = {}

    def read(self, text: str) -> list[str]:
        """Return the meaningful folded words of a request, in catalogue vocabulary."""
        words = self._corrected(_TOKEN.findall(fold(text)))
        phrase = " ".join(words)
        if self.abbreviation_pattern:
            phrase = self.abbreviation_pattern.sub(lambda m: self.abbreviations[m.group()], phrase)
        if self.synonym_pattern:
            phrase = self.synonym_pattern.sub(lambda m: self.synonyms[m.group()], phrase)
        if self.phrase_fillers:
            phrase = self.phrase_fillers.sub(" ", phrase)
        words = phrase.split()
        return [
            word
            for index, word in enumerate(words)
            if word not in self.word_fillers or self._in_catalogue_pair(words, index)
        ]

    def _in_catalogue_pair(self, words: list[str], index: int) -> bool:
        before = index > 0 and f"{words[index - 1]} {words[index]}" in self.catalogue_bigrams
        after = (index + 1 < len(words)
                 and f"{words[index]} {words[index + 1]}" in self.catalogue_bigrams)
        return before or after

    def _corrected(self, words: list[str]) -> list[str]:
        # A typo is fixed only when the fix makes a known word pair with a neighbour
        # ("khai sihn" → "khai sinh"), or the word is long enough to be unambiguous.
        corrected = list(words)
        for index, word in enumerate(words):
            if word in self.known_tokens or len(word) < 3 or word.isdigit():
                continue
            candidates = self._near(word)
            previous = corrected[index - 1] if index > 0 else None
            following = words[index + 1] if index + 1 < len(words) else None
            in_pair = [
                choice for choice in candidates
                if (previous and f"{previous} {choice}" in self.known_bigrams)
                or (following and f"{choice} {following}" in self.known_bigrams)
            ]
            if in_pair:
                corrected[index] = in_pair[0]
            elif len(word) >= 6 and len(candidates) == 1:
                corrected[index] = candidates[0]
        return corrected

    def _near(self, word: str) -> list[str]:
        """Return the known words one edit (or one swap of neighbours) away from word."""
        # The cache is shared by the server's threads: read it once, never after a clear().
        near = self._near_cache.get(word)
        if near is None:
            if len(self._near_cache) > 10_000:  # typed text is unbounded; memory is not
                self._near_cache.clear()
            targets = [token for length in (len(word) - 1, len(word), len(word) + 1)
                       for token in self.tokens_by_length.get(length, ())]
            near = [
                choice for choice, _distance, _ in process.extract(
                    word, targets, scorer=DamerauLevenshtein.distance, score_cutoff=1,
                    limit=None,
                )
            ]
            self._near_cache[word] = near
        return near

    def scores(self, words: list[str]) -> list[tuple[float, float]]:
        """Return (score 0–100, share of the request explained) for every procedure."""
        count = len(self.names)
        query_terms = set(words) | set(_bigrams(words))
        if not query_terms:
            return [(0.0, 0.0)] * count
        explained = [0.0] * count
        name_said = [0.0] * count
        total = 0.0
        for term in query_terms:
            weight = self.idf.get(term, self.unknown_idf) * (BIGRAM_WEIGHT if " " in term else 1)
            total += weight
            for position in self.name_postings.get(term, ()):
                explained[position] += weight
                if " " not in term:
                    name_said[position] += weight
            for position in self.service_postings.get(term, ()):
                explained[position] += weight * SERVICE_CREDIT
        phrase = " ".join(words)
        results = []
        for position, name in enumerate(self.names):
            if not explained[position]:
                results.append((0.0, 0.0))  # nothing in common: not worth a fuzzy look
                continue
            query_coverage = explained[position] / total
            name_weight = self.name_word_weight[position]
            name_coverage = name_said[position] / name_weight if name_weight else 0.0
            similarity = fuzz.token_set_ratio(phrase, name) / 100
            score = 100 * (
                WEIGHT_QUERY_COVERAGE * query_coverage
                + WEIGHT_NAME_COVERAGE * name_coverage
                + WEIGHT_FUZZY * similarity
            )
            results.append((score, query_coverage))
        return results


# ---------------------------------------------------------------------------------------
# The rule-based assistant
# ---------------------------------------------------------------------------------------

_GREETINGS_VI = {
    "morning": "Chào buổi sáng",
    "noon": "Chào buổi trưa",
    "afternoon": "Chào buổi chiều",
    "evening": "Chào buổi tối",
}
_GREETINGS_EN = {
    "morning": "Good morning",
    "noon": "Good afternoon",  # replaced by "Good morning" before 12:00, see greeting()
    "afternoon": "Good afternoon",
    "evening": "Good evening",
}
_NOT_UNDERSTOOD = {
    "vi": "Xin lỗi, tôi chưa hiểu yêu cầu. Ông/Bà vui lòng hỏi cán bộ tại quầy hướng dẫn.",
    "en": "Sorry, I did not understand the request. Please ask the staff at the "
          "information desk.",
}


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


def _short(name: str) -> str:
    # "Công an – Căn cước (thẻ căn cước, …)" reads better without the parenthesis.
    return name.split(" (")[0].strip() or name


def _reply_name(name: str, limit: int = 90) -> str:
    # Official names run to 300 characters; a reply names the procedure, the card shows it all.
    if len(name) <= limit:
        return name
    name = re.split(r" \(|;", name)[0].strip()
    if len(name) <= limit:
        return name
    cut = name.rfind(", ", 0, limit)
    return (name[:cut] if cut > 0 else name[:limit].rsplit(" ", 1)[0]) + "…"


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]


class RuleBasedAssistant:
    """Greets by time of day and finds procedures with folded, fuzzy, synonym-aware matching."""

    def __init__(self, procedures: list[ProcedureInfo]):
        self.procedures = list(procedures)
        self._vietnamese = _Language(
            [(p.name, p.service_name) for p in self.procedures],
            ABBREVIATIONS, SYNONYMS, FILLERS,
        )
        self._english = _Language(
            [(p.name_en or p.name, p.service_name_en or p.service_name) for p in self.procedures],
            {}, EN_SYNONYMS, EN_FILLERS,
        )

    def greeting(self, local_time: datetime, lang: str = "vi") -> str:
        """Return the welcome line for the centre's local time."""
        period = part_of_day(local_time)
        if _is_english(lang):
            salutation = _GREETINGS_EN[period]
            if period == "noon" and local_time.hour < 12:
                salutation = "Good morning"
            return (f"{salutation}! What procedure do you need? Touch a field, or say or type "
                    "what you need, e.g. “birth registration”.")
        return (f"{_GREETINGS_VI[period]}! Ông/Bà cần làm thủ tục gì? Hãy chạm vào lĩnh vực "
                "hoặc nói/gõ nhu cầu, ví dụ: “làm giấy khai sinh”.")

    def ask(self, text: str, lang: str = "vi") -> Answer:
        """Return the procedures matching what the citizen said or typed, best first."""
        english = _is_english(lang)
        text = nfc((text or "")[:MAX_INPUT_CHARS])
        ranked = self._rank(text)
        if not ranked or ranked[0][1] < MIN_SUGGESTION_SCORE or ranked[0][2] < MIN_QUERY_COVERAGE:
            return Answer(_NOT_UNDERSTOOD["en" if english else "vi"], [], False)
        best_score = ranked[0][1]
        chosen = [
            (procedure, score) for procedure, score, _coverage in ranked
            if score >= MIN_SUGGESTION_SCORE and score >= best_score - SUGGESTION_SPREAD
        ][:MAX_SUGGESTIONS]
        suggestions = [self._suggestion(procedure, score, lang) for procedure, score in chosen]
        runner_up = ranked[1][1] if len(ranked) > 1 else 0.0
        confident = best_score >= CONFIDENT_SCORE and best_score - runner_up >= CONFIDENT_MARGIN
        if confident:
            reply = self._confident_reply(chosen[0][0], lang)
        else:
            reply = self._choices_reply([procedure for procedure, _ in chosen[:3]], lang)
        return Answer(reply, suggestions, True)

    def _rank(self, text: str) -> list[tuple[ProcedureInfo, float, float]]:
        if not self.procedures:
            return []
        vietnamese = self._vietnamese.scores(self._vietnamese.read(text))
        english = self._english.scores(self._english.read(text))
        ranked = [
            (procedure, *max(vi, en))
            for procedure, vi, en in zip(self.procedures, vietnamese, english)
        ]
        ranked.sort(key=lambda item: item[1], reverse=True)  # stable: catalogue order on ties
        return ranked

    def _suggestion(self, procedure: ProcedureInfo, score: float, lang: str) -> Suggestion:
        english = _is_english(lang)
        return Suggestion(
            service=procedure.service,
            procedure=procedure.code,
            name=(procedure.name_en or procedure.name) if english else procedure.name,
            score=round(score, 1),
            service_name=(procedure.service_name_en or procedure.service_name)
            if english else procedure.service_name,
            legal_time=describe_legal_time(procedure, lang),
            fee=describe_fee(procedure, lang),
        )

    def _confident_reply(self, procedure: ProcedureInfo, lang: str) -> str:
        legal_time = describe_legal_time(procedure, lang)
        fee = describe_fee(procedure, lang)
        if _is_english(lang):
            name = _reply_name(procedure.name_en or procedure.name)
            parts = [f"You may need the procedure “{name}” "
                     f"(field: {_short(procedure.service_name_en or procedure.service_name)})."]
            if legal_time:
                parts.append(f"Processing time: {_lower_first(legal_time)}.")
            if fee:
                parts.append(f"Fee: {_lower_first(fee)}.")
            unknown = [label for label, value in (("processing time", legal_time),
                                                  ("fee", fee)) if not value]
            if unknown:
                parts.append(f"For the {' and '.join(unknown)}, please ask the staff.")
            parts.append("Touch “Take a number” to get your queue ticket.")
            return " ".join(parts)
        parts = [f"Ông/Bà có thể cần thủ tục “{_reply_name(procedure.name)}” "
                 f"(lĩnh vực {_short(procedure.service_name)})."]
        if legal_time:
            parts.append(f"Thời hạn: {_lower_first(legal_time)}.")
        if fee:
            parts.append(f"Lệ phí: {_lower_first(fee)}.")
        unknown = [label for label, value in (("thời hạn", legal_time), ("lệ phí", fee))
                   if not value]
        if unknown:
            parts.append(f"Về {' và '.join(unknown)}, Ông/Bà vui lòng hỏi cán bộ tại quầy.")
        parts.append("Chạm “Lấy số” để lấy số thứ tự.")
        return " ".join(parts)

    def _choices_reply(self, procedures: list[ProcedureInfo], lang: str) -> str:
        if _is_english(lang):
            names = ", ".join(f"“{_reply_name(p.name_en or p.name)}”" for p in procedures)
            return (f"You may need one of these procedures: {names}. Touch the one that fits, "
                    "or ask the staff at the information desk if unsure.")
        names = ", ".join(f"“{_reply_name(p.name)}”" for p in procedures)
        return (f"Ông/Bà có thể cần một trong các thủ tục: {names}. Chạm vào thủ tục phù hợp, "
                "hoặc hỏi cán bộ tại quầy hướng dẫn nếu chưa chắc.")


# ---------------------------------------------------------------------------------------
# Choosing a backend
# ---------------------------------------------------------------------------------------

AssistantFactory = Callable[[list[ProcedureInfo]], Assistant]

BACKENDS: dict[str, AssistantFactory] = {"rules": RuleBasedAssistant}
DEFAULT_BACKEND = "rules"


def register_assistant(name: str, factory: AssistantFactory) -> None:
    """Make a backend choosable by name in the assistant setting."""
    BACKENDS[name] = factory


def make_assistant(name: str, procedures: list[ProcedureInfo]) -> Assistant:
    """Build the assistant backend the setting names ("rules" is the default)."""
    key = (name or DEFAULT_BACKEND).strip().lower()
    if key not in BACKENDS:
        known = ", ".join(sorted(BACKENDS))
        raise ValueError(f"unknown assistant {name!r}; known assistants: {known}")
    return BACKENDS[key](list(procedures))
