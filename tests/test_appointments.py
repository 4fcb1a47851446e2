"""Appointments (issue 15): slots, booking rules, check-in window, the fair merge in the call policy and
the forecast, missed bookings and retention, and the HTTP API."""
from __future__ import annotations

import json
from datetime import datetime

import pytest

from queueing import appointments, holidays, maintenance, store
from queueing.forecast import CounterNow, HandlingTimes, WaitingTicket, simulate
from queueing.model import Conflict, NotFound, QueueError
from queueing.policy import QueueHeads, choose_next
from tests.conftest import VN, rows

TEN_MINUTES = HandlingTimes(600.0, 0.0)


def local(text: str) -> str:
    return datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=VN).isoformat()


def booking(queue, start="2026-11-24 09:00", phone="0912345678", service="TP", **extra):
    return appointments.book(queue, {"service": service, "start": local(start), "name": "Nguyễn Văn An",
                                     "phone": phone, **extra}).result


def test_demo_centre_lists_todays_quarter_hour_slots_with_two_places(queue, clock):
    slots = appointments.free_slots(queue, "TP", "2026-11-24")
    # 08:00 now: the 08:00 slot has begun, so 08:15 … 23:45 remain.
    assert slots[0] == {"start": local("2026-11-24 08:15"), "end": local("2026-11-24 08:30"), "free": 2}
    assert slots[-1]["start"] == local("2026-11-24 23:45")
    assert len(slots) == 63
    booking(queue, "2026-11-24 08:15")
    assert appointments.free_slots(queue, "TP", "2026-11-24")[0]["free"] == 1


def test_booking_rules_one_per_phone_full_slot_past_and_holiday(queue, db, clock):
    first = booking(queue)
    assert first["status"] == "booked" and len(first["code"]) == 8 and first["manage_url"] == f"/book/{first['code']}"
    with pytest.raises(Conflict) as same_phone:
        booking(queue, "2026-11-24 15:00", phone="+84 912 345 678")
    assert same_phone.value.code == "already_booked"
    booking(queue, "2026-11-25 09:00")  # another day is fine, and so is another service
    booking(queue, phone="0912345678", service=store.scalar(db, "SELECT code FROM services WHERE code != 'TP' LIMIT 1"))
    booking(queue, phone="0987654321")
    with pytest.raises(Conflict) as full:
        booking(queue, phone="0911111111")
    assert full.value.code == "slot_full"
    with pytest.raises(QueueError) as past:
        booking(queue, "2026-11-24 07:45", phone="0911111111")
    assert past.value.code == "slot_past"
    with pytest.raises(QueueError) as bad_phone:
        booking(queue, "2026-11-24 10:00", phone="12345")
    assert bad_phone.value.code == "bad_phone"
    with pytest.raises(QueueError) as off_grid:
        booking(queue, "2026-11-24 10:05", phone="0911111111")
    assert off_grid.value.code == "no_such_slot"
    holidays.add_holiday(db, queue.centre_id, None, {"date": "2026-11-26", "name": "Nghỉ"})
    assert appointments.free_slots(queue, "TP", "2026-11-26") == []


def test_cancel_frees_the_place_and_move_keeps_the_rules(queue):
    first = booking(queue)
    booking(queue, phone="0987654321")
    assert appointments.cancel(queue, first["code"].lower()).result["status"] == "cancelled"
    with pytest.raises(Conflict):
        appointments.cancel(queue, first["code"])
    third = booking(queue, phone="0911111111")  # the cancelled place is free again
    moved = appointments.move(queue, third["code"], local("2026-11-24 10:00")).result
    assert moved["start"] == local("2026-11-24 10:00")
    with pytest.raises(NotFound):
        appointments.find(queue, "ZZZZZZZZ")


