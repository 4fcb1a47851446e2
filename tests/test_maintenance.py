"""Personal data and the database's care: retention purge, audit of who saw citizen data, backup and restore."""
from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
import threading

import pytest
import requests

from queueing import audit, centre, maintenance, store
from tests.conftest import table_contents
from queueing.citizen import minimise, parse_card_qr
from queueing.service import QueueService
from tests.conftest import ROOT, LiveServer, counter_id

DAY = 86_400
CARD = "038155000003|171234567|LÊ VĂN CƯỜNG|15071955|Nam|Xã Hải Long, Tỉnh Thanh Hóa|20042021"
KEY = b"k" * 32


def citizen(raw: str = CARD):
    return minimise(parse_card_qr(raw), KEY)


def serve(queue, counter, clerk):
    """Call, start and finish the next ticket at a counter."""
    ticket = queue.call_next(counter, clerk).result["ticket"]
    queue.start(ticket["id"], counter, clerk)
    queue.finish(ticket["id"], counter, clerk, [store.scalar(queue.db, """SELECT p.code FROM procedures p
                 JOIN services s ON s.id = p.service_id WHERE s.code = ? LIMIT 1""", (ticket["service"],))])
    return ticket


def citizen_rows(db):
    return store.all_rows(db, """SELECT id, status, citizen_name, citizen_id_last4,
                                 citizen_birth_year, citizen_phone FROM tickets ORDER BY issued_at""")


# ---- retention ---------------------------------------------------------------------------------

def test_purge_erases_citizen_data_after_the_retention_period_and_keeps_the_tickets(db, queue, clock, open_counter):
    counter, clerk = open_counter(1)
    old = queue.issue_ticket("TP", citizen=citizen()).result
    serve(queue, counter, clerk)
    clock.advance(31 * DAY)
    open_waiting = queue.issue_ticket("TP", citizen=citizen()).result
    recent = queue.issue_ticket("TP", citizen=citizen()).result
    serve(queue, counter, clerk)
    events_before = store.scalar(db, "SELECT COUNT(*) FROM ticket_events")

    assert maintenance.purge_citizen_data(db, centre.DEMO_CENTRE_ID, clock(), 30) == 1
    rows = {row["id"]: row for row in citizen_rows(db)}
    assert rows[old["id"]]["status"] == "done"
    assert all(rows[old["id"]][column] is None for column in maintenance.CITIZEN_COLUMNS)
    # a ticket still waiting and a recent one keep their data: the clerk still needs the name
    assert rows[open_waiting["id"]]["citizen_name"] == "LÊ VĂN CƯỜNG"
    assert rows[recent["id"]]["citizen_id_last4"] == "0003"
    # the numbers and the event log stay for the statistics
    assert store.scalar(db, "SELECT COUNT(*) FROM tickets") == 3
    assert store.scalar(db, "SELECT COUNT(*) FROM ticket_events") == events_before
    purged = audit.entries(db, centre.DEMO_CENTRE_ID, None, oldest_first=True, action=maintenance.ACTION_CITIZEN_PURGED)
    assert len(purged) == 1 and purged[0]["detail"]["tickets"] == 1
    # idempotent: nothing more to erase
    assert maintenance.purge_citizen_data(db, centre.DEMO_CENTRE_ID, clock(), 30) == 0


def test_purged_name_is_not_left_in_the_database_file(db, queue, clock, open_counter, db_path):
    counter, clerk = open_counter(1)
    unique = CARD.replace("LÊ VĂN CƯỜNG", "TÊN RIÊNG ĐỂ XOÁ")
    queue.issue_ticket("TP", citizen=citizen(unique))
    serve(queue, counter, clerk)
    db.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    needle = "TÊN RIÊNG ĐỂ XOÁ".encode()
    assert needle in db_path.read_bytes()
    clock.advance(40 * DAY)
    assert maintenance.purge_citizen_data(db, centre.DEMO_CENTRE_ID, clock(), 30) == 1
    wal = db_path.with_name(db_path.name + "-wal")
    assert needle not in db_path.read_bytes()
    assert not wal.exists() or needle not in wal.read_bytes()


def test_purge_uses_the_centre_setting_and_refuses_bad_days(db, queue, clock, open_counter):
    counter, clerk = open_counter(1)
    queue.issue_ticket("TP", citizen=citizen())
    serve(queue, counter, clerk)
    clock.advance(10 * DAY)
    assert maintenance.retention_days_of(db, centre.DEMO_CENTRE_ID) == 30
    assert maintenance.purge_citizen_data(db, centre.DEMO_CENTRE_ID, clock()) == 0
    with store.transaction(db):
        store.execute(db, "UPDATE centres SET settings = ? WHERE id = ?",
                      (store.dumps({"citizen_retention_days": 7}), centre.DEMO_CENTRE_ID))
    assert maintenance.purge_citizen_data(db, centre.DEMO_CENTRE_ID, clock()) == 1
    for bad in (-1, "30", 2.5, True):
        with pytest.raises(maintenance.MaintenanceError):
            maintenance.purge_citizen_data(db, centre.DEMO_CENTRE_ID, clock(), bad)


