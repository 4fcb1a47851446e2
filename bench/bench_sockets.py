"""Many idle Socket.IO connections on one instance: do kiosks and calls still go through? (issue 12)

Starts the real server with the production command (gunicorn.conf.py: one gevent worker) on a
loopback port, then opens `--sockets` anonymous Socket.IO connections over WebSocket (phones
following their ticket, public displays) from distinct loopback source addresses: Linux routes the
whole 127.0.0.0/8 to loopback, so each client binds its TCP socket to its own 127.x.y.z
(aiohttp's `TCPConnector(local_addr=…)`, `--per-address` connections per address, below the
server's per-address cap). The connections are held by python-socketio's AsyncClient on asyncio
loops in `--processes` client processes. This process raises its soft open-files limit to the hard
one (`resource.setrlimit`; the client processes and the server inherit it).

While every connection is open it measures:
  * kiosk ticket requests (one kiosk, `--kiosk-requests` at ~20/s): HTTP latency p50/p99;
  * clerks' calls (`--calls` at `--rate`/s): `ticket_called` arrival on every socket − the moment the
    clerk's call-next was sent (CLOCK_MONOTONIC, one machine), p50/p99, and missed deliveries;
  * connect time, the server worker's RSS (and its kernel peak, VmHWM), threads and CPU.

    .venv/bin/python bench/bench_sockets.py [--sockets 2000] [--processes 4] [--per-address 10]
                                            [--calls 20] [--rate 1] [--kiosk-requests 200]

The client processes share the machine's cores with the server: the figures are upper bounds. By
default each connection is a minimal Socket.IO client (`RawSocket`: Engine.IO 4 over aiohttp's
WebSocket, answers pings, parses `ticket_called` only); `--client socketio` uses python-socketio's
AsyncClient instead, whose CPU per message, times thousands of connections, competes with the server.
"""
from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import resource
import sys
import time
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import (ROOT, ProcessMeter, Server, die_with_parent, prepare_instance, print_machine,  # noqa: E402
                    scratch_folder, summary_ms, table)


def raise_open_files_limit() -> int:
    """Soft limit on open files up to the hard one (a connection is a descriptor on both ends)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = 1 << 16 if hard == resource.RLIM_INFINITY else hard
    if soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def loopback_address(index: int) -> str:
    """The index-th loopback address 127.x.y.z, x, y, z in 1..254 (never a .0 or .255)."""
    return f"127.{1 + index // (254 * 254)}.{1 + (index // 254) % 254}.{1 + index % 254}"


def sockets_process(url: str, first: int, count: int, per_address: int, parallel: int, ready, stop,
                    results, client: str = "raw") -> None:
    """A client process holding sockets first .. first+count-1; reports connect times, then arrivals."""
    die_with_parent()
    asyncio.run(_hold(url, first, count, per_address, parallel, ready, stop, results, client))


class RawSocket:
    """A minimal Socket.IO client (Engine.IO 4 over WebSocket, namespace "/"): it answers pings and looks
    inside `ticket_called` only, so a client process spends little CPU per message and the figure
    measures the server rather than 1,000 python-socketio clients sharing the server's two cores."""

    def __init__(self, session, url: str):
        self.session, self.url = session, url.replace("http://", "ws://") + "/socket.io/?EIO=4&transport=websocket"
        self.connected = False
        self.ws = None
        self.task = None

    async def connect(self, on_called, on_disconnect, snapshot: asyncio.Event) -> None:
        self.ws = await self.session.ws_connect(self.url, autoping=False, max_msg_size=0)
        opened = await self.ws.receive_str()
        assert opened.startswith("0"), opened
        await self.ws.send_str("40")
        self.connected = True
        self.task = asyncio.ensure_future(self._read(on_called, on_disconnect, snapshot))

    async def _read(self, on_called, on_disconnect, snapshot) -> None:
        import json
        async for message in self.ws:
            data = message.data
            if not isinstance(data, str):
                continue
            if data == "2":
                await self.ws.send_str("3")
            elif data.startswith('42["ticket_called"'):
                on_called(json.loads(data[2:])[1]["ticket_id"])
            elif data.startswith('42["snapshot"'):
                snapshot.set()
            elif data.startswith("41") or data.startswith("44"):
                break
        if self.connected:
            self.connected = False
            on_disconnect(data if "data" in locals() else None)

    async def disconnect(self) -> None:
        self.connected = False
        if self.ws is not None:
            await self.ws.close()


