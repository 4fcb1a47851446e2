"""Parsing of chip ID-card QR payloads and minimisation of the personal data they carry.

A keyboard-wedge scanner types the QR payload of a CCCD (2021) or thẻ căn cước (2024) into the
kiosk as text: ``id|old id|name|ddmmyyyy|Nam/Nữ|address|ddmmyyyy`` and, on 2024 cards, four more
(empty) fields. See ``data/catalogue.vi.json`` key ``cccd_qr``.

The parsed name is accepted as data even when it contains markup such as ``<script>``: the QR is
well-formed and the name is only text, so escaping it is the job of every template and of the
ticket printer, never of this parser.
"""
from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date

from queueing.text import nfc

MAX_PAYLOAD_LENGTH = 512
MAX_NAME_LENGTH = 100
EARLIEST_BIRTH_YEAR = 1900
MINIMUM_KEY_LENGTH = 16

SEPARATOR = "|"
# Some scanner keyboard layouts type the bar as a look-alike; all of these mean the separator.
_SEPARATOR_LOOKALIKES = str.maketrans({
    "\uff5c": SEPARATOR,  # ｜ full-width vertical line
    "\u00a6": SEPARATOR,  # ¦ broken bar
    "\u2502": SEPARATOR,  # │ box drawings light vertical
    "\u2223": SEPARATOR,  # ∣ divides
    "\uffe8": SEPARATOR,  # ￨ half-width forms light vertical
})
# The scanner ends each scan with Enter or Tab; those are the only control characters we forgive.
_SCANNER_TERMINATORS = "\r\n\t"
# Cc/Cf are control and invisible format characters; Cs, Zl and Zp cannot occur in a real scan
# either. Rejecting them (not stripping) surfaces a misconfigured scanner instead of hiding it.
_FORBIDDEN_CATEGORIES = {"Cc", "Cf", "Cs", "Zl", "Zp"}

CARD_FIELD_COUNT = 7  # CCCD 2021
CARD_2024_FIELD_COUNT = 11  # thẻ căn cước 2024: seven fields and four empty ones

_TWELVE_DIGITS = re.compile(r"[0-9]{12}")
_NINE_DIGITS = re.compile(r"[0-9]{9}")
_EIGHT_DIGITS = re.compile(r"[0-9]{8}")

_SEX_BY_FOLDED_TEXT = {"nam": "Nam", "nữ": "Nữ"}

# The id's fourth digit is documented (catalogue `cccd_qr.id_structure`) to encode century and
# sex, but the reference samples contradict it (038201000002 is a woman, 038155000003 a man), so
# it is deliberately not checked: a wrong rule would turn real citizens away at the kiosk.


class InvalidCardQR(ValueError):
    """A scanned payload that is not a usable ID-card QR, with a message for the citizen."""

    def __init__(self, message: str, message_en: str):
        super().__init__(message)
        self.message = message
        self.message_en = message_en


@dataclass(frozen=True)
class CitizenCard:
    """The data printed in an ID card's QR code; repr hides the numbers and address for logs."""

    id_number: str = field(repr=False)
    old_id: str | None = field(repr=False)
    name: str
    birth_date: date
    sex: str
    address: str = field(repr=False)
    issued_on: date | None

    def age_on(self, day: date) -> int:
        """Return the age in whole years on day, counting a birthday only once it is reached."""
        if day < self.birth_date:
            raise ValueError("day is before the birth date")
        # Someone born on 29 February turns a year older on 1 March in common years.
        birthday_not_reached = (day.month, day.day) < (self.birth_date.month, self.birth_date.day)
        return day.year - self.birth_date.year - int(birthday_not_reached)


@dataclass(frozen=True)
class MinimisedCitizen:
    """The only personal data kept after a scan: a keyed id hash, last four digits, name, year."""

    id_hash: str
    id_last4: str
    name: str
    birth_year: int


