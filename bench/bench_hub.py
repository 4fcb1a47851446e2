"""The province hub at scale: 200 simulated centres ship a busy day each to a real hub on a real PostgreSQL.

    .venv/bin/python bench/bench_hub.py [--centres 200] [--tickets 1500] [--lag-seconds 60] [--speed 30] [--lag-only]

1. Lag: day 1 from 09:30 (its morning peak) is played at `--speed` times real time; each centre ships what it has
   every `--ship-every` seconds (LUOT_HUB_SHIP_EVERY_S, the centre's shipping round); an event's lag = when the hub acknowledged it − when it happened.
2. Ingest rate: every centre's whole day 2 waits to be shipped (a WAN outage over); 16 shippers send it in
   batches of 1,000 as fast as the hub takes them. The hub (all of it, gunicorn master and workers) is
   killed with SIGKILL a third of the way through and restarted; the shippers resume from the hub's answers.
   Afterwards: every event exactly once, and the hub's issued/served/no-show per centre equal to the simulation's.
3. A year: 28 simulated centre-days (4 kinds of centre × 7 weekdays, the same simulation, ingested through the
   hub's own code) are laid out as the daily and monthly summaries of every centre over the twelve months
   before this one; then `GET /api/v1/province/stats?by=centre|service|procedure` over that year is timed.

The hub runs as in deploy/luot-hub.service (gunicorn, 2 gthread workers × 8 threads) on a throwaway
PostgreSQL 15 cluster with fsync and synchronous_commit on (tests/hub_fixtures.py, durable=True).
"""
from __future__ import annotations

import argparse
import calendar
import json
import os
import queue
import random
import signal
import subprocess
import sys
import threading
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import GUNICORN, free_port, machine, percentile, table  # noqa: E402
from settings import setting  # noqa: E402
from tests.hub_fixtures import ThrowawayCluster, why_no_postgres  # noqa: E402

VN = ZoneInfo("Asia/Ho_Chi_Minh")
SERVICES = {  # code -> (procedures, mean service s, target wait s)
    "CT": (["CT-01", "CT-02", "CT-03"], 420, 900), "TP": (["TP-01", "TP-02"], 360, 900),
    "DD": (["DD-01", "DD-02"], 600, 1200), "XD": (["XD-01"], 540, 1200),
    "LD": (["LD-01", "LD-02"], 300, 600), "KD": (["KD-01", "KD-02"], 480, 900),
}
BATCH = 1000


# ---- the simulated centre day ---------------------------------------------------------------------

def simulate_day(seed: int, day: date, tickets: int) -> tuple[list[dict], dict]:
    """One centre's busy day as the shipper sends it (events in log order, seq from 1) and its own counts."""
    rng = random.Random(seed)
    opening = datetime(day.year, day.month, day.day, 7, 30, tzinfo=VN).timestamp()
    raw = []
    counts = {"issued": 0, "served": 0, "no_show": 0}
    codes = list(SERVICES)
    for number in range(tickets):
        # arrivals: a morning peak and a quieter afternoon over nine hours
        offset = rng.betavariate(2, 3.5) * 9 * 3600
        issued = opening + offset
        service = rng.choice(codes)
        procedures, mean_service, _target = SERVICES[service]
        ticket = f"s{seed}-{day:%m%d}-{number}"
        local_day, hour = day.isoformat(), datetime.fromtimestamp(issued, VN).hour
        counter = str(rng.randint(1, 8))

        def add(at, kind, to, detail=None, counter_code=None):
            event = {"ticket": ticket, "at": round(at, 3), "kind": kind, "to": to, "day": local_day, "hour": hour,
                     "for": service, "service": service, "counter": counter_code}
            if detail:
                event["detail"] = detail
            raw.append(event)

        counts["issued"] += 1
        add(issued, "issued", "waiting")
        called = issued + rng.expovariate(1 / (300 + 900 * (1 - abs(offset / 32400 - 0.35))))
        add(called, "called", "called", counter_code=counter)
        if rng.random() < 0.07:
            add(called + 60, "recalled", "called", counter_code=counter)
            add(called + 120, "no_show", "no_show", counter_code=counter)
            counts["no_show"] += 1
            continue
        started = called + rng.uniform(15, 90)
        add(started, "started", "serving", counter_code=counter)
        finished = started + rng.lognormvariate(0, 0.5) * mean_service
        procedure = rng.choice(procedures)
        add(finished, "finished", "done", {"procedures": [procedure]}, counter)
        counts["served"] += 1
        if rng.random() < 0.4:
            add(finished + 20, "rated", "done", {"score": rng.choice((1, 2, 2, 3, 3, 3))}, counter)
        if rng.random() < 0.3:
            dossier = f"{ticket}-hs"
            due = day + timedelta(days=rng.randint(0, 10))
            add(finished + 1, "dossier_received", "done",
                {"dossier": dossier, "procedure": procedure, "due_date": due.isoformat(), "fee": 0}, counter)
            if due == day or rng.random() < 0.3:
                add(finished + rng.uniform(600, 3600), "dossier_ready", "done", {"dossier": dossier}, counter)
    raw.sort(key=lambda event: event["at"])
    for seq, event in enumerate(raw, start=1):
        event["seq"] = seq
    return raw, counts


