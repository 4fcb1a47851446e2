"""Time every statistics breakdown on a year of a busy provincial centre (≈300,000 tickets).

Builds a temporary database whose rows have exactly the shape QueueService writes (tickets,
ticket_events with the same kinds, statuses and JSON details, ticket_procedures, ratings, ticket
numbers), written directly with executemany because replaying a year through the core would take
too long. Then prints how long each figure takes for the whole year and for the last month.

    .venv/bin/python bench/bench_stats.py [--tickets 300000] [--keep PATH]

Prints figures only; it asserts nothing (a benchmark, not a test).
"""
from __future__ import annotations

import argparse
import os
import random
import secrets
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from queueing import centre, stats, store  # noqa: E402
from queueing.demo_history import (SERVICE_MINUTES, SERVICE_SHARES, TRANSFER_TO, WEEKDAY_PROFILE,  # noqa: E402
                                   WEEKDAY_VOLUME)
from queueing.numbering import format_ticket_number  # noqa: E402

COUNTER_COPIES = 4  # the demo's six kinds of counter, four of each: 24 counters
CLERKS_PER_COUNTER = 2  # two shifts alternating by day
# Mean wait in minutes by local hour of issue: queues build up through the morning.
MEAN_WAIT_MINUTES = {7: 5, 8: 14, 9: 24, 10: 28, 11: 18, 13: 7, 14: 11, 15: 14, 16: 9}
REPEATS = 5


