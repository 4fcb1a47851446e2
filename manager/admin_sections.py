"""The administration's sections (services, procedures, counters, priority groups, users, devices):
their fields, texts and labels for forms and lists, and who may look at or change them. Shared by the
pages (manager/admin_routes.py) and the JSON API (manager/admin_api.py)."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

from flask import current_app, request, url_for

import web
from i18n import current_language
from queueing import admin, store
from web import check_csrf, get_db, publish, staff_page

TEXT = {
    "admin_title": ("Quản trị", "Administration"),
    "no_public_url": ("Chưa đặt LUOT_PUBLIC_URL: mã QR trên phiếu và đường dẫn theo dõi dùng địa chỉ mà ki-ốt truy "
                      "cập máy chủ (thường là địa chỉ mạng nội bộ), điện thoại dùng 4G không mở được. Xem mục Triển "
                      "khai trong README.",
                      "LUOT_PUBLIC_URL is not set: the slip's QR code and tracking links use the address the kiosk "
                      "reaches the server at (often a LAN address), which a phone on mobile data cannot open. See "
                      "the README's deployment section."),
    "services": ("Lĩnh vực", "Services"),
    "procedures": ("Thủ tục", "Procedures"),
    "counters": ("Quầy", "Counters"),
    "users": ("Tài khoản", "Users"),
    "devices": ("Thiết bị", "Devices"),
    "priority_groups": ("Nhóm ưu tiên", "Priority groups"),
    "settings": ("Thiết lập chung", "Settings"),
    "audit": ("Nhật ký thay đổi", "Audit log"),
    "configuration": ("Nhập / xuất cấu hình", "Import / export"),
    "monitor": ("Giám sát", "Monitor"),
    "add": ("Thêm mới", "Add"),
    "save": ("Lưu", "Save"),
    "edit": ("Sửa", "Edit"),
    "deactivate": ("Ngừng sử dụng", "Deactivate"),
    "activate": ("Dùng lại", "Reactivate"),
    "revoke": ("Thu hồi mã", "Revoke"),
    "active": ("Đang dùng", "Active"),
    "inactive": ("Ngừng dùng", "Inactive"),
    "revoked": ("Đã thu hồi", "Revoked"),
    "status": ("Tình trạng", "Status"),
    "view_only": ("Bạn đang xem. Chỉ tài khoản quản trị (admin) được thay đổi.",
                  "View only. Only an administrator (admin) may make changes."),
    "errors_title": ("Chưa lưu được, hãy sửa lỗi sau:", "Not saved yet; please correct:"),
    "saved": ("Đã lưu.", "Saved."),
    "no_change": ("Không có gì thay đổi.", "Nothing changed."),
    "reset_password": ("Đặt lại mật khẩu", "Reset password"),
    "reset_password_hint": ("Để trống để hệ thống tạo mật khẩu mới; mọi phiên đăng nhập cũ sẽ hết hiệu lực.",
                            "Leave empty to generate one; every existing sign-in ends."),
    "secret_title": ("Chỉ hiển thị một lần", "Shown once only"),
    "secret_hint": ("Hãy ghi lại ngay; hệ thống chỉ lưu bản băm nên không thể xem lại.",
                    "Write it down now: only a hash is kept, so it cannot be shown again."),
    "password_for": ("Mật khẩu mới của", "New password of"),
    "token_for": ("Mã truy cập của thiết bị", "Access token of device"),
    "kiosk_link": ("Mở liên kết này một lần trên kiosk để kích hoạt", "Open this link once on the kiosk"),
    "back": ("Quay lại", "Back"),
    "export": ("Tải tệp cấu hình (JSON)", "Download configuration (JSON)"),
    "export_hint": ("Gồm trung tâm, thiết lập, lĩnh vực, thủ tục, nhóm ưu tiên và quầy; không gồm tài khoản, "
                    "thiết bị hay mật khẩu.", "Centre, settings, services, procedures, priority groups and "
                    "counters; no accounts, devices or passwords."),
    "import": ("Nhập tệp cấu hình", "Import a configuration file"),
    "import_hint": ("Mục có cùng mã (quầy: cùng số) được cập nhật, mục mới được thêm; không xoá gì. Tệp được "
                    "kiểm tra toàn bộ trước; có lỗi thì không thay đổi gì.",
                    "Items with the same code (counters: number) are updated, new ones added; nothing is "
                    "deleted. The whole file is checked first; on any error nothing changes."),
    "file": ("Tệp", "File"),
    "imported": ("Đã nhập cấu hình", "Configuration imported"),
    "when": ("Thời gian", "When"),
    "who": ("Người thực hiện", "Who"),
    "action": ("Thao tác", "Action"),
    "what": ("Nội dung", "What"),
    "before": ("Trước", "Before"),
    "after": ("Sau", "After"),
    "older": ("Cũ hơn", "Older"),
    "nothing_yet": ("Chưa có mục nào.", "Nothing yet."),
    "confirm_deactivate": ("Ngừng sử dụng mục này? Lịch sử vẫn được giữ.",
                           "Deactivate this? Its history is kept."),
    "confirm_revoke": ("Thu hồi mã của thiết bị này? Thiết bị sẽ ngừng hoạt động ngay.",
                       "Revoke this device's token? It stops working at once."),
    "yes": ("có", "yes"),
    "no": ("không", "no"),
    "edit_title": ("Sửa", "Edit"),
    "system": ("hệ thống", "system"),
    "show_views": ("Hiện cả lượt xem thông tin công dân", "Include views of citizen data"),
    "hide_views": ("Chỉ hiện các thay đổi", "Changes only"),
}

SECTION_TITLES = ("services", "procedures", "counters", "priority_groups", "users", "devices")


def t(key: str) -> str:
    vi, en = TEXT[key]
    return en if current_language() == "en" else vi


def link(endpoint: str, **values) -> str:
    """url_for that keeps ?lang=en on every admin link."""
    if current_language() == "en":
        values.setdefault("lang", "en")
    return url_for(endpoint, **values)


@dataclass(frozen=True)
class Field:
    """One form field: its name in the core's input, labels, and how it is shown."""

    name: str
    vi: str
    en: str
    kind: str = "text"  # text, number, select, checkbox, checkboxes, password, lines (a textarea, one per line)
    required: bool = False
    fixed: bool = False  # set when created, read-only afterwards (codes, numbers, usernames)
    create_only: bool = False
    hint_vi: str = ""
    hint_en: str = ""
    options: str = ""  # name of an option list (see field_options)
    maxlength: int | None = None

    def label(self) -> str:
        return self.en if current_language() == "en" else self.vi

    def hint(self) -> str:
        return self.hint_en if current_language() == "en" else self.hint_vi


