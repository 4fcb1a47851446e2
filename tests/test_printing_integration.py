"""Tickets print after the commit: a network printer on a real TCP socket, a dead printer, a print agent."""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time

import pytest

import web
from printers.agent import run_agent
from printers.drivers import slip_bytes
from printers.slip import SlipData, render_slip, wait_range_minutes
from queueing import accounts, store
from tests.conftest import ROOT, free_port


class FakeNetworkPrinter:
    """A TCP listener standing in for an ESC/POS printer on port 9100."""

    def __init__(self):
        self.server = socket.socket()
        self.server.bind(("127.0.0.1", 0))
        self.server.listen()
        self.port = self.server.getsockname()[1]
        self.received = bytearray()
        self.jobs = 0
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                connection, _ = self.server.accept()
            except OSError:
                return
            with connection:
                while chunk := connection.recv(65536):
                    self.received.extend(chunk)
            self.jobs += 1

    def close(self):
        self.server.close()


def make_kiosk(app, printer_uri, paper_mm=80):
    db = store.connect(app.config["DATABASE"])
    try:
        return accounts.create_device(db, "demo", "Kiosk thử", "kiosk", time.time(), printer_uri=printer_uri,
                                      paper_mm=paper_mm)
    finally:
        db.conn.close()


def job_rows(app):
    db = store.connect(app.config["DATABASE"])
    try:
        return store.all_rows(db, "SELECT * FROM print_jobs ORDER BY created_at")
    finally:
        db.conn.close()


