"""The only place that speaks SQL for the queue: connections, transactions and queries."""
from __future__ import annotations

import json
import sqlite3
import threading
from contextlib import contextmanager
from pathlib import Path

import sqlite_utils

from ..schema import migrations

BUSY_TIMEOUT_MS = 10_000
# FULL: a ticket acknowledged to a kiosk survives power loss, at ~1 extra fsync per write (README).
SYNCHRONOUS = "FULL"


def connect(path: str | Path, shared: bool = False) -> sqlite_utils.Database:
    """Open one connection with WAL, durability and lock waiting set; `shared` lets a pool hand it between threads."""
    conn = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None,
                           check_same_thread=not shared)
    conn.row_factory = sqlite3.Row
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute(f"PRAGMA synchronous = {SYNCHRONOUS}")
    conn.execute("PRAGMA foreign_keys = ON")
    return sqlite_utils.Database(conn, execute_plugins=False)


def migrate(db: sqlite_utils.Database) -> None:
    """Apply pending migrations (sqlite-utils Migrations, each in its own transaction).

    The empty transaction first only waits until no other writer is mid-write; it is released
    BEFORE migrating, so it does not keep two processes from migrating at once. Processes starting
    together are serialised by the file lock `<database>.init-lock`
    (maintenance.one_initialiser_at_a_time, around server.py's initialise), not here.
    """
    with transaction(db):
        pass
    migrations.apply(db)


class ConnectionPool:
    """Open connections kept for reuse: closing the last one to a WAL database checkpoints and fsyncs it,
    which cost more than the request itself (bench/RESULTS.md)."""

    def __init__(self, path: str | Path, keep: int = 16):
        self.path = str(path)
        self.keep = keep
        self._idle: list[sqlite_utils.Database] = []
        self._lock = threading.Lock()

    def acquire(self) -> sqlite_utils.Database:
        with self._lock:
            if self._idle:
                return self._idle.pop()
        return connect(self.path, shared=True)

    def release(self, db: sqlite_utils.Database) -> None:
        """Give a connection back; a transaction left open by a failed request is rolled back first."""
        if db.conn.in_transaction:
            db.conn.execute("ROLLBACK")
        with self._lock:
            if len(self._idle) < self.keep:
                self._idle.append(db)
                return
        db.conn.close()

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for db in idle:
            db.conn.close()


# Writers of one process queue on a lock that wakes the next one at once; SQLite's busy handler
# would make them sleep in steps of up to 100 ms although the write lock is free after ~1 ms.
_process_writers: dict[str, threading.RLock] = {}
_process_writers_guard = threading.Lock()


def database_path(db: sqlite_utils.Database) -> str:
    """The file behind a connection (asked once per connection)."""
    path = getattr(db, "_luot_path", None)
    if path is None:
        path = db._luot_path = db.conn.execute("PRAGMA database_list").fetchone()[2]
    return path


def _process_writer(db: sqlite_utils.Database) -> threading.RLock:
    writer = getattr(db, "_luot_writer", None)
    if writer is None:
        path = database_path(db)
        with _process_writers_guard:
            writer = db._luot_writer = _process_writers.setdefault(path, threading.RLock())
    return writer


# Called after a write transaction is rolled back: what a process keeps about the database (the
# forecast's schedule) may have been made from the rows that were just undone.
rollback_listeners: list = []


# True in a gevent server process (set by server.create_app): SQLite's busy handler sleeps inside C,
# which would stop every greenlet while another *process* holds the write lock; there a writer tries
# without waiting and sleeps between tries in Python, where gevent switches to the others.
cooperative_waits = False
# Steps of the cooperative wait, seconds: short first (a write lock is held ~1 ms), then capped.
_COOPERATIVE_STEPS = (0.001, 0.002, 0.005, 0.01, 0.02)


def _begin_immediate(db: sqlite_utils.Database) -> None:
    if not cooperative_waits:
        db.conn.execute("BEGIN IMMEDIATE")
        return
    import time
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    db.conn.execute("PRAGMA busy_timeout = 0")
    try:
        for attempt in range(1 << 30):
            try:
                db.conn.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as error:
                if "locked" not in str(error) and "busy" not in str(error) or time.monotonic() > deadline:
                    raise
            time.sleep(_COOPERATIVE_STEPS[min(attempt, len(_COOPERATIVE_STEPS) - 1)])
    finally:
        db.conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")


