"""Interface text in Vietnamese (default) and English, looked up by key."""
from __future__ import annotations

from flask import request

LANGUAGES = ("vi", "en")

TEXT = {
    "app_name": ("Lượt", "Lượt"),
    "switch_language": ("English", "Tiếng Việt"),
    "login_title": ("Đăng nhập cán bộ", "Staff sign-in"),
    "username": ("Tên đăng nhập", "Username"),
    "password": ("Mật khẩu", "Password"),
    "login": ("Đăng nhập", "Sign in"),
    "logout": ("Đăng xuất", "Sign out"),
    "bad_login": ("Sai tên đăng nhập hoặc mật khẩu.", "Wrong username or password."),
    "too_many_logins": ("Đăng nhập sai quá nhiều lần. Vui lòng thử lại sau vài phút.",
                        "Too many failed sign-ins. Please try again in a few minutes."),
    "not_allowed": ("Tài khoản này không có quyền vào trang này.", "This account may not open this page."),
    "kiosk_title": ("Lấy số thứ tự", "Take a number"),
    "kiosk_choose": ("Chạm vào lĩnh vực Ông/Bà cần giải quyết", "Touch the service you need"),
    "waiting": ("đang chờ", "waiting"),
    "closed": ("Ngoài giờ", "Closed"),
    "sold_out": ("Hết số", "No more numbers today"),
    "priority_question": ("Ông/Bà có thuộc nhóm ưu tiên không?", "Do you belong to a priority group?"),
    "no_priority": ("Không, lấy số thường", "No, a normal ticket"),
    "your_number": ("Số thứ tự của Ông/Bà", "Your number"),
    "people_ahead": ("Số người chờ trước", "People ahead"),
    "estimated_wait": ("Thời gian chờ dự kiến", "Estimated wait"),
    "minutes": ("phút", "min"),
    "track_hint": ("Quét mã để theo dõi lượt trên điện thoại", "Scan to follow your turn on a phone"),
    "back": ("Quay lại", "Back"),
    "done": ("Xong", "Done"),
    "kiosk_not_activated": ("Kiosk chưa được kích hoạt. Cán bộ quản trị mở /kiosk#token=… một lần.",
                            "This kiosk is not activated. An administrator opens /kiosk#token=… once."),
    "scan_card_hint": ("Có thể quét mã QR trên thẻ căn cước để không phải khai báo lại",
                       "You may scan the QR on your ID card so you need not declare again"),
    "ask_placeholder": ("Hoặc gõ nhu cầu, ví dụ: làm giấy khai sinh", "Or type what you need, e.g. birth registration"),
    "ask": ("Hỏi", "Ask"),
    "take_number": ("Lấy số", "Take a number"),
    "font_size": ("Cỡ chữ", "Text size"),
    "counter_title": ("Quầy giao dịch", "Counter"),
    "choose_counter": ("Chọn quầy làm việc", "Choose your counter"),
    "sign_in_counter": ("Vào quầy", "Open counter"),
    "leave_counter": ("Rời quầy", "Close counter"),
    "call_next": ("Gọi số tiếp", "Call next"),
    "recall": ("Gọi lại", "Recall"),
    "start": ("Bắt đầu", "Start"),
    "finish": ("Kết thúc", "Finish"),
    "no_show": ("Vắng mặt", "No-show"),
    "transfer": ("Chuyển", "Transfer"),
    "pause": ("Tạm dừng", "Pause"),
    "resume": ("Tiếp tục", "Resume"),
    "current_ticket": ("Số đang phục vụ", "Current ticket"),
    "none_waiting": ("Không có ai đang chờ", "Nobody is waiting"),
    "display_title": ("Màn hình gọi số", "Call display"),
    "invite": ("MỜI CÔNG DÂN CÓ SỐ", "NOW SERVING"),
    "to_counter": ("đến quầy", "to counter"),
    "counter": ("Quầy", "Counter"),
    "recent_calls": ("Số vừa gọi", "Recent calls"),
    "start_sound": ("Bắt đầu", "Start"),
    "start_sound_hint": ("Chạm để bật âm thanh gọi số", "Touch to enable call sounds"),
    "disconnected": ("mất kết nối", "disconnected"),
    "manager_title": ("Giám sát trực tiếp", "Live monitor"),
    "service": ("Lĩnh vực", "Service"),
    "state": ("Trạng thái", "State"),
    "clerk": ("Cán bộ", "Clerk"),
    "ticket": ("Số", "Ticket"),
    "track_title": ("Theo dõi lượt", "Follow your turn"),
}


def current_language() -> str:
    """The page language: ?lang=en switches to English; Vietnamese otherwise."""
    lang = request.args.get("lang", "vi")
    return lang if lang in LANGUAGES else "vi"


def translate(key: str, lang: str | None = None) -> str:
    vi, en = TEXT[key]
    return en if (lang or current_language()) == "en" else vi


def page_texts(keys, lang: str) -> dict:
    """The texts a page's script needs, in its language."""
    return {key: translate(key, lang) for key in keys}
