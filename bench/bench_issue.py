"""Ticket issue throughput and latency: N kiosks issuing tickets as fast as the server answers.

Starts the real server with the production command (gunicorn -c gunicorn.conf.py) on a loopback
port, connects some display screens (they hear `queue_changed`, the newest every 250 ms), then lets
`--kiosks` threads, each with its own kiosk token and keep-alive HTTP connection, POST
/api/v1/tickets in a closed loop. Prints a table and exits.

    .venv/bin/python bench/bench_issue.py [--kiosks 10] [--tickets 3000] [--displays 10]
"""
from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import random
import sys
import threading
import time
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import (ROOT, connect_screens, die_with_parent, prepare_instance, print_machine,  # noqa: E402
                    ProcessMeter, scratch_folder, Server, summary_ms, table)

SERVICES = ["TP", "CT", "CA_CT", "CA_CC", "DD", "XD", "KD", "BTXH", "LLTP", "GT", "BHXH"]


def kiosk_loop(url: str, token: str, count: int, latencies: list, errors: list, seed: int) -> None:
    """One kiosk: a keep-alive HTTP/1.1 connection (http.client: a light client, so the client process is
    not what limits the figure), POST /api/v1/tickets `count` times."""
    chooser = random.Random(seed)
    host, port = url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=30)
    headers = {"Authorization": "Bearer " + token, "Content-Type": "application/json"}
    for _ in range(count):
        body = json.dumps({"service": chooser.choice(SERVICES)})
        started = time.perf_counter()
        try:
            connection.request("POST", "/api/v1/tickets", body=body, headers=headers)
            response = connection.getresponse()
            answer = response.read()
            elapsed = time.perf_counter() - started
            if response.status == 201 and json.loads(answer).get("number"):
                latencies.append(elapsed)
            else:
                errors.append(f"{response.status} {answer[:120]!r}")
        except (OSError, http.client.HTTPException) as error:
            errors.append(repr(error))
            connection.close()
            connection = http.client.HTTPConnection(host, int(port), timeout=30)
    connection.close()


def kiosk_process(url: str, tokens: list[str], per_kiosk: int, seed: int, start, results) -> None:
    """One client process: a thread per kiosk; sends back latencies, errors and its own CPU time."""
    die_with_parent()
    latencies, errors = [], []
    threads = [threading.Thread(target=kiosk_loop, args=(url, token, per_kiosk, latencies, errors, seed + i))
               for i, token in enumerate(tokens)]
    start.wait()
    cpu = time.process_time()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    results.put((latencies, errors, time.process_time() - cpu))


def run_phase(url: str, tokens: list[str], total: int, seed: int, processes: int) -> tuple[list, list, float, float]:
    """Kiosks spread over client processes (one Python process cannot drive 500 requests/s alone)."""
    context = multiprocessing.get_context("spawn")
    start, results = context.Event(), context.Queue()
    per_kiosk = total // len(tokens)
    workers = [context.Process(target=kiosk_process, args=(url, tokens[i::processes], per_kiosk, seed + 100 * i,
                                                           start, results))
               for i in range(processes)]
    for worker in workers:
        worker.start()
    time.sleep(0.5)
    started = time.perf_counter()
    start.set()
    latencies, errors, client_cpu = [], [], 0.0
    for _ in workers:
        part_latencies, part_errors, cpu = results.get()
        latencies += part_latencies
        errors += part_errors
        client_cpu += cpu
    wall = time.perf_counter() - started
    for worker in workers:
        worker.join()
    return latencies, errors, wall, client_cpu


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--kiosks", type=int, default=10)
    parser.add_argument("--tickets", type=int, default=3000, help="tickets issued in the measured phase")
    parser.add_argument("--warmup", type=int, default=200)
    parser.add_argument("--displays", type=int, default=0,
                        help="display screens connected meanwhile (each hears the newest queue_changed every 250 ms)")
    parser.add_argument("--processes", type=int, default=2, help="client processes the kiosks are spread over")
    parser.add_argument("--root", type=Path, default=ROOT, help="source tree to run the server from")
    parser.add_argument("--keep", action="store_true", help="keep the instance folder (server log)")
    args = parser.parse_args()

    print_machine()
    folder = scratch_folder("bench-issue", args.keep)
    credentials = prepare_instance(folder, counters=6, kiosks=args.kiosks)
    server = Server(folder, root=args.root).start()
    screens = []
    try:
        screens = connect_screens(server.url, args.displays, events=("queue_changed",))
        run_phase(server.url, credentials.kiosk_tokens, args.warmup, 1, args.processes)
        time.sleep(1.0)
        for screen in screens:
            screen.received["queue_changed"].clear()
        meter = ProcessMeter(server.worker_pid())
        latencies, errors, wall, client_cpu = run_phase(server.url, credentials.kiosk_tokens, args.tickets, 1000,
                                                       args.processes)
        usage = meter.report()
        issued = len(latencies)
        waiting = sum(s["waiting"] for s in requests.get(server.url + "/api/v1/queue", timeout=30, headers={
            "Authorization": "Bearer " + credentials.kiosk_tokens[0]}).json()["services"])

        def shows_the_count(screen):
            updates = screen.received["queue_changed"]
            return bool(updates) and sum(s["waiting"] for s in updates[-1][1]["services"]) == waiting
        deadline = time.time() + 10  # let the last broadcasts arrive
        while time.time() < deadline and not all(shows_the_count(screen) for screen in screens):
            time.sleep(0.1)
        missed = sum(not shows_the_count(screen) for screen in screens)
        updates = sum(len(screen.received["queue_changed"]) for screen in screens) / max(1, len(screens))
        log_errors = server.errors_in_log()
    finally:
        for screen in screens:
            screen.close()
        server.stop()

    stats = summary_ms(latencies)
    rows = [("tickets issued", issued, ""), ("wall time", f"{wall:.2f} s", ""),
            ("throughput", f"{issued / wall:.0f} tickets/s", ">= 500"),
            ("latency p50", f"{stats['p50']:.1f} ms", ""), ("latency p95", f"{stats['p95']:.1f} ms", ""),
            ("latency p99", f"{stats['p99']:.1f} ms", ""), ("latency max", f"{stats['max']:.1f} ms", ""),
            ("HTTP errors", len(errors), "0"), ("server log errors", len(log_errors), "0"),
            ("displays not showing the final waiting count", missed, "0"),
            ("queue_changed received per display", f"{updates:.0f}", "newest only, every LUOT_QUEUE_PUSH_MS"),
            ("server CPU", f"{usage['cpu_s']:.1f} s ({usage['cpu_pct']:.0f}% of one core)", ""),
            ("server peak RSS", f"{usage['peak_rss']:.0f} MB", "<= 200 MB"),
            ("client CPU (kiosk processes)", f"{client_cpu:.1f} s", "")]
    print(table(f"Ticket issue: {args.kiosks} kiosks, {args.displays} displays connected, "
                f"{args.tickets} tickets after {args.warmup} warm-up, {args.processes} client processes (LUOT_TTS=none)", rows,
                ("measure", "value", "target")))
    for line in (errors + log_errors)[:5]:
        print("  error:", line)
    return 0 if not errors and not log_errors and not missed else 1


if __name__ == "__main__":
    sys.exit(main())
