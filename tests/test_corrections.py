"""Issue 11 in the core: nothing stranded, late-comers back in the queue, priority corrections, the recall limit."""
from __future__ import annotations

import json

import pytest

from queueing import store
from queueing.model import Conflict, Forbidden, NotFound, QueueError
from queueing.transitions import InvalidTransition
from tests.conftest import clerk_id, counter_id


def events_of(db, ticket_id):
    return [(row["kind"], row["from_status"], row["to_status"]) for row in store.all_rows(
        db, "SELECT kind, from_status, to_status FROM ticket_events WHERE ticket_id = ? ORDER BY id", (ticket_id,))]


def last_event(db, ticket_id, kind):
    row = store.one(db, "SELECT * FROM ticket_events WHERE ticket_id = ? AND kind = ? ORDER BY id DESC LIMIT 1",
                    (ticket_id, kind))
    assert row is not None, f"no {kind} event"
    row["detail"] = json.loads(row["detail"]) if row["detail"] else None
    return row


# ---- nothing stranded ----------------------------------------------------------------------------

def test_transfer_to_a_closed_counter_is_refused_and_nothing_changes(queue, db, open_counter):
    counter1, clerk1 = open_counter(1)
    ticket = queue.issue_ticket("TP").result
    queue.call_next(counter1, clerk1)
    closed = counter_id(db, 2)
    with pytest.raises(Conflict) as refused:
        queue.transfer(ticket["id"], counter1, clerk1, to_counter=closed)
    assert refused.value.code == "counter_closed" and refused.value.status == 409
    assert "Quầy 2" in refused.value.message and "đang đóng" in refused.value.message
    row = queue.ticket(ticket["id"])
    assert row["status"] == "called" and row["target_counter_id"] is None
    assert [kind for kind, *_ in events_of(db, ticket["id"])] == ["issued", "called"]


def test_transfer_to_a_paused_counter_is_refused(queue, db, open_counter):
    counter1, clerk1 = open_counter(1)
    counter2, clerk2 = open_counter(2)
    queue.pause(counter2, clerk2, "meeting")
    ticket = queue.issue_ticket("TP").result
    queue.call_next(counter1, clerk1)
    with pytest.raises(Conflict) as refused:
        queue.transfer(ticket["id"], counter1, clerk1, to_counter=counter2)
    assert refused.value.code == "counter_paused" and "tạm dừng" in refused.value.message
    assert queue.ticket(ticket["id"])["status"] == "called"


def test_pausing_keeps_tickets_already_transferred_there(queue, db, open_counter):
    counter1, clerk1 = open_counter(1)
    counter2, clerk2 = open_counter(2)
    ticket = queue.issue_ticket("CT").result
    queue.call_next(counter1, clerk1)
    queue.transfer(ticket["id"], counter1, clerk1, to_counter=counter2)
    queue.pause(counter2, clerk2, "break")
    assert queue.ticket(ticket["id"])["target_counter_id"] == counter2
    queue.resume(counter2, clerk2)
    assert queue.call_next(counter2, clerk2).result["ticket"]["id"] == ticket["id"]


def test_sign_out_gives_transferred_tickets_back_to_their_service_at_their_place(queue, db, open_counter, clock):
    counter1, clerk1 = open_counter(1)   # TP, CT
    counter2, clerk2 = open_counter(2)   # TP only
    sent = queue.issue_ticket("CT").result          # B001, the oldest CT ticket
    clock.advance(60)
    later = queue.issue_ticket("CT").result         # B002
    queue.call_next(counter1, clerk1)
    queue.transfer(sent["id"], counter1, clerk1, to_counter=counter2)
    queue_at = queue.ticket(sent["id"])["queue_at"]
    outcome = queue.sign_out(counter2, clerk2)
    row = queue.ticket(sent["id"])
    assert row["status"] == "waiting" and row["target_counter_id"] is None and row["queue_at"] == queue_at
    returned = last_event(db, sent["id"], "returned_to_service")
    assert (returned["from_status"], returned["to_status"], returned["counter_id"], returned["clerk_id"]) == (
        "waiting", "waiting", counter2, clerk2)
    assert returned["detail"] == {"from_counter": 2, "service": "CT"}
    updated = [e for e in outcome.events if e.name == "ticket_updated" and e.payload["id"] == sent["id"]]
    assert updated and updated[0].payload["status"] == "waiting"
    # the next counter serving CT calls it first: it kept its place ahead of B002
    counter6, clerk6 = open_counter(6)
    assert queue.call_next(counter6, clerk6).result["ticket"]["id"] == sent["id"]
    assert queue.call_next(counter1, clerk1).result["ticket"]["id"] == later["id"]


