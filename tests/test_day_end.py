"""The day ends (issue 11): expiry at closing time and midnight, holidays, the cut-off, and what reads them.

Real parts only: the demo centre's SQLite file, QueueService, the Flask test client, an injected clock.
"""
from __future__ import annotations

import csv
import io
import json
from datetime import date, datetime, timezone

import pytest

from queueing import accounts, admin, centre, closing, holidays, maintenance, stats, store
from queueing.closing import DayCloser
from queueing.forecast import WALK_UP_S
from queueing.model import Conflict, TicketStatus
from queueing.service import QueueService
from tests.conftest import VN, FakeClock, clerk_id, counter_id

WEEKDAY_HOURS = {day: [["07:30", "11:30"], ["13:00", "17:00"]] for day in ("mon", "tue", "wed", "thu", "fri")}


def set_hours(db, hours: dict | None, centre_id: str = centre.DEMO_CENTRE_ID) -> None:
    """Give every service of the centre the same opening hours, as an administrator would."""
    admin_id = store.scalar(db, "SELECT id FROM users WHERE username = 'admin'")
    for service in store.services(db, centre_id):
        admin.update_service(db, centre_id, admin_id, service["id"], {"opening_hours": hours})


def status_of(db, ticket_id: str) -> str:
    return store.scalar(db, "SELECT status FROM tickets WHERE id = ?", (ticket_id,))


def expiry_events(db, ticket_id: str) -> list[dict]:
    return store.all_rows(db, "SELECT kind, from_status, to_status FROM ticket_events "
                              "WHERE ticket_id = ? AND kind = 'expired'", (ticket_id,))


def closer(db_path, clock) -> DayCloser:
    return DayCloser(db_path, centre.DEMO_CENTRE_ID, clock)


# ---- the state machine -----------------------------------------------------------------------------

def test_expired_is_reached_from_waiting_and_called_only():
    from queueing.transitions import InvalidTransition, next_status
    assert next_status("expire", "waiting") == TicketStatus.EXPIRED
    assert next_status("expire", "called") == TicketStatus.EXPIRED
    for status in ("serving", "done", "no_show", "expired"):
        with pytest.raises(InvalidTransition):
            next_status("expire", status)
    with pytest.raises(InvalidTransition) as refused:
        next_status("call", "expired")
    assert "đã hết hạn" in refused.value.message


# ---- a whole day, midnight close across the UTC boundary -------------------------------------------

def test_a_whole_day_ends_at_local_midnight_which_is_17_utc(db, db_path, queue, clock, open_counter):
    counter, clerk = open_counter(1)
    tick = closer(db_path, clock)
    assert tick.tick() == 0  # the start-up run: nothing left from earlier days
    morning = queue.issue_ticket("TP").result
    served = queue.call_next(counter, clerk).result["ticket"]
    queue.start(served["id"], counter, clerk)
    other_counter, other_clerk = open_counter(2)
    clock.set_local("2026-11-24 23:30")
    late = queue.issue_ticket("TP").result
    called = queue.call_next(other_counter, other_clerk).result["ticket"]
    assert called["id"] == late["id"]
    waiting = queue.issue_ticket("TP").result
    clock.set_local("2026-11-24 23:59")
    assert tick.tick() is None  # no closing moment passed since the last run

    clock.set_local("2026-11-25 00:00")
    assert datetime.fromtimestamp(clock(), timezone.utc).strftime("%Y-%m-%d %H:%M") == "2026-11-24 17:00"
    assert tick.tick() == 2
    assert status_of(db, called["id"]) == "expired"
    assert status_of(db, waiting["id"]) == "expired"
    assert status_of(db, served["id"]) == "serving"  # being served: left to finish
    assert expiry_events(db, called["id"]) == [{"kind": "expired", "from_status": "called", "to_status": "expired"}]
    assert expiry_events(db, waiting["id"]) == [{"kind": "expired", "from_status": "waiting", "to_status": "expired"}]
    assert store.scalar(db, "SELECT current_ticket_id FROM counters WHERE id = ?", (other_counter,)) is None
    assert store.scalar(db, "SELECT current_ticket_id FROM counters WHERE id = ?", (counter,)) == served["id"]
    assert tick.tick() is None
    queue.finish(served["id"], counter, clerk, _procedure_of(db, "TP"))
    assert status_of(db, served["id"]) == "done"


