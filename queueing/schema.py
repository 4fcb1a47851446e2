"""The database schema as named, append-only migrations: never edit one that has shipped."""
from __future__ import annotations

from sqlite_utils import Migrations

migrations = Migrations("luot")


@migrations(name="0001_initial")
def initial(db):
    """Centres, services, procedures, counters, people, devices, tickets and the ticket event log."""
    db.executescript(
        """
        CREATE TABLE centres (
            id TEXT PRIMARY KEY,
            name TEXT NOT NULL,
            name_en TEXT NOT NULL DEFAULT '',
            timezone TEXT NOT NULL DEFAULT 'Asia/Ho_Chi_Minh',
            settings TEXT NOT NULL DEFAULT '{}',
            created_at REAL NOT NULL
        );
        CREATE TABLE services (
            id INTEGER PRIMARY KEY,
            centre_id TEXT NOT NULL REFERENCES centres(id),
            code TEXT NOT NULL,
            name TEXT NOT NULL,
            name_en TEXT NOT NULL DEFAULT '',
            prefix TEXT NOT NULL,
            target_wait_s INTEGER NOT NULL DEFAULT 900,
            default_service_s INTEGER NOT NULL DEFAULT 420,
            daily_cap INTEGER,
            opening_hours TEXT,
            sort_order INTEGER NOT NULL DEFAULT 0,
            active INTEGER NOT NULL DEFAULT 1,
            UNIQUE (centre_id, code),
            UNIQUE (centre_id, prefix)
        );
        CREATE TABLE procedures (
            id INTEGER PRIMARY KEY,
            centre_id TEXT NOT NULL REFERENCES centres(id),
            service_id INTEGER NOT NULL REFERENCES services(id),
            code TEXT NOT NULL,
            name TEXT NOT NULL,
            name_en TEXT NOT NULL DEFAULT '',
            legal_days INTEGER,
            same_day INTEGER NOT NULL DEFAULT 0,
            legal_days_note TEXT,
            fee_vnd INTEGER,
            fee_note TEXT,
            active INTEGER NOT NULL DEFAULT 1,
            UNIQUE (centre_id, code)
        );
        CREATE TABLE priority_groups (
            id INTEGER PRIMARY KEY,
            centre_id TEXT NOT NULL REFERENCES centres(id),
            code TEXT NOT NULL,
            name TEXT NOT NULL,
            name_en TEXT NOT NULL DEFAULT '',
            sort_order INTEGER NOT NULL DEFAULT 0,
            active INTEGER NOT NULL DEFAULT 1,
            UNIQUE (centre_id, code)
        );
        CREATE TABLE users (
            id INTEGER PRIMARY KEY,
            centre_id TEXT NOT NULL REFERENCES centres(id),
            username TEXT NOT NULL,
            display_name TEXT NOT NULL DEFAULT '',
            role TEXT NOT NULL CHECK (role IN ('admin', 'manager', 'clerk')),
            password_hash TEXT NOT NULL,
            active INTEGER NOT NULL DEFAULT 1,
            created_at REAL NOT NULL,
            UNIQUE (username)
        );
        CREATE TABLE counters (
            id INTEGER PRIMARY KEY,
            centre_id TEXT NOT NULL REFERENCES centres(id),
            number INTEGER NOT NULL,
            name TEXT NOT NULL,
            floor TEXT NOT NULL DEFAULT '',
            state TEXT NOT NULL DEFAULT 'closed' CHECK (state IN ('closed', 'open', 'paused')),
            pause_reason TEXT,
            clerk_id INTEGER REFERENCES users(id),
            current_ticket_id TEXT,
            consecutive_priority_calls INTEGER NOT NULL DEFAULT 0,
            state_since REAL,
            active INTEGER NOT NULL DEFAULT 1,
            UNIQUE (centre_id, number)
        );
        CREATE TABLE counter_services (
            counter_id INTEGER NOT NULL REFERENCES counters(id),
            service_id INTEGER NOT NULL REFERENCES services(id),
            PRIMARY KEY (counter_id, service_id)
        );
        CREATE TABLE devices (
            id INTEGER PRIMARY KEY,
            centre_id TEXT NOT NULL REFERENCES centres(id),
            name TEXT NOT NULL,
            kind TEXT NOT NULL CHECK (kind IN ('kiosk', 'display', 'printer', 'counter')),
            printer_uri TEXT,
            counter_id INTEGER REFERENCES counters(id),
            token_hash TEXT NOT NULL UNIQUE,
            created_at REAL NOT NULL,
            revoked_at REAL
        );
        CREATE TABLE staff_tokens (
            token_hash TEXT PRIMARY KEY,
            user_id INTEGER NOT NULL REFERENCES users(id),
            created_at REAL NOT NULL,
            expires_at REAL NOT NULL,
            revoked_at REAL
        );
        CREATE TABLE ticket_sequences (
            centre_id TEXT NOT NULL,
            service_id INTEGER NOT NULL,
            local_day TEXT NOT NULL,
            last_number INTEGER NOT NULL,
            PRIMARY KEY (centre_id, service_id, local_day)
        );
        CREATE TABLE tickets (
            id TEXT PRIMARY KEY,
            centre_id TEXT NOT NULL REFERENCES centres(id),
            number_service_id INTEGER NOT NULL REFERENCES services(id),
            local_day TEXT NOT NULL,
            sequence INTEGER NOT NULL,
            number TEXT NOT NULL,
            service_id INTEGER NOT NULL REFERENCES services(id),
            priority_group_id INTEGER REFERENCES priority_groups(id),
            status TEXT NOT NULL CHECK (status IN ('waiting', 'called', 'serving', 'done', 'no_show')),
            issued_at REAL NOT NULL,
            local_hour INTEGER NOT NULL,
            queue_at REAL NOT NULL,
            first_called_at REAL,
            called_at REAL,
            started_at REAL,
            finished_at REAL,
            counter_id INTEGER REFERENCES counters(id),
            clerk_id INTEGER REFERENCES users(id),
            target_counter_id INTEGER REFERENCES counters(id),
            recall_count INTEGER NOT NULL DEFAULT 0,
            device_id INTEGER REFERENCES devices(id),
            lang TEXT NOT NULL DEFAULT 'vi',
            citizen_name TEXT,
            citizen_id_hash TEXT,
            citizen_id_last4 TEXT,
            citizen_birth_year INTEGER,
            dossier_number TEXT,
            rating INTEGER CHECK (rating BETWEEN 1 AND 3),
            is_demo INTEGER NOT NULL DEFAULT 0,
            UNIQUE (centre_id, number_service_id, local_day, sequence)
        );
        -- call-next reads the heads of the queue through this index
        CREATE INDEX tickets_waiting ON tickets (centre_id, status, service_id, queue_at);
        CREATE INDEX tickets_day ON tickets (centre_id, local_day);
        -- wait estimates average the latest finished tickets of a service
        CREATE INDEX tickets_finished ON tickets (centre_id, service_id, finished_at)
            WHERE finished_at IS NOT NULL;
        CREATE TABLE ticket_procedures (
            ticket_id TEXT NOT NULL REFERENCES tickets(id),
            procedure_id INTEGER NOT NULL REFERENCES procedures(id),
            counter_id INTEGER REFERENCES counters(id),
            clerk_id INTEGER REFERENCES users(id),
            PRIMARY KEY (ticket_id, procedure_id)
        );
        -- append-only: one row per ticket state change; statistics are computed from it
        CREATE TABLE ticket_events (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            centre_id TEXT NOT NULL,
            ticket_id TEXT NOT NULL REFERENCES tickets(id),
            at REAL NOT NULL,
            kind TEXT NOT NULL,
            from_status TEXT,
            to_status TEXT,
            service_id INTEGER,
            counter_id INTEGER,
            clerk_id INTEGER,
            detail TEXT
        );
        CREATE INDEX ticket_events_ticket ON ticket_events (ticket_id, at);
        CREATE INDEX ticket_events_time ON ticket_events (centre_id, at);
        CREATE TRIGGER ticket_events_no_update BEFORE UPDATE ON ticket_events
            BEGIN SELECT RAISE(ABORT, 'ticket_events is append-only'); END;
        CREATE TRIGGER ticket_events_no_delete BEFORE DELETE ON ticket_events
            WHEN (SELECT is_demo FROM tickets WHERE id = OLD.ticket_id) = 0
            BEGIN SELECT RAISE(ABORT, 'ticket_events is append-only'); END;
        CREATE TABLE counter_events (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            centre_id TEXT NOT NULL,
            counter_id INTEGER NOT NULL REFERENCES counters(id),
            at REAL NOT NULL,
            kind TEXT NOT NULL,
            clerk_id INTEGER,
            reason TEXT
        );
        CREATE TABLE audit_log (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            centre_id TEXT NOT NULL,
            at REAL NOT NULL,
            user_id INTEGER,
            action TEXT NOT NULL,
            detail TEXT
        );
        CREATE TABLE print_jobs (
            id TEXT PRIMARY KEY,
            centre_id TEXT NOT NULL,
            ticket_id TEXT NOT NULL REFERENCES tickets(id),
            device_id INTEGER REFERENCES devices(id),
            status TEXT NOT NULL CHECK (status IN ('pending', 'printed', 'failed', 'screen_only')),
            slip TEXT NOT NULL,
            created_at REAL NOT NULL,
            updated_at REAL NOT NULL,
            error TEXT
        );
        CREATE INDEX print_jobs_pending ON print_jobs (device_id, status);
        """
    )


