"""Administration pages (/manager/admin) and JSON endpoints (/api/v1/admin): admins change, managers look.

Handlers only translate between forms/JSON and queueing.admin, which validates and audits every change;
events are published after the commit. A page that fails validation is shown again with what was typed.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import partial
from zoneinfo import ZoneInfo

from flask import (Blueprint, Response, abort, current_app, flash, get_flashed_messages, jsonify, redirect,
                   render_template, request, url_for)

import web
from i18n import current_language
from queueing import admin, alerts, store
from queueing.model import QueueError
from web import check_csrf, get_db, json_body, now, publish, require, staff_page

bp = Blueprint("admin", __name__, url_prefix="/manager/admin", template_folder="templates")
api_bp = Blueprint("admin_api", __name__, url_prefix="/api/v1/admin")

# A centre's configuration file is bigger than the API's usual 64 KB request limit.
CONFIGURATION_MAX_BYTES = 4 * 1024 * 1024
ALERT_INTERVAL_S = 30

TEXT = {
    "admin_title": ("Quản trị", "Administration"),
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
)

ROLE_LABELS = {"admin": ("Quản trị", "Administrator"), "manager": ("Quản lý", "Manager"),
               "clerk": ("Cán bộ một cửa", "Clerk")}
KIND_LABELS = {"kiosk": ("Kiosk lấy số", "Kiosk"), "display": ("Màn hình gọi số", "Call display"),
               "printer": ("Máy in (print agent)", "Printer agent"),
               "counter": ("Máy tính bảng đánh giá tại quầy", "Counter rating tablet")}
ACTION_LABELS = {
    "create": ("Thêm", "Created"), "update": ("Sửa", "Changed"), "deactivate": ("Ngừng dùng", "Deactivated"),
    "activate": ("Dùng lại", "Reactivated"), "reset_password": ("Đặt lại mật khẩu", "Password reset"),
    "revoke": ("Thu hồi", "Revoked"), "import": ("Nhập cấu hình", "Imported"),
}


def _pick(pair: tuple[str, str]) -> str:
    return pair[1] if current_language() == "en" else pair[0]


def field_options(name: str) -> list[tuple[str, str]]:
    """(value, label) choices of a select or checkbox list."""
    db, centre_id = get_db(), current_app.config["CENTRE_ID"]
    if name == "services":
        return [(s["code"], f"{s['code']} – {_pick((s['name'], s['name_en'] or s['name']))}"
                 + ("" if s["active"] else f" ({t('inactive')})")) for s in admin.list_services(db, centre_id)]
    if name == "counters":
        return [("", "—")] + [(str(c["number"]), c["name"]) for c in admin.list_counters(db, centre_id) if c["active"]]
    if name == "roles":
        return [(role, _pick(labels)) for role, labels in ROLE_LABELS.items()]
    if name == "device_kinds":
        return [(kind, _pick(labels)) for kind, labels in KIND_LABELS.items()]
    if name == "languages":
        return [("vi", "Tiếng Việt"), ("en", "English")]
    if name == "restore_places":
        return [("behind_waiting", _pick(("Sau những người đang chờ", "Behind those waiting now"))),
                ("original", _pick(("Vị trí cũ (theo giờ lấy số)", "Its original place (by issue time)")))]
    if name == "voices":
        return [("vi", "vi (miền Bắc)"), ("vi-vn-x-central", "vi-vn-x-central (miền Trung)"),
                ("vi-vn-x-south", "vi-vn-x-south (miền Nam)")]
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
        return _pick(ROLE_LABELS.get(item["role"], (item["role"], item["role"])))
    if key == "kind":
        return _pick(KIND_LABELS.get(item["kind"], (item["kind"], item["kind"])))
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


PAGE_OF_ENDPOINT = {"admin.settings": "settings", "admin.audit_log": "audit", "admin.configuration": "configuration",
                    "admin.configuration_import": "configuration"}


def switch_language_url() -> str:
    """This page in the other language (a page answering a POST links to the admin home instead)."""
    other = "en" if current_language() == "vi" else "vi"
    if request.method != "GET":
        return url_for("admin.index", lang=other)
    return url_for(request.endpoint, **{**(request.view_args or {}), **request.args.to_dict(), "lang": other})


@bp.context_processor
def admin_context():
    active_page = (request.view_args or {}).get("section") or PAGE_OF_ENDPOINT.get(request.endpoint)
    return {"t": t, "link": link, "sections": SECTION_TITLES, "display_value": display_value,
            "field_options": field_options, "active_page": active_page, "switch_language_url": switch_language_url}


def render(template: str, status: int = 200, **context):
    principal = context.pop("user")
    page = render_template(f"manager/admin/{template}", user=principal, can_change=principal.role == "admin",
                           flashes=get_flashed_messages(), **context)
    return page, status


# ---- pages -----------------------------------------------------------------------------------

@bp.get("/")
def index():
    principal, redirect_response = viewer()
    if redirect_response:
        return redirect_response
    db, centre_id = get_db(), current_app.config["CENTRE_ID"]
    counts = {name: len(SECTIONS[name].listing(db, centre_id)) for name in SECTION_TITLES}
    return render("index.html", user=principal, counts=counts,
                  alerts=alerts.current(db, centre_id, now()), recent=admin.audit_entries(db, centre_id, 10),
                  action_label=action_label, local_time=local_time)


def _find(section: str, item_id: int) -> dict:
    for item in SECTIONS[section].listing(get_db(), current_app.config["CENTRE_ID"]):
        if item["id"] == item_id:
            return item
    abort(404)


def _section_page(principal, section: str, values=None, error: QueueError | None = None, status: int = 200):
    items = SECTIONS[section].listing(get_db(), current_app.config["CENTRE_ID"])
    return render("section.html", status, user=principal, section=section, spec=SECTIONS[section], items=items,
                  values=values or _blank(section), error=error)


def _blank(section: str) -> dict:
    values = {}
    for form_field in SECTIONS[section].fields:
        values[form_field.name] = [] if form_field.kind == "checkboxes" else (
            False if form_field.kind == "checkbox" else "")
    if section == "services":
        values.update(target_wait_min="15", default_service_min="7", sort_order="0")
    if section == "users":
        values["role"] = "clerk"
    return values


@bp.get("/<any(services, procedures, counters, priority_groups, users, devices):section>")
def section_list(section):
    principal, redirect_response = viewer()
    if redirect_response:
        return redirect_response
    return _section_page(principal, section)


@bp.post("/<any(services, procedures, counters, priority_groups, users, devices):section>")
def section_create(section):
    principal, redirect_response = changer()
    if redirect_response:
        return redirect_response
    data = submitted(SECTIONS[section].fields, creating=True)
    db, centre_id = get_db(), current_app.config["CENTRE_ID"]
    try:
        if section == "devices":
            from printers.drivers import parse_printer_uri
            outcome = admin.create_device(db, centre_id, principal.id, data, now(), check_printer_uri=parse_printer_uri)
        else:
            outcome = SECTIONS[section].create(db, centre_id, principal.id, data, now())
    except QueueError as error:
        return _section_page(principal, section, values=data, error=error, status=error.status)
    after_change(outcome, section)
    if section == "users" and outcome.result["password"]:
        return _secret_page(principal, "users", outcome.result["user"]["display_name"], outcome.result["password"])
    if section == "devices":
        device = outcome.result["device"]
        return _secret_page(principal, "devices", device["name"], outcome.result["token"],
                            kiosk=device["kind"] == "kiosk")
    flash(t("saved"))
    return redirect(link("admin.section_list", section=section))


def _secret_page(principal, section: str, name: str, secret: str, kiosk: bool = False):
    """A generated password or device token, shown in this answer only and never cached."""
    kiosk_url = f"{request.host_url}kiosk#token={secret}" if kiosk else None
    page, status = render("secret.html", user=principal, section=section, name=name, secret=secret,
                          kiosk_url=kiosk_url)
    response = Response(page, status)
    response.headers["Cache-Control"] = "no-store"
    return response


def _edit_page(principal, section: str, item: dict, values=None, error: QueueError | None = None,
               status: int = 200):
    label = str(item.get("code") or item.get("username") or item.get("number"))
    return render("edit.html", status, user=principal, section=section, spec=SECTIONS[section], item=item,
                  label=label, values=values or form_values(section, item), error=error)


@bp.get("/<any(services, procedures, counters, priority_groups, users):section>/<int:item_id>")
def item_edit(section, item_id):
    principal, redirect_response = viewer()
    if redirect_response:
        return redirect_response
    return _edit_page(principal, section, _find(section, item_id))


@bp.post("/<any(services, procedures, counters, priority_groups, users):section>/<int:item_id>")
def item_update(section, item_id):
    principal, redirect_response = changer()
    if redirect_response:
        return redirect_response
    item = _find(section, item_id)
    data = submitted(SECTIONS[section].fields, creating=False)
    try:
        outcome = SECTIONS[section].update(get_db(), current_app.config["CENTRE_ID"], principal.id, item_id, data,
                                           now())
    except QueueError as error:
        return _edit_page(principal, section, item, values={**form_values(section, item), **data}, error=error,
                          status=error.status)
    after_change(outcome, section)
    flash(t("saved"))
    return redirect(link("admin.section_list", section=section))


@bp.post("/<any(services, procedures, counters, priority_groups, users):section>/<int:item_id>/active")
def item_active(section, item_id):
    principal, redirect_response = changer()
    if redirect_response:
        return redirect_response
    item = _find(section, item_id)
    active = request.form.get("active") == "1"
    try:
        outcome = SECTIONS[section].set_active(get_db(), current_app.config["CENTRE_ID"], principal.id, item_id,
                                               active, now())
    except QueueError as error:
        return _edit_page(principal, section, item, error=error, status=error.status)
    after_change(outcome, section)
    if section == "users" and not active:
        disconnect("user", item_id)
    flash(t("saved"))
    return redirect(link("admin.section_list", section=section))


@bp.post("/users/<int:item_id>/password")
def user_password(item_id):
    principal, redirect_response = changer()
    if redirect_response:
        return redirect_response
    item = _find("users", item_id)
    try:
        outcome = admin.reset_password(get_db(), current_app.config["CENTRE_ID"], principal.id, item_id,
                                       request.form.get("password") or None, now())
    except QueueError as error:
        return _edit_page(principal, "users", item, error=error, status=error.status)
    if outcome.result["password"]:
        return _secret_page(principal, "users", item["display_name"], outcome.result["password"])
    flash(t("saved"))
    return redirect(link("admin.section_list", section="users"))


@bp.post("/devices/<int:item_id>/revoke")
def device_revoke(item_id):
    principal, redirect_response = changer()
    if redirect_response:
        return redirect_response
    try:
        outcome = admin.revoke_device(get_db(), current_app.config["CENTRE_ID"], principal.id, item_id, now())
    except QueueError as error:
        return _section_page(principal, "devices", error=error, status=error.status)
    after_change(outcome, "devices")
    disconnect("device", item_id)
    flash(t("saved"))
    return redirect(link("admin.section_list", section="devices"))


@bp.route("/settings", methods=["GET", "POST"])
def settings():
    if request.method == "GET":
        principal, redirect_response = viewer()
        if redirect_response:
            return redirect_response
        current = admin.centre_settings_view(get_db(), current_app.config["CENTRE_ID"])
        return render("settings.html", user=principal, fields=SETTINGS_FIELDS, values=_settings_values(current),
                      error=None)
    principal, redirect_response = changer()
    if redirect_response:
        return redirect_response
    data = {f.name: request.form.get(f.name, "") for f in SETTINGS_FIELDS}
    try:
        outcome = admin.update_settings(get_db(), current_app.config["CENTRE_ID"], principal.id, data, now())
    except QueueError as error:
        return render("settings.html", error.status, user=principal, fields=SETTINGS_FIELDS, values=data,
                      error=error)
    after_change(outcome, "settings")
    flash(t("saved") if outcome.events else t("no_change"))
    return redirect(link("admin.settings"))


def _settings_values(current: dict) -> dict:
    return {f.name: "" if current.get(f.name) is None else str(current[f.name]) for f in SETTINGS_FIELDS}


def action_label(action: str) -> str:
    section, _, verb = action.partition(".")
    noun = {"service": "services", "procedure": "procedures", "counter": "counters", "user": "users",
            "device": "devices", "priority_group": "priority_groups", "settings": "settings",
            "configuration": "configuration"}.get(section)
    verb_label = _pick(ACTION_LABELS.get(verb, (verb, verb)))
    return f"{verb_label} · {t(noun)}" if noun else action


def describe(entry: dict) -> str:
    """One audit row's before → after as short text."""
    detail = entry["detail"]
    target = detail.get("target") or {}
    name = target.get("code") or target.get("number") or target.get("username") or target.get("name") or ""
    if detail.get("summary"):
        parts = [f"{section}: +{counts['added']} ~{counts['updated']}" for section, counts in detail["summary"].items()
                 if counts["added"] or counts["updated"]]
        return "; ".join(parts) or t("no_change")
    before, after = detail.get("before"), detail.get("after")
    if before is None and isinstance(after, dict):
        shown = ", ".join(f"{k}={_short(v)}" for k, v in after.items() if k != "id")
        return f"{name}: {shown}"
    if isinstance(before, dict) and isinstance(after, dict):
        shown = "; ".join(f"{k}: {_short(before.get(k))} → {_short(after.get(k))}" for k in after)
        return f"{name}: {shown}" if name else shown
    if not target and detail:
        return _short(detail)
    return str(name)