def _procedure_of(db, service_code: str) -> str:
    return store.scalar(db, """SELECT p.code FROM procedures p JOIN services s ON s.id = p.service_id
                               WHERE s.code = ? ORDER BY p.code LIMIT 1""", (service_code,))


def test_closing_time_is_the_latest_span_end_and_the_closer_survives_clock_changes(db, db_path, queue, clock):
    set_hours(db, WEEKDAY_HOURS)
    tuesday = date(2026, 11, 24)
    assert closing.closing_time(db, queue.centre_id, VN, tuesday) == clock.now + 9 * 3600  # 08:00 + 9 h = 17:00
    assert closing.closing_time(db, queue.centre_id, VN, date(2026, 11, 29)) is None  # Sunday: no span
    tick = closer(db_path, clock)
    clock.set_local("2026-11-24 16:50")
    ticket = queue.issue_ticket("TP").result
    assert tick.tick() == 0
    clock.set_local("2026-11-24 16:59")
    assert tick.tick() is None  # not due yet
    assert status_of(db, ticket["id"]) == "waiting"
    clock.set_local("2026-11-24 17:00")
    assert tick.tick() == 1
    assert status_of(db, ticket["id"]) == "expired"
    assert tick.tick() is None

    # The clock goes back an hour (a manual fix): the close is due again and finds nothing to do.
    clock.set_local("2026-11-24 16:00")
    assert tick.tick() == 0
    # ... and leaps forward past midnight and the next closing time: nothing is skipped.
    clock.set_local("2026-11-25 16:30")
    second = queue.issue_ticket("TP").result
    clock.set_local("2026-11-26 09:00")
    assert tick.tick() == 1
    assert status_of(db, second["id"]) == "expired"


def test_a_server_started_in_the_morning_expires_yesterdays_leftovers_first(db, db_path, queue, clock):
    queue.issue_ticket("TP")
    clock.set_local("2026-11-25 07:00")
    started = closer(db_path, clock)
    assert started.tick() == 1
    assert store.scalar(db, "SELECT COUNT(*) FROM tickets WHERE status = 'waiting'") == 0


def test_seconds_to_next_close_is_capped_and_points_at_the_closing_time(db, db_path, clock):
    set_hours(db, WEEKDAY_HOURS)
    clock.set_local("2026-11-24 16:59")
    assert closer(db_path, clock).seconds_to_next() == 60  # capped: a changed clock is noticed within a minute
    assert DayCloser(db_path, centre.DEMO_CENTRE_ID, clock, check_every_s=3600).seconds_to_next() == pytest.approx(60.5)
    clock.set_local("2026-11-24 17:00")
    assert DayCloser(db_path, centre.DEMO_CENTRE_ID, clock, check_every_s=99_999).seconds_to_next() \
        == pytest.approx(7 * 3600 + 0.5)  # the next close is midnight


# ---- the stale-ticket morning ------------------------------------------------------------------------

def test_yesterdays_a001_is_never_called_before_this_mornings(db, queue, clock, open_counter):
    clock.set_local("2026-11-24 16:50")
    yesterday = queue.issue_ticket("TP").result
    clock.set_local("2026-11-25 07:30")  # no closer ran overnight (server off, thread dead)
    today = queue.issue_ticket("TP").result
    assert yesterday["number"] == today["number"]
    counter, clerk = open_counter(1)
    outcome = queue.call_next(counter, clerk)
    assert outcome.result["ticket"]["id"] == today["id"]
    assert status_of(db, yesterday["id"]) == "expired"
    assert [call["ticket_id"] for call in queue.recent_calls()] == [today["id"]]
    updated = [event.payload["id"] for event in outcome.events if event.name == "ticket_updated"]
    assert yesterday["id"] in updated  # its tracking page hears it expired


