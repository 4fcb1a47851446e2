"""Reading a citizen's text: NFC, words, diacritic folding, and Telex/VNI typed with the keyboard off.

A kiosk keyboard without a Vietnamese input method turns "đổi giấy phép lái xe" into
"ddoir giaays pheps lais xe" (Telex) or "d9o63i gia61y" (VNI). Both are decoded here *before*
folding, so they meet the folded index like any unaccented text. Decoding is only trusted when
it lands on a word the vocabulary knows: English words such as "was" stay as they are.
"""
from __future__ import annotations

import re
import unicodedata

from queueing.text import fold, nfc

__all__ = ["fold", "nfc", "words", "has_diacritics", "telex_or_vni", "MAX_INPUT_CHARS"]

# Long texts are cut, not refused: a pasted paragraph should still be read from its start.
MAX_INPUT_CHARS = 500

_WORD = re.compile(r"[^\W_]+")
# Telex tone keys (sắc s, huyền f, hỏi r, ngã x, nặng j) and "z" (no tone): no Vietnamese
# syllable ends in these letters, so one at the end of an unknown word is a tone typed in ASCII.
_TELEX_TONES = "sfrxjz"
_TELEX_VOWELS = (("uow", "uo"), ("dd", "d"), ("aa", "a"), ("aw", "a"), ("ee", "e"), ("oo", "o"),
                 ("ow", "o"), ("uw", "u"), ("w", "u"))
_VNI = re.compile(r"(?=[a-z]*\d)(?=\d*[a-z])[a-z0-9]+")


def words(text: str) -> list[str]:
    """Return the lower-case NFC words of a text (letters and digits; punctuation drops out)."""
    return _WORD.findall(nfc(text).casefold())


def has_diacritics(word: str) -> bool:
    """True when folding changes the word, i.e. it was typed with Vietnamese marks."""
    return fold(word) != word


def telex_or_vni(word: str, known: set[str] | frozenset[str]) -> str | None:
    """Return the folded word a Telex or VNI spelling stands for, when the vocabulary knows it."""
    if not word.isascii() or word in known:
        return None
    if _VNI.fullmatch(word):
        # VNI puts marks as digits after the letter (a6 = â, 1–5 tones, d9 = đ); folding drops them.
        plain = re.sub(r"\d", "", word)
        return plain if plain in known else None
    candidate = word
    if len(candidate) > 1 and candidate[-1] in _TELEX_TONES:
        candidate = candidate[:-1]
    for telex, letter in _TELEX_VOWELS:
        candidate = candidate.replace(telex, letter)
    if candidate != word and candidate in known:
        return candidate
    # A tone key typed in the middle ("gias y" is rare, "tuyeenr" common) is handled above;
    # one typed right after the vowel and before the final consonant ("phesp") is tried here.
    stripped = re.sub(r"([aeiouy])[sfrxj](?=[a-z])", r"\1", word)
    for telex, letter in _TELEX_VOWELS:
        stripped = stripped.replace(telex, letter)
    return stripped if stripped != word and stripped in known else None


def strip_controls(text: str) -> str:
    """Drop control and format characters (zero-width, bidi) that only hide what was typed."""
    return "".join(ch if unicodedata.category(ch)[0] != "C" else " " for ch in text)
