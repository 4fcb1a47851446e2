"""The dossier receipt slip (issue 16), printed through python-escpos and decoded back dot for dot."""
from __future__ import annotations

import segno
from PIL import Image

from printers.drivers import slip_bytes
from printers.receipt import ReceiptData, render_receipt
from printers.slip import LAYOUTS, WIDTH_80MM_PX, _font, _text_block
from queueing.vietqr import build_payload
from tests.test_printers import contains_block, decode_escpos, same_pixels

CODE = "000.00.30.H56-261204-0042"
TRACK = "http://192.168.1.10:5000/d/Zx8kq2Lm4Np6Rs8Tv0Wy"


def qr_symbol(text: str, module_px: int) -> Image.Image:
    rows = list(segno.make(text, error="m", micro=False).matrix_iter(scale=1, border=4))
    matrix = Image.new("1", (len(rows), len(rows)), 1)
    matrix.putdata([0 if dark else 1 for row in rows for dark in row])
    return matrix.resize((matrix.width * module_px, matrix.height * module_px), Image.Resampling.NEAREST)


def has_qr(page: Image.Image, text: str) -> bool:
    for module_px in range(1, 8):
        symbol = qr_symbol(text, module_px)
        left = (page.width - symbol.width) // 2
        if left < 0:
            break
        if any(same_pixels(page.crop((left, top, left + symbol.width, top + symbol.height)), symbol)
               for top in range(page.height - symbol.height + 1)):
            return True
    return False


def test_receipt_prints_code_due_date_and_both_qr_codes():
    payload = build_payload("970415", "113366668888", 15000, CODE)
    receipt = ReceiptData(centre_name="Trung tâm Phục vụ Hành chính công", procedure_name="Đăng ký tạm trú",
                          code=CODE, due_date_local="09/12/2026 (T4)", track_url=TRACK, fee=15000,
                          payment_payload=payload)
    printed, commands = decode_escpos(slip_bytes(render_receipt(receipt)))
    layout = LAYOUTS[WIDTH_80MM_PX]
    width = WIDTH_80MM_PX - 2 * layout.margin
    body = _font(bold=False, size=layout.body_size)
    assert contains_block(printed, _text_block(CODE, _font(True, layout.title_size), WIDTH_80MM_PX, width))
    assert contains_block(printed, _text_block("Ngày hẹn trả kết quả: 09/12/2026 (T4)", body, WIDTH_80MM_PX, width))
    assert contains_block(printed, _text_block("Lệ phí: 15.000 đ", body, WIDTH_80MM_PX, width))
    assert has_qr(printed, TRACK) and has_qr(printed, payload)
    assert commands[-1].startswith(b"\x1dV")  # cut after the slip


def test_a_paid_fee_prints_no_payment_qr():
    payload = build_payload("970415", "113366668888", 15000, CODE)
    receipt = ReceiptData(centre_name="TT", procedure_name="Đăng ký tạm trú", code=CODE, due_date_local="09/12/2026",
                          track_url=TRACK, fee=15000, paid=True, payment_payload=payload, lang="en")
    image = render_receipt(receipt)
    assert has_qr(image, TRACK) and not has_qr(image, payload)