def test_an_earlier_days_ticket_cannot_be_called_out_of_order(db, queue, clock, open_counter):
    yesterday = queue.issue_ticket("TP").result
    clock.set_local("2026-11-25 08:00")
    counter, clerk = open_counter(1)
    with pytest.raises(Conflict) as refused:
        queue.call_ticket(counter, clerk, "khách quen", ticket_id=yesterday["id"])
    assert refused.value.code == "invalid_transition"
    assert status_of(db, yesterday["id"]) == "waiting"  # refused whole: nothing of that call was kept
    assert queue.call_next(counter, clerk).result == {"ticket": None}
    assert status_of(db, yesterday["id"]) == "expired"


def test_close_day_expires_waiting_and_called_and_call_next_finds_none(db, queue, open_counter):
    counter, clerk = open_counter(1)
    first = queue.issue_ticket("TP").result
    second = queue.issue_ticket("TP").result
    queue.call_next(counter, clerk)
    outcome = queue.close_day(user_id=None)
    assert outcome.result == {"expired": 2}
    names = [event.name for event in outcome.events]
    assert names.count("ticket_updated") == 2 and "queue_changed" in names
    assert [event.payload["counter"] for event in outcome.events if event.name == "counter_changed"] == [counter]
    assert {status_of(db, first["id"]), status_of(db, second["id"])} == {"expired"}
    assert queue.call_next(counter, clerk).result == {"ticket": None}
    assert queue.queue_summary()["services"][0]["waiting"] == 0


# ---- personal data, monitor, statistics ------------------------------------------------------------

def test_expired_tickets_names_are_purged_under_the_retention_rule(db, db_path, queue, clock):
    from queueing.citizen import MinimisedCitizen
    citizen = MinimisedCitizen(name="Nguyễn Văn An", id_hash="h" * 64, id_last4="1234", birth_year=1960)
    abandoned = queue.issue_ticket("TP", citizen=citizen).result
    clock.set_local("2026-11-25 08:00")
    recent = queue.issue_ticket("TP", citizen=citizen).result
    clock.set_local("2027-01-09 04:00")  # 45 days and 20 h after the first, 44 days and 20 h after the second
    assert closer(db_path, clock).tick() == 2
    assert maintenance.purge_citizen_data(db, queue.centre_id, clock(), retention_days=45) == 1
    names = {row["id"]: row["citizen_name"] for row in store.all_rows(db, "SELECT id, citizen_name FROM tickets")}
    assert names[abandoned["id"]] is None
    assert names[recent["id"]] == "Nguyễn Văn An"


def test_monitor_figures_count_today_only(db, queue, clock):
    clock.set_local("2026-11-23 09:00")
    queue.issue_ticket("TP")  # yesterday's, never expired (no closer ran)
    clock.set_local("2026-11-24 08:00")
    queue.issue_ticket("TP")
    clock.set_local("2026-11-24 08:10")
    kpis = stats.today_kpis(db, queue.centre_id, VN, clock())
    assert kpis["waiting_now"] == 1
    assert kpis["longest_wait_s"] == 600
    assert kpis["issued"] == 1


