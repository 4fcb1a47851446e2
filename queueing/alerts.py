"""Alerts for the live monitor: a ticket waiting too long, a counter paused too long, too many waiting."""
from __future__ import annotations

import json
import threading

from . import store
from .centre import time_zone
from .model import epoch_to_iso
from .service import PAUSE_REASONS, PAUSE_REASONS_EN

# Settings (in centres.settings) that hold the thresholds; 0 switches an alert off.
ALERT_DEFAULTS = {"alert_wait_minutes": 30, "alert_pause_minutes": 15, "alert_waiting_count": 50}
# A long queue would otherwise raise one alert per ticket; the oldest are the ones to act on.
MAX_TICKET_ALERTS = 20


def thresholds_from_settings(settings: dict) -> dict:
    """The thresholds evaluate() takes, read from a centre's settings (defaults where unset)."""
    merged = {**ALERT_DEFAULTS, **{k: v for k, v in settings.items() if k in ALERT_DEFAULTS}}
    return {"wait_minutes": int(merged["alert_wait_minutes"] or 0),
            "pause_minutes": int(merged["alert_pause_minutes"] or 0),
            "waiting_count": int(merged["alert_waiting_count"] or 0)}


def evaluate(db, centre_id: str, now: float, thresholds: dict) -> list[dict]:
    """Every alert standing at `now`: waits ≥ X min, pauses ≥ Y min, more than Z waiting (0 = off)."""
    tz = time_zone(db, centre_id)
    alerts: list[dict] = []
    wait_minutes = int(thresholds.get("wait_minutes") or 0)
    if wait_minutes > 0:
        for row in store.all_rows(
                db, """SELECT t.id, t.number, t.issued_at, s.code, s.name, s.name_en
                       FROM tickets t JOIN services s ON s.id = t.service_id
                       WHERE t.centre_id = ? AND t.status = 'waiting' AND t.issued_at <= ?
                       ORDER BY t.issued_at, t.rowid LIMIT ?""",
                (centre_id, now - wait_minutes * 60, MAX_TICKET_ALERTS)):
            minutes = int((now - row["issued_at"]) // 60)
            alerts.append({
                "key": f"long_wait:{row['id']}", "kind": "long_wait",
                "message": f"Số {row['number']} ({row['name']}) đã chờ {minutes} phút (ngưỡng {wait_minutes} phút)",
                "message_en": (f"Ticket {row['number']} ({row['name_en'] or row['name']}) has waited {minutes} min "
                               f"(threshold {wait_minutes} min)"),
                "ticket": row["number"], "ticket_id": row["id"], "service": row["code"], "counter": None,
                "since": epoch_to_iso(row["issued_at"], tz), "minutes": minutes, "threshold": wait_minutes,
            })
    pause_minutes = int(thresholds.get("pause_minutes") or 0)
    if pause_minutes > 0:
        for row in store.all_rows(
                db, """SELECT id, number, name, pause_reason, state_since FROM counters
                       WHERE centre_id = ? AND active = 1 AND state = 'paused' AND state_since <= ?
                       ORDER BY number""",
                (centre_id, now - pause_minutes * 60)):
            minutes = int((now - row["state_since"]) // 60)
            reason = row["pause_reason"] or "other"
            alerts.append({
                "key": f"long_pause:{row['id']}:{row['state_since']}", "kind": "long_pause",
                "message": (f"{row['name']} tạm dừng đã {minutes} phút "
                            f"({PAUSE_REASONS.get(reason, reason).lower()}; ngưỡng {pause_minutes} phút)"),
                "message_en": (f"Counter {row['number']} has been paused for {minutes} min "
                               f"({PAUSE_REASONS_EN.get(reason, reason).lower()}; threshold {pause_minutes} min)"),
                "ticket": None, "ticket_id": None, "service": None, "counter": row["number"],
                "counter_id": row["id"], "since": epoch_to_iso(row["state_since"], tz), "minutes": minutes,
                "threshold": pause_minutes,
            })
    waiting_count = int(thresholds.get("waiting_count") or 0)
    if waiting_count > 0:
        waiting = store.scalar(db, "SELECT COUNT(*) FROM tickets WHERE centre_id = ? AND status = 'waiting'",
                               (centre_id,))
        if waiting > waiting_count:
            oldest = store.scalar(db, """SELECT MIN(issued_at) FROM tickets
                                         WHERE centre_id = ? AND status = 'waiting'""", (centre_id,))
            alerts.append({
                "key": "many_waiting", "kind": "many_waiting",
                "message": f"Có {waiting} người đang chờ, vượt ngưỡng {waiting_count}",
                "message_en": f"{waiting} people are waiting, above the threshold of {waiting_count}",
                "ticket": None, "ticket_id": None, "service": None, "counter": None,
                "since": epoch_to_iso(oldest, tz), "waiting": waiting, "threshold": waiting_count,
            })
    return alerts


def current(db, centre_id: str, now: float) -> list[dict]:
    """The centre's standing alerts with the thresholds its settings give."""
    row = store.one(db, "SELECT settings FROM centres WHERE id = ?", (centre_id,))
    settings = json.loads(row["settings"] or "{}") if row else {}
    return evaluate(db, centre_id, now, thresholds_from_settings(settings))


class AlertTracker:
    """Remembers which alerts were already pushed, so each is raised once until it clears."""

    def __init__(self):
        self._active: dict[str, dict] = {}
        self._lock = threading.Lock()

    def update(self, alerts: list[dict]) -> tuple[list[dict], list[str]]:
        """(alerts new since the last round, keys of alerts that no longer stand)."""
        with self._lock:
            standing = {alert["key"]: alert for alert in alerts}
            new = [alert for key, alert in standing.items() if key not in self._active]
            resolved = [key for key in self._active if key not in standing]
            self._active = standing
            return new, resolved


class SharedAlertTracker:
    """AlertTracker's answer kept in the database (`raised_alerts`): with several instances on one
    database, the instance that records an alert first raises it and the one that clears it resolves
    it, so monitors hear each alert once, not once per instance (issue 12)."""

    def __init__(self, centre_id: str):
        self.centre_id = centre_id

    def _raised(self, db) -> set[str]:
        return {row["key"] for row in store.all_rows(db, "SELECT key FROM raised_alerts WHERE centre_id = ?",
                                                     (self.centre_id,))}

    def update(self, db, alerts: list[dict], now: float) -> tuple[list[dict], list[str]]:
        """(alerts this call raised, keys this call resolved); nothing is written when nothing changed."""
        standing = {alert["key"]: alert for alert in alerts}
        if self._raised(db) == set(standing):
            return [], []
        with store.transaction(db):
            raised = self._raised(db)  # again under the lock: another instance may have claimed them
            new = [alert for key, alert in standing.items() if key not in raised]
            resolved = [key for key in raised if key not in standing]
            for alert in new:
                store.execute(db, "INSERT INTO raised_alerts (centre_id, key, raised_at) VALUES (?, ?, ?)",
                              (self.centre_id, alert["key"], now))
            for key in resolved:
                store.execute(db, "DELETE FROM raised_alerts WHERE centre_id = ? AND key = ?", (self.centre_id, key))
        return new, resolved