def _short(value) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 80 else text[:77] + "…"


@bp.get("/audit")
def audit_log():
    principal, redirect_response = viewer()
    if redirect_response:
        return redirect_response
    before_id = request.args.get("before", type=int)
    include_views = request.args.get("views") == "1"
    entries = admin.audit_entries(get_db(), current_app.config["CENTRE_ID"], 100, before_id, include_views)
    return render("audit.html", user=principal, entries=entries, action_label=action_label, describe=describe,
                  local_time=local_time, include_views=include_views)


@bp.get("/configuration")
def configuration():
    principal, redirect_response = viewer()
    if redirect_response:
        return redirect_response
    return render("configuration.html", user=principal, error=None)


@bp.get("/configuration.json")
def configuration_download():
    principal, redirect_response = viewer()
    if redirect_response:
        return redirect_response
    centre_id = current_app.config["CENTRE_ID"]
    body = json.dumps(admin.export_configuration(get_db(), centre_id), ensure_ascii=False, indent=2)
    stamp = datetime.fromtimestamp(now(), timezone.utc).strftime("%Y%m%d")
    return Response(body + "\n", mimetype="application/json", headers={
        "Content-Disposition": f'attachment; filename="luot-{centre_id}-{stamp}.json"', "Cache-Control": "no-store"})


