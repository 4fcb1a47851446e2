"""Administration: validated, audited changes to a centre's configuration, by page, by API and by file."""
from __future__ import annotations

import io
import json

import pytest

import web
from queueing import accounts, admin, centre, store
from queueing.centre import DEMO_CENTRE_ID as CENTRE

MANAGER_PASSWORD = "quan-ly-2026"


# ---- helpers ----------------------------------------------------------------------------------

def snapshot_of(db) -> dict:
    """Everything an admin change may touch, to prove a refused change left it alone."""
    return {"configuration": admin.export_configuration(db, CENTRE),
            "users": admin.list_users(db, CENTRE), "devices": admin.list_devices(db, CENTRE),
            "audit": store.scalar(db, "SELECT COUNT(*) FROM audit_log")}


def audit_rows(db, action: str | None = None) -> list[dict]:
    rows = store.all_rows(db, "SELECT * FROM audit_log WHERE action != ? ORDER BY id",
                          (admin.CITIZEN_VIEW_ACTION,))
    for row in rows:
        row["detail"] = json.loads(row["detail"]) if row["detail"] else None
    return [row for row in rows if action is None or row["action"] == action]


def user_id(db, username: str) -> int:
    return store.scalar(db, "SELECT id FROM users WHERE username = ?", (username,))


def service_id(db, code: str) -> int:
    return store.scalar(db, "SELECT id FROM services WHERE code = ?", (code,))


def app_db(app):
    return store.connect(app.config["DATABASE"])


def add_manager(app) -> None:
    db = app_db(app)
    try:
        accounts.create_user(db, CENTRE, "lan", MANAGER_PASSWORD, "manager", "Chị Lan", 0)
    finally:
        db.conn.close()
    app.credentials.passwords["lan"] = MANAGER_PASSWORD


def sign_in(client, app, username: str) -> str:
    """Sign in through the browser page; returns the CSRF token the admin pages carry."""
    page = client.get("/login").get_data(as_text=True)
    token = page.split('name="csrf_token" value="')[1].split('"')[0]
    response = client.post("/login", data={"username": username, "csrf_token": token,
                                           "password": app.credentials.passwords[username]})
    assert response.status_code == 302
    page = client.get("/login").get_data(as_text=True)
    return page.split('name="csrf_token" value="')[1].split('"')[0]


def text_of(response) -> str:
    return response.get_data(as_text=True)


# ---- validation in the core: every refusal is clear and changes nothing -------------------------

SERVICE = {"code": "HN", "name": "Hôn nhân", "name_en": "Marriage", "prefix": "P", "target_wait_min": "20",
           "default_service_min": "8", "daily_cap": "", "opening_hours": "T2-T6 07:30-11:30, 13:30-17:00"}


@pytest.mark.parametrize("change, code, words", [
    ({"code": "TP"}, "duplicate_code", "Mã lĩnh vực «TP» đã có"),
    ({"prefix": "A"}, "duplicate_prefix", "Chữ đầu «A» đang dùng cho lĩnh vực «Tư pháp – Hộ tịch»"),
    ({"name": "   "}, "required", "Tên lĩnh vực không được để trống"),
    ({"code": ""}, "required", "Mã lĩnh vực không được để trống"),
    ({"code": "HÔN NHÂN"}, "bad_code", "Mã lĩnh vực chỉ gồm chữ A-Z"),
    ({"prefix": "A1"}, "bad_prefix", "Chữ đầu số thứ tự gồm 1–2 chữ cái"),
    ({"prefix": "ABC"}, "too_long", "Chữ đầu số thứ tự dài tối đa 2 ký tự"),
    ({"opening_hours": "T2-T6 07:30-25:00"}, "bad_opening_hours", "Giờ không hợp lệ: «25:00»"),
    ({"opening_hours": "T2 11:00-08:00"}, "bad_opening_hours", "giờ đóng phải sau giờ mở"),
    ({"opening_hours": "T2 08:00-11:00, 10:00-12:00"}, "bad_opening_hours", "chồng lên nhau"),
    ({"opening_hours": "thứ hai 08:00-11:00"}, "bad_opening_hours", "không hiểu ngày"),
    ({"daily_cap": "-1"}, "out_of_range", "Số phiếu tối đa trong ngày phải là số nguyên từ 1"),
    ({"daily_cap": "mười"}, "out_of_range", "không phải «mười»"),
    ({"target_wait_min": "0"}, "out_of_range", "Thời gian chờ mục tiêu (phút) phải là số nguyên từ 1 đến 600"),
])
def test_service_validation_errors_are_clear_and_change_nothing(db, change, code, words):
    before = snapshot_of(db)
    with pytest.raises(admin.ValidationError) as refused:
        admin.create_service(db, CENTRE, None, {**SERVICE, **change})
    assert refused.value.code == code and words in refused.value.message
    assert refused.value.status in (400, 409)
    assert snapshot_of(db) == before


def test_every_mistake_of_a_form_is_reported_at_once(db):
    with pytest.raises(admin.ValidationError) as refused:
        admin.create_service(db, CENTRE, None, {**SERVICE, "prefix": "A", "daily_cap": "-1", "name": "",
                                                "opening_hours": "T2 25:00-26:00"})
    assert set(refused.value.fields) == {"prefix", "daily_cap", "name", "opening_hours"}
    assert len(refused.value.errors) == 4 and refused.value.message.startswith("Có 4 lỗi cần sửa: ")
    assert "Chữ đầu «A» đang dùng" in refused.value.fields["prefix"]