async def _hold(url, first, count, per_address, parallel, ready, stop, results, kind="raw") -> None:
    import aiohttp
    import socketio

    sessions: dict[str, aiohttp.ClientSession] = {}
    clients, arrivals, disconnects, errors, durations = [], [], [], [], []
    gate = asyncio.Semaphore(parallel)

    async def connect(index: int) -> None:
        address = loopback_address(index // per_address)
        if address not in sessions:
            sessions[address] = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(local_addr=(address, 0), limit=0, force_close=False))
        mine: list = []
        snapshot = asyncio.Event()
        if kind == "raw":
            client = RawSocket(sessions[address], url)
        else:
            client = socketio.AsyncClient(reconnection=False, http_session=sessions[address])
            client.on("snapshot", lambda _data: snapshot.set())
            client.on("ticket_called", lambda data: mine.append((data["ticket_id"], time.monotonic())))
            client.on("disconnect", lambda *reason: disconnects.append(reason))
        async with gate:
            started = time.monotonic()
            try:
                if kind == "raw":
                    await client.connect(lambda ticket_id: mine.append((ticket_id, time.monotonic())),
                                         disconnects.append, snapshot)
                else:
                    await client.connect(url, transports=["websocket"], wait_timeout=60)
                await asyncio.wait_for(snapshot.wait(), 60)
            except Exception as error:  # noqa: BLE001 - counted and reported
                errors.append(repr(error))
                return
            durations.append(time.monotonic() - started)
        clients.append(client)
        arrivals.append(mine)

    started = time.monotonic()
    await asyncio.gather(*(connect(index) for index in range(first, first + count)))
    results.put(("connected", len(clients), durations, errors[:3], len(errors), time.monotonic() - started))
    ready.set()
    cpu = time.process_time()
    while not stop.is_set():
        await asyncio.sleep(0.1)
    cpu = time.process_time() - cpu
    connected = sum(client.connected for client in clients)
    results.put(("arrivals", arrivals, connected, len(disconnects), cpu))
    await asyncio.gather(*(client.disconnect() for client in clients), return_exceptions=True)
    await asyncio.gather(*(session.close() for session in sessions.values()), return_exceptions=True)


