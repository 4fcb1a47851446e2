"""Statistics from the event log: hand-computed figures on a small, fully known day of tickets."""
from __future__ import annotations

import shutil
import time
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from queueing import centre, stats, store
from queueing.model import QueueError
from queueing.service import QueueService

VN = ZoneInfo("Asia/Ho_Chi_Minh")
DAY = date(2026, 3, 2)  # a Monday, long before today, so its summary is stored and read back
CENTRE = centre.DEMO_CENTRE_ID


class Clock:
    """A settable clock in the centre's local time."""

    def __init__(self):
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def set(self, local: str) -> float:
        self.now = datetime.strptime(local, "%Y-%m-%d %H:%M:%S").replace(tzinfo=VN).timestamp()
        return self.now


class Desk:
    """Drives QueueService at given local times, by counter number."""

    def __init__(self, db):
        self.db = db
        self.clock = Clock()
        self.queue = QueueService(db, CENTRE, clock=self.clock)
        self.counters = {row["number"]: row["id"] for row in store.all_rows(db, "SELECT id, number FROM counters")}
        self.clerks = {number: store.scalar(db, "SELECT id FROM users WHERE username = ?", (f"quay{number}",))
                       for number in self.counters}

    def ids(self, number):
        return self.counters[number], self.clerks[number]

    def sign_in(self, *numbers, at="2026-03-02 07:30:00"):
        self.clock.set(at)
        for number in numbers:
            self.queue.sign_in(*self.ids(number))

    def issue(self, service, at):
        self.clock.set(at)
        return self.queue.issue_ticket(service).result["id"]

    def call(self, number, at, expect):
        self.clock.set(at)
        ticket = self.queue.call_next(*self.ids(number)).result["ticket"]
        assert ticket["id"] == expect
        return ticket

    def do(self, action, ticket_id, number, at, *args, **kwargs):
        self.clock.set(at)
        return getattr(self.queue, action)(ticket_id, *self.ids(number), *args, **kwargs)

    def rate(self, ticket_id, score, at):
        self.clock.set(at)
        self.queue.rate(ticket_id, score)


def serve(desk, ticket_id, number, called, started, finished, procedures, rating=None):
    desk.call(number, called, ticket_id)
    desk.do("start", ticket_id, number, started)
    desk.do("finish", ticket_id, number, finished, procedures)
    if rating:
        desk.rate(ticket_id, rating, finished)


@pytest.fixture
def day(db):
    """Seven tickets on 2 March 2026 whose every figure is worked out by hand below.

    CT (target 900 s) and TP (target set to 600 s); times are local:
      C1 CT 08:00 → called 08:05 at counter 1, started 08:06, finished 08:10 (CT-01), rated 3
      C2 CT 08:10 → called 08:30 at counter 1, started 08:31, finished 08:41 (CT-01, CT-02), rated 2
      C3 CT 08:20 → called 08:35 at counter 6, recalled twice, no-show 08:38
      C4 CT 09:00 → called 09:01 at counter 6, started 09:03, finished 09:13 (CT-02), rated 1
      P1 TP 08:00 → called 08:12 at counter 2, started 08:13, transferred to CT 08:20;
                    called 08:25 at counter 1, started 08:26, finished 08:30 (CT-03), rated 3
      P2 TP 08:30 → called 08:35 at counter 2, started 08:36, finished 08:50 (TP-01)
      P3 TP 09:00 → still waiting
    """
    store.execute(db, "UPDATE services SET target_wait_s = 600 WHERE code = 'TP'")
    desk = Desk(db)
    desk.sign_in(1, 2, 6)
    tickets = {}
    tickets["C1"] = desk.issue("CT", "2026-03-02 08:00:00")
    serve(desk, tickets["C1"], 1, "2026-03-02 08:05:00", "2026-03-02 08:06:00", "2026-03-02 08:10:00", ["CT-01"], 3)
    tickets["C2"] = desk.issue("CT", "2026-03-02 08:10:00")
    serve(desk, tickets["C2"], 1, "2026-03-02 08:30:00", "2026-03-02 08:31:00", "2026-03-02 08:41:00",
          ["CT-01", "CT-02"], 2)
    tickets["C3"] = desk.issue("CT", "2026-03-02 08:20:00")
    desk.call(6, "2026-03-02 08:35:00", tickets["C3"])
    desk.do("recall", tickets["C3"], 6, "2026-03-02 08:36:00")
    desk.do("recall", tickets["C3"], 6, "2026-03-02 08:37:00")
    desk.do("no_show", tickets["C3"], 6, "2026-03-02 08:38:00")
    tickets["C4"] = desk.issue("CT", "2026-03-02 09:00:00")
    serve(desk, tickets["C4"], 6, "2026-03-02 09:01:00", "2026-03-02 09:03:00", "2026-03-02 09:13:00", ["CT-02"], 1)
    tickets["P1"] = desk.issue("TP", "2026-03-02 08:00:00")
    desk.call(2, "2026-03-02 08:12:00", tickets["P1"])
    desk.do("start", tickets["P1"], 2, "2026-03-02 08:13:00")
    desk.do("transfer", tickets["P1"], 2, "2026-03-02 08:20:00", service="CT")
    serve(desk, tickets["P1"], 1, "2026-03-02 08:25:00", "2026-03-02 08:26:00", "2026-03-02 08:30:00", ["CT-03"], 3)
    tickets["P2"] = desk.issue("TP", "2026-03-02 08:30:00")
    serve(desk, tickets["P2"], 2, "2026-03-02 08:35:00", "2026-03-02 08:36:00", "2026-03-02 08:50:00", ["TP-01"])
    tickets["P3"] = desk.issue("TP", "2026-03-02 09:00:00")
    desk.tickets = tickets
    return desk


