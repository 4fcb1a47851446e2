"""The print agent: runs next to a printer and prints the slips a Lượt server sends it over Socket.IO.

Usage: python -m printers.agent --server URL --token TOKEN --printer URI [--width 576]
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
from collections import OrderedDict
from typing import Any
from urllib.parse import urlsplit

import socketio

from printers.drivers import AGENT_URI, parse_printer_uri
from printers.protocol import (PRINT_JOB, PRINT_RESULT, PRINTER_READY, make_print_result, make_printer_ready,
                               parse_print_job)
from printers.slip import LAYOUTS, WIDTH_80MM_PX
from printers.spooler import PrintSpooler

logger = logging.getLogger("printers.agent")

TOKEN_ENVIRONMENT_VARIABLE = "LUOT_AGENT_TOKEN"
CONNECT_WAIT_S = 10.0
FIRST_RETRY_DELAY_S = 1.0
MAX_RETRY_DELAY_S = 30.0
# enough to recognise a job the server sends again after a reconnect, small enough to forget
REMEMBERED_JOBS = 1000


class PrintAgent:
    """Connects one printer to a Lượt server and prints each job once, reporting every result."""

    def __init__(self, server: str, token: str, printer_uri: str, width_px: int = WIDTH_80MM_PX) -> None:
        """Prepare the Socket.IO client and the printer's spooler; nothing connects until run()."""
        self.server = server
        self.token = token
        self.printer_uri = printer_uri
        self.width_px = width_px
        self.spooler = PrintSpooler(printer_uri, width_px)
        # the library reconnects after transport errors forever; handle_sigint off because run() owns shutdown
        self.client = socketio.Client(reconnection=True, reconnection_attempts=0, reconnection_delay=1,
                                      reconnection_delay_max=10, handle_sigint=False)
        self.client.on("connect", self._on_connect)
        self.client.on("connect_error", self._on_connect_error)
        self.client.on("disconnect", self._on_disconnect)
        self.client.on(PRINT_JOB, self._on_print_job)
        self._lock = threading.Lock()
        # job_id → its print_result, or None while printing; a job sent again is answered, not printed twice
        self._jobs: OrderedDict[str, dict[str, Any] | None] = OrderedDict()
        self._unsent_results: list[dict[str, Any]] = []
        # set when the library will not reconnect by itself: at start and after the server closed the session
        self._needs_connect = threading.Event()
        self._needs_connect.set()

    def run(self, stop_event: threading.Event) -> None:
        """Stay connected, printing jobs, until stop_event is set."""
        retry_delay = FIRST_RETRY_DELAY_S
        try:
            while not stop_event.is_set():
                if self._needs_connect.is_set() and not self.client.connected:
                    if self._connect():
                        retry_delay = FIRST_RETRY_DELAY_S
                    else:
                        logger.info("retrying in %.0f s", retry_delay)
                        stop_event.wait(retry_delay)
                        retry_delay = min(retry_delay * 2, MAX_RETRY_DELAY_S)
                        continue
                stop_event.wait(0.5)
        finally:
            self.client.shutdown()
            self.spooler.stop()
            logger.info("print agent stopped")

    def _connect(self) -> bool:
        """Try one connection to the server; True when connected."""
        logger.info("connecting to %s for printer %s", self.server, self.printer_uri)
        try:
            self.client.connect(self.server, auth={"token": self.token}, wait_timeout=CONNECT_WAIT_S)
        except socketio.exceptions.ConnectionError:
            return False  # _on_connect_error has logged the reason
        except ValueError as error:
            # After a server-side close the disconnect callback can run while the Engine.IO transport is
            # still closing ("Client is not in a disconnected state"): try again on the next round.
            logger.info("previous connection still closing (%s)", error)
            return False
        self._needs_connect.clear()
        return True

    def _on_connect(self) -> None:
        """Report results finished while offline, then tell the server the printer is ready for queued jobs."""
        logger.info("connected to %s; printer %s ready (%d px)", self.server, self.printer_uri, self.width_px)
        with self._lock:
            unsent, self._unsent_results = self._unsent_results, []
        # results first, so the server does not send again a job that was printed while we were away
        for result in unsent:
            self._send_result(result)
        self.client.emit(PRINTER_READY, make_printer_ready(self.printer_uri, self.width_px))

    def _on_connect_error(self, data: Any = None) -> None:
        """Log why a connection failed: the server unreachable, or refusing a wrong or revoked token."""
        logger.warning("cannot connect to %s: %s", self.server, data)

    def _on_disconnect(self, reason: str = "") -> None:
        """Log the loss; after a server-side close the library gives up, so run() reconnects instead."""
        if reason == socketio.Client.reason.CLIENT_DISCONNECT:
            return
        logger.warning("lost connection to %s (%s); reconnecting", self.server, reason or "unknown reason")
        if reason == socketio.Client.reason.SERVER_DISCONNECT:
            self._needs_connect.set()

    def _on_print_job(self, payload: Any) -> None:
        """Queue a job sent by the server, or answer again for one already printed."""
        try:
            job_id, slip = parse_print_job(payload)
        except ValueError as error:
            logger.error("rejected a malformed print job: %s", error)
            job_id = payload.get("job_id") if isinstance(payload, dict) else None
            if isinstance(job_id, str) and job_id:
                self._send_result(make_print_result(job_id, False, f"malformed print job: {error}"))
            return
        with self._lock:
            known = job_id in self._jobs
            earlier_result = self._jobs.get(job_id)
            if not known:
                self._jobs[job_id] = None
                while len(self._jobs) > REMEMBERED_JOBS:
                    self._jobs.popitem(last=False)
        if earlier_result is not None:
            logger.info("job %s was already printed; reporting its result again", job_id)
            self._send_result(earlier_result)
        elif known:
            logger.info("job %s is already being printed; ignoring the repeat", job_id)
        else:
            logger.info("job %s received: ticket %s", job_id, slip.ticket_number)
            self.spooler.submit(job_id, slip, self._on_printed)

    def _on_printed(self, job_id: str, ok: bool, error: str | None) -> None:
        """Remember and report the result of a job, from the spooler's thread."""
        if ok:
            logger.info("job %s printed", job_id)
        else:
            logger.error("job %s not printed: %s", job_id, error)
        result = make_print_result(job_id, ok, error)
        with self._lock:
            if job_id in self._jobs:
                self._jobs[job_id] = result
        self._send_result(result)

    def _send_result(self, result: dict[str, Any]) -> None:
        """Send a print_result now, or keep it for the next connection when offline."""
        # under the lock, so _on_connect cannot take the unsent list between a failed emit and the append
        with self._lock:
            try:
                self.client.emit(PRINT_RESULT, result)
                return
            except socketio.exceptions.SocketIOError:
                self._unsent_results.append(result)
        logger.info("offline; the result of job %s will be sent after reconnecting", result["job_id"])


