"""A simulated busy day at accelerated time: server CPU and peak memory (RSS).

Starts the real server with the production command on a loopback port and plays one working day
(07:30–16:30 with a lunch dip) of a centre with 8 counters, `--speed` times faster than real time:
1,000 citizens arrive (more in the morning), take a ticket at one of 4 kiosks for a service chosen
with realistic weights; 8 clerks sign in and loop call-next → (recall, no-show for ~7 %) → start →
finish with a procedure of the ticket's service (a few transfer to another counter's service);
10 hall displays, 2 manager monitors and the 8 counter panels are connected over WebSocket, and
some citizens follow their ticket on a phone (Socket.IO `track`). At the end every ticket must be
done or no-show, every display must have heard every call, and no request may have failed.

Server CPU is user+system time of gunicorn's worker (/proc/<pid>/stat); peak RSS is the kernel's
high-water mark of its resident memory (VmHWM), i.e. the true peak, not a sample.

    .venv/bin/python bench/bench_day.py [--tickets 1000] [--counters 8] [--speed 300]
"""
from __future__ import annotations

import argparse
import math
import multiprocessing
import queue
import random
import sys
import threading
import time
from collections import Counter, defaultdict
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import (ROOT, connect_screens, die_with_parent, prepare_instance, print_machine,  # noqa: E402
                    ProcessMeter, scratch_folder, Screen, Server, summary_ms, table)

# Share of tickets per service on a busy day (justice/civil status and certification dominate).
SERVICE_WEIGHTS = {"TP": 30, "CT": 22, "CA_CT": 10, "CA_CC": 8, "DD": 8, "XD": 3, "KD": 6, "BTXH": 4,
                   "LLTP": 4, "GT": 3, "BHXH": 2}
DAY_START_H, DAY_END_H = 7.5, 16.5
NO_SHOW_SHARE, TRANSFER_SHARE, PRIORITY_SHARE, TRACKING_SHARE = 0.07, 0.03, 0.08, 0.05
MEAN_SERVICE_S, WALK_S = 200.0, 45.0  # day seconds


def arrival_rate(hour: float) -> float:
    """Relative arrivals by hour of day: a morning peak, a lunch dip, a smaller afternoon peak."""
    if 11.5 <= hour < 13.0:
        return 0.25
    morning = math.exp(-((hour - 8.75) ** 2) / 1.2)
    afternoon = 0.6 * math.exp(-((hour - 14.0) ** 2) / 1.0)
    return 0.15 + morning + afternoon


def arrival_times(count: int, chooser: random.Random) -> list[float]:
    """`count` arrival moments (day seconds from opening) drawn from the daily profile."""
    grid = [DAY_START_H + i / 60 for i in range(int((DAY_END_H - DAY_START_H) * 60))]
    weights = [arrival_rate(hour) for hour in grid]
    minutes = chooser.choices(range(len(grid)), weights=weights, k=count)
    return sorted((minute + chooser.random()) * 60 for minute in minutes)


class Day:
    """Shared state of the simulation: the clock, latencies by operation, errors, outcomes."""

    def __init__(self, url: str, speed: float):
        self.url, self.speed = url, speed
        self.started = time.monotonic()
        self.latencies: dict[str, list[float]] = defaultdict(list)
        self.errors: list[str] = []
        self.outcomes: Counter = Counter()
        self.calls: list[str] = []
        self.issued: list[dict] = []
        self.issuing_done = threading.Event()
        self.lock = threading.Lock()

    def sleep_day(self, day_seconds: float) -> None:
        time.sleep(max(0.0, day_seconds / self.speed))

    def wait_until(self, day_second: float) -> None:
        time.sleep(max(0.0, self.started + day_second / self.speed - time.monotonic()))

    def request(self, session: requests.Session, operation: str, method: str, path: str, ok=(200,), **kwargs):
        started = time.monotonic()
        try:
            response = session.request(method, self.url + path, timeout=30, **kwargs)
        except requests.RequestException as error:
            self.errors.append(f"{operation}: {error!r}")
            return None
        self.latencies[operation].append(time.monotonic() - started)
        if response.status_code not in ok:
            self.errors.append(f"{operation}: {response.status_code} {response.text[:120]}")
            return None
        return response.json()


def kiosk(day: Day, token: str, arrivals: list[float], seed: int, trackers: list) -> None:
    """One kiosk: citizens arrive at their moments and take a ticket; some ask to follow it on a phone."""
    chooser = random.Random(seed)
    session = requests.Session()
    session.headers["Authorization"] = "Bearer " + token
    services, weights = list(SERVICE_WEIGHTS), list(SERVICE_WEIGHTS.values())
    for at in arrivals:
        day.wait_until(at)
        body = {"service": chooser.choices(services, weights)[0]}
        if chooser.random() < PRIORITY_SHARE:
            body["priority"] = "NCT"
        ticket = day.request(session, "issue", "POST", "/api/v1/tickets", ok=(201,), json=body)
        if ticket:
            with day.lock:
                day.issued.append(ticket)
            if chooser.random() < TRACKING_SHARE:
                trackers.append(ticket["track_key"])  # a phone follows its ticket by its key (issue 12)
    session.close()


