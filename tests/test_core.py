"""The domain core without Flask: numbering, the state machine, call-next policy, the event log."""
from __future__ import annotations

import ast
import threading
from pathlib import Path

import pytest

from queueing import centre, store
from queueing.model import Conflict, Forbidden, QueueError, TicketStatus
from queueing.policy import QueueHeads, choose_next
from queueing.service import QueueService
from queueing.transitions import TRANSITIONS, InvalidTransition, next_status
from tests.conftest import FakeClock, clerk_id, counter_id

ROOT = Path(__file__).resolve().parent.parent


def test_core_imports_no_flask_escpos_or_pyttsx3():
    forbidden = {"flask", "flask_socketio", "escpos", "pyttsx3", "socketio"}
    for path in (ROOT / "queueing").rglob("*.py"):  # the admin/ and stats/ packages too
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for name in names:
                assert name.split(".")[0] not in forbidden, f"{path.name} imports {name}"


def events_of(db, ticket_id):
    return [(row["kind"], row["from_status"], row["to_status"]) for row in store.all_rows(
        db, "SELECT kind, from_status, to_status FROM ticket_events WHERE ticket_id = ? ORDER BY id", (ticket_id,))]


# ---- numbering ------------------------------------------------------------------------------

def test_numbers_per_service_per_day_and_reset_at_local_midnight(queue, db, clock):
    clock.set_local("2026-11-24 23:58")
    first = queue.issue_ticket("TP").result
    second = queue.issue_ticket("TP").result
    other = queue.issue_ticket("CT").result
    assert (first["number"], second["number"], other["number"]) == ("A001", "A002", "B001")
    clock.set_local("2026-11-25 00:01")  # 17:01 UTC on the 24th: the local day decides
    next_day = queue.issue_ticket("TP").result
    assert next_day["number"] == "A001"
    days = store.all_rows(db, "SELECT local_day, number FROM tickets ORDER BY issued_at")
    assert [(d["local_day"], d["number"]) for d in days] == [
        ("2026-11-24", "A001"), ("2026-11-24", "A002"), ("2026-11-24", "B001"), ("2026-11-25", "A001")]
    assert len(store.all_rows(db, "SELECT * FROM ticket_events WHERE kind = 'issued'")) == 4


def test_number_beyond_999_keeps_growing(queue, db):
    store.execute(db, "INSERT INTO ticket_sequences VALUES ('demo', 1, '2026-11-24', 999)")
    assert queue.issue_ticket("TP").result["number"] == "A1000"


