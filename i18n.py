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
    # no-break spaces keep the figures and their unit on one line on a narrow phone
    "wait_range": ("Khoảng {low}–{high}\u00a0phút", "About {low}–{high}\u00a0min"),
    "wait_about": ("~{n}\u00a0phút", "~{n}\u00a0min"),
    # said where a wait would be when no open counter serves the service (the forecast has no time then)
    "no_counter_open": ("Chưa có quầy nào đang mở cho lĩnh vực này", "No counter is open for this service yet"),
    "no_counter_short": ("Chưa có quầy mở", "No counter open yet"),
    "no_counter_display": ("chưa mở quầy", "no counter open"),
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
    "waiting_by_service": ("Đang chờ theo lĩnh vực", "Waiting by service"),
    "counters_title": ("Các quầy", "Counters"),
    "no_calls_yet": ("Chưa có số nào được gọi", "No calls yet"),
    "state_open": ("Đang mở", "Open"),
    "state_paused": ("Tạm dừng", "Paused"),
    "state_closed": ("Đóng", "Closed"),
    "status_called": ("Đã gọi, chờ công dân đến quầy", "Called, waiting for the citizen"),
    "status_serving": ("Đang phục vụ", "Serving"),
    "recalled_times": ("đã gọi lại {n} lần", "recalled {n}×"),
    "counter_queue": ("Hàng chờ của quầy", "This counter's queue"),
    "shortcuts": ("Phím tắt", "Keyboard shortcuts"),
    "choose_procedure": ("Chọn thủ tục đã giải quyết", "Choose the procedure(s) handled"),
    "choose_procedure_first": ("Hãy chọn ít nhất một thủ tục đã giải quyết.", "Choose at least one procedure handled."),
    "filter_procedures": ("Tìm thủ tục (gõ không dấu cũng được)", "Find a procedure"),
    "finish_keys_hint": ("Gõ để tìm · ↓ ↑ di chuyển · Dấu cách để chọn · Enter để kết thúc",
                         "Type to search · ↓ ↑ move · Space ticks · Enter finishes"),
    "dossier_number": ("Số biên nhận hồ sơ (nếu có)", "Dossier receipt number (optional)"),
    "cancel": ("Huỷ", "Cancel"),
    "choose_target": ("Chọn một lĩnh vực hoặc một quầy.", "Choose a service or a counter."),
    "call_number": ("Gọi số cụ thể", "Call a number"),
    "call_number_hint": ("Chỉ gọi không theo thứ tự khi có lý do chính đáng; lý do được ghi lại.",
                         "Call out of order only for a good reason; the reason is logged."),
    "ticket_number": ("Số thứ tự", "Ticket number"),
    "reason": ("Lý do", "Reason"),
    "pause_reason": ("Lý do tạm dừng", "Reason for the pause"),
    "counter_taken_by": ("Đang có cán bộ:", "Signed in:"),
    "rate_title": ("Đánh giá mức độ hài lòng", "Satisfaction rating"),
    "rate_question": ("Ông/Bà đánh giá thế nào về việc giải quyết thủ tục?",
                      "How satisfied are you with how your matter was handled?"),
    "rate_3": ("Rất hài lòng", "Very satisfied"),
    "rate_2": ("Hài lòng", "Satisfied"),
    "rate_1": ("Không hài lòng", "Dissatisfied"),
    "rate_thanks": ("Cảm ơn Ông/Bà!", "Thank you!"),
    "rate_thanks_detail": ("Ý kiến của Ông/Bà giúp chúng tôi phục vụ tốt hơn.", "Your opinion helps us serve you better."),
    "rate_idle": ("Sau khi giải quyết xong thủ tục, mời Ông/Bà đánh giá mức độ hài lòng tại đây.",
                  "When your matter is done, please tell us how satisfied you are here."),
    "rate_not_activated": ("Thiết bị đánh giá chưa được kích hoạt. Cán bộ quản trị mở /rate/<số quầy>#token=… một lần.",
                           "This rating tablet is not activated. An administrator opens /rate/<counter>#token=… once."),
    "rate_wrong_counter": ("Mã thiết bị này thuộc quầy khác; hãy mở đúng trang của quầy đó.",
                           "This device token belongs to another counter; open that counter's page."),
    "rate_failed": ("Chưa ghi nhận được đánh giá:", "The rating was not recorded:"),
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
