"""Issue 11: statistics replay the event log in the order it was written, and a clock stepped back gives no negative time."""
from __future__ import annotations

from datetime import date

from queueing import stats, store

DAY = date(2026, 11, 24)


def test_a_clock_set_back_between_issue_and_call_gives_a_wait_of_zero_never_negative(queue, db, open_counter, clock):
    counter, clerk = open_counter(2)
    store.execute(db, "UPDATE services SET target_wait_s = 600 WHERE code = 'TP'")
    stepped = queue.issue_ticket("TP").result
    clock.advance(-300)  # NTP steps the server's clock five minutes back
    queue.call_next(counter, clerk)
    queue.start(stepped["id"], counter, clerk)
    clock.advance(240)
    queue.finish(stepped["id"], counter, clerk, "TP-01")
    clock.advance(60)
    normal = queue.issue_ticket("TP").result
    clock.advance(1200)  # 20 minutes: over the 10-minute target
    queue.call_next(counter, clerk)
    queue.no_show(normal["id"], counter, clerk)
    row = stats.summary(db, queue.centre_id, queue.tz, DAY, DAY)
    assert row["wait_s"] == {"mean": 600.0, "median": 600.0, "p90": 1080.0}  # waits 0 and 1200
    assert row["called"] == 2 and row["sla_pct"] == 50.0  # the 0 wait within the target, the 1200 s one not
    assert row["service_s"]["mean"] == 240.0
    journal = {entry["number"]: entry for entry in stats.ticket_journal(db, queue.centre_id, queue.tz, DAY, DAY)}
    assert journal[stepped["number"]]["wait_s"] == 0.0 and journal[normal["number"]]["wait_s"] == 1200.0
    assert [bucket["count"] for bucket in stats.wait_histogram(db, queue.centre_id, queue.tz, DAY, DAY, 600)] == [1, 0, 1]
    by_counter = [r for r in stats.compute(db, queue.centre_id, queue.tz, DAY, DAY, "counter") if r["key"] == 2][0]
    assert by_counter["wait_s"]["mean"] == 600.0 and by_counter["sla_pct"] == 50.0


def test_events_replay_in_log_order_when_the_clock_stepped_back_mid_service(queue, db, open_counter, clock):
    counter, clerk = open_counter(2)
    ticket = queue.issue_ticket("TP").result
    clock.advance(120)
    queue.call_next(counter, clerk)
    clock.advance(30)
    queue.start(ticket["id"], counter, clerk)
    clock.advance(-600)  # the finish is stamped before the start; by clock order it would never be served
    queue.finish(ticket["id"], counter, clerk, "TP-01")
    row = stats.summary(db, queue.centre_id, queue.tz, DAY, DAY)
    assert (row["issued"], row["called"], row["served"]) == (1, 1, 1)
    assert row["wait_s"]["mean"] == 120.0 and row["service_s"]["mean"] == 0.0
    assert row["walk_s"]["mean"] == 30.0


def test_a_stored_day_is_rebuilt_after_a_late_event(queue, db, open_counter, clock):
    """Yesterday's summary is cached; an event logged later for one of its tickets (a restore) makes it stale."""
    counter, clerk = open_counter(2)
    ticket = queue.issue_ticket("TP").result
    clock.advance(60)
    queue.call_next(counter, clerk)
    queue.no_show(ticket["id"], counter, clerk)
    clock.set_local("2026-11-25 09:00")
    first = stats.summary(db, queue.centre_id, queue.tz, DAY, DAY)
    assert first["no_show"] == 1
    assert store.scalar(db, "SELECT ready FROM stats_days WHERE local_day = '2026-11-24'") == 1
    with store.transaction(db):  # as a restore would log it
        store.add_ticket_event(db, queue.centre_id, ticket["id"], clock(), "restored", "no_show", "waiting",
                               queue.ticket(ticket["id"])["service_id"])
    assert store.scalar(db, "SELECT COUNT(*) FROM stats_days WHERE local_day = '2026-11-24'") == 0
    again = stats.summary(db, queue.centre_id, queue.tz, DAY, DAY)
    assert (again["called"], again["no_show"]) == (1, 0)
