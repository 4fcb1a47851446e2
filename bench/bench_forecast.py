"""How good is the forecast a citizen is given at the kiosk? Simulated busy days against the real core.

Each seed builds a centre with shared counters (each serves 1–4 of 8 services) on a real SQLite file
and plays a day through the real `QueueService` with an injected clock: citizens arrive (a morning
peak, 10–20 % with a priority group), clerks call, the citizen walks up (or not: ~5 % no-shows after
two recalls), is served for a log-normal time per service, and ~3 % are transferred to another
service; each counter takes a break. The forecast given at issue (`estimated_wait_s` and the range
printed on the slip, rounded out to 5 minutes) is set against the wait that followed (first call −
issue), side by side with the old same-service estimate (people of the same service ahead ÷ open
counters serving it × mean service time). Then the cost of one forecast with 300 waiting and 12
counters, in process.

    .venv/bin/python bench/bench_forecast.py [--seeds 5] [--hours 4]
"""
from __future__ import annotations

import argparse
import heapq
import math
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import percentile, print_machine, table  # noqa: E402
from queueing import centre, forecast, store  # noqa: E402
from queueing.model import Conflict  # noqa: E402
from queueing.service import QueueService  # noqa: E402

START = 1_795_400_000.0  # a weekday morning; the absolute time does not matter here
SERVICES = [("S1", 6), ("S2", 9), ("S3", 12), ("S4", 5), ("S5", 15), ("S6", 8), ("S7", 10), ("S8", 7)]
WALK_UP_MEAN_S = 40.0
NO_SHOW_SHARE = 0.05
TRANSFER_SHARE = 0.03
CLERK_GAP_S = (5.0, 20.0)  # between finishing one citizen and pressing "next"
IDLE_POLL_S = 20.0  # an idle clerk presses "next" again this often
NO_BREAKS = False


class Clock:
    def __init__(self, now: float):
        self.now = now

    def __call__(self) -> float:
        return self.now


def centre_configuration(rng: random.Random, counters: int) -> dict:
    """8 services (mean service 5–15 min) and `counters` counters, each serving 1–4 services; every
    service has at least one counter."""
    services = [{"code": code, "name": f"Lĩnh vực {code}", "prefix": chr(ord("A") + index), "sort_order": index,
                 "default_service_s": minutes * 60, "procedures": [{"code": f"{code}-1", "name": f"Thủ tục {code}"}]}
                for index, (code, minutes) in enumerate(SERVICES)]
    codes = [code for code, _ in SERVICES]
    counter_rows = []
    for number in range(1, counters + 1):
        served = rng.sample(codes, rng.choice((1, 2, 2, 3, 4)))
        counter_rows.append({"number": number, "name": f"Quầy {number}", "services": served})
    for index, code in enumerate(codes):  # nobody's service left without a counter
        if not any(code in row["services"] for row in counter_rows):
            counter_rows[index % counters]["services"].append(code)
    return {"centre": {"id": "bench", "name": "Trung tâm mô phỏng", "timezone": "Asia/Ho_Chi_Minh",
                       "settings": {"priority_ratio": 3, "kiosk_tickets_per_minute": 100_000}},
            "services": services,
            "priority_groups": [{"code": "NCT", "name": "Người cao tuổi"}, {"code": "KT", "name": "Người khuyết tật"}],
            "counters": counter_rows}


def old_estimate(db, service_id: int, people_ahead: int) -> int:
    """The estimate the kiosk printed before the forecast: same-service people ahead shared among the
    open counters serving it, times the mean service time of its last 30 tickets."""
    serving = store.scalar(db, """SELECT COUNT(*) FROM counter_services cs JOIN counters c ON c.id = cs.counter_id
                                  WHERE cs.service_id = ? AND c.state = 'open'""", (service_id,))
    mean = store.scalar(db, """SELECT AVG(finished_at - started_at) FROM (SELECT finished_at, started_at FROM tickets
                               WHERE service_id = ? AND finished_at IS NOT NULL AND started_at IS NOT NULL
                               ORDER BY finished_at DESC LIMIT 30)""", (service_id,)) \
        or store.scalar(db, "SELECT default_service_s FROM services WHERE id = ?", (service_id,))
    return int(round(people_ahead / max(1, serving) * mean))


