"""Vietnamese text normalisation shared by search, parsing and display."""
import unicodedata

# "đ" has no combining mark to strip, so NFD leaves it alone: it needs its own mapping.
_NON_DECOMPOSING = str.maketrans({"đ": "d", "Đ": "D"})


def nfc(text: str) -> str:
    """Return text in Unicode NFC, the one form we store and compare."""
    return unicodedata.normalize("NFC", text)


def fold(text: str) -> str:
    """Lower-case text with Vietnamese diacritics removed, for matching typed input."""
    decomposed = unicodedata.normalize("NFD", text.translate(_NON_DECOMPOSING))
    stripped = "".join(ch for ch in decomposed if unicodedata.category(ch) != "Mn")
    return " ".join(stripped.casefold().split())


def strip_diacritics(text: str) -> str:
    """Text without Vietnamese diacritics, case kept ("Lượt: số" -> "Luot: so"), for SMS gateways that
    take only ASCII (and count a Unicode SMS as 70 characters instead of 160)."""
    decomposed = unicodedata.normalize("NFD", text.translate(_NON_DECOMPOSING))
    return "".join(ch for ch in decomposed if unicodedata.category(ch) != "Mn")