def by_key(rows):
    return {row["key"]: row for row in rows}


def spread(mean, median, p90):
    return {"mean": mean, "median": median, "p90": p90}


NONE = spread(None, None, None)


# ---- quantiles ------------------------------------------------------------------------------

def test_median_and_p90_interpolate_between_closest_ranks():
    assert stats.describe([]) == NONE
    assert stats.describe([7.0]) == spread(7.0, 7.0, 7.0)
    # odd count: the middle value; p90 at rank (5-1)*0.9 = 3.6
    assert stats.describe([50, 10, 40, 20, 30]) == spread(30.0, 30.0, 46.0)
    # even count: the mean of the two middle values; p90 at rank (6-1)*0.9 = 4.5
    assert stats.describe([60, 300, 300, 720, 900, 1200]) == spread(580.0, 510.0, 1050.0)
    # p90 of 11 values falls exactly on the 10th
    assert stats.describe(list(range(0, 110, 10)))["p90"] == 90.0


@pytest.mark.parametrize("seed", range(6))
def test_quantiles_of_many_stored_days_equal_those_of_one_sorted_list(monkeypatch, seed):
    import random
    from array import array
    rng = random.Random(seed)
    monkeypatch.setattr(stats.quantiles, "SORT_BELOW", 50)  # take the selection path even for small sets
    monkeypatch.setattr(stats.quantiles, "SELECT_RUN_LENGTH", 1)
    monkeypatch.setattr(stats.quantiles, "SAMPLE_SIZE", 64)
    monkeypatch.setattr(stats.quantiles, "SAMPLE_MARGIN", rng.choice((1, 3, 48)))  # narrow brackets must widen, not lie
    runs = [array("d", sorted(rng.choice((rng.randint(0, 50) * 30.0, rng.expovariate(1 / 900)))
                              for _ in range(rng.choice((0, 1, 3, 40, 400))))) for _ in range(rng.randint(2, 60))]
    everything = [value for run in runs for value in run]
    expected = stats.describe(everything) if everything else NONE
    assert stats.describe_runs([run for run in runs if run]) == expected


# ---- the whole day --------------------------------------------------------------------------