OPTIONAL_NUMBER = ("Để trống nếu không có.", "Leave empty if none.")


@dataclass(frozen=True)
class Section:
    fields: tuple[Field, ...]
    columns: tuple[tuple[str, str, str], ...]  # (key, vi, en) shown in the list
    create: object
    update: object | None
    set_active: object | None
    listing: object
    api_fields: frozenset = field(default_factory=frozenset)


SECTIONS: dict[str, Section] = {
    "services": Section(
        fields=(
            Field("code", "Mã lĩnh vực", "Code", required=True, fixed=True, maxlength=32,
                  hint_vi="Chữ in hoa, số, '_' hoặc '-', ví dụ TP", hint_en="Capitals, digits, _ or -, e.g. TP"),
            Field("name", "Tên lĩnh vực", "Name (Vietnamese)", required=True, maxlength=120),
            Field("name_en", "Tên tiếng Anh", "Name (English)", maxlength=120),
            Field("prefix", "Chữ đầu số thứ tự", "Ticket prefix", required=True, maxlength=2,
                  hint_vi="1–2 chữ cái, ví dụ A → A001", hint_en="1–2 letters, e.g. A → A001"),
            Field("target_wait_min", "Thời gian chờ mục tiêu (phút)", "Target wait (minutes)", "number",
                  required=True),
            Field("default_service_min", "Thời gian phục vụ ước tính (phút)", "Estimated service time (minutes)",
                  "number", required=True),
            Field("daily_cap", "Số phiếu tối đa trong ngày", "Daily cap", "number",
                  hint_vi="Để trống = không giới hạn", hint_en="Empty = no cap"),
            Field("opening_hours", "Giờ nhận số", "Opening hours", maxlength=300,
                  hint_vi="Ví dụ: T2-T6 07:30-11:30, 13:30-17:00; T7 07:30-11:30 — để trống = luôn mở",
                  hint_en="E.g. mon-fri 07:30-11:30, 13:30-17:00; sat 07:30-11:30 — empty = always open"),
            Field("sort_order", "Thứ tự hiển thị", "Display order", "number"),
        ),
        columns=(("code", "Mã", "Code"), ("prefix", "Chữ đầu", "Prefix"), ("name", "Tên", "Name"),
                 ("target_wait_min", "Chờ mục tiêu (phút)", "Target wait (min)"),
                 ("daily_cap", "Tối đa/ngày", "Daily cap"), ("opening_hours", "Giờ nhận số", "Hours")),
        create=admin.create_service, update=admin.update_service, set_active=admin.set_service_active,
        listing=admin.list_services,
        api_fields=frozenset({"code", "name", "name_en", "prefix", "target_wait_s", "target_wait_min",
                              "default_service_s", "default_service_min", "daily_cap", "opening_hours",
                              "sort_order", "active"})),
    "procedures": Section(
        fields=(
            Field("code", "Mã thủ tục", "Code", required=True, fixed=True, maxlength=32),
            Field("service", "Lĩnh vực", "Service", "select", required=True, options="services"),
            Field("name", "Tên thủ tục", "Name (Vietnamese)", required=True, maxlength=300),
            Field("name_en", "Tên tiếng Anh", "Name (English)", maxlength=300),
            Field("legal_days", "Thời hạn giải quyết (ngày làm việc)", "Time limit (working days)", "number",
                  hint_vi=OPTIONAL_NUMBER[0], hint_en=OPTIONAL_NUMBER[1]),
            Field("same_day", "Trả kết quả trong ngày", "Same-day result", "checkbox"),
            Field("legal_days_note", "Ghi chú thời hạn", "Time-limit note", maxlength=500),
            Field("fee_vnd", "Lệ phí (đồng)", "Fee (VND)", "number", hint_vi=OPTIONAL_NUMBER[0],
                  hint_en=OPTIONAL_NUMBER[1]),
            Field("fee_note", "Ghi chú lệ phí", "Fee note", maxlength=500),
            Field("phrasings", "Cách người dân hỏi (mỗi dòng một câu)", "How citizens ask, Vietnamese (one per line)",
                  "lines", hint_vi="Trợ lý ở kiosk tìm thủ tục theo các câu này, ví dụ: «làm giấy khai sinh cho con».",
                  hint_en="The kiosk assistant finds the procedure by these, e.g. “làm giấy khai sinh cho con”."),
            Field("phrasings_en", "Cách hỏi bằng tiếng Anh (mỗi dòng một câu)", "How citizens ask, English (one per line)",
                  "lines"),
            Field("documents", "Giấy tờ cần mang (mỗi dòng một loại)", "What to bring, Vietnamese (one per line)",
                  "lines"),
            Field("documents_en", "Giấy tờ cần mang, tiếng Anh", "What to bring, English (one per line)", "lines"),
        ),
        columns=(("code", "Mã", "Code"), ("service", "Lĩnh vực", "Service"), ("name", "Tên", "Name"),
                 ("legal_days", "Thời hạn (ngày)", "Days"), ("fee_vnd", "Lệ phí", "Fee")),
        create=admin.create_procedure, update=admin.update_procedure, set_active=admin.set_procedure_active,
        listing=admin.list_procedures,
        api_fields=frozenset({"code", "service", "name", "name_en", "legal_days", "same_day", "legal_days_note",
                              "fee_vnd", "fee_note", "active", "phrasings", "phrasings_en", "documents",
                              "documents_en"})),
    "counters": Section(
        fields=(
            Field("number", "Số quầy", "Number", "number", required=True, fixed=True),
            Field("name", "Tên quầy", "Name", required=True, maxlength=120,
                  hint_vi="Ví dụ: Quầy 7 – Tư pháp", hint_en="E.g. Quầy 7 – Tư pháp"),
            Field("floor", "Tầng / khu vực", "Floor / area", maxlength=60,
                  hint_vi="Màn hình có thể lọc theo tầng: /display?floor=Tầng 1",
                  hint_en="Displays can filter by floor: /display?floor=Tầng 1"),
            Field("services", "Lĩnh vực phục vụ", "Services served", "checkboxes", options="services"),
        ),
        columns=(("number", "Số", "No."), ("name", "Tên", "Name"), ("floor", "Tầng / khu vực", "Floor"),
                 ("services", "Lĩnh vực", "Services")),
        create=admin.create_counter, update=admin.update_counter, set_active=admin.set_counter_active,
        listing=admin.list_counters, api_fields=frozenset({"number", "name", "floor", "services", "active"})),
    "priority_groups": Section(
        fields=(
            Field("code", "Mã nhóm", "Code", required=True, fixed=True, maxlength=32),
            Field("name", "Tên nhóm", "Name (Vietnamese)", required=True, maxlength=120),
            Field("name_en", "Tên tiếng Anh", "Name (English)", maxlength=120),
            Field("sort_order", "Thứ tự hiển thị", "Display order", "number"),
        ),
        columns=(("code", "Mã", "Code"), ("name", "Tên", "Name"), ("name_en", "Tiếng Anh", "English"),
                 ("sort_order", "Thứ tự", "Order")),
        create=admin.create_priority_group, update=admin.update_priority_group,
        set_active=admin.set_priority_group_active, listing=admin.list_groups,
        api_fields=frozenset({"code", "name", "name_en", "sort_order", "active"})),
    "users": Section(
        fields=(
            Field("username", "Tên đăng nhập", "Username", required=True, fixed=True, maxlength=40,
                  hint_vi="2–40 ký tự a-z, 0-9, '.', '_' hoặc '-'", hint_en="2–40 of a-z, 0-9, . _ -"),
            Field("display_name", "Họ tên hiển thị", "Display name", maxlength=120),
            Field("role", "Vai trò", "Role", "select", required=True, options="roles"),
            Field("password", "Mật khẩu", "Password", "password", create_only=True,
                  hint_vi="Để trống để hệ thống tạo; ít nhất 8 ký tự, có cả chữ và số",
                  hint_en="Empty to generate; at least 8 characters mixing letters and digits"),
        ),
        columns=(("username", "Tên đăng nhập", "Username"), ("display_name", "Họ tên", "Name"),
                 ("role", "Vai trò", "Role")),
        create=admin.create_user, update=admin.update_user, set_active=admin.set_user_active,
        listing=admin.list_users, api_fields=frozenset({"username", "display_name", "role", "password"})),
    "devices": Section(
        fields=(
            Field("name", "Tên thiết bị", "Name", required=True, maxlength=80,
                  hint_vi="Ví dụ: Kiosk sảnh tầng 1", hint_en="E.g. Kiosk ground floor"),
            Field("kind", "Loại", "Kind", "select", required=True, options="device_kinds"),
            Field("printer_uri", "Máy in (kiosk, máy in)", "Printer (kiosk, printer)", maxlength=200,
                  hint_vi="network://IP:9100, usb://VID:PID, serial:///dev/ttyS0, file:///đường/dẫn, "
                          "cups://TÊN, agent hoặc none",
                  hint_en="network://IP:9100, usb://VID:PID, serial:///dev/ttyS0, file:///path, cups://NAME, "
                          "agent or none"),
            Field("counter", "Quầy (máy tính bảng đánh giá)", "Counter (rating tablet)", "select",
                  options="counters"),
        ),
        columns=(("name", "Tên", "Name"), ("kind", "Loại", "Kind"), ("printer_uri", "Máy in", "Printer"),
                 ("counter", "Quầy", "Counter"), ("created", "Tạo lúc", "Created")),
        create=None, update=None, set_active=None, listing=admin.list_devices,
        api_fields=frozenset({"name", "kind", "printer_uri", "counter"})),
}

