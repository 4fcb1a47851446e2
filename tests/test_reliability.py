"""The real server under load, killed and restarted: no ticket given twice, no number duplicated, none lost.

Every test here runs the production command (gunicorn, one worker, threads) on loopback ports; the
concurrency test runs two such processes on one SQLite file, as two instances of a centre would.
Without Redis their broadcasts do not cross processes, which does not matter to the data checked here.
"""
from __future__ import annotations

import json
import os
import random
import shutil
import signal
import socket
import threading
import time
from collections import Counter, defaultdict
from pathlib import Path

import pytest
import requests
import socketio

from queueing import accounts, store
from queueing.centre import load_configuration
from queueing.service import QueueService
from tests.conftest import ROOT, LiveServer

GUNICORN = str(ROOT / ".venv" / "bin" / "gunicorn")
CENTRE_ID = "stress"
CLERKS = 20
KIOSKS = 5
SERVICES = [("HT", "Hộ tịch", "A"), ("CT", "Chứng thực", "B"), ("DD", "Đất đai", "C")]


def centre_configuration(counters: int = CLERKS) -> dict:
    """A centre with `counters` counters serving every service, and no kiosk rate limit."""
    return {
        "centre": {"id": CENTRE_ID, "name": "Trung tâm thử tải", "timezone": "Asia/Ho_Chi_Minh",
                   "settings": {"kiosk_tickets_per_minute": 1_000_000}},
        "services": [{"code": code, "name": name, "prefix": prefix,
                      "procedures": [{"code": f"{code}-01", "name": f"Thủ tục {name}"}]}
                     for code, name, prefix in SERVICES],
        "counters": [{"number": number, "name": f"Quầy {number}", "services": [s[0] for s in SERVICES]}
                     for number in range(1, counters + 1)],
    }


