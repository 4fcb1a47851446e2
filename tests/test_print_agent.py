"""The print agent against a real Socket.IO server on 127.0.0.1, printing to real files and sockets."""

from __future__ import annotations

import logging
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import socketio
from werkzeug.serving import ThreadedWSGIServer

from printers import drivers
from printers.agent import parse_arguments, run_agent
from printers.drivers import slip_bytes
from printers.protocol import PRINT_JOB, PRINT_RESULT, PRINTER_READY, make_print_job, parse_print_result
from printers.slip import LAYOUTS, WIDTH_58MM_PX, WIDTH_80MM_PX, render_slip
from tests.test_printers import CollectingPrinter, make_slip, unused_port

TOKEN = "agent-token-for-tests"


def parse_printer_ready(payload) -> tuple[str, int]:
    """Read a printer_ready payload into the agent's printer URI and slip width, raising ValueError when malformed."""
    if not isinstance(payload, dict):
        raise ValueError("printer_ready payload must be a JSON object")
    printer_uri, width_px = payload.get("printer"), payload.get("width")
    if not isinstance(printer_uri, str) or not printer_uri:
        raise ValueError("printer_ready needs the printer URI as a string")
    if type(width_px) is not int or width_px not in LAYOUTS:
        raise ValueError(f"printer_ready width must be one of {sorted(LAYOUTS)}")
    return printer_uri, width_px
PROJECT_ROOT = Path(__file__).resolve().parent.parent