def test_sign_out_leaves_tickets_transferred_to_other_counters(queue, db, open_counter):
    counter1, clerk1 = open_counter(1)
    counter2, clerk2 = open_counter(2)
    counter4, clerk4 = open_counter(4)
    ticket = queue.issue_ticket("CT").result
    queue.call_next(counter1, clerk1)
    queue.transfer(ticket["id"], counter1, clerk1, to_counter=counter2)
    queue.sign_out(counter4, clerk4)
    assert queue.ticket(ticket["id"])["target_counter_id"] == counter2
    assert "returned_to_service" not in [kind for kind, *_ in events_of(db, ticket["id"])]


def test_transfer_to_the_tickets_own_service_is_refused(queue, db, open_counter):
    counter1, clerk1 = open_counter(1)
    ticket = queue.issue_ticket("TP").result
    queue.call_next(counter1, clerk1)
    with pytest.raises(Conflict) as refused:
        queue.transfer(ticket["id"], counter1, clerk1, service="TP")
    assert refused.value.code == "same_service" and ticket["number"] in refused.value.message
    assert queue.ticket(ticket["id"])["status"] == "called"


def test_out_of_order_call_is_limited_to_the_counters_services_and_tickets_sent_to_it(queue, db, open_counter):
    counter2, clerk2 = open_counter(2)   # TP only
    land = queue.issue_ticket("DD").result
    with pytest.raises(Conflict) as refused:
        queue.call_ticket(counter2, clerk2, "khẩn", number=land["number"])
    assert refused.value.code == "not_served_here" and "Đất đai" in refused.value.message
    assert queue.ticket(land["id"])["status"] == "waiting"
    assert queue.counter(counter2)["current_ticket_id"] is None
    # a CT ticket transferred to counter 2 may be called there out of order, and only there
    counter1, clerk1 = open_counter(1)
    sent = queue.issue_ticket("CT").result
    queue.call_next(counter1, clerk1)
    queue.transfer(sent["id"], counter1, clerk1, to_counter=counter2)
    counter6, clerk6 = open_counter(6)   # serves CT, but the ticket was sent to counter 2
    with pytest.raises(Conflict) as elsewhere:
        queue.call_ticket(counter6, clerk6, "quen", ticket_id=sent["id"])
    assert elsewhere.value.code == "not_served_here" and "quầy 2" in elsewhere.value.message
    assert queue.call_ticket(counter2, clerk2, "đã hẹn", ticket_id=sent["id"]).result["ticket"]["id"] == sent["id"]


def test_an_out_of_order_priority_call_counts_toward_the_priority_ratio(queue, db, open_counter, clock):
    queue.settings["priority_ratio"] = 2
    counter, clerk = open_counter(2)
    normal = queue.issue_ticket("TP").result
    clock.advance(5)
    priority = [queue.issue_ticket("TP", "NCT").result for _ in range(3)]
    # two priority calls in a row, the first of them out of order: the ratio then lets the normal one through
    queue.call_ticket(counter, clerk, "người cao tuổi đứng chờ", ticket_id=priority[1]["id"])
    assert queue.counter(counter)["consecutive_priority_calls"] == 1
    queue.no_show(priority[1]["id"], counter, clerk)
    assert queue.call_next(counter, clerk).result["ticket"]["id"] == priority[0]["id"]
    queue.no_show(priority[0]["id"], counter, clerk)
    assert queue.call_next(counter, clerk).result["ticket"]["id"] == normal["id"]
    assert queue.counter(counter)["consecutive_priority_calls"] == 0


