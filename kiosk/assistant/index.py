"""The assistant's search index: SQLite FTS5 over every phrasing of every procedure and life event.

Why FTS5: it is in Python's own sqlite3 (no new dependency, no service to run), gives BM25 with
per-column weights, and an in-memory table over ~1,500 short phrasings is rebuilt in milliseconds
whenever the admin changes the catalogue. Each phrasing is one row, so a request is compared with
the way people ask, not with the procedure's official name alone.

The Vietnamese table has two columns: the text as written (``accented``, no diacritic folding) and
the same text folded (``folded``, đ→d by hand, since FTS5's ``remove_diacritics`` does not fold đ).
A word typed with its marks matches both and so outranks one that only matches folded ("lại" ≠
"lái", "mất" ≠ "mật"); a word typed without marks matches the folded column alone. Word pairs are
searched as phrases, so the words around a common word ("bị mất", "ra tù") carry the meaning
even when the word itself is a stop-word. Synonyms never replace what was said: they are a second,
weaker query whose score is added.
"""
from __future__ import annotations

import re
import sqlite3
import threading
from dataclasses import dataclass, field

from rapidfuzz import process
from rapidfuzz.distance import DamerauLevenshtein

from .textnorm import fold, has_diacritics, telex_or_vni, words
from .vocabulary import LanguageData, LifeEvent, ProcedureInfo

ACCENTED_WEIGHT = 2.0   # a match with the diacritics as typed...
FOLDED_WEIGHT = 1.0     # ...counts twice a match that ignores them
EXPANSION_WEIGHT = 0.5  # synonyms add evidence at half strength
COVERAGE_WEIGHT = 0.4   # how much a phrasing's unsaid words lower its score

PROCEDURE, EVENT, OUT_OF_SCOPE = "p", "e", "x"


@dataclass
class _Token:
    accented: str | None  # None when the marks are unknown (typed without, or decoded)
    folded: str
    stop: bool
    original: str


@dataclass
class Reading:
    """How one request was read and what matched it, best first."""

    language: str
    ranked: list[tuple[str, float]] = field(default_factory=list)  # ("p:TP-01", score)
    content_words: int = 0  # words that are not stop-words
    known_words: int = 0    # ...of which the vocabulary knows
    best_matched: int = 0   # ...of which the best match's own phrasings use

    @property
    def known_share(self) -> float:
        return self.known_words / self.content_words if self.content_words else 0.0

    @property
    def matched_share(self) -> float:
        """How much of what the vocabulary knows in the request the best match explains.

        Over known words, not all words: an everyday word the vocabulary lacks ("quầy", "vợ")
        must not count against an otherwise clear request (the old gate's mistake, issue 13).
        """
        return self.best_matched / self.known_words if self.known_words else 0.0


def _quote(text: str) -> str:
    return '"' + text.replace('"', "") + '"'