def test_summary_of_the_day(db, day):
    first = stats.summary(db, CENTRE, VN, DAY, DAY)
    assert store.scalar(db, "SELECT ready FROM stats_days WHERE local_day = ?", (DAY.isoformat(),)) == 1
    second = stats.summary(db, CENTRE, VN, DAY, DAY)  # read back from the stored daily summary
    assert first == second
    expected = {
        "key": "all", "issued": 7, "called": 6, "served": 5, "no_show": 1, "transferred": 1,
        # waits 60 300 300 720 900 1200
        "wait_s": spread(580.0, 510.0, 1050.0),
        # service 240 600 600 660 840 (P1: 420 at counter 2 + 240 at counter 1)
        "service_s": spread(588.0, 600.0, 768.0),
        # walk 60 60 60 120 120 (P1: 60 + 60)
        "walk_s": spread(84.0, 60.0, 120.0),
        # within target: C1 300≤900, C3 900≤900, C4 60≤900, P2 300≤600; missed: C2 1200, P1 720>600
        "sla_pct": 66.7, "no_show_pct": 16.7,
        "satisfaction_pct": 75.0, "ratings": {"1": 1, "2": 1, "3": 2},
        "procedures_per_ticket": 1.2,
    }
    assert {key: first[key] for key in expected} == expected


def test_by_service_counts_a_transferred_ticket_for_the_service_it_was_issued_for(db, day):
    rows = by_key(stats.compute(db, CENTRE, VN, DAY, DAY, "service"))
    assert list(rows)[:2] == ["TP", "CT"]  # display order of the catalogue
    assert rows["CT"]["label"] == "Chứng thực"
    ct, tp = rows["CT"], rows["TP"]
    assert (ct["issued"], ct["called"], ct["served"], ct["no_show"], ct["transferred"]) == (4, 4, 3, 1, 0)
    assert ct["wait_s"] == spread(615.0, 600.0, 1110.0)  # 60 300 900 1200
    assert ct["service_s"] == spread(480.0, 600.0, 600.0)  # 240 600 600
    assert ct["walk_s"] == spread(80.0, 60.0, 108.0)  # 60 60 120
    assert (ct["sla_pct"], ct["no_show_pct"], ct["satisfaction_pct"]) == (75.0, 25.0, 66.7)
    assert ct["ratings"] == {"1": 1, "2": 1, "3": 1}
    assert ct["procedures_per_ticket"] == 1.33
    assert (tp["issued"], tp["called"], tp["served"], tp["no_show"], tp["transferred"]) == (3, 2, 2, 0, 1)
    assert tp["wait_s"] == spread(510.0, 510.0, 678.0)  # 300 720
    assert tp["service_s"] == spread(750.0, 750.0, 822.0)  # 660 840
    assert tp["walk_s"] == spread(90.0, 90.0, 114.0)  # 60 120
    assert (tp["sla_pct"], tp["no_show_pct"], tp["satisfaction_pct"]) == (50.0, 0.0, 100.0)
    assert tp["procedures_per_ticket"] == 1.0
    quiet = rows["DD"]
    assert (quiet["issued"], quiet["called"], quiet["served"]) == (0, 0, 0)
    assert quiet["wait_s"] == quiet["service_s"] == quiet["walk_s"] == NONE
    assert quiet["sla_pct"] is quiet["no_show_pct"] is quiet["satisfaction_pct"] is None
    assert quiet["procedures_per_ticket"] is None


def test_sla_follows_each_services_target_and_its_changes(db, day):
    store.execute(db, "UPDATE services SET target_wait_s = 300 WHERE code = 'CT'")
    rows = by_key(stats.compute(db, CENTRE, VN, DAY, DAY, "service"))
    assert rows["CT"]["sla_pct"] == 50.0  # 60 and 300 within 300 s; 900 and 1200 not
    assert rows["TP"]["sla_pct"] == 50.0
    store.execute(db, "UPDATE services SET target_wait_s = 720 WHERE code = 'TP'")
    assert by_key(stats.compute(db, CENTRE, VN, DAY, DAY, "service"))["TP"]["sla_pct"] == 100.0
    assert stats.summary(db, CENTRE, VN, DAY, DAY)["sla_pct"] == 66.7  # 60 300 | 300 720 of 6