def test_an_out_of_order_normal_call_resets_the_priority_run(queue, db, open_counter):
    counter, clerk = open_counter(2)
    store.execute(db, "UPDATE counters SET consecutive_priority_calls = 2 WHERE id = ?", (counter,))
    ticket = queue.issue_ticket("TP").result
    queue.call_ticket(counter, clerk, "giấy tờ đơn giản", ticket_id=ticket["id"])
    assert queue.counter(counter)["consecutive_priority_calls"] == 0


# ---- the recall limit ----------------------------------------------------------------------------

def test_recall_refuses_after_the_limit_and_tells_the_clerk_to_mark_no_show(queue, db, open_counter):
    queue.settings["recall_limit"] = 2
    counter, clerk = open_counter(1)
    ticket = queue.issue_ticket("TP").result
    queue.call_next(counter, clerk)
    queue.recall(ticket["id"], counter, clerk)
    queue.recall(ticket["id"], counter, clerk)
    with pytest.raises(Conflict) as refused:
        queue.recall(ticket["id"], counter, clerk)
    assert refused.value.code == "recall_limit" and "Vắng mặt" in refused.value.message
    row = queue.ticket(ticket["id"])
    assert row["status"] == "called" and row["recall_count"] == 2  # refused, not turned into a no-show
    assert [kind for kind, *_ in events_of(db, ticket["id"])].count("recalled") == 2


# ---- late-comers ---------------------------------------------------------------------------------

def make_no_show(queue, open_counter, clock, service="TP"):
    counter, clerk = open_counter(2)
    ticket = queue.issue_ticket(service).result
    clock.advance(60)
    queue.call_next(counter, clerk)
    clock.advance(30)
    queue.no_show(ticket["id"], counter, clerk)
    return ticket, counter, clerk


def test_a_no_show_restored_within_the_limit_waits_behind_those_waiting_now(queue, db, open_counter, clock):
    ticket, counter, clerk = make_no_show(queue, open_counter, clock)
    first_called = queue.ticket(ticket["id"])["first_called_at"]
    clock.advance(60)
    others = [queue.issue_ticket("TP").result for _ in range(2)]
    clock.advance(29 * 60 - 60)  # 29 minutes after the no-show
    result = queue.restore_no_show(number=ticket["number"].lower(), by="clerk", counter_id=counter,
                                   user_id=clerk).result["ticket"]
    assert result["status"] == "waiting" and result["position"] == 2  # two are expected to be called before it
    row = queue.ticket(ticket["id"])
    assert row["queue_at"] == clock() and row["first_called_at"] == first_called and row["counter_id"] is None
    restored = last_event(db, ticket["id"], "restored")
    assert (restored["from_status"], restored["to_status"], restored["clerk_id"]) == ("no_show", "waiting", clerk)
    assert restored["detail"]["by"] == "clerk" and restored["detail"]["place"] == "behind_waiting"
    called = [queue.call_next(counter, clerk).result["ticket"]["id"] for _ in range(1)]
    assert called == [others[0]["id"]]


def test_a_no_show_restored_to_its_original_place_is_called_first(queue, db, open_counter, clock):
    queue.settings["no_show_restore_place"] = "original"
    ticket, counter, clerk = make_no_show(queue, open_counter, clock)
    later = queue.issue_ticket("TP").result
    clock.advance(10 * 60)
    queue.restore_no_show(ticket_id=ticket["id"], by="manager", user_id=None)
    assert queue.ticket(ticket["id"])["queue_at"] == ticket_issue_queue_at(db, ticket["id"])
    assert last_event(db, ticket["id"], "restored")["detail"]["place"] == "original"
    assert queue.call_next(counter, clerk).result["ticket"]["id"] == ticket["id"]
    assert queue.ticket(later["id"])["status"] == "waiting"


def ticket_issue_queue_at(db, ticket_id):
    return store.scalar(db, "SELECT issued_at FROM tickets WHERE id = ?", (ticket_id,))