def kiosk_requests(url: str, token: str, count: int, interval: float) -> tuple[list[float], list[str]]:
    latencies, errors = [], []
    session = requests.Session()
    session.headers["Authorization"] = "Bearer " + token
    next_at = time.monotonic()
    for index in range(count):
        started = time.monotonic()
        try:
            answer = session.post(url + "/api/v1/tickets", json={"service": "TP"}, timeout=30)
            if answer.status_code == 201:
                latencies.append(time.monotonic() - started)
            else:
                errors.append(f"kiosk {answer.status_code} {answer.text[:100]}")
        except requests.RequestException as error:
            errors.append(repr(error))
        next_at += interval
        time.sleep(max(0.0, next_at - time.monotonic()))
    session.close()
    return latencies, errors


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sockets", type=int, default=2000, help="anonymous Socket.IO connections held open")
    parser.add_argument("--processes", type=int, default=4, help="client processes holding them")
    parser.add_argument("--per-address", type=int, default=10,
                        help="connections per loopback source address (the server caps anonymous ones per address)")
    parser.add_argument("--parallel", type=int, default=50, help="connections being opened at once, per process")
    parser.add_argument("--client", choices=("raw", "socketio"), default="raw",
                        help="raw: a minimal Engine.IO/Socket.IO client on aiohttp (little CPU per message); "
                             "socketio: python-socketio's AsyncClient (~5x the client CPU, which shares the cores)")
    parser.add_argument("--counters", type=int, default=4)
    parser.add_argument("--calls", type=int, default=20, help="calls in total, each to be seen by every socket")
    parser.add_argument("--rate", type=float, default=1.0, help="calls per second")
    parser.add_argument("--kiosk-requests", type=int, default=200, help="tickets a kiosk issues while all are open")
    parser.add_argument("--root", type=Path, default=ROOT, help="source tree to run the server from")
    parser.add_argument("--keep", action="store_true", help="keep the instance folder (server log)")
    args = parser.parse_args()

    open_files = raise_open_files_limit()
    print_machine()
    print(f"open-files soft limit raised to {open_files} (resource.setrlimit) for this process, its clients "
          f"and the server")
    folder = scratch_folder("bench-sockets", args.keep)
    credentials = prepare_instance(folder, counters=args.counters, kiosks=2, services_per_counter="all")
    server = Server(folder, root=args.root).start()
    context = multiprocessing.get_context("spawn")
    stop, results = context.Event(), context.Queue()
    workers = []
    try:
        kiosk = requests.Session()
        kiosk.headers["Authorization"] = "Bearer " + credentials.kiosk_tokens[0]
        for _ in range(args.calls + args.counters):
            assert kiosk.post(server.url + "/api/v1/tickets", json={"service": "TP"}, timeout=30).status_code == 201
        clerks = {}
        for number in range(1, args.counters + 1):
            clerks[number] = requests.Session()
            clerks[number].headers.update(server.login(f"quay{number}", credentials.passwords[f"quay{number}"]))
            assert clerks[number].post(f"{server.url}/api/v1/counters/{number}/sign-in", timeout=30).status_code == 200
        meter = ProcessMeter(server.worker_pid())
        rss_before = meter.memory_mb()["rss"]

        started = time.monotonic()
        readies = []
        share, extra = divmod(args.sockets, args.processes)
        first = 0
        for index in range(args.processes):
            count = share + (index < extra)
            ready = context.Event()
            worker = context.Process(target=sockets_process, args=(server.url, first, count, args.per_address,
                                                                   args.parallel, ready, stop, results, args.client))
            worker.start()
            workers.append(worker)
            readies.append(ready)
            first += count
        connected, durations, connect_errors, connect_error_count = 0, [], [], 0
        for _ in workers:
            message = results.get(timeout=600)
            connected += message[1]
            durations += message[2]
            connect_errors += message[3]
            connect_error_count += message[4]
        connect_wall = time.monotonic() - started
        time.sleep(2.0)
        held = meter.memory_mb()

        kiosk_latencies, errors = kiosk_requests(server.url, credentials.kiosk_tokens[1], args.kiosk_requests, 0.05)

        sent, call_answers = {}, []
        interval = 1 / args.rate
        next_at = time.monotonic()
        for index in range(args.calls):
            clerk = clerks[1 + index % args.counters]
            number = 1 + index % args.counters
            at = time.monotonic()
            answer = clerk.post(f"{server.url}/api/v1/counters/{number}/call-next", timeout=30)
            ticket = answer.json().get("ticket") if answer.status_code == 200 else None
            if not ticket:
                errors.append(f"call-next {answer.status_code} {answer.text[:100]}")
                continue
            sent[ticket["id"]] = at
            call_answers.append(time.monotonic() - at)
            freed = clerk.post(f"{server.url}/api/v1/tickets/{ticket['id']}/no-show", timeout=30)
            if freed.status_code != 200:
                errors.append(f"no-show {freed.status_code} {freed.text[:100]}")
            next_at += interval
            time.sleep(max(0.0, next_at - time.monotonic()))
        time.sleep(5.0)  # the last broadcasts
        usage = meter.report()
        stop.set()
        latencies, missed, still_connected, dropped, clients_cpu = [], 0, 0, 0, 0.0
        for _ in workers:
            message = results.get(timeout=300)
            still_connected += message[2]
            dropped += message[3]
            clients_cpu += message[4]
            for arrivals in message[1]:
                arrived = dict(arrivals)
                for ticket_id, sent_at in sent.items():
                    if ticket_id in arrived:
                        latencies.append(arrived[ticket_id] - sent_at)
                    else:
                        missed += 1
        log_errors = server.errors_in_log()
    finally:
        stop.set()
        for worker in workers:
            worker.join(60)
            if worker.is_alive():
                worker.terminate()
        server.stop()

    connect = summary_ms(durations)
    kiosk_ms = summary_ms(kiosk_latencies)
    calls = summary_ms(latencies)
    answers = summary_ms(call_answers)
    addresses = -(-args.sockets // args.per_address)
    rows = [("sockets connected", f"{connected} of {args.sockets} ({connect_error_count} failed)", f"{args.sockets}"),
            ("source addresses (127.x.y.z)", f"{addresses} ({args.per_address} sockets each)", ""),
            ("connect: all / one socket p50 / p99", f"{connect_wall:.1f} s / {connect['p50']:.0f} / "
                                                    f"{connect['p99']:.0f} ms", ""),
            ("server RSS before → with all open", f"{rss_before:.0f} → {held['rss']:.0f} MB "
                                                  f"({1024 * (held['rss'] - rss_before) / max(connected, 1):.0f} KB "
                                                  f"a socket)", "<= 600 MB"),
            ("server threads with all open", held["threads"], ""),
            ("kiosk tickets issued meanwhile", f"{kiosk_ms['n']} of {args.kiosk_requests}", ""),
            ("kiosk issue p50 / p99 / max", f"{kiosk_ms['p50']:.1f} / {kiosk_ms['p99']:.1f} / {kiosk_ms['max']:.1f} ms",
             "p99 <= 50 ms"),
            ("calls made", len(sent), f"{args.calls}"),
            ("call-next HTTP answer p50 / p99", f"{answers['p50']:.1f} / {answers['p99']:.1f} ms", ""),
            ("deliveries measured", calls["n"], f"{len(sent) * connected}"),
            ("call → every socket p50 / p95", f"{calls['p50']:.1f} / {calls['p95']:.1f} ms", ""),
            ("call → every socket p99 / max", f"{calls['p99']:.1f} / {calls['max']:.1f} ms",
             "p99 <= 250 ms (2,000), <= 500 ms (5,000)"),
            ("missed deliveries", missed, "0"),
            ("sockets dropped / still connected at the end", f"{dropped} / {still_connected}", f"0 / {connected}"),
            ("HTTP errors", len(errors), "0"), ("server log errors", len(log_errors), "0"),
            ("server CPU (after connect)", f"{usage['cpu_s']:.1f} s ({usage['cpu_pct']:.0f}% of one core)", ""),
            ("server peak RSS (VmHWM)", f"{usage['peak_rss']:.0f} MB", "<= 600 MB"),
            ("CPU of the client processes (while held)", f"{clients_cpu:.1f} s", "")]
    print(table(f"Idle sockets: {args.sockets} anonymous Socket.IO connections ({args.client} clients) in "
                f"{args.processes} client processes, "
                f"production command (gunicorn.conf.py), {args.calls} calls at {args.rate:g}/s, "
                f"{args.kiosk_requests} kiosk tickets (LUOT_TTS=none)", rows, ("measure", "value", "target")))
    for line in (connect_errors + errors + log_errors)[:5]:
        print("  error:", line)
    ok = (connected == args.sockets and not errors and not log_errors and not missed and dropped == 0
          and still_connected == connected)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
