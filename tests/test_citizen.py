"""Tests for ID-card QR parsing, ages and personal-data minimisation."""
import dataclasses
import hashlib
import json
import unicodedata
from datetime import date
from pathlib import Path

import pytest

from queueing import citizen
from queueing.citizen import (
    CitizenCard,
    InvalidCardQR,
    MinimisedCitizen,
    is_elderly,
    minimise,
    parse_card_qr,
)

SAMPLES = json.loads(
    (Path(__file__).parent / "data" / "cccd-qr-samples.json").read_text(encoding="utf-8")
)
TODAY = date(2026, 11, 24)
KEY = b"k" * 32
OTHER_KEY = b"o" * 32
FIRST_VALID = SAMPLES["valid"][0]["raw"]


def parse(raw):
    """Parse with the fixed date the samples were written for."""
    return parse_card_qr(raw, today=TODAY)


def card_born(birth_date):
    """Build a card for someone born on birth_date."""
    return CitizenCard(
        id_number="001090000001",
        old_id=None,
        name="NGUYỄN VĂN A",
        birth_date=birth_date,
        sex="Nam",
        address="Hà Nội",
        issued_on=None,
    )


def sample_id(sample):
    """Name a parametrized case after the sample's reason, or its id number when it has none."""
    return sample.get("why") or sample["raw"][:12].encode("unicode_escape").decode()


@pytest.mark.parametrize(
    "sample", [s for s in SAMPLES["valid"] if s["expect"] is not None], ids=sample_id
)
def test_valid_samples_parse_to_expected_fields(sample):
    card = parse(sample["raw"])
    expect = sample["expect"]
    assert card.id_number == expect["id"]
    assert card.name == expect["name"]
    assert card.birth_date == date.fromisoformat(expect["dob"])
    if "old_id" in expect:
        assert card.old_id == expect["old_id"]
    if "sex" in expect:
        assert card.sex == expect["sex"]
    if "issued" in expect:
        assert card.issued_on == date.fromisoformat(expect["issued"])
    assert unicodedata.is_normalized("NFC", card.name)
    assert unicodedata.is_normalized("NFC", card.address)


@pytest.mark.parametrize(
    "sample", [s for s in SAMPLES["valid"] if s["expect"] is None], ids=sample_id
)
def test_valid_section_sample_without_expectation_is_rejected(sample):
    with pytest.raises(InvalidCardQR) as raised:
        parse(sample["raw"])
    assert raised.value.message == "Mã QR không phải của thẻ căn cước/CCCD"


@pytest.mark.parametrize("sample", SAMPLES["invalid"], ids=sample_id)
def test_invalid_samples_are_rejected_with_messages(sample):
    with pytest.raises(InvalidCardQR) as raised:
        parse(sample["raw"])
    assert raised.value.message and raised.value.message_en
    assert str(raised.value) == raised.value.message
    assert isinstance(raised.value, ValueError)


@pytest.mark.parametrize("sample", SAMPLES["hostile"], ids=sample_id)
def test_markup_in_name_is_kept_verbatim_as_data(sample):
    card = parse(sample["raw"])
    assert card.name == "<script>alert(1)</script>"


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (SAMPLES["invalid"][3]["raw"], "Số định danh phải gồm 12 chữ số"),
        (SAMPLES["invalid"][4]["raw"], "Ngày sinh không hợp lệ"),
        (SAMPLES["invalid"][5]["raw"], "Dữ liệu quét chứa ký tự điều khiển"),
        (SAMPLES["invalid"][6]["raw"], "Dữ liệu quét quá dài"),
        ("", "Không có dữ liệu quét"),
        ("hello world", "Mã QR không phải của thẻ căn cước/CCCD"),
        ("12345|x|y", "Mã QR không phải của thẻ căn cước/CCCD"),
    ],
)
def test_rejections_explain_the_problem_in_vietnamese(raw, message):
    with pytest.raises(InvalidCardQR) as raised:
        parse(raw)
    assert raised.value.message.startswith(message)


def test_nfd_input_gives_the_same_card_as_nfc():
    for sample in SAMPLES["valid"][:5]:
        decomposed = unicodedata.normalize("NFD", sample["raw"])
        assert decomposed != sample["raw"]
        card = parse(decomposed)
        assert card == parse(sample["raw"])
        assert unicodedata.is_normalized("NFC", card.name)


def test_full_width_bars_equal_ascii_bars():
    full_width = SAMPLES["valid"][4]["raw"]
    assert parse(full_width) == parse(full_width.replace("｜", "|"))


@pytest.mark.parametrize("bar", ["¦", "│", "∣", "￨"])
def test_other_bar_lookalikes_are_separators(bar):
    assert parse(FIRST_VALID.replace("|", bar)) == parse(FIRST_VALID)