class _TrackingWSGIServer(ThreadedWSGIServer):
    """Werkzeug's threaded server, remembering its connections so a test can cut them like a crash would."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.connections: list[socket.socket] = []

    def process_request(self, request, client_address) -> None:
        self.connections.append(request)
        super().process_request(request, client_address)


class FakeLuotServer:
    """The server's side of the print-agent protocol: checks the token, sends queued jobs on printer_ready."""

    def __init__(self, port: int = 0, queued_jobs: list[dict] | None = None) -> None:
        self.queued_jobs = list(queued_jobs or [])
        self.ready: list[tuple[str, int]] = []
        self.results_before_ready: list[int] = []
        self.results: list[tuple[str, bool, str | None]] = []
        self.refused = 0
        self.agent_sids: list[str] = []
        self.changed = threading.Condition()
        self.sio = socketio.Server(async_mode="threading")
        self.sio.on("connect", self._on_connect)
        self.sio.on(PRINTER_READY, self._on_printer_ready)
        self.sio.on(PRINT_RESULT, self._on_print_result)
        self.http = _TrackingWSGIServer("127.0.0.1", port, socketio.WSGIApp(self.sio))
        self.port = self.http.server_port
        self.thread = threading.Thread(target=self.http.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _on_connect(self, sid, environ, auth):
        if not isinstance(auth, dict) or auth.get("token") != TOKEN:
            with self.changed:
                self.refused += 1
                self.changed.notify_all()
            raise socketio.exceptions.ConnectionRefusedError("unknown device token")
        self.agent_sids.append(sid)

    def _on_printer_ready(self, sid, payload) -> None:
        with self.changed:
            self.ready.append(parse_printer_ready(payload))
            self.results_before_ready.append(len(self.results))
            jobs, self.queued_jobs = self.queued_jobs, []
            self.changed.notify_all()
        for job in jobs:
            self.sio.emit(PRINT_JOB, job, to=sid)

    def _on_print_result(self, sid, payload) -> None:
        with self.changed:
            self.results.append(parse_print_result(payload))
            self.changed.notify_all()

    def send_job(self, job: dict) -> None:
        self.sio.emit(PRINT_JOB, job)

    def wait_until(self, condition, timeout_s: float = 10.0) -> None:
        with self.changed:
            assert self.changed.wait_for(condition, timeout_s), (self.ready, self.results, self.refused)

    def crash(self) -> None:
        """Stop like a killed process: no goodbye, every connection cut."""
        self.http.shutdown()
        for connection in self.http.connections:
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self.http.server_close()
        self.thread.join(5)


class RunningAgent:
    """run_agent in a background thread of this process, stopped by its event."""

    def __init__(self, server_url: str, printer_uri: str, width: int = WIDTH_80MM_PX, token: str = TOKEN) -> None:
        self.stop_event = threading.Event()
        self.thread = threading.Thread(target=run_agent, args=(server_url, token, printer_uri, width, self.stop_event),
                                       daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.stop_event.set()
        self.thread.join(10)
        assert not self.thread.is_alive(), "the agent did not stop"


@pytest.fixture
def server():
    fake = FakeLuotServer()
    yield fake
    fake.crash()


def test_agent_prints_a_job_to_a_file_and_reports_success(server, tmp_path):
    slip = make_slip()
    server.queued_jobs = [make_print_job("job-1", slip)]
    target = tmp_path / "printer.bin"
    agent = RunningAgent(server.url, f"file://{target}", WIDTH_58MM_PX)
    try:
        server.wait_until(lambda: server.results)
        assert server.ready == [(f"file://{target}", WIDTH_58MM_PX)]
        assert server.results == [("job-1", True, None)]
        assert target.read_bytes() == slip_bytes(render_slip(slip, WIDTH_58MM_PX))
    finally:
        agent.stop()


def test_a_dead_network_printer_is_reported_as_not_printed(server):
    server.queued_jobs = [make_print_job("job-dead", make_slip())]
    agent = RunningAgent(server.url, f"network://127.0.0.1:{unused_port()}")
    try:
        server.wait_until(lambda: server.results, timeout_s=10)
        job_id, ok, error = server.results[0]
        assert (job_id, ok) == ("job-dead", False)
        assert "127.0.0.1" in error and "attempts" in error
    finally:
        agent.stop()


def test_a_job_sent_again_is_answered_again_but_printed_once(server):
    printer = CollectingPrinter()
    slip = make_slip()
    agent = RunningAgent(server.url, printer.uri)
    try:
        server.wait_until(lambda: server.ready)
        server.send_job(make_print_job("job-twice", slip))
        server.wait_until(lambda: server.results)
        # as after a reconnect, when the first result may have been lost on the way
        server.send_job(make_print_job("job-twice", slip))
        server.wait_until(lambda: len(server.results) == 2)
        assert server.results == [("job-twice", True, None)] * 2
        time.sleep(0.3)
        assert printer.jobs == [slip_bytes(render_slip(slip))]
    finally:
        agent.stop()
        printer.close()


def test_a_malformed_job_is_reported_not_printed(server, tmp_path):
    agent = RunningAgent(server.url, f"file://{tmp_path / 'printer.bin'}")
    try:
        server.wait_until(lambda: server.ready)
        server.send_job({"job_id": "job-bad", "slip": {"ticket_number": "A001"}})
        server.wait_until(lambda: server.results)
        job_id, ok, error = server.results[0]
        assert (job_id, ok) == ("job-bad", False)
        assert "missing" in error
        assert not (tmp_path / "printer.bin").exists()
    finally:
        agent.stop()


def test_a_wrong_token_is_refused_and_retried(server, tmp_path):
    agent = RunningAgent(server.url, f"file://{tmp_path / 'printer.bin'}", token="wrong")
    try:
        server.wait_until(lambda: server.refused >= 2, timeout_s=10)
        assert server.ready == []
    finally:
        agent.stop()


def test_agent_waits_for_a_server_that_is_not_up_yet(tmp_path):
    port = unused_port()
    slip = make_slip()
    agent = RunningAgent(f"http://127.0.0.1:{port}", f"file://{tmp_path / 'printer.bin'}")
    time.sleep(1.5)
    late_server = FakeLuotServer(port, [make_print_job("job-late", slip)])
    try:
        late_server.wait_until(lambda: late_server.results, timeout_s=10)
        assert late_server.results == [("job-late", True, None)]
    finally:
        agent.stop()
        late_server.crash()


def test_agent_reconnects_after_the_server_restarts_on_the_same_port(tmp_path):
    first_server = FakeLuotServer(queued_jobs=[make_print_job("before-restart", make_slip(ticket_number="A001"))])
    port = first_server.port
    target = tmp_path / "printer.bin"
    agent = RunningAgent(first_server.url, f"file://{target}")
    try:
        first_server.wait_until(lambda: first_server.results)
        assert first_server.results == [("before-restart", True, None)]
        first_server.crash()
        started = time.monotonic()
        # a job queued while the agent was away is sent when it says printer_ready again
        after = make_slip(ticket_number="A002")
        second_server = FakeLuotServer(port, [make_print_job("after-restart", after)])
        try:
            second_server.wait_until(lambda: second_server.results, timeout_s=15)
            assert time.monotonic() - started < 15
            assert second_server.ready == [(f"file://{target}", WIDTH_80MM_PX)]
            assert second_server.results == [("after-restart", True, None)]
            assert target.read_bytes() == slip_bytes(render_slip(after))
        finally:
            second_server.crash()
    finally:
        agent.stop()


def test_agent_reconnects_when_the_server_closes_its_session(server, tmp_path):
    agent = RunningAgent(server.url, f"file://{tmp_path / 'printer.bin'}")
    try:
        server.wait_until(lambda: server.ready)
        # python-socketio does not reconnect after a server-side disconnect; the agent must do it itself
        server.sio.disconnect(server.agent_sids[0])
        server.wait_until(lambda: len(server.ready) == 2, timeout_s=10)
        assert len(server.agent_sids) == 2
    finally:
        agent.stop()


def test_a_result_finished_while_offline_is_sent_after_reconnecting(tmp_path, monkeypatch, caplog):
    caplog.set_level(logging.INFO, logger="printers.agent")
    # a printer whose connections hang keeps the job busy while the server goes away
    monkeypatch.setattr(drivers, "NETWORK_CONNECT_TIMEOUT_S", 0.3)
    hung = socket.socket()
    hung.bind(("127.0.0.1", 0))
    hung.listen(0)
    filler = socket.create_connection(hung.getsockname())
    first_server = FakeLuotServer(queued_jobs=[make_print_job("job-offline", make_slip())])
    port = first_server.port
    agent = RunningAgent(first_server.url, f"network://127.0.0.1:{hung.getsockname()[1]}")
    second_server = None
    try:
        wait_for_log(caplog, "job job-offline received")
        first_server.crash()
        wait_for_log(caplog, "job job-offline not printed")
        second_server = FakeLuotServer(port)
        second_server.wait_until(lambda: second_server.ready, timeout_s=15)
        assert [result[:2] for result in second_server.results] == [("job-offline", False)]
        assert second_server.results_before_ready == [1], "results go out before printer_ready"
    finally:
        agent.stop()
        if second_server:
            second_server.crash()
        filler.close()
        hung.close()


def wait_for_log(caplog, text: str, timeout_s: float = 10.0) -> None:
    """Wait until a log record containing text has been emitted, from any thread."""
    deadline = time.monotonic() + timeout_s
    while not any(text in record.getMessage() for record in caplog.records):
        assert time.monotonic() < deadline, f"no log record with {text!r}"
        time.sleep(0.02)


@pytest.mark.parametrize("arguments, message", [
    (["--token", "t", "--printer", "none"], "--server"),
    (["--server", "ftp://host", "--token", "t", "--printer", "none"], "http"),
    (["--server", "http://host:5000", "--token", "t", "--printer", "bogus://x"], "unknown printer URI"),
    (["--server", "http://host:5000", "--token", "t", "--printer", "agent"], "agent"),
    (["--server", "http://host:5000", "--token", "t", "--printer", "none", "--width", "500"], "--width"),
    (["--server", "http://host:5000", "--printer", "none"], "token"),
])
def test_bad_arguments_exit_2_with_a_readable_message(arguments, message, capsys, monkeypatch):
    monkeypatch.delenv("LUOT_AGENT_TOKEN", raising=False)
    with pytest.raises(SystemExit) as exited:
        parse_arguments(arguments)
    assert exited.value.code == 2
    assert message in capsys.readouterr().err


def test_command_line_rejects_a_bad_printer_with_status_2():
    completed = subprocess.run(
        [sys.executable, "-m", "printers.agent", "--server", "http://127.0.0.1:5000", "--token", "t",
         "--printer", "usb://nothex"], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=30)
    assert completed.returncode == 2
    assert "usb://VID:PID" in completed.stderr