@migrations(name="0002_print_agents")
def print_agents(db):
    """A print agent prints for one kiosk; each printer has a paper width."""
    db.executescript(
        """
        ALTER TABLE devices ADD COLUMN kiosk_id INTEGER REFERENCES devices(id);
        ALTER TABLE devices ADD COLUMN paper_mm INTEGER NOT NULL DEFAULT 80 CHECK (paper_mm IN (58, 80));
        """
    )


@migrations(name="0002_stats_indexes")
def stats_indexes(db):
    """Daily statistics summaries (built on demand by stats.py) and triggers that mark a day stale."""
    db.executescript(
        """
        -- a centre day whose summaries are built (ready = 1) or being built (ready = 0, by `token`);
        -- any change to one of the day's tickets deletes this row, so a summary is never read stale
        CREATE TABLE stats_days (
            centre_id TEXT NOT NULL,
            local_day TEXT NOT NULL,
            timezone TEXT NOT NULL,
            token TEXT NOT NULL,
            ready INTEGER NOT NULL DEFAULT 0,
            built_at REAL NOT NULL,
            PRIMARY KEY (centre_id, local_day)
        ) WITHOUT ROWID;
        -- one day's figures for one key of one breakdown: counts and the sorted durations as
        -- little-endian float64 arrays, so medians over many days stay exact
        CREATE TABLE stats_daily (
            id INTEGER PRIMARY KEY,
            centre_id TEXT NOT NULL,
            dimension TEXT NOT NULL,
            local_day TEXT NOT NULL,
            key INTEGER NOT NULL,
            token TEXT NOT NULL,
            counts BLOB NOT NULL,
            waits BLOB NOT NULL,
            services BLOB NOT NULL,
            walks BLOB NOT NULL
        );
        CREATE UNIQUE INDEX stats_daily_key ON stats_daily (centre_id, dimension, local_day, key);
        CREATE TRIGGER stats_stale_on_event AFTER INSERT ON ticket_events BEGIN
            DELETE FROM stats_days WHERE centre_id = NEW.centre_id
                AND local_day = (SELECT local_day FROM tickets WHERE id = NEW.ticket_id);
        END;
        CREATE TRIGGER stats_stale_on_event_delete AFTER DELETE ON ticket_events BEGIN
            DELETE FROM stats_days WHERE centre_id = OLD.centre_id
                AND local_day = (SELECT local_day FROM tickets WHERE id = OLD.ticket_id);
        END;
        CREATE TRIGGER stats_stale_on_procedure AFTER INSERT ON ticket_procedures BEGIN
            DELETE FROM stats_days WHERE (centre_id, local_day) =
                (SELECT centre_id, local_day FROM tickets WHERE id = NEW.ticket_id);
        END;
        CREATE TRIGGER stats_stale_on_procedure_delete AFTER DELETE ON ticket_procedures BEGIN
            DELETE FROM stats_days WHERE (centre_id, local_day) =
                (SELECT centre_id, local_day FROM tickets WHERE id = OLD.ticket_id);
        END;
        CREATE TRIGGER stats_stale_on_ticket_delete AFTER DELETE ON tickets BEGIN
            DELETE FROM stats_days WHERE centre_id = OLD.centre_id AND local_day = OLD.local_day;
        END;
        -- SLA shares use the current target wait, so a new target makes every summary stale
        CREATE TRIGGER stats_stale_on_target AFTER UPDATE OF target_wait_s ON services BEGIN
            DELETE FROM stats_days WHERE centre_id = NEW.centre_id;
        END;
        """
    )


