"""Dossiers in the core (issue 16): due dates in working days, the receipt at finish, ready → returned, payment."""
from __future__ import annotations

import json

import pytest

from queueing import dossiers, holidays, store
from queueing.dossiers import DossierDesk
from queueing.model import QueueError

CODE = "000.00.30.H56-241204-0001"


def serve(queue, open_counter, service="CA_CT", counter=3):
    counter_id, clerk = open_counter(counter)
    ticket = queue.issue_ticket(service).result
    queue.call_next(counter_id, clerk)
    queue.start(ticket["id"], counter_id, clerk)
    return ticket, counter_id, clerk


def events(db, ticket_id, prefix="dossier_"):
    return [(row["kind"], json.loads(row["detail"] or "{}")) for row in store.all_rows(
        db, "SELECT kind, detail FROM ticket_events WHERE ticket_id = ? AND kind LIKE ? ORDER BY id",
        (ticket_id, prefix + "%"))]


def test_due_date_skips_a_weekend(queue, open_counter, clock):
    clock.set_local("2026-11-27 09:00")  # a Friday; CT-R02 takes 3 working days
    ticket, counter_id, clerk = serve(queue, open_counter)
    answer = queue.finish(ticket["id"], counter_id, clerk, "CT-R02", dossier={"code": CODE}).result
    assert answer["ticket"]["dossier"]["due_date"] == "2026-12-02"  # Mon 30, Tue 1, Wed 2
    assert answer["ticket"]["dossier"]["status"] == "processing"
    assert answer["ticket"]["dossier"]["fee"] == 15000  # the procedure's fee when none is given
    assert events(queue.db, ticket["id"]) == [("dossier_received", {"code": CODE, "procedure": "CT-R02",
                                                                    "due_date": "2026-12-02", "fee": 15000})]


def test_due_date_skips_tet_from_the_holiday_calendar(queue, open_counter, clock, db):
    holidays.seed_defaults(db, "demo", holidays.bundled_holidays())  # the demo centre has no calendar of its own
    clock.set_local("2027-02-04 10:00")  # Thursday before Tết: Fri 5 – Thu 11 closed (6, 7 a weekend too)
    ticket, counter_id, clerk = serve(queue, open_counter)
    dossier = queue.finish(ticket["id"], counter_id, clerk, "CT-R02", dossier={"code": CODE}).result["ticket"]["dossier"]
    assert dossier["due_date"] == "2027-02-16"  # Fri 12, Mon 15, Tue 16


def test_same_day_procedure_after_three_pm_is_due_the_next_working_day(db, queue, clock):
    procedure = {"legal_days": 0, "same_day": True}
    clock.set_local("2026-11-27 14:59")
    assert dossiers.due_date_for(db, "demo", procedure, clock(), queue.tz).isoformat() == "2026-11-27"
    clock.set_local("2026-11-27 15:00")
    assert dossiers.due_date_for(db, "demo", procedure, clock(), queue.tz).isoformat() == "2026-11-30"
    assert dossiers.due_date_for(db, "demo", {"legal_days": None}, clock(), queue.tz) is None


def test_bad_code_is_refused_and_nothing_is_lost(queue, open_counter, db):
    ticket, counter_id, clerk = serve(queue, open_counter)
    before = store.all_rows(db, "SELECT * FROM ticket_events WHERE ticket_id = ?", (ticket["id"],))
    with pytest.raises(QueueError) as refused:
        queue.finish(ticket["id"], counter_id, clerk, "CT-R02", dossier={"code": "HS-123"})
    assert (refused.value.code, refused.value.status) == ("bad_dossier_code", 400)
    assert store.ticket_row(db, ticket["id"])["status"] == "serving"  # the clerk corrects the code and finishes
    assert store.all_rows(db, "SELECT * FROM ticket_events WHERE ticket_id = ?", (ticket["id"],)) == before
    assert store.scalar(db, "SELECT COUNT(*) FROM dossiers") == 0
    queue.finish(ticket["id"], counter_id, clerk, "CT-R02", dossier={"code": " " + CODE.lower() + " "})
    assert store.scalar(db, "SELECT code FROM dossiers") == CODE


def test_changing_the_due_date_needs_a_reason_and_is_audited(queue, open_counter, clock, db):
    clock.set_local("2026-11-27 09:00")
    ticket, counter_id, clerk = serve(queue, open_counter)
    with pytest.raises(QueueError) as refused:
        queue.finish(ticket["id"], counter_id, clerk, "CT-R02", dossier={"code": CODE, "due_date": "2026-12-04"})
    assert refused.value.code == "reason_required"
    with pytest.raises(QueueError) as refused:
        queue.finish(ticket["id"], counter_id, clerk, "CT-R02",
                     dossier={"code": CODE, "due_date": "2026-12-05", "due_reason": "x"})
    assert refused.value.code == "bad_due_date"  # a Saturday
    dossier = queue.finish(ticket["id"], counter_id, clerk, "CT-R02", dossier={
        "code": CODE, "due_date": "2026-12-04", "due_reason": "Chờ xác minh"}).result["ticket"]["dossier"]
    assert (dossier["due_date"], dossier["due_date_computed"]) == ("2026-12-04", "2026-12-02")
    row = store.one(db, "SELECT detail FROM audit_log WHERE action = 'dossier.due_date'")
    assert json.loads(row["detail"]) == {"code": CODE, "before": "2026-12-02", "after": "2026-12-04",
                                         "reason": "Chờ xác minh"}


