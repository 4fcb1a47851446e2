"""Cost of the hot paths inside one process: milliseconds and SQL statements per operation.

Builds the real app (create_app, LUOT_TTS=none) on a temporary database, fills the queue, and
times each hot path through Flask's and Flask-SocketIO's test clients, so the figures are the
server's own work without network or client noise:

  issue        POST /api/v1/tickets (kiosk token)
  call-next    POST /api/v1/counters/<id>/call-next (clerk token), then no-show to free the counter
  queue        GET /api/v1/queue (what a monitor polls)
  snapshot     a display's Socket.IO connect: rooms + `snapshot`

`--profile issue` (or call-next, queue, snapshot) prints a pyinstrument profile of that path
(pyinstrument is a development tool: `pip install pyinstrument`; not needed for the table).

    .venv/bin/python bench/bench_profile.py [--waiting 300] [--repeat 300] [--profile issue]
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import ROOT, prepare_instance, print_machine, scratch_folder, table  # noqa: E402

SERVICES = ["TP", "CT", "CA_CT", "CA_CC", "DD", "XD", "KD", "BTXH", "LLTP", "GT", "BHXH"]


class StatementCounter:
    """Counts SQL statements on every connection store.connect opens (sqlite3 trace callback)."""

    def __init__(self):
        from queueing import store
        self.count = 0
        original = store.connect

        def counting_connect(path, *args, **kwargs):
            db = original(path, *args, **kwargs)
            db.conn.set_trace_callback(self._trace)
            return db
        store.connect = counting_connect

    def _trace(self, _sql):
        self.count += 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--waiting", type=int, default=300, help="tickets waiting before measuring")
    parser.add_argument("--repeat", type=int, default=300, help="operations timed per path")
    parser.add_argument("--profile", choices=["issue", "call-next", "queue", "snapshot"])
    parser.add_argument("--root", type=Path, default=ROOT, help="source tree to import the server from")
    args = parser.parse_args()
    if args.root.resolve() != ROOT:
        sys.path.insert(0, str(args.root.resolve()))
        for name in [n for n in sys.modules if n.split(".")[0] in ("queueing", "server", "web", "settings")]:
            del sys.modules[name]

    print_machine()
    folder = scratch_folder("bench-profile")
    counters = 20
    credentials = prepare_instance(folder, counters=counters, kiosks=1, services_per_counter="all")
    counter = StatementCounter()
    from server import create_app
    from web import socketio
    app = create_app({"INSTANCE": str(folder), "DATABASE": str(folder / "luot.sqlite3"), "TTS": "none",
                      "ANNOUNCE": lambda *_: None})
    client = app.test_client()
    kiosk = {"Authorization": "Bearer " + credentials.kiosk_tokens[0]}
    clerks = {}
    for number in range(1, counters + 1):
        answer = client.post("/api/v1/auth/login", json={"username": f"quay{number}",
                                                         "password": credentials.passwords[f"quay{number}"]})
        clerks[number] = {"Authorization": "Bearer " + answer.json["token"]}
        assert client.post(f"/api/v1/counters/{number}/sign-in", headers=clerks[number]).status_code == 200
    admin = client.post("/api/v1/auth/login", json={"username": "admin", "password": credentials.passwords["admin"]})
    admin = {"Authorization": "Bearer " + admin.json["token"]}
    for index in range(args.waiting):
        assert client.post("/api/v1/tickets", json={"service": SERVICES[index % len(SERVICES)]},
                           headers=kiosk).status_code == 201

    state = {"issued": 0, "counter": 0}

    def issue():
        state["issued"] += 1
        response = client.post("/api/v1/tickets", json={"service": SERVICES[state["issued"] % len(SERVICES)]},
                               headers=kiosk)
        assert response.status_code == 201, response.json

    def call_next():
        state["counter"] = state["counter"] % counters + 1
        number = state["counter"]
        response = client.post(f"/api/v1/counters/{number}/call-next", headers=clerks[number])
        assert response.status_code == 200 and response.json["ticket"], response.json
        return number, response.json["ticket"]["id"]

    def free(called):
        number, ticket_id = called
        assert client.post(f"/api/v1/tickets/{ticket_id}/no-show", headers=clerks[number]).status_code == 200

    def queue():
        assert client.get("/api/v1/queue", headers=admin).status_code == 200

    def snapshot():
        display = socketio.test_client(app)
        # (a held-back queue_changed of an earlier operation may arrive first)
        assert "snapshot" in [message["name"] for message in display.get_received()]
        display.disconnect()

    paths = {"issue": (issue, None), "call-next": (call_next, free), "queue": (queue, None),
             "snapshot": (snapshot, None)}
    rows = []
    for name, (operation, cleanup) in paths.items():
        for _ in range(20):  # warm-up
            result = operation()
            if cleanup:
                cleanup(result)
        times, statements = [], []
        profiler = None
        if args.profile == name:
            from pyinstrument import Profiler
            profiler = Profiler(interval=0.0002)
            profiler.start()
        for _ in range(args.repeat):
            before = counter.count
            started = time.perf_counter()
            result = operation()
            times.append(time.perf_counter() - started)
            statements.append(counter.count - before)
            if cleanup:
                if profiler:
                    profiler.stop()
                cleanup(result)
                if profiler:
                    profiler.start()
        if profiler:
            profiler.stop()
            print(profiler.output_text(unicode=True, color=False, show_all=False))
        rows.append((name, f"{statistics.mean(times) * 1000:.2f}", f"{statistics.median(times) * 1000:.2f}",
                     f"{statistics.mean(statements):.0f}", f"{1 / statistics.mean(times):.0f}"))
        if name == "issue":
            # keep the queue long enough for call-next to always find a ticket
            for index in range(args.repeat + 40):
                client.post("/api/v1/tickets", json={"service": SERVICES[index % len(SERVICES)]}, headers=kiosk)

    print(table(f"Hot paths in process ({args.waiting}+ tickets waiting, {counters} counters open, "
                f"{args.repeat} operations each; SQL = statements traced per operation, incl. auth and commit)",
                rows, ("path", "mean ms", "median ms", "SQL statements", "ops/s on one core")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