@migrations(name="0003_security")
def security(db):
    """Failed sign-ins for throttling across processes; the audit log names devices and tickets too."""
    # One statement at a time: executescript() would commit the migration's transaction half-way.
    for statement in (
        """CREATE TABLE login_failures (
               id INTEGER PRIMARY KEY,
               key TEXT NOT NULL,
               at REAL NOT NULL
           )""",
        "CREATE INDEX login_failures_key ON login_failures (key, at)",
        "ALTER TABLE audit_log ADD COLUMN device_id INTEGER",
        "ALTER TABLE audit_log ADD COLUMN ticket_id TEXT",
        # who saw this ticket's citizen data (one row per viewer), and the log by time
        "CREATE INDEX audit_log_ticket ON audit_log (ticket_id, action)",
        "CREATE INDEX audit_log_time ON audit_log (centre_id, at)",
    ):
        db.execute(statement)


@migrations(name="0004_day_queue_index")
def day_queue_index(db):
    """Issuing reads the day's latest queue time under the write lock; an index keeps that O(log n)."""
    db.executescript("CREATE INDEX tickets_day_queue ON tickets (centre_id, local_day, queue_at);")


@migrations(name="0005_stranded_recall_limit")
def stranded_recall_limit(db):
    """The setting `no_show_after_recalls` is named for what it does: `recall_limit` (a recall is refused after it)."""
    import json
    for centre_id, text in db.execute("SELECT id, settings FROM centres").fetchall():
        settings = json.loads(text or "{}")
        if "no_show_after_recalls" not in settings:
            continue
        old = settings.pop("no_show_after_recalls")
        settings.setdefault("recall_limit", old)
        db.execute("UPDATE centres SET settings = ? WHERE id = ?",
                   [json.dumps(settings, ensure_ascii=False, separators=(",", ":")), centre_id])


