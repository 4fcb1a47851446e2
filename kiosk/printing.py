"""Printing tickets after they are committed: a spooler thread per local printer, or a remote print agent."""
from __future__ import annotations

import logging
import secrets
import threading
from datetime import datetime, timezone

from printers.protocol import PRINT_JOB, make_print_job
from printers.slip import WIDTH_58MM_PX, WIDTH_80MM_PX, SlipData, wait_range_minutes
from printers.spooler import PrintSpooler
from queueing import store
from web import citizen_url

log = logging.getLogger("luot.printing")

# A job the agent could not print within this time is no use to a citizen who already left with the
# on-screen number: it is marked shown-on-screen only instead of printed late.
STALE_JOB_S = 15 * 60
PAPER_WIDTH_PX = {80: WIDTH_80MM_PX, 58: WIDTH_58MM_PX}

MESSAGES = {
    "queued": ("Đang in phiếu…", "Printing your ticket…"),
    "screen_only": ("Kiosk này không in phiếu: Ông/Bà vui lòng ghi nhớ số hoặc quét mã QR.",
                    "This kiosk prints no ticket: please remember your number or scan the QR code."),
    "failed": ("Máy in đang gặp sự cố: Ông/Bà vui lòng ghi nhớ số hoặc quét mã QR.",
               "The printer has a problem: please remember your number or scan the QR code."),
}


def message(status: str, lang: str) -> str:
    vi, en = MESSAGES[status]
    return en if lang == "en" else vi


def appointment_mark(queue, row: dict, english: bool, priority_label: str | None) -> str | None:
    """The inverted line of the slip: the priority group, and "LỊCH HẸN hh:mm" for an appointment (issue 15)."""
    if row.get("channel") != "appointment" or row.get("appointment_start") is None:
        return priority_label
    at = datetime.fromtimestamp(row["appointment_start"], timezone.utc).astimezone(queue.tz).strftime("%H:%M")
    mark = f"{'APPOINTMENT' if english else 'LỊCH HẸN'} {at}"
    return f"{priority_label} · {mark}" if priority_label else mark


class Printing:
    """Turns issued tickets into print jobs; failures never touch the ticket, they raise an alert."""

    def __init__(self, database: str, socketio, clock):
        self.database = database
        self.socketio = socketio
        self.clock = clock
        self._spoolers: dict[tuple[str, int], PrintSpooler] = {}
        self._lock = threading.Lock()

    def stop(self) -> None:
        with self._lock:
            for spooler in self._spoolers.values():
                spooler.stop()
            self._spoolers.clear()

    def slip_for(self, db, queue, ticket: dict, lang: str) -> SlipData:
        """The slip's content for a ticket just issued; no wait is printed when no open counter serves it."""
        low, high = wait_range_minutes(ticket["estimated_wait_range_s"]) or (None, None)
        issued = datetime.fromtimestamp(self.clock(), timezone.utc).astimezone(queue.tz)
        english = lang == "en"
        row = queue.ticket(ticket["id"])
        return SlipData(
            centre_name=(queue.centre["name_en"] or queue.centre["name"]) if english else queue.centre["name"],
            service_name=(row["service_name_en"] or row["service_name"]) if english else row["service_name"],
            ticket_number=ticket["number"],
            priority_label=appointment_mark(queue, row, english, ((row["priority_name_en"] or row["priority_name"])
                                                                  if english else row["priority_name"])
                                            if row["priority_code"] else None),
            people_ahead=ticket["position"], wait_low_min=low, wait_high_min=high,
            issued_at_local=issued.strftime("%H:%M %d/%m/%Y"),
            track_url=citizen_url(ticket["track_url"]),
            footer="Cảm ơn Ông/Bà! Vui lòng chờ gọi số." if not english else "Thank you! Please wait to be called.",
            lang="en" if english else "vi")

    def ticket_issued(self, db, queue, principal, ticket: dict, lang: str) -> dict:
        """Queue the slip of a ticket a kiosk just issued; returns what the kiosk should tell the citizen."""
        kiosk = store.kiosk_device(db, principal.id) if principal.is_device("kiosk") else None
        uri = (kiosk or {}).get("printer_uri") or "none"
        if uri == "none":
            return {"status": "screen_only", "message": message("screen_only", lang)}
        slip = self.slip_for(db, queue, ticket, lang)
        job_id = secrets.token_urlsafe(12)
        if uri == "agent":
            agent = store.printer_agent_of(db, kiosk["id"])
            if agent is None:
                return {"status": "screen_only", "message": message("screen_only", lang)}
            self._record(db, job_id, ticket, agent["id"], slip)
            self.socketio.emit(PRINT_JOB, make_print_job(job_id, slip), to=f"printer:{agent['id']}")
        else:
            self._record(db, job_id, ticket, kiosk["id"], slip)
            self._spooler(uri, PAPER_WIDTH_PX[kiosk["paper_mm"]]).submit(job_id, slip, self.job_done)
        return {"status": "queued", "job": job_id, "message": message("queued", lang)}

    def _record(self, db, job_id, ticket, device_id, slip) -> None:
        store.add_print_job(db, job_id, ticket["id"], device_id, slip.to_dict(), self.clock())

    def _spooler(self, uri: str, width_px: int) -> PrintSpooler:
        with self._lock:
            key = (uri, width_px)
            if key not in self._spoolers:
                self._spoolers[key] = PrintSpooler(uri, width_px)
            return self._spoolers[key]

    def job_done(self, job_id: str, ok: bool, error: str | None) -> None:
        """Record a job's result (from a spooler thread or an agent) and alert the monitor on failure."""
        db = store.connect(self.database)
        try:
            job = store.finish_print_job(db, job_id, ok, error, self.clock())
        finally:
            db.conn.close()
        if job is None:
            return
        if not ok:
            log.warning("printing %s on %s failed: %s", job["number"], job["device_name"], error)
            self.socketio.emit("alert", printer_alert(job["device_name"], job["number"], error), to="monitor")

    def pending_for_agent(self, db, agent_id: int) -> list[dict]:
        """Jobs an agent missed while away: recent ones to print, stale ones marked shown-on-screen only."""
        return store.pending_print_jobs(db, agent_id, self.clock(), STALE_JOB_S)


def printer_alert(device_name: str, number: str | None, error: str | None) -> dict:
    """The monitor's alert for a printer that failed."""
    return {"kind": "printer", "device": device_name,
            "message": f"Máy in “{device_name}” lỗi khi in số {number or ''}: {error or 'không rõ'} "
                       f"(printer failed)"}


def printer_alerts(db, centre_id: str) -> list[dict]:
    """Printers whose latest job failed, for the monitor's snapshot."""
    rows = store.failed_printers(db, centre_id)
    return [printer_alert(row["name"], row["number"], row["error"]) for row in rows]