def same_service_ahead(db, ticket_id: str) -> int:
    return store.scalar(db, """SELECT COUNT(*) FROM tickets t, tickets me WHERE me.id = ? AND t.status = 'waiting'
                               AND t.service_id = me.service_id AND t.id != me.id
                               AND ((t.priority_group_id IS NOT NULL) > (me.priority_group_id IS NOT NULL)
                                    OR ((t.priority_group_id IS NOT NULL) = (me.priority_group_id IS NOT NULL)
                                        AND t.rowid < me.rowid))""", (ticket_id,))


def printed_range_s(range_s) -> tuple[int, int]:
    """The range as the slip prints it: minutes rounded out to multiples of 5."""
    low, high = range_s
    return 300 * math.floor(low / 300), 300 * math.ceil(high / 300)


def play_day(seed: int, hours: float, counters_count: int, folder: Path) -> list[dict]:
    """One simulated day; returns one record per ticket: forecast, range, old estimate, actual wait."""
    rng = random.Random(seed)
    path = folder / f"day-{seed}.sqlite3"
    db = store.connect(path)
    store.migrate(db)
    centre.load_configuration(db, centre_configuration(rng, counters_count), START)
    centre.create_staff(db, "bench", START)
    clock = Clock(START)
    queue = QueueService(db, "bench", clock=clock)
    service_ids = {row["code"]: row["id"] for row in store.services(db, "bench")}
    counters = store.counters(db, "bench")
    clerks = {row["id"]: store.scalar(db, "SELECT id FROM users WHERE username = ?", (f"quay{row['number']}",))
              for row in counters}
    # service times: log-normal around each service's mean, CV ~0.5
    mean_s = {code: minutes * 60 for code, minutes in SERVICES}
    sigma = math.sqrt(math.log(1 + 0.5 ** 2))

    def service_time(code: str) -> float:
        return rng.lognormvariate(math.log(mean_s[code]) - sigma ** 2 / 2, sigma)

    # each service's share of its counters' capacity, so that its queue, not only the centre's, builds up
    capacity_per_hour = {code: 0.0 for code in mean_s}
    for row in counters:
        for code in row["services"]:
            capacity_per_hour[code] += 3600 / (mean_s[code] + 90) / len(row["services"])
    priority_share = rng.uniform(0.10, 0.20)
    end = START + hours * 3600
    events: list[tuple] = []
    sequence = 0

    def at(when: float, action: str, *args) -> None:
        nonlocal sequence
        sequence += 1
        heapq.heappush(events, (when, sequence, action, args))

    # arrivals: a morning peak above capacity (queues build to tens of minutes), then below it
    for code, capacity in capacity_per_hour.items():
        moment = START
        while moment < end - 1800:
            load = 1.2 if moment - START < 0.45 * hours * 3600 else 0.75
            moment += rng.expovariate(capacity * load / 3600)
            at(moment, "arrive", code)
    for row in counters:
        at(START + rng.uniform(0, 120), "sign_in", row["id"])
        if not NO_BREAKS: at(START + rng.uniform(0.3, 0.8) * hours * 3600, "pause", row["id"])

    records: dict[str, dict] = {}
    codes = [code for code, _ in SERVICES]
    while events:
        when, _, action, args = heapq.heappop(events)
        if when > end + 6 * 3600:
            break
        clock.now = when
        if action == "arrive":
            if when >= end:
                continue
            code = args[0]
            priority = rng.choice(("NCT", "KT")) if rng.random() < priority_share else None
            ticket = queue.issue_ticket(code, priority=priority).result
            records[ticket["id"]] = {
                "issued_at": when, "forecast_s": ticket["estimated_wait_s"], "range_s": ticket["estimated_wait_range_s"],
                "old_s": old_estimate(db, service_ids[code], same_service_ahead(db, ticket["id"])),
                "called_at": None, "waiting_then": store.scalar(db, "SELECT COUNT(*) FROM tickets WHERE status = 'waiting'")}
        elif action == "sign_in":
            queue.sign_in(args[0], clerks[args[0]])
            at(when + 1, "next", args[0])
        elif action == "pause":
            at(when, "pause_when_free", args[0])
        elif action == "next":
            counter_id = args[0]
            if store.scalar(db, "SELECT state FROM counters WHERE id = ?", (counter_id,)) != "open":
                continue
            ticket = queue.call_next(counter_id, clerks[counter_id]).result["ticket"]
            if ticket is None:
                if when < end + 3600:
                    at(when + IDLE_POLL_S, "next", counter_id)
                continue
            record = records.get(ticket["id"])
            if record is not None and record["called_at"] is None:
                record["called_at"] = when
            if rng.random() < NO_SHOW_SHARE:
                at(when + 60, "recall", counter_id, ticket["id"], 1)
            else:
                at(when + rng.expovariate(1 / WALK_UP_MEAN_S), "start", counter_id, ticket["id"], ticket["service"])
        elif action == "recall":
            counter_id, ticket_id, count = args
            if count <= 2:
                queue.recall(ticket_id, counter_id, clerks[counter_id])
                at(when + 60, "recall", counter_id, ticket_id, count + 1)
            else:
                queue.no_show(ticket_id, counter_id, clerks[counter_id])
                at(when + rng.uniform(*CLERK_GAP_S), "next", counter_id)
        elif action == "start":
            counter_id, ticket_id, code = args
            queue.start(ticket_id, counter_id, clerks[counter_id])
            duration = service_time(code)
            if rng.random() < TRANSFER_SHARE:
                at(when + duration / 3, "transfer", counter_id, ticket_id, code)
            else:
                at(when + duration, "finish", counter_id, ticket_id, code)
        elif action == "transfer":
            counter_id, ticket_id, code = args
            queue.transfer(ticket_id, counter_id, clerks[counter_id], service=rng.choice([c for c in codes if c != code]))
            at(when + rng.uniform(*CLERK_GAP_S), "next", counter_id)
        elif action == "finish":
            counter_id, ticket_id, code = args
            queue.finish(ticket_id, counter_id, clerks[counter_id], f"{code}-1")
            at(when + rng.uniform(*CLERK_GAP_S), "pause_check", counter_id)
        elif action == "pause_check":
            at(when, "next", args[0])
        elif action == "pause_when_free":
            counter_id = args[0]
            busy = store.scalar(db, "SELECT current_ticket_id FROM counters WHERE id = ?", (counter_id,))
            if busy:
                at(when + 60, "pause_when_free", counter_id)
                continue
            try:
                queue.pause(counter_id, clerks[counter_id], "break")
            except Conflict:
                continue
            at(when + rng.uniform(10, 20) * 60, "resume", counter_id)
        elif action == "resume":
            queue.resume(args[0], clerks[args[0]])
            at(when + 1, "next", args[0])
    db.conn.close()
    return [record for record in records.values() if record["called_at"] is not None]


