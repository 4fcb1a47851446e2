"""Vietnamese (and English) text for announcements, with numbers read in words."""
import re
import string

from queueing.text import nfc

DIGITS = ("không", "một", "hai", "ba", "bốn", "năm", "sáu", "bảy", "tám", "chín")
MAX_NUMBER = 10**15
BILLION = 10**9

# Below a billion, each three-digit group is followed by its scale word, biggest first.
_GROUP_SCALES = ((10**6, "triệu"), (10**3, "nghìn"), (1, ""))

# Every spelling parse_number_vi accepts, northern and southern (catalogue `number_reading`).
_DIGIT_VALUES = {word: value for value, word in enumerate(DIGITS)} | {
    "mốt": 1,
    "tư": 4,
    "lăm": 5,
    "nhăm": 5,
}
_SCALE_VALUES = {"nghìn": 10**3, "ngàn": 10**3, "triệu": 10**6}
_BILLION_WORDS = ("tỷ", "tỉ")
_ZERO_TENS_WORDS = ("linh", "lẻ")

# Vietnamese letter names for ticket prefixes, spoken instead of the bare capital because
# espeak-ng 1.51 (vi) reads D like "đê", Y like I, G as a non-Vietnamese "ghê" and J with
# a hard g (checked with `espeak-ng -v vi -x`). G is "gờ", not "giê", which sounds like D.
LETTER_NAMES_VI = {
    "A": "a", "Ă": "á", "Â": "ớ", "B": "bê", "C": "xê", "D": "dê", "Đ": "đê", "E": "e",
    "Ê": "ê", "F": "ép", "G": "gờ", "H": "hát", "I": "i", "J": "di", "K": "ca",
    "L": "e-lờ", "M": "em-mờ", "N": "en-nờ", "O": "o", "Ô": "ô", "Ơ": "ơ", "P": "pê",
    "Q": "quy", "R": "e-rờ", "S": "ét", "T": "tê", "U": "u", "Ư": "ư", "V": "vê",
    "W": "vê kép", "X": "ích", "Y": "i dài", "Z": "dét",
}
_LETTERS = "".join(LETTER_NAMES_VI)
_TICKET_PATTERN = re.compile(rf"([{_LETTERS}]{{0,2}})[-\s]?([0-9]+)")
_PREFIX_IN_TEXT = re.compile(rf"(?<!\w)[{_LETTERS}]{{1,2}}(?!\w)")