def test_service_create_and_update_are_audited_with_before_and_after(db):
    admin_id = user_id(db, "admin")
    created = admin.create_service(db, CENTRE, admin_id, SERVICE, now=1000.0)
    assert created.result["prefix"] == "P" and created.result["target_wait_s"] == 1200
    assert created.result["opening_hours"]["mon"] == [["07:30", "11:30"], ["13:30", "17:00"]]
    assert "sat" not in created.result["opening_hours"]
    assert {event.name for event in created.events} == {"configuration_changed", "queue_changed"}
    changed = admin.update_service(db, CENTRE, admin_id, created.result["id"],
                                   {**SERVICE, "name": "Hôn nhân – gia đình", "daily_cap": "200"}, now=2000.0)
    assert changed.result["daily_cap"] == 200
    rows = audit_rows(db)
    assert [row["action"] for row in rows] == ["service.create", "service.update"]
    create, update = rows
    assert create["user_id"] == admin_id and create["at"] == 1000.0 and create["centre_id"] == CENTRE
    assert create["detail"]["before"] is None and create["detail"]["after"]["code"] == "HN"
    assert update["detail"]["target"] == {"type": "service", "id": created.result["id"], "code": "HN"}
    assert update["detail"]["before"] == {"name": "Hôn nhân", "daily_cap": None}
    assert update["detail"]["after"] == {"name": "Hôn nhân – gia đình", "daily_cap": 200}
    # the code never changes; an unchanged save writes no audit row
    with pytest.raises(admin.ValidationError, match="Không đổi được mã lĩnh vực"):
        admin.update_service(db, CENTRE, admin_id, created.result["id"], {"code": "XX"})
    admin.update_service(db, CENTRE, admin_id, created.result["id"], {"name": "Hôn nhân – gia đình"})
    assert len(audit_rows(db)) == 2


def test_deactivated_service_keeps_its_history_and_issues_no_tickets(db, queue):
    issued = queue.issue_ticket("GT")
    admin.set_service_active(db, CENTRE, None, service_id(db, "GT"), False)
    assert store.scalar(db, "SELECT COUNT(*) FROM tickets WHERE id = ?", (issued.result["id"],)) == 1
    assert "GT" not in [s["code"] for s in queue.services_overview()]
    assert audit_rows(db)[-1]["action"] == "service.deactivate"
    admin.set_service_active(db, CENTRE, None, service_id(db, "GT"), True)
    assert "GT" in [s["code"] for s in queue.services_overview()]


def test_procedure_validation_and_changes(db):
    before = snapshot_of(db)
    for data, words in [
        ({"code": "TP-01", "service": "TP", "name": "Trùng"}, "Mã thủ tục «TP-01» đã có"),
        ({"code": "TP-99", "service": "ZZ", "name": "Lạ"}, "Không có lĩnh vực «ZZ»"),
        ({"code": "TP-99", "service": "TP", "name": ""}, "Tên thủ tục không được để trống"),
        ({"code": "TP-99", "service": "TP", "name": "Phí âm", "fee_vnd": "-5"}, "Lệ phí (đồng) phải là số nguyên"),
    ]:
        with pytest.raises(admin.ValidationError, match=words.replace("(", r"\(").replace(")", r"\)")):
            admin.create_procedure(db, CENTRE, None, data)
    assert snapshot_of(db) == before
    created = admin.create_procedure(db, CENTRE, None, {"code": "tp-99", "service": "TP", "name": "Đăng ký giám hộ",
                                                        "same_day": "on", "fee_vnd": "0"})
    assert created.result["code"] == "TP-99" and created.result["same_day"] is True
    moved = admin.update_procedure(db, CENTRE, None, created.result["id"], {"service": "CT"})
    assert moved.result["service"] == "CT"
    assert audit_rows(db)[-1]["detail"]["before"] == {"service": "TP"}


def test_counter_validation_and_services(db):
    before = snapshot_of(db)
    for data, code in [({"number": "7", "name": "Quầy 7", "services": ["TP", "ZZ"]}, "unknown_service"),
                       ({"number": "1", "name": "Quầy 1 bis", "services": ["TP"]}, "duplicate_number"),
                       ({"number": "0", "name": "Quầy 0"}, "out_of_range"),
                       ({"number": "7", "name": ""}, "required")]:
        with pytest.raises(admin.ValidationError) as refused:
            admin.create_counter(db, CENTRE, None, data)
        assert refused.value.code == code
    with pytest.raises(admin.ValidationError, match="Quầy phục vụ lĩnh vực không có: «ZZ»"):
        admin.create_counter(db, CENTRE, None, {"number": "7", "name": "Quầy 7", "services": ["ZZ"]})
    assert snapshot_of(db) == before
    created = admin.create_counter(db, CENTRE, None, {"number": "7", "name": "Quầy 7 – Hộ tịch", "floor": "Tầng 3",
                                                      "services": ["TP", "CT"]})
    assert created.result["services"] == ["TP", "CT"] and created.result["floor"] == "Tầng 3"
    changed = admin.update_counter(db, CENTRE, None, created.result["id"], {"services": ["LLTP"]})
    assert changed.result["services"] == ["LLTP"]
    assert [e.name for e in changed.events] == ["configuration_changed", "counter_changed", "queue_changed"]
    assert audit_rows(db)[-1]["detail"] == {"target": {"type": "counter", "id": created.result["id"], "number": 7},
                                            "before": {"services": ["TP", "CT"]}, "after": {"services": ["LLTP"]}}


def test_a_counter_with_a_clerk_at_it_cannot_be_deactivated(db, open_counter):
    counter, _clerk = open_counter(1)
    with pytest.raises(admin.QueueError, match="đang có cán bộ"):
        admin.set_counter_active(db, CENTRE, None, counter, False)
    assert store.scalar(db, "SELECT active FROM counters WHERE id = ?", (counter,)) == 1


