"""The kiosk's spoken guidance: what each screen offers, as a sentence the announcer turns into a WAV (issue 17).

For people who cannot read the screen. The text is built here from the centre's own data, never taken from
the request, so nobody can make the server synthesise arbitrary text.
"""
from __future__ import annotations

import re

from queueing.model import QueueError
from queueing.speech_vi import read_ticket_en, read_ticket_vi

SCREENS = ("home", "priority", "ticket", "back")
ENTRY_CHOICES = ("appointment", "result")
TICKET_NUMBER = re.compile(r"[A-Z]{1,2}-?[0-9]{1,4}")

_TEXT = {
    "vi": {
        "home": "Mời Ông/Bà chạm vào lĩnh vực cần giải quyết trên màn hình. Các lĩnh vực, từ trên xuống, "
                "từ trái sang phải: {items}.",
        "home_none": "Hiện chưa có lĩnh vực nào nhận hồ sơ. Xin Ông/Bà vui lòng hỏi cán bộ hướng dẫn.",
        "appointment": "Nếu Ông/Bà đã đặt lịch hẹn, chạm nút: Tôi có lịch hẹn.",
        "result": "Nếu Ông/Bà đến nhận kết quả hồ sơ, chạm nút: Nhận kết quả.",
        "type": "Ông/Bà cũng có thể gõ nhu cầu vào ô chữ phía trên.",
        "priority": "Ông/Bà có thuộc nhóm ưu tiên không? Nếu không, chạm nút lớn trên cùng: Không, lấy số thường.",
        "priority_groups": "Nếu có, chạm tên nhóm: {items}.",
        "ticket": "Số thứ tự của Ông/Bà là {number}. Hãy cầm phiếu, ngồi chờ và nghe gọi số. "
                  "Chạm nút Xong ở dưới cùng để kết thúc.",
        "ticket_no_number": "Ông/Bà đã lấy số. Hãy cầm phiếu, ngồi chờ và nghe gọi số.",
        "back": "Ông/Bà đã quay lại sau khi bị gọi vắng? Hãy đưa mã QR trên phiếu vào máy quét phía dưới màn hình.",
    },
    "en": {
        "home": "Please touch the service you need on the screen. The services, from the top, left to right: {items}.",
        "home_none": "No service is taking numbers now. Please ask a member of staff.",
        "appointment": "If you booked an appointment, touch: I have an appointment.",
        "result": "If you came to collect a result, touch: Collect a result.",
        "type": "You can also type what you need in the box above.",
        "priority": "Do you belong to a priority group? If not, touch the large button at the top: No, a normal ticket.",
        "priority_groups": "If you do, touch your group: {items}.",
        "ticket": "Your number is {number}. Keep the slip, take a seat and listen for your number. "
                  "Touch Done at the bottom to finish.",
        "ticket_no_number": "You have your number. Keep the slip, take a seat and listen for your number.",
        "back": "Back after missing your call? Hold the QR code on your slip under the scanner below the screen.",
    },
}


def guidance_text(screen: str, lang: str, services: list[str], priority_groups: list[str],
                  choices: list[str] = (), number: str | None = None) -> str:
    """The sentence read aloud for one kiosk screen: its choices in the order the screen shows them."""
    if screen not in SCREENS:
        raise QueueError(f"Màn hình không có hướng dẫn: {screen!r} (screen must be one of {', '.join(SCREENS)})",
                         code="bad_screen")
    text = _TEXT["en" if lang == "en" else "vi"]
    if screen == "home":
        parts = [text["home"].format(items="; ".join(services)) if services else text["home_none"]]
        parts += [text[choice] for choice in ENTRY_CHOICES if choice in choices]
        parts.append(text["type"])
    elif screen == "priority":
        parts = [text["priority"]] + ([text["priority_groups"].format(items="; ".join(priority_groups))]
                                      if priority_groups else [])
    elif screen == "ticket":
        if number is not None and not TICKET_NUMBER.fullmatch(number):
            raise QueueError("Số phiếu không hợp lệ (bad ticket number)", code="bad_number")
        spoken = (read_ticket_en if lang == "en" else read_ticket_vi)(number) if number else None
        parts = [text["ticket"].format(number=spoken) if spoken else text["ticket_no_number"]]
    else:
        parts = [text["back"]]
    return " ".join(parts)


def parse_choices(raw: str | None) -> list[str]:
    """The entry buttons the kiosk shows (`appointment,result`), unknown names refused."""
    choices = [name for name in (raw or "").split(",") if name]
    unknown = [name for name in choices if name not in ENTRY_CHOICES]
    if unknown:
        raise QueueError(f"Lựa chọn không có: {unknown[0]!r} (choices must be among {', '.join(ENTRY_CHOICES)})",
                         code="bad_choices")
    return choices
