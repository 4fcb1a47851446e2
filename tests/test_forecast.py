"""The forecast: every waiting ticket's place and wait from the real call policy run forward."""
from __future__ import annotations

import pytest

from queueing import forecast, store
from queueing.forecast import CounterNow, HandlingTimes, WaitingTicket, simulate
from tests.conftest import clerk_id, counter_id

MINUTE = 60.0
TEN_MINUTES = HandlingTimes(10 * MINUTE, 0.0)


def ordinary(ticket_id, service, target=None):
    return WaitingTicket(ticket_id, service, False, target)


def priority(ticket_id, service):
    return WaitingTicket(ticket_id, service, True)


# ---- the simulation alone -------------------------------------------------------------------------

def test_a_shared_counter_counts_every_service_it_serves():
    # counter 6 alone serves CT (1), LLTP (2), GT (3) and BHXH (4); five CT tickets wait
    counters = [CounterNow(6, frozenset({1, 2, 3, 4}), 0.0)]
    tickets = [ordinary(f"ct{n}", 1) for n in range(5)]
    schedule = simulate(0.0, counters, tickets, {s: TEN_MINUTES for s in (1, 2, 3, 4)}, priority_ratio=0)
    newcomer = schedule.for_new_ordinary(2, now=0.0)
    assert schedule.position(newcomer) == 5 and newcomer.wait_s(0.0) == 50 * 60


def test_counters_share_the_queue_and_the_first_free_takes_the_oldest():
    counters = [CounterNow(1, frozenset({1}), 0.0), CounterNow(2, frozenset({1, 2}), 5 * MINUTE)]
    tickets = [ordinary("a", 1), ordinary("b", 2), ordinary("c", 1), ordinary("d", 1)]
    schedule = simulate(0.0, counters, tickets, {1: TEN_MINUTES, 2: TEN_MINUTES}, 0)
    assert {ticket: (schedule.position(call), call.at / MINUTE, call.counter_id)
            for ticket, call in schedule.calls.items()} == {
        "a": (0, 0, 1), "b": (1, 5, 2), "c": (2, 10, 1), "d": (3, 15, 2)}


def test_priority_first_and_the_ratio_lets_ordinary_tickets_through():
    counters = [CounterNow(1, frozenset({1}), 0.0)]
    tickets = [ordinary("o1", 1), priority("p1", 1), priority("p2", 1), priority("p3", 1)]
    always = simulate(0.0, counters, tickets, {1: TEN_MINUTES}, priority_ratio=0)
    assert sorted(always.calls, key=lambda t: always.position(always.calls[t])) == ["p1", "p2", "p3", "o1"]
    counters = [CounterNow(1, frozenset({1}), 0.0)]
    two_then_one = simulate(0.0, counters, tickets, {1: TEN_MINUTES}, priority_ratio=2)
    assert sorted(two_then_one.calls, key=lambda t: two_then_one.position(two_then_one.calls[t])) == \
        ["p1", "p2", "o1", "p3"]


def test_the_ratio_carries_on_from_the_counters_recent_calls():
    counters = [CounterNow(1, frozenset({1}), 0.0, consecutive_priority_calls=2)]
    schedule = simulate(0.0, counters, [ordinary("o1", 1), priority("p1", 1)], {1: TEN_MINUTES}, priority_ratio=2)
    assert schedule.position(schedule.calls["o1"]) == 0


def test_a_ticket_sent_to_a_counter_waits_for_that_counter_only():
    counters = [CounterNow(1, frozenset({1}), 0.0), CounterNow(2, frozenset({1}), 30 * MINUTE)]
    tickets = [ordinary("sent", 1, target=2), ordinary("a", 1), ordinary("b", 1)]
    schedule = simulate(0.0, counters, tickets, {1: TEN_MINUTES}, 0)
    assert schedule.calls["sent"].counter_id == 2 and schedule.calls["sent"].at == 30 * MINUTE
    assert schedule.calls["a"].at == 0 and schedule.calls["b"].at == 10 * MINUTE


