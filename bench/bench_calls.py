"""Call-to-screen latency: from a clerk's call-next request to `ticket_called` on every screen.

Starts the real server with the production command on a loopback port, opens 20 counters (each
clerk signed in, with its counter panel's Socket.IO connection), connects 100 display and monitor
clients over WebSocket (python-socketio's AsyncClient, 25 to an asyncio loop in each of 4 client
processes), then the 20 clerks call tickets at a steady overall rate: call-next, then no-show to
free the counter for the next call. For every call and every screen, latency = arrival of
`ticket_called` − the moment the clerk's request was sent (both CLOCK_MONOTONIC, one machine).

    .venv/bin/python bench/bench_calls.py [--screens 100] [--counters 20] [--calls 200] [--rate 2]
                                          [--client asyncio|threads] [--server-cpus 0] [--tts]

`--tts` turns the real voice on (LUOT_TTS=espeak): every display then fetches each call's WAV
(`announcement.audio_url`) as the display page does, and the figure is call → audio playable (the
URL answered 200 with audio/wav, body read) on every display; the server synthesises in its own OS
thread and ahead of the calls (display/announcer.py, web.AnnouncementsAhead).

The default rate, 2 calls/s, is each counter calling every 10 s: about 20 times a busy centre's
peak. The clients share the machine's 2 cores with the server, so the figure is an upper bound
of what displays on their own machines see; `--client threads` (python-socketio's threaded
Client, a few threads per screen) adds those threads' scheduling to it (bench/RESULTS.md).
"""
from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import random
import sys
import threading
import time
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import (ROOT, connect_async_screens, connect_screens, die_with_parent, prepare_instance, print_machine,  # noqa: E402
                    ProcessMeter, scratch_folder, Screen, Server, summary_ms, table)

SERVICES = ["TP", "CT", "CA_CT", "CA_CC", "DD", "XD", "KD", "BTXH", "LLTP", "GT", "BHXH"]


def screens_process(url: str, displays: int, monitors: int, monitor_token: str, client: str, ready, stop,
                    results, tts: bool = False) -> None:
    """A client process holding some screens; sends back (ticket_id, arrival) per screen."""
    die_with_parent()
    asyncio.run(_hold_screens(url, displays, monitors, monitor_token, client, ready, stop, results, tts))


def _fetch_audio(url: str, screens, session, audio: list, tasks: set) -> None:
    """Each screen fetches every call's WAV as soon as `ticket_called` arrives, as display.js does."""
    async def fetch(ticket_id: str, path: str | None) -> None:
        if not path:
            audio.append((ticket_id, None, "no audio_url"))
            return
        try:
            async with session.get(url + path) as response:
                body = await response.read()
                ok = response.status == 200 and response.content_type == "audio/wav" and body[:4] == b"RIFF"
                audio.append((ticket_id, time.monotonic(), None if ok else f"{response.status} {len(body)} B"))
        except Exception as error:  # noqa: BLE001 - counted as missed
            audio.append((ticket_id, None, repr(error)))

    for screen in screens:
        bucket = screen.received["ticket_called"]

        def on_called(data, bucket=bucket):
            bucket.append((time.monotonic(), data))
            task = asyncio.ensure_future(fetch(data["ticket_id"], data.get("announcement", {}).get("audio_url")))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
        screen.client.on("ticket_called", on_called)


async def _hold_screens(url: str, displays: int, monitors: int, monitor_token: str, client: str, ready, stop,
                        results, tts: bool = False) -> None:
    async def connect(count: int, token: str | None = None) -> list:
        if client == "asyncio":
            return await connect_async_screens(url, count, token=token)
        return await asyncio.to_thread(connect_screens, url, count, token)  # threaded clients: threads of their own
    try:
        screens = await connect(displays)
        screens += await connect(monitors, monitor_token) if monitors else []
    except Exception as error:  # noqa: BLE001
        results.put(("error", repr(error)))
        ready.set()
        return
    audio, tasks, session = [], set(), None
    if tts:
        import aiohttp
        session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))
        _fetch_audio(url, screens[:displays], session, audio, tasks)
    results.put(("connected", len(screens)))
    ready.set()
    cpu = time.process_time()
    while not stop.is_set():
        await asyncio.sleep(0.1)
    if tasks:
        await asyncio.wait(set(tasks), timeout=30)
    if session is not None:
        await session.close()
    cpu = time.process_time() - cpu
    connected = sum(screen.client.connected for screen in screens)
    if client == "asyncio":
        await asyncio.gather(*(screen.close() for screen in screens))
    else:
        for screen in screens:
            screen.close()
    results.put(("arrivals", _arrivals(screens), connected, cpu, audio, min(displays, len(screens))))


