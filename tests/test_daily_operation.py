"""A centre's day: numbers restart at local midnight with no restart, history is kept, clocks that jump.

The app runs with an injected clock (FakeClock) that the tests move, exactly as a server that
stays up across midnight sees time pass.
"""
from __future__ import annotations

import pytest

import web
from queueing import store
from tests.conftest import rows

DAY = 86_400


@pytest.fixture
def counter1(client, api, clock):
    """Clerk quay1 at counter 1, signed in at 23:00 (a staff token lasts a 12-hour working day)."""
    clock.set_local("2026-11-24 23:00")
    headers = api.headers("quay1")
    assert client.post("/api/v1/counters/1/sign-in", headers=headers).status_code == 200
    return headers


def call_next(client, headers, counter=1):
    response = client.post(f"/api/v1/counters/{counter}/call-next", headers=headers)
    assert response.status_code == 200, response.json
    return response.json["ticket"]


def finish(client, headers, ticket):
    client.post(f"/api/v1/tickets/{ticket['id']}/start", headers=headers)
    procedure = {"TP": "TP-01", "CT": "CT-01"}[ticket["service"]]
    assert client.post(f"/api/v1/tickets/{ticket['id']}/finish", json={"procedure": procedure},
                       headers=headers).status_code == 200


def test_numbers_restart_at_local_midnight_without_a_restart_and_yesterday_is_kept(app, client, api, clock, counter1):
    clock.set_local("2026-11-24 23:57")
    yesterday = [api.issue("TP") for _ in range(3)] + [api.issue("CT")]
    assert [t["number"] for t in yesterday] == ["A001", "A002", "A003", "B001"]
    finish(client, counter1, call_next(client, counter1))
    display = web.socketio.test_client(app)
    display.get_received()

    clock.set_local("2026-11-24 23:59")
    clock.advance(59)
    assert api.issue("TP")["number"] == "A004"  # 23:59:59 is still the 24th
    clock.advance(2)  # 00:00:01 on the 25th: same process, same app, a new day
    today = [api.issue("TP"), api.issue("CT"), api.issue("TP")]
    assert [t["number"] for t in today] == ["A001", "B001", "A002"]
    assert today[0]["issued_at"].startswith("2026-11-25T00:00:01")

    # yesterday's tickets, numbers and event log are all still there
    stored = rows(app, "SELECT number, local_day, status FROM tickets ORDER BY issued_at")
    assert [(r["number"], r["local_day"]) for r in stored] == [
        ("A001", "2026-11-24"), ("A002", "2026-11-24"), ("A003", "2026-11-24"), ("B001", "2026-11-24"),
        ("A004", "2026-11-24"), ("A001", "2026-11-25"), ("B001", "2026-11-25"), ("A002", "2026-11-25")]
    assert stored[0]["status"] == "done"
    days = {(r["local_day"], r["last_number"])
            for r in rows(app, "SELECT local_day, last_number FROM ticket_sequences")}
    assert days == {("2026-11-24", 4), ("2026-11-24", 1), ("2026-11-25", 2), ("2026-11-25", 1)}
    assert len(rows(app, "SELECT id FROM ticket_events WHERE kind = 'finished'")) == 1
    for ticket in yesterday:
        assert client.get(f"/api/v1/tickets/{ticket['id']}?key={ticket['track_key']}").json["number"] == ticket["number"]
    # the waiting counts the screens show carry over: three of yesterday's still wait
    waiting = {s["code"]: s["waiting"] for s in client.get("/api/v1/services").json}
    assert waiting["TP"] == 2 + 1 + 2 and waiting["CT"] == 1 + 1
    names = [m["name"] for m in display.get_received()]
    assert names.count("queue_changed") == 4


