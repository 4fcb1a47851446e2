"""The ticket slip: its data, and its layout as a 1-bit image a thermal printer prints as a raster."""

from __future__ import annotations

import dataclasses
import math
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Mapping

import segno
from PIL import Image, ImageDraw, ImageFont

FONTS_DIRECTORY = Path(__file__).resolve().parent.parent / "static" / "fonts"
REGULAR_FONT_FILE = "DejaVuSans.ttf"
BOLD_FONT_FILE = "DejaVuSans-Bold.ttf"

WIDTH_80MM_PX = 576
WIDTH_58MM_PX = 384
SLIP_LANGUAGES = ("vi", "en")
_COUNT_FIELDS = ("people_ahead", "wait_low_min", "wait_high_min")
# the wait fields are null together when no open counter serves the service (the forecast has no time)
_NULLABLE_FIELDS = ("wait_low_min", "wait_high_min")
WAIT_STEP_MIN = 5
# "0–5 phút" would read as "now" to someone next in line who still waits for the current citizen to finish
WAIT_FIRST_HIGH_MIN = 10

# no-break spaces keep a value and its unit on one line when a label wraps
LABELS = {
    "vi": {
        "your_number": "SỐ THỨ TỰ CỦA BẠN",
        "people_ahead": "Số người đang chờ trước bạn: {count}",
        "wait_range": "Thời gian chờ dự kiến: khoảng\u00a0{low}–{high}\u00a0phút",
        "wait_single": "Thời gian chờ dự kiến: khoảng\u00a0{low}\u00a0phút",
        "no_counter": "Chưa có quầy mở — vui lòng theo dõi màn hình",
        "issued_at": "Giờ lấy số: {time}",
        "qr_caption": "Quét mã để theo dõi lượt",
    },
    "en": {
        "your_number": "YOUR NUMBER",
        "people_ahead": "People waiting ahead of you: {count}",
        "wait_range": "Estimated wait: about\u00a0{low}–{high}\u00a0min",
        "wait_single": "Estimated wait: about\u00a0{low}\u00a0min",
        "no_counter": "No counter is open yet — please watch the screen",
        "issued_at": "Issued at: {time}",
        "qr_caption": "Scan the code to follow your turn",
    },
}


@dataclass(frozen=True)
class SlipData:
    """Everything printed on one ticket slip, already worded for the citizen."""

    centre_name: str
    service_name: str
    ticket_number: str
    priority_label: str | None
    people_ahead: int
    wait_low_min: int | None
    wait_high_min: int | None
    issued_at_local: str
    track_url: str
    footer: str
    lang: str = "vi"

    def __post_init__(self) -> None:
        """Reject values a slip cannot show, so a bad job fails where it is made, not at the printer."""
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            if field.name == "priority_label":
                if value is not None and not isinstance(value, str):
                    raise ValueError("priority_label must be a string or null")
            elif field.name in _NULLABLE_FIELDS and value is None:
                continue
            elif field.name in _COUNT_FIELDS:
                # bool is an int subclass; True ahead of you is a bug, not a count
                if not isinstance(value, int) or isinstance(value, bool):
                    raise ValueError(f"{field.name} must be an integer")
                if value < 0:
                    raise ValueError(f"{field.name} must not be negative")
            elif not isinstance(value, str):
                raise ValueError(f"{field.name} must be a string")
        if not self.ticket_number.strip():
            raise ValueError("ticket_number must not be empty")
        if not self.track_url.strip():
            raise ValueError("track_url must not be empty")
        if (self.wait_low_min is None) != (self.wait_high_min is None):
            raise ValueError("wait_low_min and wait_high_min must both be numbers or both be null")
        if self.wait_low_min is not None and self.wait_low_min > self.wait_high_min:
            raise ValueError("wait_low_min must not exceed wait_high_min")
        if self.lang not in SLIP_LANGUAGES:
            raise ValueError(f"lang must be one of {', '.join(SLIP_LANGUAGES)}")

    def to_dict(self) -> dict[str, Any]:
        """Return the slip as a JSON-ready dict, the form it travels in to print agents."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SlipData:
        """Build a slip from a dict made by to_dict, raising ValueError when it does not fit."""
        if not isinstance(data, Mapping):
            raise ValueError("a slip must be a JSON object")
        names = [field.name for field in dataclasses.fields(cls)]
        missing = [name for name in names if name not in data and name != "lang"]
        if missing:
            raise ValueError(f"slip is missing {', '.join(missing)}")
        # unknown keys are ignored so a newer server can add fields without breaking older agents
        return cls(**{name: data[name] for name in names if name in data})


def wait_range_minutes(range_s) -> tuple[int, int] | None:
    """The forecast's `estimated_wait_range_s` as whole minutes on a 5-minute grid, low rounded down and
    high up (a citizen reads "15–25 phút", not "13–22"); None when there is no forecast (no open counter).

    static/js/common.js `Luot.waitRange` does the same for the screens; the browser tests hold them together."""
    if range_s is None:
        return None
    low_s, high_s = range_s
    low = int(max(0, low_s) // 60 // WAIT_STEP_MIN * WAIT_STEP_MIN)
    high = math.ceil(max(0, high_s) / 60 / WAIT_STEP_MIN) * WAIT_STEP_MIN
    return low, max(high, low + WAIT_STEP_MIN, WAIT_FIRST_HIGH_MIN)


def wait_text(slip: SlipData) -> str:
    """The slip's wait line: a range, one figure, or the no-counter sentence."""
    labels = LABELS[slip.lang]
    if slip.wait_low_min is None:
        return labels["no_counter"]
    if slip.wait_low_min == slip.wait_high_min:
        return labels["wait_single"].format(low=slip.wait_low_min)
    return labels["wait_range"].format(low=slip.wait_low_min, high=slip.wait_high_min)