def test_no_open_counter_gives_no_wait_but_the_place_in_line():
    schedule = simulate(0.0, [CounterNow(1, frozenset({1}), 0.0)],
                        [ordinary("x", 2), priority("y", 2), ordinary("z", 2)], {1: TEN_MINUTES, 2: TEN_MINUTES}, 0)
    assert schedule.for_new_ordinary(2, now=0.0) is None and not schedule.calls
    assert schedule.order_places == {"x": 1, "y": 0, "z": 2}


def test_a_newcomer_extends_the_schedule_exactly_as_a_fresh_pass_would():
    handling = {1: HandlingTimes(7 * MINUTE, 4.0), 2: HandlingTimes(12 * MINUTE, 9.0), 3: TEN_MINUTES}
    services = [1, 2, 3, 1, 2, 1, 1, 3, 2, 2, 1, 3]

    def counters():
        return [CounterNow(1, frozenset({1, 2}), 3 * MINUTE), CounterNow(2, frozenset({2, 3}), 0.0),
                CounterNow(3, frozenset({1}), 8 * MINUTE, consecutive_priority_calls=1)]
    base = [ordinary("t0", 1), priority("t1", 2), ordinary("t2", 3)]
    grown = simulate(0.0, counters(), base, handling, 2)
    newcomers = [ordinary(f"n{index}", service) for index, service in enumerate(services)]
    for ticket in newcomers:
        grown.add_ordinary(ticket.id, ticket.service_id, now=0.0)
    fresh = simulate(0.0, counters(), base + newcomers, handling, 2)
    assert {t: (grown.position(c), c.at, c.counter_id) for t, c in grown.calls.items()} == \
        {t: (fresh.position(c), c.at, c.counter_id) for t, c in fresh.calls.items()}
    assert grown.for_new_ordinary(2, now=0.0) == fresh.for_new_ordinary(2, now=0.0)


def test_handling_times_learn_from_history_and_fall_back_to_the_configured_time():
    learned = HandlingTimes.learn([300, 600, 900, 600, 600], default_service_s=420)
    assert learned.mean == 600 and learned.variance == pytest.approx(45000)
    assert learned.remaining(0) == 600 and learned.remaining(700) == 200  # only the 900 s one lasted that long
    assert learned.remaining(5000) >= 30  # longer than ever seen: soon, never now or in the past
    fallback = HandlingTimes.learn([300], default_service_s=420)
    assert fallback.mean == 420 + forecast.WALK_UP_S


def test_a_paused_counter_comes_back_after_its_expected_pause():
    handling = {1: TEN_MINUTES}
    row = {"id": 1, "state": "paused", "pause_reason": "meeting", "state_since": 0.0, "current_status": None,
           "current_service_id": None, "current_called_at": None, "consecutive_priority_calls": 0}
    assert forecast.counter_now(60.0, row, frozenset({1}), handling).free_at == 45 * MINUTE
    overdue = forecast.counter_now(50 * MINUTE, row, frozenset({1}), handling)
    assert overdue.free_at == 50 * MINUTE + forecast.OVERDUE_PAUSE_S


def test_the_range_holds_the_wait_and_is_never_negative():
    call = forecast.Call(at=1200.0, counter_id=1, variance=(5 * MINUTE) ** 2, counters=1)
    low, high = call.range_s(0.0)
    assert 0 <= low < 1200 < high
    assert call.range_s(2000.0)[0] == 0


# ---- through the queue, with the demo centre ------------------------------------------------------

def test_one_counter_for_two_services_tells_the_newcomer_behind_the_other_service(queue, db, clock):
    counter6 = counter_id(db, 6)  # serves LLTP, GT, BHXH and CT
    queue.sign_in(counter6, clerk_id(db, 6))
    for _ in range(5):
        queue.issue_ticket("CT")
        clock.advance(30)
    ticket = queue.issue_ticket("LLTP").result
    assert ticket["position"] >= 5 and ticket["estimated_wait_s"] > 0
    low, high = ticket["estimated_wait_range_s"]
    assert low <= ticket["estimated_wait_s"] <= high
    # and it is indeed the sixth called
    called = [queue.call_next(counter6, clerk_id(db, 6)).result["ticket"]["service"] for _ in range(1)]
    assert called == ["CT"]