def test_user_validation_role_changes_and_password_reset(db):
    admin_id = user_id(db, "admin")
    before = snapshot_of(db)
    for data, code in [({"username": "lan", "role": "clerk", "password": "short1"}, "weak_password"),
                       ({"username": "lan", "role": "clerk", "password": "aaaaaaaaaa"}, "weak_password"),
                       ({"username": "lan", "role": "clerk", "password": "12345678"}, "weak_password"),
                       ({"username": "lan", "role": "clerk", "password": "lan-12345"}, "weak_password"),
                       ({"username": "lan", "role": "boss", "password": "mat-khau-2026"}, "bad_role"),
                       ({"username": "Lan Anh", "role": "clerk"}, "bad_username"),
                       ({"username": "quay1", "role": "clerk"}, "username_taken")]:
        with pytest.raises(admin.ValidationError) as refused:
            admin.create_user(db, CENTRE, admin_id, data)
        assert refused.value.code == code, data
    assert snapshot_of(db) == before
    with pytest.raises(admin.ValidationError, match="Vai trò «boss» không có"):
        admin.create_user(db, CENTRE, admin_id, {"username": "lan", "role": "boss"})

    created = admin.create_user(db, CENTRE, admin_id, {"username": "lan", "role": "manager", "display_name": "Chị Lan"})
    password = created.result["password"]
    assert password and accounts.authenticate(db, "lan", password)["role"] == "manager"
    lan = created.result["user"]["id"]
    assert admin.update_user(db, CENTRE, admin_id, lan, {"role": "clerk"}).result["role"] == "clerk"
    token = accounts.issue_staff_token(db, lan, 0)
    reset = admin.reset_password(db, CENTRE, admin_id, lan)
    assert reset.result["password"] != password
    assert accounts.authenticate(db, "lan", password) is None
    assert accounts.authenticate(db, "lan", reset.result["password"]) is not None
    assert accounts.principal_for_token(db, token, 1) is None  # a reset ends the old sign-ins
    with pytest.raises(admin.ValidationError) as refused:
        admin.reset_password(db, CENTRE, admin_id, lan, "password")
    assert refused.value.code == "weak_password"
    actions = [row["action"] for row in audit_rows(db)]
    assert actions == ["user.create", "user.update", "user.reset_password"]
    assert all(password not in json.dumps(row["detail"]) for row in audit_rows(db))
    assert all("password_hash" not in json.dumps(row["detail"]) for row in audit_rows(db))


def test_the_last_admin_stays_and_nobody_locks_themselves_out(db):
    admin_id = user_id(db, "admin")
    with pytest.raises(admin.QueueError) as refused:
        admin.update_user(db, CENTRE, admin_id, admin_id, {"role": "manager"})
    assert refused.value.code == "last_admin"
    with pytest.raises(admin.QueueError) as refused:
        admin.set_user_active(db, CENTRE, admin_id, admin_id, False)
    assert refused.value.code == "self_deactivate"
    with pytest.raises(admin.QueueError) as refused:
        admin.set_user_active(db, CENTRE, None, admin_id, False)
    assert refused.value.code == "last_admin"
    other = admin.create_user(db, CENTRE, admin_id, {"username": "admin2", "role": "admin"}).result["user"]["id"]
    assert admin.update_user(db, CENTRE, admin_id, admin_id, {"role": "manager"}).result["role"] == "manager"
    with pytest.raises(admin.QueueError) as refused:
        admin.update_user(db, CENTRE, admin_id, other, {"role": "clerk"})
    assert refused.value.code == "last_admin"


def test_deactivating_a_clerk_at_a_counter_closes_it_and_returns_the_ticket(db, queue, open_counter):
    counter, clerk = open_counter(1)
    ticket = queue.issue_ticket("TP").result
    queue.call_next(counter, clerk)
    outcome = admin.set_user_active(db, CENTRE, user_id(db, "admin"), clerk, False)
    assert outcome.result["active"] is False
    assert store.one(db, "SELECT state, clerk_id FROM counters WHERE id = ?", (counter,)) == \
        {"state": "closed", "clerk_id": None}
    assert queue.ticket(ticket["id"])["status"] == "waiting"
    assert accounts.user_by_id(db, clerk) is None


@pytest.mark.parametrize("settings, code, words", [
    ({"announcement_template": "Mời số {so} đến {phong}"}, "bad_template", "chỗ trống không hợp lệ: {phong}"),
    ({"announcement_template": "Mời đến quầy {quay}"}, "bad_template", "phải có số thứ tự"),
    ({"announcement_template": "Mời {so"}, "bad_template", "không khớp"),
    ({"priority_ratio": -1}, "out_of_range", "Tỉ lệ ưu tiên"),
    ({"recall_limit": 11}, "out_of_range", "từ 1 đến 10"),
    ({"no_show_after_recalls": 11}, "out_of_range", "Số lần gọi lại tối đa"),  # the old name is still checked
    ({"no_show_restore_minutes": -1}, "out_of_range", "khôi phục số vắng mặt"),
    ({"no_show_restore_place": "front"}, "bad_restore_place", "behind_waiting"),
    ({"announcement_repeat": "0"}, "out_of_range", "từ 1 đến 5"),
    ({"notice": "x" * 301}, "too_long", "dài tối đa 300 ký tự"),
    ({"language": "fr"}, "bad_language", "vi hoặc en"),
    ({"voice": "robot"}, "bad_voice", "Giọng đọc"),
    ({"voice_rate": 20}, "out_of_range", "Tốc độ đọc"),
    ({"alert_wait_minutes": -5}, "out_of_range", "Cảnh báo khi một số chờ quá"),
    ({"kiosk_tickets_per_minute": 0}, "out_of_range", "Số phiếu tối đa mỗi phút"),
    ({"citizen_retention_days": "ba mươi"}, "out_of_range", "Số ngày giữ thông tin công dân"),
    ({"timezone": "Asia/Sai_Gon"}, "bad_timezone", "Múi giờ «Asia/Sai_Gon» không có"),
    ({"name": ""}, "required", "Tên trung tâm không được để trống"),
    ({"colour": "red"}, "unknown_setting", "Không có thiết lập «colour»"),
])
def test_settings_validation_errors_change_nothing(db, settings, code, words):
    before = snapshot_of(db)
    with pytest.raises(admin.ValidationError) as refused:
        admin.update_settings(db, CENTRE, None, {"notice": "Giữ trật tự", **settings})
    assert refused.value.code == code and words in refused.value.message
    assert snapshot_of(db) == before