@pytest.mark.parametrize("ending", ["\r\n", "\n", "\r", "\t", "\r\n\r\n"])
def test_scanner_line_ending_is_accepted(ending):
    assert parse(FIRST_VALID + ending) == parse(FIRST_VALID)


@pytest.mark.parametrize(
    "raw",
    [
        FIRST_VALID.replace("NGUYỄN", "NGUY\u200bỄN"),  # zero-width space (Cf)
        FIRST_VALID.replace("NGUYỄN VĂN", "NGUYỄN\tVĂN"),  # tab inside a field
        "\x02" + FIRST_VALID,  # STX prefix some scanners send
        FIRST_VALID + "\x03\r\n",
        FIRST_VALID.replace("Số 1", "Số\u20281"),  # line separator
    ],
)
def test_control_characters_are_rejected_not_stripped(raw):
    with pytest.raises(InvalidCardQR, match="ký tự điều khiển"):
        parse(raw)


def test_oversized_input_is_rejected_before_any_other_work(monkeypatch):
    def must_not_be_called(text):
        raise AssertionError("normalised an oversized payload")

    monkeypatch.setattr(citizen, "nfc", must_not_be_called)
    with pytest.raises(InvalidCardQR, match="quá dài"):
        parse("0|" * 5_000)


def test_payload_of_exactly_the_limit_is_accepted():
    padding = citizen.MAX_PAYLOAD_LENGTH - len(FIRST_VALID)
    raw = FIRST_VALID.replace("Số 1", "Số 1" + "x" * padding)
    assert len(raw) == citizen.MAX_PAYLOAD_LENGTH
    parse(raw)
    with pytest.raises(InvalidCardQR, match="quá dài"):
        parse(raw + "x")


def test_thirteen_digit_id_is_rejected():
    with pytest.raises(InvalidCardQR, match="12 chữ số"):
        parse(FIRST_VALID.replace("001090000001", "0010900000011"))


def test_full_width_digits_in_id_are_rejected():
    full_width_id = "".join(chr(ord(digit) + 0xFEE0) for digit in "001090000001")
    with pytest.raises(InvalidCardQR, match="12 chữ số"):
        parse(FIRST_VALID.replace("001090000001", full_width_id))


@pytest.mark.parametrize("old_id", ["12345678", "1234567890", "01234567A"])
def test_old_id_must_be_nine_digits(old_id):
    with pytest.raises(InvalidCardQR, match="9 chữ số"):
        parse(FIRST_VALID.replace("012345678", old_id))


def test_empty_old_id_is_none():
    assert parse(FIRST_VALID.replace("012345678", "")).old_id is None


def test_name_is_required_and_bounded():
    with pytest.raises(InvalidCardQR, match="Thiếu họ tên"):
        parse(FIRST_VALID.replace("NGUYỄN VĂN A", "  "))
    with pytest.raises(InvalidCardQR, match="quá dài"):
        parse(FIRST_VALID.replace("NGUYỄN VĂN A", "A" * 101))
    assert parse(FIRST_VALID.replace("NGUYỄN VĂN A", "Ạ" * 100)).name == "Ạ" * 100


@pytest.mark.parametrize(("typed", "stored"), [("nam", "Nam"), ("NAM", "Nam"), ("NỮ", "Nữ")])
def test_sex_is_case_insensitive_and_stored_canonically(typed, stored):
    assert parse(FIRST_VALID.replace("|Nam|", f"|{typed}|")).sex == stored


@pytest.mark.parametrize("typed", ["Male", "N", ""])
def test_unknown_sex_is_rejected(typed):
    with pytest.raises(InvalidCardQR, match="Giới tính"):
        parse(FIRST_VALID.replace("|Nam|", f"|{typed}|"))


@pytest.mark.parametrize("birth", ["29021990", "00011990", "01131990", "1011990", "01-01-90"])
def test_impossible_birth_dates_are_rejected(birth):
    with pytest.raises(InvalidCardQR, match="Ngày sinh không hợp lệ"):
        parse(FIRST_VALID.replace("01011990", birth))


def test_birth_date_in_the_future_or_before_1900_is_rejected():
    with pytest.raises(InvalidCardQR, match="tương lai"):
        parse(FIRST_VALID.replace("|01011990|", "|25112026|").replace("01012022", ""))
    with pytest.raises(InvalidCardQR, match="1900"):
        parse(FIRST_VALID.replace("01011990", "31121899"))


def test_birthday_today_is_accepted():
    assert parse_card_qr(FIRST_VALID.replace("01012022", ""), today=date(1990, 1, 1))


def test_issue_date_checks():
    assert parse(FIRST_VALID.replace("|01012022", "|")).issued_on is None
    with pytest.raises(InvalidCardQR, match="Ngày cấp không hợp lệ"):
        parse(FIRST_VALID.replace("01012022", "30022022"))
    with pytest.raises(InvalidCardQR, match="trước ngày sinh"):
        parse(FIRST_VALID.replace("01012022", "31121989"))
    with pytest.raises(InvalidCardQR, match="Ngày cấp ở tương lai"):
        parse(FIRST_VALID.replace("01012022", "25112026"))