@bp.post("/configuration")
def configuration_import():
    request.max_content_length = CONFIGURATION_MAX_BYTES
    principal, redirect_response = changer()
    if redirect_response:
        return redirect_response
    upload = request.files.get("file")
    try:
        config = _read_configuration(upload.read() if upload else b"")
        outcome = admin.import_configuration(get_db(), current_app.config["CENTRE_ID"], config, principal.id, now())
    except QueueError as error:
        return render("configuration.html", error.status, user=principal, error=error)
    after_change(outcome, "configuration")
    flash(f"{t('imported')}: {outcome.result['changes']} " + ("thay đổi" if current_language() == "vi" else "changes"))
    return redirect(link("admin.configuration"))


def _read_configuration(raw: bytes) -> dict:
    if not raw:
        raise admin.ValidationError("Hãy chọn tệp cấu hình (.json) (choose a configuration file)", field="file",
                                    code="file_required")
    try:
        return json.loads(raw.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise admin.ValidationError("Tệp không phải văn bản UTF-8 (file is not UTF-8 text)", field="file",
                                    code="bad_configuration") from None
    except json.JSONDecodeError as error:
        raise admin.ValidationError(f"Tệp không phải JSON hợp lệ: dòng {error.lineno}, cột {error.colno} "
                                    f"(not valid JSON: {error.msg})", field="file", code="bad_configuration") from None


# ---- JSON API --------------------------------------------------------------------------------

def _api_changer():
    return require("admin")


def _api_section(section: str) -> Section:
    if section not in SECTIONS:
        abort(404)
    return SECTIONS[section]


def _respond(outcome, section: str, status: int = 200):
    after_change(outcome, section)
    return jsonify(outcome.result), status


@api_bp.get("/<section>")
def api_list(section):
    require("manager", "admin")
    if section == "settings":
        return jsonify(admin.centre_settings_view(get_db(), current_app.config["CENTRE_ID"]))
    if section == "audit":
        entries = admin.audit_entries(get_db(), current_app.config["CENTRE_ID"],
                                      min(request.args.get("limit", 100, type=int), 1000),
                                      request.args.get("before", type=int), request.args.get("views") == "1")
        return jsonify(entries)
    if section == "alerts":
        return jsonify(alerts.current(get_db(), current_app.config["CENTRE_ID"], now()))
    if section == "configuration":
        return jsonify(admin.export_configuration(get_db(), current_app.config["CENTRE_ID"]))
    return jsonify(_api_section(section).listing(get_db(), current_app.config["CENTRE_ID"]))


@api_bp.post("/<section>")
def api_create(section):
    spec = _api_section(section)
    principal = _api_changer()
    data = json_body(spec.api_fields)
    db, centre_id = get_db(), current_app.config["CENTRE_ID"]
    if section == "devices":
        from printers.drivers import parse_printer_uri
        create = partial(admin.create_device, check_printer_uri=parse_printer_uri)
    else:
        create = spec.create
    return _respond(create(db, centre_id, principal.id, data, now()), section, 201)


@api_bp.patch("/<section>/<int:item_id>")
def api_update(section, item_id):
    spec = _api_section(section)
    if spec.update is None:
        abort(405)
    principal = _api_changer()
    allowed = spec.api_fields - {"password"} if section == "users" else spec.api_fields
    data = json_body(allowed)
    return _respond(spec.update(get_db(), current_app.config["CENTRE_ID"], principal.id, item_id, data, now()), section)


@api_bp.post("/<section>/<int:item_id>/<any(activate, deactivate):verb>")
def api_active(section, item_id, verb):
    spec = _api_section(section)
    if spec.set_active is None:
        abort(404)
    principal = _api_changer()
    outcome = spec.set_active(get_db(), current_app.config["CENTRE_ID"], principal.id, item_id, verb == "activate",
                              now())
    if section == "users" and verb == "deactivate":
        disconnect("user", item_id)
    return _respond(outcome, section)


@api_bp.post("/users/<int:item_id>/reset-password")
def api_reset_password(item_id):
    principal = _api_changer()
    data = json_body({"password"})
    outcome = admin.reset_password(get_db(), current_app.config["CENTRE_ID"], principal.id, item_id,
                                   data.get("password"), now())
    response, status = _respond(outcome, "users")
    response.headers["Cache-Control"] = "no-store"
    return response, status


@api_bp.post("/devices/<int:item_id>/revoke")
def api_revoke(item_id):
    principal = _api_changer()
    outcome = admin.revoke_device(get_db(), current_app.config["CENTRE_ID"], principal.id, item_id, now())
    disconnect("device", item_id)
    return _respond(outcome, "devices")


@api_bp.patch("/settings")
def api_settings():
    principal = _api_changer()
    data = json_body(set(admin.SETTING_DEFAULTS) | set(admin.CENTRE_FIELDS))
    return _respond(admin.update_settings(get_db(), current_app.config["CENTRE_ID"], principal.id, data, now()),
                    "settings")


@api_bp.put("/configuration")
def api_import():
    request.max_content_length = CONFIGURATION_MAX_BYTES
    principal = _api_changer()
    if not request.is_json:
        raise web.ApiError("Nội dung phải là JSON (Content-Type must be application/json)",
                           code="unsupported_media_type", status=415)
    config = request.get_json(silent=True)
    if not isinstance(config, dict):
        raise web.ApiError("Nội dung JSON không hợp lệ: cần một đối tượng (body must be a JSON object)",
                           code="bad_json")
    outcome = admin.import_configuration(get_db(), current_app.config["CENTRE_ID"], config, principal.id, now())
    return _respond(outcome, "configuration")


@api_bp.errorhandler(admin.ValidationError)
def api_validation_error(error):
    body = {"error": error.message, "code": error.code}
    if error.field:
        body["field"] = error.field
    if len(error.errors) > 1 or error.code == "bad_configuration":
        body["errors"] = error.errors
    if len(error.fields) > 1:
        body["fields"] = error.fields
    return jsonify(body), error.status


# ---- alerts pushed to monitors ---------------------------------------------------------------

def check_alerts(app) -> list[dict]:
    """One round: evaluate the centre's alerts and push the new ones (and the cleared keys) to monitors."""
    with app.app_context():
        pool = app.extensions["luot_pool"]
        db = pool.acquire()
        try:
            at = app.config["CLOCK"]()
            standing = alerts.current(db, app.config["CENTRE_ID"], at)
            # claimed in the database: every instance runs this loop, monitors hear each alert once
            new, resolved = alerts.SharedAlertTracker(app.config["CENTRE_ID"]).update(db, standing, at)
        finally:
            pool.release(db)
        for alert in new:
            web.socketio.emit("alert", alert, to="monitor")
        for key in resolved:
            web.socketio.emit("alert_resolved", {"key": key}, to="monitor")
    return new


def alert_loop(app, interval: float = ALERT_INTERVAL_S) -> None:
    """The background task server.create_app starts: check_alerts every `interval` seconds, forever."""
    while True:
        web.socketio.sleep(interval)
        try:
            check_alerts(app)
        except Exception:  # a failed round must not end the loop; the next one may succeed
            app.logger.exception("alert check failed")
