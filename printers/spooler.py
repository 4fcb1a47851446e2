"""One owner thread per printer: callers queue slips and hear back later, never waiting on the printer."""

from __future__ import annotations

import logging
import queue
import threading
from dataclasses import dataclass
from typing import Callable, Sequence

from PIL import Image

from printers.drivers import AGENT_URI, PrinterUnavailable, error_message, open_printer, parse_printer_uri, print_slip
from printers.slip import LAYOUTS, WIDTH_80MM_PX, SlipData, render_slip

logger = logging.getLogger(__name__)

OnDone = Callable[[str, bool, str | None], None]

DEFAULT_ATTEMPTS = 3
DEFAULT_RETRY_DELAYS_S = (0.2, 0.5, 1.0)
STOPPED_MESSAGE = "printer spooler stopped before the slip was printed"


@dataclass(frozen=True)
class _PrintJob:
    """A slip waiting for the printer, and whom to tell how it went."""

    job_id: str
    slip: SlipData
    on_done: OnDone


class PrintSpooler:
    """Prints slips on one printer from its own thread, retrying a few times before reporting failure."""

    def __init__(self, printer_uri: str, width_px: int = WIDTH_80MM_PX, *, attempts: int = DEFAULT_ATTEMPTS,
                 retry_delays_s: Sequence[float] = DEFAULT_RETRY_DELAYS_S) -> None:
        """Validate the printer URI and start the owner thread; ValueError for a URI this process cannot print to."""
        if parse_printer_uri(printer_uri).kind == AGENT_URI:
            raise ValueError("printer URI 'agent' is printed by a remote print agent, not by a local spooler")
        if width_px not in LAYOUTS:
            raise ValueError(f"slip width must be one of {sorted(LAYOUTS)} px, not {width_px}")
        if attempts < 1:
            raise ValueError("attempts must be at least 1")
        self.printer_uri = printer_uri.strip()
        self.width_px = width_px
        self.attempts = attempts
        self.retry_delays_s = tuple(retry_delays_s) or (0.0,)
        self._jobs: queue.Queue[_PrintJob | None] = queue.Queue()
        self._stopping = threading.Event()
        # held while checking _stopping and queueing, so no job can slip in behind the stop marker unanswered
        self._submit_lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name=f"print-spooler {self.printer_uri}", daemon=True)
        self._thread.start()

    def submit(self, job_id: str, slip: SlipData, on_done: OnDone) -> None:
        """Queue a slip and return at once; on_done(job_id, ok, error) is called later from the spooler thread."""
        try:
            with self._submit_lock:
                if not self._stopping.is_set():
                    self._jobs.put_nowait(_PrintJob(job_id, slip, on_done))
                    return
            _report(_PrintJob(job_id, slip, on_done), False, STOPPED_MESSAGE)
        except Exception:
            # the caller is issuing a ticket; a print problem must never reach it
            logger.exception("could not queue print job %s for %s", job_id, self.printer_uri)

    def stop(self, timeout_s: float = 5.0) -> None:
        """End the owner thread; slips still queued are reported as not printed."""
        with self._submit_lock:
            if not self._stopping.is_set():
                self._stopping.set()
                self._jobs.put_nowait(None)
        self._thread.join(timeout_s)

    @property
    def running(self) -> bool:
        """Whether the owner thread is still alive."""
        return self._thread.is_alive()

    def _run(self) -> None:
        """Take jobs one by one until the stop marker arrives."""
        while True:
            job = self._jobs.get()
            if job is None:
                return
            if self._stopping.is_set():
                _report(job, False, STOPPED_MESSAGE)
                continue
            ok, error = self._print(job)
            _report(job, ok, error)

    def _print(self, job: _PrintJob) -> tuple[bool, str | None]:
        """Render the slip once, then try the printer up to `attempts` times with short pauses between."""
        try:
            image = render_slip(job.slip, self.width_px)
        except Exception as error:
            # a slip that cannot be drawn will not draw better on a second try
            logger.exception("cannot render slip for job %s", job.job_id)
            return False, f"cannot render the slip: {error_message(error)}"
        last_error = ""
        for attempt in range(1, self.attempts + 1):
            try:
                self._print_once(image)
            except Exception as error:
                last_error = error_message(error) if isinstance(error, PrinterUnavailable) else (
                    f"printing on {self.printer_uri} failed: {error_message(error)}")
                logger.warning("job %s attempt %d/%d: %s", job.job_id, attempt, self.attempts, last_error)
                if attempt == self.attempts:
                    break
                delay = self.retry_delays_s[min(attempt - 1, len(self.retry_delays_s) - 1)]
                if self._stopping.wait(delay):
                    return False, STOPPED_MESSAGE
            else:
                logger.info("job %s printed on %s", job.job_id, self.printer_uri)
                return True, None
        return False, f"{last_error} (gave up after {self.attempts} attempts)"

    def _print_once(self, image: Image.Image) -> None:
        """Open a fresh connection, print, close; a fresh one each time lets a power-cycled printer recover."""
        printer = open_printer(self.printer_uri)
        if printer is None:
            return  # printer URI `none`: the kiosk has no printer, so there is nothing to do
        try:
            print_slip(printer, image)
        finally:
            printer.close()


def _report(job: _PrintJob, ok: bool, error: str | None) -> None:
    """Call the job's on_done, keeping the spooler alive whatever the callback does."""
    try:
        job.on_done(job.job_id, ok, error)
    except Exception:
        logger.exception("on_done callback failed for print job %s", job.job_id)