def run_agent(server: str, token: str, printer_uri: str, width: int = WIDTH_80MM_PX,
              stop_event: threading.Event | None = None) -> None:
    """Run a print agent in this thread until stop_event is set (forever when it is None)."""
    PrintAgent(server, token, printer_uri, width).run(stop_event or threading.Event())


def parse_arguments(arguments: list[str]) -> argparse.Namespace:
    """Read and check the command line, exiting with status 2 and a readable message when it is wrong."""
    parser = argparse.ArgumentParser(
        prog="python -m printers.agent",
        description="Print Lượt ticket slips sent by the server on a printer attached to this machine.")
    parser.add_argument("--server", required=True, help="server URL, e.g. http://192.168.1.10:5000")
    parser.add_argument("--token", default=os.environ.get(TOKEN_ENVIRONMENT_VARIABLE),
                        help=f"device token from `server.py device add` (default: ${TOKEN_ENVIRONMENT_VARIABLE}, "
                             "which keeps it out of the process list)")
    parser.add_argument("--printer", required=True,
                        help="network://HOST:PORT, usb://VID:PID, serial:///dev/ttyS0, file:///path or cups://NAME")
    parser.add_argument("--width", type=int, default=WIDTH_80MM_PX,
                        help="slip width in dots: 576 for 80 mm paper (default), 384 for 58 mm")
    options = parser.parse_args(arguments)
    server = urlsplit(options.server)
    if server.scheme not in ("http", "https") or not server.hostname:
        parser.error(f"--server must be an http:// or https:// URL, not {options.server!r}")
    if not options.token:
        parser.error(f"a token is needed: --token TOKEN or ${TOKEN_ENVIRONMENT_VARIABLE}")
    try:
        kind = parse_printer_uri(options.printer).kind
    except ValueError as error:
        parser.error(str(error))
    if kind == AGENT_URI:
        parser.error("--printer 'agent' would print to itself; give the URI of the printer attached here")
    if options.width not in LAYOUTS:
        parser.error(f"--width must be one of {', '.join(str(width) for width in sorted(LAYOUTS))}")
    return options


def main(arguments: list[str] | None = None) -> int:
    """Run the agent from the command line until SIGINT or SIGTERM."""
    options = parse_arguments(sys.argv[1:] if arguments is None else arguments)
    # force: importing escpos.capabilities already called logging.basicConfig(), which would make ours a no-op
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s", force=True)
    stop_event = threading.Event()
    for signal_number in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signal_number, lambda *_: stop_event.set())
    run_agent(options.server, options.token, options.printer.strip(), options.width, stop_event)
    return 0


if __name__ == "__main__":
    sys.exit(main())