def test_by_procedure_counts_a_tickets_service_time_once_per_procedure(db, day):
    rows = by_key(stats.compute(db, CENTRE, VN, DAY, DAY, "procedure"))
    ct1, ct2, ct3, tp1 = rows["CT-01"], rows["CT-02"], rows["CT-03"], rows["TP-01"]
    assert ct1["service"] == "CT" and ct1["issued"] is None
    # CT-01: C1 and C2 (C2 handled CT-02 as well and brings its whole 600 s here)
    assert (ct1["called"], ct1["served"], ct1["no_show"]) == (2, 2, 0)
    assert ct1["wait_s"] == spread(750.0, 750.0, 1110.0)
    assert ct1["service_s"] == spread(420.0, 420.0, 564.0)
    assert (ct1["sla_pct"], ct1["satisfaction_pct"], ct1["procedures_per_ticket"]) == (50.0, 100.0, 1.5)
    # CT-02: C2 and C4
    assert ct2["wait_s"] == spread(630.0, 630.0, 1086.0) and ct2["service_s"] == spread(600.0, 600.0, 600.0)
    assert ct2["ratings"] == {"1": 1, "2": 1, "3": 0}
    # CT-03: P1, issued for TP, so measured against TP's 600 s target
    assert (ct3["served"], ct3["transferred"], ct3["sla_pct"]) == (1, 1, 0.0)
    assert ct3["service_s"]["mean"] == 660.0 and ct3["walk_s"]["mean"] == 120.0
    assert tp1["wait_s"]["median"] == 300.0 and tp1["service_s"]["median"] == 840.0
    assert rows["TP-02"]["served"] == 0 and rows["TP-02"]["wait_s"] == NONE


def test_by_counter_and_clerk_use_the_visits_at_each_counter(db, day):
    rows = by_key(stats.compute(db, CENTRE, VN, DAY, DAY, "counter"))
    assert list(rows) == [1, 2, 3, 4, 5, 6]
    assert rows[1]["label"] == "Quầy 1 – Tư pháp, Chứng thực"
    one, two, six = rows[1], rows[2], rows[6]
    assert one["issued"] is None
    # counter 1: C1, C2 and P1's second visit; only C1 and C2 were first called here
    assert (one["called"], one["served"], one["no_show"], one["transferred"]) == (3, 3, 0, 0)
    assert one["wait_s"] == spread(750.0, 750.0, 1110.0) and one["sla_pct"] == 50.0
    assert one["service_s"] == spread(360.0, 240.0, 528.0)  # 240 240 600
    assert one["walk_s"] == spread(60.0, 60.0, 60.0)
    assert one["ratings"] == {"1": 0, "2": 1, "3": 2} and one["satisfaction_pct"] == 100.0
    assert one["procedures_per_ticket"] == 1.33
    # counter 2: P1 transferred away after 420 s of service, P2 served
    assert (two["called"], two["served"], two["transferred"]) == (2, 1, 1)
    assert two["wait_s"] == spread(510.0, 510.0, 678.0) and two["sla_pct"] == 50.0
    assert two["service_s"] == spread(840.0, 840.0, 840.0)
    assert two["satisfaction_pct"] is None
    # counter 6: C3 absent after two recalls, C4 served
    assert (six["called"], six["served"], six["no_show"], six["no_show_pct"]) == (2, 1, 1, 50.0)
    assert six["wait_s"] == spread(480.0, 480.0, 816.0) and six["sla_pct"] == 100.0
    assert (six["walk_s"]["mean"], six["satisfaction_pct"]) == (120.0, 0.0)
    assert rows[3]["called"] == 0 and rows[3]["wait_s"] == NONE and rows[3]["no_show_pct"] is None

    clerks = by_key(stats.compute(db, CENTRE, VN, DAY, DAY, "clerk"))
    assert clerks["quay1"]["label"] == "Cán bộ quầy 1"
    for number in (1, 2, 6):
        clerk = {k: v for k, v in clerks[f"quay{number}"].items() if k not in ("key", "label", "user_id")}
        counter = {k: v for k, v in rows[number].items() if k not in ("key", "label", "counter_id")}
        assert clerk == counter
    assert "admin" not in clerks  # only clerks, or whoever has visits