@migrations(name="0006_stranded_stats_rebuild")
def stranded_stats_rebuild(db):
    """Daily summaries built before the replay followed the log order (not the clock) are rebuilt once."""
    db.execute("DELETE FROM stats_days")


@migrations(name="0005_day_end_expired_status")
def day_end_expired_status(db):
    """Tickets may end `expired` when the day closes with them still open (issue 11).

    SQLite cannot alter a CHECK constraint, and rebuilding `tickets` would drop its triggers and
    touch every row; widening the allowed list in the stored schema is the documented way to
    loosen a constraint in place (sqlite.org/lang_altertable.html, "writable_schema"): every row
    already satisfies the wider check, so the file stays valid (integrity_check below).
    """
    version = db.execute("PRAGMA schema_version").fetchone()[0]
    old = "CHECK (status IN ('waiting', 'called', 'serving', 'done', 'no_show'))"
    new = "CHECK (status IN ('waiting', 'called', 'serving', 'done', 'no_show', 'expired'))"
    db.execute("PRAGMA writable_schema = ON")
    try:
        changed = db.execute("UPDATE sqlite_master SET sql = replace(sql, ?, ?) "
                             "WHERE type = 'table' AND name = 'tickets' AND instr(sql, ?) > 0",
                             (old, new, old)).rowcount
        if changed:
            db.execute(f"PRAGMA schema_version = {version + 1}")
    finally:
        db.execute("PRAGMA writable_schema = OFF")
    result = db.execute("PRAGMA integrity_check").fetchone()[0]
    if result != "ok":
        raise RuntimeError(f"tickets status check widening left the database unsound: {result}")


