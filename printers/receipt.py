"""The dossier receipt slip (phiếu hẹn trả, issue 16): code, due date, the QR back to the dossier's page and the
fee's VietQR, drawn like the ticket slip (an image, so diacritics print on any ESC/POS printer)."""
from __future__ import annotations

from dataclasses import dataclass

from PIL import Image

from printers.slip import LAYOUTS, WIDTH_80MM_PX, _font, _qr_block, _rule, _stack, _text_block

LABELS = {
    "vi": {"title": "PHIẾU HẸN TRẢ KẾT QUẢ", "code": "Mã hồ sơ", "due": "Ngày hẹn trả kết quả: {due}",
           "fee": "Lệ phí: {fee}", "paid": "(đã nộp)", "track": "Quét mã để xem tình trạng hồ sơ",
           "pay": "Quét mã VietQR để nộp lệ phí bằng chuyển khoản", "back": "Khi có kết quả, chọn «Nhận kết quả» ở kiosk"},
    "en": {"title": "RESULT APPOINTMENT SLIP", "code": "Dossier code", "due": "Result due on: {due}",
           "fee": "Fee: {fee}", "paid": "(paid)", "track": "Scan to follow your dossier",
           "pay": "Scan the VietQR to pay the fee by bank transfer", "back": "When it is ready, choose «Collect a result» at the kiosk"},
}


@dataclass(frozen=True)
class ReceiptData:
    """Everything printed on one dossier receipt, already worded for the citizen."""

    centre_name: str
    procedure_name: str
    code: str
    due_date_local: str  # "02/12/2026 (T4)"
    track_url: str
    fee: int | None = None
    paid: bool = False
    payment_payload: str | None = None  # the VietQR string, when a fee is due and the account is set
    lang: str = "vi"


def money(amount: int) -> str:
    return f"{amount:,}".replace(",", ".") + " đ"


def receipt_lines(receipt: ReceiptData) -> list[str]:
    """The receipt's sentences in print order (tests read them back)."""
    labels = LABELS[receipt.lang]
    lines = [labels["title"], receipt.procedure_name, labels["code"], receipt.code,
             labels["due"].format(due=receipt.due_date_local)]
    if receipt.fee:
        lines.append(labels["fee"].format(fee=money(receipt.fee)) + (" " + labels["paid"] if receipt.paid else ""))
    return lines


def render_receipt(receipt: ReceiptData, width_px: int = WIDTH_80MM_PX) -> Image.Image:
    """Draw the receipt as a mode "1" image exactly width_px wide."""
    if width_px not in LAYOUTS:
        raise ValueError(f"receipt width must be one of {sorted(LAYOUTS)} px")
    layout = LAYOUTS[width_px]
    labels = LABELS[receipt.lang]
    text_width = width_px - 2 * layout.margin
    title, body, small = (_font(True, layout.title_size), _font(False, layout.body_size),
                          _font(False, layout.small_size))
    code_font = _font(True, layout.title_size)
    title_text, procedure, code_label, code, due, *fee = receipt_lines(receipt)
    blocks = [_text_block(receipt.centre_name, small, width_px, text_width), _rule(width_px, layout.margin),
              _text_block(title_text, title, width_px, text_width), _text_block(procedure, body, width_px, text_width),
              _text_block(code_label, small, width_px, text_width), _text_block(code, code_font, width_px, text_width),
              _text_block(due, body, width_px, text_width)]
    blocks += [_text_block(line, body, width_px, text_width) for line in fee]
    blocks += [_qr_block(receipt.track_url, layout, width_px), _text_block(labels["track"], small, width_px, text_width)]
    if receipt.payment_payload and not receipt.paid:
        blocks += [_rule(width_px, layout.margin), _qr_block(receipt.payment_payload, layout, width_px),
                   _text_block(labels["pay"], small, width_px, text_width)]
    blocks += [_rule(width_px, layout.margin), _text_block(labels["back"], small, width_px, text_width)]
    return _stack([block for block in blocks if block is not None], width_px, layout)
