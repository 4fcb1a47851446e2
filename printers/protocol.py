"""The Socket.IO conversation between the server and a print agent: event names and payload shapes."""

from __future__ import annotations

from typing import Any

from printers.slip import SlipData

# server → agent: {"job_id": str, "slip": SlipData.to_dict()}
PRINT_JOB = "print_job"
# agent → server: {"job_id": str, "ok": bool, "error": str | None}
PRINT_RESULT = "print_result"
# agent → server after every (re)connect: {"printer": URI, "width": px}; the server answers with the
# jobs queued while the agent was away
PRINTER_READY = "printer_ready"


def make_print_job(job_id: str, slip: SlipData) -> dict[str, Any]:
    """Build the print_job payload the server sends."""
    return {"job_id": job_id, "slip": slip.to_dict()}


def parse_print_job(payload: Any) -> tuple[str, SlipData]:
    """Read a print_job payload into its job id and slip, raising ValueError when it is malformed."""
    job_id = _job_id(payload)
    return job_id, SlipData.from_dict(payload.get("slip"))


def make_print_result(job_id: str, ok: bool, error: str | None) -> dict[str, Any]:
    """Build the print_result payload the agent sends."""
    return {"job_id": job_id, "ok": ok, "error": error}


def parse_print_result(payload: Any) -> tuple[str, bool, str | None]:
    """Read a print_result payload, raising ValueError when it is malformed."""
    job_id = _job_id(payload)
    ok, error = payload.get("ok"), payload.get("error")
    if not isinstance(ok, bool):
        raise ValueError("print_result needs ok: true or false")
    if error is not None and not isinstance(error, str):
        raise ValueError("print_result error must be a string or null")
    return job_id, ok, error


def make_printer_ready(printer_uri: str, width_px: int) -> dict[str, Any]:
    """Build the printer_ready payload the agent sends after connecting."""
    return {"printer": printer_uri, "width": width_px}


def _job_id(payload: Any) -> str:
    """Return the payload's job_id, checking that the payload is an object with a non-empty string id."""
    if not isinstance(payload, dict):
        raise ValueError("payload must be a JSON object")
    job_id = payload.get("job_id")
    if not isinstance(job_id, str) or not job_id:
        raise ValueError("payload needs a non-empty string job_id")
    return job_id