def test_a_service_no_open_counter_serves_has_no_wait(queue, db):
    queue.sign_in(counter_id(db, 1), clerk_id(db, 1))  # serves TP only
    ticket = queue.issue_ticket("DD").result
    assert ticket["estimated_wait_s"] is None and ticket["estimated_wait_range_s"] is None
    summary = {row["code"]: row for row in queue.queue_summary()["services"]}
    assert summary["DD"]["estimated_wait_s"] is None and summary["DD"]["open_counters"] == 0
    assert summary["TP"]["estimated_wait_s"] == 0 and summary["TP"]["open_counters"] == 1


def test_issuing_keeps_the_cached_schedule_equal_to_a_fresh_one(queue, db, clock):
    for number in (1, 2, 6):
        queue.sign_in(counter_id(db, number), clerk_id(db, number))
    queue.issue_ticket("TP", priority="NCT")
    issued = []
    for service in ["TP", "CT", "LLTP", "TP", "GT", "CT", "TP", "BHXH"] * 3:
        issued.append(queue.issue_ticket(service).result)  # in one instant: time alone moves a forecast too
    cached = queue.schedule()
    forecast.schedules.clear()
    fresh = queue.schedule()
    assert cached is not fresh
    for ticket in issued:
        assert cached.position(cached.calls[ticket["id"]]) == fresh.position(fresh.calls[ticket["id"]])
        assert cached.calls[ticket["id"]].at == pytest.approx(fresh.calls[ticket["id"]].at, abs=1e-6)


def test_a_call_moves_everybody_up(queue, db, clock):
    counter1, clerk1 = counter_id(db, 1), clerk_id(db, 1)
    queue.sign_in(counter1, clerk1)
    tickets = [queue.issue_ticket("TP").result for _ in range(4)]
    assert [t["position"] for t in tickets] == [0, 1, 2, 3]
    queue.call_next(counter1, clerk1)
    places = [queue.public_ticket(queue.ticket(t["id"]))["position"] for t in tickets[1:]]
    assert places == [0, 1, 2]
    waits = [queue.public_ticket(queue.ticket(t["id"]))["estimated_wait_s"] for t in tickets[1:]]
    assert 0 < waits[0] < waits[1] < waits[2]


def test_tracking_updates_come_from_one_forecast_for_every_watched_ticket(queue, db):
    counter1, clerk1 = counter_id(db, 1), clerk_id(db, 1)
    queue.sign_in(counter1, clerk1)
    tickets = [queue.issue_ticket("TP").result for _ in range(3)]
    queue.call_next(counter1, clerk1)
    events = queue.tracking_updates([t["id"] for t in tickets] + ["unknown"])
    assert [(e.payload["id"], e.payload["position"]) for e in events] == [(tickets[1]["id"], 0), (tickets[2]["id"], 1)]
    assert all(e.rooms == (f"ticket:{e.payload['id']}",) for e in events)
    assert store.scalar(db, "SELECT COUNT(*) FROM tickets WHERE status = 'waiting'") == 2


def test_a_reader_behind_a_writer_uses_the_writers_newer_schedule_and_never_replaces_it():
    cache = forecast.ScheduleCache()
    older = simulate(100.0, [], [], {}, 0)
    newer = simulate(100.0, [], [], {}, 0)
    cache.put(("db", "c"), (10, 3, "cfg", 0), newer)
    assert cache.get(("db", "c"), (9, 3, "cfg", 0), now=101.0) is newer  # committed state not yet caught up
    assert cache.get(("db", "c"), (11, 3, "cfg", 0), now=101.0) is None  # something newer happened
    assert cache.get(("db", "c"), (10, 3, "other", 0), now=101.0) is None  # counters got other services
    cache.put(("db", "c"), (9, 3, "cfg", 0), older)  # a slower rebuild of an older state
    assert cache.get(("db", "c"), (10, 3, "cfg", 0), now=101.0) is newer
    assert cache.get(("db", "c"), (10, 3, "cfg", 0), now=100.0 + forecast.SCHEDULE_MAX_AGE_S + 1) is None