def header() -> dict:
    return {"centre": {"timezone": "Asia/Ho_Chi_Minh"},
            "services": {code: {"name": f"Lĩnh vực {code}", "target_wait_s": target}
                         for code, (_p, _m, target) in SERVICES.items()},
            "procedures": {p: {"name": f"Thủ tục {p}", "service": code}
                           for code, (procedures, _m, _t) in SERVICES.items() for p in procedures},
            "live": {"waiting": 0, "longest_wait_s": 0, "open_counters": 8}}


# ---- the hub --------------------------------------------------------------------------------------

class Hub:
    """The hub as deployed: gunicorn with gthread workers, in its own process group (killed whole)."""

    def __init__(self, database_url: str, folder: Path):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {**os.environ, "LUOT_HUB_DATABASE_URL": database_url, "LUOT_INSTANCE": str(folder),
                    "LUOT_SECRET_KEY": "bench"}
        self.process = None

    def start(self) -> "Hub":
        self.process = subprocess.Popen(
            [GUNICORN, "-k", "gthread", "--workers", "2", "--threads", "8", "--bind", f"127.0.0.1:{self.port}",
             "--timeout", "120", "hub.app:create_hub_app()"],
            cwd=ROOT, env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                if requests.get(self.url + "/province/sign-in", timeout=2).status_code == 200:
                    return self
            except requests.RequestException:
                time.sleep(0.2)
        raise SystemExit("the hub did not start")

    def kill(self) -> None:
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=30)


class CentreShipper:
    """One simulated centre's shipping: the same protocol as queueing/shipping.py (after/through/acked)."""

    def __init__(self, hub: Hub, token: str):
        self.hub = hub
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {token}"
        self.acked: int | None = None

    def send(self, events: list[dict], through: int) -> int:
        """Send events (sorted by seq) after the hub's cursor up to `through`, in batches; returns the new cursor."""
        if self.acked is None:
            self.acked = self.session.get(self.hub.url + "/api/v1/province/ingest", timeout=30).json()["acked"]
        while True:
            first = _first_after(events, self.acked)
            todo = [event for event in events[first:first + BATCH] if event["seq"] <= through]
            last = todo[-1]["seq"] if todo and len(todo) == BATCH else through
            body = json.dumps({"after": self.acked, "through": last, "events": todo, **header()}, ensure_ascii=False)
            answer = self.session.post(self.hub.url + "/api/v1/province/ingest", data=body.encode(),
                                       headers={"Content-Type": "application/json"}, timeout=120)
            if answer.status_code == 409:
                self.acked = answer.json()["acked"]
                continue
            answer.raise_for_status()
            self.acked = answer.json()["acked"]
            if self.acked >= through:
                return self.acked


