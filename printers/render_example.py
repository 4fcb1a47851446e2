"""Render a sample 80 mm slip to docs/slip-example.png: `python -m printers.render_example [PATH]`."""

from __future__ import annotations

import sys
from pathlib import Path

from printers.slip import WIDTH_80MM_PX, SlipData, render_slip

EXAMPLE_SLIP = SlipData(
    centre_name="Trung tâm Phục vụ hành chính công phường Bến Thành",
    service_name="Tư pháp – Hộ tịch",
    ticket_number="A012",
    priority_label="Ưu tiên – Người cao tuổi",
    people_ahead=7,
    wait_low_min=10,
    wait_high_min=15,
    issued_at_local="08:15 24/11/2026",
    track_url="http://192.168.1.10:5000/t/3f9a2c7e1b4d4e0f8a6b5c2d",
    footer="Vui lòng giữ phiếu này và chú ý màn hình gọi số. Cảm ơn quý khách!",
)
DEFAULT_OUTPUT = Path(__file__).resolve().parent.parent / "docs" / "slip-example.png"


def main(arguments: list[str]) -> int:
    """Write the example slip as a PNG and print where it went."""
    output = Path(arguments[0]) if arguments else DEFAULT_OUTPUT
    output.parent.mkdir(parents=True, exist_ok=True)
    render_slip(EXAMPLE_SLIP, WIDTH_80MM_PX).save(output)
    print(output)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
