"""VietQR payloads (issue 16): built by the core, decoded back here tag by tag, amount and CRC checked."""
from __future__ import annotations

import pytest

from queueing.vietqr import VietQRError, build_payload, crc16_ccitt_false, crc_is_valid, parse_tlv


def test_crc_is_ccitt_false():
    assert crc16_ccitt_false("123456789") == "29B1"  # the catalogue check value of CRC-16/CCITT-FALSE


def test_payload_decodes_to_napas_fields():
    payload = build_payload("970415", "113366668888", 79000, "000.00.30.H56-241204-0001")
    top = parse_tlv(payload)
    assert list(top) == ["00", "01", "38", "53", "54", "58", "62", "63"]
    assert (top["00"], top["01"], top["53"], top["54"], top["58"]) == ("01", "12", "704", "79000", "VN")
    merchant = parse_tlv(top["38"])
    assert merchant == {"00": "A000000727", "01": merchant["01"], "02": "QRIBFTTA"}
    assert parse_tlv(merchant["01"]) == {"00": "970415", "01": "113366668888"}
    assert parse_tlv(top["62"]) == {"08": "000.00.30.H56-241204-0001"}
    # the CRC covers everything up to and including "6304", and a changed amount breaks it
    assert top["63"] == crc16_ccitt_false(payload[:-4]) and crc_is_valid(payload)
    assert not crc_is_valid(payload.replace("540579000", "540579001"))


def test_message_is_folded_to_ascii_and_bad_accounts_refused():
    assert parse_tlv(parse_tlv(build_payload("970415", "1", 1, "Lệ phí đăng ký"))["62"])["08"] == "Le phi dang ky"
    for args in (("97041", "1", 1, ""), ("970415", "12-3", 1, ""), ("970415", "1", 0, ""), ("970415", "1", True, "")):
        with pytest.raises(VietQRError):
            build_payload(*args)
