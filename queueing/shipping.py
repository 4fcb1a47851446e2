"""Shipping the centre's event log to the province hub: in id order, in batches, resumably, never blocking.

The cursor is the hub's: every batch says which sequence it follows (`after`) and how far it read
(`through`), and the hub answers the highest sequence it has stored. A lost answer makes the centre
send a batch again, which the hub ignores (unique (centre, seq)); a hub restored from an older backup
answers 409 with what it has, and the centre sends again from there. So every event reaches the hub
exactly once in effect, whatever restarts or outages happen on either side.

The sequence is `ticket_events.id` (AUTOINCREMENT, assigned inside the writer's IMMEDIATE transaction,
so ids commit in order). Demo tickets (`is_demo`) are never shipped, and their rows may be deleted:
the shipper ships what exists after the cursor and reads past the holes.

What leaves the centre: codes and times only. Services, procedures and counters go by code and number
(with their names); tickets by their public id; no clerk. No personal data: a citizen's name, ID
digits, birth year or phone are never in the log, and each event's `detail` is cut down to the keys
listed in SHIPPED_DETAIL; a dossier number becomes a keyed digest that only pairs that dossier's events.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Protocol
from zoneinfo import ZoneInfo

from . import store
from .background import BackgroundJob

log = logging.getLogger("luot.shipping")

BATCH_SIZE = 1000
SHIP_EVERY_S = 2.0
HEARTBEAT_S = 30.0  # with nothing to send, the live state still reaches the hub this often

# The only `detail` keys that leave the centre, per event kind (everything else stays home).
SHIPPED_DETAIL = {
    "issued": ("priority", "channel"),
    "finished": ("procedures",),
    "rated": ("score",),
    "transferred": ("to_service", "to_counter"),
    "expired": ("reason",),
    "restored": ("by", "place", "absent_s"),
    "dossier_received": ("procedure", "due_date", "fee"),
    "dossier_paid": ("method",),
    "dossier_ready": (),
    "dossier_returned": ("by_post",),
}


class HubAnswer(Exception):
    """The hub refused a batch or could not be reached; `acked` when it said what it holds."""

    def __init__(self, message: str, acked: int | None = None):
        super().__init__(message)
        self.acked = acked


class HubClient(Protocol):
    def acked(self) -> int: ...

    def send(self, batch: dict) -> int: ...


class HttpHubClient:
    """The hub over HTTP(S) with the centre's token (requests; short timeouts, the caller retries)."""

    def __init__(self, url: str, token: str, timeout_s: float = 15.0):
        import requests
        self.url = url.rstrip("/") + "/api/v1/province/ingest"
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {token}"
        self.timeout = (5.0, timeout_s)

    def _answer(self, response) -> int:
        try:
            body = response.json()
        except ValueError:
            body = {}
        if response.status_code == 200 and isinstance(body.get("acked"), int):
            return body["acked"]
        raise HubAnswer(f"hub answered {response.status_code}: {body.get('code') or response.text[:120]}",
                        body.get("acked") if isinstance(body.get("acked"), int) else None)

    def acked(self) -> int:
        import requests
        try:
            return self._answer(self.session.get(self.url, timeout=self.timeout))
        except requests.RequestException as error:
            raise HubAnswer(f"hub unreachable: {type(error).__name__}") from error

    def catalogue(self) -> dict:
        """The province's newest procedure catalogue (raises HubAnswer when unreachable or none published)."""
        import requests
        try:
            response = self.session.get(self.url.replace("/ingest", "/catalogue"), timeout=self.timeout)
        except requests.RequestException as error:
            raise HubAnswer(f"hub unreachable: {type(error).__name__}") from error
        if response.status_code != 200:
            try:
                code = response.json().get("code")
            except ValueError:
                code = None
            raise HubAnswer(f"hub answered {response.status_code}: {code or response.text[:120]}")
        return response.json()

    def send(self, batch: dict) -> int:
        import requests
        try:
            return self._answer(self.session.post(self.url, data=json.dumps(batch, ensure_ascii=False).encode(),
                                                  headers={"Content-Type": "application/json"}, timeout=self.timeout))
        except requests.RequestException as error:
            raise HubAnswer(f"hub unreachable: {type(error).__name__}") from error


def dossier_digest(secret: str, ticket_id: str, number) -> str:
    """A dossier's key at the hub: pairs its events, reveals not its number."""
    return hmac.new(secret.encode(), f"{ticket_id}\x1f{number}".encode(), hashlib.sha256).hexdigest()[:24]