def build(path: Path, tickets_per_year: int, seed: int = 1) -> dict:
    """A year of tickets ending today (today's morning included) in a new database at `path`."""
    rng = random.Random(seed)
    db = store.connect(path)
    store.migrate(db)
    config = centre.demo_configuration()
    base_counters = config["counters"]
    config["counters"] = [{**counter, "number": copy * len(base_counters) + index + 1,
                           "name": counter["name"].replace(f"Quầy {counter['number']}",
                                                           f"Quầy {copy * len(base_counters) + index + 1}")}
                          for copy in range(COUNTER_COPIES) for index, counter in enumerate(base_counters)]
    centre.load_configuration(db, config, time.time())
    tz = ZoneInfo("Asia/Ho_Chi_Minh")
    # The build only: speed over durability for a throw-away file.
    db.conn.execute("PRAGMA synchronous = OFF")
    db.conn.execute("PRAGMA cache_size = -200000")

    services = {row["code"]: row for row in store.services(db, centre.DEMO_CENTRE_ID)}
    procedures: dict[str, list[dict]] = {}
    for row in store.procedures(db, centre.DEMO_CENTRE_ID):
        procedures.setdefault(row["service_code"], []).append(row)
    counters = store.counters(db, centre.DEMO_CENTRE_ID)
    with store.transaction(db):
        clerks = {}
        for counter in counters:
            for shift in range(CLERKS_PER_COUNTER):
                clerks[(counter["id"], shift)] = store.insert(db, "users", {
                    "centre_id": centre.DEMO_CENTRE_ID, "username": f"quay{counter['number']}-{shift + 1}",
                    "display_name": f"Cán bộ quầy {counter['number']} ca {shift + 1}", "role": "clerk",
                    "password_hash": "!bench", "created_at": time.time()})
    counters_of = {code: [c["id"] for c in counters if code in c["services"]] for code in services}
    codes = [code for code in services if counters_of[code]]
    shares = [SERVICE_SHARES.get(code, 10) for code in codes]

    today = datetime.now(tz).date()
    first = today - timedelta(days=365)
    calendar = [first + timedelta(days=offset) for offset in range(366)]
    open_days = [day for day in calendar if day.weekday() in WEEKDAY_VOLUME]
    volume = sum(WEEKDAY_VOLUME[day.weekday()] for day in open_days)
    per_unit = tickets_per_year / volume
    totals = {"tickets": 0, "events": 0, "procedures": 0}
    batch: dict[str, list] = {"tickets": [], "events": [], "procedures": [], "sequences": []}

    def flush():
        with store.transaction(db):
            db.conn.executemany(f"INSERT INTO tickets ({', '.join(TICKET_FIELDS)}) VALUES "
                                f"({', '.join('?' for _ in TICKET_FIELDS)})", batch["tickets"])
            db.conn.executemany("INSERT INTO ticket_procedures (ticket_id, procedure_id, counter_id, clerk_id) "
                                "VALUES (?, ?, ?, ?)", batch["procedures"])
            db.conn.executemany("""INSERT INTO ticket_events (centre_id, ticket_id, at, kind, from_status, to_status,
                                   service_id, counter_id, clerk_id, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                                batch["events"])
            db.conn.executemany("INSERT INTO ticket_sequences VALUES (?, ?, ?, ?)", batch["sequences"])
        for key in totals:
            totals[key] += len(batch[key])
        for rows in batch.values():
            rows.clear()

    for day in open_days:
        profile = WEEKDAY_PROFILE[:5] if day.weekday() == 5 else WEEKDAY_PROFILE
        midnight = datetime(day.year, day.month, day.day, tzinfo=tz).timestamp()
        count = round(per_unit * WEEKDAY_VOLUME[day.weekday()] * rng.uniform(0.9, 1.1))
        if day == today:
            count //= 3  # today: the morning so far
            profile = profile[:3]
        weights = [(end - start) * rate for start, end, rate in profile]
        arrivals = []
        for _ in range(count):
            start, end, _rate = rng.choices(profile, weights)[0]
            arrivals.append((midnight + rng.uniform(start, end) * 60, rng.choices(codes, shares)[0]))
        arrivals.sort()
        sequences: dict[str, int] = {}
        for issued_at, code in arrivals:
            sequences[code] = sequences.get(code, 0) + 1
            _ticket(rng, batch, day, issued_at, code, sequences[code], services, procedures, counters_of, clerks, tz,
                    live=(day == today))
        batch["sequences"].extend((centre.DEMO_CENTRE_ID, services[code]["id"], day.isoformat(), last)
                                  for code, last in sequences.items())
        if len(batch["events"]) > 200_000:
            flush()
    flush()
    db.conn.execute("PRAGMA synchronous = FULL")
    db.conn.execute("ANALYZE")
    db.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.conn.close()
    return {**totals, "first": first, "today": today}


TICKET_FIELDS = ("id", "centre_id", "number_service_id", "local_day", "sequence", "number", "service_id",
                 "priority_group_id", "status", "issued_at", "local_hour", "queue_at", "first_called_at", "called_at",
                 "started_at", "finished_at", "counter_id", "clerk_id", "recall_count", "lang", "rating", "is_demo")


def _ticket(rng, batch, day, issued_at, code, sequence, services, procedures, counters_of, clerks, tz, live):
    """One ticket's row, procedures and events, in the order and shape QueueService writes them."""
    ticket_id = secrets.token_urlsafe(12)
    service = services[code]
    hour = datetime.fromtimestamp(issued_at, tz).hour
    events = [(issued_at, "issued", None, "waiting", service["id"], None, None, None)]
    now = issued_at + rng.expovariate(1 / (MEAN_WAIT_MINUTES.get(hour, 10) * 60))
    if live and now > issued_at + 1800:
        # today's latest tickets are still waiting
        batch["tickets"].append((ticket_id, centre.DEMO_CENTRE_ID, service["id"], day.isoformat(), sequence,
                                 format_ticket_number(service["prefix"], sequence), service["id"], None, "waiting",
                                 issued_at, hour, issued_at, None, None, None, None, None, None, 0, "vi", None, 0))
        batch["events"].extend(_event_rows(ticket_id, events))
        return
    current = code
    first_called = called = started = finished = None
    counter = clerk = None
    recalls = 0
    status = "waiting"
    transfers_left = 1 if rng.random() < 0.03 and TRANSFER_TO.get(code) in services else 0
    while True:
        counter = rng.choice(counters_of[current])
        clerk = clerks[(counter, day.toordinal() % CLERKS_PER_COUNTER)]
        called = now
        first_called = first_called or now
        events.append((now, "called", "waiting", "called", services[current]["id"], counter, clerk, None))
        recalls = 0
        draw = rng.random()
        if draw < 0.045:
            for recall in range(rng.choice((1, 2))):
                now += rng.uniform(50, 70)
                recalls += 1
                called = now
                events.append((now, "recalled", "called", "called", services[current]["id"], counter, clerk,
                               {"recall": recalls}))
            now += rng.uniform(50, 70)
            events.append((now, "no_show", "called", "no_show", services[current]["id"], counter, clerk, None))
            status, finished = "no_show", now
            break
        if draw < 0.115:
            now += rng.uniform(50, 70)
            recalls = 1
            called = now
            events.append((now, "recalled", "called", "called", services[current]["id"], counter, clerk, {"recall": 1}))
        now += rng.uniform(20, 90)
        started = now
        events.append((now, "started", "called", "serving", services[current]["id"], counter, clerk, None))
        low, high = SERVICE_MINUTES.get(current, (5, 10))
        duration = 60 * rng.triangular(low, high, low + (high - low) * 0.35)
        if transfers_left:
            transfers_left -= 1
            now += duration * 0.3
            target = TRANSFER_TO[current]
            events.append((now, "transferred", "serving", "waiting", services[target]["id"], counter, clerk,
                           {"to_service": target, "to_counter": None}))
            current = target
            started = None
            now += rng.uniform(60, 600)
            continue
        now += duration
        wanted = min(len(procedures[current]), rng.choices((1, 2, 3), (80, 16, 4))[0])
        chosen = rng.sample(procedures[current], wanted)
        batch["procedures"].extend((ticket_id, row["id"], counter, clerk) for row in chosen)
        events.append((now, "finished", "serving", "done", services[current]["id"], counter, clerk,
                       {"procedures": [row["code"] for row in chosen]}))
        status, finished = "done", now
        break
    rating = None
    if status == "done" and rng.random() < 0.4:
        rating = rng.choices((1, 2, 3), (5, 25, 70))[0]
        events.append((now + rng.uniform(3, 20), "rated", "done", "done", services[current]["id"], counter, clerk,
                       {"score": rating}))
    batch["tickets"].append((ticket_id, centre.DEMO_CENTRE_ID, service["id"], day.isoformat(), sequence,
                             format_ticket_number(service["prefix"], sequence), services[current]["id"], None, status,
                             issued_at, hour, issued_at, first_called, called, started, finished, counter, clerk,
                             recalls, "vi", rating, 0))
    batch["events"].extend(_event_rows(ticket_id, events))


def _event_rows(ticket_id, events):
    return [(centre.DEMO_CENTRE_ID, ticket_id, at, kind, from_status, to_status, service_id, counter_id, clerk_id,
             store.dumps(detail) if detail else None)
            for at, kind, from_status, to_status, service_id, counter_id, clerk_id, detail in events]


def timed(call, repeats: int = REPEATS) -> tuple[float, float]:
    """Median wall time and median CPU time of a call, in milliseconds."""
    walls, cpus = [], []
    for _ in range(repeats):
        started, cpu = time.perf_counter(), time.process_time()
        call()
        walls.append((time.perf_counter() - started) * 1000)
        cpus.append((time.process_time() - cpu) * 1000)
    return statistics.median(walls), statistics.median(cpus)


def from_the_log(db, call):
    """Run a call inside a transaction: no stored summary is read back or kept, every day replays the log."""
    saved = store.all_rows(db, "SELECT * FROM stats_days")
    db.conn.execute("BEGIN")
    try:
        db.conn.execute("DELETE FROM stats_days")
        return call()
    finally:
        db.conn.execute("ROLLBACK")
        assert len(saved) == store.scalar(db, "SELECT COUNT(*) FROM stats_days")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=300_000)
    parser.add_argument("--keep", type=Path, help="build (or reuse) the database at this path instead of a temp dir")
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        path = arguments.keep or Path(folder) / "bench.sqlite3"
        started = time.perf_counter()
        if not path.exists():
            built = build(path, arguments.tickets)
            print(f"built {built['tickets']:,} tickets, {built['events']:,} events, {built['procedures']:,} "
                  f"procedures in {time.perf_counter() - started:.0f} s ({path.stat().st_size / 1e6:.0f} MB)")
        db = store.connect(path)
        tz = ZoneInfo("Asia/Ho_Chi_Minh")
        today = datetime.now(tz).date()
        year = (today - timedelta(days=365), today)
        month = (today - timedelta(days=30), today)
        now = time.time()
        centre_id = centre.DEMO_CENTRE_ID
        tickets = store.scalar(db, "SELECT COUNT(*) FROM tickets")
        print(f"{tickets:,} tickets, {store.scalar(db, 'SELECT COUNT(*) FROM ticket_events'):,} events; "
              f"year {year[0]}..{year[1]}, month {month[0]}..{month[1]} (today is replayed from the log every time)")

        started = time.perf_counter()
        built_days = stats.refresh(db, centre_id, tz, *year)
        stored = store.scalar(db, "SELECT SUM(length(counts) + length(waits) + length(services) + length(walks)) "
                                  "FROM stats_daily") or 0
        print(f"one-time build of the daily summaries: {built_days} days in {time.perf_counter() - started:.1f} s "
              f"({stored / 1e6:.0f} MB stored)")

        figures = [(by, lambda span, by=by: stats.compute(db, centre_id, tz, *span, by)) for by in stats.BREAKDOWNS]
        figures += [
            ("summary", lambda span: stats.summary(db, centre_id, tz, *span)),
            ("today_kpis", lambda span: stats.today_kpis(db, centre_id, tz, now)),
            ("histogram", lambda span: stats.wait_histogram(db, centre_id, tz, *span)),
            ("hourly_arrivals_served", lambda span: stats.hourly_arrivals_served(db, centre_id, tz, *span)),
        ]
        print()
        print(f"load average before timing: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
        # CPU time is shown too: on a shared machine the wall clock also counts other processes.
        print(f"{'figure':<24}{'year ms':>9}{'(cpu)':>7}{'month ms':>10}{'(cpu)':>7}{'month, log only ms':>20}")
        print("-" * 77)
        for name, call in figures:
            year_wall, year_cpu = timed(lambda: call(year))
            month_wall, month_cpu = timed(lambda: call(month))
            log_wall, _ = timed(lambda: from_the_log(db, lambda: call(month)), repeats=1)
            print(f"{name:<24}{year_wall:>9.0f}{year_cpu:>7.0f}{month_wall:>10.0f}{month_cpu:>7.0f}{log_wall:>20.0f}")
        journal_wall, journal_cpu = timed(lambda: sum(1 for _ in stats.ticket_journal(db, centre_id, tz, *month)),
                                          repeats=1)
        print(f"{'ticket_journal (stream)':<24}{'':>16}{journal_wall:>10.0f}{journal_cpu:>7.0f}")
        print(f"load average after timing: {os.getloadavg()[0]:.1f}")
        print(f"median of {REPEATS} runs with the daily summaries in place; 'log only' replays every day of the "
              "month from ticket_events (what a first request after a change pays)")
        db.conn.close()


if __name__ == "__main__":
    main()
