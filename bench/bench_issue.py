"""Ticket issue throughput and latency: N kiosks issuing tickets as fast as the server answers.

Starts the real server with the production command (gunicorn -c gunicorn.conf.py) on a loopback
port, signs clerks in at the counters (so every ticket gets a real forecast), connects some display
screens (they hear `queue_changed`, the newest every 250 ms), then lets `--kiosks` threads, each with
its own kiosk token and keep-alive HTTP connection, POST /api/v1/tickets in a closed loop: once from an
empty queue, and once more with `--backlog` tickets already waiting (issuing must not slow as the
queue grows). Prints a table and exits.

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
    parser.add_argument("--backlog", type=int, default=5000, help="tickets waiting before the second measured phase")
    parser.add_argument("--open-counters", type=int, default=6, help="counters with a clerk signed in")
    parser.add_argument("--root", type=Path, default=ROOT, help="source tree to run the server from")
    parser.add_argument("--keep", action="store_true", help="keep the instance folder (server log)")
    args = parser.parse_args()

    print_machine()
    folder = scratch_folder("bench-issue", args.keep)
    credentials = prepare_instance(folder, counters=6, kiosks=args.kiosks)
    server = Server(folder, root=args.root).start()
    screens = []
    phases = []
    try:
        for number in range(1, args.open_counters + 1):
            clerk = server.login(f"quay{number}", credentials.passwords[f"quay{number}"])
            assert requests.post(f"{server.url}/api/v1/counters/{number}/sign-in", headers=clerk,
                                 timeout=30).status_code == 200
        screens = connect_screens(server.url, args.displays, events=("queue_changed",))
        run_phase(server.url, credentials.kiosk_tokens, args.warmup, 1, args.processes)
        for label, backlog in (("empty queue", 0), (f"{args.backlog:,} waiting", args.backlog)):
            waiting_now = waiting_count(server, credentials)
            if backlog > waiting_now:  # fill up, unmeasured
                run_phase(server.url, credentials.kiosk_tokens, backlog - waiting_now, 7, args.processes)
            waiting_before = waiting_count(server, credentials)
            time.sleep(1.0)
            for screen in screens:
                screen.received["queue_changed"].clear()
            meter = ProcessMeter(server.worker_pid())
            latencies, errors, wall, client_cpu = run_phase(server.url, credentials.kiosk_tokens, args.tickets,
                                                           1000 + backlog, args.processes)
            usage = meter.report()
            waiting = waiting_count(server, credentials)

            def shows_the_count(screen):
                updates = screen.received["queue_changed"]
                return bool(updates) and sum(s["waiting"] for s in updates[-1][1]["services"]) == waiting
            deadline = time.time() + 10  # let the last broadcasts arrive
            while time.time() < deadline and not all(shows_the_count(screen) for screen in screens):
                time.sleep(0.1)
            phases.append({"label": label, "waiting_before": waiting_before, "waiting_after": waiting,
                           "latencies": latencies, "errors": errors, "wall": wall, "client_cpu": client_cpu,
                           "usage": usage, "missed": sum(not shows_the_count(screen) for screen in screens),
                           "updates": sum(len(s.received["queue_changed"]) for s in screens) / max(1, len(screens))})
        log_errors = server.errors_in_log()
    finally:
        for screen in screens:
            screen.close()
        server.stop()

    errors = [error for phase in phases for error in phase["errors"]]
    missed = sum(phase["missed"] for phase in phases)
    for phase in phases:
        stats = summary_ms(phase["latencies"])
        issued, wall, usage = len(phase["latencies"]), phase["wall"], phase["usage"]
        phase["throughput"] = issued / wall
        rows = [("waiting before → after", f"{phase['waiting_before']} → {phase['waiting_after']}", ""),
                ("tickets issued", issued, ""), ("wall time", f"{wall:.2f} s", ""),
                ("throughput", f"{issued / wall:.0f} tickets/s", ">= 500"),
                ("latency p50", f"{stats['p50']:.1f} ms", ""), ("latency p95", f"{stats['p95']:.1f} ms", ""),
                ("latency p99", f"{stats['p99']:.1f} ms", ""), ("latency max", f"{stats['max']:.1f} ms", ""),
                ("HTTP errors", len(phase["errors"]), "0"),
                ("displays not showing the final waiting count", phase["missed"], "0"),
                ("queue_changed received per display", f"{phase['updates']:.0f}", "newest only, every LUOT_QUEUE_PUSH_MS"),
                ("server CPU", f"{usage['cpu_s']:.1f} s ({usage['cpu_pct']:.0f}% of one core)", ""),
                ("server peak RSS", f"{usage['peak_rss']:.0f} MB", "<= 200 MB"),
                ("client CPU (kiosk processes)", f"{phase['client_cpu']:.1f} s", "")]
        print(table(f"Ticket issue, {phase['label']}: {args.kiosks} kiosks, {args.open_counters} counters open, "
                    f"{args.displays} displays connected, {args.tickets} tickets after {args.warmup} warm-up, "
                    f"{args.processes} client processes (LUOT_TTS=none)", rows, ("measure", "value", "target")))
    if len(phases) == 2:
        ratio = phases[1]["throughput"] / phases[0]["throughput"]
        print(table("Issuing as the queue grows", [
            ("throughput with a backlog ÷ from an empty queue", f"{ratio:.2f}", "within 10 % (0.90–1.10)")],
            ("measure", "value", "target")))
    print(table("Errors", [("server log errors", len(log_errors), "0")], ("measure", "value", "target")))
    for line in (errors + log_errors)[:5]:
        print("  error:", line)
    return 0 if not errors and not log_errors and not missed else 1


def waiting_count(server, credentials) -> int:
    return sum(s["waiting"] for s in requests.get(server.url + "/api/v1/queue", timeout=30, headers={
        "Authorization": "Bearer " + credentials.kiosk_tokens[0]}).json()["services"])


if __name__ == "__main__":
    sys.exit(main())