DIGITS_EN = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
_ONES_EN = DIGITS_EN + (
    "ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen",
    "eighteen", "nineteen",
)
_TENS_EN = ("", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety")

DEFAULT_TEMPLATES = {
    ("vi", False): "Xin mời công dân có số thứ tự {so} đến quầy số {quay}.",
    ("vi", True): "Xin mời lần thứ {lan}, công dân có số thứ tự {so} đến quầy số {quay}.",
    ("en", False): "Ticket number {so}, please proceed to counter {quay}.",
    ("en", True): "Calling again, ticket number {so}, please proceed to counter {quay}.",
}

# Placeholder spellings: ASCII, the accented ones, and the catalogue's `*_doc` ones,
# so a template copied from either works.
PLACEHOLDERS = {
    "so": "ticket", "số": "ticket", "so_doc": "ticket",
    "quay": "counter", "quầy": "counter", "quay_doc": "counter",
    "ten_quay": "counter_name", "tên_quầy": "counter_name",
    "lan": "call_ordinal", "lần": "call_ordinal",
}


# espeak-ng's Vietnamese voices a centre may choose (the `voice` setting): northern, central, southern.
VIETNAMESE_VOICES = ("vi", "vi-vn-x-central", "vi-vn-x-south")


def _read_below_thousand(number: int, full: bool) -> str:
    """Read 0..999; full reads a zero hundreds digit as "không trăm", as in a non-leading group."""
    hundreds, rest = divmod(number, 100)
    tens, unit = divmod(rest, 10)
    words = []
    if hundreds or full:
        words += [DIGITS[hundreds], "trăm"]
    if tens == 0:
        if unit and words:
            words += ["linh", DIGITS[unit]]
        elif unit:
            words.append(DIGITS[unit])
    elif tens == 1:
        words.append("mười")
        if unit:
            words.append("lăm" if unit == 5 else DIGITS[unit])
    else:
        words += [DIGITS[tens], "mươi"]
        if unit:
            words.append({1: "mốt", 4: "tư", 5: "lăm"}.get(unit, DIGITS[unit]))
    return " ".join(words)


def _read_below_billion(number: int, leading: bool) -> str:
    """Read 1..999 999 999 group by group, skipping all-zero groups."""
    words = []
    for scale, scale_word in _GROUP_SCALES:
        group = number // scale % 1000
        if group:
            full = bool(words) or not leading
            words.append(_read_below_thousand(group, full))
            if scale_word:
                words.append(scale_word)
    return " ".join(words)


def read_number_vi(n: int) -> str:
    """Read a cardinal number from 0 to 10^15 in Vietnamese words."""
    if isinstance(n, bool) or not isinstance(n, int) or not 0 <= n <= MAX_NUMBER:
        raise ValueError(f"read_number_vi needs an integer from 0 to 10^15, got {n!r}")
    if n == 0:
        return DIGITS[0]
    billions, rest = divmod(n, BILLION)
    words = []
    if billions:
        # 10^12 is "nghìn tỷ" and 10^15 "triệu tỷ": the count of billions is read like a number.
        words += [_read_below_billion(billions, leading=True), _BILLION_WORDS[0]]
    if rest:
        words.append(_read_below_billion(rest, leading=not billions))
    return " ".join(words)


def parse_number_vi(words: str) -> int:
    """Return the number that Vietnamese number words (as read_number_vi writes them) stand for."""
    tokens = nfc(words).lower().split()
    if not tokens:
        raise ValueError("parse_number_vi got no words")
    total = section = group = 0
    position = 0
    while position < len(tokens):
        word = tokens[position]
        following = tokens[position + 1] if position + 1 < len(tokens) else None
        if word in _DIGIT_VALUES and following in ("trăm", "mươi"):
            group += _DIGIT_VALUES[word] * (100 if following == "trăm" else 10)
            position += 1
        elif word in _DIGIT_VALUES:
            group += _DIGIT_VALUES[word]
        elif word == "mười":
            group += 10
        elif word in _SCALE_VALUES:
            section += group * _SCALE_VALUES[word]
            group = 0
        elif word in _BILLION_WORDS:
            total += (section + group) * BILLION
            section = group = 0
        elif word not in _ZERO_TENS_WORDS:
            raise ValueError(f"not a Vietnamese number word: {word!r} in {words!r}")
        position += 1
    return total + section + group


def _split_ticket(number: str) -> tuple[str, str]:
    """Return the letter prefix and the digits of a ticket number such as "A012" or "CT-015"."""
    match = _TICKET_PATTERN.fullmatch(nfc(str(number)).strip().upper())
    if match is None:
        raise ValueError(f"not a ticket number (up to 2 letters then digits): {number!r}")
    return match.group(1), match.group(2)


def read_ticket_vi(number: str) -> str:
    """Read a ticket number: letters kept, leading zeros as "không", the rest as a cardinal."""
    prefix, digits = _split_ticket(number)
    significant = digits.lstrip("0")
    words = [prefix] if prefix else []
    words += [DIGITS[0]] * (len(digits) - len(significant))
    if significant:
        words.append(read_number_vi(int(significant)))
    return " ".join(words)


def read_ticket_en(number: str) -> str:
    """Read a ticket number for English speech: "A012" becomes "A, zero one two".

    Digits are read one by one, as codes are in English; the comma makes English TTS say the
    letter's name (espeak-ng reads a bare "A" before a word as the article "uh").
    """
    prefix, digits = _split_ticket(number)
    spoken_digits = " ".join(DIGITS_EN[int(digit)] for digit in digits)
    return f"{prefix}, {spoken_digits}" if prefix else spoken_digits


def _read_number_en(n: int) -> str:
    """Read a cardinal number from 0 to 999 999 in English words."""
    if not 0 <= n < 10**6:
        raise ValueError(f"English numbers are read from 0 to 999 999, got {n}")
    if n < 20:
        return _ONES_EN[n]
    if n < 100:
        tens, unit = divmod(n, 10)
        return _TENS_EN[tens] + (f"-{_ONES_EN[unit]}" if unit else "")
    head, rest = divmod(n, 100) if n < 1000 else divmod(n, 1000)
    scale = "hundred" if n < 1000 else "thousand"
    return f"{_read_number_en(head)} {scale}" + (f" {_read_number_en(rest)}" if rest else "")


def _ordinal_vi(n: int) -> str:
    """Read "lần thứ …": 1 is "nhất" and 4 is "tư" as ordinals, the rest are cardinals."""
    return {1: "nhất", 4: "tư"}.get(n) or read_number_vi(n)


def validate_template(template: str) -> None:
    """Raise ValueError, in Vietnamese and English, unless the template is a usable announcement."""
    allowed = ", ".join(f"{{{name}}}" for name in PLACEHOLDERS)
    if not isinstance(template, str) or not template.strip():
        raise ValueError("Mẫu câu thông báo đang trống. / The announcement template is empty.")
    try:
        fields = list(string.Formatter().parse(nfc(template)))
    except ValueError as error:
        raise ValueError(
            "Mẫu câu thông báo có dấu ngoặc { } không khớp (viết {{ hoặc }} để in dấu ngoặc). "
            f"/ The announcement template has unbalanced braces: {error}."
        ) from None
    used = set()
    for _, field_name, format_spec, conversion in fields:
        if field_name is None:
            continue
        if field_name not in PLACEHOLDERS or format_spec or conversion:
            shown = "{" + field_name + (f"!{conversion}" if conversion else "")
            shown += (f":{format_spec}" if format_spec else "") + "}"
            raise ValueError(
                f"Mẫu câu thông báo có chỗ trống không hợp lệ: {shown}. Chỉ được dùng: {allowed}. "
                f"/ Unknown placeholder {shown} in the announcement template; allowed: {allowed}."
            )
        used.add(PLACEHOLDERS[field_name])
    if "ticket" not in used:
        raise ValueError(
            "Mẫu câu thông báo phải có số thứ tự: {so} hoặc {số}. "
            "/ The announcement template must contain the ticket number: {so} or {số}."
        )


def announcement_text(
    ticket_number: str,
    counter_number: int,
    counter_name: str,
    lang: str = "vi",
    template: str | None = None,
    recall_count: int = 0,
) -> str:
    """Return the sentence announcing a call (or the recall_count-th recall), numbers in words."""
    if lang not in ("vi", "en"):
        raise ValueError(f"announcements are in 'vi' or 'en', not {lang!r}")
    if template is None:
        template = DEFAULT_TEMPLATES[(lang, recall_count >= 1)]
    validate_template(template)
    call_number = recall_count + 1
    if lang == "vi":
        readings = {
            "ticket": read_ticket_vi(ticket_number),
            "counter": read_number_vi(counter_number),
            "call_ordinal": _ordinal_vi(call_number),
        }
    else:
        readings = {
            "ticket": read_ticket_en(ticket_number),
            "counter": _read_number_en(counter_number),
            "call_ordinal": _read_number_en(call_number),
        }
    readings["counter_name"] = nfc(counter_name or "")
    values = {name: readings[meaning] for name, meaning in PLACEHOLDERS.items()}
    return nfc(template).format(**values)


_NUMBER_WORDS = frozenset(DIGITS) | {"mốt", "tư", "lăm", "mười", "mươi", "trăm", "linh", "nghìn", "triệu", "tỷ"}
_WORD = re.compile(r"\S+")


def with_pauses_vi(text: str) -> str:
    """Text with a comma where a number (letters and number words) starts or ends inside a sentence.

    espeak-ng runs "số thứ tự A không mười hai đến quầy" together; a short pause either side of the
    number lets a listener in a noisy hall hear where it is (bench/bench_voice.py measured it).
    """
    def numeric(token: str) -> bool:
        bare = token.strip(",.;:!?")
        return bool(_PREFIX_IN_TEXT.fullmatch(bare)) or bare.lower() in _NUMBER_WORDS or bare.isdigit()

    tokens = _WORD.findall(nfc(text))
    out = []
    for index, token in enumerate(tokens):
        following = tokens[index + 1] if index + 1 < len(tokens) else None
        if (following is not None and token[-1:].isalnum()
                and numeric(token) != numeric(following)):
            token += ","
        out.append(token)
    return " ".join(out)


def tts_text_vi(text: str) -> str:
    """Return text for the Vietnamese voice, standalone prefix capitals replaced by letter names."""
    return _PREFIX_IN_TEXT.sub(
        lambda match: " ".join(LETTER_NAMES_VI[letter] for letter in match.group()), nfc(text)
    )