def test_restoring_after_the_limit_is_refused_with_the_limit_in_the_message(queue, db, open_counter, clock):
    queue.settings["no_show_restore_minutes"] = 15
    ticket, counter, clerk = make_no_show(queue, open_counter, clock)
    clock.advance(15 * 60 + 1)
    with pytest.raises(Conflict) as refused:
        queue.restore_no_show(number=ticket["number"], by="clerk", counter_id=counter, user_id=clerk)
    assert refused.value.code == "restore_too_late" and "15 phút" in refused.value.message
    assert queue.ticket(ticket["id"])["status"] == "no_show"
    assert "restored" not in [kind for kind, *_ in events_of(db, ticket["id"])]


def test_restore_refuses_what_is_not_a_no_show_and_unknown_numbers(queue, db, open_counter, clock):
    ticket, counter, clerk = make_no_show(queue, open_counter, clock)
    waiting = queue.issue_ticket("TP").result
    with pytest.raises(Conflict) as still_waiting:
        queue.restore_no_show(ticket_id=waiting["id"], by="manager")
    assert still_waiting.value.code == "not_no_show" and "vẫn đang chờ" in still_waiting.value.message
    with pytest.raises(NotFound):
        queue.restore_no_show(number="A999", by="clerk", counter_id=counter, user_id=clerk)
    with pytest.raises(Forbidden):  # a clerk restores from the counter they are signed in at
        queue.restore_no_show(number=ticket["number"], by="clerk", counter_id=counter_id(db, 3), user_id=clerk)
    queue.settings["no_show_restore_minutes"] = 0
    with pytest.raises(Conflict) as disabled:
        queue.restore_no_show(ticket_id=ticket["id"], by="manager")
    assert disabled.value.code == "restore_disabled"


def test_yesterdays_no_show_is_not_restored(queue, db, open_counter, clock):
    clock.set_local("2026-11-24 23:50")
    ticket, counter, clerk = make_no_show(queue, open_counter, clock)
    clock.set_local("2026-11-25 00:05")
    with pytest.raises(Conflict) as refused:
        queue.restore_no_show(ticket_id=ticket["id"], by="manager")
    assert refused.value.code == "restore_too_late" and "ngày khác" in refused.value.message


def test_restored_then_served_counts_once_as_called_and_as_served(queue, db, open_counter, clock):
    from datetime import date
    from queueing import stats
    ticket, counter, clerk = make_no_show(queue, open_counter, clock)  # issued, called 60 s later
    clock.advance(300)
    queue.restore_no_show(ticket_id=ticket["id"], by="manager")
    clock.advance(120)
    again = queue.call_next(counter, clerk).result["ticket"]
    assert again["id"] == ticket["id"]
    queue.start(ticket["id"], counter, clerk)
    clock.advance(200)
    queue.finish(ticket["id"], counter, clerk, "TP-01")
    day = date(2026, 11, 24)
    row = stats.summary(db, queue.centre_id, queue.tz, day, day)
    assert (row["issued"], row["called"], row["served"], row["no_show"]) == (1, 1, 1, 0)
    assert row["wait_s"]["mean"] == 60.0  # first call − issue, not the call after the restore
    assert queue.ticket(ticket["id"])["first_called_at"] == ticket_issue_queue_at(db, ticket["id"]) + 60


def test_scanned_slip_text_gives_the_tracking_key():
    from queueing.corrections import track_key_from_scan
    assert track_key_from_scan("http://192.168.1.10:5000/t/3f9a2c7e1b4d4e0f8a6b5c2d\n") == "3f9a2c7e1b4d4e0f8a6b5c2d"
    assert track_key_from_scan("  /t/abc_DEF-123456789?lang=en ") == "abc_DEF-123456789"
    assert track_key_from_scan("abc_DEF-1234567890") == "abc_DEF-1234567890"
    for bad in ("", "   ", None, "xin chào", "http://x/t/", "abc_DEF-12345"):
        with pytest.raises(QueueError):
            track_key_from_scan(bad)


