"""VietQR: NAPAS's EMVCo merchant-presented QR string for a transfer to the centre's account (NAPAS 247).

The payload is a chain of TLV objects (two-digit tag, two-digit length, value), checked by a
CRC-16/CCITT-FALSE over everything before the CRC's value, its own tag and length included:

    00 "01"                 payload format indicator
    01 "12"                 point of initiation: dynamic (an amount for one payment); "11" is static
    38 {00 "A000000727"     NAPAS's GUID
        01 {00 BIN, 01 account}   the beneficiary bank's 6-digit BIN and the account number
        02 "QRIBFTTA"}      service: inter-bank fast transfer to an account
    53 "704"                currency, Vietnamese đồng (ISO 4217)
    54 amount               whole đồng
    58 "VN"                 country
    62 {08 message}         purpose of the transaction: the dossier code, so a transfer names its dossier
    63 CRC                  four upper-case hex digits
"""
from __future__ import annotations

import re

NAPAS_GUID = "A000000727"
SERVICE_TO_ACCOUNT = "QRIBFTTA"
CURRENCY_VND = "704"
COUNTRY = "VN"
DYNAMIC = "12"
MESSAGE_MAX = 25  # the purpose field's length in NAPAS's specification
ACCOUNT_PATTERN = re.compile(r"[0-9A-Za-z]{1,19}")
BIN_PATTERN = re.compile(r"\d{6}")


class VietQRError(ValueError):
    """A payload that cannot be made (bad BIN, account, amount) or read back."""


def crc16_ccitt_false(text: str) -> str:
    """CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF, no reflection, no final xor) as 4 hex digits."""
    crc = 0xFFFF
    for byte in text.encode("utf-8"):
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else crc << 1
            crc &= 0xFFFF
    return f"{crc:04X}"


def tlv(tag: str, value: str) -> str:
    if len(value) > 99:
        raise VietQRError(f"VietQR field {tag} is longer than 99 characters")
    return f"{tag}{len(value):02d}{value}"


def ascii_message(text: str) -> str:
    """The message as bank apps carry it: unaccented ASCII letters, digits, '.', '-' and spaces, at most 25."""
    import unicodedata
    folded = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    folded = "".join(ch for ch in folded if not unicodedata.combining(ch))
    return re.sub(r"[^0-9A-Za-z .\-]", "", folded)[:MESSAGE_MAX]


def build_payload(bank_bin: str, account: str, amount: int, message: str) -> str:
    """The VietQR string for paying `amount` đồng to `account` at the bank `bank_bin`, with `message`."""
    if not isinstance(bank_bin, str) or not BIN_PATTERN.fullmatch(bank_bin):
        raise VietQRError("bank BIN must be 6 digits")
    if not isinstance(account, str) or not ACCOUNT_PATTERN.fullmatch(account):
        raise VietQRError("account number must be 1–19 letters or digits")
    if not isinstance(amount, int) or isinstance(amount, bool) or amount <= 0 or amount > 9_999_999_999_999:
        raise VietQRError("amount must be a positive whole number of đồng")
    beneficiary = tlv("00", bank_bin) + tlv("01", account)
    merchant = tlv("00", NAPAS_GUID) + tlv("01", beneficiary) + tlv("02", SERVICE_TO_ACCOUNT)
    body = (tlv("00", "01") + tlv("01", DYNAMIC) + tlv("38", merchant) + tlv("53", CURRENCY_VND)
            + tlv("54", str(amount)) + tlv("58", COUNTRY))
    text = ascii_message(message)
    if text:
        body += tlv("62", tlv("08", text))
    body += "6304"
    return body + crc16_ccitt_false(body)


def parse_tlv(text: str) -> dict[str, str]:
    """Split a TLV chain into {tag: value}; raises VietQRError when a length runs past the end."""
    fields: dict[str, str] = {}
    index = 0
    while index < len(text):
        if index + 4 > len(text) or not text[index:index + 4].isdigit():
            raise VietQRError(f"bad TLV header at {index}")
        tag, length = text[index:index + 2], int(text[index + 2:index + 4])
        value = text[index + 4:index + 4 + length]
        if len(value) != length:
            raise VietQRError(f"field {tag} runs past the end")
        fields[tag] = value
        index += 4 + length
    return fields


def crc_is_valid(payload: str) -> bool:
    """Whether the last field is tag 63 with the CRC of everything before its value."""
    return len(payload) > 8 and payload[-8:-4] == "6304" and crc16_ccitt_false(payload[:-4]) == payload[-4:]