def _first_after(events: list[dict], seq: int) -> int:
    """The index of the first event with a sequence above `seq` (events sorted by seq)."""
    low, high = 0, len(events)
    while low < high:
        middle = (low + high) // 2
        if events[middle]["seq"] <= seq:
            low = middle + 1
        else:
            high = middle
    return low


# ---- phases ---------------------------------------------------------------------------------------

def lag_phase(hub: Hub, shippers: list[CentreShipper], days: list[list[dict]], speed: float, seconds: float,
              start_at: float, ship_every_s: float):
    """Play `seconds × speed` seconds of the day from `start_at` (the morning peak) at `speed`; each centre ships
    every second. What happened before `start_at` is shipped first, unmeasured."""
    opening = start_at
    for shipper, events in zip(shippers, days):
        before = [event for event in events if event["at"] <= opening]
        if before:
            shipper.send(before, before[-1]["seq"])
    started = time.time()
    lags: list[float] = []
    lock = threading.Lock()
    sent_total = [0]
    errors = []

    def run(index: int) -> None:
        events, shipper = days[index], shippers[index]
        position = sum(1 for event in events if event["at"] <= opening)
        time.sleep(random.Random(index).uniform(0, ship_every_s))  # centres' rounds are not in step
        while True:
            now = time.time()
            horizon = opening + (now - started) * speed
            end = position
            while end < len(events) and events[end]["at"] <= horizon:
                end += 1
            if end > position:
                try:
                    shipper.send(events, events[end - 1]["seq"])
                except requests.RequestException as error:
                    errors.append(repr(error))
                    return
                acked_at = time.time()
                with lock:
                    lags.extend(acked_at - (started + (event["at"] - opening) / speed) for event in events[position:end])
                    sent_total[0] += end - position
                position = end
            if now - started >= seconds:
                return
            time.sleep(max(0.0, ship_every_s - (time.time() - now)))

    threads = [threading.Thread(target=run, args=(index,)) for index in range(len(days))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.time() - started
    return {"events": sent_total[0], "elapsed": elapsed, "lags": lags, "errors": errors}


def ingest_phase(hub: Hub, shippers: list[CentreShipper], days: list[list[dict]], kill_at: float, workers: int = 16):
    """Every centre's whole day shipped at once by `workers` shippers; the hub killed -9 at `kill_at` of it."""
    total = sum(len(day) for day in days)
    todo: queue.Queue = queue.Queue()
    for index in range(len(days)):
        todo.put(index)
    done_events = [0]
    lock = threading.Lock()
    killed = threading.Event()
    restarted = threading.Event()
    retries = [0]

    def worker() -> None:
        while True:
            try:
                index = todo.get_nowait()
            except queue.Empty:
                return
            events, shipper = days[index], shippers[index]
            while True:
                try:
                    before = shipper.acked or 0
                    shipper.send(events, events[-1]["seq"])
                    with lock:
                        done_events[0] += len([e for e in events if e["seq"] > before])
                    break
                except (requests.RequestException, ValueError, KeyError):
                    with lock:
                        retries[0] += 1
                    shipper.acked = None  # ask the hub where it stands, as the real shipper does
                    restarted.wait(timeout=60)
                    time.sleep(0.2)

    started = time.time()
    threads = [threading.Thread(target=worker) for _ in range(workers)]
    for thread in threads:
        thread.start()
    downtime = 0.0
    while any(thread.is_alive() for thread in threads):
        time.sleep(0.05)
        if not killed.is_set() and done_events[0] >= kill_at * total:
            killed.set()
            down = time.time()
            hub.kill()
            hub.start()
            downtime = time.time() - down
            restarted.set()
    elapsed = time.time() - started
    return {"events": total, "elapsed": elapsed, "downtime": downtime, "retries": retries[0],
            "killed": killed.is_set()}


def build_year(conn, templates_conn, centre_ids: list[int], tickets: int, year_months: list[date]) -> dict:
    """Lay out a year of daily and monthly summaries for every centre from 28 simulated, ingested centre-days."""
    from hub import store
    groups = 4
    template_rows: dict[tuple[int, int], list] = {}
    monday = date(2026, 11, 2)
    started = time.time()
    for group in range(groups):
        for weekday in range(7):
            count = 0 if weekday == 6 else tickets * 2 // 5 if weekday == 5 else tickets
            if not count:
                template_rows[(group, weekday)] = []
                continue
            day = monday + timedelta(days=weekday)
            events, _counts = simulate_day(10_000 + group * 7 + weekday, day, count)
            token = store.add_centre(templates_conn, f"T{group}-{weekday}", "template")
            centre_id = store.centre_of_token(templates_conn, token)[0]
            for first in range(0, len(events), BATCH):
                chunk = events[first:first + BATCH]
                store.ingest(templates_conn, centre_id, {"after": chunk[0]["seq"] - 1, "through": chunk[-1]["seq"],
                                                         "events": chunk, **header()}, time.time())
            template_rows[(group, weekday)] = templates_conn.execute(
                """SELECT service, procedure, counts, sums, wait_hist, service_hist FROM daily
                   WHERE centre_id = %s AND day = %s""", (centre_id, day)).fetchall()
    simulated = time.time() - started
    from hub.figures import add_into, pack_histogram, unpack_histogram
    daily_rows = monthly_rows = 0
    started = time.time()
    with conn.cursor() as cursor:
        for month in year_months:
            days = [month + timedelta(days=i) for i in range(calendar.monthrange(month.year, month.month)[1])]
            for group in range(groups):
                monthly: dict[tuple, list] = {}
                for day in days:
                    for service, procedure, counts, sums, wait, service_hist in template_rows[(group, day.weekday())]:
                        total = monthly.setdefault((service, procedure), [[], [], [], []])
                        for position, values in enumerate((counts, sums, unpack_histogram(wait),
                                                           unpack_histogram(service_hist))):
                            add_into(total[position], values)
                members = [cid for index, cid in enumerate(centre_ids) if index % groups == group]
                with cursor.copy("COPY monthly (centre_id, month, service, procedure, counts, sums, wait_hist, "
                                 "service_hist) FROM STDIN") as copy:
                    for centre_id in members:
                        for (service, procedure), (counts, sums, wait, service_hist) in monthly.items():
                            copy.write_row((centre_id, month, service, procedure, counts, sums,
                                            pack_histogram(wait), pack_histogram(service_hist)))
                            monthly_rows += 1
                with cursor.copy("COPY daily (centre_id, day, service, procedure, counts, sums, wait_hist, "
                                 "service_hist) FROM STDIN") as copy:
                    for centre_id in members:
                        for day in days:
                            for row in template_rows[(group, day.weekday())]:
                                copy.write_row((centre_id, day, *row))
                                daily_rows += 1
    conn.execute("ANALYZE daily")
    conn.execute("ANALYZE monthly")
    return {"simulated_s": simulated, "copied_s": time.time() - started, "daily_rows": daily_rows,
            "monthly_rows": monthly_rows}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--centres", type=int, default=200)
    parser.add_argument("--tickets", type=int, default=1500, help="tickets per centre per day")
    parser.add_argument("--lag-seconds", type=float, default=60)
    parser.add_argument("--speed", type=float, default=30, help="day 1 is played this many times real time")
    parser.add_argument("--ship-every", type=float, default=float(setting("LUOT_HUB_SHIP_EVERY_S")),
                        help="seconds between a centre's shipping rounds (default: LUOT_HUB_SHIP_EVERY_S's)")
    parser.add_argument("--no-year", action="store_true", help="skip the year of summaries")
    parser.add_argument("--lag-only", action="store_true", help="only the lag phase (no ingest phase, no year)")
    args = parser.parse_args()
    reason = why_no_postgres()
    if reason:
        raise SystemExit(reason)
    import psycopg
    from hub import schema, store
    cluster = ThrowawayCluster(durable=True).start()
    hub = None
    try:
        url = cluster.create_database()
        with psycopg.connect(url, autocommit=True) as conn:
            schema.migrate(conn)
            store.init_partitions(conn, date.today())
            tokens = [store.add_centre(conn, f"C{index:03d}", f"Trung tâm {index:03d}") for index in range(args.centres)]
            centre_ids = [row[0] for row in conn.execute("SELECT id FROM centres ORDER BY code")]
        hub = Hub(url, cluster.folder).start()
        shippers = [CentreShipper(hub, token) for token in tokens]
        today = datetime.now(VN).date()
        day1, day2 = today - timedelta(days=1), today
        print(f"simulating {args.centres} centres × {args.tickets} tickets × 2 days …", flush=True)
        first_days = [simulate_day(index, day1, args.tickets) for index in range(args.centres)]
        second_days = [simulate_day(100_000 + index, day2, args.tickets) for index in range(args.centres)]
        per_day = sum(len(events) for events, _ in first_days)
        print(f"{per_day:,} events a day; lag phase ({args.lag_seconds:.0f} s at ×{args.speed:.0f}) …", flush=True)
        peak = datetime(day1.year, day1.month, day1.day, 9, 30, tzinfo=VN).timestamp()
        lag = lag_phase(hub, shippers, [events for events, _ in first_days], args.speed, args.lag_seconds, peak,
                        args.ship_every)
        if args.lag_only:
            lags = sorted(lag["lags"])
            print(table("bench_hub.py --lag-only", [
                ("centres × tickets/day", f"{args.centres} × {args.tickets}"),
                ("lag phase: events shipped", f"{lag['events']:,} in {lag['elapsed']:.0f} s at ×{args.speed:.0f} "
                                             f"({lag['events'] / lag['elapsed']:,.0f} events/s offered), each centre "
                                             f"every {args.ship_every:g} s"),
                ("lag p50 / p99 / max (s)", f"{percentile(lags, 50):.2f} / {percentile(lags, 99):.2f} / "
                                            f"{lags[-1]:.2f}" if lags else "—"),
                ("lag phase errors", str(len(lag["errors"])))], ("figure", "value")))
            print(f"machine: {machine()}")
            return 0 if not lag["errors"] else 1
        # the rest of day 1 reaches the hub before day 2, as a centre's log would
        for shipper, (events, _) in zip(shippers, first_days):
            shipper.send(events, events[-1]["seq"])
        # day 2's seq continue after day 1's in each centre's log
        second = []
        for (events1, _), (events2, counts2) in zip(first_days, second_days):
            offset = events1[-1]["seq"]
            second.append([{**event, "seq": event["seq"] + offset} for event in events2])
        print("ingest phase (whole day 2 at once, hub killed -9 at a third) …", flush=True)
        ingest = ingest_phase(hub, shippers, second, kill_at=1 / 3)
        # exactly once: events and the day's counts per centre
        with psycopg.connect(url, autocommit=True) as conn:
            stored = conn.execute("SELECT COUNT(*) FROM events").fetchone()[0]
        expected = sum(len(events) for events, _ in first_days) + sum(len(events) for events in second)
        manager = {}
        with psycopg.connect(url, autocommit=True) as conn:
            manager = {"Authorization": f"Bearer {store.add_manager_token(conn, 'bench')}"}
        mismatches = 0
        for day, simulated in ((day1, first_days), (day2, second_days)):
            rows = requests.get(hub.url + "/api/v1/province/stats", params={"from": day, "to": day, "by": "centre"},
                                headers=manager, timeout=120).json()["rows"]
            by_code = {row["key"]: row for row in rows}
            for index, (_events, counts) in enumerate(simulated):
                row = by_code[f"C{index:03d}"]
                if (row["issued"], row["served"], row["no_show"]) != (counts["issued"], counts["served"],
                                                                      counts["no_show"]):
                    mismatches += 1
        year = None
        if not args.no_year:
            print("building a year of summaries …", flush=True)
            this_month = today.replace(day=1)
            months = []
            month = this_month
            for _ in range(12):
                month = (month - timedelta(days=1)).replace(day=1)
                months.append(month)
            months.reverse()
            templates_url = cluster.create_database()
            with psycopg.connect(url, autocommit=True) as conn, psycopg.connect(templates_url, autocommit=True) as tconn:
                schema.migrate(tconn)
                built = build_year(conn, tconn, centre_ids, args.tickets, months)
            first, last = months[0], this_month - timedelta(days=1)
            timings = {}
            for by in ("centre", "service", "procedure"):
                runs = []
                for _ in range(5):
                    began = time.perf_counter()
                    answer = requests.get(hub.url + "/api/v1/province/stats",
                                          params={"from": first, "to": last, "by": by}, headers=manager, timeout=120)
                    runs.append(time.perf_counter() - began)
                    assert answer.status_code == 200, answer.text
                timings[by] = runs
            began = time.perf_counter()
            rolling = requests.get(hub.url + "/api/v1/province/stats", headers=manager, timeout=120,
                                   params={"from": today - timedelta(days=364), "to": today, "by": "centre"})
            rolling_s = time.perf_counter() - began
            year = {"built": built, "timings": timings, "rolling_s": rolling_s, "range": (first, last),
                    "rows": len(rolling.json()["rows"])}
        lags = sorted(lag["lags"])
        print()
        print(f"machine: {machine()}")
        print("PostgreSQL 15 (Debian), fsync on, synchronous_commit on; hub: gunicorn 2 gthread workers × 8 threads; "
              "clients in this process, same 2 cores")
        rows = [
            ("centres × tickets/day", f"{args.centres} × {args.tickets}"),
            ("events per day (all centres)", f"{per_day:,}"),
            ("lag phase: events shipped", f"{lag['events']:,} in {lag['elapsed']:.0f} s at ×{args.speed:.0f} "
                                         f"({lag['events'] / lag['elapsed']:,.0f} events/s offered), each centre "
                                         f"every {args.ship_every:g} s"),
            ("lag p50 / p99 / max (s)", f"{percentile(lags, 50):.2f} / {percentile(lags, 99):.2f} / {lags[-1]:.2f}"
             if lags else "—"),
            ("lag phase errors", str(len(lag["errors"]))),
            ("ingest: events (whole day 2)", f"{ingest['events']:,}"),
            ("ingest: elapsed incl. kill -9 + restart", f"{ingest['elapsed']:.1f} s (hub down {ingest['downtime']:.1f} s)"),
            ("ingest rate (events/s)", f"{ingest['events'] / ingest['elapsed']:,.0f} incl. restart; "
                                       f"{ingest['events'] / max(0.001, ingest['elapsed'] - ingest['downtime']):,.0f} "
                                       f"excl. downtime"),
            ("shipper retries after the kill", str(ingest["retries"])),
            ("events stored / sent (exactly once)", f"{stored:,} / {expected:,}"),
            ("centres whose issued/served/no-show differ", str(mismatches)),
        ]
        if year:
            built = year["built"]
            rows += [
                ("year: summary rows (daily / monthly)", f"{built['daily_rows']:,} / {built['monthly_rows']:,} "
                                                         f"({built['simulated_s']:.0f} s simulating, "
                                                         f"{built['copied_s']:.0f} s writing)"),
            ]
            for by, runs in year["timings"].items():
                rows.append((f"year {year['range'][0]}..{year['range'][1]} by={by} (5 runs, s)",
                             f"median {sorted(runs)[2]:.3f}, max {max(runs):.3f}"))
            rows.append(("rolling year to today by=centre (s)", f"{year['rolling_s']:.3f}"))
        print(table("bench_hub.py", rows, ("figure", "value")))
        return 0 if stored == expected and mismatches == 0 and not lag["errors"] else 1
    finally:
        if hub:
            hub.stop()
        cluster.stop()


if __name__ == "__main__":
    sys.exit(main())