def test_ready_then_returned_on_a_return_ticket(queue, open_counter, clock, db):
    clock.set_local("2026-11-27 09:00")
    ticket, counter_id, clerk = serve(queue, open_counter)
    queue.finish(ticket["id"], counter_id, clerk, "CT-R02", dossier={"code": CODE, "phone": "0912 345 678"})
    desk = DossierDesk(queue)
    clock.set_local("2026-12-01 10:00")
    outcome = desk.mark_ready(CODE)
    assert outcome.result["status"] == "ready" and outcome.result["on_time"] is True
    assert {event.name for event in outcome.events} == {"dossier_updated", "dossiers_changed"}
    assert desk.sms_for_ready(CODE)[0] == "0912345678"
    with pytest.raises(QueueError):
        desk.mark_ready(CODE)  # 409: already ready
    back = queue.issue_ticket("TKQ", dossier_code=CODE).result
    queue.call_next(counter_id, clerk)
    called = queue.staff_ticket(store.ticket_row(db, back["id"]))
    assert called["dossier"]["code"] == CODE and called["dossier"]["status"] == "ready"
    returned = desk.mark_returned(CODE, user_id=clerk, counter_id=counter_id).result
    assert returned["status"] == "returned" and returned["on_time"] is True
    assert [kind for kind, _ in events(db, ticket["id"])] == ["dossier_received", "dossier_ready", "dossier_returned"]
    assert desk.due_lists()["ready"] == []


def test_late_and_post_and_overdue(queue, open_counter, clock):
    clock.set_local("2026-11-27 09:00")
    ticket, counter_id, clerk = serve(queue, open_counter)
    queue.finish(ticket["id"], counter_id, clerk, "CT-R02", dossier={"code": CODE})
    desk = DossierDesk(queue)
    clock.set_local("2026-12-03 09:00")
    assert [d["code"] for d in desk.due_lists()["overdue"]] == [CODE]
    dossier = desk.mark_returned(CODE, by_post=True).result
    assert dossier["by_post"] is True and dossier["on_time"] is False


def test_fee_paid_once_cash_or_transfer(queue, open_counter):
    ticket, counter_id, clerk = serve(queue, open_counter)
    queue.finish(ticket["id"], counter_id, clerk, "CT-R02", dossier={"code": CODE, "fee": 30000})
    desk = DossierDesk(queue)
    with pytest.raises(QueueError) as short:
        desk.mark_paid(CODE, "transfer", amount=20000)
    assert short.value.code == "amount_short"
    assert desk.mark_paid(CODE, "cash", user_id=clerk).result["paid_method"] == "cash"
    with pytest.raises(QueueError) as again:
        desk.mark_paid(CODE, "transfer")
    assert again.value.code == "already_paid"
    assert events(queue.db, ticket["id"], "dossier_paid") == [("dossier_paid", {"code": CODE, "method": "cash"})]


def test_on_time_figures_match_hand_computed_ones(queue, open_counter, clock, db):
    """Four CT-R02 dossiers received Friday 27/11 (due Wed 2/12), one CT-R01 (7 days: due Tue 8/12).

    A ready Tue 1/12 (1 day early), returned Thu 3/12 · B ready Wed 2/12 (0) · C returned Fri 4/12 without
    being ready (2 days late) · D never ready: overdue on 4/12 · E (CT-R01) pending, due 8/12.
    By procedure on 4/12 over 30/11–9/12: CT-R02 dossiers 4, returned 2, on time 2 of 4 settled = 50.0 %,
    overdue 1, median of early days (1, 0, −2) = 0; CT-R01 dossiers 1, nothing settled (None).
    """
    from datetime import date
    from queueing import stats
    clock.set_local("2026-11-27 09:00")
    counter_id, clerk = open_counter(3)
    codes = [f"000.00.30.H56-261127-000{n}" for n in range(1, 6)]
    for code, procedure in zip(codes, ["CT-R02"] * 4 + ["CT-R01"]):
        ticket = queue.issue_ticket("CA_CT").result
        queue.call_next(counter_id, clerk)
        queue.start(ticket["id"], counter_id, clerk)
        queue.finish(ticket["id"], counter_id, clerk, procedure, dossier={"code": code})
    desk = DossierDesk(queue)
    clock.set_local("2026-12-01 10:00")
    desk.mark_ready(codes[0])
    clock.set_local("2026-12-02 16:00")
    desk.mark_ready(codes[1])
    clock.set_local("2026-12-03 09:00")
    desk.mark_returned(codes[0])
    clock.set_local("2026-12-04 11:00")
    desk.mark_returned(codes[2])
    rows = {row["key"]: row for row in stats.compute(db, "demo", queue.tz, date(2026, 11, 30), date(2026, 12, 9),
                                                       "procedure", clock())}
    assert {k: rows["CT-R02"][k] for k in ontime_fields()} == {
        "dossiers": 4, "returned": 2, "on_time_pct": 50.0, "overdue_now": 1, "days_early_median": 0.0}
    assert {k: rows["CT-R01"][k] for k in ontime_fields()} == {
        "dossiers": 1, "returned": 0, "on_time_pct": None, "overdue_now": 0, "days_early_median": None}
    by_counter = {row["counter_id"]: row for row in stats.compute(db, "demo", queue.tz, date(2026, 11, 30),
                                                                  date(2026, 12, 9), "counter", clock())}
    assert by_counter[counter_id]["dossiers"] == 5 and by_counter[counter_id]["on_time_pct"] == 50.0
    total = stats.summary(db, "demo", queue.tz, date(2026, 11, 30), date(2026, 12, 9), clock())
    assert (total["dossiers"], total["returned"], total["on_time_pct"]) == (5, 2, 50.0)


def ontime_fields():
    from queueing.stats.ontime import FIELDS
    return FIELDS