class Centre:
    """An instance folder with the stress centre, its clerks' bearer tokens and five kiosk tokens."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.database = folder / "luot.sqlite3"
        tokens = json.loads((folder / "tokens.json").read_text())
        self.clerk_tokens = {int(number): token for number, token in tokens["clerks"].items()}
        self.kiosk_tokens = tokens["kiosks"]

    def connect(self):
        return store.connect(self.database)

    def rows(self, sql: str, params=()) -> list[dict]:
        db = self.connect()
        try:
            return store.all_rows(db, sql, params)
        finally:
            db.conn.close()


@pytest.fixture(scope="module")
def centre_template(tmp_path_factory):
    """The stress centre, built once: 20 clerks holding bearer tokens (as after signing in), 5 kiosks.

    The clerks share one password hash: argon2 is slow on purpose, and these tests are about the
    queue, not about signing in (tests/test_security.py is).
    """
    folder = tmp_path_factory.mktemp("stress-template")
    db = store.connect(folder / "luot.sqlite3")
    store.migrate(db)
    now = time.time()
    load_configuration(db, centre_configuration(), now)
    password_hash = accounts.hash_password("not-used-in-these-tests")
    clerks = {}
    for number in range(1, CLERKS + 1):
        with store.transaction(db):
            user_id = store.insert(db, "users", {"centre_id": CENTRE_ID, "username": f"quay{number}",
                                                 "display_name": f"Cán bộ quầy {number}", "role": "clerk",
                                                 "password_hash": password_hash, "created_at": now})
        clerks[number] = accounts.issue_staff_token(db, user_id, now)
    kiosks = [accounts.create_device(db, CENTRE_ID, f"Kiosk {index}", "kiosk", now, printer_uri="none")
              for index in range(1, KIOSKS + 1)]
    db.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.conn.close()
    (folder / "tokens.json").write_text(json.dumps({"clerks": clerks, "kiosks": kiosks}))
    # LiveServer reads the credentials file the first start writes; this centre has none to print
    (folder / "credentials.txt").write_text("  kiosk token: " + kiosks[0] + "\n")
    return folder


@pytest.fixture
def stress_centre(tmp_path, centre_template):
    folder = tmp_path / "instance"
    shutil.copytree(centre_template, folder)
    return Centre(folder)


def gunicorn(folder: Path, port: int | None = None, env: dict | None = None) -> LiveServer:
    """The production command (README) on a loopback port, as a LiveServer."""
    server = LiveServer(folder, env=env)
    if port is not None:
        server.port, server.url = port, f"http://127.0.0.1:{port}"
        server.env["LUOT_PORT"] = str(port)
    server.command = [GUNICORN, "-w", "1", "--threads", "100", "--no-control-socket",
                      "-b", f"127.0.0.1:{server.port}", "--graceful-timeout", "3", "server:create_app()"]
    return server


def children(pid: int) -> list[int]:
    try:
        return [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except FileNotFoundError:
        return []


def crash(server: LiveServer) -> None:
    """kill -9 the server: its worker (which holds the requests in flight) and its master, no goodbye."""
    workers = children(server.process.pid)
    for pid in workers:
        os.kill(pid, signal.SIGKILL)
    server.process.send_signal(signal.SIGKILL)
    server.process.wait(timeout=10)
    deadline = time.time() + 10
    while any(Path(f"/proc/{pid}").exists() and "zombie" not in Path(f"/proc/{pid}/status").read_text()
              for pid in workers) and time.time() < deadline:
        time.sleep(0.02)
    server.log.close()


def port_closed(port: int, timeout: float = 10.0) -> bool:
    deadline = time.time() + timeout
    while time.time() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) != 0:
                return True
        time.sleep(0.05)
    return False


class Load:
    """Kiosks issuing and clerks calling at once, recording every answer the server acknowledged."""

    def __init__(self, centre: Centre, servers: list[LiveServer], tickets_per_kiosk: int):
        self.centre = centre
        self.servers = servers
        self.tickets_per_kiosk = tickets_per_kiosk
        self.issued: list[dict] = []  # 201 answers
        self.calls: dict[int, list[dict]] = defaultdict(list)  # counter -> tickets its clerk was given
        self.finished: set[str] = set()
        self.no_shows: set[str] = set()
        self.statuses: Counter = Counter()
        self.unanswered = 0  # requests that got no HTTP answer (only when the server is killed)
        self.kiosks_done = threading.Event()
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.clerk_headers: dict[int, dict] = {}
        self.errors: list[str] = []

    def sign_in_clerks(self) -> None:
        for number in range(1, CLERKS + 1):
            server = self.servers[number % len(self.servers)]
            headers = {"Authorization": "Bearer " + self.centre.clerk_tokens[number]}
            response = requests.post(f"{server.url}/api/v1/counters/{number}/sign-in", headers=headers, timeout=30)
            assert response.status_code == 200, response.text
            self.clerk_headers[number] = headers

    def post(self, session: requests.Session, index: int, path: str, headers: dict, body=None):
        """POST to one of the servers; None when the server gave no answer (killed)."""
        server = self.servers[index % len(self.servers)]
        try:
            response = session.post(server.url + path, json=body, headers=headers, timeout=30)
        except requests.RequestException:
            with self.lock:
                self.unanswered += 1
            return None
        with self.lock:
            self.statuses[response.status_code] += 1
        if response.status_code >= 500:
            self.errors.append(f"{path}: {response.status_code} {response.text[:200]}")
        return response

    def kiosk(self, number: int) -> None:
        token = self.centre.kiosk_tokens[number]
        headers = {"Authorization": "Bearer " + token}
        rng = random.Random(number)
        with requests.Session() as session:
            for index in range(self.tickets_per_kiosk):
                if self.stop.is_set():
                    return
                service = rng.choice(SERVICES)[0]
                response = self.post(session, number + index, "/api/v1/tickets", headers, {"service": service})
                if response is None:
                    return
                if response.status_code == 201:
                    with self.lock:
                        self.issued.append(response.json())

    def clerk(self, number: int) -> None:
        headers = self.clerk_headers[number]
        rng = random.Random(100 + number)
        with requests.Session() as session:
            while not self.stop.is_set():
                response = self.post(session, number, f"/api/v1/counters/{number}/call-next", headers)
                if response is None:
                    return
                if response.status_code != 200:
                    self.errors.append(f"call-next {number}: {response.status_code} {response.text[:200]}")
                    return
                ticket = response.json()["ticket"]
                if ticket is None:
                    if self.kiosks_done.is_set():
                        return
                    time.sleep(0.02)  # an idle clerk looks again shortly
                    continue
                with self.lock:
                    self.calls[number].append(ticket)
                path = f"/api/v1/tickets/{ticket['id']}"
                if rng.random() < 0.2:
                    answered = self.post(session, number, path + "/no-show", headers)
                    if answered is None:
                        return
                    if answered.status_code == 200:
                        self.no_shows.add(ticket["id"])
                    continue
                if self.post(session, number, path + "/start", headers) is None:
                    return
                answered = self.post(session, number, path + "/finish", headers,
                                     {"procedure": f"{ticket['service']}-01"})
                if answered is None:
                    return
                if answered.status_code == 200:
                    self.finished.add(ticket["id"])
                else:
                    self.errors.append(f"finish: {answered.status_code} {answered.text[:200]}")

    def run(self, until=None) -> None:
        """Run kiosks and clerks; `until` (a callable) may kill the servers while they work."""
        kiosks = [threading.Thread(target=self.kiosk, args=(number,)) for number in range(KIOSKS)]
        clerks = [threading.Thread(target=self.clerk, args=(number,)) for number in range(1, CLERKS + 1)]
        for thread in kiosks + clerks:
            thread.start()
        if until is not None:
            until(self)
        for thread in kiosks:
            thread.join(timeout=120)
        self.kiosks_done.set()
        for thread in clerks:
            thread.join(timeout=120)
        assert not any(thread.is_alive() for thread in kiosks + clerks), "load threads hung"


def assert_numbers_are_unique_and_gapless(centre: Centre) -> None:
    """Per service and day: numbers unique and the sequence 1..n with no hole (nothing lost)."""
    for row in centre.rows("""SELECT number_service_id, local_day, COUNT(*) AS n, COUNT(DISTINCT number) AS numbers,
                                     MIN(sequence) AS low, MAX(sequence) AS high
                              FROM tickets GROUP BY number_service_id, local_day"""):
        assert row["n"] == row["numbers"] == row["high"] and row["low"] == 1, row
    for row in centre.rows("SELECT service_id, local_day, last_number FROM ticket_sequences"):
        assert row["last_number"] == centre.rows(
            "SELECT MAX(sequence) AS high FROM tickets WHERE number_service_id = ? AND local_day = ?",
            (row["service_id"], row["local_day"]))[0]["high"]


def test_twenty_clerks_and_five_kiosks_on_two_processes_sharing_the_database(stress_centre):
    first = gunicorn(stress_centre.folder).start()
    second = gunicorn(stress_centre.folder).start()
    try:
        load = Load(stress_centre, [first, second], tickets_per_kiosk=40)
        load.sign_in_clerks()
        started = time.perf_counter()
        load.run()
        elapsed = time.perf_counter() - started
    finally:
        first.stop()
        second.stop()
    assert not load.errors, load.errors[:5]
    assert load.unanswered == 0 and set(load.statuses) <= {200, 201}, load.statuses
    issued = {ticket["id"]: ticket for ticket in load.issued}
    assert len(load.issued) == len(issued) == KIOSKS * 40

    # no ticket handed to two counters, and every issued ticket was called exactly once
    called = [ticket["id"] for tickets in load.calls.values() for ticket in tickets]
    assert len(called) == len(set(called)) == len(issued), "a ticket was called twice or never"
    assert set(called) == set(issued)
    # no number duplicated, none lost, and every ticket ends in a valid final state
    numbers = Counter((ticket["service"], ticket["number"]) for ticket in load.issued)
    assert max(numbers.values()) == 1
    assert_numbers_are_unique_and_gapless(stress_centre)
    stored = {row["id"]: row for row in stress_centre.rows("SELECT id, number, status, counter_id FROM tickets")}
    assert set(stored) == set(issued)
    for counter, tickets in load.calls.items():
        for ticket in tickets:
            row = stored[ticket["id"]]
            assert row["number"] == issued[ticket["id"]]["number"] and row["counter_id"] == counter
            assert row["status"] == ("no_show" if ticket["id"] in load.no_shows else "done")
    # the event log agrees: one claim per ticket, by the counter that got it
    claims = stress_centre.rows("""SELECT ticket_id, COUNT(*) AS n FROM ticket_events
                                   WHERE from_status = 'waiting' AND to_status = 'called' GROUP BY ticket_id""")
    assert len(claims) == len(issued) and all(row["n"] == 1 for row in claims)
    assert stress_centre.rows("SELECT COUNT(*) AS n FROM counters WHERE current_ticket_id IS NOT NULL "
                              "AND current_ticket_id IN (SELECT id FROM tickets WHERE status IN ('called', 'serving'))"
                              )[0]["n"] == 0
    busy = sum(1 for tickets in load.calls.values() if tickets)
    print(f"\nconcurrency: {len(issued)} tickets issued and called by {busy}/{CLERKS} clerks on 2 processes "
          f"in {elapsed:.1f} s; {sum(load.statuses.values())} requests, 0 duplicates")


def test_kill_9_in_the_middle_of_the_load_loses_no_acknowledged_ticket(stress_centre):
    server = gunicorn(stress_centre.folder).start()
    port = server.port
    load = Load(stress_centre, [server], tickets_per_kiosk=400)
    load.sign_in_clerks()

    def kill_mid_load(load: Load) -> None:
        deadline = time.time() + 30
        while len(load.issued) < 120 and time.time() < deadline:
            time.sleep(0.01)
        crash(server)  # requests are in flight on every thread
        load.stop.set()

    load.run(until=kill_mid_load)
    assert not load.errors, load.errors[:5]
    assert load.unanswered > 0, "the kill did not interrupt any request"
    acknowledged = {ticket["id"]: ticket for ticket in load.issued}
    called = {ticket["id"]: counter for counter, tickets in load.calls.items() for ticket in tickets}
    assert len(acknowledged) >= 120
    assert port_closed(port)

    # the database alone, before any restart: every acknowledged ticket with its number and place
    stored = {row["id"]: row for row in stress_centre.rows(
        "SELECT id, number, status, counter_id, issued_at, queue_at, sequence FROM tickets")}
    lost = [ticket_id for ticket_id in acknowledged if ticket_id not in stored]
    assert lost == [], f"{len(lost)} acknowledged tickets lost"
    for ticket_id, ticket in acknowledged.items():
        assert stored[ticket_id]["number"] == ticket["number"]
        assert stored[ticket_id]["queue_at"] == stored[ticket_id]["issued_at"]
    for ticket_id, counter in called.items():  # an acknowledged call is durable too
        assert stored[ticket_id]["status"] != "waiting" and stored[ticket_id]["counter_id"] == counter
    for ticket_id in load.finished:
        assert stored[ticket_id]["status"] == "done"
    assert_numbers_are_unique_and_gapless(stress_centre)

    restarted = gunicorn(stress_centre.folder, port=port).start()
    try:
        # the same tokens still work: counters resume where they were
        waiting_before = sorted((row for row in stored.values() if row["status"] == "waiting"),
                                key=lambda row: (row["queue_at"], row["id"]))
        for ticket_id, ticket in acknowledged.items():
            public = requests.get(f"{restarted.url}/api/v1/tickets/{ticket_id}", timeout=10,
                                  headers={"Authorization": "Bearer " + stress_centre.kiosk_tokens[0]}).json()
            assert public["number"] == ticket["number"] and public["issued_at"] == ticket["issued_at"]
        # queue order unchanged: each service's waiting tickets have 0, 1, 2… ahead in number order
        by_service = defaultdict(list)
        for row in waiting_before:
            public = requests.get(f"{restarted.url}/api/v1/tickets/{row['id']}", timeout=10,
                                  headers={"Authorization": "Bearer " + stress_centre.kiosk_tokens[0]}).json()
            by_service[public["service"]].append((row["sequence"], public["position"]))
        for service, places in by_service.items():
            places.sort()
            positions = [position for _, position in places]
            assert positions == sorted(set(positions)), service

        resumed = []
        for number, headers in load.clerk_headers.items():
            state = requests.get(f"{restarted.url}/api/v1/counters/{number}", headers=headers, timeout=10)
            assert state.status_code == 200, state.text
            current = state.json()["current"]
            expected = [row["id"] for row in stored.values()
                        if row["counter_id"] == number and row["status"] in ("called", "serving")]
            assert [current["id"]] == expected if current else expected == []
            if current:
                path = f"{restarted.url}/api/v1/tickets/{current['id']}"
                if current["status"] == "called":
                    assert requests.post(path + "/start", headers=headers, timeout=10).status_code == 200
                done = requests.post(path + "/finish", headers=headers, timeout=10,
                                     json={"procedure": f"{current['service']}-01"})
                assert done.status_code == 200, done.text
                resumed.append(number)
        # the rest of the queue is called in its original order
        drained = []
        while True:
            number = 1 + len(drained) % CLERKS
            headers = load.clerk_headers[number]
            answer = requests.post(f"{restarted.url}/api/v1/counters/{number}/call-next", headers=headers, timeout=10)
            assert answer.status_code == 200, answer.text
            ticket = answer.json()["ticket"]
            if ticket is None:
                break
            drained.append(ticket["id"])
            assert requests.post(f"{restarted.url}/api/v1/tickets/{ticket['id']}/no-show", headers=headers,
                                 timeout=10).status_code == 200
        assert drained == [row["id"] for row in waiting_before]
        # numbering goes on after the highest committed number
        highest = stress_centre.rows("SELECT MAX(t.sequence) AS high FROM tickets t "
                                     "JOIN services s ON s.id = t.number_service_id WHERE s.code = 'HT'")
        new = requests.post(f"{restarted.url}/api/v1/tickets", json={"service": "HT"}, timeout=10,
                            headers={"Authorization": "Bearer " + stress_centre.kiosk_tokens[0]})
        assert new.status_code == 201 and new.json()["number"] == f"A{highest[0]['high'] + 1:03d}"
    finally:
        restarted.stop()
    assert_numbers_are_unique_and_gapless(stress_centre)
    final = Counter(row["status"] for row in stress_centre.rows("SELECT status FROM tickets"))
    assert set(final) <= {"done", "no_show", "waiting"} and final["waiting"] == 1  # only the new one
    print(f"\nkill -9: {len(acknowledged)} tickets acknowledged before the kill, {load.unanswered} requests cut, "
          f"0 lost; {len(resumed)} counters resumed their ticket, {len(drained)} waiting tickets called in order")


def test_two_processes_starting_together_create_one_centre(tmp_path):
    small = centre_configuration(counters=1)  # one clerk: fewer slow password hashes at start-up
    (tmp_path / "centre.json").write_text(json.dumps(small, ensure_ascii=False), encoding="utf-8")
    env = {"LUOT_CENTRE": str(tmp_path / "centre.json")}
    first, second = gunicorn(tmp_path, env=env), gunicorn(tmp_path, env=env)
    threads = [threading.Thread(target=server.start) for server in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    try:
        for server in (first, second):
            assert requests.get(server.url + "/api/v1/services", timeout=10).status_code == 200
        db = store.connect(tmp_path / "luot.sqlite3")
        try:
            assert store.scalar(db, "SELECT COUNT(*) FROM centres") == 1
            assert store.scalar(db, "SELECT COUNT(*) FROM users") == 2  # admin and quay1, once
        finally:
            db.conn.close()
        # both serve the same centre with the credentials written once
        kiosk = {"Authorization": "Bearer " + first.credentials.kiosk_token}
        numbers = [requests.post(server.url + "/api/v1/tickets", json={"service": "HT"}, headers=kiosk,
                                 timeout=10).json()["number"] for server in (first, second, first)]
        assert numbers == ["A001", "A002", "A003"]
    finally:
        first.stop()
        second.stop()


# ---- restart and reconnect ---------------------------------------------------------------------------

class Screen:
    """A real Socket.IO client that reconnects by itself and keeps every snapshot it receives."""

    def __init__(self, url: str, token: str | None = None, watch_counter: int | None = None):
        self.snapshots: list[dict] = []
        self.counter_snapshots: list[dict] = []
        self.client = socketio.Client(reconnection=True, reconnection_delay=0.2, reconnection_delay_max=1)
        self.client.on("snapshot", self.snapshots.append)
        self.client.on("counter_snapshot", self.counter_snapshots.append)
        if watch_counter is not None:
            self.client.on("connect", lambda: self.client.emit("watch_counter", watch_counter))
        self.client.connect(url, auth={"token": token} if token else None, transports=["websocket"],
                            wait_timeout=10)

    def wait_for_snapshots(self, count: int, timeout: float = 20) -> dict:
        deadline = time.time() + timeout
        while len(self.snapshots) < count and time.time() < deadline:
            time.sleep(0.02)
        assert len(self.snapshots) >= count, f"only {len(self.snapshots)} snapshots"
        return self.snapshots[-1]

    def close(self) -> None:
        self.client.disconnect()


@pytest.mark.parametrize("restart", ["kill -9", "graceful"])
def test_screens_and_print_agents_reconnect_after_a_restart_and_show_the_state_from_the_snapshot(
        tmp_path, app_instance_template, restart):
    from printers.agent import PrintAgent
    from queueing.centre import DEMO_CENTRE_ID

    folder = tmp_path / "instance"
    shutil.copytree(app_instance_template, folder)
    db = store.connect(folder / "luot.sqlite3")
    printing_kiosk = accounts.create_device(db, DEMO_CENTRE_ID, "Kiosk có máy in", "kiosk", time.time(),
                                            printer_uri="agent")
    kiosk_id = store.scalar(db, "SELECT id FROM devices WHERE name = 'Kiosk có máy in'")
    printer_token = accounts.create_device(db, DEMO_CENTRE_ID, "Máy in sảnh", "printer", time.time(),
                                           kiosk_id=kiosk_id)
    tablet_token = accounts.create_device(db, DEMO_CENTRE_ID, "Máy tính bảng quầy 1", "counter", time.time(),
                                          counter_id=1)
    # bearer tokens as /auth/login gives them (argon2 sign-ins are tested in test_security.py)
    clerk_token, admin_token = (
        accounts.issue_staff_token(db, store.scalar(db, "SELECT id FROM users WHERE username = ?", (name,)),
                                   time.time()) for name in ("quay1", "admin"))
    db.conn.close()

    server = gunicorn(folder).start()
    port = server.port
    clerk = {"Authorization": "Bearer " + clerk_token}
    assert requests.post(server.url + "/api/v1/counters/1/sign-in", headers=clerk, timeout=10).status_code == 200
    printed = tmp_path / "printer.bin"
    agent = PrintAgent(server.url, printer_token, f"file://{printed}", 576)
    agent_stop = threading.Event()
    agent_thread = threading.Thread(target=agent.run, args=(agent_stop,), daemon=True)
    agent_thread.start()
    screens = {
        "display": Screen(server.url),
        "monitor": Screen(server.url, admin_token),
        "counter": Screen(server.url, clerk_token, watch_counter=1),
        "tablet": Screen(server.url, tablet_token),
        "kiosk": Screen(server.url, server.credentials.kiosk_token),
    }
    restarted = None
    try:
        for screen in screens.values():
            first = screen.wait_for_snapshots(1)
            assert first["recent_calls"] == [] and sum(s["waiting"] for s in first["services"]) == 0
        deadline = time.time() + 10
        while not agent.client.connected and time.time() < deadline:
            time.sleep(0.02)
        assert agent.client.connected

        if restart == "kill -9":
            crash(server)
        else:
            server.stop()
        assert port_closed(port)
        # while the server is down the centre's state changes (another instance, or a restore)
        db = store.connect(folder / "luot.sqlite3")
        try:
            queue = QueueService(db, DEMO_CENTRE_ID)
            called = queue.issue_ticket("TP").result
            queue.issue_ticket("TP")
            queue.issue_ticket("CT")
            clerk_id = store.scalar(db, "SELECT id FROM users WHERE username = 'quay1'")
            assert queue.call_next(1, clerk_id).result["ticket"]["id"] == called["id"]
            missed = queue.issue_ticket("TP").result  # its slip was never sent to the agent
            slip = {"centre_name": "Trung tâm", "service_name": "Tư pháp", "ticket_number": missed["number"],
                    "priority_label": None, "people_ahead": 2, "wait_low_min": 5, "wait_high_min": 10,
                    "issued_at_local": "08:00 24/11/2026", "track_url": f"http://x/t/{missed['id']}",
                    "footer": "Cảm ơn", "lang": "vi"}
            printer_id = store.scalar(db, "SELECT id FROM devices WHERE name = 'Máy in sảnh'")
            with store.transaction(db):
                store.insert(db, "print_jobs", {"id": "missed-job", "centre_id": DEMO_CENTRE_ID,
                                                "ticket_id": missed["id"], "device_id": printer_id,
                                                "status": "pending", "slip": store.dumps(slip),
                                                "created_at": time.time(), "updated_at": time.time()})
        finally:
            db.conn.close()

        restarted = gunicorn(folder, port=port).start()
        for name, screen in screens.items():
            snapshot = screen.wait_for_snapshots(2)
            assert snapshot["recent_calls"][0]["number"] == called["number"], name
            assert {s["code"]: s["waiting"] for s in snapshot["services"]}["TP"] == 2, name
            counter = next(c for c in snapshot["counters"] if c["number"] == 1)
            assert counter["ticket"] == called["number"] and counter["state"] == "open", name
        assert screens["counter"].snapshots[-1]["counter"]["current"]["id"] == called["id"]
        assert screens["tablet"].snapshots[-1]["counter"]["current"]["number"] == called["number"]
        assert "counter" not in screens["display"].snapshots[-1]
        deadline = time.time() + 10
        while len(screens["counter"].counter_snapshots) < 2 and time.time() < deadline:
            time.sleep(0.02)
        assert screens["counter"].counter_snapshots[-1]["current"]["number"] == called["number"]

        # the print agent came back by itself and printed the job it missed
        def job_status(job_id):
            db = store.connect(folder / "luot.sqlite3")
            try:
                return store.scalar(db, "SELECT status FROM print_jobs WHERE id = ?", (job_id,))
            finally:
                db.conn.close()

        deadline = time.time() + 20
        while job_status("missed-job") != "printed" and time.time() < deadline:
            time.sleep(0.05)
        assert job_status("missed-job") == "printed" and printed.stat().st_size > 0
        # and it prints what the kiosk issues now
        size = printed.stat().st_size
        issued = requests.post(restarted.url + "/api/v1/tickets", json={"service": "CT"}, timeout=10,
                               headers={"Authorization": "Bearer " + printing_kiosk})
        assert issued.status_code == 201 and issued.json()["print"]["status"] == "queued"
        deadline = time.time() + 20
        while job_status(issued.json()["print"]["job"]) != "printed" and time.time() < deadline:
            time.sleep(0.05)
        assert job_status(issued.json()["print"]["job"]) == "printed" and printed.stat().st_size > size
    finally:
        agent_stop.set()
        agent_thread.join(timeout=10)
        for screen in screens.values():
            screen.close()
        (restarted or server).stop()