class SearchIndex:
    """An in-memory FTS5 index of the catalogue's phrasings; thread-safe, rebuilt per catalogue."""

    def __init__(self, procedures: list[ProcedureInfo], life_events: list[LifeEvent], language: LanguageData):
        self.language = language
        self._lock = threading.Lock()  # one connection, shared by the server's request threads
        self._db = sqlite3.connect(":memory:", check_same_thread=False)
        self._db.execute("CREATE VIRTUAL TABLE vi USING fts5(target UNINDEXED, accented, folded, "
                         "tokenize='unicode61 remove_diacritics 0')")
        self._db.execute("CREATE VIRTUAL TABLE en USING fts5(target UNINDEXED, text, "
                         "tokenize='porter unicode61')")
        vi_rows, en_rows = [], []
        for procedure in procedures:
            target = f"{PROCEDURE}:{procedure.code}"
            vi_rows += [(target, text) for text in (procedure.name, *procedure.phrasings)]
            en_rows += [(target, text) for text in (procedure.name_en, *procedure.phrasings_en) if text]
        for event in life_events:
            target = f"{EVENT}:{event.code}"
            vi_rows += [(target, text) for text in (event.name, *event.phrasings)]
            en_rows += [(target, text) for text in (event.name_en, *event.phrasings_en) if text]
        vi_rows += [(f"{OUT_OF_SCOPE}:{n}", text) for n, text in enumerate(language.out_of_scope)]
        en_rows += [(f"{OUT_OF_SCOPE}:en{n}", text) for n, text in enumerate(language.out_of_scope_en)]

        self._target_words: dict[tuple[str, str], set[str]] = {}  # (table, target) → its words
        self._vi_known: set[str] = set()
        self._vi_pairs: set[str] = set()
        self._vi_frequency: dict[str, int] = {}
        content_accented: set[str] = set()
        with self._db:
            for target, text in vi_rows:
                accented = words(text)
                folded = [fold(word) for word in accented]
                self._db.execute("INSERT INTO vi VALUES (?, ?, ?)", (target, " ".join(accented), " ".join(folded)))
                for word in set(folded):
                    self._vi_frequency[word] = self._vi_frequency.get(word, 0) + 1
                self._vi_known.update(folded)
                self._target_words.setdefault(("vi", target), set()).update(folded)
                self._vi_pairs.update(f"{a} {b}" for a, b in zip(folded, folded[1:]))
                content_accented.update(word for word in accented if word not in language.stopwords)
            for target, text in en_rows:
                self._db.execute("INSERT INTO en VALUES (?, ?)", (target, " ".join(words(text))))
        for key, value in language.abbreviations.items():
            self._vi_known.update(key.split())
            self._vi_known.update(value.split())
        for group in language.synonym_groups:
            for member in group:
                self._vi_known.update(member.split())
        # A folded stop-word is only dropped when no content word folds the same way:
        # "can" may be "cần" (stop) or "căn" (căn cước), so typed without marks it stays.
        self._ambiguous = {fold(word) for word in content_accented}
        self._en_known = {word for _, text in en_rows for word in words(text)}
        self._vi_by_length: dict[int, list[str]] = {}
        for word in sorted(self._vi_known):
            self._vi_by_length.setdefault(len(word), []).append(word)
        self._en_by_length: dict[int, list[str]] = {}
        for word in sorted(self._en_known):
            self._en_by_length.setdefault(len(word), []).append(word)
        self._typo_cache: dict[tuple[str, str], str | None] = {}

    # ---- reading ---------------------------------------------------------------------------

    def _vietnamese_tokens(self, text: str) -> list[_Token]:
        raw = words(text)
        marked = any(has_diacritics(word) for word in raw)  # typed with a Vietnamese keyboard
        tokens: list[_Token] = []
        for index, word in enumerate(raw):
            folded = fold(word)
            expansion = self.language.abbreviations.get(folded) if not has_diacritics(word) or folded == "dk" else None
            if expansion:
                for part in expansion.split():
                    tokens.append(_Token(None, part, self._is_stop(part, None), word))
                continue
            accented: str | None = word if marked else None
            if folded not in self._vi_known and not word.isdigit():
                decoded = telex_or_vni(word, self._vi_known)
                if decoded is None:
                    neighbours = (fold(raw[index - 1]) if index else None,
                                  fold(raw[index + 1]) if index + 1 < len(raw) else None)
                    decoded = self._typo("vi", folded, neighbours)
                if decoded:
                    folded, accented = decoded, None
            tokens.append(_Token(accented, folded, self._is_stop(folded, accented if marked else None), word))
        return self._mended_pairs(tokens)

    def _mended_pairs(self, tokens: list[_Token]) -> list[_Token]:
        """A known word in a pair nobody says, one edit from a pair people do say, is a typo.

        "đổi căng cước": "căng" is a word ("căng tin"), but "căng cước" is not a pair; "căn cước"
        is. Only words whose pair is unknown are touched, so correct text is never changed.
        """
        for index in range(len(tokens) - 1):
            first, second = tokens[index], tokens[index + 1]
            if first.stop or second.stop or f"{first.folded} {second.folded}" in self._vi_pairs:
                continue
            for position, other, before in ((index, second, True), (index + 1, first, False)):
                word = tokens[position].folded
                # Only a rare word is suspect: a common one in an unusual pair is still meant.
                if len(word) < 3 or word.isdigit() or self._vi_frequency.get(word, 0) > 1:
                    continue
                candidates = self._near(word)
                fixed = [c for c in candidates
                         if (f"{c} {other.folded}" if before else f"{other.folded} {c}") in self._vi_pairs]
                if fixed:
                    token = tokens[position]
                    tokens[position] = _Token(None, fixed[0], self._is_stop(fixed[0], None), token.original)
                    break
        return tokens

    def _near(self, word: str) -> list[str]:
        """Known words one edit (or one swap of neighbours) away."""
        targets = [t for size in (len(word) - 1, len(word), len(word) + 1) for t in self._vi_by_length.get(size, ())]
        return [choice for choice, _d, _ in process.extract(
            word, targets, scorer=DamerauLevenshtein.distance, score_cutoff=1, limit=None) if choice != word]

    def _is_stop(self, folded: str, accented: str | None) -> bool:
        if accented is not None:
            return accented in self.language.stopwords
        return folded in self.language.stopwords_folded and folded not in self._ambiguous

    def _typo(self, language: str, word: str, neighbours: tuple[str | None, str | None]) -> str | None:
        """The known word one edit (or one swap) away, preferring one that pairs with a neighbour."""
        minimum = 4 if language == "vi" else 5
        if len(word) < minimum:
            return None
        key = (language, word, *neighbours)
        if key in self._typo_cache:
            return self._typo_cache[key]
        if len(self._typo_cache) > 20_000:  # typed text is unbounded; memory is not
            self._typo_cache.clear()
        by_length = self._vi_by_length if language == "vi" else self._en_by_length
        targets = [t for size in (len(word) - 1, len(word), len(word) + 1) for t in by_length.get(size, ())]
        candidates = [choice for choice, _d, _ in process.extract(
            word, targets, scorer=DamerauLevenshtein.distance, score_cutoff=1, limit=None)]
        choice = None
        if candidates:
            before, after = neighbours
            paired = [c for c in candidates if (before and f"{before} {c}" in self._vi_pairs)
                      or (after and f"{c} {after}" in self._vi_pairs)]
            pool = paired or candidates
            choice = max(pool, key=lambda c: self._vi_frequency.get(c, 0)) if language == "vi" else pool[0]
        self._typo_cache[key] = choice
        return choice

    # ---- searching -------------------------------------------------------------------------

    def read(self, text: str, lang: str = "vi") -> Reading:
        """Search Vietnamese and English; keep the language the text is more likely written in."""
        vietnamese = self._read_vietnamese(text)
        raw = words(text)
        if any(has_diacritics(word) for word in raw):
            return vietnamese
        english = self._read_english(text)
        # Known content words plus stop-words of each language: "my", "what", "do we need" say
        # English as surely as "cho hỏi", "với" say Vietnamese. The screen's language breaks ties.
        english_votes = english.known_words + sum(word in self.language.stopwords_en for word in raw)
        vietnamese_votes = vietnamese.known_words + sum(
            fold(word) in self.language.stopwords_folded and word not in self.language.stopwords_en for word in raw)
        if english_votes > vietnamese_votes or (english_votes == vietnamese_votes and lang == "en"):
            return english
        return vietnamese

    def _read_vietnamese(self, text: str) -> Reading:
        tokens = self._vietnamese_tokens(text)
        reading = Reading("vi")
        content = [token for token in tokens if not token.stop]
        reading.content_words = len(content)
        reading.known_words = sum(token.folded in self._vi_known for token in content)
        terms: set[str] = set()
        for token in content:
            terms.add(f"folded : {_quote(token.folded)}")
            if token.accented:
                terms.add(f"accented : {_quote(token.accented)}")
        for first, second in zip(tokens, tokens[1:]):
            if first.stop and second.stop:
                continue
            terms.add(f"folded : {_quote(first.folded + ' ' + second.folded)}")
            if first.accented and second.accented:
                terms.add(f"accented : {_quote(first.accented + ' ' + second.accented)}")
        if not terms:
            return reading
        said = {token.folded for token in tokens}
        scores = self._search("vi", terms, said)
        folded_text = " " + " ".join(token.folded for token in tokens) + " "
        extra: set[str] = set()
        for group in self.language.synonym_groups:
            if any(f" {member} " in folded_text for member in group):
                extra.update(f"folded : {_quote(member)}" for member in group if f" {member} " not in folded_text)
        said |= {word for member in extra for word in member.split(":", 1)[1].strip(' "').split()}
        for target, score in self._search("vi", extra, said).items():
            scores[target] = scores.get(target, 0.0) + EXPANSION_WEIGHT * score
        reading.ranked = sorted(scores.items(), key=lambda item: item[1], reverse=True)
        if reading.ranked:
            own = self._target_words[("vi", reading.ranked[0][0])]
            reading.best_matched = sum(token.folded in own for token in content)
        return reading

    def _read_english(self, text: str) -> Reading:
        reading = Reading("en")
        raw = [word for word in words(text) if word.isascii()]
        tokens = []
        for index, word in enumerate(raw):
            if word not in self._en_known and word not in self.language.stopwords_en and not word.isdigit():
                word = self._typo("en", word, (None, None)) or word
            tokens.append(word)
        content = [word for word in tokens if word not in self.language.stopwords_en]
        reading.content_words = len(content)
        reading.known_words = sum(word in self._en_known for word in content)
        terms = {_quote(word) for word in content}
        terms.update(_quote(f"{a} {b}") for a, b in zip(tokens, tokens[1:])
                     if a not in self.language.stopwords_en or b not in self.language.stopwords_en)
        if terms:
            said_words = {_stem(word) for word in tokens}
            scores = self._search("en", terms, said_words)
            said = " " + " ".join(tokens) + " "
            extra = {_quote(member) for group in self.language.synonym_groups_en
                     if any(f" {member} " in said for member in group)
                     for member in group if f" {member} " not in said}
            said_words |= {_stem(word) for member in extra for word in member.strip('"').split()}
            for target, score in self._search("en", extra, said_words).items():
                scores[target] = scores.get(target, 0.0) + EXPANSION_WEIGHT * score
            reading.ranked = sorted(scores.items(), key=lambda item: item[1], reverse=True)
        if reading.ranked:
            # Asked of the index itself, so "certified" meets "certify" through the same stemmer.
            best = reading.ranked[0][0]
            with self._lock:
                reading.best_matched = sum(bool(self._db.execute(
                    "SELECT 1 FROM en WHERE en MATCH ? AND target = ? LIMIT 1", (_quote(word), best)).fetchone())
                    for word in set(content))
            reading.content_words = len(set(content))
        return reading

    def _search(self, table: str, terms: set[str], said: set[str]) -> dict[str, float]:
        """Best score per target (procedure, event or out-of-scope) for an OR of the terms.

        BM25 barely notices what a phrasing has that the request lacks, so "làm giấy khai sinh"
        scored "làm lại giấy khai sinh bị mất" (a copy) almost as high as "làm giấy khai sinh cho
        con". Each row's score is scaled by the share of its own content words that were said.
        """
        if not terms:
            return {}
        weights = f"0, {ACCENTED_WEIGHT}, {FOLDED_WEIGHT}" if table == "vi" else "0, 1.0"
        column = "folded" if table == "vi" else "text"
        query = " OR ".join(sorted(terms))
        with self._lock:
            rows = self._db.execute(f"SELECT target, {column}, -bm25({table}, {weights}) FROM {table} "
                                    f"WHERE {table} MATCH ?", (query,)).fetchall()
        stop = self.language.stopwords_folded if table == "vi" else self.language.stopwords_en
        best: dict[str, float] = {}
        for target, text, score in rows:
            own = {_stem(word) for word in text.split() if word not in stop}
            coverage = len(own & said) / len(own) if own else 1.0
            score *= (1 - COVERAGE_WEIGHT) + COVERAGE_WEIGHT * coverage
            if score > best.get(target, 0.0):
                best[target] = score
        return best


def _stem(word: str) -> str:
    # Enough for the coverage share ("certified" ~ "certify", "cards" ~ "card"); FTS5's porter ranks.
    return re.sub(r"(ies|ied|y|es|s|ed|ing)$", "", word) if len(word) > 4 and word.isascii() else word