def test_people_waiting_at_midnight_do_not_carry_into_the_new_day(client, api, clock, counter1):
    # Issue 11 (CONTRACT v1.1): a day's open tickets expire at midnight and are never called the next day,
    # even when the closer thread did not run (here it is off): call-next expires them itself.
    clock.set_local("2026-11-24 23:50")
    late = api.issue("TP")
    clock.set_local("2026-11-25 00:10")
    early = api.issue("TP")
    assert late["number"] == early["number"] == "A001"  # the same printed number on two days …
    assert call_next(client, counter1)["id"] == early["id"]  # … and only today's is called
    assert client.get(f"/api/v1/tickets/{late['id']}?key={late['track_key']}").json["status"] == "expired"


def test_calling_a_number_by_hand_means_todays_ticket(client, api, clock, counter1):
    clock.set_local("2026-11-24 23:50")
    api.issue("TP")
    clock.set_local("2026-11-25 07:30")
    today = api.issue("TP")
    called = client.post("/api/v1/counters/1/call-number", json={"number": "a001", "reason": "gọi lại"},
                         headers=counter1)
    assert called.status_code == 200 and called.json["ticket"]["id"] == today["id"]


def test_utc_midnight_is_not_the_centres_midnight(client, api, clock):
    clock.set_local("2026-11-25 06:59")  # 23:59 UTC on the 24th
    assert api.issue("TP")["number"] == "A001"
    clock.advance(120)  # 00:01 UTC: a new UTC day, still the same day in Hà Nội
    assert api.issue("TP")["number"] == "A002"


def test_a_clock_set_wrongly_forward_then_back_never_duplicates_a_number(app, client, api, clock):
    clock.set_local("2026-11-24 10:00")
    assert [api.issue("TP")["number"] for _ in range(2)] == ["A001", "A002"]
    clock.set_local("2026-11-25 10:00")  # someone sets the date a day ahead
    assert api.issue("TP")["number"] == "A001"
    clock.set_local("2026-11-24 10:05")  # NTP puts it back
    assert api.issue("TP")["number"] == "A003"
    clock.set_local("2026-11-25 08:00")  # the real next morning continues that day's sequence
    assert api.issue("TP")["number"] == "A002"
    duplicates = rows(app, """SELECT local_day, number, COUNT(*) AS n FROM tickets
                              GROUP BY local_day, number HAVING n > 1""")
    assert duplicates == []


def test_a_clock_set_back_a_few_minutes_keeps_numbers_increasing(client, api, clock, counter1):
    clock.set_local("2026-11-24 23:30")
    first = api.issue("TP")
    clock.advance(-600)  # NTP correction: ten minutes back
    second = api.issue("TP")
    assert (first["number"], second["number"]) == ("A001", "A002")
    assert client.get(f"/api/v1/tickets/{first['id']}?key={first['track_key']}").json["number"] == "A001"


def test_a_clock_set_back_does_not_let_a_new_ticket_overtake(client, api, clock, counter1):
    clock.set_local("2026-11-24 23:30")
    first = api.issue("TP")
    clock.advance(-600)
    api.issue("TP")
    assert call_next(client, counter1)["id"] == first["id"]


def test_daylight_saving_time_centre_restarts_numbers_once_per_local_day(app, client, api, clock):
    """Vietnam has no DST, but a centre configured elsewhere does: the 25-hour day is one day."""
    db = store.connect(app.config["DATABASE"])
    with store.transaction(db):
        store.execute(db, "UPDATE centres SET timezone = 'Europe/Berlin'")
    db.conn.close()
    # 2026-10-25: clocks go back at 03:00 CEST to 02:00 CET in Berlin
    clock.now = 1_792_881_600.0  # 2026-10-24 22:40 UTC = 2026-10-25 00:40 CEST
    numbers = []
    for _ in range(26):
        numbers.append(api.issue("TP")["number"])
        clock.advance(3600)
    days = [r["local_day"] for r in rows(app, "SELECT local_day FROM tickets ORDER BY issued_at")]
    # one ticket an hour from 00:40: the 25-hour day holds 25 of them (02:40 comes twice) …
    assert days.count("2026-10-25") == 25 and numbers[24] == "A025"
    # … and the numbers restart once, at the local midnight after it
    assert days[25] == "2026-10-26" and numbers[25] == "A001"
