"""The real server process on a loopback port, driven by requests and the python-socketio client."""
from __future__ import annotations

import os
import subprocess
import sys
import threading
import time

import requests
import socketio

from tests.conftest import ROOT


def test_kiosk_to_counter_to_display_over_real_sockets(live_server):
    base = live_server.url
    calls, snapshots, queue_updates = [], [], []
    arrived = threading.Event()
    display = socketio.Client(reconnection=False)
    display.on("snapshot", lambda data: snapshots.append(data))
    display.on("queue_changed", lambda data: queue_updates.append(data))

    @display.on("ticket_called")
    def on_called(data):
        calls.append((time.perf_counter(), data))
        arrived.set()

    display.connect(base, transports=["websocket"], wait_timeout=10)
    try:
        deadline = time.time() + 5
        while not snapshots and time.time() < deadline:
            time.sleep(0.02)
        assert snapshots and len(snapshots[0]["counters"]) == 6
        ticket = requests.post(base + "/api/v1/tickets", json={"service": "TP"}, headers=live_server.kiosk, timeout=10)
        assert ticket.status_code == 201
        ticket = ticket.json()
        clerk = live_server.login("quay2")
        assert requests.post(base + "/api/v1/counters/2/sign-in", headers=clerk, timeout=10).status_code == 200
        sent = time.perf_counter()
        called = requests.post(base + "/api/v1/counters/2/call-next", headers=clerk, timeout=10).json()["ticket"]
        assert called["number"] == ticket["number"]
        assert arrived.wait(5), "the display never heard the call"
        received_at, payload = calls[0]
        assert payload["ticket_id"] == ticket["id"] and payload["counter"] == 2
        assert received_at - sent < 2.0
        # waiting counts follow within LUOT_QUEUE_PUSH_MS (250 ms): the newest says nobody waits any more
        deadline = time.time() + 5
        while not (queue_updates and queue_updates[-1]["services"][0]["waiting"] == 0) and time.time() < deadline:
            time.sleep(0.02)
        assert queue_updates and queue_updates[-1]["services"][0]["waiting"] == 0, queue_updates[-1:]
        assert requests.get(base + ticket["track_url"], timeout=10).text.count(ticket["number"]) >= 1
    finally:
        display.disconnect()


def test_cli_init_is_idempotent_and_adds_users_and_devices(tmp_path):
    env = {**os.environ, "LUOT_INSTANCE": str(tmp_path), "LUOT_TTS": "none"}

    def run(*args, stdin=""):
        return subprocess.run([sys.executable, "server.py", *args], cwd=ROOT, env=env, input=stdin,
                              capture_output=True, text=True, timeout=60)

    first = run("init")  # output captured, not a terminal: the accounts go to the file only (issue 12)
    assert first.returncode == 0 and "quay1" not in first.stdout and "credentials.txt" in first.stdout
    assert "quay1" in (tmp_path / "credentials.txt").read_text()
    assert oct((tmp_path / "credentials.txt").stat().st_mode & 0o777) == "0o600"
    again = run("init")
    assert again.returncode == 0 and "quay1" not in again.stdout and "credentials.txt" not in again.stdout
    added = run("user", "add", "lan.nguyen", "--role", "manager", stdin="mat-khau-rat-dai\n")
    assert added.returncode == 0, added.stderr
    assert run("user", "add", "lan.nguyen", "--role", "manager", stdin="mat-khau-rat-dai\n").returncode != 0
    short = run("user", "add", "binh", "--role", "clerk", stdin="short\n")
    assert short.returncode != 0 and "Mật khẩu" in short.stderr
    assert run("user", "add", "x", "--role", "boss", stdin="whatever-long\n").returncode != 0
    device = run("device", "add", "Kiosk tầng 2", "--kind", "kiosk", "--printer", "network://127.0.0.1:9100")
    assert device.returncode == 0 and len(device.stdout.strip()) > 30
    bad_printer = run("device", "add", "Kiosk", "--kind", "kiosk", "--printer", "ftp://x")
    assert bad_printer.returncode != 0 and "máy in" in bad_printer.stderr