def test_check_in_window_and_missed(queue, clock):
    early = booking(queue, "2026-11-24 09:00")
    with pytest.raises(Conflict) as too_early:
        appointments.check_in(queue, early["code"])
    assert too_early.value.code == "too_early" and "08:30" in too_early.value.message
    clock.set_local("2026-11-24 08:30")
    ticket = appointments.check_in(queue, early["code"]).result
    assert ticket["status"] == "waiting" and ticket["appointment"]["status"] == "checked_in"
    assert store.one(queue.db, "SELECT channel FROM tickets WHERE id = ?", (ticket["id"],))["channel"] == "appointment"
    with pytest.raises(Conflict) as twice:
        appointments.check_in(queue, early["code"])
    assert twice.value.code == "already_checked_in"
    late = booking(queue, "2026-11-24 09:00", phone="0987654321")
    clock.set_local("2026-11-24 09:16")
    with pytest.raises(Conflict) as too_late:
        appointments.check_in(queue, late["code"])
    assert too_late.value.code == "too_late"
    assert appointments.mark_missed(queue) == 1
    assert appointments.find(queue, late["code"])["status"] == "missed"


def test_policy_puts_a_begun_appointment_before_ordinary_tickets_with_a_ratio():
    heads = QueueHeads("P", "N", "A")
    assert choose_next(QueueHeads(None, "N", "A"), 0, 0) == "A"
    assert choose_next(QueueHeads(None, "N", "A"), 0, 0, 2, 2) == "N"  # two in a row: an ordinary one now
    assert choose_next(heads, 0, 0, 0, 2) == "P"  # priority groups still first
    assert choose_next(heads, 1, 1, 0, 2) == "A"
    assert choose_next(QueueHeads(None, None, "A"), 0, 0, 9, 1) == "A"


def test_forecast_calls_the_appointment_when_its_slot_begins():
    counters = [CounterNow(1, frozenset({1}), 0.0)]
    tickets = [WaitingTicket("o1", 1, False), WaitingTicket("o2", 1, False), WaitingTicket("o3", 1, False),
               WaitingTicket("a1", 1, False, appointment_from=300.0)]
    schedule = simulate(0.0, counters, tickets, {1: TEN_MINUTES}, 0)
    # o1 at 0; at 600 the appointment's slot (300) has begun: it goes before o2 and o3.
    assert [schedule.calls[t].at for t in ("o1", "a1", "o2", "o3")] == [0.0, 600.0, 1200.0, 1800.0]
    ratio_one = simulate(0.0, [CounterNow(1, frozenset({1}), 0.0)], tickets + [
        WaitingTicket("a2", 1, False, appointment_from=300.0)], {1: TEN_MINUTES}, 0, appointment_ratio=1)
    assert [ratio_one.calls[t].at for t in ("o1", "a1", "o2", "a2", "o3")] == [0.0, 600.0, 1200.0, 1800.0, 2400.0]


def test_checked_in_appointment_is_called_before_earlier_ordinary_tickets_once_its_slot_begins(
        queue, clock, open_counter):
    code = booking(queue, "2026-11-24 08:30")["code"]
    counter, clerk = open_counter(1)
    earlier = [queue.issue_ticket("TP").result for _ in range(3)]
    clock.advance(60)
    ticket = appointments.check_in(queue, code).result
    # The forecast: the counter would reach it by order only after the two others still ahead at 08:30.
    assert queue.public_ticket(store.ticket_row(queue.db, ticket["id"]))["position"] == 3
    # Before 08:30 the appointment waits like anyone: the oldest ordinary ticket is called.
    assert queue.call_next(counter, clerk).result["ticket"]["id"] == earlier[0]["id"]
    queue.no_show(earlier[0]["id"], counter, clerk)
    clock.set_local("2026-11-24 08:30")
    assert queue.public_ticket(store.ticket_row(queue.db, ticket["id"]))["position"] == 0  # first now
    outcome = queue.call_next(counter, clerk)
    called = outcome.result["ticket"]
    assert called["id"] == ticket["id"] and called["channel"] == "appointment"
    # the displays' call carries the mark they show as "Lịch hẹn"
    assert [event.payload["appointment"] for event in outcome.events if event.name == "ticket_called"] == [True]
    issued = rows_of(queue, "SELECT detail FROM ticket_events WHERE ticket_id = ? AND kind = 'issued'", ticket["id"])
    assert '"channel":"appointment"' in issued[0]["detail"]


def rows_of(queue, sql, *params):
    return store.all_rows(queue.db, sql, params)


