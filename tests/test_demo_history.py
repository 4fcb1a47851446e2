"""The demo history: plausible figures made through QueueService, refused twice, removed exactly."""
from __future__ import annotations

import shutil
import time
from collections import Counter
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from queueing import centre, demo_history, stats, store
from queueing.model import QueueError
from queueing.service import QueueService

VN = ZoneInfo("Asia/Ho_Chi_Minh")
CENTRE = centre.DEMO_CENTRE_ID
FIRST, LAST = date(2026, 3, 4), date(2026, 3, 13)  # Wednesday to the next Friday: 8 weekdays, 1 Saturday
DAYS = (LAST - FIRST).days + 1
VOLUME = 110  # tickets on an ordinary weekday; small to keep the suite quick


def local(text: str) -> float:
    return datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=VN).timestamp()


def copy(template, folder):
    path = folder / "luot.sqlite3"
    shutil.copyfile(template, path)
    return store.connect(path)


@pytest.fixture(scope="module")
def history(demo_database, tmp_path_factory):
    """One generated history shared by the read-only checks."""
    connection = copy(demo_database, tmp_path_factory.mktemp("history"))
    result = demo_history.generate(connection, CENTRE, DAYS, seed=7, end_day=LAST, daily_tickets=VOLUME)
    yield connection, result
    connection.conn.close()


def table_counts(db) -> dict:
    return {table: store.scalar(db, f"SELECT COUNT(*) FROM {table}")
            for table in ("tickets", "ticket_events", "ticket_procedures", "ticket_sequences", "counter_events")}


def test_history_has_plausible_days_hours_and_outcomes(history):
    db, result = history
    assert (result["first_day"], result["last_day"], result["open_days"]) == ("2026-03-04", "2026-03-13", 9)
    days = {row["key"]: row for row in stats.compute(db, CENTRE, VN, FIRST, LAST, "day")}
    by_weekday = Counter()
    for key, row in days.items():
        by_weekday[date.fromisoformat(key).weekday()] += row["issued"]
    assert by_weekday[6] == 0  # closed on Sunday
    assert 0 < by_weekday[5] < min(days[key]["issued"] for key in days if date.fromisoformat(key).weekday() < 5)
    for key, row in days.items():
        if date.fromisoformat(key).weekday() < 5:
            assert 0.6 * VOLUME < row["issued"] < 1.5 * VOLUME, key
    hours = stats.compute(db, CENTRE, VN, FIRST, LAST, "hour")
    peak = max(hours, key=lambda row: row["issued"])
    assert 8 <= peak["key"] <= 10
    assert sum(row["issued"] for row in hours if row["key"] < 7 or row["key"] in (12,) or row["key"] >= 17) == 0
    total = stats.summary(db, CENTRE, VN, FIRST, LAST)
    assert total["issued"] == result["tickets"] == total["called"]  # every ticket was dealt with
    assert total["served"] + total["no_show"] == total["issued"]
    assert 2 <= total["no_show_pct"] <= 10
    assert 0 < total["transferred"] < 0.08 * total["issued"]
    rated = sum(total["ratings"].values())
    assert 0.25 * total["served"] < rated < 0.55 * total["served"]
    assert total["ratings"]["3"] > total["ratings"]["2"] > total["ratings"]["1"] > 0
    assert 1.0 < total["procedures_per_ticket"] < 1.5
    assert total["wait_s"]["median"] < total["wait_s"]["p90"]
    services = {row["key"]: row for row in stats.compute(db, CENTRE, VN, FIRST, LAST, "service")}
    assert services["CT"]["issued"] > services["DD"]["issued"] > 0
    assert 180 <= services["CT"]["service_s"]["median"] <= 300  # chứng thực 3–5 min
    assert 480 <= services["TP"]["service_s"]["median"] <= 900  # hộ tịch 8–15 min
    assert 900 <= services["DD"]["service_s"]["median"] <= 1800  # đất đai 15–30 min (transfers add a little)