SETTINGS_FIELDS = (
    Field("name", "Tên trung tâm", "Centre name", required=True, maxlength=120),
    Field("name_en", "Tên trung tâm (tiếng Anh)", "Centre name (English)", maxlength=120),
    Field("timezone", "Múi giờ", "Time zone", required=True, maxlength=60),
    Field("notice", "Dòng thông báo chạy trên màn hình", "Notice line on the displays", maxlength=300,
          hint_vi="Tối đa 300 ký tự; để trống để ẩn", hint_en="At most 300 characters; empty hides it"),
    Field("language", "Ngôn ngữ đọc số", "Announcement language", "select", options="languages"),
    Field("announcement_template", "Mẫu câu gọi số", "Announcement template", maxlength=300,
          hint_vi="Dùng {so} (số thứ tự), {quay} (số quầy), {ten_quay}, {lan}; để trống = mẫu mặc định",
          hint_en="Use {so} (ticket), {quay} (counter), {ten_quay}, {lan}; empty = default"),
    Field("announcement_repeat", "Số lần đọc mỗi lượt gọi (1–5)", "Times each call is read (1–5)", "number"),
    Field("voice", "Giọng đọc", "Voice", "select", options="voices"),
    Field("voice_rate", "Tốc độ đọc (từ/phút, 80–260)", "Voice rate (words/min, 80–260)", "number"),
    Field("priority_ratio", "Tỉ lệ ưu tiên: sau N lượt ưu tiên liên tiếp gọi 1 lượt thường",
          "Priority ratio: after N priority calls in a row, one normal", "number",
          hint_vi="0 = luôn gọi nhóm ưu tiên trước", hint_en="0 = priority always first"),
    Field("appointment_ratio", "Tỉ lệ lịch hẹn: sau N lượt lịch hẹn liên tiếp gọi 1 lượt thường",
          "Appointment ratio: after N appointment calls in a row, one ordinary", "number",
          hint_vi="0 = lịch hẹn đã đến giờ luôn được gọi trước", hint_en="0 = begun appointments always first"),
    Field("appointment_slot_minutes", "Độ dài khung giờ hẹn (phút)", "Appointment slot length (min)", "number"),
    Field("appointment_places", "Số chỗ mỗi khung giờ hẹn (mỗi lĩnh vực)", "Places per appointment slot (per service)",
          "number", hint_vi="0 = không nhận đặt lịch", hint_en="0 = no bookings"),
    Field("appointment_services", "Quy định lịch hẹn riêng theo lĩnh vực (JSON)", "Per-service appointment rules (JSON)",
          maxlength=4000, hint_vi='Ví dụ {"HT": {"places": 3, "slot_minutes": 20, "hours": {"mon": [["07:30", "11:00"]]}}}; '
                                  "trống = theo giờ làm việc của lĩnh vực",
          hint_en='e.g. {"HT": {"places": 3, "slot_minutes": 20, "hours": {"mon": [["07:30", "11:00"]]}}}; '
                  "empty = the service's opening hours"),
    Field("appointment_early_minutes", "Xác nhận lịch hẹn sớm nhất trước giờ hẹn (phút)",
          "Check-in opens before the slot (min)", "number"),
    Field("appointment_grace_minutes", "Xác nhận lịch hẹn muộn nhất sau giờ hẹn (phút)",
          "Check-in closes after the slot starts (min)", "number",
          hint_vi="sau đó lịch hẹn thành «quá hạn»", hint_en="then the booking is missed"),
    Field("appointment_punctual_minutes", "Lịch hẹn đúng giờ nếu được gọi trong vòng (phút) sau giờ hẹn",
          "An appointment is on time if called within (min) of its slot", "number"),
    Field("nudge_ahead", "Báo công dân khi còn N người phía trước", "Nudge the citizen when N people are ahead",
          "number", hint_vi="0 = tắt", hint_en="0 = off"),
    Field("phone_join_disabled", "Lĩnh vực KHÔNG cho lấy số qua điện thoại (/join)",
          "Services with NO ticket from the phone (/join)", "checkboxes", options="services"),
    Field("phone_join_per_address_per_hour", "Số phiếu qua điện thoại mỗi giờ từ một địa chỉ",
          "Phone tickets per hour from one address", "number"),
    Field("recall_limit", "Số lần gọi lại tối đa (1–10)", "Most recalls of a ticket (1–10)", "number",
          hint_vi="Sau đó cán bộ đánh dấu vắng mặt", hint_en="Then the clerk marks it a no-show"),
    Field("no_show_restore_minutes", "Khôi phục số vắng mặt trong vòng (phút)", "Restore a no-show within (min)",
          "number", hint_vi="0 = không cho khôi phục", hint_en="0 = never"),
    Field("no_show_restore_place", "Số được khôi phục xếp vào", "A restored ticket goes", "select",
          options="restore_places"),
    Field("kiosk_tickets_per_minute", "Số phiếu tối đa mỗi phút ở một kiosk", "Tickets per minute per kiosk",
          "number"),
    Field("citizen_retention_days", "Số ngày giữ thông tin công dân", "Days citizen data is kept", "number"),
    Field("alert_wait_minutes", "Cảnh báo khi một số chờ quá (phút)", "Alert when a ticket waits over (min)",
          "number", hint_vi="0 = tắt", hint_en="0 = off"),
    Field("alert_pause_minutes", "Cảnh báo khi quầy tạm dừng quá (phút)", "Alert when a counter is paused over (min)",
          "number", hint_vi="0 = tắt", hint_en="0 = off"),
    Field("alert_waiting_count", "Cảnh báo khi số người chờ vượt quá", "Alert when more people wait than",
          "number", hint_vi="0 = tắt", hint_en="0 = off"),
    Field("cutoff_margin_minutes", "Ngừng cấp số trước giờ đóng cửa (phút, 0–240)",
          "Stop issuing before closing (min, 0–240)", "number",
          hint_vi="khi dự báo số mới không kịp được gọi trước giờ đóng cửa trừ khoảng này",
          hint_en="when the forecast says a new ticket would not be called before closing minus this"),
    Field("dossier_code_pattern", "Mẫu mã hồ sơ (biểu thức chính quy)", "Dossier code pattern (regular expression)",
          maxlength=120, hint_vi="Mặc định: mẫu quốc gia, ví dụ 000.00.30.H56-241204-0001",
          hint_en="Default: the national form, e.g. 000.00.30.H56-241204-0001"),
    Field("dossier_return_service", "Mã lĩnh vực trả kết quả", "Result-return service code", maxlength=40),
    Field("bank_bin", "Mã BIN ngân hàng nhận phí (VietQR)", "Fee account's bank BIN (VietQR)", maxlength=6),
    Field("bank_account", "Số tài khoản nhận phí", "Fee account number", maxlength=19),
    Field("bank_account_name", "Tên tài khoản nhận phí", "Fee account name", maxlength=120),
)