def test_retention_purge_erases_a_past_bookings_name_and_phone(queue, db, clock):
    code = booking(queue, "2026-11-24 09:00")["code"]
    appointments.cancel(queue, code)
    clock.advance(40 * 86400)
    maintenance.purge_citizen_data(db, queue.centre_id, clock(), 30)
    row = appointments.find(queue, code)
    assert row["name"] is None and row["phone"] is None


# ---- HTTP -------------------------------------------------------------------------------------

def test_api_book_read_check_in_cancel(client, api, clock):
    slots = client.get("/api/v1/appointments/slots?service=TP&date=2026-11-24").json
    start = slots[1]["start"]
    body = {"service": "TP", "start": start, "name": "Trần Thị Bình", "phone": "0912345678"}
    booked = client.post("/api/v1/appointments", json=body)
    assert booked.status_code == 201 and booked.json["status"] == "booked"
    again = client.post("/api/v1/appointments", json={**body, "start": slots[5]["start"]})
    assert again.status_code == 409 and again.json["code"] == "already_booked"
    assert client.post("/api/v1/appointments", json={**body, "phone": "abc"}).status_code == 400
    code = booked.json["code"]
    assert client.get(f"/api/v1/appointments/{code}").json["phone"] == "*******678"
    assert client.get("/api/v1/appointments/nonsense").status_code == 404
    assert client.post(f"/api/v1/appointments/{code}/check-in").status_code == 401
    clock.set_local("2026-11-24 08:30")
    checked = client.post(f"/api/v1/appointments/{code}/check-in", json={}, headers=api.headers())
    assert checked.status_code == 201, checked.json
    assert checked.json["appointment"]["status"] == "checked_in" and checked.json["track_url"].startswith("/t/")
    other = client.post("/api/v1/appointments", json={**body, "start": slots[5]["start"], "phone": "0987654321"}).json["code"]
    assert client.delete(f"/api/v1/appointments/{other}").json["status"] == "cancelled"
    assert client.get("/api/v1/appointments/slots?service=TP&date=bad").status_code == 400
    assert rows(client.application, "SELECT status FROM appointments WHERE code = ?", (other,))[0]["status"] == "cancelled"
    monitor = client.get("/api/v1/appointments", headers=api.headers("admin")).json
    assert monitor["slots"][0]["services"]["TP"]["checked_in"] == 1


def test_booking_pages_confirmation_qr_ics_and_find(client, clock):
    page = client.get("/book")
    assert page.status_code == 200 and "Đặt lịch hẹn" in page.get_data(as_text=True)
    assert "Book an appointment" in client.get("/book?lang=en").get_data(as_text=True)
    start = client.get("/api/v1/appointments/slots?service=TP&date=2026-11-25").json[0]["start"]
    code = client.post("/api/v1/appointments", json={"service": "TP", "start": start, "name": "Đỗ Thị Hoa",
                                                      "phone": "0912345678", "procedure": "TP-01"}).json["code"]
    confirmation = client.get(f"/book/{code}").get_data(as_text=True)
    assert code in confirmation and "00:00 25/11/2026" in confirmation
    qr = client.get(f"/book/{code}/qr.svg")
    assert qr.status_code == 200 and qr.mimetype == "image/svg+xml"
    ics = client.get(f"/book/{code}.ics")
    assert ics.mimetype == "text/calendar" and "DTSTART:20261124T170000Z" in ics.get_data(as_text=True)
    assert client.get(f"/book/find?code={code.lower()}").headers["Location"].endswith(f"/book/{code}?lang=vi")
    assert client.get("/book/NOSUCH99").status_code == 404
    assert client.get("/book/find?code=x").status_code == 404