def _arrivals(screens) -> list[list[tuple[str, float]]]:
    return [[(data["ticket_id"], at) for at, data in screen.received["ticket_called"]] for screen in screens]


def clerk_loop(url: str, number: int, headers: dict, calls: int, interval: float, sent: dict, responses: list,
               errors: list, seed: int) -> None:
    chooser = random.Random(seed)
    session = requests.Session()
    session.headers.update(headers)
    time.sleep(chooser.uniform(0, interval))
    next_at = time.monotonic()
    for _ in range(calls):
        next_at += interval * chooser.uniform(0.5, 1.5)
        started = time.monotonic()
        try:
            response = session.post(f"{url}/api/v1/counters/{number}/call-next", timeout=30)
            finished = time.monotonic()
            ticket = response.json().get("ticket") if response.status_code == 200 else None
            if not ticket:
                errors.append(f"call-next {response.status_code} {response.text[:100]}")
                continue
            sent[ticket["id"]] = started
            responses.append(finished - started)
            freed = session.post(f"{url}/api/v1/tickets/{ticket['id']}/no-show", timeout=30)
            if freed.status_code != 200:
                errors.append(f"no-show {freed.status_code} {freed.text[:100]}")
        except requests.RequestException as error:
            errors.append(repr(error))
        time.sleep(max(0.0, next_at - time.monotonic()))
    session.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--screens", type=int, default=100, help="display + monitor clients")
    parser.add_argument("--monitors", type=int, default=4, help="of the screens, manager monitors (admin token)")
    parser.add_argument("--counters", type=int, default=20)
    parser.add_argument("--calls", type=int, default=200, help="calls in total")
    parser.add_argument("--rate", type=float, default=2.0,
                        help="calls per second over all counters (2/s: each counter every 10 s, ~20x a real peak)")
    parser.add_argument("--processes", type=int, default=4, help="client processes holding the screens")
    parser.add_argument("--client", choices=("asyncio", "threads"), default="asyncio",
                        help="python-socketio's AsyncClient (many screens on one loop per process) or its threaded "
                             "Client (a few threads per screen: the client processes' own scheduling then adds "
                             "to the figure)")
    parser.add_argument("--root", type=Path, default=ROOT, help="source tree to run the server from")
    parser.add_argument("--server-cpus", type=lambda text: {int(cpu) for cpu in text.split(",")},
                        help="pin the server to these CPUs and every client to the others, e.g. 0 (as if the "
                             "screens and clerks were other machines)")
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--tts", action="store_true",
                        help="the real voice (LUOT_TTS=espeak): every display fetches each call's WAV; measures "
                             "call -> audio playable")
    args = parser.parse_args()

    print_machine()
    folder = scratch_folder("bench-calls", args.keep)
    credentials = prepare_instance(folder, counters=args.counters, kiosks=1, services_per_counter="all")
    server = Server(folder, root=args.root, cpus=args.server_cpus,
                    env={"LUOT_TTS": "espeak"} if args.tts else None).start()
    if args.server_cpus:
        os.sched_setaffinity(0, set(range(os.cpu_count())) - args.server_cpus)  # the client processes inherit it
    context = multiprocessing.get_context("spawn")
    stop, results = context.Event(), context.Queue()
    workers, panels = [], []
    try:
        kiosk = requests.Session()
        kiosk.headers["Authorization"] = "Bearer " + credentials.kiosk_tokens[0]
        for index in range(args.calls + args.counters):
            answer = kiosk.post(server.url + "/api/v1/tickets", json={"service": SERVICES[index % len(SERVICES)]},
                                timeout=30)
            assert answer.status_code == 201, answer.text
        clerks = {}
        for number in range(1, args.counters + 1):
            clerks[number] = server.login(f"quay{number}", credentials.passwords[f"quay{number}"])
            assert requests.post(f"{server.url}/api/v1/counters/{number}/sign-in", headers=clerks[number],
                                 timeout=30).status_code == 200
        # each counter's panel listens on its own connection, as the counter page does
        panels = [Screen(server.url, clerks[n]["Authorization"].split()[1], events=("counter_changed",)).connect()
                  for n in clerks]
        admin = server.login("admin", credentials.passwords["admin"])["Authorization"].split()[1]

        displays_total = args.screens - args.monitors
        readies = []
        for index in range(args.processes):
            ready = context.Event()
            displays = displays_total // args.processes + (index < displays_total % args.processes)
            monitors = args.monitors // args.processes + (index < args.monitors % args.processes)
            worker = context.Process(target=screens_process, args=(server.url, displays, monitors, admin, args.client,
                                                                   ready, stop, results, args.tts))
            worker.start()
            workers.append(worker)
            readies.append(ready)
        for ready in readies:
            ready.wait(120)
        connected = 0
        for _ in workers:
            message = results.get(timeout=60)
            if message[0] == "error":
                raise RuntimeError(message[1])
            connected += message[1]
        time.sleep(1.0)

        meter = ProcessMeter(server.worker_pid())
        sent, responses, errors = {}, [], []
        per_counter = args.calls // args.counters
        interval = args.counters / args.rate
        threads = [threading.Thread(target=clerk_loop, args=(server.url, number, clerks[number], per_counter,
                                                             interval, sent, responses, errors, number))
                   for number in clerks]
        started = time.monotonic()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        wall = time.monotonic() - started
        usage = meter.report()
        time.sleep(2.0)  # the last broadcasts
        stop.set()
        latencies, missing, still_connected, screens_cpu = [], 0, 0, 0.0
        audio_latencies, audio_missed, audio_errors = [], 0, []
        for _ in workers:
            message = results.get(timeout=120)
            still_connected += message[2]
            screens_cpu += message[3]
            if args.tts:
                fetched = {}
                for ticket_id, at, error in message[4]:
                    if error:
                        audio_errors.append(error)
                    else:
                        fetched.setdefault(ticket_id, []).append(at)
                displays_here = message[5]
                for ticket_id, sent_at in sent.items():
                    times = fetched.get(ticket_id, [])
                    audio_latencies += [at - sent_at for at in times]
                audio_missed += len(sent) * displays_here - sum(len(times) for times in fetched.values())
            for screen_arrivals in message[1]:
                arrived = {ticket_id: at for ticket_id, at in screen_arrivals}
                for ticket_id, sent_at in sent.items():
                    if ticket_id in arrived:
                        latencies.append(arrived[ticket_id] - sent_at)
                    else:
                        missing += 1
        log_errors = server.errors_in_log()
    finally:
        stop.set()
        for worker in workers:
            worker.join(30)
        for panel in panels:
            panel.close()
        server.stop()

    stats = summary_ms(latencies)
    answer = summary_ms(responses)
    rows = [("screens connected (displays + monitors)", f"{connected} ({displays_total} + {args.monitors})", "100"),
            ("counters active (clerk + panel socket)", args.counters, "20"),
            ("calls made", f"{len(sent)} in {wall:.1f} s ({len(sent) / wall:.1f}/s)", ""),
            ("deliveries measured", stats["n"], f"{len(sent) * connected}"),
            ("call-to-screen p50", f"{stats['p50']:.1f} ms", ""),
            ("call-to-screen p95", f"{stats['p95']:.1f} ms", ""),
            ("call-to-screen p99", f"{stats['p99']:.1f} ms", "<= 50 ms"),
            ("call-to-screen max", f"{stats['max']:.1f} ms", ""),
            ("call-next HTTP answer p50 / p99", f"{answer['p50']:.1f} / {answer['p99']:.1f} ms", ""),
            ("missed deliveries", missing, "0"), ("HTTP errors", len(errors), "0"),
            ("server log errors", len(log_errors), "0"),
            ("screens still connected at the end", still_connected, f"{connected}"),
            ("server CPU", f"{usage['cpu_s']:.1f} s ({usage['cpu_pct']:.0f}% of one core)", ""),
            ("server peak RSS / threads", f"{usage['peak_rss']:.0f} MB / {usage['threads']}", "<= 200 MB"),
            ("CPU of the screens' client processes", f"{screens_cpu:.1f} s ({100 * screens_cpu / wall:.0f}% of one core)",
             "")]
    if args.tts:
        heard = summary_ms(audio_latencies)
        rows[8:8] = [("call → audio playable on every display p50 / p95", f"{heard['p50']:.1f} / {heard['p95']:.1f} ms",
                      ""),
                     ("call → audio playable p99 / max", f"{heard['p99']:.1f} / {heard['max']:.1f} ms", "<= 500 ms"),
                     ("WAV fetches measured / missed", f"{heard['n']} / {audio_missed}", f"{len(sent) * displays_total} / 0")]
    pinning = (f"; server on CPU {','.join(map(str, sorted(args.server_cpus)))}, clients on the others"
               if args.server_cpus else "")
    print(table(f"Call-to-screen: {args.screens} screens ({args.client} clients) in {args.processes} client processes, "
                f"{args.counters} counters, {args.rate:g} calls/s (LUOT_TTS={'espeak' if args.tts else 'none'}{pinning})", rows,
                ("measure", "value", "target")))
    for line in (errors + log_errors + audio_errors)[:5]:
        print("  error:", line)
    ok = (not errors and not log_errors and not missing and still_connected == connected
          and not (args.tts and (audio_missed or audio_errors)))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
