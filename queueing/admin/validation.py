"""Checking an administrator's input: each field's rules, and one answer listing every mistake of a form."""
from __future__ import annotations

import re
import unicodedata
from contextlib import contextmanager

from .. import accounts, store
from ..model import QueueError
from ..service import WEEKDAYS
from ..speech_vi import LETTER_NAMES_VI
from ..text import nfc

NAME_MAX = 120
NOTE_MAX = 500
CODE_PATTERN = re.compile(r"^[A-Z0-9][A-Z0-9_.-]{0,31}$")
TIME_PATTERN = re.compile(r"^(\d{1,2}):(\d{2})$")
# Day names accepted in the opening-hours text: English and Vietnamese (Thứ 2 … Chủ nhật).
DAY_ALIASES = {**{day: index for index, day in enumerate(WEEKDAYS)},
               "t2": 0, "t3": 1, "t4": 2, "t5": 3, "t6": 4, "t7": 5, "cn": 6}
DAY_LABELS = {"vi": ("T2", "T3", "T4", "T5", "T6", "T7", "CN"),
              "en": ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
COMMON_PASSWORDS = {"12345678", "123456789", "1234567890", "password", "password1", "matkhau", "matkhau1",
                    "matkhau123", "11111111", "00000000", "qwertyui", "abcd1234", "admin123", "12341234"}


class ValidationError(QueueError):
    """Input an administrator must correct; `field` names the form field at fault."""

    status = 400
    code = "invalid"

    def __init__(self, message: str, *, field: str | None = None, code: str | None = None,
                 status: int | None = None, errors: list[str] | None = None, fields: dict | None = None):
        super().__init__(message, code=code, status=status)
        self.field = field
        self.errors = errors or [message]
        # every field at fault -> its message, so a form marks them all at once
        self.fields = fields if fields is not None else ({field: message} if field else {})


class _Fields:
    """Collects each field's refusal, so one answer lists every mistake of a form."""

    def __init__(self):
        self.refusals: dict[str, ValidationError] = {}

    @contextmanager
    def field(self, name: str):
        try:
            yield
        except ValidationError as error:
            self.refusals.setdefault(error.field or name, error)

    def done(self) -> None:
        refusals = list(self.refusals.values())
        if len(refusals) == 1:
            raise refusals[0]
        if refusals:
            messages = [error.message for error in refusals]
            raise ValidationError(f"Có {len(messages)} lỗi cần sửa: " + "; ".join(messages),
                                  field=refusals[0].field, code=refusals[0].code, status=refusals[0].status,
                                  errors=messages, fields={name: error.message for name, error in self.refusals.items()})


_ABSENT = object()  # as a default: the check runs only when the field is given


def _clean(data: dict, checks, existing: dict | None, key=None, unique=None) -> dict:
    """Run each (field, check, default-on-create) over the input; `key` is the (field, check, message) fixed at creation."""
    creating = existing is None
    fields = _Fields()
    out: dict = {}
    if key is not None:
        name, check, message = key
        with fields.field(name):
            if creating:
                out[name] = check(data.get(name))
            elif data.get(name) not in (None, "") and check(data[name]) != existing[name]:
                raise ValidationError(message, field=name, code="fixed")
    for name, check, default in checks:
        if name in data:
            value = data[name]
        elif creating and default is not _ABSENT:
            value = default
        else:
            continue
        with fields.field(name):
            out[name] = check(value)
    if unique is not None:
        unique(out, fields)  # duplicates are reported along with the other mistakes
    fields.done()
    return out


def _unique(db, centre_id: str, table: str, column: str, label: str, label_en: str, row_id=None):
    """A check that a value is not already used by another row of the centre (codes, numbers)."""
    def check(out: dict, fields: _Fields) -> None:
        with fields.field(column):
            if column in out and store.one(db, f"SELECT id FROM {table} WHERE centre_id = ? AND {column} = ? "
                                               "AND id IS NOT ?", (centre_id, out[column], row_id)):
                raise ValidationError(f"{label} «{out[column]}» đã có ({label_en} already used)", field=column,
                                      code="duplicate_number" if column == "number" else "duplicate_code",
                                      status=409)
    return check


def _text(value, field: str, label: str, *, required: bool = False, max_length: int = NAME_MAX) -> str:
    """NFC text on one line, trimmed; refuses non-text, control characters and overlong text."""
    if value is None:
        value = ""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        raise ValidationError(f"{label} phải là chữ ({field} must be text)", field=field)
    value = " ".join(nfc(value).split())
    if any(unicodedata.category(ch) == "Cc" for ch in value):
        raise ValidationError(f"{label} có ký tự điều khiển không hợp lệ ({field} has control characters)",
                              field=field)
    if required and not value:
        raise ValidationError(f"{label} không được để trống ({field} is required)", field=field, code="required")
    if len(value) > max_length:
        raise ValidationError(f"{label} dài tối đa {max_length} ký tự, hiện có {len(value)} "
                              f"({field}: at most {max_length} characters)", field=field, code="too_long")
    return value


def _optional_text(value, field: str, label: str, max_length: int = NOTE_MAX) -> str | None:
    return _text(value, field, label, max_length=max_length) or None


def _int(value, field: str, label: str, *, minimum: int | None = None, maximum: int | None = None,
         optional: bool = False) -> int | None:
    """A whole number in range; '' or None is None when optional."""
    if value is None or (isinstance(value, str) and not value.strip()):
        if optional:
            return None
        raise ValidationError(f"{label} không được để trống ({field} is required)", field=field, code="required")
    number = None
    if isinstance(value, bool):
        number = None
    elif isinstance(value, int):
        number = value
    elif isinstance(value, float) and value.is_integer():
        number = int(value)
    elif isinstance(value, str) and re.fullmatch(r"\s*[+-]?\d{1,12}\s*", value):
        number = int(value)
    if number is None or (minimum is not None and number < minimum) or (maximum is not None and number > maximum):
        if minimum is not None and maximum is not None:
            span, span_en = f"từ {minimum} đến {maximum}", f"from {minimum} to {maximum}"
        elif minimum is not None:
            span, span_en = f"từ {minimum} trở lên", f"of at least {minimum}"
        else:
            span, span_en = f"không quá {maximum}", f"of at most {maximum}"
        raise ValidationError(f"{label} phải là số nguyên {span}, không phải «{value}» "
                              f"({field} must be a whole number {span_en})", field=field, code="out_of_range")
    return number


def _bool(value, field: str, label: str) -> bool:
    if isinstance(value, bool):
        return value
    if value in (None, "", 0, "0", "false", "off", "no", "False"):
        return False
    if value in (1, "1", "true", "on", "yes", "True"):
        return True
    raise ValidationError(f"{label} phải là có hoặc không ({field} must be true or false)", field=field)


def _code(value, field: str, label: str) -> str:
    code = _text(value, field, label, required=True, max_length=32).upper()
    if not CODE_PATTERN.match(code):
        raise ValidationError(f"{label} chỉ gồm chữ A-Z, số 0-9 và '_', '-', '.', tối đa 32 ký tự, không phải «{code}» "
                              f"({field}: letters A-Z, digits and _ - . only)", field=field, code="bad_code")
    return code


def _prefix(value) -> str:
    prefix = _text(value, "prefix", "Chữ đầu số thứ tự", required=True, max_length=2).upper()
    if not all(letter in LETTER_NAMES_VI for letter in prefix):
        raise ValidationError(f"Chữ đầu số thứ tự gồm 1–2 chữ cái in hoa, ví dụ A hoặc HK, không phải «{prefix}» "
                              "(prefix: 1 or 2 capital letters)", field="prefix", code="bad_prefix")
    return prefix


def check_password(password, username: str = "") -> str:
    """Refuse a weak password: under 8 characters, one kind of character, common, or the username."""
    field, label = "password", "Mật khẩu"
    if not isinstance(password, str) or len(password) < accounts.MIN_PASSWORD_LENGTH:
        raise ValidationError(f"Mật khẩu phải có ít nhất {accounts.MIN_PASSWORD_LENGTH} ký tự "
                              "(password too short)", field=field, code="weak_password")
    if len(password) > 200:
        raise ValidationError("Mật khẩu dài tối đa 200 ký tự (password too long)", field=field, code="weak_password")
    kinds = sum(bool(re.search(pattern, password)) for pattern in (r"[^\W\d_]", r"\d", r"[\W_]"))
    if kinds < 2 or password.lower() in COMMON_PASSWORDS or (username and username.lower() in password.lower()):
        raise ValidationError(f"{label} quá dễ đoán: hãy trộn chữ với số hoặc ký hiệu, không dùng tên đăng nhập "
                              "(password too weak: mix letters with digits or symbols)", field=field,
                              code="weak_password")
    return password


def _time(text: str) -> str:
    match = TIME_PATTERN.match(text)
    if not match or int(match.group(1)) > 24 or int(match.group(2)) > 59 or (
            int(match.group(1)) == 24 and match.group(2) != "00"):
        raise ValidationError(f"Giờ không hợp lệ: «{text}»; viết GG:PP từ 00:00 đến 24:00, ví dụ 07:30 "
                              "(bad time: use HH:MM from 00:00 to 24:00)", field="opening_hours",
                              code="bad_opening_hours")
    return f"{int(match.group(1)):02d}:{match.group(2)}"


def _bad_hours(detail: str, detail_en: str) -> ValidationError:
    return ValidationError(f"Giờ làm việc không hợp lệ: {detail}. Ví dụ: «T2-T6 07:30-11:30, 13:30-17:00; "
                           f"T7 07:30-11:30» (bad opening hours: {detail_en})", field="opening_hours",
                           code="bad_opening_hours")


def _day(token: str) -> int:
    day = DAY_ALIASES.get(token.lower())
    if day is None:
        raise _bad_hours(f"không hiểu ngày «{token}» (dùng T2…T7, CN hoặc mon…sun)", f"unknown day {token!r}")
    return day


def parse_opening_hours(value) -> dict | None:
    """Opening hours as stored: {"mon": [["07:30", "11:30"], …], …}, from that dict or from text; None = always."""
    if value is None or (isinstance(value, str) and not value.strip()) or value == {}:
        return None
    spans: dict[int, list[tuple[str, str]]] = {}
    if isinstance(value, dict):
        for key, ranges in value.items():
            if key not in WEEKDAYS:
                raise _bad_hours(f"ngày «{key}» không có (dùng {', '.join(WEEKDAYS)})", f"unknown day {key!r}")
            if not isinstance(ranges, list) or not all(
                    isinstance(r, (list, tuple)) and len(r) == 2 and all(isinstance(t, str) for t in r)
                    for r in ranges):
                raise _bad_hours(f"ngày {key} cần danh sách [giờ mở, giờ đóng]", f"{key} needs [start, end] pairs")
            spans.setdefault(WEEKDAYS.index(key), []).extend((_time(a.strip()), _time(b.strip())) for a, b in ranges)
    elif isinstance(value, str):
        text = nfc(value).replace("–", "-").replace("—", "-")
        for part in re.split(r"[;\n]+", text):
            tokens = [token for token in re.split(r"[\s,]+", part.strip()) if token]
            if not tokens:
                continue
            days: list[int] = []
            ranges: list[tuple[str, str]] = []
            for token in tokens:
                if ":" in token:
                    times = token.split("-")
                    if len(times) != 2:
                        raise _bad_hours(f"«{token}» phải có dạng GG:PP-GG:PP", f"{token!r} must be HH:MM-HH:MM")
                    ranges.append((_time(times[0]), _time(times[1])))
                elif ranges:
                    raise _bad_hours(f"ngày «{token}» phải đứng trước giờ", f"day {token!r} after the times")
                elif "-" in token:
                    first, _, last = token.partition("-")
                    start, end = _day(first), _day(last)
                    if end < start:
                        raise _bad_hours(f"khoảng ngày «{token}» ngược", f"day range {token!r} is reversed")
                    days.extend(range(start, end + 1))
                else:
                    days.append(_day(token))
            if not days or not ranges:
                raise _bad_hours(f"«{part.strip()}» cần cả ngày và giờ", f"{part.strip()!r} needs days and times")
            for day in days:
                spans.setdefault(day, []).extend(ranges)
    else:
        raise _bad_hours("cần chữ hoặc bảng theo ngày", "text or a mapping by day expected")
    hours = {}
    for day in sorted(spans):
        ranges = sorted(set(spans[day]))
        for start, end in ranges:
            if start >= end:
                raise _bad_hours(f"{start}-{end}: giờ đóng phải sau giờ mở", f"{start}-{end} ends before it starts")
        for (_, end), (start, _) in zip(ranges, ranges[1:]):
            if start < end:
                raise _bad_hours(f"các khoảng giờ của {DAY_LABELS['vi'][day]} chồng lên nhau",
                                 f"overlapping times on {WEEKDAYS[day]}")
        hours[WEEKDAYS[day]] = [list(r) for r in ranges]
    return hours or None


def format_opening_hours(hours: dict | None, lang: str = "vi") -> str:
    """Stored opening hours as the text the form shows: "T2-T6 07:30-11:30, 13:30-17:00; T7 07:30-11:30"."""
    if not hours:
        return ""
    labels = DAY_LABELS.get(lang, DAY_LABELS["vi"])
    groups: list[tuple[int, int, str]] = []
    for day, name in enumerate(WEEKDAYS):
        ranges = hours.get(name)
        if not ranges:
            continue
        times = ", ".join(f"{start}-{end}" for start, end in ranges)
        if groups and groups[-1][1] == day - 1 and groups[-1][2] == times:
            groups[-1] = (groups[-1][0], day, times)
        else:
            groups.append((day, day, times))
    return "; ".join((labels[a] if a == b else f"{labels[a]}-{labels[b]}") + f" {times}" for a, b, times in groups)
