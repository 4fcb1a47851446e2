"""Looking after a centre's data: retention purge of citizen data, the audit log, backups and restores.

Pure Python over sqlite3 (no Flask), so the server, the command line and the tests share it.
"""
from __future__ import annotations

import fcntl
import functools
import logging
import os
import sqlite3
import time
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

from . import audit, store
from .background import BackgroundJob
from .centre import time_zone
from .model import QueueError

log = logging.getLogger("luot.maintenance")

DEFAULT_RETENTION_DAYS = 30
DAY_S = 86_400
# The personal data a ticket may carry (queueing/citizen.py keeps nothing else).
CITIZEN_COLUMNS = ("citizen_name", "citizen_id_last4", "citizen_birth_year", "citizen_phone")
# A ticket still in the hall keeps its citizen's data whatever the clock says: a wrong clock must
# never wipe the name off the ticket a clerk is serving.
OPEN_STATUSES = ("waiting", "called", "serving")
# The purge runs once per local day, at or after this hour, and again at start-up.
PURGE_HOUR = 2
PURGE_CHECK_EVERY_S = 900

ACTION_CITIZEN_VIEWED = audit.CITIZEN_VIEW_ACTION
ACTION_CITIZEN_PURGED = "citizen_data_purged"
ACTION_BACKUP = "backup"
ACTION_RESTORE = "restore"


class MaintenanceError(QueueError):
    """A backup or restore that cannot be done, with a message for the operator."""

    code = "maintenance"


# ---- audit log ---------------------------------------------------------------------------------

def record_citizen_view(db, centre_id: str, at: float, viewer_kind: str, viewer_id: int | None,
                        ticket_id: str, via: str) -> bool:
    """Log that a staff member or device saw a ticket's citizen data; once per viewer and ticket."""
    user_id = viewer_id if viewer_kind == "user" else None
    device_id = viewer_id if viewer_kind == "device" else None
    seen = """SELECT 1 FROM audit_log WHERE ticket_id = ? AND action = ?
              AND user_id IS ? AND device_id IS ? LIMIT 1"""
    arguments = (ticket_id, ACTION_CITIZEN_VIEWED, user_id, device_id)
    # Most views repeat (a counter panel refreshes after every click): a read answers them without a lock.
    if store.scalar(db, seen, arguments):
        return False
    with store.transaction(db):
        if store.scalar(db, seen, arguments):
            return False
        audit.record(db, centre_id, at, ACTION_CITIZEN_VIEWED, user_id, device_id, ticket_id, {"via": via})
    return True


# ---- retention ---------------------------------------------------------------------------------

def retention_days_of(db, centre_id: str) -> int:
    """The centre's `citizen_retention_days` setting, or the default of 30."""
    settings = (store.centre(db, centre_id) or {}).get("settings") or {}
    return int(settings.get("citizen_retention_days", DEFAULT_RETENTION_DAYS))


def purge_citizen_data(db, centre_id: str, now: float, retention_days: int | None = None) -> int:
    """Erase the citizen data of finished tickets issued more than `retention_days` ago; returns how many.

    The tickets themselves, their numbers and their event log stay for the statistics. The erased
    bytes are overwritten in the file (secure_delete) and the WAL is checkpointed, so the data is gone
    from the database, though not from older backups.
    """
    if retention_days is None:
        retention_days = retention_days_of(db, centre_id)
    if not isinstance(retention_days, int) or isinstance(retention_days, bool) or retention_days < 0:
        raise MaintenanceError("Số ngày lưu giữ phải là số nguyên không âm (retention days must be >= 0)",
                               code="bad_retention")
    cutoff = now - retention_days * DAY_S
    has_data = " OR ".join(f"{column} IS NOT NULL" for column in CITIZEN_COLUMNS)
    erase = ", ".join(f"{column} = NULL" for column in CITIZEN_COLUMNS)
    open_marks = ", ".join("?" for _ in OPEN_STATUSES)
    db.conn.execute("PRAGMA secure_delete = ON")
    with store.transaction(db):
        count = store.execute(
            db, f"""UPDATE tickets SET {erase} WHERE centre_id = ? AND issued_at < ?
                    AND status NOT IN ({open_marks}) AND ({has_data})""",
            (centre_id, cutoff, *OPEN_STATUSES))
        count += store.erase_appointment_citizen_data(db, centre_id, cutoff)  # bookings' name and phone (issue 15)
        if count:
            audit.record(db, centre_id, now, ACTION_CITIZEN_PURGED,
                         detail={"tickets": count, "retention_days": retention_days,
                                 "issued_before": datetime.fromtimestamp(cutoff, timezone.utc).isoformat()})
    if count:
        db.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return count


class DailyPurge(BackgroundJob):
    """Runs the retention purge once per local day (at start-up, then after PURGE_HOUR each day).

    It wakes every PURGE_CHECK_EVERY_S and compares calendar days rather than sleeping until a
    computed moment, so a clock changed by hand or by NTP cannot make it skip a day; the purge is
    idempotent, so running it twice after a clock goes back costs nothing.
    """

    thread_name = "luot-daily-purge"

    def __init__(self, database: str | Path, centre_id: str, clock: Callable[[], float] = time.time,
                 hour: int = PURGE_HOUR, check_every_s: float = PURGE_CHECK_EVERY_S):
        super().__init__(database, centre_id, clock, check_every_s)
        self.hour = hour
        self.last_day: str | None = None

    def _local(self, db) -> datetime:
        return datetime.fromtimestamp(self.clock(), timezone.utc).astimezone(time_zone(db, self.centre_id))

    def tick(self) -> int | None:
        """Purge if today's run is due; returns the number of tickets purged, or None when not due."""
        db = store.connect(self.database)
        try:
            local = self._local(db)
            day = local.date().isoformat()
            if day == self.last_day or (self.last_day is not None and local.hour < self.hour):
                return None
            count = purge_citizen_data(db, self.centre_id, self.clock())
            self.last_day = day
            if count:
                log.info("retention purge: citizen data erased from %d tickets", count)
            return count
        finally:
            db.conn.close()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.tick()
            except Exception:  # a failed purge is retried at the next check, never kills the thread
                log.exception("retention purge failed")
            self._stop.wait(self.check_every_s)