def body_lines(slip: SlipData) -> list[str]:
    """The sentences printed between the ticket number and the QR code, in order (tests read them back)."""
    labels = LABELS[slip.lang]
    return [labels["people_ahead"].format(count=slip.people_ahead), wait_text(slip),
            labels["issued_at"].format(time=slip.issued_at_local)]


@dataclass(frozen=True)
class _Layout:
    """Sizes in printer dots for one paper width."""

    margin: int
    title_size: int
    body_size: int
    small_size: int
    number_max_size: int
    gap: int
    qr_module_px: int


# 203 dpi heads: 576 dots are the 72 mm printable on 80 mm paper, 384 dots the 48 mm on 58 mm paper;
# body text stays near the printers' own 12×24 font so both widths read alike
LAYOUTS = {
    WIDTH_80MM_PX: _Layout(margin=16, title_size=30, body_size=24, small_size=21,
                           number_max_size=180, gap=14, qr_module_px=6),
    WIDTH_58MM_PX: _Layout(margin=8, title_size=24, body_size=21, small_size=18,
                           number_max_size=128, gap=10, qr_module_px=4),
}

# tallest Vietnamese capitals with stacked marks and the deepest descenders, to size lines so nothing is clipped
_LINE_PROBE = "ỂẾỖẶỸÀgjpqyỵ|"


def render_slip(slip: SlipData, width_px: int = WIDTH_80MM_PX) -> Image.Image:
    """Draw the slip as a mode "1" image exactly width_px wide (576 for 80 mm, 384 for 58 mm paper)."""
    if width_px not in LAYOUTS:
        raise ValueError(f"slip width must be {WIDTH_80MM_PX} (80 mm) or {WIDTH_58MM_PX} (58 mm) px, not {width_px}")
    layout = LAYOUTS[width_px]
    labels = LABELS[slip.lang]
    text_width = width_px - 2 * layout.margin
    title_font = _font(bold=True, size=layout.title_size)
    body_font = _font(bold=False, size=layout.body_size)
    small_font = _font(bold=False, size=layout.small_size)

    blocks = [
        _text_block(slip.centre_name, title_font, width_px, text_width),
        _text_block(slip.service_name, body_font, width_px, text_width),
        _rule(width_px, layout.margin),
        _text_block(labels["your_number"], small_font, width_px, text_width),
        _ticket_number_block(slip.ticket_number, layout, width_px),
    ]
    if slip.priority_label and slip.priority_label.strip():
        priority_font = _font(bold=True, size=layout.body_size)
        blocks.append(_inverted_block(slip.priority_label, priority_font, width_px, text_width))
    blocks += [_text_block(line, body_font, width_px, text_width) for line in body_lines(slip)]
    blocks += [
        _qr_block(slip.track_url, layout, width_px),
        _text_block(labels["qr_caption"], small_font, width_px, text_width),
        _rule(width_px, layout.margin),
        _text_block(slip.footer, small_font, width_px, text_width),
    ]
    return _stack([block for block in blocks if block is not None], width_px, layout)


def wrap_text(text: str, font: ImageFont.FreeTypeFont, max_width_px: int) -> list[str]:
    """Split text into lines no wider than max_width_px when drawn with font, breaking at plain spaces."""
    lines = []
    for paragraph in unicodedata.normalize("NFC", text).splitlines():
        current = ""
        for word in paragraph.split(" "):
            if not word:
                continue
            candidate = f"{current} {word}" if current else word
            if font.getlength(candidate) <= max_width_px:
                current = candidate
                continue
            if current:
                lines.append(current)
            # a word wider than the paper (a long URL or code) is cut where it reaches the edge
            while font.getlength(word) > max_width_px:
                cut = 1
                while font.getlength(word[:cut + 1]) <= max_width_px:
                    cut += 1
                lines.append(word[:cut])
                word = word[cut:]
            current = word
        if current:
            lines.append(current)
    return lines