def test_eight_threads_issuing_400_tickets_get_400_distinct_numbers(db_path):
    clock = FakeClock()
    numbers, errors = [], []
    lock = threading.Lock()

    def kiosk():
        connection = store.connect(db_path)
        service = QueueService(connection, centre.DEMO_CENTRE_ID, clock=clock)
        try:
            for _ in range(50):
                number = service.issue_ticket("TP").result["number"]
                with lock:
                    numbers.append(number)
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)
        finally:
            connection.conn.close()

    threads = [threading.Thread(target=kiosk) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(numbers) == 400 and len(set(numbers)) == 400
    assert sorted(numbers) == [f"A{n:03d}" for n in range(1, 401)]
    check = store.connect(db_path)
    assert store.scalar(check, "SELECT COUNT(DISTINCT number) FROM tickets") == 400


# ---- state machine --------------------------------------------------------------------------

ALL_STATUSES = list(TicketStatus)


@pytest.mark.parametrize("action", sorted(TRANSITIONS))
@pytest.mark.parametrize("status", ALL_STATUSES)
def test_state_machine_allows_only_listed_transitions(action, status):
    if status in TRANSITIONS[action]:
        assert next_status(action, status) == TRANSITIONS[action][status]
    else:
        with pytest.raises(InvalidTransition):
            next_status(action, status)


def test_full_life_of_a_ticket_is_logged(queue, db, open_counter, clock):
    counter, clerk = open_counter(1)
    ticket = queue.issue_ticket("TP").result
    clock.advance(60)
    called = queue.call_next(counter, clerk).result["ticket"]
    assert called["id"] == ticket["id"] and called["status"] == "called"
    queue.recall(ticket["id"], counter, clerk)
    clock.advance(30)
    queue.start(ticket["id"], counter, clerk)
    clock.advance(300)
    done = queue.finish(ticket["id"], counter, clerk, ["TP-01", "TP-05"], "HS-123").result["ticket"]
    assert done["status"] == "done" and done["dossier_number"] == "HS-123"
    assert events_of(db, ticket["id"]) == [
        ("issued", None, "waiting"), ("called", "waiting", "called"), ("recalled", "called", "called"),
        ("started", "called", "serving"), ("finished", "serving", "done")]
    assert {r["procedure_id"] for r in store.all_rows(db, "SELECT procedure_id FROM ticket_procedures")} == {
        store.scalar(db, "SELECT id FROM procedures WHERE code = 'TP-01'"),
        store.scalar(db, "SELECT id FROM procedures WHERE code = 'TP-05'")}
    row = store.one(db, "SELECT * FROM tickets WHERE id = ?", (ticket["id"],))
    assert row["finished_at"] - row["started_at"] == 300
    queue.rate(ticket["id"], 3)
    with pytest.raises(Conflict):
        queue.rate(ticket["id"], 2)


@pytest.mark.parametrize("action", ["recall", "start", "finish", "no_show", "transfer"])
def test_every_action_on_a_finished_ticket_is_refused_and_nothing_changes(queue, db, open_counter, action):
    counter, clerk = open_counter(1)
    ticket = queue.issue_ticket("TP").result
    queue.call_next(counter, clerk)
    queue.start(ticket["id"], counter, clerk)
    queue.finish(ticket["id"], counter, clerk, "TP-01")
    before = events_of(db, ticket["id"])
    calls = {"recall": lambda: queue.recall(ticket["id"], counter, clerk),
             "start": lambda: queue.start(ticket["id"], counter, clerk),
             "finish": lambda: queue.finish(ticket["id"], counter, clerk, "TP-01"),
             "no_show": lambda: queue.no_show(ticket["id"], counter, clerk),
             "transfer": lambda: queue.transfer(ticket["id"], counter, clerk, service="CT")}
    with pytest.raises(QueueError):
        calls[action]()
    assert events_of(db, ticket["id"]) == before


def test_invalid_transitions_on_a_called_ticket(queue, open_counter):
    counter, clerk = open_counter(1)
    ticket = queue.issue_ticket("TP").result
    queue.call_next(counter, clerk)
    with pytest.raises(InvalidTransition):
        queue.finish(ticket["id"], counter, clerk, "TP-01")  # finish needs serving
    queue.start(ticket["id"], counter, clerk)
    with pytest.raises(InvalidTransition):
        queue.no_show(ticket["id"], counter, clerk)  # no-show only before start
    with pytest.raises(InvalidTransition):
        queue.recall(ticket["id"], counter, clerk)


def test_finish_requires_a_procedure_of_the_tickets_service(queue, open_counter):
    counter, clerk = open_counter(1)
    ticket = queue.issue_ticket("TP").result
    queue.call_next(counter, clerk)
    queue.start(ticket["id"], counter, clerk)
    for bad in (None, [], "DD-01", ["TP-01", "NOPE"], [3]):
        with pytest.raises(QueueError):
            queue.finish(ticket["id"], counter, clerk, bad)
    assert queue.ticket(ticket["id"])["status"] == "serving"


def test_no_show_frees_the_counter_and_recalls_are_limited(queue, open_counter):
    counter, clerk = open_counter(1)
    ticket = queue.issue_ticket("TP").result
    queue.call_next(counter, clerk)
    for _ in range(3):
        queue.recall(ticket["id"], counter, clerk)
    with pytest.raises(Conflict):
        queue.recall(ticket["id"], counter, clerk)
    queue.no_show(ticket["id"], counter, clerk)
    assert queue.ticket(ticket["id"])["status"] == "no_show"
    assert queue.counter(counter)["current_ticket_id"] is None


# ---- call-next policy -----------------------------------------------------------------------

def test_choose_next_priority_ratio():
    heads = QueueHeads("P", "N")
    assert choose_next(heads, 0, 0) == "P"
    assert choose_next(heads, 5, 0) == "P"
    assert choose_next(heads, 1, 2) == "P"
    assert choose_next(heads, 2, 2) == "N"
    assert choose_next(QueueHeads(None, "N"), 9, 2) == "N"
    assert choose_next(QueueHeads("P", None), 9, 2) == "P"
    assert choose_next(QueueHeads(None, None), 0, 0) is None


def test_priority_first_then_oldest_over_all_services_of_the_counter(queue, open_counter, clock):
    counter, clerk = open_counter(1)  # counter 1 serves TP and CT
    order = []
    for service, priority in [("TP", None), ("CT", None), ("TP", "NCT"), ("DD", None), ("CT", "NKT")]:
        order.append(queue.issue_ticket(service, priority).result["number"])
        clock.advance(10)
    called = []
    while True:
        ticket = queue.call_next(counter, clerk).result["ticket"]
        if ticket is None:
            break
        called.append(ticket["number"])
        queue.start(ticket["id"], counter, clerk)
        queue.finish(ticket["id"], counter, clerk, "TP-01" if ticket["service"] == "TP" else "CT-01")
    # priority tickets (A002, B002) first by issue time, then A001, B001; DD is not served at counter 1
    assert called == ["A002", "B002", "A001", "B001"]


def test_transfer_keeps_number_and_place_by_original_issue_time(queue, open_counter, clock, db):
    counter1, clerk1 = open_counter(1)
    counter6, clerk6 = open_counter(6)  # serves CT among others
    early = queue.issue_ticket("TP").result
    clock.advance(60)
    later_ct = queue.issue_ticket("CT").result
    clock.advance(60)
    called = queue.call_next(counter1, clerk1).result["ticket"]
    assert called["id"] == early["id"]
    queue.transfer(early["id"], counter1, clerk1, service="CT")
    moved = queue.ticket(early["id"])
    assert moved["status"] == "waiting" and moved["number"] == early["number"] and moved["service_code"] == "CT"
    # issued before the CT ticket, so it is ahead of it in the CT queue
    assert queue.public_ticket(moved)["position"] == 0  # nobody is expected to be called before it
    assert queue.call_next(counter6, clerk6).result["ticket"]["id"] == early["id"]
    assert ("transferred", "called", "waiting") in events_of(db, early["id"])
    assert later_ct["number"] == "B001"


def test_transfer_to_a_counter_goes_only_to_that_counter(queue, open_counter):
    counter1, clerk1 = open_counter(1)
    counter2, clerk2 = open_counter(2)
    counter6, clerk6 = open_counter(6)
    ticket = queue.issue_ticket("CT").result
    queue.call_next(counter1, clerk1)
    queue.transfer(ticket["id"], counter1, clerk1, to_counter=counter2)  # counter 2 does not serve CT
    assert queue.call_next(counter6, clerk6).result["ticket"] is None
    assert queue.call_next(counter2, clerk2).result["ticket"]["id"] == ticket["id"]


def test_eight_clerks_calling_concurrently_never_get_the_same_ticket(db_path):
    clock = FakeClock()
    setup = store.connect(db_path)
    queue = QueueService(setup, centre.DEMO_CENTRE_ID, clock=clock)
    # every demo counter serves TP here, so all six compete for the same queue
    for number in range(1, 7):
        store.execute(setup, "INSERT OR IGNORE INTO counter_services VALUES (?, 1)", (counter_id(setup, number),))
        queue.sign_in(counter_id(setup, number), clerk_id(setup, number))
    for _ in range(120):
        queue.issue_ticket("TP")
    claimed, errors = [], []
    lock = threading.Lock()

    def clerk(number):
        connection = store.connect(db_path)
        service = QueueService(connection, centre.DEMO_CENTRE_ID, clock=clock)
        counter, clerk_user = counter_id(connection, number), clerk_id(connection, number)
        try:
            while True:
                ticket = service.call_next(counter, clerk_user).result["ticket"]
                if ticket is None:
                    return
                with lock:
                    claimed.append(ticket["id"])
                service.no_show(ticket["id"], counter, clerk_user)
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)
        finally:
            connection.conn.close()

    threads = [threading.Thread(target=clerk, args=(n,)) for n in range(1, 7) for _ in range(2)][:8]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # two threads share a counter in some cases: they may be refused (busy), never double-served
    assert [e for e in errors if not isinstance(e, Conflict)] == []
    assert len(claimed) == len(set(claimed))
    called_events = store.scalar(setup, "SELECT COUNT(*) FROM ticket_events WHERE kind = 'called'")
    assert called_events == len(claimed)
    assert store.scalar(setup, "SELECT COUNT(*) FROM tickets WHERE status = 'waiting'") + len(claimed) == 120