def test_a_scanned_slip_names_its_ticket_by_key_never_by_id(queue):
    """Issue 12: the slip's QR carries the key; a URL with the (public) ticket id restores nothing."""
    from queueing.corrections import ticket_id_from_scan
    ticket = queue.issue_ticket("TP").result
    assert ticket_id_from_scan(queue, f"http://192.168.1.10:5000/t/{ticket['track_key']}") == ticket["id"]
    with pytest.raises(QueueError) as by_id:
        ticket_id_from_scan(queue, f"http://192.168.1.10:5000/t/{ticket['id']}")
    assert by_id.value.code == "unknown_ticket" and by_id.value.status == 404


# ---- priority corrections ------------------------------------------------------------------------

def test_the_calling_clerk_removes_a_wrongly_claimed_priority_with_a_reason(queue, db, open_counter):
    counter, clerk = open_counter(2)
    ticket = queue.issue_ticket("TP", "NCT").result
    queue.call_next(counter, clerk)
    with pytest.raises(QueueError) as no_reason:
        queue.change_priority(ticket["id"], None, "  ", clerk)
    assert no_reason.value.code == "reason_required"
    result = queue.change_priority(ticket["id"], None, "Công dân 45 tuổi, không thuộc nhóm cao tuổi", clerk)
    assert result.result["ticket"]["priority"] is None
    assert queue.ticket(ticket["id"])["priority_group_id"] is None
    changed = last_event(db, ticket["id"], "priority_changed")
    assert changed["detail"] == {"from": "NCT", "to": None, "reason": "Công dân 45 tuổi, không thuộc nhóm cao tuổi"}
    assert (changed["from_status"], changed["to_status"], changed["clerk_id"], changed["counter_id"]) == (
        "called", "called", clerk, counter)
    with pytest.raises(Conflict) as unchanged:
        queue.change_priority(ticket["id"], None, "lần nữa", clerk)
    assert unchanged.value.code == "priority_unchanged"


def test_only_the_calling_counter_or_a_manager_changes_a_priority(queue, db, open_counter, clock):
    counter1, clerk1 = open_counter(1)
    counter2, clerk2 = open_counter(2)
    called = queue.issue_ticket("TP", "NKT").result
    waiting = queue.issue_ticket("TP", "NCT").result
    queue.call_next(counter1, clerk1)
    assert queue.ticket(called["id"])["counter_id"] == counter1
    for ticket in (called, waiting):
        with pytest.raises(Forbidden):
            queue.change_priority(ticket["id"], None, "nhầm", clerk2)
    with pytest.raises(Forbidden):  # the clerk's own counter called it, but a waiting ticket is the manager's
        queue.change_priority(waiting["id"], None, "nhầm", clerk1)
    with pytest.raises(QueueError) as unknown:
        queue.change_priority(called["id"], "VIP", "nhầm", clerk1)
    assert unknown.value.code == "unknown_priority"
    manager = store.scalar(db, "SELECT id FROM users WHERE role = 'admin'")
    # a manager corrects a waiting ticket: it then queues with the normal tickets
    normal = queue.issue_ticket("TP").result
    queue.change_priority(waiting["id"], None, "khai nhầm ở kiosk", manager, is_manager=True)
    assert queue.public_ticket(queue.ticket(waiting["id"]))["position"] == 0  # issued before `normal`
    assert queue.public_ticket(queue.ticket(normal["id"]))["position"] == 1
    queue.change_priority(called["id"], "NCT", "nhóm đúng là người cao tuổi", manager, is_manager=True)
    assert last_event(db, called["id"], "priority_changed")["detail"]["to"] == "NCT"
    assert queue.ticket(called["id"])["priority_code"] == "NCT"
    clock.advance(1)
    queue.no_show(called["id"], counter1, clerk1)
    with pytest.raises(Conflict) as closed:
        queue.change_priority(called["id"], None, "muộn", manager, is_manager=True)
    assert closed.value.code == "ticket_closed"
    assert clerk_id(db, 1) == clerk1