# ---- one initialiser at a time -------------------------------------------------------------------

@contextmanager
def exclusive_file_lock(path: str | Path):
    """Hold an exclusive advisory lock on `path` (created if needed) across processes."""
    descriptor = os.open(str(path), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(descriptor, fcntl.LOCK_UN)
        os.close(descriptor)


def one_initialiser_at_a_time(function):
    """Run `function(db_path, ...)` under a lock file next to the database.

    Several server processes started together (two gunicorn instances on one LUOT_DB) would
    otherwise all find an empty database and all try to create the centre.
    """
    @functools.wraps(function)
    def wrapper(db_path, *args, **kwargs):
        with exclusive_file_lock(f"{db_path}.init-lock"):
            return function(db_path, *args, **kwargs)
    return wrapper


# ---- backup and restore --------------------------------------------------------------------------

def _check_database(conn: sqlite3.Connection, label: str) -> None:
    """Refuse a file that is not a sound Lượt database."""
    try:
        result = conn.execute("PRAGMA integrity_check").fetchone()[0]
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    except sqlite3.DatabaseError as error:
        raise MaintenanceError(f"{label} không phải cơ sở dữ liệu SQLite ({label} is not a SQLite database: "
                               f"{error})", code="bad_backup") from None
    if result != "ok":
        raise MaintenanceError(f"{label} bị hỏng ({label} failed the integrity check: {result})", code="bad_backup")
    if not {"centres", "tickets", "ticket_events", "_sqlite_migrations"} <= tables:
        raise MaintenanceError(f"{label} không phải cơ sở dữ liệu của Lượt "
                               f"({label} is not a Lượt database)", code="bad_backup")


def _fsync_directory(path: Path) -> None:
    descriptor = os.open(str(path), os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def backup(db_path: str | Path, target: str | Path) -> Path:
    """Copy the database, even while the server writes to it, into one self-contained file.

    Uses SQLite's online backup API (a consistent snapshot, WAL content included), checks the
    copy's integrity, makes it readable by its owner only (it holds personal data) and moves it
    into place atomically, so `target` is either the old file or a complete new one.
    """
    db_path, target = Path(db_path), Path(target)
    if not db_path.exists():
        raise MaintenanceError(f"Không có cơ sở dữ liệu {db_path} (no database at {db_path})",
                               code="no_database")
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.{os.getpid()}.partial")
    partial.unlink(missing_ok=True)
    source = sqlite3.connect(str(db_path), timeout=store.BUSY_TIMEOUT_MS / 1000)
    try:
        descriptor = os.open(str(partial), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        os.close(descriptor)
        copy = sqlite3.connect(str(partial))
        try:
            source.backup(copy)
            # The copy inherits WAL mode; a backup should be one file that opens anywhere.
            copy.execute("PRAGMA journal_mode = DELETE")
            _check_database(copy, "Bản sao lưu")
        finally:
            copy.close()
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    finally:
        source.close()
    with open(partial, "rb") as handle:
        os.fsync(handle.fileno())
    os.replace(partial, target)
    _fsync_directory(target.parent)
    return target


def restore(backup_path: str | Path, db_path: str | Path) -> Path | None:
    """Replace the database's content with a backup's, through the backup API; returns the kept old copy.

    The backup is checked first (integrity, Lượt tables, no migration this version does not know);
    the current database, if any, is first saved next to it as `<name>.before-restore-<time>`.
    Stop the server before restoring: its screens and counters would otherwise act on old state.
    """
    from .schema import migrations

    backup_path, db_path = Path(backup_path), Path(db_path)
    if not backup_path.is_file():
        raise MaintenanceError(f"Không có tệp sao lưu {backup_path} (no backup file at {backup_path})",
                               code="no_backup")
    source = sqlite3.connect(f"file:{backup_path}?mode=ro", uri=True)
    try:
        _check_database(source, "Bản sao lưu")
        applied = {row[0] for row in source.execute(
            "SELECT name FROM _sqlite_migrations WHERE migration_set = ?", (migrations.name,))}
        unknown = applied - {migration.name for migration in migrations._migrations}
        if unknown:
            raise MaintenanceError(f"Bản sao lưu từ phiên bản mới hơn ({', '.join(sorted(unknown))}); "
                                   "hãy cập nhật phần mềm trước (backup is from a newer version)",
                                   code="bad_backup")
        kept = None
        if db_path.exists() and db_path.stat().st_size:
            stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
            kept = backup(db_path, db_path.with_name(f"{db_path.name}.before-restore-{stamp}"))
        db_path.parent.mkdir(parents=True, exist_ok=True)
        destination = sqlite3.connect(str(db_path), timeout=store.BUSY_TIMEOUT_MS / 1000)
        try:
            destination.execute(f"PRAGMA busy_timeout = {store.BUSY_TIMEOUT_MS}")
            # A WAL database only takes a backup of its own page size; out of WAL it takes any.
            destination.execute("PRAGMA journal_mode = DELETE")
            source.backup(destination)
            destination.execute("PRAGMA journal_mode = WAL")
            destination.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            _check_database(destination, "Cơ sở dữ liệu sau khi phục hồi")
        finally:
            destination.close()
    finally:
        source.close()
    return kept