def test_history_is_real_event_log_and_leaves_the_live_centre_as_it_was(history):
    db, result = history
    kinds = {row["kind"] for row in store.all_rows(db, "SELECT DISTINCT kind FROM ticket_events")}
    assert {"issued", "called", "recalled", "started", "finished", "no_show", "transferred", "rated"} <= kinds
    assert store.scalar(db, "SELECT COUNT(*) FROM tickets WHERE is_demo = 0") == 0
    assert store.scalar(db, "SELECT COUNT(*) FROM tickets WHERE status NOT IN ('done', 'no_show')") == 0
    assert store.scalar(db, "SELECT MAX(local_day) FROM tickets") <= LAST.isoformat()
    counters = store.all_rows(db, "SELECT state, clerk_id, current_ticket_id, state_since FROM counters")
    assert counters == [{"state": "closed", "clerk_id": None, "current_ticket_id": None, "state_since": None}] * 6
    sign_ins = store.all_rows(db, "SELECT kind, reason, COUNT(*) AS n FROM counter_events GROUP BY kind, reason")
    assert {(row["kind"], row["reason"]) for row in sign_ins} == {("signed_in", "demo_history"),
                                                                ("signed_out", "demo_history")}
    assert {row["n"] for row in sign_ins} == {6 * 9}
    clerks = {row["key"]: row for row in stats.compute(db, CENTRE, VN, FIRST, LAST, "clerk")}
    assert all(clerks[f"quay{number}"]["called"] > 0 for number in range(1, 7))
    assert store.scalar(db, "PRAGMA synchronous") == 2  # FULL again after the generator's NORMAL


def test_history_includes_dossiers_on_time_mostly(history):
    """Receptions leave dossiers, paid in cash or by transfer, mostly ready by their due date (issue 16)."""
    db, result = history
    kinds = {row["kind"] for row in store.all_rows(db, "SELECT DISTINCT kind FROM ticket_events")}
    assert {"dossier_received", "dossier_paid", "dossier_ready", "dossier_returned"} <= kinds
    assert result["dossiers"] == store.scalar(db, "SELECT COUNT(*) FROM dossiers WHERE is_demo = 1") > 50
    assert {row["paid_method"] for row in store.all_rows(db, "SELECT DISTINCT paid_method FROM dossiers "
                                                             "WHERE paid_method IS NOT NULL")} == {"cash", "transfer"}
    total = stats.summary(db, CENTRE, VN, FIRST, LAST, now=demo_history._local_epoch(LAST, 20 * 60, VN))
    assert total["dossiers"] > 0 and 85 <= total["on_time_pct"] <= 100
    procedures = stats.compute(db, CENTRE, VN, FIRST, LAST, "procedure")
    assert sum(row["dossiers"] for row in procedures) == total["dossiers"]


def test_generating_again_is_refused_and_replace_makes_the_same_history(demo_database, tmp_path):
    db = copy(demo_database, tmp_path)
    first = demo_history.generate(db, CENTRE, 3, seed=5, end_day=date(2026, 3, 4), daily_tickets=40)
    before = table_counts(db)
    with pytest.raises(QueueError) as refused:
        demo_history.generate(db, CENTRE, 3, seed=5, end_day=date(2026, 3, 4), daily_tickets=40)
    assert refused.value.code == "history_exists"
    assert table_counts(db) == before
    again = demo_history.generate(db, CENTRE, 3, seed=5, end_day=date(2026, 3, 4), daily_tickets=40, replace=True)
    assert {k: v for k, v in again.items() if k != "seconds"} == {k: v for k, v in first.items() if k != "seconds"}
    assert table_counts(db) == before