def test_daily_purge_runs_at_start_then_once_per_local_day_whatever_the_clock_does(db_path, db, clock):
    queue = QueueService(db, centre.DEMO_CENTRE_ID, clock=clock)
    counter, clerk = counter_id(db, 1), store.scalar(db, "SELECT id FROM users WHERE username = 'quay1'")
    queue.sign_in(counter, clerk)
    runner = maintenance.DailyPurge(db_path, centre.DEMO_CENTRE_ID, clock)
    clock.set_local("2026-11-24 10:00")
    assert runner.tick() == 0  # at start-up, whatever the hour
    assert runner.tick() is None  # once a day
    queue.issue_ticket("TP", citizen=citizen())
    serve(queue, counter, clerk)
    clock.set_local("2026-12-25 01:00")
    assert runner.tick() is None  # a new day, but before the purge hour
    clock.set_local("2026-12-25 02:00")
    assert runner.tick() == 1
    clock.set_local("2026-12-25 23:59")
    assert runner.tick() is None
    clock.set_local("2026-12-24 12:00")  # the clock is set back a day: one harmless extra run
    assert runner.tick() == 0
    clock.set_local("2026-12-26 03:00")
    assert runner.tick() == 0


def test_daily_purge_thread_starts_and_stops(db_path):
    runner = maintenance.DailyPurge(db_path, centre.DEMO_CENTRE_ID, check_every_s=0.05).start()
    try:
        deadline = threading.Event()
        for _ in range(100):
            if runner.last_day:
                break
            deadline.wait(0.02)
        assert runner.last_day is not None
    finally:
        runner.stop()
    assert not runner._thread.is_alive()


# ---- audit log -------------------------------------------------------------------------------

def test_citizen_views_are_logged_once_per_viewer_and_ticket(db, queue, clock):
    ticket = queue.issue_ticket("TP", citizen=citizen()).result
    admin = store.scalar(db, "SELECT id FROM users WHERE username = 'admin'")
    assert maintenance.record_citizen_view(db, centre.DEMO_CENTRE_ID, clock(), "user", admin, ticket["id"], "x")
    assert not maintenance.record_citizen_view(db, centre.DEMO_CENTRE_ID, clock(), "user", admin, ticket["id"], "y")
    assert maintenance.record_citizen_view(db, centre.DEMO_CENTRE_ID, clock(), "device", 1, ticket["id"], "z")
    entries = audit.entries(db, centre.DEMO_CENTRE_ID, None, include_views=True, oldest_first=True, ticket_id=ticket["id"])
    assert [(e["username"], e["device_id"], e["detail"]["via"]) for e in entries] == [("admin", None, "x"),
                                                                                       (None, 1, "z")]


def test_api_logs_who_saw_a_citizen_name(client, api, app):
    clerk = api.headers("quay1")
    admin = api.headers("admin")
    plain = api.issue("TP")
    scanned = api.issue("TP", citizen_qr=CARD)
    client.post("/api/v1/counters/1/sign-in", headers=clerk)
    assert client.post("/api/v1/counters/1/call-next", headers=clerk).json["ticket"]["id"] == plain["id"]
    client.post(f"/api/v1/tickets/{plain['id']}/no-show", headers=clerk)
    called = client.post("/api/v1/counters/1/call-next", headers=clerk).json["ticket"]
    assert called["citizen_name"] == "LÊ VĂN CƯỜNG"
    for _ in range(3):  # the panel refreshes after every click: still one row per viewer
        assert client.get("/api/v1/counters/1", headers=clerk).status_code == 200
    assert client.get("/api/v1/counters/1", headers=admin).json["current"]["citizen_name"] == "LÊ VĂN CƯỜNG"
    db = store.connect(app.config["DATABASE"])
    try:
        entries = audit.entries(db, centre.DEMO_CENTRE_ID, None, oldest_first=True, action=maintenance.ACTION_CITIZEN_VIEWED)
    finally:
        db.conn.close()
    assert [(e["username"], e["ticket_id"], e["detail"]["via"]) for e in entries] == [
        ("quay1", scanned["id"], "api.call_next"), ("admin", scanned["id"], "api.counter_state")]


# ---- backup and restore --------------------------------------------------------------------------

def busy_centre(db, queue, clock, open_counter):
    counter, clerk = open_counter(1)
    for index in range(12):
        queue.issue_ticket("TP" if index % 2 else "CT", citizen=citizen() if index % 3 == 0 else None)
        clock.advance(30)
    for _ in range(5):
        serve(queue, counter, clerk)
    queue.call_next(counter, clerk)