def test_visit_returned_on_sign_out_keeps_the_first_call_as_the_wait(db):
    desk = Desk(db)
    desk.sign_in(1, 6)
    ticket = desk.issue("CT", "2026-03-02 10:00:00")
    desk.call(1, "2026-03-02 10:05:00", ticket)
    desk.clock.set("2026-03-02 10:06:00")
    desk.queue.sign_out(*desk.ids(1))
    serve(desk, ticket, 6, "2026-03-02 10:10:00", "2026-03-02 10:11:00", "2026-03-02 10:15:00", ["CT-01"])
    total = stats.summary(db, CENTRE, VN, DAY, DAY)
    assert (total["called"], total["served"], total["transferred"]) == (1, 1, 0)
    assert total["wait_s"]["mean"] == 300.0 and total["service_s"]["mean"] == 240.0
    counters = by_key(stats.compute(db, CENTRE, VN, DAY, DAY, "counter"))
    assert (counters[1]["called"], counters[1]["served"], counters[1]["wait_s"]["mean"]) == (1, 0, 300.0)
    assert (counters[6]["called"], counters[6]["served"], counters[6]["wait_s"]) == (1, 1, NONE)
    assert counters[6]["sla_pct"] is None and counters[6]["walk_s"]["mean"] == 60.0
    journal = list(stats.ticket_journal(db, CENTRE, VN, DAY, DAY))
    assert (journal[0]["counter_number"], journal[0]["transfers"], journal[0]["service_s"]) == (6, 0, 240.0)


def test_by_hour_uses_local_issue_hours(db, day):
    rows = by_key(stats.compute(db, CENTRE, VN, DAY, DAY, "hour"))
    assert list(rows) == list(range(24)) and rows[8]["label"] == "08:00"
    assert (rows[8]["issued"], rows[8]["called"]) == (5, 5)  # C1 C2 C3 P1 P2
    assert (rows[9]["issued"], rows[9]["called"], rows[9]["served"]) == (2, 1, 1)  # C4 and P3
    assert rows[8]["wait_s"] == spread(684.0, 720.0, 1080.0)  # 300 300 720 900 1200
    assert rows[1]["issued"] == 0  # 08:00 local is 01:00 UTC
    heat = by_key(stats.compute(db, CENTRE, VN, DAY, DAY, "weekday_hour"))
    assert len(heat) == 7 * 24
    assert heat["1-08"]["label"] == "T2 08:00" and (heat["1-08"]["weekday"], heat["1-08"]["hour"]) == (1, 8)
    assert heat["1-08"]["issued"] == 5 and heat["1-09"]["issued"] == 2
    assert sum(row["issued"] for row in heat.values()) == 7
    arrivals = by_key([{**row, "key": row["hour"]} for row in
                       stats.hourly_arrivals_served(db, CENTRE, VN, DAY, DAY)])
    assert (arrivals[8]["issued"], arrivals[8]["served"]) == (5, 4)  # finished 08:10 08:30 08:41 08:50
    assert (arrivals[9]["issued"], arrivals[9]["served"]) == (2, 1)  # C4 finished 09:13


def test_wait_histogram_buckets(db, day):
    assert stats.wait_histogram(db, CENTRE, VN, DAY, DAY, bucket_s=300) == [
        {"from_s": 0, "to_s": 300, "count": 1}, {"from_s": 300, "to_s": 600, "count": 2},
        {"from_s": 600, "to_s": 900, "count": 1}, {"from_s": 900, "to_s": 1200, "count": 1},
        {"from_s": 1200, "to_s": 1500, "count": 1}]
    assert sum(b["count"] for b in stats.wait_histogram(db, CENTRE, VN, DAY, DAY, bucket_s=60)) == 6
    with pytest.raises(QueueError):
        stats.wait_histogram(db, CENTRE, VN, DAY, DAY, bucket_s=0)


def test_today_kpis(db, day):
    now = day.clock.set("2026-03-02 09:30:00")
    kpis = stats.today_kpis(db, CENTRE, VN, now)
    assert kpis["day"] == "2026-03-02"
    assert (kpis["waiting_now"], kpis["longest_wait_s"]) == (1, 1800.0)  # P3 since 09:00
    assert (kpis["mean_wait_s"], kpis["served"], kpis["sla_pct"], kpis["satisfaction_pct"]) == (580.0, 5, 66.7, 75.0)
    tomorrow = stats.today_kpis(db, CENTRE, VN, now + 86400)
    assert (tomorrow["issued"], tomorrow["served"], tomorrow["mean_wait_s"], tomorrow["sla_pct"]) == (0, 0, None, None)