@migrations(name="0005_day_holidays")
def day_holidays(db):
    """The days a centre is closed (public holidays), with a name shown at the kiosk."""
    db.execute("""CREATE TABLE holidays (
                      centre_id TEXT NOT NULL REFERENCES centres(id),
                      day TEXT NOT NULL,
                      name TEXT NOT NULL,
                      name_en TEXT NOT NULL DEFAULT '',
                      PRIMARY KEY (centre_id, day)
                  ) WITHOUT ROWID""")
    # Existing configured centres get the bundled calendar; the demo centre stays open every day.
    from .holidays import seed_defaults
    for (centre_id,) in db.execute("SELECT id FROM centres").fetchall():
        seed_defaults(db, centre_id)


@migrations(name="0007_assistant_vocabulary")
def assistant_vocabulary(db):
    """The assistant's vocabulary as data (issue 13): phrasings and documents per procedure, and life events.

    Existing centres get the bundled catalogue's phrasings for the procedures they share with it (by
    code) and its life events whose steps they offer; anything the admin wrote is never overwritten.
    """
    for column in ("phrasings", "phrasings_en", "documents", "documents_en"):
        db.execute(f"ALTER TABLE procedures ADD COLUMN {column} TEXT NOT NULL DEFAULT '[]'")
    db.execute("""CREATE TABLE life_events (
                      id INTEGER PRIMARY KEY,
                      centre_id TEXT NOT NULL REFERENCES centres(id),
                      code TEXT NOT NULL,
                      name TEXT NOT NULL,
                      name_en TEXT NOT NULL DEFAULT '',
                      procedures TEXT NOT NULL DEFAULT '[]',
                      phrasings TEXT NOT NULL DEFAULT '[]',
                      phrasings_en TEXT NOT NULL DEFAULT '[]',
                      sort_order INTEGER NOT NULL DEFAULT 0,
                      active INTEGER NOT NULL DEFAULT 1,
                      UNIQUE (centre_id, code)
                  )""")
    from .centre import load_catalogue
    from .vocabulary import seed_from_catalogue
    catalogue = load_catalogue()
    for (centre_id,) in db.execute("SELECT id FROM centres").fetchall():
        seed_from_catalogue(db, centre_id, catalogue)


@migrations(name="0008_sockets_raised_alerts")
def sockets_raised_alerts(db):
    """Alerts already pushed to monitors, shared by every instance on the database, so each is raised once."""
    db.execute("""CREATE TABLE raised_alerts (
                      centre_id TEXT NOT NULL, key TEXT NOT NULL, raised_at REAL NOT NULL,
                      PRIMARY KEY (centre_id, key)) WITHOUT ROWID""")


