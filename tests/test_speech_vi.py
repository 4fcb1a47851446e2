"""Vietnamese numbers, ticket readings and announcement sentences."""
import json
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from queueing.speech_vi import (
    MAX_NUMBER,
    announcement_text,
    parse_number_vi,
    read_number_vi,
    read_ticket_en,
    read_ticket_vi,
    tts_text_vi,
    validate_template,
)

ROOT = Path(__file__).resolve().parent.parent
CATALOGUE = json.loads((ROOT / "queueing" / "data" / "catalogue.vi.json").read_text("utf-8"))
CATALOGUE_EXAMPLES = CATALOGUE["number_reading"]["examples"]


@pytest.mark.parametrize("number, words", CATALOGUE_EXAMPLES.items())
def test_every_catalogue_example_is_read_exactly(number, words):
    assert read_number_vi(int(number)) == words


@pytest.mark.parametrize(
    "number, words",
    [
        (0, "không"),
        (1, "một"),
        (4, "bốn"),
        (10, "mười"),
        (11, "mười một"),
        (20, "hai mươi"),
        (31, "ba mươi mốt"),
        (44, "bốn mươi tư"),
        (100, "một trăm"),
        (104, "một trăm linh bốn"),
        (115, "một trăm mười lăm"),
        (215, "hai trăm mười lăm"),
        (500, "năm trăm"),
        (1000, "một nghìn"),
        (1001, "một nghìn không trăm linh một"),
        (1010, "một nghìn không trăm mười"),
        (1024, "một nghìn không trăm hai mươi tư"),
        (10000, "mười nghìn"),
        (100000, "một trăm nghìn"),
        (1000000, "một triệu"),
        (1000005, "một triệu không trăm linh năm"),
        (2000005000, "hai tỷ không trăm linh năm nghìn"),
        (1000000000, "một tỷ"),
        (1000000000001, "một nghìn tỷ không trăm linh một"),
        (1001000000000, "một nghìn không trăm linh một tỷ"),
        (MAX_NUMBER, "một triệu tỷ"),
    ],
)
def test_own_vectors(number, words):
    assert read_number_vi(number) == words


@pytest.mark.parametrize("bad", [-1, MAX_NUMBER + 1, 1.5, "12", True])
def test_numbers_outside_the_range_are_refused(bad):
    with pytest.raises(ValueError):
        read_number_vi(bad)


def test_parse_inverts_read_for_every_number_up_to_ten_thousand():
    mismatches = [n for n in range(10001) if parse_number_vi(read_number_vi(n)) != n]
    assert mismatches == []


@given(st.integers(min_value=0, max_value=MAX_NUMBER))
def test_parse_inverts_read_up_to_the_largest_number(number):
    assert parse_number_vi(read_number_vi(number)) == number


def test_parse_accepts_southern_and_alternative_spellings():
    assert parse_number_vi("một ngàn không trăm lẻ bốn") == 1004
    assert parse_number_vi("hai mươi bốn") == 24
    assert parse_number_vi("ba tỉ") == 3 * 10**9


@pytest.mark.parametrize("bad", ["", "mươi", "mười xyz"])
def test_parse_refuses_what_is_not_a_number(bad):
    with pytest.raises(ValueError):
        parse_number_vi(bad)


@pytest.mark.parametrize(
    "ticket, words",
    [
        ("A012", "A không mười hai"),
        ("A025", "A không hai mươi lăm"),
        ("B100", "B một trăm"),
        ("A001", "A không không một"),
        ("C000", "C không không không"),
        ("B105", "B một trăm linh năm"),
        ("C1023", "C một nghìn không trăm hai mươi ba"),
        ("CT015", "CT không mười lăm"),
        ("A-025", "A không hai mươi lăm"),
        ("a012", "A không mười hai"),
        ("Đ007", "Đ không không bảy"),
    ],
)
def test_ticket_reading_vi(ticket, words):
    assert read_ticket_vi(ticket) == words


@pytest.mark.parametrize("bad", ["", "A", "ABC012", "A12B", "12A"])
def test_ticket_reading_refuses_malformed_numbers(bad):
    with pytest.raises(ValueError):
        read_ticket_vi(bad)


def test_ticket_reading_en_reads_the_letter_then_each_digit():
    assert read_ticket_en("A012") == "A, zero one two"
    assert read_ticket_en("CT105") == "CT, one zero five"