@contextmanager
def transaction(db: sqlite_utils.Database):
    """One write transaction begun IMMEDIATE, so concurrent writers queue instead of failing."""
    with _process_writer(db):
        _begin_immediate(db)
        try:
            yield db
        except BaseException:
            if db.conn.in_transaction:
                db.conn.execute("ROLLBACK")
                for listener in rollback_listeners:
                    listener()
            raise
        else:
            db.conn.execute("COMMIT")


def one(db: sqlite_utils.Database, sql: str, params=()) -> dict | None:
    """The first row of a query as a dict, or None."""
    row = db.conn.execute(sql, params).fetchone()
    return dict(row) if row is not None else None


def all_rows(db: sqlite_utils.Database, sql: str, params=()) -> list[dict]:
    """Every row of a query as dicts."""
    return [dict(row) for row in db.conn.execute(sql, params).fetchall()]


def scalar(db: sqlite_utils.Database, sql: str, params=()):
    """The first column of the first row, or None."""
    row = db.conn.execute(sql, params).fetchone()
    return row[0] if row is not None else None


def execute(db: sqlite_utils.Database, sql: str, params=()) -> int:
    """Run a statement inside the caller's transaction and return the changed row count."""
    return db.conn.execute(sql, params).rowcount


def insert(db: sqlite_utils.Database, table: str, row: dict) -> int:
    """Insert one row inside the caller's transaction and return its rowid."""
    columns = ", ".join(row)
    marks = ", ".join("?" for _ in row)
    cursor = db.conn.execute(f"INSERT INTO {table} ({columns}) VALUES ({marks})", tuple(row.values()))
    return cursor.lastrowid


def dumps(value) -> str:
    """JSON text as we store it: UTF-8 characters kept readable."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


# ---- tickets -------------------------------------------------------------------------------

TICKET_COLUMNS = """
    t.id, t.centre_id, t.number, t.status, t.service_id, s.code AS service_code,
    s.name AS service_name, s.name_en AS service_name_en, t.priority_group_id,
    p.code AS priority_code, p.name AS priority_name, p.name_en AS priority_name_en,
    t.issued_at, t.queue_at, t.first_called_at, t.called_at, t.started_at, t.finished_at,
    t.counter_id, c.number AS counter_number, c.name AS counter_name, t.clerk_id,
    t.target_counter_id, t.recall_count, t.device_id, t.lang, t.citizen_name,
    t.citizen_id_last4, t.citizen_birth_year, t.dossier_number, t.rating, t.local_day, t.track_key,
    t.channel, t.appointment_start
"""
TICKET_FROM = """
    FROM tickets t JOIN services s ON s.id = t.service_id
    LEFT JOIN priority_groups p ON p.id = t.priority_group_id
    LEFT JOIN counters c ON c.id = t.counter_id
"""


def ticket_row(db, ticket_id: str) -> dict | None:
    """One ticket with its service, priority group and counter names."""
    return one(db, f"SELECT {TICKET_COLUMNS} {TICKET_FROM} WHERE t.id = ?", (ticket_id,))


def ticket_id_by_track_key(db, centre_id: str, track_key: str) -> str | None:
    """The id of the ticket this tracking key proves, if any."""
    return scalar(db, "SELECT id FROM tickets WHERE centre_id = ? AND track_key = ?", (centre_id, track_key))


def ticket_rows(db, centre_id: str, ticket_ids, status: str) -> list[dict]:
    """The tickets among `ticket_ids` that are in `status` now."""
    ids = list(ticket_ids)
    rows = []
    for start in range(0, len(ids), 500):  # SQLite's limit on bound parameters
        chunk = ids[start:start + 500]
        rows += all_rows(db, f"""SELECT {TICKET_COLUMNS} {TICKET_FROM}
                                 WHERE t.centre_id = ? AND t.status = ? AND t.id IN ({", ".join("?" * len(chunk))})""",
                         (centre_id, status, *chunk))
    return rows


def next_sequence(db, centre_id: str, service_id: int, day: str) -> int:
    """Atomically take the next number of a service's day (the UNIQUE key backs it up)."""
    return db.conn.execute(
        """INSERT INTO ticket_sequences (centre_id, service_id, local_day, last_number)
           VALUES (?, ?, ?, 1)
           ON CONFLICT (centre_id, service_id, local_day)
           DO UPDATE SET last_number = last_number + 1
           RETURNING last_number""",
        (centre_id, service_id, day),
    ).fetchone()[0]