def test_statistics_show_expired_tickets_as_issued_not_served(db, queue, clock, open_counter):
    counter, clerk = open_counter(1)
    served = queue.issue_ticket("TP").result
    queue.issue_ticket("TP")
    queue.issue_ticket("TP")
    queue.call_next(counter, clerk)
    clock.advance(60)
    queue.start(served["id"], counter, clerk)
    queue.finish(served["id"], counter, clerk, _procedure_of(db, "TP"))
    queue.call_next(counter, clerk)  # called, then the day closes on it
    assert queue.close_day().result == {"expired": 2}
    day = date(2026, 11, 24)
    row = next(r for r in stats.compute(db, queue.centre_id, VN, day, day, "service") if r["key"] == "TP")
    assert (row["issued"], row["called"], row["served"], row["expired"]) == (3, 2, 1, 2)
    assert row["wait_s"]["mean"] is not None
    total = stats.summary(db, queue.centre_id, VN, day, day)
    assert total["expired"] == 2
    counter_row = next(r for r in stats.compute(db, queue.centre_id, VN, day, day, "counter") if r["counter_id"] == counter)
    assert counter_row["expired"] == 1  # the visit that the close ended
    journal = list(stats.ticket_journal(db, queue.centre_id, VN, day, day))
    assert [entry["status"] for entry in journal] == ["done", "expired", "expired"]


# ---- holidays ------------------------------------------------------------------------------------------

def test_the_demo_centre_has_no_holidays_and_a_configured_centre_gets_the_bundled_ones(db):
    assert holidays.list_holidays(db, centre.DEMO_CENTRE_ID) == []
    centre.load_configuration(db, {"centre": {"id": "hcc-phuong", "name": "Trung tâm phường"}}, 0)
    days = {h["date"]: h["name"] for h in holidays.list_holidays(db, "hcc-phuong")}
    assert days["2026-02-17"].startswith("Tết Nguyên Đán")
    assert {"2026-01-01", "2026-04-26", "2026-04-30", "2026-05-01", "2026-09-01", "2026-09-02", "2027-02-06",
            "2027-04-16", "2027-09-02", "2027-09-03"} <= set(days)
    assert all(f"2026-02-{d}" in days for d in range(16, 21))
    bundled = json.loads(holidays.HOLIDAYS_PATH.read_text(encoding="utf-8"))
    assert bundled["confirm_each_year"] is True


def test_an_existing_configured_centre_gets_the_calendar_when_migrating(tmp_path):
    from queueing.schema import migrations
    db = store.connect(tmp_path / "old.sqlite3")
    migrations.apply(db, stop_before={"0005_day_end_expired_status", "0005_day_holidays"})
    db.conn.execute("INSERT INTO centres (id, name, created_at) VALUES ('ubnd-x', 'UBND xã X', 0)")
    db.conn.execute("INSERT INTO centres (id, name, created_at) VALUES ('demo', 'Demo', 0)")
    db.conn.execute("INSERT INTO services (centre_id, code, name, prefix) VALUES ('ubnd-x', 'TP', 'Tư pháp', 'A')")
    db.conn.execute("""INSERT INTO tickets (id, centre_id, number_service_id, local_day, sequence, number, service_id,
                       status, issued_at, local_hour, queue_at) VALUES ('t1', 'ubnd-x', 1, '2026-11-23', 1, 'A001', 1,
                       'waiting', 0, 8, 0)""")
    store.migrate(db)
    db.conn.execute("UPDATE tickets SET status = 'expired' WHERE id = 't1'")
    with pytest.raises(Exception):
        db.conn.execute("UPDATE tickets SET status = 'lost' WHERE id = 't1'")
    assert len(holidays.list_holidays(db, "ubnd-x")) == len(holidays.bundled_holidays())
    assert holidays.list_holidays(db, "demo") == []
    assert db.conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    db.conn.close()


