"""The hub's PostgreSQL schema as named, append-only migrations (never edit one that has shipped)."""
from __future__ import annotations

MIGRATIONS: list[tuple[str, str]] = [
    ("0001_hub_initial", """
        CREATE TABLE centres (
            id serial PRIMARY KEY,
            code text NOT NULL UNIQUE,
            name text NOT NULL,
            token_hash text NOT NULL UNIQUE,
            timezone text NOT NULL DEFAULT 'Asia/Ho_Chi_Minh',
            acked_seq bigint NOT NULL DEFAULT 0,       -- every event up to here is stored (the shipping cursor)
            events bigint NOT NULL DEFAULT 0,          -- events stored
            last_event_at double precision,            -- the newest stored event's time (epoch s)
            last_contact_at double precision,          -- the hub's clock at the centre's last batch
            behind_since double precision,             -- time of the oldest event the centre still had to send
            live jsonb NOT NULL DEFAULT '{}',          -- waiting, longest_wait_s, open_counters at the last batch
            services jsonb NOT NULL DEFAULT '{}',      -- code -> {name, name_en, target_wait_s}
            procedures jsonb NOT NULL DEFAULT '{}',    -- code -> {name, name_en, service}
            created_at timestamptz NOT NULL DEFAULT now()
        );
        CREATE TABLE manager_tokens (
            id serial PRIMARY KEY,
            name text NOT NULL,
            token_hash text NOT NULL UNIQUE,
            created_at timestamptz NOT NULL DEFAULT now(),
            revoked_at timestamptz
        );

        -- every centre's event log, as shipped; one partition per month of event time
        CREATE TABLE events (
            centre_id integer NOT NULL REFERENCES centres(id),
            seq bigint NOT NULL,                       -- the centre's ticket_events.id
            at timestamptz NOT NULL,
            kind text NOT NULL,
            ticket text NOT NULL,
            local_day date NOT NULL,                   -- the ticket's issue day at its centre
            service text,
            counter text,
            detail jsonb,
            received_at timestamptz NOT NULL DEFAULT now(),
            -- a partitioned table's unique key must hold the partition key; an event's time never changes,
            -- so (centre, seq, at) is unique exactly when (centre, seq) is
            PRIMARY KEY (centre_id, seq, at)
        ) PARTITION BY RANGE (at);

        -- each ticket's log so far (kind, at, service, counter, to_status, score), folded again when it grows
        CREATE TABLE tickets (
            centre_id integer NOT NULL,
            ticket text NOT NULL,
            local_day date NOT NULL,
            local_hour smallint NOT NULL,
            service text NOT NULL,
            status text NOT NULL,
            log jsonb NOT NULL,
            procedures jsonb NOT NULL DEFAULT '[]',     -- procedure codes of its finish
            PRIMARY KEY (centre_id, ticket)
        );
        CREATE TABLE dossiers (
            centre_id integer NOT NULL,
            dossier text NOT NULL,                     -- a keyed digest of the ticket and dossier number
            service text NOT NULL,
            procedure text,
            due_date date,
            ready_day date,
            returned_day date,
            PRIMARY KEY (centre_id, dossier)
        );

        -- one issue day of one centre, service and procedure ('' = the whole service): counts, sums and
        -- duration histograms (hub/figures.py names the positions and the buckets)
        CREATE TABLE daily (
            centre_id integer NOT NULL,
            day date NOT NULL,
            service text NOT NULL,
            procedure text NOT NULL,
            counts bigint[] NOT NULL,
            sums double precision[] NOT NULL,
            wait_hist bytea NOT NULL,                  -- histograms: little-endian int32 per bucket
            service_hist bytea NOT NULL,
            PRIMARY KEY (centre_id, day, service, procedure)
        );
        -- the same per calendar month (month = its first day), so a year is twelve rows a key
        CREATE TABLE monthly (LIKE daily INCLUDING ALL);
        ALTER TABLE monthly RENAME COLUMN day TO month;
        -- the province's statistics read every centre's rows of some days (months) at one level
        CREATE INDEX daily_by_day ON daily (day, service, procedure);
        CREATE INDEX monthly_by_month ON monthly (month, service, procedure);

        CREATE TABLE catalogue (
            version serial PRIMARY KEY,
            published_at timestamptz NOT NULL DEFAULT now(),
            note text NOT NULL DEFAULT '',
            data jsonb NOT NULL
        );
    """),
]


def migrate(connection) -> list[str]:
    """Apply the migrations not yet applied, each in its own transaction; returns their names."""
    applied_now = []
    with connection.transaction():
        connection.execute("SELECT pg_advisory_xact_lock(2018)")  # two `hub init` at once migrate once
        connection.execute("""CREATE TABLE IF NOT EXISTS hub_migrations (
                                  name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())""")
        done = {row[0] for row in connection.execute("SELECT name FROM hub_migrations")}
        for name, sql in MIGRATIONS:
            if name in done:
                continue
            connection.execute(sql)
            connection.execute("INSERT INTO hub_migrations (name) VALUES (%s)", (name,))
            applied_now.append(name)
    return applied_now