# ---- counters -------------------------------------------------------------------------------

def test_one_clerk_per_counter_and_clerk_must_be_at_the_counter(queue, db, open_counter):
    counter1, clerk1 = open_counter(1)
    with pytest.raises(Conflict):
        queue.sign_in(counter1, clerk_id(db, 2))
    with pytest.raises(Conflict):
        queue.sign_in(counter_id(db, 3), clerk1)
    with pytest.raises(Forbidden):
        queue.call_next(counter_id(db, 2), clerk1)
    ticket = queue.issue_ticket("TP").result
    queue.call_next(counter1, clerk1)
    counter2, clerk2 = open_counter(2)
    with pytest.raises(Forbidden):
        queue.start(ticket["id"], counter2, clerk2)


def test_pause_blocks_calls_and_sign_out_returns_the_called_ticket(queue, open_counter):
    counter, clerk = open_counter(1)
    queue.pause(counter, clerk, "meeting")
    queue.issue_ticket("TP")
    with pytest.raises(Conflict):
        queue.call_next(counter, clerk)
    with pytest.raises(QueueError):
        queue.pause(counter, clerk, "nap")
    queue.resume(counter, clerk)
    ticket = queue.call_next(counter, clerk).result["ticket"]
    queue.sign_out(counter, clerk)
    assert queue.ticket(ticket["id"])["status"] == "waiting"
    assert queue.counter(counter)["state"] == "closed"