def clerk(day: Day, number: int, headers: dict, procedures: dict, transfer_to: list[str], seed: int) -> None:
    """One clerk (signed in already, panel connected): call, serve or mark no-show, until the day is over."""
    chooser = random.Random(seed)
    session = requests.Session()
    session.headers.update(headers)
    idle_after_closing, failures = 0, 0
    while idle_after_closing < 3 and failures < 20:
        answer = day.request(session, "call-next", "POST", f"/api/v1/counters/{number}/call-next")
        ticket = answer.get("ticket") if answer else None
        if ticket is None:
            failures += answer is None
            if day.issuing_done.is_set():
                idle_after_closing += 1  # doors closed: leave after a few empty calls
            day.sleep_day(60)  # the clerk looks again in a minute
            continue
        idle_after_closing = 0
        with day.lock:
            day.calls.append(ticket["id"])
        path = f"/api/v1/tickets/{ticket['id']}"
        if chooser.random() < NO_SHOW_SHARE:
            day.sleep_day(60)
            day.request(session, "recall", "POST", path + "/recall")
            day.sleep_day(60)
            day.request(session, "no-show", "POST", path + "/no-show")
            day.outcomes["no_show"] += 1
            continue
        day.sleep_day(WALK_S * chooser.uniform(0.3, 1.5))
        day.request(session, "start", "POST", path + "/start")
        day.sleep_day(chooser.expovariate(1 / MEAN_SERVICE_S))
        if chooser.random() < TRANSFER_SHARE and not day.issuing_done.is_set():
            target = chooser.choice([code for code in transfer_to if code != ticket["service"]])
            day.request(session, "transfer", "POST", path + "/transfer", json={"service": target})
            day.outcomes["transferred"] += 1
            continue
        procedure = chooser.choice(procedures[ticket["service"]])
        day.request(session, "finish", "POST", path + "/finish", json={"procedure": procedure})
        day.outcomes["done"] += 1
        day.sleep_day(10)
    day.request(session, "sign-out", "POST", f"/api/v1/counters/{number}/sign-out")
    session.close()