def test_on_a_holiday_the_kiosk_says_so_and_the_next_day_is_normal(db, queue, clock):
    set_hours(db, WEEKDAY_HOURS)
    holidays.add_holiday(db, queue.centre_id, None, {"date": "2026-11-24", "name": "Ngày nghỉ thử"}, clock())
    holidays.add_holiday(db, queue.centre_id, None, {"date": "2026-11-25", "name": "Ngày nghỉ thử 2"}, clock())
    with pytest.raises(Conflict) as refused:
        queue.issue_ticket("TP")
    assert refused.value.code == "holiday"
    assert "Ngày nghỉ thử" in refused.value.message
    assert "07:30 Thứ Năm 26/11/2026" in refused.value.message  # the next working day's first span
    service = next(s for s in queue.services_overview() if s["code"] == "TP")
    assert (service["open"], service["closed_reason"]) == (False, "holiday")
    assert service["opens_at"] == "2026-11-26T07:30:00+07:00"
    clock.set_local("2026-11-26 08:00")
    assert queue.issue_ticket("TP").result["status"] == "waiting"
    assert next(s for s in queue.services_overview() if s["code"] == "TP")["closed_reason"] is None


# ---- the cut-off -------------------------------------------------------------------------------------------

def test_the_kiosk_stops_issuing_when_the_forecast_passes_closing_minus_the_margin(db, queue, clock, open_counter):
    set_hours(db, WEEKDAY_HOURS)
    clock.set_local("2026-11-24 16:00")
    for _ in range(3):
        queue.issue_ticket("TP")  # no counter open: no forecast, the opening hours alone decide
    counter, clerk = open_counter(2)  # the only counter open for TP (its default service time 420 s)
    forecast = queue.forecast_new_ticket(queue.service_by_code("TP"))
    assert forecast["wait_s"] == 3 * (420 + WALK_UP_S)  # 23 min: 16:23 is before 16:45 (17:00 − 15 min)
    queue.issue_ticket("TP")
    clock.set_local("2026-11-24 16:20")  # 4 waiting: 31 min → 16:51, after 16:45 (but before 17:00)
    with pytest.raises(Conflict) as refused:
        queue.issue_ticket("TP")
    assert refused.value.code == "cut_off"
    assert "07:30 Thứ Tư 25/11/2026" in refused.value.message
    service = next(s for s in queue.services_overview() if s["code"] == "TP")
    assert (service["open"], service["closed_reason"], service["opens_at"]) == (
        False, "cut_off", "2026-11-25T07:30:00+07:00")
    admin.update_settings(db, queue.centre_id, None, {"cutoff_margin_minutes": 0})
    assert QueueService(db, queue.centre_id, clock=clock).issue_ticket("TP").result["status"] == "waiting"


def test_no_cut_off_for_a_service_open_all_day(queue, clock, open_counter):
    open_counter(2)
    for _ in range(5):
        queue.issue_ticket("TP")
    clock.set_local("2026-11-24 23:50")  # the demo centre: open at every hour; its tickets expire at midnight
    assert queue.issue_ticket("TP").result["status"] == "waiting"


def test_cutoff_margin_is_a_checked_setting(db, queue):
    from queueing.admin import ValidationError
    with pytest.raises(ValidationError):
        admin.update_settings(db, queue.centre_id, None, {"cutoff_margin_minutes": -1})
    assert admin.centre_settings_view(db, queue.centre_id)["cutoff_margin_minutes"] == 15


# ---- over HTTP ---------------------------------------------------------------------------------------------

def _manager_headers(app, client):
    db = store.connect(app.config["DATABASE"])
    try:
        accounts.create_user(db, app.config["CENTRE_ID"], "truongphong", "mat-khau-rat-dai-2026", "manager",
                             "Trưởng phòng", 0)
    finally:
        db.conn.close()
    token = client.post("/api/v1/auth/login", json={"username": "truongphong",
                                                    "password": "mat-khau-rat-dai-2026"}).json["token"]
    return {"Authorization": f"Bearer {token}"}