def parse_card_qr(raw: str, *, today: date | None = None) -> CitizenCard:
    """Parse a QR payload as a keyboard-wedge scanner types it, or raise InvalidCardQR."""
    if not isinstance(raw, str):
        raise TypeError("raw must be str")
    # Checked before normalising or scanning so a flood of input costs nothing.
    if len(raw) > MAX_PAYLOAD_LENGTH:
        raise InvalidCardQR("Dữ liệu quét quá dài", "Scanned data is too long")
    today = today or date.today()

    text = nfc(raw).rstrip(_SCANNER_TERMINATORS)
    if not text:
        raise InvalidCardQR("Không có dữ liệu quét", "Nothing was scanned")
    if any(unicodedata.category(character) in _FORBIDDEN_CATEGORIES for character in text):
        raise InvalidCardQR(
            "Dữ liệu quét chứa ký tự điều khiển; vui lòng kiểm tra cấu hình máy quét",
            "Scanned data contains control characters; check the scanner configuration",
        )

    fields = [value.strip() for value in text.translate(_SEPARATOR_LOOKALIKES).split(SEPARATOR)]
    extra_fields = fields[CARD_FIELD_COUNT:]
    if (
        not CARD_FIELD_COUNT <= len(fields) <= CARD_2024_FIELD_COUNT
        or any(extra_fields)
    ):
        raise InvalidCardQR(
            "Mã QR không phải của thẻ căn cước/CCCD", "The QR code is not from an ID card"
        )
    id_number, old_id, name, birth_text, sex_text, address, issued_text = fields[:CARD_FIELD_COUNT]

    if not _TWELVE_DIGITS.fullmatch(id_number):
        raise InvalidCardQR("Số định danh phải gồm 12 chữ số", "The ID number must be 12 digits")
    if old_id and not _NINE_DIGITS.fullmatch(old_id):
        raise InvalidCardQR("Số CMND cũ phải gồm 9 chữ số", "The old ID number must be 9 digits")

    if not name:
        raise InvalidCardQR("Thiếu họ tên", "The name is missing")
    if len(name) > MAX_NAME_LENGTH:
        raise InvalidCardQR(
            f"Họ tên quá dài (tối đa {MAX_NAME_LENGTH} ký tự)",
            f"The name is too long (at most {MAX_NAME_LENGTH} characters)",
        )

    birth_date = _parse_date(birth_text)
    if birth_date is None:
        raise InvalidCardQR("Ngày sinh không hợp lệ", "The date of birth is not valid")
    if birth_date > today:
        raise InvalidCardQR("Ngày sinh ở tương lai", "The date of birth is in the future")
    if birth_date.year < EARLIEST_BIRTH_YEAR:
        raise InvalidCardQR(
            f"Ngày sinh trước năm {EARLIEST_BIRTH_YEAR}",
            f"The date of birth is before {EARLIEST_BIRTH_YEAR}",
        )

    sex = _SEX_BY_FOLDED_TEXT.get(sex_text.casefold())
    if sex is None:
        raise InvalidCardQR("Giới tính phải là Nam hoặc Nữ", "Sex must be Nam or Nữ")

    issued_on = None
    if issued_text:
        issued_on = _parse_date(issued_text)
        if issued_on is None:
            raise InvalidCardQR("Ngày cấp không hợp lệ", "The issue date is not valid")
        if issued_on < birth_date:
            raise InvalidCardQR(
                "Ngày cấp trước ngày sinh", "The issue date is before the date of birth"
            )
        if issued_on > today:
            raise InvalidCardQR("Ngày cấp ở tương lai", "The issue date is in the future")

    return CitizenCard(
        id_number=id_number,
        old_id=old_id or None,
        name=name,
        birth_date=birth_date,
        sex=sex,
        address=address,
        issued_on=issued_on,
    )


def _parse_date(text: str) -> date | None:
    """Return the calendar date written as ddmmyyyy, or None if it is not a real date."""
    if not _EIGHT_DIGITS.fullmatch(text):
        return None
    try:
        return date(int(text[4:8]), int(text[2:4]), int(text[0:2]))
    except ValueError:
        return None


def id_hash_key(server_secret: str) -> bytes:
    """The HMAC key for ID numbers, derived from the server's secret so hashes match across restarts."""
    return hashlib.sha256(b"luot-citizen-id:" + server_secret.encode()).digest()


def minimise(card: CitizenCard, key: bytes) -> MinimisedCitizen:
    """Keep only a keyed hash and the last four digits of the id, the name and the birth year."""
    # ID numbers have little entropy (province, birth year, six digits), so an unkeyed or
    # short-keyed hash could be reversed by trying every number.
    if len(key) < MINIMUM_KEY_LENGTH:
        raise ValueError(f"key must be at least {MINIMUM_KEY_LENGTH} bytes")
    id_hash = hmac.new(key, card.id_number.encode("ascii"), hashlib.sha256).hexdigest()
    return MinimisedCitizen(
        id_hash=id_hash,
        id_last4=card.id_number[-4:],
        name=card.name,
        birth_year=card.birth_date.year,
    )


def is_elderly(card: CitizenCard, today: date, threshold: int = 60) -> bool:
    """Tell whether the cardholder has reached threshold years of age (người cao tuổi) today."""
    return card.age_on(today) >= threshold