def screens_process(url: str, displays: int, monitors: int, admin_token: str, panel_tokens: list[str],
                    phones, ready, stop, results) -> None:
    """A client process holding screens (one Python process cannot keep up with ~70 busy WebSockets:
    pings go unanswered and the server rightly drops it). Sends back what each group heard."""
    die_with_parent()
    groups = {"displays": connect_screens(url, displays),
              "monitors": connect_screens(url, monitors, token=admin_token) if monitors else [],
              "panels": [Screen(url, token, events=("counter_changed",)).connect() for token in panel_tokens],
              "phones": []}
    ready.set()
    while not stop.is_set():
        if phones is None:
            stop.wait(0.2)
            continue
        try:
            track_key = phones.get(timeout=0.2)
        except queue.Empty:
            continue
        phone = Screen(url, events=("ticket_updated",)).connect()  # a citizen opens /t/<track_key> on a phone
        phone.client.call("track", track_key, timeout=10)
        groups["phones"].append(phone)
    report = {}
    for name, group in groups.items():
        # a phone is let go by the server once its ticket ended (issue 12): not a drop
        ended = [screen for screen in group if name == "phones" and any(
            data.get("status") in ("done", "no_show", "expired") for _, data in screen.received.get("ticket_updated", []))]
        report[name] = {"count": len(group),
                        "dropped": sum(bool(screen.disconnects) for screen in group if screen not in ended),
                        "calls": [[data["ticket_id"] for _, data in screen.received.get("ticket_called", [])]
                                  for screen in group],
                        "updates": sum(len(screen.received.get("ticket_updated", [])) for screen in group)}
    for group in groups.values():
        for screen in group:
            screen.close()
    results.put(report)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tickets", type=int, default=1000)
    parser.add_argument("--counters", type=int, default=8)
    parser.add_argument("--kiosks", type=int, default=4)
    parser.add_argument("--displays", type=int, default=10)
    parser.add_argument("--monitors", type=int, default=2)
    parser.add_argument("--speed", type=float, default=300.0, help="day seconds per real second")
    parser.add_argument("--processes", type=int, default=4, help="client processes holding the screens")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--root", type=Path, default=ROOT, help="source tree to run the server from")
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()

    print_machine()
    chooser = random.Random(args.seed)
    folder = scratch_folder("bench-day", args.keep)
    credentials = prepare_instance(folder, counters=args.counters, kiosks=args.kiosks)
    server = Server(folder, root=args.root).start()
    context = multiprocessing.get_context("spawn")
    stop, results, phones = context.Event(), context.Queue(), context.Queue()
    workers, trackers = [], []
    try:
        catalogue = requests.get(server.url + "/api/v1/services", timeout=30).json()
        procedures = {service["code"]: [p["code"] for p in service["procedures"]] for service in catalogue}
        clerks = {n: server.login(f"quay{n}", credentials.passwords[f"quay{n}"]) for n in range(1, args.counters + 1)}
        for number, headers in clerks.items():
            requests.post(f"{server.url}/api/v1/counters/{number}/sign-in", headers=headers, timeout=30)
        admin = server.login("admin", credentials.passwords["admin"])["Authorization"].split()[1]
        readies = []
        for index in range(args.processes):
            ready = context.Event()
            share = lambda total: total // args.processes + (index < total % args.processes)  # noqa: E731
            panel_tokens = [clerks[n]["Authorization"].split()[1] for n in clerks] if index == 0 else []
            worker = context.Process(target=screens_process, args=(
                server.url, share(args.displays), share(args.monitors), admin, panel_tokens,
                phones, ready, stop, results))
            worker.start()
            workers.append(worker)
            readies.append(ready)
        for ready in readies:
            ready.wait(120)
        meter = ProcessMeter(server.worker_pid())
        day = Day(server.url, args.speed)
        arrivals = arrival_times(args.tickets, chooser)
        kiosk_threads = [threading.Thread(target=kiosk, args=(day, token, arrivals[i::args.kiosks], args.seed + i,
                                                              trackers))
                         for i, token in enumerate(credentials.kiosk_tokens)]
        clerk_threads = [threading.Thread(target=clerk, args=(day, n, clerks[n], procedures, list(procedures),
                                                              args.seed + 100 + n)) for n in clerks]
        for thread in clerk_threads + kiosk_threads:
            thread.start()
        followed = 0
        while any(thread.is_alive() for thread in kiosk_threads):
            while followed < len(trackers):
                phones.put(trackers[followed])
                followed += 1
            time.sleep(0.05)
        day.issuing_done.set()
        for thread in clerk_threads:
            thread.join()
        wall = time.monotonic() - day.started
        time.sleep(1.0)
        usage = meter.report()
        queue_state = requests.get(server.url + "/api/v1/queue", headers={"Authorization": f"Bearer {admin}"},
                                   timeout=30).json()
        waiting_left = sum(service["waiting"] for service in queue_state["services"])
        stop.set()
        reports = [results.get(timeout=120) for _ in workers]
        log_errors = server.errors_in_log()
    finally:
        stop.set()
        for worker in workers:
            worker.join(30)
        server.stop()

    calls = set(day.calls)
    groups = {name: {"count": sum(r[name]["count"] for r in reports), "dropped": sum(r[name]["dropped"] for r in reports),
                     "updates": sum(r[name]["updates"] for r in reports)} for name in reports[0]}
    display_misses = sum(len(calls - set(heard)) for r in reports for name in ("displays", "monitors")
                         for heard in r[name]["calls"])
    dropped = sum(group["dropped"] for group in groups.values())
    operations = sorted(day.latencies, key=lambda name: -len(day.latencies[name]))
    latency_rows = [(name, len(day.latencies[name]), f"{summary_ms(day.latencies[name])['p50']:.1f}",
                     f"{summary_ms(day.latencies[name])['p99']:.1f}") for name in operations]
    rows = [("day simulated", f"{DAY_START_H:g}h–{DAY_END_H:g}h at x{args.speed:g}: {wall:.1f} s real", ""),
            ("tickets issued / called", f"{len(day.issued)} / {len(calls)}", f"{args.tickets}"),
            ("outcomes", ", ".join(f"{k} {v}" for k, v in sorted(day.outcomes.items())), ""),
            ("still waiting at the end", waiting_left, "0"),
            ("screens: displays + monitors + panels + phones",
             " + ".join(str(groups[name]["count"]) for name in ("displays", "monitors", "panels", "phones")), ""),
            ("calls missed by displays/monitors", display_misses, "0"),
            ("screens dropped during the day", dropped, "0"),
            ("ticket_updated heard by phones", groups["phones"]["updates"], ""),
            ("HTTP errors", len(day.errors), "0"), ("server log errors", len(log_errors), "0"),
            ("server CPU", f"{usage['cpu_s']:.1f} s over {usage['wall_s']:.0f} s ({usage['cpu_pct']:.0f}% of one core)",
             ""),
            ("server CPU per ticket (all its requests and pushes)",
             f"{1000 * usage['cpu_s'] / max(1, len(day.issued)):.1f} ms", ""),
            ("server peak RSS (VmHWM) / threads at the end", f"{usage['peak_rss']:.0f} MB / {usage['threads']}",
             "<= 200 MB")]
    print(table(f"Busy day: {args.tickets} tickets, {args.counters} counters, {args.kiosks} kiosks, screens in "
                f"{args.processes} client processes (LUOT_TTS=none)", rows, ("measure", "value", "target")))
    print(table("HTTP latency by operation during the day", latency_rows, ("operation", "requests", "p50 ms", "p99 ms")))
    for line in (day.errors + log_errors)[:5]:
        print("  error:", line)
    ok = not day.errors and not log_errors and not display_misses and not dropped and waiting_left == 0
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