def test_backup_then_restore_gives_back_the_same_database(db_path, db, queue, clock, open_counter, tmp_path):
    busy_centre(db, queue, clock, open_counter)
    target = tmp_path / "backups" / "luot-2026-11-24.sqlite3"
    assert maintenance.backup(db_path, target) == target
    assert oct(target.stat().st_mode & 0o777) == "0o600"
    assert not target.with_name(target.name + "-wal").exists()  # one self-contained file
    original = table_contents(db_path)
    assert table_contents(target) == original
    assert len(original["tickets"]) == 12 and len(original["ticket_events"]) > 12

    # the centre goes on working after the backup; then the backup is restored over it
    queue.issue_ticket("TP")
    assert table_contents(db_path) != original
    db.conn.close()
    kept = maintenance.restore(target, db_path)
    assert table_contents(db_path) == original
    assert kept is not None and len(table_contents(kept)["tickets"]) == 13
    reopened = store.connect(db_path)
    try:
        assert store.scalar(reopened, "PRAGMA journal_mode") == "wal"
        assert store.scalar(reopened, "PRAGMA integrity_check") == "ok"
        # the restored centre carries on: the next number follows the restored ones
        next_ticket = QueueService(reopened, centre.DEMO_CENTRE_ID, clock=clock).issue_ticket("TP").result
        assert next_ticket["number"] == "A007"
    finally:
        reopened.conn.close()


def test_restore_into_an_empty_place_and_refusals(db_path, tmp_path):
    target = maintenance.backup(db_path, tmp_path / "copy.sqlite3")
    fresh = tmp_path / "new" / "luot.sqlite3"
    assert maintenance.restore(target, fresh) is None
    assert table_contents(fresh) == table_contents(db_path)
    not_sqlite = tmp_path / "notes.txt"
    not_sqlite.write_text("hello " * 1000)
    other = tmp_path / "other.sqlite3"
    sqlite3.connect(other).execute("CREATE TABLE t (x)").connection.commit()
    for bad in (not_sqlite, other, tmp_path / "missing.sqlite3"):
        with pytest.raises(maintenance.MaintenanceError):
            maintenance.restore(bad, fresh)
    assert table_contents(fresh) == table_contents(db_path)  # untouched
    with pytest.raises(maintenance.MaintenanceError):
        maintenance.backup(tmp_path / "nothing.sqlite3", tmp_path / "x.sqlite3")


def test_backup_during_writes_is_a_consistent_snapshot(db_path, tmp_path):
    """Writers keep going while backups are taken: each backup is internally consistent."""
    stop = threading.Event()
    errors = []

    def writer():
        db = store.connect(db_path)
        queue = QueueService(db, centre.DEMO_CENTRE_ID)
        try:
            while not stop.is_set():
                queue.issue_ticket("TP")
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)
        finally:
            db.conn.close()

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        counts = []
        for index in range(5):
            copy = maintenance.backup(db_path, tmp_path / f"b{index}.sqlite3")
            conn = sqlite3.connect(copy)
            tickets = conn.execute("SELECT COUNT(*) FROM tickets").fetchone()[0]
            events = conn.execute("SELECT COUNT(*) FROM ticket_events WHERE kind = 'issued'").fetchone()[0]
            last = conn.execute("SELECT MAX(last_number) FROM ticket_sequences").fetchone()[0] or 0
            conn.close()
            assert tickets == events == last  # never half a ticket
            counts.append(tickets)
    finally:
        stop.set()
        thread.join()
    assert not errors and counts == sorted(counts) and counts[-1] > 0


@pytest.fixture
def live_server(tmp_path, app_instance_template):
    """A real `python server.py` on a copy of the instance the server initialised once (hashing is slow)."""
    folder = tmp_path / "instance"
    shutil.copytree(app_instance_template, folder)
    server = LiveServer(folder).start()
    yield server
    server.stop()


def test_cli_backup_purge_and_restore_against_a_running_server(live_server, tmp_path):
    env = {**os.environ, "LUOT_INSTANCE": str(live_server.folder), "LUOT_TTS": "none"}

    def run(*args):
        return subprocess.run([sys.executable, "server.py", *args], cwd=ROOT, env=env, capture_output=True,
                              text=True, timeout=60)

    tickets = [requests.post(live_server.url + "/api/v1/tickets", json={"service": "TP", "citizen_qr": CARD},
                             headers=live_server.kiosk, timeout=10).json() for _ in range(3)]
    backup_file = tmp_path / "nightly.sqlite3"
    made = run("backup", str(backup_file))  # online: the server keeps running
    assert made.returncode == 0, made.stderr
    assert requests.post(live_server.url + "/api/v1/tickets", json={"service": "TP"}, headers=live_server.kiosk,
                         timeout=10).json()["number"] == "A004"
    purged = run("purge", "--days", "0")  # the tickets still wait: their data is kept
    assert purged.returncode == 0 and "0" in purged.stdout
    bad = run("restore", str(tmp_path / "nope.sqlite3"))
    assert bad.returncode != 0 and "sao lưu" in bad.stderr
    live_server.stop()
    restored = run("restore", str(backup_file))
    assert restored.returncode == 0, restored.stderr
    live_server.start()
    for ticket in tickets:
        assert requests.get(f"{live_server.url}/api/v1/tickets/{ticket['id']}", headers=live_server.kiosk, timeout=10).json()["number"] == \
            ticket["number"]
    # the ticket issued after the backup is gone, so its number is given again
    assert requests.post(live_server.url + "/api/v1/tickets", json={"service": "TP"}, headers=live_server.kiosk,
                         timeout=10).json()["number"] == "A004"