ROLE_LABELS = {"admin": ("Quản trị", "Administrator"), "manager": ("Quản lý", "Manager"),
               "clerk": ("Cán bộ một cửa", "Clerk")}
KIND_LABELS = {"kiosk": ("Kiosk lấy số", "Kiosk"), "display": ("Màn hình gọi số", "Call display"),
               "printer": ("Máy in (print agent)", "Printer agent"),
               "counter": ("Máy tính bảng đánh giá tại quầy", "Counter rating tablet")}
ACTION_LABELS = {
    "create": ("Thêm", "Created"), "update": ("Sửa", "Changed"), "deactivate": ("Ngừng dùng", "Deactivated"),
    "activate": ("Dùng lại", "Reactivated"), "reset_password": ("Đặt lại mật khẩu", "Password reset"),
    "revoke": ("Thu hồi", "Revoked"), "import": ("Nhập cấu hình", "Imported"), "record": ("Ghi âm", "Recorded"),
}


def in_language(pair: tuple[str, str]) -> str:
    return pair[1] if current_language() == "en" else pair[0]


def field_options(name: str) -> list[tuple[str, str]]:
    """(value, label) choices of a select or checkbox list."""
    db, centre_id = get_db(), current_app.config["CENTRE_ID"]
    if name == "services":
        return [(s["code"], f"{s['code']} – {in_language((s['name'], s['name_en'] or s['name']))}"
                 + ("" if s["active"] else f" ({t('inactive')})")) for s in admin.list_services(db, centre_id)]
    if name == "counters":
        return [("", "—")] + [(str(c["number"]), c["name"]) for c in admin.list_counters(db, centre_id) if c["active"]]
    if name == "roles":
        return [(role, in_language(labels)) for role, labels in ROLE_LABELS.items()]
    if name == "device_kinds":
        return [(kind, in_language(labels)) for kind, labels in KIND_LABELS.items()]
    if name == "languages":
        return [("vi", "Tiếng Việt"), ("en", "English")]
    if name == "restore_places":
        return [("behind_waiting", in_language(("Sau những người đang chờ", "Behind those waiting now"))),
                ("original", in_language(("Vị trí cũ (theo giờ lấy số)", "Its original place (by issue time)")))]
    if name == "voices":
        return [("vi", "vi (miền Bắc)"), ("vi-vn-x-central", "vi-vn-x-central (miền Trung)"),
                ("vi-vn-x-south", "vi-vn-x-south (miền Nam)"),
                ("pack", in_language(("Giọng thu âm (bộ giọng, khi đã ghi đủ)", "Recorded voice (the voice pack, once complete)")))]
    return []