def test_post_day_close_expires_every_open_ticket_for_managers_only(app, client, api):
    clerk = api.headers("quay1")
    assert client.post("/api/v1/counters/1/sign-in", headers=clerk).status_code == 200
    api.issue("TP")
    api.issue("TP")
    assert client.post("/api/v1/counters/1/call-next", headers=clerk).json["ticket"] is not None
    assert client.post("/api/v1/day/close").status_code == 401
    refused = client.post("/api/v1/day/close", headers=clerk)
    assert refused.status_code == 403 and refused.json["code"] == "forbidden"
    manager = _manager_headers(app, client)
    answer = client.post("/api/v1/day/close", headers=manager)
    assert answer.status_code == 200 and answer.json == {"expired": 2}
    assert client.post("/api/v1/counters/1/call-next", headers=clerk).json == {"ticket": None}
    assert client.post("/api/v1/day/close", headers=api.headers("admin")).json == {"expired": 0}
    db = store.connect(app.config["DATABASE"])
    try:
        closed = store.all_rows(db, "SELECT u.username, a.detail FROM audit_log a JOIN users u ON u.id = a.user_id "
                                    "WHERE a.action = 'day_closed' ORDER BY a.id")
        assert [row["username"] for row in closed] == ["truongphong", "admin"]
        assert json.loads(closed[0]["detail"]) == {"reason": "manual", "expired": 2}
        assert store.scalar(db, "SELECT COUNT(*) FROM tickets WHERE status = 'expired'") == 2
    finally:
        db.conn.close()


def test_holiday_over_http_and_the_holiday_calendar_api(client, api, clock):
    admin_headers = api.headers("admin")
    assert client.post("/api/v1/holidays", json={"date": "2026-11-24", "name": "Nghỉ"},
                       headers=api.headers("quay1")).status_code == 403
    added = client.post("/api/v1/holidays", json={"date": "2026-11-24", "name": "Ngày hội", "name_en": "Fair"},
                        headers=admin_headers)
    assert added.status_code == 201 and added.json == {"date": "2026-11-24", "name": "Ngày hội", "name_en": "Fair"}
    bad = client.post("/api/v1/holidays", json={"date": "24/11/2026", "name": "x"}, headers=admin_headers)
    assert bad.status_code == 400 and bad.json["code"] == "bad_date"
    refused = client.post("/api/v1/tickets", json={"service": "TP"}, headers=api.headers())
    assert refused.status_code == 409 and refused.json["code"] == "holiday"
    assert "Ngày hội" in refused.json["error"] and "00:00" in refused.json["error"]  # demo: open from midnight
    services = client.get("/api/v1/services").json
    assert all(not s["open"] and s["closed_reason"] == "holiday" for s in services)
    assert client.get("/api/v1/holidays").json == [{"date": "2026-11-24", "name": "Ngày hội", "name_en": "Fair"}]
    assert client.delete("/api/v1/holidays/2026-11-24", headers=admin_headers).json["removed"] is True
    assert client.delete("/api/v1/holidays/2026-11-24", headers=admin_headers).status_code == 404
    assert client.post("/api/v1/tickets", json={"service": "TP"}, headers=api.headers()).status_code == 201


def test_stats_api_and_csv_export_carry_the_expired_column(app, client, api):
    api.issue("TP")
    admin_headers = api.headers("admin")
    assert client.post("/api/v1/day/close", headers=admin_headers).json == {"expired": 1}
    rows = client.get("/api/v1/stats?from=2026-11-24&to=2026-11-24&by=service", headers=admin_headers).json["rows"]
    assert next(r for r in rows if r["key"] == "TP")["expired"] == 1
    exported = client.get("/api/v1/stats/export?from=2026-11-24&to=2026-11-24&by=service&format=csv",
                          headers=admin_headers)
    table = list(csv.reader(io.StringIO(exported.get_data(as_text=True).lstrip("\ufeff"))))
    column = table[0].index("Hết hạn")
    assert next(line for line in table if line[0] == "TP")[column] == "1"