@migrations(name="0009_keys_track_key")
def keys_track_key(db):
    """A ticket is proven by its `track_key` (issue 12); the never-read `citizen_id_hash` is dropped.

    Ticket ids are heard by every display, so reading, tracking and rating a ticket anonymously need
    a secret of its own: each existing ticket gets one here (old slips' `/t/<id>` links stop working,
    which is the point). `citizen_id_hash` was written at issue and read by nothing; an ID number's
    keyed hash is personal data without a purpose, so it is erased and its column dropped.
    """
    import secrets
    db.execute("ALTER TABLE tickets ADD COLUMN track_key TEXT")
    ids = [row[0] for row in db.execute("SELECT id FROM tickets").fetchall()]
    db.conn.executemany("UPDATE tickets SET track_key = ? WHERE id = ?",
                        [(secrets.token_urlsafe(16), ticket_id) for ticket_id in ids])
    db.execute("CREATE UNIQUE INDEX tickets_track_key ON tickets (track_key)")
    db.conn.execute("PRAGMA secure_delete = ON")  # the erased hashes are overwritten on disk, not just unlinked
    db.execute("UPDATE tickets SET citizen_id_hash = NULL WHERE citizen_id_hash IS NOT NULL")
    db.execute("ALTER TABLE tickets DROP COLUMN citizen_id_hash")


@migrations(name="0010_vocab_language")
def vocab_language(db):
    """The assistant's language data per centre (issue 13): abbreviations, synonyms, stop-words, out of scope.

    One JSON document per centre, the admin's to edit; every existing centre starts from the bundled
    ``queueing/data/vocabulary.vi.json`` (new centres get it when they are configured).
    """
    db.execute("""CREATE TABLE assistant_vocabulary (
                      centre_id TEXT PRIMARY KEY REFERENCES centres(id),
                      data TEXT NOT NULL
                  ) WITHOUT ROWID""")
    from .language import seed_language
    for (centre_id,) in db.execute("SELECT id FROM centres").fetchall():
        seed_language(db, centre_id)


@migrations(name="0014_shipping_state")
def shipping_state(db):
    """Where shipping the event log to the province hub stands (issue 18): the hub's acknowledged sequence,
    the last attempt, success and error, so the monitor shows the lag whichever process ships."""
    db.execute("""CREATE TABLE hub_shipping (
                      centre_id TEXT PRIMARY KEY REFERENCES centres(id),
                      acked_seq INTEGER NOT NULL DEFAULT 0,
                      last_attempt_at REAL,
                      last_success_at REAL,
                      last_error TEXT
                  ) WITHOUT ROWID""")


@migrations(name="0015_voice_pack_clips")
def voice_pack_clips(db):
    """Recorded clips of the announcement voice pack (issue 19), one per centre and segment key.

    The audio is the prepared clip (16-bit mono PCM at the pack's rate, trimmed, loudness set) as a
    blob in the database: it is written with its audit row in one transaction and travels with every
    backup of the database, and a pack is a few hundred KB.
    """
    db.execute("""CREATE TABLE voice_clips (
                      centre_id TEXT NOT NULL REFERENCES centres(id),
                      key TEXT NOT NULL,
                      text TEXT NOT NULL,
                      audio BLOB NOT NULL,
                      duration_s REAL NOT NULL,
                      digest TEXT NOT NULL,
                      recorded_at REAL NOT NULL,
                      recorded_by INTEGER,
                      PRIMARY KEY (centre_id, key)
                  ) WITHOUT ROWID""")