def accuracy(records: list[dict]) -> dict:
    forecast_errors, old_errors, inside = [], [], 0
    for record in records:
        actual = record["called_at"] - record["issued_at"]
        old_errors.append(abs(record["old_s"] - actual))
        if record["forecast_s"] is None:
            continue
        forecast_errors.append(abs(record["forecast_s"] - actual))
        low, high = printed_range_s(record["range_s"])
        inside += low <= actual <= high
    waits = [record["called_at"] - record["issued_at"] for record in records]
    return {"tickets": len(records), "forecasts": len(forecast_errors),
            "median_error_min": statistics.median(forecast_errors) / 60,
            "p90_error_min": percentile(forecast_errors, 90) / 60,
            "inside_pct": 100 * inside / len(forecast_errors),
            "old_median_error_min": statistics.median(old_errors) / 60,
            "old_p90_error_min": percentile(old_errors, 90) / 60,
            "wait_median_min": statistics.median(waits) / 60, "wait_max_min": max(waits) / 60,
            "most_waiting": max(record["waiting_then"] for record in records)}


def forecast_cost(waiting: int, counters_count: int, repeat: int) -> dict:
    """Time of one full forecast (the simulation) and of a newcomer's forecast, in process."""
    rng = random.Random(7)
    handling = {service: forecast.HandlingTimes(rng.uniform(300, 900), rng.uniform(1e4, 9e4)) for service in range(8)}
    tickets = [forecast.WaitingTicket(f"t{index}", rng.randrange(8), rng.random() < 0.15,
                                      rng.randrange(counters_count) if rng.random() < 0.03 else None)
               for index in range(waiting)]

    def counters():
        return [forecast.CounterNow(number, frozenset(rng.sample(range(8), rng.choice((1, 2, 3, 4)))),
                                    rng.uniform(0, 600)) for number in range(counters_count)]
    started = time.perf_counter()
    for _ in range(repeat):
        schedule = forecast.simulate(0.0, counters(), tickets, handling, 3)
    full_ms = (time.perf_counter() - started) / repeat * 1000
    started = time.perf_counter()
    for index in range(repeat * 100):
        schedule.for_new_ordinary(index % 8, 0.0)
    newcomer_us = (time.perf_counter() - started) / (repeat * 100) * 1e6
    return {"full_ms": full_ms, "newcomer_us": newcomer_us}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--hours", type=float, default=4.0, help="length of each simulated day's opening")
    parser.add_argument("--counters", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=200, help="timing repetitions of the forecast")
    arguments = parser.parse_args()
    print_machine()
    rows = []
    everything = []
    with tempfile.TemporaryDirectory(prefix="luot-forecast-") as folder:
        for seed in range(1, arguments.seeds + 1):
            records = play_day(seed, arguments.hours, arguments.counters, Path(folder))
            everything += records
            result = accuracy(records)
            rows.append((f"seed {seed}", result["tickets"], f"{result['wait_median_min']:.1f} / {result['wait_max_min']:.0f}",
                         f"{result['median_error_min']:.1f}", f"{result['p90_error_min']:.1f}",
                         f"{result['inside_pct']:.0f} %", f"{result['old_median_error_min']:.1f}",
                         f"{result['old_p90_error_min']:.1f}"))
    total = accuracy(everything)
    rows.append(("all", total["tickets"], f"{total['wait_median_min']:.1f} / {total['wait_max_min']:.0f}",
                 f"{total['median_error_min']:.1f}", f"{total['p90_error_min']:.1f}", f"{total['inside_pct']:.0f} %",
                 f"{total['old_median_error_min']:.1f}", f"{total['old_p90_error_min']:.1f}"))
    print(table("Forecast at issue against the wait that followed (minutes)", rows,
                ("day", "tickets", "wait median / max", "median error", "p90 error", "inside printed range",
                 "old median error", "old p90 error")))
    cost = forecast_cost(300, 12, arguments.repeat)
    print(table("Cost of a forecast, 300 waiting, 12 counters (in process)", [
        ("full forecast (every waiting ticket)", f"{cost['full_ms']:.2f} ms"),
        ("a newcomer's forecast from it", f"{cost['newcomer_us']:.1f} µs")], ("measure", "value")))
    improvement = total["old_p90_error_min"] / max(total["p90_error_min"], 1e-9)
    print(table("Targets", [
        ("median error ≤ 3 min", f"{total['median_error_min']:.1f} min"),
        ("p90 error ≤ 10 min", f"{total['p90_error_min']:.1f} min"),
        ("≥ 80 % inside the printed range", f"{total['inside_pct']:.0f} %"),
        ("p90 ≥ 2× better than the old estimate", f"{improvement:.1f}×"),
        ("≤ 2 ms per forecast", f"{cost['full_ms']:.2f} ms")], ("target", "result")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