def test_default_announcement_vi_matches_the_contract_example():
    text = announcement_text("A012", 3, "Quầy 3")
    assert text == "Xin mời công dân có số thứ tự A không mười hai đến quầy số ba."


def test_recall_names_the_call_count_in_words():
    assert announcement_text("A012", 3, "Quầy 3", recall_count=1) == (
        "Xin mời lần thứ hai, công dân có số thứ tự A không mười hai đến quầy số ba."
    )
    assert announcement_text("A012", 3, "Quầy 3", recall_count=3).startswith("Xin mời lần thứ tư,")


def test_custom_template_with_the_issue_spelling_and_counter_name():
    template = "Mời số {số} đến {ten_quay}, quầy số {quầy}."
    text = announcement_text("B105", 21, "Hộ tịch", template=template)
    assert text == "Mời số B một trăm linh năm đến Hộ tịch, quầy số hai mươi mốt."


def test_catalogue_templates_are_accepted():
    templates = CATALOGUE["announcement_templates"]
    text = announcement_text(
        "A012", 3, "Hộ tịch", template=templates["call_formal_vi"]["text"]
    )
    assert text == "Kính mời công dân có số thứ tự A không mười hai đến quầy số ba (Hộ tịch)."
    recall = announcement_text("A012", 3, "", template=templates["recall_vi"]["text"])
    assert recall.startswith("Xin mời lần thứ nhất, công dân có số thứ tự A không mười hai")


def test_template_typed_in_decomposed_unicode_still_works():
    decomposed = "Mời số {so\u0302\u0301} đến quầy {qua\u0302\u0300y}."
    assert announcement_text("A001", 2, "", template=decomposed) == (
        "Mời số A không không một đến quầy hai."
    )


def test_english_announcement():
    assert announcement_text("A012", 3, "Civil status", lang="en") == (
        "Ticket number A, zero one two, please proceed to counter three."
    )
    assert announcement_text("B105", 21, "", lang="en", recall_count=1) == (
        "Calling again, ticket number B, one zero five, please proceed to counter twenty-one."
    )


@pytest.mark.parametrize(
    "template, mentioned",
    [
        ("Xin mời số {so} đến quầy {counter}.", "{counter}"),
        ("Xin mời số {so} đến quầy {}.", "{}"),
        ("Xin mời số {so!r}.", "{so!r}"),
        ("Xin mời số {so:>5}.", "{so:>5}"),
        ("Xin mời số {so.upper}.", "{so.upper}"),
        ("Xin mời số {so", "ngoặc"),
        ("Xin mời quầy {quay}.", "{so}"),
        ("   ", "trống"),
    ],
)
def test_invalid_templates_raise_a_readable_error(template, mentioned):
    with pytest.raises(ValueError) as raised:
        validate_template(template)
    assert mentioned in str(raised.value)
    with pytest.raises(ValueError):
        announcement_text("A012", 3, "Quầy 3", template=template)


def test_unknown_placeholder_message_is_bilingual_and_lists_the_allowed_ones():
    with pytest.raises(ValueError) as raised:
        validate_template("Mời {so} tới {quay_so}")
    message = str(raised.value)
    assert "không hợp lệ" in message and "Unknown placeholder {quay_so}" in message
    assert "{số}" in message and "{ten_quay}" in message


def test_unknown_language_is_refused():
    with pytest.raises(ValueError):
        announcement_text("A012", 3, "Quầy 3", lang="fr")


def test_tts_text_spells_prefix_letters_and_leaves_words_alone():
    text = "Xin mời công dân có số thứ tự A không mười hai đến quầy số ba."
    assert tts_text_vi(text) == "Xin mời công dân có số thứ tự a không mười hai đến quầy số ba."
    assert tts_text_vi("số CT không mười lăm") == "số xê tê không mười lăm"
    assert tts_text_vi("số D một, số Đ hai, số G ba, số Y bốn") == (
        "số dê một, số đê hai, số gờ ba, số i dài bốn"
    )


def test_speech_module_imports_no_web_printer_or_tts_library():
    probe = (
        "import sys, queueing.speech_vi; "
        "print(sorted({'flask', 'escpos', 'pyttsx3'} & set(sys.modules)))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"