def test_history_never_touches_today_and_waits_for_a_quiet_centre(db):
    today = datetime.now(VN).date()
    with pytest.raises(QueueError) as refused:
        demo_history.generate(db, CENTRE, 2, end_day=today)
    assert refused.value.code == "bad_range"
    queue = QueueService(db, CENTRE, clock=lambda: local("2026-03-20 09:00"))
    counter = store.scalar(db, "SELECT id FROM counters WHERE number = 1")
    clerk = store.scalar(db, "SELECT id FROM users WHERE username = 'quay1'")
    queue.sign_in(counter, clerk)
    with pytest.raises(QueueError) as refused:
        demo_history.generate(db, CENTRE, 2, end_day=date(2026, 3, 4))
    assert refused.value.code == "counters_open"
    queue.sign_out(counter, clerk)
    queue.issue_ticket("TP")
    with pytest.raises(QueueError) as refused:
        demo_history.generate(db, CENTRE, 2, end_day=date(2026, 3, 4))
    assert refused.value.code == "queue_not_empty"
    with pytest.raises(QueueError) as refused:
        demo_history.generate(db, CENTRE, 2, end_day=date(2026, 3, 21))
    assert refused.value.code == "history_exists"  # a real ticket on the 20th
    assert store.scalar(db, "SELECT COUNT(*) FROM tickets") == 1


def test_delete_demo_removes_exactly_the_demo_rows(db):
    # A real day first: a ticket served at counter 1, with its sign-in and sign-out.
    clock = {"now": local("2026-03-20 09:00")}
    queue = QueueService(db, CENTRE, clock=lambda: clock["now"])
    counter = store.scalar(db, "SELECT id FROM counters WHERE number = 1")
    clerk = store.scalar(db, "SELECT id FROM users WHERE username = 'quay1'")
    queue.sign_in(counter, clerk)
    real = queue.issue_ticket("CT").result["id"]
    clock["now"] += 120
    queue.call_next(counter, clerk)
    queue.start(real, counter, clerk)
    clock["now"] += 240
    queue.finish(real, counter, clerk, ["CT-01"])
    queue.rate(real, 3)
    queue.sign_out(counter, clerk)
    real_rows = table_counts(db)
    real_day = stats.summary(db, CENTRE, VN, date(2026, 3, 20), date(2026, 3, 20))

    result = demo_history.generate(db, CENTRE, 4, seed=2, end_day=date(2026, 3, 6), daily_tickets=30)
    assert store.scalar(db, "SELECT COUNT(*) FROM tickets WHERE is_demo = 1") == result["tickets"] > 0
    assert stats.summary(db, CENTRE, VN, date(2026, 3, 3), date(2026, 3, 6))["issued"] == result["tickets"]

    removed = demo_history.delete_demo(db, CENTRE)
    assert removed["tickets"] == result["tickets"]
    assert removed["counter_events"] == 2 * 6 * 4
    assert table_counts(db) == real_rows
    assert store.scalar(db, "SELECT id FROM tickets") == real
    assert store.all_rows(db, "SELECT local_day FROM ticket_sequences") == [{"local_day": "2026-03-20"}]
    assert stats.summary(db, CENTRE, VN, date(2026, 3, 3), date(2026, 3, 6))["issued"] == 0
    assert stats.summary(db, CENTRE, VN, date(2026, 3, 20), date(2026, 3, 20)) == real_day
    assert demo_history.delete_demo(db, CENTRE) == {"events": 0, "procedures": 0, "tickets": 0, "sequences": 0,
                                                    "counter_events": 0, "dossiers": 0}
    # The numbers of the emptied days start again at 001.
    clock["now"] = local("2026-03-05 10:00")
    assert queue.issue_ticket("TP").result["number"] == "A001"


def test_missing_clerks_are_created(db):
    store.execute(db, "UPDATE users SET active = 0 WHERE username = 'quay4'")
    store.execute(db, "UPDATE users SET username = 'old-quay4' WHERE username = 'quay4'")
    result = demo_history.generate(db, CENTRE, 1, end_day=date(2026, 3, 4), daily_tickets=20)
    assert result["clerks_created"] == ["quay4"]
    assert store.one(db, "SELECT role, display_name FROM users WHERE username = 'quay4'") == {
        "role": "clerk", "display_name": "Cán bộ quầy 4"}