def display_value(section: str, key: str, item: dict) -> str:
    """How a list shows one cell."""
    if key == "target_wait_min":
        return str(item["target_wait_s"] // 60)
    if key == "opening_hours":
        return admin.format_opening_hours(item["opening_hours"], current_language()) or "—"
    if key == "services":
        return ", ".join(item["services"]) or "—"
    if key == "role":
        return in_language(ROLE_LABELS.get(item["role"], (item["role"], item["role"])))
    if key == "kind":
        return in_language(KIND_LABELS.get(item["kind"], (item["kind"], item["kind"])))
    if key == "created":
        return local_time(item["created_at"])
    value = item.get(key)
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return t("yes") if value else t("no")
    if key == "fee_vnd":
        return f"{value:,}".replace(",", ".") + " đ"
    return str(value)


def form_values(section: str, item: dict) -> dict:
    """An item as its edit form shows it."""
    values = {}
    for form_field in SECTIONS[section].fields if section in SECTIONS else SETTINGS_FIELDS:
        key = form_field.name
        if key == "target_wait_min":
            value = item["target_wait_s"] // 60
        elif key == "default_service_min":
            value = item["default_service_s"] // 60
        elif key == "opening_hours":
            value = admin.format_opening_hours(item["opening_hours"], current_language())
        else:
            value = item.get(key)
        if form_field.kind == "checkbox":
            values[key] = bool(value)
        elif form_field.kind == "checkboxes":
            values[key] = list(value or [])
        elif form_field.kind == "lines":
            values[key] = "\n".join(value or [])
        else:
            values[key] = "" if value is None else str(value)
    return values


def submitted(fields, creating: bool) -> dict:
    """The form's values, keyed as the core takes them; unchecked boxes count as false."""
    data = {}
    for form_field in fields:
        if form_field.fixed and not creating:
            continue
        if form_field.create_only and not creating:
            continue
        if form_field.kind == "checkbox":
            data[form_field.name] = form_field.name in request.form
        elif form_field.kind == "checkboxes":
            data[form_field.name] = request.form.getlist(form_field.name)
        else:
            data[form_field.name] = request.form.get(form_field.name, "")
    return data


def local_time(epoch: float | None) -> str:
    if epoch is None:
        return ""
    zone = ZoneInfo(store.centre(get_db(), current_app.config["CENTRE_ID"])["timezone"])
    return datetime.fromtimestamp(epoch, timezone.utc).astimezone(zone).strftime("%d/%m/%Y %H:%M")


# ---- who may ---------------------------------------------------------------------------------

def viewer():
    """Managers and admins may look; others are refused, the anonymous sent to sign in."""
    return staff_page("manager", "admin")


def changer():
    """Only an admin changes anything; the form must carry the session's CSRF token."""
    principal, redirect_response = staff_page("admin")
    if redirect_response is None:
        check_csrf()
    return principal, redirect_response


def after_change(outcome, section: str) -> None:
    """Publish what changed; the kiosk assistant is rebuilt when services or procedures change."""
    publish(outcome.events)
    if section in ("services", "procedures", "configuration"):
        current_app.extensions.pop("luot_assistant", None)


def disconnect(kind: str, principal_id: int) -> None:
    """Close the live Socket.IO connections of a revoked device or a deactivated account, on every
    instance: each of them joined the room of its device or account (api/events.py on_connect)."""
    import sockets
    sockets.disconnect_room(web.socketio, sockets.principal_room(kind, principal_id))