def test_2024_card_extras_must_be_empty_and_at_most_four():
    new_card = SAMPLES["valid"][1]["raw"]
    assert parse(new_card[:-2]) == parse(new_card)  # tolerant of 9 fields
    with pytest.raises(InvalidCardQR, match="không phải của thẻ"):
        parse(new_card + "|")  # 12 fields
    with pytest.raises(InvalidCardQR, match="không phải của thẻ"):
        parse(new_card[:-1] + "X")


def test_id_century_digit_is_not_enforced():
    # 038155000003 encodes "female, 19xx" but the sample is a man; see the module comment.
    assert parse(SAMPLES["valid"][2]["raw"]).sex == "Nam"


def test_repr_hides_id_numbers_and_address():
    text = repr(parse(FIRST_VALID))
    assert "001090000001" not in text and "012345678" not in text and "Lê Lợi" not in text


def test_non_text_input_is_a_type_error():
    with pytest.raises(TypeError):
        parse_card_qr(FIRST_VALID.encode())


@pytest.mark.parametrize(
    ("day", "age"),
    [
        (date(2020, 7, 14), 64),
        (date(2020, 7, 15), 65),
        (date(2020, 7, 16), 65),
        (date(1955, 7, 15), 0),
    ],
)
def test_age_counts_the_birthday_itself(day, age):
    assert card_born(date(1955, 7, 15)).age_on(day) == age


@pytest.mark.parametrize(
    ("day", "age"),
    [
        (date(2024, 2, 28), 59),
        (date(2024, 2, 29), 60),  # leap year: the birthday itself
        (date(2024, 3, 1), 60),
        (date(2025, 2, 28), 60),  # common year: the 61st birthday is not reached yet...
        (date(2025, 3, 1), 61),  # ...it comes on 1 March
    ],
)
def test_age_of_someone_born_on_29_february(day, age):
    assert card_born(date(1964, 2, 29)).age_on(day) == age


def test_age_before_birth_is_an_error():
    with pytest.raises(ValueError):
        card_born(date(1990, 1, 1)).age_on(date(1989, 12, 31))


def test_1955_sample_is_elderly_on_2026_11_24():
    card = parse(SAMPLES["valid"][2]["raw"])
    assert card.age_on(TODAY) == 71
    assert is_elderly(card, TODAY)


def test_elderly_threshold_is_inclusive():
    card = card_born(date(1966, 11, 24))
    assert is_elderly(card, date(2026, 11, 24))
    assert not is_elderly(card, date(2026, 11, 23))
    assert not is_elderly(parse(SAMPLES["valid"][1]["raw"]), TODAY)
    assert is_elderly(card, date(2026, 11, 23), threshold=59)


def test_minimise_keeps_only_hash_last4_name_and_birth_year():
    card = parse(FIRST_VALID)
    minimised = minimise(card, KEY)
    assert [f.name for f in dataclasses.fields(MinimisedCitizen)] == [
        "id_hash", "id_last4", "name", "birth_year",
    ]
    assert minimised.id_last4 == "0001"
    assert minimised.name == "NGUYỄN VĂN A"
    assert minimised.birth_year == 1990
    assert len(minimised.id_hash) == 64 and int(minimised.id_hash, 16) >= 0
    stored = repr(minimised)
    for personal_value in ("001090000001", "012345678", "Lê Lợi", "01011990", "1990-01-01"):
        assert personal_value not in stored


def test_minimise_hash_is_keyed():
    card = parse(FIRST_VALID)
    assert minimise(card, KEY).id_hash == minimise(card, KEY).id_hash
    assert minimise(card, KEY).id_hash != minimise(card, OTHER_KEY).id_hash
    assert minimise(card, KEY).id_hash != hashlib.sha256(b"001090000001").hexdigest()
    other_card = parse(SAMPLES["valid"][2]["raw"])
    assert minimise(card, KEY).id_hash != minimise(other_card, KEY).id_hash


def test_minimise_refuses_a_short_key():
    with pytest.raises(ValueError):
        minimise(parse(FIRST_VALID), b"")
    with pytest.raises(ValueError):
        minimise(parse(FIRST_VALID), b"short")


def test_dataclasses_are_frozen():
    card = parse(FIRST_VALID)
    with pytest.raises(dataclasses.FrozenInstanceError):
        card.name = "x"
    with pytest.raises(dataclasses.FrozenInstanceError):
        minimise(card, KEY).name = "x"


def test_core_does_not_import_flask():
    source = Path(citizen.__file__).read_text(encoding="utf-8")
    assert "flask" not in source.lower()