def test_statistics_by_channel_and_appointment_punctuality(client, api, clock):
    from queueing.stats.channels import channel_report
    start = "2026-11-24T08:30:00+07:00"
    code = client.post("/api/v1/appointments", json={"service": "TP", "start": start, "name": "Lý Văn Nam",
                                                      "phone": "0912345678"}).json["code"]
    api.issue("TP")
    client.post("/api/v1/join", json={"service": "TP", "phone": "0987654321"})
    clock.set_local("2026-11-24 08:20")
    client.post(f"/api/v1/appointments/{code}/check-in", headers=api.headers())
    clerk = api.headers("quay1")
    client.post("/api/v1/counters/1/sign-in", headers=clerk)
    clock.set_local("2026-11-24 08:45")  # 15 minutes after the slot began: late for 10, on time for 20
    assert client.post("/api/v1/counters/1/call-next", headers=clerk).json["ticket"]["channel"] == "appointment"
    answer = client.get("/api/v1/stats/channels?from=2026-11-24&to=2026-11-24", headers=api.headers("admin")).json
    assert [(row["key"], row["issued"], row["called"]) for row in answer["rows"]] == [
        ("kiosk", 1, 0), ("appointment", 1, 1), ("phone", 1, 0)]
    assert answer["rows"][1]["wait_s"]["mean"] == 25 * 60
    assert answer["appointments"] == {"called": 1, "punctual": 0, "punctual_pct": 0.0, "within_minutes": 10}
    db = store.connect(client.application.config["DATABASE"])
    from datetime import date
    assert channel_report(db, "demo", date(2026, 11, 24), date(2026, 11, 24), 20)["appointments"]["punctual"] == 1
    db.conn.close()
    assert client.get("/api/v1/stats/channels?from=x", headers=api.headers("admin")).status_code == 400


def test_id_card_makes_one_booking_per_person_and_checks_in_without_the_code(client, api, clock):
    import json as json_module
    from tests.conftest import ROOT
    card = json_module.loads((ROOT / "tests" / "data" / "cccd-qr-samples.json").read_text(encoding="utf-8"))["valid"][0]
    body = {"service": "TP", "start": "2026-11-24T08:30:00+07:00", "phone": "0912345678", "citizen_qr": card["raw"]}
    booked = client.post("/api/v1/appointments", json=body)
    assert booked.status_code == 201 and booked.json["name"] == card["raw"].split("|")[2]
    other_phone = client.post("/api/v1/appointments", json={**body, "phone": "0987654321",
                                                             "start": "2026-11-24T10:00:00+07:00"})
    assert other_phone.status_code == 409 and other_phone.json["code"] == "already_booked"
    assert client.post("/api/v1/appointments", json={**body, "citizen_qr": "rubbish"}).status_code == 400
    checked = client.post("/api/v1/appointments/check-in", json={"citizen_qr": card["raw"]}, headers=api.headers())
    assert checked.status_code == 201 and checked.json["appointment"]["code"] == booked.json["code"]
    assert rows(client.application, "SELECT id_hash IS NOT NULL AS hashed FROM appointments")[0]["hashed"] == 1


def test_admin_sets_per_service_rules_from_the_form_as_json(client, api, app):
    rules = {"TP": {"places": 1, "slot_minutes": 30, "hours": {"tue": [["09:00", "10:00"]]}}}
    admin = api.headers("admin")
    answer = client.patch("/api/v1/admin/settings", json={"appointment_services": json.dumps(rules)}, headers=admin)
    assert answer.status_code == 200 and answer.json["appointment_services"] == rules
    slots = client.get("/api/v1/appointments/slots?service=TP&date=2026-11-24").json  # a Tuesday
    assert slots == [{"start": "2026-11-24T09:00:00+07:00", "end": "2026-11-24T09:30:00+07:00", "free": 1},
                     {"start": "2026-11-24T09:30:00+07:00", "end": "2026-11-24T10:00:00+07:00", "free": 1}]
    assert client.get("/api/v1/appointments/slots?service=TP&date=2026-11-25").json == []
    bad = client.patch("/api/v1/admin/settings", json={"appointment_services": {"TP": {"places": -1}}}, headers=admin)
    assert bad.status_code == 400 and bad.json["code"] == "bad_appointment_services"
    assert client.patch("/api/v1/admin/settings", json={"appointment_services": "{nope"},
                        headers=admin).status_code == 400


def test_the_day_closer_round_marks_bookings_missed_after_their_grace(queue, db_path, clock):
    from queueing import centre
    from queueing.closing import DayCloser
    code = booking(queue, "2026-11-24 09:00")["code"]
    closer = DayCloser(db_path, centre.DEMO_CENTRE_ID, clock)
    clock.set_local("2026-11-24 09:15")
    closer.tick()
    assert appointments.find(queue, code)["status"] == "booked"  # the grace's last minute still counts
    clock.set_local("2026-11-24 09:16")
    closer.tick()
    assert appointments.find(queue, code)["status"] == "missed"