def wait_for(condition, timeout=10.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


def test_ticket_prints_on_a_network_printer_after_the_commit(app, client):
    printer = FakeNetworkPrinter()
    try:
        token = make_kiosk(app, f"network://127.0.0.1:{printer.port}")
        response = client.post("/api/v1/tickets", json={"service": "TP"}, headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 201
        ticket = response.get_json()
        assert ticket["print"]["status"] == "queued"
        assert wait_for(lambda: job_rows(app) and job_rows(app)[0]["status"] == "printed")
        assert wait_for(lambda: printer.jobs == 1)
        job = job_rows(app)[0]
        slip = SlipData.from_dict(json.loads(job["slip"]))
        assert slip.ticket_number == ticket["number"] and slip.service_name == "Tư pháp – Hộ tịch"
        # the QR proves the ticket by its key, never by the id every display hears (issue 12)
        assert slip.track_url == f"http://localhost/t/{ticket['track_key']}" and ticket["id"] not in slip.track_url
        assert slip_bytes(render_slip(slip, 576)) in bytes(printer.received)
    finally:
        printer.close()


def test_the_slip_carries_the_forecast_or_says_no_counter_is_open(app, client, api):
    printer = FakeNetworkPrinter()
    try:
        token = make_kiosk(app, f"network://127.0.0.1:{printer.port}")
        kiosk = {"Authorization": f"Bearer {token}"}
        first = client.post("/api/v1/tickets", json={"service": "TP"}, headers=kiosk).get_json()
        assert first["estimated_wait_s"] is None  # no counter open yet
        assert client.post("/api/v1/counters/1/sign-in", headers=api.headers("quay1")).status_code == 200
        second = client.post("/api/v1/tickets", json={"service": "TP"}, headers=kiosk).get_json()
        assert second["position"] == 1 and second["estimated_wait_range_s"] is not None
        assert wait_for(lambda: [row["status"] for row in job_rows(app)] == ["printed", "printed"])
        assert wait_for(lambda: printer.jobs == 2)
        without, with_forecast = (SlipData.from_dict(json.loads(row["slip"])) for row in job_rows(app))
        assert (without.people_ahead, without.wait_low_min, without.wait_high_min) == (0, None, None)
        assert with_forecast.people_ahead == 1
        low, high = wait_range_minutes(second["estimated_wait_range_s"])
        assert (with_forecast.wait_low_min, with_forecast.wait_high_min) == (low, high)
        assert low % 5 == 0 and high % 5 == 0 and high > low
        assert low * 60 <= second["estimated_wait_range_s"][0] and second["estimated_wait_range_s"][1] <= high * 60
        for slip in (without, with_forecast):
            assert slip_bytes(render_slip(slip, 576)) in bytes(printer.received)
    finally:
        printer.close()


def test_a_dead_printer_never_loses_the_ticket_and_alerts_the_monitor(app, client, api):
    dead_port = free_port()
    token = make_kiosk(app, f"network://127.0.0.1:{dead_port}", paper_mm=58)
    monitor = web.socketio.test_client(app, auth={"token": api.token("admin")})
    monitor.get_received()
    started = time.perf_counter()
    response = client.post("/api/v1/tickets", json={"service": "CT"}, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 201 and time.perf_counter() - started < 1.0
    number = response.get_json()["number"]
    assert wait_for(lambda: job_rows(app)[0]["status"] == "failed")
    assert client.get("/api/v1/tickets/" + response.get_json()["id"], headers={"Authorization": f"Bearer {token}"}).get_json()["status"] == "waiting"
    pushed = []
    assert wait_for(lambda: pushed.extend(m for m in monitor.get_received() if m["name"] == "alert") or pushed)
    assert number in pushed[0]["args"][0]["message"] and pushed[0]["args"][0]["kind"] == "printer"
    fresh = web.socketio.test_client(app, auth={"token": api.token("admin")})
    snapshot = [m["args"][0] for m in fresh.get_received() if m["name"] == "snapshot"][0]
    assert any(number in alert["message"] for alert in snapshot["alerts"])


def test_kiosk_without_a_printer_says_so(app, client, api):
    ticket = api.issue("TP")  # the demo kiosk has printer "none"
    assert ticket["print"]["status"] == "screen_only" and ticket["print"]["message"]
    assert job_rows(app) == []


def test_print_agent_round_trip_and_jobs_issued_while_it_was_away(live_server, tmp_path):
    env = {**os.environ, "LUOT_INSTANCE": str(live_server.folder), "LUOT_TTS": "none"}

    def device_add(*args):
        result = subprocess.run([sys.executable, "server.py", "device", "add", *args], cwd=ROOT, env=env,
                                capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, result.stderr
        return result.stdout.strip()

    kiosk_token = device_add("Kiosk có máy in USB", "--kind", "kiosk", "--printer", "agent")
    agent_token = device_add("Máy in kiosk USB", "--kind", "printer", "--kiosk", "Kiosk có máy in USB")
    import requests
    kiosk = {"Authorization": f"Bearer {kiosk_token}"}
    before = requests.post(live_server.url + "/api/v1/tickets", json={"service": "TP"}, headers=kiosk, timeout=10)
    assert before.status_code == 201 and before.json()["print"]["status"] == "queued"
    output = tmp_path / "printer.bin"
    stop = threading.Event()
    agent = threading.Thread(target=run_agent, args=(live_server.url, agent_token, f"file://{output}", 576, stop),
                             daemon=True)
    agent.start()
    try:
        # the job issued before the agent connected is printed when it arrives
        assert wait_for(lambda: output.exists() and output.stat().st_size > 1000, timeout=20)
        first_slip = output.read_bytes()
        after = requests.post(live_server.url + "/api/v1/tickets", json={"service": "TP"}, headers=kiosk, timeout=10)
        assert after.status_code == 201
        # the file driver rewrites the file for each job: the second slip replaces the first
        assert wait_for(lambda: output.read_bytes() != first_slip, timeout=20)
        db = store.connect(live_server.folder / "luot.sqlite3")
        try:
            assert wait_for(lambda: store.scalar(db, "SELECT COUNT(*) FROM print_jobs WHERE status = 'printed'") == 2)
        finally:
            db.conn.close()
    finally:
        stop.set()
        agent.join(timeout=15)


@pytest.mark.parametrize("uri", ["ftp://printer", "network://", "usb://zz:1"])
def test_device_add_refuses_bad_printer_uris(tmp_path, uri):
    env = {**os.environ, "LUOT_INSTANCE": str(tmp_path), "LUOT_TTS": "none"}
    result = subprocess.run([sys.executable, "server.py", "device", "add", "K", "--kind", "kiosk", "--printer", uri],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode != 0 and "máy in" in result.stderr