def test_the_holiday_calendar_goes_through_the_configuration_file(db, tmp_path):
    holidays.add_holiday(db, centre.DEMO_CENTRE_ID, None, {"date": "2026-12-31", "name": "Tất niên", "name_en": ""})
    exported = admin.export_configuration(db, centre.DEMO_CENTRE_ID)
    assert exported["holidays"] == [{"date": "2026-12-31", "name": "Tất niên", "name_en": ""}]
    fresh = store.connect(tmp_path / "fresh.sqlite3")
    store.migrate(fresh)
    centre.load_configuration(fresh, exported, 0)
    assert holidays.list_holidays(fresh, centre.DEMO_CENTRE_ID) == exported["holidays"]
    exported["holidays"].append({"date": "2027-01-02", "name": "Nghỉ thêm"})
    admin.import_configuration(fresh, centre.DEMO_CENTRE_ID, exported, None)
    assert [h["date"] for h in holidays.list_holidays(fresh, centre.DEMO_CENTRE_ID)] == ["2026-12-31", "2027-01-02"]
    exported["holidays"] = [{"date": "mai", "name": ""}]
    with pytest.raises(admin.ValidationError) as refused:
        admin.import_configuration(fresh, centre.DEMO_CENTRE_ID, exported, None)
    assert "holidays[1]" in refused.value.message
    fresh.conn.close()


def test_the_admin_pages_list_add_and_remove_holidays_with_an_audit_row(app, client):
    with client.session_transaction() as session:
        db = store.connect(app.config["DATABASE"])
        user = accounts.user_by_id(db, store.scalar(db, "SELECT id FROM users WHERE username = 'admin'"))
        db.conn.close()
        session.update({"user_id": user["id"], "password_hash_tail": user["password_hash"][-16:], "csrf": "c",
                        "seen_at": app.config["CLOCK"]()})
    page = client.get("/manager/admin/holidays")
    assert page.status_code == 200 and "Lịch nghỉ lễ" in page.get_data(as_text=True)
    added = client.post("/manager/admin/holidays", data={"date": "2026-12-31", "name": "Tất niên", "csrf_token": "c"})
    assert added.status_code == 302
    assert "Tất niên" in client.get("/manager/admin/holidays").get_data(as_text=True)
    refused = client.post("/manager/admin/holidays", data={"date": "31/12", "name": "x", "csrf_token": "c"})
    assert refused.status_code == 400 and "YYYY-MM-DD" in refused.get_data(as_text=True)
    assert client.post("/manager/admin/holidays/2026-12-31/remove", data={"csrf_token": "c"}).status_code == 302
    db = store.connect(app.config["DATABASE"])
    try:
        actions = [row["action"] for row in store.all_rows(
            db, "SELECT action FROM audit_log WHERE action LIKE 'holidays.%' ORDER BY id")]
        assert actions == ["holidays.create", "holidays.delete"]
        assert holidays.list_holidays(db, app.config["CENTRE_ID"]) == []
    finally:
        db.conn.close()


def test_the_app_factory_starts_the_closer_which_expires_leftovers_before_the_first_request(
        tmp_path, app_instance_template):
    import shutil
    from server import create_app
    folder = tmp_path / "instance"
    shutil.copytree(app_instance_template, folder)
    clock = FakeClock("2026-11-24 16:00")
    db = store.connect(folder / "luot.sqlite3")
    leftover = QueueService(db, centre.DEMO_CENTRE_ID, clock=clock).issue_ticket("TP").result
    db.conn.close()
    clock.set_local("2026-11-25 07:00")
    application = create_app({"INSTANCE": str(folder), "DATABASE": str(folder / "luot.sqlite3"), "TTS": "none",
                              "CLOCK": clock, "SECRET_KEY": "x" * 32, "TESTING": True, "DAY_CLOSER": True})
    try:
        answer = application.test_client().get(f"/api/v1/tickets/{leftover['id']}?key={leftover['track_key']}")
        assert answer.json["status"] == "expired"
    finally:
        application.extensions["luot_day_closer"].stop()