def issued_today(db, centre_id: str, service_id: int, day: str) -> int:
    """How many numbers a service has issued on a local day."""
    return scalar(db, """SELECT last_number FROM ticket_sequences
                         WHERE centre_id = ? AND service_id = ? AND local_day = ?""",
                  (centre_id, service_id, day)) or 0


def add_ticket_event(db, centre_id: str, ticket_id: str, at: float, kind: str, from_status, to_status,
                     service_id, counter_id=None, clerk_id=None, detail: dict | None = None) -> int:
    """Append one row to the event log inside the caller's transaction; returns its id."""
    return db.conn.execute(
        """INSERT INTO ticket_events (centre_id, ticket_id, at, kind, from_status, to_status,
                                      service_id, counter_id, clerk_id, detail)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
        (centre_id, ticket_id, at, kind, from_status, to_status, service_id, counter_id, clerk_id,
         dumps(detail) if detail else None),
    ).lastrowid


def latest_queue_time(db, centre_id: str, day: str) -> float | None:
    """The latest queue time of a local day's tickets."""
    return scalar(db, "SELECT MAX(queue_at) FROM tickets WHERE centre_id = ? AND local_day = ?", (centre_id, day))


# ---- what the forecast reads -------------------------------------------------------------------

def queue_version(db, centre_id: str) -> tuple:
    """Changes whenever a ticket or a counter changes, or counters are given other services: a forecast
    made at one version holds until the next (every ticket and counter change appends to a log)."""
    row = db.conn.execute(
        """SELECT (SELECT seq FROM sqlite_sequence WHERE name = 'ticket_events'),
                  (SELECT seq FROM sqlite_sequence WHERE name = 'counter_events'),
                  (SELECT COUNT(*) || ':' || TOTAL(cs.counter_id * 7919 + cs.service_id * 104729 + c.active)
                   FROM counter_services cs JOIN counters c ON c.id = cs.counter_id WHERE c.centre_id = ?)""",
        (centre_id,)).fetchone()
    return tuple(row)


def waiting_queue(db, centre_id: str) -> list[tuple]:
    """Every waiting ticket in queue order: (id, service id, has a priority group, counter it was sent to,
    its appointment's slot start)."""
    return db.conn.execute(
        """SELECT id, service_id, priority_group_id IS NOT NULL, target_counter_id, appointment_start FROM tickets
           WHERE centre_id = ? AND status = 'waiting' ORDER BY queue_at, rowid""", (centre_id,)).fetchall()


def calling_counters(db, centre_id: str) -> list[dict]:
    """Open and paused counters with their services and the ticket they have now."""
    rows = all_rows(
        db,
        """SELECT c.id, c.state, c.state_since, c.pause_reason, c.consecutive_priority_calls,
                  c.consecutive_appointment_calls, t.service_id AS current_service_id, t.status AS current_status, t.called_at AS current_called_at,
                  (SELECT group_concat(cs.service_id) FROM counter_services cs WHERE cs.counter_id = c.id)
                      AS service_ids
           FROM counters c LEFT JOIN tickets t ON t.id = c.current_ticket_id
           WHERE c.centre_id = ? AND c.active = 1 AND c.state IN ('open', 'paused')""",
        (centre_id,))
    for row in rows:
        row["services"] = frozenset(int(value) for value in (row.pop("service_ids") or "").split(",") if value)
    return rows


def recent_handling_times(db, centre_id: str, service_ids, last: int = 60) -> dict[int, list[float]]:
    """Per service, how long its latest tickets held a counter: first call to finish or no-show."""
    answer = {}
    for service_id in service_ids:
        answer[service_id] = [row[0] for row in db.conn.execute(
            """SELECT finished_at - first_called_at FROM tickets
               WHERE centre_id = ? AND service_id = ? AND finished_at IS NOT NULL
                 AND first_called_at IS NOT NULL AND status IN ('done', 'no_show')
               ORDER BY finished_at DESC LIMIT ?""", (centre_id, service_id, last))]
    return answer


def queue_jumpers(db, centre_id: str, since: float, day: str) -> dict[int, int]:
    """Per service, the tickets that joined its queue ahead of ordinary newcomers since a moment: priority
    tickets issued, and tickets transferred in (they keep their place by issue time)."""
    counts: dict[int, int] = {}
    for service_id, count in db.conn.execute(
            """SELECT service_id, COUNT(*) FROM tickets WHERE centre_id = ? AND local_day = ? AND issued_at >= ?
                 AND priority_group_id IS NOT NULL GROUP BY service_id""", (centre_id, day, since)).fetchall() + \
            db.conn.execute(
            """SELECT service_id, COUNT(*) FROM ticket_events WHERE centre_id = ? AND at >= ? AND kind = 'transferred'
               GROUP BY service_id""", (centre_id, since)).fetchall():
        counts[service_id] = counts.get(service_id, 0) + count
    return counts


def queue_heads(db, centre_id: str, counter_id: int, now: float | None = None) -> tuple[str | None, ...]:
    """Oldest waiting priority and normal ticket this counter may call (its services or sent to it), and
    the first checked-in appointment whose slot has begun by `now` (that one is not a normal head then)."""
    mine = """centre_id = ? AND status = 'waiting'
              AND ((target_counter_id IS NULL AND service_id IN
                    (SELECT service_id FROM counter_services WHERE counter_id = ?)) OR target_counter_id = ?)"""
    begun = "(appointment_start IS NOT NULL AND appointment_start <= ?)"
    arguments = (centre_id, counter_id, counter_id)
    priority = scalar(db, f"""SELECT id FROM tickets WHERE {mine} AND priority_group_id IS NOT NULL
                              ORDER BY queue_at, rowid LIMIT 1""", arguments)
    if now is None:
        normal = scalar(db, f"""SELECT id FROM tickets WHERE {mine} AND priority_group_id IS NULL
                                ORDER BY queue_at, rowid LIMIT 1""", arguments)
        return priority, normal, None
    normal = scalar(db, f"""SELECT id FROM tickets WHERE {mine} AND priority_group_id IS NULL AND NOT {begun}
                            ORDER BY queue_at, rowid LIMIT 1""", (*arguments, now))
    appointment = scalar(db, f"""SELECT id FROM tickets WHERE {mine} AND priority_group_id IS NULL AND {begun}
                                 ORDER BY appointment_start, queue_at, rowid LIMIT 1""", (*arguments, now))
    return priority, normal, appointment


def service_queues(db, centre_id: str) -> list[dict]:
    """Each active service in display order with its waiting tickets and the open counters serving it."""
    return all_rows(
        db,
        """SELECT s.id, s.code, s.name, s.name_en,
                  (SELECT COUNT(*) FROM tickets t
                   WHERE t.centre_id = s.centre_id AND t.status = 'waiting' AND t.service_id = s.id) AS waiting,
                  (SELECT COUNT(*) FROM counter_services cs JOIN counters c ON c.id = cs.counter_id
                   WHERE cs.service_id = s.id AND c.state = 'open' AND c.active = 1) AS open_counters
           FROM services s WHERE s.centre_id = ? AND s.active = 1 ORDER BY s.sort_order, s.code""",
        (centre_id,),
    )


def recent_calls(db, centre_id: str, limit: int = 8) -> list[dict]:
    """The latest calls, newest first."""
    return all_rows(
        db,
        f"""SELECT {TICKET_COLUMNS} {TICKET_FROM}
            WHERE t.centre_id = ? AND t.called_at IS NOT NULL AND t.status IN ('called', 'serving', 'done', 'no_show')
            ORDER BY t.called_at DESC LIMIT ?""",
        (centre_id, limit),
    )


# ---- centre configuration -------------------------------------------------------------------

def centre(db, centre_id: str) -> dict | None:
    """A centre with its settings decoded."""
    row = one(db, "SELECT * FROM centres WHERE id = ?", (centre_id,))
    if row:
        row["settings"] = json.loads(row["settings"] or "{}")
    return row


def services(db, centre_id: str, active_only: bool = True) -> list[dict]:
    """A centre's services in display order."""
    where = "AND active = 1" if active_only else ""
    return all_rows(db, f"SELECT * FROM services WHERE centre_id = ? {where} ORDER BY sort_order, code",
                    (centre_id,))


def active_kiosks_named(db, centre_id: str, name: str) -> list[int]:
    """Ids of the active kiosks with this name."""
    return [row["id"] for row in all_rows(db, """SELECT id FROM devices WHERE centre_id = ? AND kind = 'kiosk'
                                                 AND name = ? AND revoked_at IS NULL""", (centre_id, name))]


def counter_id_by_number(db, centre_id: str, number: int) -> int | None:
    return scalar(db, "SELECT id FROM counters WHERE centre_id = ? AND number = ?", (centre_id, number))


def procedures(db, centre_id: str) -> list[dict]:
    """A centre's active procedures with their service code."""
    return all_rows(
        db,
        """SELECT p.*, s.code AS service_code, s.name AS service_name, s.name_en AS service_name_en
           FROM procedures p JOIN services s ON s.id = p.service_id
           WHERE p.centre_id = ? AND p.active = 1 ORDER BY s.sort_order, p.code""",
        (centre_id,),
    )


def life_events(db, centre_id: str) -> list[dict]:
    """A centre's active life events (the assistant's ordered procedure sets, issue 13)."""
    return all_rows(db, "SELECT * FROM life_events WHERE centre_id = ? AND active = 1 ORDER BY sort_order, code",
                    (centre_id,))


def assistant_language(db, centre_id: str) -> str | None:
    """A centre's assistant language data as stored (JSON text), or None before it has any (issue 13)."""
    return scalar(db, "SELECT data FROM assistant_vocabulary WHERE centre_id = ?", (centre_id,))


def priority_groups(db, centre_id: str) -> list[dict]:
    """A centre's active priority groups."""
    return all_rows(db, """SELECT * FROM priority_groups WHERE centre_id = ? AND active = 1
                           ORDER BY sort_order, code""", (centre_id,))


def counters(db, centre_id: str) -> list[dict]:
    """A centre's counters with their clerk and current ticket number."""
    rows = all_rows(
        db,
        """SELECT c.*, u.username AS clerk_username, u.display_name AS clerk_name, t.number AS ticket_number,
                  t.status AS ticket_status
           FROM counters c LEFT JOIN users u ON u.id = c.clerk_id
           LEFT JOIN tickets t ON t.id = c.current_ticket_id
           WHERE c.centre_id = ? AND c.active = 1 ORDER BY c.number""",
        (centre_id,),
    )
    service_codes: dict[int, list[str]] = {}
    for link in all_rows(db, """SELECT cs.counter_id, s.code FROM counter_services cs
                                JOIN services s ON s.id = cs.service_id WHERE s.centre_id = ?
                                ORDER BY s.sort_order""", (centre_id,)):
        service_codes.setdefault(link["counter_id"], []).append(link["code"])
    for row in rows:
        row["services"] = service_codes.get(row["id"], [])
    return rows


# ---- corrections (issue 11) -------------------------------------------------------------------

def tickets_sent_to_counter(db, centre_id: str, counter_id: int) -> list[dict]:
    """Waiting tickets transferred to one counter, oldest place first."""
    return all_rows(db, """SELECT id FROM tickets WHERE centre_id = ? AND status = 'waiting' AND target_counter_id = ?
                           ORDER BY queue_at, rowid""", (centre_id, counter_id))


def counter_serves(db, counter_id: int, service_id: int) -> bool:
    """Whether a counter serves a service."""
    return scalar(db, "SELECT 1 FROM counter_services WHERE counter_id = ? AND service_id = ?",
                  (counter_id, service_id)) is not None


def ticket_id_by_number(db, centre_id: str, day: str, number: str, status: str) -> str | None:
    """The id of a local day's ticket with this number in this status."""
    return scalar(db, "SELECT id FROM tickets WHERE centre_id = ? AND local_day = ? AND number = ? AND status = ?",
                  (centre_id, day, number, status))


# ---- print jobs (kiosk/printing.py) -------------------------------------------------------------

def kiosk_device(db, device_id: int) -> dict | None:
    """A kiosk's device row (its printer URI and paper width)."""
    return one(db, "SELECT * FROM devices WHERE id = ? AND kind = 'kiosk'", (device_id,))


def printer_agent_of(db, kiosk_id: int) -> dict | None:
    """The newest unrevoked print agent attached to a kiosk."""
    return one(db, """SELECT id FROM devices WHERE kind = 'printer' AND kiosk_id = ?
                      AND revoked_at IS NULL ORDER BY id DESC LIMIT 1""", (kiosk_id,))


def add_print_job(db, job_id: str, ticket_id: str, device_id: int, slip: dict, now: float) -> None:
    """Record a pending print job for a ticket's slip, in its own transaction."""
    with transaction(db):
        insert(db, "print_jobs", {"id": job_id, "centre_id": scalar(db, "SELECT centre_id FROM tickets WHERE id = ?",
                                                                    (ticket_id,)),
                                  "ticket_id": ticket_id, "device_id": device_id, "status": "pending",
                                  "slip": dumps(slip), "created_at": now, "updated_at": now})


def finish_print_job(db, job_id: str, ok: bool, error: str | None, now: float) -> dict | None:
    """Mark a job printed or failed; returns it with its device name and ticket number (None if unknown)."""
    with transaction(db):
        job = one(db, """SELECT j.*, d.name AS device_name, t.number FROM print_jobs j
                         JOIN devices d ON d.id = j.device_id JOIN tickets t ON t.id = j.ticket_id
                         WHERE j.id = ?""", (job_id,))
        if job is not None:
            execute(db, "UPDATE print_jobs SET status = ?, error = ?, updated_at = ? WHERE id = ?",
                    ("printed" if ok else "failed", None if ok else (error or "?")[:300], now, job_id))
    return job


def pending_print_jobs(db, device_id: int, now: float, stale_after_s: float) -> list[dict]:
    """A device's pending jobs, oldest first, after marking those older than `stale_after_s` screen-only."""
    with transaction(db):
        execute(db, """UPDATE print_jobs SET status = 'screen_only', updated_at = ?
                       WHERE device_id = ? AND status = 'pending' AND created_at < ?""",
                (now, device_id, now - stale_after_s))
        return all_rows(db, """SELECT id, slip FROM print_jobs WHERE device_id = ? AND status = 'pending'
                               ORDER BY created_at""", (device_id,))


def failed_printers(db, centre_id: str) -> list[dict]:
    """Printers whose latest job failed: device name, ticket number, error."""
    return all_rows(db, """SELECT d.name, t.number, j.error FROM print_jobs j
                           JOIN devices d ON d.id = j.device_id JOIN tickets t ON t.id = j.ticket_id
                           WHERE j.centre_id = ? AND j.rowid IN (SELECT MAX(rowid) FROM print_jobs
                                                                GROUP BY device_id)
                             AND j.status = 'failed'""", (centre_id,))


def print_job_device(db, job_id) -> int | None:
    """The device a print job was sent to."""
    return scalar(db, "SELECT device_id FROM print_jobs WHERE id = ?", (job_id,))


# ---- sign-in failures (shared by every process on the database) -----------------------------------

def login_failure_times(db, key: str, since: float, limit: int) -> list[float]:
    """The newest failed sign-ins of a key since a moment, newest first."""
    return [row[0] for row in db.conn.execute(
        "SELECT at FROM login_failures WHERE key = ? AND at > ? ORDER BY at DESC LIMIT ?", (key, since, limit))]


def record_login_failure(db, key: str, at: float, forget_before: float) -> None:
    """Note a failed sign-in and forget those too old to count (inside the caller's transaction)."""
    execute(db, "DELETE FROM login_failures WHERE at <= ?", (forget_before,))
    insert(db, "login_failures", {"key": key, "at": at})


def clear_login_failures(db, key: str) -> None:
    execute(db, "DELETE FROM login_failures WHERE key = ?", (key,))


# The feature sections keep their SQL in modules of their own; callers still say `store.<query>`.
from .shipping import *  # noqa: E402,F401,F403
from .voice_clips import *  # noqa: E402,F401,F403
from .dossiers import *  # noqa: E402,F401,F403
from .appointments import *  # noqa: E402,F401,F403
