"""The centre's names, time zone and settings: their defaults, their checks and changing them."""
from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ..events import configuration_changed, notice_changed
from .. import store, voice_pack
from ..alerts import ALERT_DEFAULTS
from ..closing import DAY_END_DEFAULTS
from ..corrections import RESTORE_PLACES, current_setting_names
from ..dossiers import DOSSIER_DEFAULTS, DOSSIER_SETTING_LABELS, clean_dossier_setting
from ..model import Event, Outcome, QueueError
from ..service import DEFAULT_SETTINGS
from ..speech_vi import VIETNAMESE_VOICES as VOICES, validate_template
from .changes import _diff, _now, _update_columns, audit
from .validation import ValidationError, _Fields, _int, _text

SETTING_DEFAULTS = {**DEFAULT_SETTINGS, "voice": "vi", "voice_rate": 130, **ALERT_DEFAULTS, **DAY_END_DEFAULTS}
CENTRE_FIELDS = ("name", "name_en", "timezone")
NOTICE_MAX = 300


SETTING_LABELS = {
    "language": "Ngôn ngữ thông báo", "priority_ratio": "Tỉ lệ ưu tiên (số lượt ưu tiên liên tiếp)",
    "recall_limit": "Số lần gọi lại tối đa", "announcement_template": "Mẫu câu thông báo",
    "no_show_restore_minutes": "Thời gian cho khôi phục số vắng mặt (phút)",
    "no_show_restore_place": "Vị trí của số được khôi phục",
    "announcement_repeat": "Số lần đọc mỗi thông báo", "notice": "Dòng thông báo trên màn hình",
    "kiosk_tickets_per_minute": "Số phiếu tối đa mỗi phút ở kiosk",
    "citizen_retention_days": "Số ngày giữ thông tin công dân", "voice": "Giọng đọc", "voice_rate": "Tốc độ đọc",
    "alert_wait_minutes": "Cảnh báo khi một số chờ quá (phút)",
    "alert_pause_minutes": "Cảnh báo khi quầy tạm dừng quá (phút)",
    "alert_waiting_count": "Cảnh báo khi số người chờ vượt quá",
    "cutoff_margin_minutes": "Ngừng cấp số trước giờ đóng cửa (phút)",
    "appointment_ratio": "Tỉ lệ lịch hẹn (số lượt lịch hẹn liên tiếp)",
    "appointment_grace_minutes": "Lịch hẹn: cho xác nhận muộn tối đa (phút)",
    "appointment_early_minutes": "Lịch hẹn: cho xác nhận sớm tối đa (phút)",
    "appointment_slot_minutes": "Độ dài một khung giờ hẹn (phút)", "appointment_places": "Số chỗ mỗi khung giờ hẹn",
    "appointment_services": "Quy định lịch hẹn theo lĩnh vực", "nudge_ahead": "Báo trước khi còn N người",
    "phone_join_disabled": "Lĩnh vực không cho lấy số qua điện thoại",
    "appointment_punctual_minutes": "Lịch hẹn đúng giờ nếu được gọi trong vòng (phút)",
    "phone_join_per_address_per_hour": "Số phiếu qua điện thoại mỗi giờ từ một địa chỉ",
    "name": "Tên trung tâm", "name_en": "Tên trung tâm (tiếng Anh)", "timezone": "Múi giờ",
    **DOSSIER_SETTING_LABELS,
}