def test_settings_change_is_audited_and_used_by_the_queue(db, queue, open_counter):
    outcome = admin.update_settings(db, CENTRE, user_id(db, "admin"), {
        "notice": "  Trung tâm nghỉ trưa từ 11:30  ", "announcement_template": "Mời số {so} tới quầy {quay}",
        "priority_ratio": "2", "alert_wait_minutes": "25"})
    assert outcome.result["notice"] == "Trung tâm nghỉ trưa từ 11:30" and outcome.result["priority_ratio"] == 2
    notice = [e for e in outcome.events if e.name == "notice_changed"]
    assert notice and notice[0].payload == {"notice": "Trung tâm nghỉ trưa từ 11:30"} and notice[0].rooms == ("*",)
    row = audit_rows(db, "settings.update")[0]
    assert row["detail"]["before"]["notice"] == "" and row["detail"]["after"]["priority_ratio"] == 2
    counter, clerk = open_counter(1)
    queue = type(queue)(db, CENTRE, queue.clock)  # settings are read when a QueueService is made
    queue.issue_ticket("TP")
    called = queue.call_next(counter, clerk)
    call = [e for e in called.events if e.name == "ticket_called"][0]
    assert call.payload["announcement"]["text"].startswith("Mời số A không không một tới quầy một")
    assert queue.queue_state()["notice"] == "Trung tâm nghỉ trưa từ 11:30"
    # an empty template means the default sentence again
    admin.update_settings(db, CENTRE, None, {"announcement_template": ""})
    assert admin.centre_settings_view(db, CENTRE)["announcement_template"] is None


def test_devices_token_shown_once_and_revoked(db):
    outcome = admin.create_device(db, CENTRE, None, {"name": "Màn hình tầng 2", "kind": "display"})
    token = outcome.result["token"]
    device = outcome.result["device"]
    assert "token" not in device and accounts.principal_for_token(db, token, 0).role == "display"
    assert token not in json.dumps(audit_rows(db))
    admin.revoke_device(db, CENTRE, None, device["id"])
    assert accounts.principal_for_token(db, token, 0) is None
    with pytest.raises(admin.QueueError) as refused:
        admin.revoke_device(db, CENTRE, None, device["id"])
    assert refused.value.code == "already_revoked"
    for data, code in [({"name": "", "kind": "kiosk"}, "required"), ({"name": "X", "kind": "tivi"}, "bad_kind"),
                       ({"name": "X", "kind": "counter"}, "required"),
                       ({"name": "X", "kind": "counter", "counter": "42"}, "unknown_counter"),
                       ({"name": "X", "kind": "display", "printer_uri": "network://1.2.3.4:9100"}, "invalid")]:
        with pytest.raises(admin.ValidationError) as refused:
            admin.create_device(db, CENTRE, None, data)
        assert refused.value.code == code, data


def test_priority_groups(db):
    with pytest.raises(admin.ValidationError) as refused:
        admin.create_priority_group(db, CENTRE, None, {"code": "NCT", "name": "Trùng"})
    assert refused.value.code == "duplicate_code"
    group = admin.create_priority_group(db, CENTRE, None, {"code": "HEN", "name": "Có lịch hẹn",
                                                           "sort_order": "9"}).result
    assert group["code"] == "HEN" and group["sort_order"] == 9
    admin.set_priority_group_active(db, CENTRE, None, group["id"], False)
    assert "HEN" not in [g["code"] for g in store.priority_groups(db, CENTRE)]


def test_opening_hours_text_round_trip():
    hours = admin.parse_opening_hours("t2-t6 7:30-11:30, 13:30-17:00; T7 07:30–11:30")
    assert hours == {day: [["07:30", "11:30"], ["13:30", "17:00"]] for day in ("mon", "tue", "wed", "thu", "fri")} | \
        {"sat": [["07:30", "11:30"]]}
    assert admin.format_opening_hours(hours) == "T2-T6 07:30-11:30, 13:30-17:00; T7 07:30-11:30"
    assert admin.format_opening_hours(hours, "en") == "mon-fri 07:30-11:30, 13:30-17:00; sat 07:30-11:30"
    assert admin.parse_opening_hours(admin.format_opening_hours(hours, "en")) == hours
    assert admin.parse_opening_hours("") is None and admin.parse_opening_hours("mon-sun 00:00-24:00")["sun"]


# ---- configuration file -----------------------------------------------------------------------

def test_export_import_round_trip_is_identical(db):
    exported = admin.export_configuration(db, CENTRE)
    assert {"centre", "services", "priority_groups", "counters", "holidays", "life_events",
            "vocabulary"} == set(exported)
    assert exported["services"][0]["procedures"] and exported["counters"][0]["services"] == ["TP", "CT", "TKQ"]
    # The assistant's vocabulary travels with the file (issue 13).
    assert len(exported["services"][0]["procedures"][0]["phrasings"]) >= 10
    assert exported["life_events"][1]["code"] == "death"
    assert exported["life_events"][1]["procedures"] == ["TP-03", "CT-R05", "BT-03"]
    json.dumps(exported)  # a file
    outcome = admin.import_configuration(db, CENTRE, json.loads(json.dumps(exported)), user_id(db, "admin"))
    assert outcome.result["changes"] == 0
    assert admin.export_configuration(db, CENTRE) == exported
    assert audit_rows(db, "configuration.import")


def test_export_loads_into_an_empty_database(db, tmp_path):
    exported = admin.export_configuration(db, CENTRE)
    fresh = store.connect(tmp_path / "fresh.sqlite3")
    store.migrate(fresh)
    assert centre.load_configuration(fresh, exported, 0) == CENTRE
    assert admin.export_configuration(fresh, CENTRE) == exported
    fresh.conn.close()