@migrations(name="0012_dossiers_receipts")
def dossiers_receipts(db):
    """Dossiers (issue 16): what a reception produced, its due date, fee and payment, and its result's return.

    The event log (`ticket_events` on the reception ticket: dossier_received, dossier_paid, dossier_ready,
    dossier_returned) is the record; this table is the dossier's current state, to find it by code or key
    and to list what is due. An existing demo centre gets the result-return service the kiosk's
    «Nhận kết quả» issues tickets for.
    """
    db.execute("""CREATE TABLE dossiers (
                      id INTEGER PRIMARY KEY,
                      centre_id TEXT NOT NULL REFERENCES centres(id),
                      code TEXT NOT NULL,
                      key TEXT NOT NULL UNIQUE,
                      ticket_id TEXT NOT NULL REFERENCES tickets(id),
                      procedure_id INTEGER NOT NULL REFERENCES procedures(id),
                      service_id INTEGER NOT NULL REFERENCES services(id),
                      counter_id INTEGER REFERENCES counters(id),
                      clerk_id INTEGER REFERENCES users(id),
                      received_at REAL NOT NULL,
                      due_date TEXT NOT NULL,
                      due_date_computed TEXT,
                      due_reason TEXT,
                      fee INTEGER,
                      paid_at REAL,
                      paid_method TEXT CHECK (paid_method IN ('cash', 'transfer')),
                      status TEXT NOT NULL DEFAULT 'processing'
                          CHECK (status IN ('processing', 'ready', 'returned')),
                      ready_at REAL,
                      returned_at REAL,
                      by_post INTEGER NOT NULL DEFAULT 0,
                      phone TEXT,
                      is_demo INTEGER NOT NULL DEFAULT 0,
                      UNIQUE (centre_id, code)
                  )""")
    db.execute("CREATE INDEX dossiers_due ON dossiers (centre_id, due_date)")
    db.execute("CREATE INDEX dossiers_open ON dossiers (centre_id, status, due_date)")
    from .dossiers import add_return_service_to_demo
    add_return_service_to_demo(db)


@migrations(name="0011_appointments_bookings")
def appointments_bookings(db):
    """Appointments (issue 15): bookings of a service's slot, and how a ticket came to be.

    `tickets.channel` says where a ticket was taken (kiosk, appointment check-in, phone);
    `tickets.appointment_start` is the slot's start of an appointment's ticket: from then on the call
    policy serves it before the ordinary tickets of its service, `appointment_ratio` in a row at most
    (`counters.consecutive_appointment_calls`). A booking's name and phone are citizen data, erased by
    the retention purge like a ticket's; the ID number is kept only as its keyed hash, to refuse a
    second booking of the same person, and erased with them.
    """
    db.execute("ALTER TABLE tickets ADD COLUMN channel TEXT NOT NULL DEFAULT 'kiosk'")
    db.execute("ALTER TABLE tickets ADD COLUMN appointment_start REAL")
    db.execute("ALTER TABLE counters ADD COLUMN consecutive_appointment_calls INTEGER NOT NULL DEFAULT 0")
    db.execute("""CREATE TABLE appointments (
                      id INTEGER PRIMARY KEY,
                      centre_id TEXT NOT NULL REFERENCES centres(id),
                      code TEXT NOT NULL UNIQUE,
                      service_id INTEGER NOT NULL REFERENCES services(id),
                      procedure_id INTEGER REFERENCES procedures(id),
                      local_day TEXT NOT NULL,
                      slot_start REAL NOT NULL,
                      slot_end REAL NOT NULL,
                      status TEXT NOT NULL DEFAULT 'booked',
                      name TEXT,
                      phone TEXT,
                      id_hash TEXT,
                      lang TEXT NOT NULL DEFAULT 'vi',
                      booked_at REAL NOT NULL,
                      changed_at REAL,
                      checked_in_at REAL,
                      ticket_id TEXT REFERENCES tickets(id)
                  )""")
    db.execute("CREATE INDEX appointments_slot ON appointments (centre_id, service_id, slot_start, status)")
    db.execute("CREATE INDEX appointments_day ON appointments (centre_id, local_day, status)")


@migrations(name="0011_appointments_phone")
def appointments_phone(db):
    """A ticket's phone (issue 15): given at `/join` (a ticket from the phone) or opted in at the kiosk's
    keypad for an SMS when the turn is near. Citizen data, erased by the retention purge; `sms_nudged_at`
    and `sms_called_at` make each SMS go once."""
    db.execute("ALTER TABLE tickets ADD COLUMN citizen_phone TEXT")
    db.execute("ALTER TABLE tickets ADD COLUMN sms_nudged_at REAL")
    db.execute("ALTER TABLE tickets ADD COLUMN sms_called_at REAL")
    db.execute("CREATE INDEX tickets_phone ON tickets (centre_id, citizen_phone) WHERE citizen_phone IS NOT NULL")