def test_a_new_event_makes_the_stored_day_be_rebuilt(db, day):
    assert stats.summary(db, CENTRE, VN, DAY, DAY)["ratings"] == {"1": 1, "2": 1, "3": 2}
    assert store.scalar(db, "SELECT COUNT(*) FROM stats_daily WHERE local_day = ?", (DAY.isoformat(),)) > 0
    day.rate(day.tickets["P2"], 3, "2026-03-02 08:51:00")
    assert store.scalar(db, "SELECT COUNT(*) FROM stats_days WHERE local_day = ?", (DAY.isoformat(),)) == 0
    after = stats.summary(db, CENTRE, VN, DAY, DAY)
    assert after["ratings"] == {"1": 1, "2": 1, "3": 3} and after["satisfaction_pct"] == 80.0
    assert by_key(stats.compute(db, CENTRE, VN, DAY, DAY, "counter"))[2]["satisfaction_pct"] == 100.0


def test_stored_and_live_figures_are_identical(db, day):
    stored = {by: stats.compute(db, CENTRE, VN, DAY, DAY, by) for by in stats.BREAKDOWNS}
    assert stats.refresh(db, CENTRE, VN, DAY, DAY) == 0  # already stored by the calls above
    store.execute(db, "DELETE FROM stats_days")
    db.conn.execute("BEGIN")  # inside a caller's transaction nothing is stored: all from the log
    try:
        live = {by: stats.compute(db, CENTRE, VN, DAY, DAY, by) for by in stats.BREAKDOWNS}
    finally:
        db.conn.execute("ROLLBACK")
    assert store.scalar(db, "SELECT COUNT(*) FROM stats_days") == 0
    assert live == stored


# ---- days and time zones --------------------------------------------------------------------

def test_the_local_issue_day_decides_across_midnight(db):
    desk = Desk(db)
    desk.sign_in(2, at="2026-03-02 23:00:00")
    late = desk.issue("TP", "2026-03-02 23:30:00")  # 16:30 UTC on the 2nd
    serve(desk, late, 2, "2026-03-02 23:50:00", "2026-03-02 23:52:00", "2026-03-03 00:05:00", ["TP-01"])
    early = desk.issue("TP", "2026-03-03 00:10:00")  # 17:10 UTC on the 2nd, local day the 3rd
    serve(desk, early, 2, "2026-03-03 00:20:00", "2026-03-03 00:21:00", "2026-03-03 00:30:00", ["TP-01"])
    days = by_key(stats.compute(db, CENTRE, VN, date(2026, 3, 2), date(2026, 3, 3), "day"))
    assert list(days) == ["2026-03-02", "2026-03-03"] and days["2026-03-02"]["label"] == "02/03/2026 (T2)"
    assert (days["2026-03-02"]["issued"], days["2026-03-02"]["served"]) == (1, 1)
    assert (days["2026-03-03"]["issued"], days["2026-03-03"]["served"]) == (1, 1)
    # finished after midnight, still the 2nd's ticket
    assert days["2026-03-02"]["service_s"]["mean"] == 780.0 and days["2026-03-02"]["wait_s"]["mean"] == 1200.0
    assert days["2026-03-03"]["wait_s"]["mean"] == 600.0
    first_day = stats.summary(db, CENTRE, VN, date(2026, 3, 2), date(2026, 3, 2))
    assert (first_day["issued"], first_day["served"]) == (1, 1)
    hours = by_key(stats.compute(db, CENTRE, VN, date(2026, 3, 2), date(2026, 3, 3), "hour"))
    assert (hours[23]["issued"], hours[0]["issued"], hours[16]["issued"], hours[17]["issued"]) == (1, 1, 0, 0)
    flow = stats.hourly_arrivals_served(db, CENTRE, VN, date(2026, 3, 2), date(2026, 3, 2))
    assert (flow[23]["issued"], flow[23]["served"], flow[0]["served"]) == (1, 0, 1)
    heat = by_key(stats.compute(db, CENTRE, VN, date(2026, 3, 2), date(2026, 3, 3), "weekday_hour"))
    assert heat["1-23"]["issued"] == 1 and heat["2-00"]["issued"] == 1  # Monday 23:00, Tuesday 00:00
    journal = list(stats.ticket_journal(db, CENTRE, VN, date(2026, 3, 2), date(2026, 3, 3)))
    assert [(row["local_day"], row["issued_at"], row["finished_at"]) for row in journal] == [
        ("2026-03-02", "2026-03-02T23:30:00+07:00", "2026-03-03T00:05:00+07:00"),
        ("2026-03-03", "2026-03-03T00:10:00+07:00", "2026-03-03T00:30:00+07:00")]