def test_import_updates_by_code_adds_new_and_deletes_nothing(db, queue):
    queue.issue_ticket("TP")
    before = admin.export_configuration(db, CENTRE)
    config = json.loads(json.dumps(before))
    tp, ct = config["services"][0], config["services"][1]
    tp["prefix"], ct["prefix"] = ct["prefix"], tp["prefix"]  # swapped prefixes are fine
    tp["name"] = "Tư pháp – Hộ tịch (mới)"
    tp["procedures"] = [{"code": "TP-01", "name": "Đăng ký khai sinh (sửa)"},
                        {"code": "TP-NEW", "name": "Thủ tục mới", "fee_vnd": 10000}]
    config["services"] = [tp, ct, {"code": "HN", "name": "Hôn nhân", "prefix": "P", "opening_hours": "T2 08:00-11:00"}]
    config["counters"] = [{"number": 1, "services": ["TP", "HN"]}, {"number": 9, "name": "Quầy 9", "services": ["HN"]}]
    config["priority_groups"] = []
    config["centre"]["settings"] = {"notice": "Cấu hình mới"}
    outcome = admin.import_configuration(db, CENTRE, config, user_id(db, "admin"))
    names = {e.name for e in outcome.events}
    assert {"configuration_changed", "queue_changed", "notice_changed"} <= names
    after = admin.export_configuration(db, CENTRE)
    services = {s["code"]: s for s in after["services"]}
    assert services["TP"]["prefix"] == "B" and services["CT"]["prefix"] == "A"
    assert services["HN"]["opening_hours"] == {"mon": [["08:00", "11:00"]]}
    assert len(after["services"]) == len(before["services"]) + 1  # nothing missing from the file was deleted
    procedures = {p["code"]: p for p in services["TP"]["procedures"]}
    assert procedures["TP-01"]["name"] == "Đăng ký khai sinh (sửa)" and procedures["TP-01"]["same_day"] is True
    assert "TP-NEW" in procedures and len(procedures) == len(before["services"][0]["procedures"]) + 1
    counters = {c["number"]: c for c in after["counters"]}
    assert counters[1]["services"] == ["TP", "HN"] and counters[1]["name"] == before["counters"][0]["name"]
    assert counters[9]["services"] == ["HN"] and len(counters) == 7
    assert after["priority_groups"] == before["priority_groups"]
    assert after["centre"]["settings"]["notice"] == "Cấu hình mới"
    assert store.scalar(db, "SELECT COUNT(*) FROM tickets") == 1
    row = audit_rows(db, "configuration.import")[0]
    assert row["detail"]["summary"]["services"] == {"added": 1, "updated": 2}
    assert {"section": "services", "key": "TP", "before": {"name": "Tư pháp – Hộ tịch", "prefix": "A"},
            "after": {"name": "Tư pháp – Hộ tịch (mới)", "prefix": "B"}} in row["detail"]["changes"]


def test_a_bad_file_is_refused_whole_with_every_error_listed(db):
    before = snapshot_of(db)
    config = admin.export_configuration(db, CENTRE)
    config["services"][0]["name"] = "Tên mới sẽ không được lưu"
    config["services"][1]["prefix"] = "A"
    config["services"][2]["daily_cap"] = -3
    config["services"][3]["opening_hours"] = "T2 25:00-26:00"
    config["counters"][0]["services"] = ["TP", "ZZ"]
    config["counters"].append(dict(config["counters"][1]))
    config["centre"]["settings"]["announcement_template"] = "Mời {khach}"
    config["centre"]["settings"]["priority_ratio"] = -1
    with pytest.raises(admin.ValidationError) as refused:
        admin.import_configuration(db, CENTRE, config, None)
    errors = refused.value.errors
    assert len(errors) == 7, errors
    joined = " | ".join(errors)
    for words in ("Chữ đầu «A» dùng cho nhiều lĩnh vực: CT, TP", "lĩnh vực CA_CT: Số phiếu tối đa",
                  "Giờ không hợp lệ: «25:00»", "quầy 1: phục vụ lĩnh vực không có: ZZ",
                  "quầy 2: số quầy bị lặp", "centre.announcement_template", "centre.priority_ratio"):
        assert words in joined
    assert "chưa thay đổi gì" in refused.value.message
    assert snapshot_of(db) == before
    for bad in (None, [], {"services": []}, {"centre": {"name": "X"}, "extra": 1}):
        with pytest.raises(admin.ValidationError):
            admin.import_configuration(db, CENTRE, bad, None)
    assert snapshot_of(db) == before


# ---- pages and API: who may, CSRF, messages on the page --------------------------------------

ADMIN_PAGES = ["/manager/admin/", "/manager/admin/services", "/manager/admin/procedures", "/manager/admin/counters",
               "/manager/admin/priority_groups", "/manager/admin/users", "/manager/admin/devices",
               "/manager/admin/settings", "/manager/admin/audit", "/manager/admin/configuration",
               "/manager/admin/services/1", "/manager/admin/counters/1", "/manager/admin/users/1"]


def test_anonymous_is_sent_to_sign_in_and_clerks_are_refused(app, client):
    for page in ADMIN_PAGES:
        response = client.get(page)
        assert response.status_code == 302 and response.headers["Location"].startswith("/login?next=")
    response = client.post("/manager/admin/services", data={"code": "HN"})
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    sign_in(client, app, "quay1")
    for page in ADMIN_PAGES:
        assert client.get(page).status_code == 403


