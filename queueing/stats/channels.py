"""Statistics split by how a ticket was taken (issue 15): kiosk, appointment check-in, phone (`/join`),
and the appointments' punctuality.

The channel is the ticket's (`tickets.channel`, also in its `issued` event's detail); waits come from
the same replay of the event log as every other figure (`replay.ticket_facts`), with the same
definitions (wait = first call − issue, over called tickets). Punctuality: the share of called
appointment tickets first called within `appointment_punctual_minutes` (default 10) of their slot's
start (or before it).
"""
from __future__ import annotations

from datetime import date

from .daily import _check_range
from .quantiles import describe
from .replay import ticket_facts

CHANNELS = (("kiosk", "Tại kiosk", "At the kiosk"), ("appointment", "Lịch hẹn", "Appointment"),
            ("phone", "Qua điện thoại", "From the phone"))
DEFAULT_PUNCTUAL_MINUTES = 10


def channel_report(db, centre_id: str, date_from: date, date_to: date, punctual_minutes: int) -> dict:
    """`{rows: [{key, label, label_en, issued, called, wait_s}], appointments: {called, punctual,
    punctual_pct, within_minutes}}` for the tickets issued between two local days."""
    _check_range(date_from, date_to)
    first, last = date_from.isoformat(), date_to.isoformat()
    known = {row[0]: (row[1], row[2]) for row in db.conn.execute(
        """SELECT id, channel, appointment_start FROM tickets WHERE centre_id = ? AND local_day BETWEEN ? AND ?""",
        (centre_id, first, last))}
    issued = {key: 0 for key, _, _ in CHANNELS}
    waits: dict[str, list[float]] = {key: [] for key, _, _ in CHANNELS}
    called = punctual = 0
    for facts in ticket_facts(db, centre_id, first, last):
        channel, slot_start = known.get(facts.id, ("kiosk", None))
        issued[channel] = issued.get(channel, 0) + 1
        if facts.first_called_at is None:
            continue
        waits.setdefault(channel, []).append(facts.wait_s)
        if channel == "appointment" and slot_start is not None:
            called += 1
            punctual += facts.first_called_at <= slot_start + punctual_minutes * 60
    rows = [{"key": key, "label": label, "label_en": label_en, "issued": issued.get(key, 0),
             "called": len(waits.get(key, [])), "wait_s": describe(waits.get(key, []))}
            for key, label, label_en in CHANNELS]
    return {"rows": rows, "appointments": {"called": called, "punctual": punctual,
                                           "punctual_pct": round(100 * punctual / called, 1) if called else None,
                                           "within_minutes": punctual_minutes}}