def test_empty_ranges_give_zero_counts_and_no_figures(db, day):
    empty = date(2025, 12, 1)
    for by in stats.BREAKDOWNS:
        rows = stats.compute(db, CENTRE, VN, empty, date(2025, 12, 2), by)
        assert rows, by
        for row in rows:
            assert row["called"] == row["served"] == row["no_show"] == row["transferred"] == 0
            assert row["issued"] in (0, None)
            assert row["wait_s"] == row["service_s"] == row["walk_s"] == NONE
            assert row["sla_pct"] is row["no_show_pct"] is row["satisfaction_pct"] is None
            assert row["ratings"] == {"1": 0, "2": 0, "3": 0} and row["procedures_per_ticket"] is None
    assert len(stats.compute(db, CENTRE, VN, empty, date(2025, 12, 2), "day")) == 2
    assert stats.summary(db, CENTRE, VN, empty, empty)["issued"] == 0
    assert stats.wait_histogram(db, CENTRE, VN, empty, empty) == []
    assert list(stats.ticket_journal(db, CENTRE, VN, empty, empty)) == []
    flow = stats.hourly_arrivals_served(db, CENTRE, VN, empty, empty)
    assert len(flow) == 24 and all(row["issued"] == row["served"] == 0 for row in flow)


def test_bad_arguments_are_refused(db):
    with pytest.raises(QueueError) as refused:
        stats.compute(db, CENTRE, VN, DAY, DAY, "weekday")
    assert refused.value.code == "bad_breakdown"
    with pytest.raises(QueueError) as refused:
        stats.summary(db, CENTRE, VN, date(2026, 3, 3), DAY)
    assert refused.value.code == "bad_range"


# ---- journal --------------------------------------------------------------------------------

def test_ticket_journal_streams_every_ticket_without_personal_data(db, day):
    journal = stats.ticket_journal(db, CENTRE, VN, DAY, DAY)
    assert iter(journal) is journal  # a generator: exports stream it
    rows = list(journal)
    assert [row["number"] for row in rows] == ["A001", "B001", "B002", "B003", "A002", "A003", "B004"]
    by_number = {row["number"]: row for row in rows}
    transferred = by_number["A001"]
    assert transferred == {
        "local_day": "2026-03-02", "number": "A001", "service": "TP", "service_name": "Tư pháp – Hộ tịch",
        "final_service": "CT", "priority": "", "lang": "vi", "status": "done",
        "issued_at": "2026-03-02T08:00:00+07:00", "first_called_at": "2026-03-02T08:12:00+07:00",
        "started_at": "2026-03-02T08:13:00+07:00", "finished_at": "2026-03-02T08:30:00+07:00",
        "counter": "Quầy 1 – Tư pháp, Chứng thực", "counter_number": 1, "clerk": "Cán bộ quầy 1",
        "procedures": "CT-03", "rating": 3, "wait_s": 720.0, "walk_s": 120.0, "service_s": 660.0,
        "recalls": 0, "transfers": 1}
    absent = by_number["B003"]
    assert (absent["status"], absent["recalls"], absent["finished_at"], absent["service_s"]) == (
        "no_show", 2, "2026-03-02T08:38:00+07:00", None)
    assert by_number["B002"]["procedures"] == "CT-01, CT-02"
    assert by_number["A003"]["status"] == "waiting" and by_number["A003"]["wait_s"] is None
    personal = {"citizen_name", "citizen_id_hash", "citizen_id_last4", "citizen_birth_year", "dossier_number", "id"}
    assert not personal & set(rows[0])