def test_managers_may_look_but_not_change(app, client, api):
    add_manager(app)
    db = app_db(app)
    before = snapshot_of(db)
    csrf = sign_in(client, app, "lan")
    for page in ADMIN_PAGES:
        response = client.get(page)
        assert response.status_code == 200, page
    services = text_of(client.get("/manager/admin/services"))
    assert "Chỉ tài khoản quản trị (admin) được thay đổi" in services and 'name="prefix"' not in services
    for url, data in [("/manager/admin/services", {"code": "HN", "name": "Hôn nhân", "prefix": "P"}),
                      ("/manager/admin/services/1", {"name": "Đổi tên"}),
                      ("/manager/admin/services/1/active", {"active": "0"}),
                      ("/manager/admin/users/1/password", {}),
                      ("/manager/admin/devices/1/revoke", {}),
                      ("/manager/admin/settings", {"notice": "x"}),
                      ("/manager/admin/configuration", {})]:
        assert client.post(url, data={"csrf_token": csrf, **data}).status_code == 403, url
    manager, clerk = api.headers("lan"), api.headers("quay1")
    assert client.get("/api/v1/admin/services", headers=manager).status_code == 200
    assert client.get("/api/v1/admin/services", headers=clerk).status_code == 403
    assert app.test_client().get("/api/v1/admin/services").status_code == 401
    anonymous = app.test_client()
    for headers, status in [(manager, 403), (clerk, 403), ({}, 401), (api.headers(), 403)]:
        caller = anonymous if not headers else client
        for method, url, body in [("post", "/api/v1/admin/services", {"code": "HN", "name": "H", "prefix": "P"}),
                                  ("patch", "/api/v1/admin/services/1", {"name": "Đổi"}),
                                  ("post", "/api/v1/admin/devices/1/revoke", None),
                                  ("post", "/api/v1/admin/users/2/reset-password", None),
                                  ("patch", "/api/v1/admin/settings", {"notice": "x"}),
                                  ("put", "/api/v1/admin/configuration", admin.export_configuration(db, CENTRE))]:
            response = getattr(caller, method)(url, json=body, headers=headers)
            assert response.status_code == status, (url, headers, response.get_json())
    assert snapshot_of(db) == before
    db.conn.close()


def test_admin_form_errors_are_shown_in_vietnamese_with_the_typed_values_kept(app, client):
    csrf = sign_in(client, app, "admin")
    form = {"csrf_token": csrf, "code": "HN", "name": "Hôn nhân – gia đình", "name_en": "Marriage",
            "prefix": "P", "target_wait_min": "20", "default_service_min": "8", "daily_cap": "-1",
            "opening_hours": "T2-T6 07:30-25:00", "sort_order": "3"}
    response = client.post("/manager/admin/services", data=form)
    page = text_of(response)
    assert response.status_code == 400 and 'lang="vi"' in page
    assert "Chưa lưu được, hãy sửa lỗi sau:" in page and "Giờ không hợp lệ: «25:00»" in page
    assert "Số phiếu tối đa trong ngày phải là số nguyên từ 1" in page  # every mistake at once
    assert page.count('aria-invalid="true"') == 2
    for value in ("Hôn nhân – gia đình", "T2-T6 07:30-25:00", 'value="-1"', 'value="P"'):
        assert value in page  # nothing the admin typed is lost
    db = app_db(app)
    assert service_id(db, "HN") is None
    response = client.post("/manager/admin/services", data={**form, "opening_hours": "T2-T6 07:30-11:30"})
    assert response.status_code == 400 and "Số phiếu tối đa trong ngày phải là số nguyên" in text_of(response)
    response = client.post("/manager/admin/services", data={**form, "opening_hours": "T2-T6 07:30-11:30",
                                                            "daily_cap": ""})
    assert response.status_code == 302 and response.headers["Location"] == "/manager/admin/services"
    assert "Đã lưu." in text_of(client.get("/manager/admin/services"))
    new_id = service_id(db, "HN")
    row = audit_rows(db, "service.create")[0]
    assert row["user_id"] == user_id(db, "admin") and row["detail"]["after"]["target_wait_s"] == 1200
    # edit page: same behaviour, and the code is read-only
    response = client.post(f"/manager/admin/services/{new_id}", data={**form, "name": "", "daily_cap": "",
                                                                      "opening_hours": ""})
    page = text_of(response)
    assert response.status_code == 400 and "Tên lĩnh vực không được để trống" in page
    assert store.scalar(db, "SELECT name FROM services WHERE id = ?", (new_id,)) == "Hôn nhân – gia đình"
    response = client.post(f"/manager/admin/services/{new_id}", data={**form, "prefix": "A", "daily_cap": "",
                                                                      "opening_hours": ""})
    assert response.status_code == 409 and "Chữ đầu «A» đang dùng" in text_of(response)
    # without the CSRF token nothing happens
    response = client.post(f"/manager/admin/services/{new_id}/active", data={"active": "0"})
    assert response.status_code == 403
    assert client.post(f"/manager/admin/services/{new_id}/active",
                       data={"csrf_token": csrf, "active": "0"}).status_code == 302
    assert store.scalar(db, "SELECT active FROM services WHERE id = ?", (new_id,)) == 0
    assert "Ngừng sử dụng" in text_of(client.get("/manager/admin/services/1"))
    english = text_of(client.get("/manager/admin/services?lang=en"))
    assert 'lang="en"' in english and "<h1>Services</h1>" in english and "Target wait (min)" in english
    db.conn.close()


def test_counter_page_rejects_an_unknown_service(app, client):
    csrf = sign_in(client, app, "admin")
    response = client.post("/manager/admin/counters", data={"csrf_token": csrf, "number": "7", "name": "Quầy 7",
                                                            "floor": "Tầng 3", "services": ["TP", "ZZ"]})
    assert response.status_code == 400
    assert "Quầy phục vụ lĩnh vực không có: «ZZ»" in text_of(response)
    response = client.post("/manager/admin/counters", data={"csrf_token": csrf, "number": "7", "name": "Quầy 7",
                                                            "floor": "Tầng 3", "services": ["TP", "GT"]})
    assert response.status_code == 302
    counters = client.get("/api/v1/queue", headers={"Authorization": "Bearer " + app.credentials.kiosk_token})
    assert 7 in [c["number"] for c in counters.get_json()["counters"]]