class Shipper:
    """Reads the event log after the hub's cursor and sends it; one `ship()` sends until caught up."""

    def __init__(self, db, centre_id: str, client: HubClient, secret: str, clock: Callable[[], float] = time.time,
                 batch_size: int = BATCH_SIZE):
        self.db = db
        self.centre_id = centre_id
        self.client = client
        self.secret = secret
        self.clock = clock
        self.batch_size = batch_size
        self.cursor: int | None = None  # the hub's acknowledged sequence, asked once, then from its answers
        self.last_sent_at = 0.0

    def _codes(self) -> dict:
        codes = store.shipping_codes(self.db, self.centre_id)
        codes["service_by_id"] = {row["id"]: row["code"] for row in codes["services"]}
        codes["counter_by_id"] = {row["id"]: str(row["number"]) for row in codes["counters"]}
        return codes

    def _event(self, row: dict, codes: dict) -> dict:
        services, counters = codes["service_by_id"], codes["counter_by_id"]
        event = {"seq": row["id"], "ticket": row["ticket_id"], "at": row["at"], "kind": row["kind"],
                 "to": row["to_status"], "day": row["local_day"], "hour": row["local_hour"],
                 "for": services.get(row["number_service_id"]), "service": services.get(row["service_id"]),
                 "counter": counters.get(row["counter_id"])}
        detail = json.loads(row["detail"]) if row["detail"] else {}
        kept = {key: detail[key] for key in SHIPPED_DETAIL.get(row["kind"], ()) if key in detail}
        if "to_counter" in kept:
            kept["to_counter"] = counters.get(kept["to_counter"])
        if row["kind"].startswith("dossier_") and detail.get("code") is not None:
            kept["dossier"] = dossier_digest(self.secret, row["ticket_id"], detail["code"])
        if kept:
            event["detail"] = kept
        return event

    def _header(self, codes: dict, now: float) -> dict:
        centre = codes["centre"] or {}
        tz = ZoneInfo(centre.get("timezone") or "Asia/Ho_Chi_Minh")
        today = datetime.fromtimestamp(now, timezone.utc).astimezone(tz).date().isoformat()
        state = store.live_state(self.db, self.centre_id, today)
        oldest = state.pop("oldest_waiting_at")
        state["longest_wait_s"] = round(max(0.0, now - oldest), 1) if oldest else 0
        return {
            "centre": {"name": centre.get("name"), "timezone": centre.get("timezone")},
            "services": {row["code"]: {"name": row["name"], "name_en": row["name_en"],
                                       "target_wait_s": row["target_wait_s"]} for row in codes["services"]},
            "procedures": {row["code"]: {"name": row["name"], "name_en": row["name_en"], "service": row["service"]}
                           for row in codes["procedures"]},
            "counters": {str(row["number"]): row["name"] for row in codes["counters"]},
            "live": state,
        }

    def ship(self, max_batches: int = 1000) -> int:
        """Send batches until the hub has every event (or max_batches); returns the events sent.
        Raises HubAnswer when the hub cannot be reached or refuses; the cursor stays where the hub said."""
        if self.cursor is None:
            self.cursor = self.client.acked()
        sent = 0
        codes = None
        for _ in range(max_batches):
            rows = store.events_to_ship(self.db, self.centre_id, self.cursor, self.batch_size)
            now = self.clock()
            if not rows and now - self.last_sent_at < HEARTBEAT_S:
                break
            codes = codes or self._codes()
            events = [self._event(row, codes) for row in rows if not row["is_demo"] and row["local_day"]]
            through = rows[-1]["id"] if rows else self.cursor
            batch = {"after": self.cursor, "through": through, "events": events, **self._header(codes, now)}
            rest = store.backlog(self.db, self.centre_id, through)
            batch["live"]["pending"] = rest["count"]
            batch["live"]["oldest_pending_at"] = rest["oldest_at"]
            try:
                self.cursor = self.client.send(batch)
            except HubAnswer as refusal:
                if refusal.acked is not None and refusal.acked != self.cursor:
                    log.warning("hub holds events up to %d, not %d: sending again from there", refusal.acked,
                                self.cursor)
                    self.cursor = refusal.acked  # a restored hub: resend what it lost
                    continue
                raise
            self.last_sent_at = now
            sent += len(events)
            if len(rows) < self.batch_size:
                break
        return sent


class ShippingJob(BackgroundJob):
    """Ships the event log to the hub every few seconds in its own thread; a failure is noted and retried
    (with a growing pause, up to a minute), never felt by the centre."""

    thread_name = "luot-shipping"

    def __init__(self, database: str | Path, centre_id: str, hub_url: str, token: str,
                 clock: Callable[[], float] = time.time, check_every_s: float = SHIP_EVERY_S, client=None):
        super().__init__(database, centre_id, clock, check_every_s)
        self.client = client or HttpHubClient(hub_url, token)
        self.token = token
        self.shipper: Shipper | None = None
        self.failures = 0

    def tick(self) -> int:
        """One round: send until caught up; note the outcome for the monitor."""
        db = store.connect(self.database)
        try:
            if self.shipper is None:
                self.shipper = Shipper(db, self.centre_id, self.client, self.token, self.clock)
            self.shipper.db = db
            attempt = self.clock()
            try:
                sent = self.shipper.ship()
            except HubAnswer as error:
                self.failures += 1
                store.record_shipping(db, self.centre_id, attempt, None, str(error))
                raise
            self.failures = 0
            store.record_shipping(db, self.centre_id, attempt, self.shipper.cursor, None)
            return sent
        finally:
            db.conn.close()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.tick()
            except HubAnswer as error:
                log.warning("shipping to the hub: %s (retrying)", error)
            except Exception:  # a failed round is retried, never kills the thread
                log.exception("shipping to the hub failed")
                self.failures += 1
            self._stop.wait(min(60.0, self.check_every_s * (2 ** min(self.failures, 5))))


def status(db, centre_id: str, now: float, configured: bool) -> dict:
    """What the monitor shows: whether shipping is set up, how far the hub is, and how late."""
    state = store.shipping_state(db, centre_id)
    rest = store.backlog(db, centre_id, state["acked_seq"])
    lag = round(max(0.0, now - rest["oldest_at"]), 1) if rest["oldest_at"] is not None else 0.0
    return {"configured": configured, "acked_seq": state["acked_seq"], "pending": rest["count"],
            "lag_s": lag if configured else None, "last_success_at": state["last_success_at"],
            "last_attempt_at": state["last_attempt_at"], "last_error": state["last_error"]}
