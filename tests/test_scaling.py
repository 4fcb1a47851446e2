"""Scaling out: two server instances (gunicorn, one worker each) sharing one SQLite database and
Redis as the Socket.IO message queue (LUOT_REDIS_URL), as the README's scaling section runs them.

Redis is Debian's redis-server (scripts/install.sh --test installs it), started by the test on a
free loopback port with persistence off; everything the test starts, it stops.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import pytest
import redis
import requests
import socketio

from queueing import centre, store
from tests.conftest import ROOT, LiveServer, free_port

REDIS_SERVER = "/usr/bin/redis-server"
GUNICORN = str(Path(sys.executable).parent / "gunicorn")
PRODUCTION_COMMAND = [GUNICORN, "-c", "gunicorn.conf.py", "server:create_app()"]
COUNTERS = 6


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory):
    """A private Redis on a free loopback port: no snapshots, no append-only file."""
    port = free_port()
    folder = tmp_path_factory.mktemp("redis")
    process = subprocess.Popen([REDIS_SERVER, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                                "--appendonly", "no", "--dir", str(folder), "--daemonize", "no"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    client = redis.Redis(host="127.0.0.1", port=port)
    deadline = time.time() + 15
    try:
        while True:
            try:
                client.ping()
                break
            except redis.ConnectionError:
                if process.poll() is not None or time.time() > deadline:
                    raise RuntimeError("redis-server did not start")
                time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        client.close()
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture(scope="module")
def instances(tmp_path_factory, redis_url):
    """Two instances on their own loopback ports, one database, one Redis; the database created first
    with `server.py init` (a deployment runs it once before starting the instances)."""
    folder = tmp_path_factory.mktemp("shared-instance")
    configuration = centre.demo_configuration()
    configuration["centre"]["settings"] = {"kiosk_tickets_per_minute": 1000}
    codes = [service["code"] for service in configuration["services"]]
    for counter in configuration["counters"]:
        counter["services"] = codes  # every counter competes for every ticket
    centre_file = folder / "centre.json"
    centre_file.write_text(json.dumps(configuration, ensure_ascii=False), encoding="utf-8")
    env = {"LUOT_INSTANCE": str(folder), "LUOT_TTS": "none", "LUOT_REDIS_URL": redis_url}
    init = subprocess.run([sys.executable, "server.py", "init", "--centre", str(centre_file)], cwd=ROOT,
                          env={**os.environ, **env}, capture_output=True, text=True, timeout=60)
    assert init.returncode == 0, init.stderr
    servers = []
    try:
        for _ in range(2):
            servers.append(LiveServer(folder, command=PRODUCTION_COMMAND, env=env).start())
        yield servers
    finally:
        for server in servers:
            server.stop()


class Display:
    """An anonymous display on one instance, over WebSocket only (no sticky session needed)."""

    def __init__(self, url: str):
        self.calls: list[dict] = []
        self.queue_updates: list[dict] = []
        self.ready = threading.Event()
        self.client = socketio.Client(reconnection=False)
        self.client.on("snapshot", lambda _data: self.ready.set())
        self.client.on("ticket_called", self.calls.append)
        self.client.on("queue_changed", self.queue_updates.append)
        self.client.connect(url, transports=["websocket"], wait_timeout=10)
        assert self.ready.wait(10), "no snapshot"

    def wait_for_calls(self, count: int, timeout: float = 10) -> list[dict]:
        deadline = time.time() + timeout
        while len(self.calls) < count and time.time() < deadline:
            time.sleep(0.02)
        return self.calls

    def close(self) -> None:
        self.client.disconnect()


def issue(server: LiveServer, count: int, service: str = "TP") -> list[dict]:
    tickets = []
    with requests.Session() as session:
        for _ in range(count):
            answer = session.post(server.url + "/api/v1/tickets", json={"service": service}, headers=server.kiosk,
                                  timeout=10)
            assert answer.status_code == 201, answer.text
            tickets.append(answer.json())
    return tickets


def test_a_call_on_one_instance_reaches_displays_on_the_other(instances):
    first, second = instances
    assert first.port != second.port
    displays = [Display(second.url), Display(second.url), Display(first.url)]
    clerks = {1: (first, first.login("quay1")), 2: (second, second.login("quay2"))}
    try:
        for number, (server, headers) in clerks.items():
            assert requests.post(f"{server.url}/api/v1/counters/{number}/sign-in", headers=headers,
                                 timeout=10).status_code == 200
        ticket = issue(first, 1)[0]
        for display in displays:  # the kiosk's queue_changed crossed over too
            deadline = time.time() + 10
            while not any(update["services"][0]["waiting"] for update in display.queue_updates) \
                    and time.time() < deadline:
                time.sleep(0.02)
            assert any(update["services"][0]["waiting"] for update in display.queue_updates)
        server, headers = clerks[1]
        called = requests.post(f"{server.url}/api/v1/counters/1/call-next", headers=headers, timeout=10)
        assert called.status_code == 200 and called.json()["ticket"]["id"] == ticket["id"]
        for display in displays:
            calls = display.wait_for_calls(1)
            assert [call["ticket_id"] for call in calls] == [ticket["id"]]
            assert calls[0]["number"] == ticket["number"] and calls[0]["counter"] == 1
        assert requests.post(f"{server.url}/api/v1/tickets/{ticket['id']}/no-show", headers=headers,
                             timeout=10).status_code == 200
        # and back: a call made on the second instance reaches the first one's display
        ticket = issue(second, 1)[0]
        server, headers = clerks[2]
        called = requests.post(f"{server.url}/api/v1/counters/2/call-next", headers=headers, timeout=10)
        assert called.json()["ticket"]["id"] == ticket["id"]
        for display in displays:
            assert display.wait_for_calls(2)[-1]["ticket_id"] == ticket["id"]
        assert requests.post(f"{server.url}/api/v1/tickets/{ticket['id']}/no-show", headers=headers,
                             timeout=10).status_code == 200
    finally:
        for display in displays:
            display.close()
        for number, (server, headers) in clerks.items():
            requests.post(f"{server.url}/api/v1/counters/{number}/sign-out", headers=headers, timeout=10)


def test_concurrent_call_next_across_instances_never_double_calls(instances):
    first, second = instances
    tickets = issue(first, 30, "TP") + issue(second, 30, "CT")
    displays = [Display(first.url), Display(second.url)]
    barrier = threading.Barrier(COUNTERS)
    called: list[tuple[int, str]] = []
    failures: list[str] = []

    def clerk(number: int) -> None:
        server = instances[number % 2]  # counters alternate between the two instances
        headers = server.login(f"quay{number}")
        with requests.Session() as session:
            session.headers.update(headers)
            answer = session.post(f"{server.url}/api/v1/counters/{number}/sign-in", timeout=30)
            if answer.status_code != 200:
                failures.append(f"sign-in {number}: {answer.status_code} {answer.text}")
                return
            barrier.wait(timeout=30)
            while True:
                answer = session.post(f"{server.url}/api/v1/counters/{number}/call-next", timeout=30)
                if answer.status_code != 200:
                    failures.append(f"call-next {number}: {answer.status_code} {answer.text}")
                    return
                ticket = answer.json()["ticket"]
                if ticket is None:
                    break
                called.append((number, ticket["id"]))
                freed = session.post(f"{server.url}/api/v1/tickets/{ticket['id']}/no-show", timeout=30)
                if freed.status_code != 200:
                    failures.append(f"no-show {number}: {freed.status_code} {freed.text}")
                    return
            session.post(f"{server.url}/api/v1/counters/{number}/sign-out", timeout=30)

    threads = [threading.Thread(target=clerk, args=(number,)) for number in range(1, COUNTERS + 1)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=50)
        assert not any(thread.is_alive() for thread in threads)
        assert failures == []
        ids = [ticket_id for _, ticket_id in called]
        duplicates = [ticket_id for ticket_id, count in Counter(ids).items() if count > 1]
        assert duplicates == [], "a ticket was called at two counters"
        assert sorted(ids) == sorted(ticket["id"] for ticket in tickets)
        assert {number % 2 for number, _ in called} == {0, 1}, "both instances handed out calls"
        for display in displays:  # every call, wherever it was made, reached both instances' displays
            heard = {call["ticket_id"] for call in display.wait_for_calls(len(ids))}
            assert heard == set(ids)
    finally:
        for display in displays:
            display.close()
    db = store.connect(first.folder / "luot.sqlite3")
    try:
        rows = store.all_rows(db, """SELECT ticket_id, COUNT(*) AS calls FROM ticket_events
                                     WHERE kind = 'called' GROUP BY ticket_id""")
        assert {row["ticket_id"] for row in rows} >= set(ids)
        assert all(row["calls"] == 1 for row in rows if row["ticket_id"] in set(ids))
        statuses = store.all_rows(db, f"SELECT status FROM tickets WHERE id IN ({','.join('?' * len(ids))})", ids)
        assert {row["status"] for row in statuses} == {"no_show"}
    finally:
        db.conn.close()


def test_a_revoked_display_is_disconnected_on_the_other_instance(instances):
    """Revoking a device on one instance closes its live sockets on every instance (issue 12)."""
    first, second = instances
    admin = first.login("admin")
    created = requests.post(first.url + "/api/v1/admin/devices", json={"name": "TV tầng 3", "kind": "display"},
                            headers=admin, timeout=10)
    assert created.status_code == 201, created.text
    token, device = created.json()["token"], created.json()["device"]
    screen = socketio.Client(reconnection=False)
    gone = threading.Event()
    screen.on("disconnect", lambda *_reason: gone.set())
    screen.connect(second.url, transports=["websocket"], auth={"token": token}, wait_timeout=10)
    try:
        assert screen.connected
        assert requests.post(f"{first.url}/api/v1/admin/devices/{device['id']}/revoke", headers=admin,
                             timeout=10).status_code == 200
        assert gone.wait(10), "the revoked display stayed connected to the other instance"
    finally:
        screen.disconnect()


def test_a_procedure_added_on_one_instance_reaches_the_other_ones_assistant(instances):
    first, second = instances
    question = {"text": "trích lục khai tử bản sao đặc biệt"}
    assert requests.post(second.url + "/api/v1/assistant/ask", json=question, headers=second.kiosk,
                         timeout=10).status_code == 200  # the second instance builds its assistant now
    added = requests.post(first.url + "/api/v1/admin/procedures", headers=first.login("admin"), timeout=10,
                          json={"code": "TP-99", "service": "TP", "name": "Trích lục khai tử bản sao đặc biệt"})
    assert added.status_code == 201, added.text
    answer = requests.post(second.url + "/api/v1/assistant/ask", json=question, headers=second.kiosk, timeout=10)
    assert "TP-99" in answer.text


def test_an_alert_is_raised_once_across_instances(tmp_path):
    """Both instances' alert loops see the same standing alert; only the first to record it raises it."""
    from queueing import alerts
    db = store.connect(tmp_path / "alerts.sqlite3")
    store.migrate(db)
    standing = [{"key": "long_wait:T1", "kind": "long_wait"}]
    one, other = alerts.SharedAlertTracker("c"), alerts.SharedAlertTracker("c")
    assert one.update(db, standing, 1.0) == (standing, [])
    assert other.update(db, standing, 2.0) == ([], [])
    assert one.update(db, standing, 3.0) == ([], [])
    assert other.update(db, [], 4.0) == ([], ["long_wait:T1"])
    assert one.update(db, [], 5.0) == ([], [])
    db.conn.close()