def test_events_are_returned_for_publishing_after_commit(queue, open_counter):
    counter, clerk = open_counter(1)
    issued = queue.issue_ticket("TP")
    assert [e.name for e in issued.events] == ["queue_changed"]
    called = queue.call_next(counter, clerk)
    names = [e.name for e in called.events]
    assert names[0] == "ticket_called" and "counter_changed" in names and "ticket_updated" in names
    announcement = called.events[0].payload["announcement"]["text"]
    assert announcement == "Xin mời công dân có số thứ tự A không không một đến quầy số một."


def test_closed_hours_and_daily_cap_refuse_with_409(queue, db, clock):
    store.execute(db, """UPDATE services SET opening_hours = '{"tue": [["07:00", "11:30"], ["13:30", "17:00"]]}',
                         daily_cap = 2 WHERE code = 'TP'""")
    clock.set_local("2026-11-24 12:00")  # a Tuesday, lunch break
    with pytest.raises(Conflict) as closed:
        queue.issue_ticket("TP")
    assert closed.value.code == "closed" and "T3 07:00–11:30, 13:30–17:00" in closed.value.message
    store.execute(db, """UPDATE services SET opening_hours = '{"mon": [["07:00", "11:30"]], "tue": [["07:00", "11:30"]],
                         "wed": [["07:00", "11:30"]], "sat": [["08:00", "11:00"]]}' WHERE code = 'TP'""")
    assert queue.opening_hours_text(queue.service_by_code("TP")) == "T2–T4 07:00–11:30; T7 08:00–11:00"
    store.execute(db, """UPDATE services SET opening_hours = '{"tue": [["07:00", "11:30"], ["13:30", "17:00"]]}'
                         WHERE code = 'TP'""")
    clock.set_local("2026-11-24 08:00")
    queue.issue_ticket("TP")
    queue.issue_ticket("TP")
    with pytest.raises(Conflict) as capped:
        queue.issue_ticket("TP")
    assert capped.value.code == "sold_out"
    assert store.scalar(db, "SELECT COUNT(*) FROM tickets") == 2


def test_event_log_is_append_only(queue, db):
    queue.issue_ticket("TP")
    with pytest.raises(Exception, match="append-only"):
        store.execute(db, "UPDATE ticket_events SET kind = 'x'")
    with pytest.raises(Exception, match="append-only"):
        store.execute(db, "DELETE FROM ticket_events")


def test_priority_ratio_lets_a_normal_ticket_through(queue, db, open_counter, clock):
    queue.settings["priority_ratio"] = 2
    counter, clerk = open_counter(2)  # serves TP only
    normal = queue.issue_ticket("TP").result["number"]
    clock.advance(5)
    priority = [queue.issue_ticket("TP", "NCT").result["number"] for _ in range(3)]
    called = []
    for _ in range(4):
        ticket = queue.call_next(counter, clerk).result["ticket"]
        called.append(ticket["number"])
        queue.no_show(ticket["id"], counter, clerk)
    assert called == [priority[0], priority[1], normal, priority[2]]


def test_out_of_order_call_needs_a_reason_and_is_logged(queue, db, open_counter):
    counter, clerk = open_counter(2)
    first = queue.issue_ticket("TP").result
    second = queue.issue_ticket("TP").result
    with pytest.raises(QueueError):
        queue.call_ticket(counter, clerk, "  ", number=second["number"])
    with pytest.raises(QueueError):
        queue.call_ticket(counter, clerk, "khẩn", number="Z999")
    called = queue.call_ticket(counter, clerk, "người già yếu", number=second["number"].lower()).result["ticket"]
    assert called["id"] == second["id"]
    row = store.one(db, "SELECT kind, detail FROM ticket_events WHERE ticket_id = ? AND kind LIKE 'called%'",
                    (second["id"],))
    assert row["kind"] == "called_out_of_order" and "người già yếu" in row["detail"]
    assert queue.public_ticket(queue.ticket(first["id"]))["position"] == 0