def test_user_pages_show_a_generated_password_once(app, client, api):
    csrf = sign_in(client, app, "admin")
    response = client.post("/manager/admin/users", data={"csrf_token": csrf, "username": "lan",
                                                         "display_name": "Chị Lan", "role": "manager",
                                                         "password": "12345678"})
    assert response.status_code == 400 and "Mật khẩu quá dễ đoán" in text_of(response)
    response = client.post("/manager/admin/users", data={"csrf_token": csrf, "username": "lan",
                                                         "display_name": "Chị Lan", "role": "chief", "password": ""})
    assert response.status_code == 400 and "Vai trò «chief» không có" in text_of(response)
    response = client.post("/manager/admin/users", data={"csrf_token": csrf, "username": "lan",
                                                         "display_name": "Chị Lan", "role": "manager", "password": ""})
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    password = text_of(response).split('id="secret-value">')[1].split("<")[0]
    app.credentials.passwords["lan"] = password
    token = api.token("lan")
    db = app_db(app)
    lan = user_id(db, "lan")
    response = client.post(f"/manager/admin/users/{lan}/password", data={"csrf_token": csrf, "password": ""})
    new_password = text_of(response).split('id="secret-value">')[1].split("<")[0]
    assert new_password != password
    assert client.get("/api/v1/admin/services", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    app.credentials.passwords["lan"] = new_password
    token = api.token("lan")
    assert client.post(f"/manager/admin/users/{lan}/active", data={"csrf_token": csrf, "active": "0"}).status_code == 302
    assert client.get("/api/v1/admin/services", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    # the admin cannot lock themself out: the refusal is on the page
    me = user_id(db, "admin")
    response = client.post(f"/manager/admin/users/{me}/active", data={"csrf_token": csrf, "active": "0"})
    assert response.status_code == 409 and "Không thể tự khoá tài khoản của chính mình" in text_of(response)
    actions = [row["action"] for row in audit_rows(db)]
    assert actions == ["user.create", "user.reset_password", "user.deactivate"]
    db.conn.close()


def test_device_revoke_makes_its_token_useless(app, client, api):
    admin_headers = api.headers("admin")
    response = client.post("/api/v1/admin/devices", json={"name": "Kiosk tầng 2", "kind": "kiosk",
                                                           "printer_uri": "network://192.0.2.10:9100"},
                           headers=admin_headers)
    assert response.status_code == 201
    token, device = response.get_json()["token"], response.get_json()["device"]
    kiosk = {"Authorization": f"Bearer {token}"}
    assert client.post("/api/v1/tickets", json={"service": "TP"}, headers=kiosk).status_code == 201
    screen = web.socketio.test_client(app, auth={"token": token})
    assert screen.is_connected()
    bad = client.post("/api/v1/admin/devices", json={"name": "Kiosk", "kind": "kiosk", "printer_uri": "lpt1"},
                      headers=admin_headers)
    assert bad.status_code == 400 and bad.get_json()["code"] == "bad_printer" and bad.get_json()["field"] == "printer_uri"
    assert client.post(f"/api/v1/admin/devices/{device['id']}/revoke", headers=admin_headers).status_code == 200
    refused = client.post("/api/v1/tickets", json={"service": "TP"}, headers=kiosk)
    assert refused.status_code == 401
    assert not screen.is_connected()
    assert not web.socketio.test_client(app, auth={"token": token}).is_connected()
    again = client.post(f"/api/v1/admin/devices/{device['id']}/revoke", headers=admin_headers)
    assert again.status_code == 409
    db = app_db(app)
    revoke = audit_rows(db, "device.revoke")[0]
    assert revoke["user_id"] == user_id(db, "admin") and revoke["detail"]["after"] == {"revoked": True}
    db.conn.close()


def test_device_page_shows_the_token_and_kiosk_link_once(app, client):
    csrf = sign_in(client, app, "admin")
    response = client.post("/manager/admin/devices", data={"csrf_token": csrf, "name": "Kiosk tầng 3",
                                                           "kind": "kiosk", "printer_uri": "usb://zz", "counter": ""})
    assert response.status_code == 400 and "Địa chỉ máy in không hợp lệ" in text_of(response)
    response = client.post("/manager/admin/devices", data={"csrf_token": csrf, "name": "Kiosk tầng 3",
                                                           "kind": "kiosk", "printer_uri": "none", "counter": ""})
    page = text_of(response)
    token = page.split('id="secret-value">')[1].split("<")[0]
    assert f"/kiosk#token={token}" in page and response.headers["Cache-Control"] == "no-store"
    assert token not in text_of(client.get("/manager/admin/devices"))


def test_api_validation_errors_are_json_with_the_field(app, client, api):
    headers = api.headers("admin")
    response = client.post("/api/v1/admin/services", json={"code": "HN", "name": "Hôn nhân", "prefix": "A"},
                           headers=headers)
    assert response.status_code == 409
    assert response.get_json() == {"error": response.get_json()["error"], "code": "duplicate_prefix",
                                   "field": "prefix"}
    response = client.post("/api/v1/admin/services", json={"code": "HN", "name": "", "prefix": "A1"},
                           headers=headers)
    assert response.status_code == 400 and set(response.get_json()["fields"]) == {"name", "prefix"}
    response = client.post("/api/v1/admin/services", json={"code": "HN", "colour": "red"}, headers=headers)
    assert response.status_code == 400 and response.get_json()["code"] == "unknown_fields"
    response = client.patch("/api/v1/admin/settings", json={"priority_ratio": -1}, headers=headers)
    assert response.status_code == 400 and "Tỉ lệ ưu tiên" in response.get_json()["error"]
    response = client.patch("/api/v1/admin/services/9999", json={"name": "X"}, headers=headers)
    assert response.status_code == 404
    created = client.post("/api/v1/admin/procedures", json={"code": "TP-77", "service": "TP", "name": "Mới"},
                          headers=headers)
    assert created.status_code == 201 and created.get_json()["service"] == "TP"


def test_notice_change_is_pushed_to_every_screen(app, client):
    display = web.socketio.test_client(app)
    display.get_received()
    csrf = sign_in(client, app, "admin")
    values = dict(admin.SETTING_DEFAULTS, name="Trung tâm", name_en="Centre", timezone="Asia/Ho_Chi_Minh",
                  notice="Hôm nay làm việc đến 17 giờ", announcement_template="")
    response = client.post("/manager/admin/settings", data={"csrf_token": csrf, **{k: str(v) for k, v in values.items()}})
    assert response.status_code == 302
    received = display.get_received()
    notice = [m["args"][0] for m in received if m["name"] == "notice_changed"]
    assert notice == [{"notice": "Hôm nay làm việc đến 17 giờ"}]
    response = client.post("/manager/admin/settings",
                           data={"csrf_token": csrf, **{k: str(v) for k, v in values.items()}, "notice": "x" * 301,
                                 "announcement_template": "Mời {so} {phong}"})
    page = text_of(response)
    assert response.status_code == 400 and "x" * 301 in page and "Mời {so} {phong}" in page
    assert "dài tối đa 300 ký tự" in page
    assert [m for m in display.get_received() if m["name"] == "notice_changed"] == []


def test_procedure_changes_rebuild_the_kiosk_assistant(app, client, api):
    assert client.post("/api/v1/assistant/ask", json={"text": "khai sinh"}).status_code == 200
    assert "luot_assistant" in app.extensions
    response = client.post("/api/v1/admin/procedures", json={"code": "TP-88", "service": "TP",
                                                             "name": "Cấp bản sao trích lục khai tử"},
                           headers=api.headers("admin"))
    assert response.status_code == 201
    assert "luot_assistant" not in app.extensions


def test_configuration_download_and_upload_through_the_page(app, client):
    csrf = sign_in(client, app, "admin")
    download = client.get("/manager/admin/configuration.json")
    assert download.status_code == 200 and "attachment" in download.headers["Content-Disposition"]
    config = json.loads(download.get_data(as_text=True))
    config["services"][0]["name"] = "Tư pháp – Hộ tịch (đã sửa)"
    upload = json.dumps(config, ensure_ascii=False).encode()
    response = client.post("/manager/admin/configuration", content_type="multipart/form-data",
                           data={"csrf_token": csrf, "file": (io.BytesIO(upload), "centre.json")})
    assert response.status_code == 302
    again = json.loads(client.get("/manager/admin/configuration.json").get_data(as_text=True))
    assert again == config
    response = client.post("/manager/admin/configuration", content_type="multipart/form-data",
                           data={"csrf_token": csrf, "file": (io.BytesIO(b"{not json"), "centre.json")})
    assert response.status_code == 400 and "Tệp không phải JSON hợp lệ" in text_of(response)
    config["counters"][0]["services"] = ["NOPE"]
    response = client.post("/manager/admin/configuration", content_type="multipart/form-data",
                           data={"csrf_token": csrf, "file": (io.BytesIO(json.dumps(config).encode()), "c.json")})
    assert response.status_code == 400 and "phục vụ lĩnh vực không có: NOPE" in text_of(response)
    assert json.loads(client.get("/manager/admin/configuration.json").get_data(as_text=True)) == again
    audit_page = text_of(client.get("/manager/admin/audit"))
    assert "Nhập cấu hình" in audit_page and "Quản trị" in audit_page


def test_a_large_configuration_file_imports_through_the_page(app, client):
    csrf = sign_in(client, app, "admin")
    config = json.loads(client.get("/manager/admin/configuration.json").get_data(as_text=True))
    config["services"][0]["procedures"] += [{"code": f"TP-X{n:03d}", "name": f"Thủ tục thử số {n} " + "đ" * 250}
                                            for n in range(300)]
    upload = json.dumps(config, ensure_ascii=False).encode()
    assert len(upload) > 2 * 64 * 1024  # far above the API's usual request limit
    response = client.post("/manager/admin/configuration", content_type="multipart/form-data",
                           data={"csrf_token": csrf, "file": (io.BytesIO(upload), "centre.json")})
    assert response.status_code == 302
    assert len(client.get("/api/v1/services").get_json()[0]["procedures"]) > 300


def test_api_configuration_round_trip(app, client, api):
    headers = api.headers("admin")
    exported = client.get("/api/v1/admin/configuration", headers=headers).get_json()
    response = client.put("/api/v1/admin/configuration", json=exported, headers=headers)
    assert response.status_code == 200 and response.get_json()["changes"] == 0
    assert client.get("/api/v1/admin/configuration", headers=headers).get_json() == exported
    exported["services"][0]["prefix"] = "B"
    response = client.put("/api/v1/admin/configuration", json=exported, headers=headers)
    body = response.get_json()
    assert response.status_code == 400 and body["code"] == "bad_configuration" and len(body["errors"]) == 1
    audit = client.get("/api/v1/admin/audit", headers=headers).get_json()
    assert audit[0]["action"] == "configuration.import" and audit[0]["username"] == "admin"


def test_an_old_configuration_file_with_the_old_recall_setting_name_still_imports(db):
    config = admin.export_configuration(db, CENTRE)
    config["centre"]["settings"] = {"no_show_after_recalls": 5}
    admin.import_configuration(db, CENTRE, config, user_id(db, "admin"))
    stored = store.centre(db, CENTRE)["settings"]
    assert stored["recall_limit"] == 5 and "no_show_after_recalls" not in stored
    assert admin.centre_settings_view(db, CENTRE)["recall_limit"] == 5


def test_the_recall_limit_migration_renames_the_key_in_existing_centres(tmp_path):
    from queueing.schema import migrations
    db = store.connect(tmp_path / "old.sqlite3")
    # an existing database as shipped before the rename: every migration up to 0004 applied
    migrations.apply(db, stop_before="0005_stranded_recall_limit")
    db.execute("INSERT INTO centres (id, name, settings, created_at) VALUES ('old', 'Cũ', ?, 0)",
               ['{"no_show_after_recalls":4,"notice":"Xin chào"}'])
    migrations.apply(db)
    assert store.centre(db, "old")["settings"] == {"recall_limit": 4, "notice": "Xin chào"}
    db.conn.close()