def clean_setting(key: str, value):
    """One setting's value, checked; raises ValidationError naming the setting."""
    label = SETTING_LABELS.get(key, key)
    ranges = {"priority_ratio": (0, 100), "recall_limit": (1, 10), "announcement_repeat": (1, 5),
              "no_show_restore_minutes": (0, 1440),
              "kiosk_tickets_per_minute": (1, 600), "citizen_retention_days": (1, 3650), "voice_rate": (80, 260),
              "alert_wait_minutes": (0, 1440), "alert_pause_minutes": (0, 1440), "alert_waiting_count": (0, 100000),
              "cutoff_margin_minutes": (0, 240), "appointment_ratio": (0, 100), "appointment_grace_minutes": (0, 240),
              "appointment_early_minutes": (0, 240), "appointment_slot_minutes": (5, 240),
              "appointment_places": (0, 100), "nudge_ahead": (0, 50), "phone_join_per_address_per_hour": (1, 1000),
              "appointment_punctual_minutes": (0, 240)}
    if key in ranges:
        return _int(value, key, label, minimum=ranges[key][0], maximum=ranges[key][1])
    if key in DOSSIER_DEFAULTS:
        try:
            return clean_dossier_setting(key, value, DOSSIER_SETTING_LABELS[key])
        except ValueError as error:
            raise ValidationError(str(error), field=key, code="bad_setting") from None
    if key == "phone_join_disabled":
        if not isinstance(value, list) or not all(isinstance(code, str) and code for code in value):
            raise ValidationError(f"{label} phải là danh sách mã lĩnh vực (must be a list of service codes)",
                                  field=key, code="bad_service_list")
        return sorted(set(value))
    if key == "appointment_services":
        import json
        from ..appointments import clean_service_rules
        try:
            if isinstance(value, str):  # the admin form's text field holds the JSON
                value = json.loads(value) if value.strip() else {}
            return clean_service_rules(value)
        except ValueError as error:  # json.JSONDecodeError is one
            raise ValidationError(f"{label}: {error}", field=key, code="bad_appointment_services") from None
    if key == "language":
        if value not in ("vi", "en"):
            raise ValidationError(f"{label} phải là vi hoặc en, không phải «{value}» (language must be vi or en)",
                                  field=key, code="bad_language")
        return value
    if key == "no_show_restore_place":
        if value not in RESTORE_PLACES:
            raise ValidationError(f"{label} phải là behind_waiting (sau những người đang chờ) hoặc original (vị trí cũ) "
                                  "(must be behind_waiting or original)", field=key, code="bad_restore_place")
        return value
    if key == "voice":
        if value not in VOICES and value != voice_pack.PACK_VOICE:
            raise ValidationError(f"{label} phải là một trong {', '.join(VOICES)}, pack (unknown voice)", field=key,
                                  code="bad_voice")
        return value
    if key == "announcement_template":
        template = _text(value, key, label, max_length=300) or None
        if template is not None:
            try:
                validate_template(template)
            except ValueError as error:
                raise ValidationError(str(error), field=key, code="bad_template") from None
        return template
    if key == "notice":
        return _text(value, key, label, max_length=NOTICE_MAX)
    if key in ("name", "name_en"):
        return _text(value, key, label, required=key == "name")
    if key == "timezone":
        zone = _text(value, key, label, required=True, max_length=60)
        try:
            ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValidationError(f"Múi giờ «{zone}» không có; ví dụ Asia/Ho_Chi_Minh (unknown time zone)",
                                  field=key, code="bad_timezone") from None
        return zone
    raise ValidationError(f"Không có thiết lập «{key}» (unknown setting)", field=key, code="unknown_setting")


def _clean_settings(data: dict) -> dict:
    if not isinstance(data, dict):
        raise ValidationError("Thiết lập phải là một bảng tên → giá trị (settings must be an object)")
    fields, values = _Fields(), {}
    for key, value in current_setting_names(data).items():
        with fields.field(key):
            values[key] = clean_setting(key, value)
    fields.done()
    return values


def centre_settings_view(db, centre_id: str) -> dict:
    """The centre's names, time zone and every setting (defaults filled in)."""
    centre = store.centre(db, centre_id)
    return {"name": centre["name"], "name_en": centre["name_en"], "timezone": centre["timezone"],
            **{**SETTING_DEFAULTS, **centre["settings"]}}


def update_settings(db, centre_id: str, user_id, data: dict, now: float | None = None) -> Outcome:
    """Change the centre's names and settings (announcement, notice line, ratios, alert thresholds)."""
    values = _clean_settings(data)
    with store.transaction(db):
        centre = store.centre(db, centre_id)
        before = centre_settings_view(db, centre_id)
        if values.get("voice") == voice_pack.PACK_VOICE:
            try:  # the recorded voice only once every segment has its clip (issue 19)
                voice_pack.require_complete(db, centre_id)
            except QueueError as error:
                raise ValidationError(error.message, field="voice", code=error.code) from None
        columns = {key: values[key] for key in CENTRE_FIELDS if key in values}
        settings = {**centre["settings"], **{k: v for k, v in values.items() if k not in CENTRE_FIELDS}}
        columns["settings"] = store.dumps(settings)
        _update_columns(db, "centres", centre_id, columns)
        after = centre_settings_view(db, centre_id)
        changed_before, changed_after = _diff(before, after)
        events: list[Event] = []
        if changed_after:
            audit(db, centre_id, _now(now), user_id, "settings.update", {"type": "centre", "id": centre_id},
                  changed_before, changed_after)
            events.append(configuration_changed("settings"))
            if "notice" in changed_after:
                events.append(notice_changed(after["notice"]))
    return Outcome(after, events)