@lru_cache(maxsize=32)
def _font(bold: bool, size: int) -> ImageFont.FreeTypeFont:
    """Load the bundled font, so diacritics print the same on every printer."""
    path = FONTS_DIRECTORY / (BOLD_FONT_FILE if bold else REGULAR_FONT_FILE)
    if not path.is_file():
        raise FileNotFoundError(f"slip font missing: {path} (copy DejaVu Sans into static/fonts)")
    return ImageFont.truetype(str(path), size)


def _line_extent(font: ImageFont.FreeTypeFont) -> tuple[int, int]:
    """Return how far ink can reach above and below the baseline for this font."""
    _, top, _, bottom = font.getbbox(_LINE_PROBE, anchor="ls")
    return -top, bottom


def _text_block(text: str, font: ImageFont.FreeTypeFont, width_px: int, text_width: int) -> Image.Image | None:
    """Draw wrapped, centred lines of text; None when there is no text."""
    lines = wrap_text(text, font, text_width)
    if not lines:
        return None
    above, below = _line_extent(font)
    line_height = above + below
    block = Image.new("L", (width_px, line_height * len(lines)), 255)
    draw = ImageDraw.Draw(block)
    for index, line in enumerate(lines):
        x = (width_px - font.getlength(line)) / 2
        draw.text((x, index * line_height + above), line, font=font, fill=0, anchor="ls")
    return block


def _ticket_number_block(ticket_number: str, layout: _Layout, width_px: int) -> Image.Image:
    """Draw the ticket number as large as the paper allows, cropped to its ink so it sits tight."""
    text = unicodedata.normalize("NFC", ticket_number.strip())
    available = width_px - 2 * layout.margin
    font = _font(bold=True, size=layout.number_max_size)
    if font.getlength(text) > available:
        font = _font(bold=True, size=max(8, int(layout.number_max_size * available / font.getlength(text))))
    left, top, right, bottom = font.getbbox(text, anchor="ls")
    block = Image.new("L", (width_px, bottom - top), 255)
    ImageDraw.Draw(block).text(((width_px - (right - left)) / 2 - left, -top), text, font=font, fill=0, anchor="ls")
    return block


def _inverted_block(text: str, font: ImageFont.FreeTypeFont, width_px: int, text_width: int) -> Image.Image:
    """Draw text white on a black box, the mark of a priority ticket that clerks see from afar."""
    padding = font.size // 3
    lines = wrap_text(text, font, text_width - 2 * padding)
    above, below = _line_extent(font)
    box_width = int(max(font.getlength(line) for line in lines)) + 2 * padding
    box_left = (width_px - box_width) // 2
    block = Image.new("L", (width_px, (above + below) * len(lines) + 2 * padding), 255)
    draw = ImageDraw.Draw(block)
    draw.rounded_rectangle((box_left, 0, box_left + box_width - 1, block.height - 1), radius=padding, fill=0)
    for index, line in enumerate(lines):
        x = (width_px - font.getlength(line)) / 2
        draw.text((x, padding + index * (above + below) + above), line, font=font, fill=255, anchor="ls")
    return block


def _qr_block(url: str, layout: _Layout, width_px: int) -> Image.Image:
    """Draw the tracking QR code with its quiet zone, one module as layout.qr_module_px dots when it fits."""
    code = segno.make(url, error="m", micro=False)
    modules, _ = code.symbol_size(scale=1)
    module_px = min(layout.qr_module_px, width_px // modules)
    if module_px < 1:
        raise ValueError("track_url is too long to print as a QR code")
    matrix = Image.new("L", (modules, modules), 255)
    matrix.putdata([0 if dark else 255 for row in code.matrix_iter(scale=1, border=4) for dark in row])
    symbol = matrix.resize((modules * module_px, modules * module_px), Image.Resampling.NEAREST)
    block = Image.new("L", (width_px, symbol.height), 255)
    block.paste(symbol, ((width_px - symbol.width) // 2, 0))
    return block


def _rule(width_px: int, margin: int) -> Image.Image:
    """Draw a thin line across the printable width to separate the slip's parts."""
    block = Image.new("L", (width_px, 2), 255)
    ImageDraw.Draw(block).rectangle((margin, 0, width_px - margin - 1, 1), fill=0)
    return block


def _stack(blocks: list[Image.Image], width_px: int, layout: _Layout) -> Image.Image:
    """Lay blocks top to bottom with even gaps and turn the page into pure black and white."""
    height = sum(block.height for block in blocks) + layout.gap * (len(blocks) + 1)
    page = Image.new("L", (width_px, height), 255)
    y = layout.gap
    for block in blocks:
        page.paste(block, (0, y))
        y += block.height + layout.gap
    # a plain threshold keeps strokes solid; dithering would turn antialiased edges into grey speckle
    return page.convert("1", dither=Image.Dither.NONE)
