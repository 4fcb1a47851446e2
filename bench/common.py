"""What the benchmarks share: a bench centre, the real server started with the production command,
Socket.IO screens, percentiles, the machine's description and a plain-text table."""
from __future__ import annotations

import asyncio
import json
import os
import platform
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

VENV_BIN = Path(sys.executable).parent
GUNICORN = str(VENV_BIN / "gunicorn")
# The README's production command; the bind address comes from LUOT_HOST / LUOT_PORT in gunicorn.conf.py.
PRODUCTION_COMMAND = [GUNICORN, "-c", "gunicorn.conf.py", "server:create_app()"]


# ---- the centre -------------------------------------------------------------------------------

def bench_centre(counters: int, services_per_counter: str = "demo", kiosk_tickets_per_minute: int = 100_000) -> dict:
    """The demo centre's services and procedures with `counters` counters.

    `services_per_counter` "demo" reuses the demo centre's counter -> services pattern in turn (a
    realistic spread); "all" makes every counter serve every service. The kiosk rate limit (30 a minute
    per kiosk in the demo centre) is raised so a benchmark measures the server, not the limiter.
    """
    from queueing import centre
    configuration = centre.demo_configuration()
    configuration["centre"]["settings"] = {"kiosk_tickets_per_minute": kiosk_tickets_per_minute}
    codes = [service["code"] for service in configuration["services"]]
    pattern = centre.DEMO_COUNTERS
    configuration["counters"] = []
    for number in range(1, counters + 1):
        name, fields, floor = pattern[(number - 1) % len(pattern)]
        configuration["counters"].append({
            "number": number, "name": f"Quầy {number}", "floor": floor,
            "services": codes if services_per_counter == "all" else fields})
    return configuration


class Credentials:
    """The passwords and kiosk token printed once on first start (instance/credentials.txt, written by
    server.py), plus extra kiosk tokens; the tests read the file with this too (tests/conftest.py)."""

    def __init__(self, text: str):
        self.passwords = dict(re.findall(r"^\s+\w+\s+(\S+)\s+(\S+)$", text, flags=re.M))
        self.kiosk_tokens = [re.search(r"kiosk token: (\S+)", text).group(1)]

    @property
    def kiosk_token(self) -> str:
        """The token of the kiosk created on first start."""
        return self.kiosk_tokens[0]


def prepare_instance(folder: Path, counters: int, kiosks: int = 1, services_per_counter: str = "demo") -> Credentials:
    """Create the database (centre, staff, kiosks) the way `server.py init` and `device add` do."""
    from queueing import accounts, store
    from server import initialise
    folder.mkdir(parents=True, exist_ok=True)
    centre_file = folder / "centre.json"
    centre_file.write_text(json.dumps(bench_centre(counters, services_per_counter), ensure_ascii=False),
                           encoding="utf-8")
    centre_id = initialise(folder / "luot.sqlite3", folder, str(centre_file), announce=lambda *_: None)
    credentials = Credentials((folder / "credentials.txt").read_text(encoding="utf-8"))
    db = store.connect(folder / "luot.sqlite3")
    try:
        for number in range(2, kiosks + 1):
            credentials.kiosk_tokens.append(
                accounts.create_device(db, centre_id, f"Kiosk {number}", "kiosk", time.time(), printer_uri="none"))
        db.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        db.conn.close()
    return credentials


# ---- the server -------------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Server:
    """The real server as a subprocess on a loopback port (production command by default)."""

    def __init__(self, folder: Path, command: list[str] | None = None, env: dict | None = None,
                 root: Path = ROOT, cpus: set[int] | None = None):
        self.folder, self.root, self.cpus = folder, Path(root), cpus
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.command = command or PRODUCTION_COMMAND
        self.env = {**os.environ, "LUOT_INSTANCE": str(folder), "LUOT_HOST": "127.0.0.1",
                    "LUOT_PORT": str(self.port), "LUOT_TTS": "none", "PYTHONUNBUFFERED": "1",
                    # every benchmark screen comes from this one machine; a centre's TVs and phones have
                    # addresses of their own (bench_sockets.py spreads its sockets over 127.x.y.z)
                    "LUOT_SOCKETS_PER_ADDRESS": "100000", **(env or {})}
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 60.0) -> "Server":
        self.log_path = self.folder / f"server-{self.port}.log"
        self.log = open(self.log_path, "w")
        self.process = subprocess.Popen(self.command, cwd=self.root, env=self.env, stdout=self.log,
                                        stderr=subprocess.STDOUT, start_new_session=True,
                                        preexec_fn=self._in_child)
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited:\n{self.log_path.read_text()}")
            try:
                if requests.get(self.url + "/api/v1/services", timeout=2).status_code == 200:
                    return self
            except requests.RequestException:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"server did not start:\n{self.log_path.read_text()}")

    def _in_child(self) -> None:
        die_with_parent()
        if self.cpus:
            os.sched_setaffinity(0, self.cpus)

    def worker_pid(self) -> int:
        """The process that serves requests: gunicorn's single worker, or the server itself."""
        children = _children(self.process.pid)
        return children[0] if children else self.process.pid

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
        if getattr(self, "log", None):
            self.log.close()

    def errors_in_log(self) -> list[str]:
        """Tracebacks and worker timeouts the server logged."""
        text = self.log_path.read_text(errors="replace")
        return [line for line in text.splitlines()
                if "Traceback" in line or "WORKER TIMEOUT" in line or "ERROR" in line]

    def login(self, username: str, password: str) -> dict:
        response = requests.post(self.url + "/api/v1/auth/login", json={"username": username, "password": password},
                                 timeout=30)
        response.raise_for_status()
        return {"Authorization": "Bearer " + response.json()["token"]}


def die_with_parent() -> None:
    """In a child (server, client process): the kernel sends SIGTERM when the benchmark dies, so an
    interrupted run leaves no stray server or client behind."""
    import ctypes
    PR_SET_PDEATHSIG = 1
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def _children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(child) for child in text.split()]


class ProcessMeter:
    """CPU time and resident memory of a process from /proc: VmHWM is the kernel's own peak RSS."""

    def __init__(self, pid: int):
        self.pid = pid
        self.ticks = os.sysconf("SC_CLK_TCK")
        self.start_cpu = self.cpu_seconds()
        self.start_wall = time.perf_counter()

    def cpu_seconds(self) -> float:
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / self.ticks  # utime + stime

    def memory_mb(self) -> dict:
        status = Path(f"/proc/{self.pid}/status").read_text()
        values = dict(re.findall(r"^(Vm\w+|Threads):\s+(\d+)", status, flags=re.M))
        return {"rss": int(values["VmRSS"]) / 1024, "peak_rss": int(values["VmHWM"]) / 1024,
                "threads": int(values["Threads"])}

    def report(self) -> dict:
        wall = time.perf_counter() - self.start_wall
        cpu = self.cpu_seconds() - self.start_cpu
        return {"cpu_s": cpu, "wall_s": wall, "cpu_pct": 100 * cpu / wall if wall else 0.0, **self.memory_mb()}


# ---- Socket.IO screens ------------------------------------------------------------------------

class _Recorder:
    """What every benchmark screen keeps: each awaited event's arrival (CLOCK_MONOTONIC) and payload,
    and its disconnections."""

    def _record(self, client, events) -> None:
        self.client = client
        self.received: dict[str, list] = {name: [] for name in events}
        self.disconnects: list[tuple[float, object]] = []
        client.on("disconnect", lambda *reason: self.disconnects.append((time.monotonic(), reason)))
        for name in events:
            client.on(name, self._recorder(name))

    def _recorder(self, name):
        bucket = self.received[name]

        def record(data):
            bucket.append((time.monotonic(), data))
        return record

    def _auth(self):
        return {"token": self.token} if self.token else None


class Screen(_Recorder):
    """One Socket.IO client over WebSocket (a display, a monitor or a counter panel) recording arrivals.

    python-socketio's threaded client: a few threads per connection, fine for a handful of screens."""

    def __init__(self, url: str, token: str | None = None, events=("ticket_called",)):
        import socketio
        self.url, self.token = url, token
        self._record(socketio.Client(reconnection=False), events)
        self.snapshot = threading.Event()
        self.client.on("snapshot", lambda _data: self.snapshot.set())

    def connect(self, timeout: float = 30.0) -> "Screen":
        self.client.connect(self.url, transports=["websocket"], wait_timeout=timeout, auth=self._auth())
        if not self.snapshot.wait(timeout):
            raise RuntimeError("no snapshot after connect")
        return self

    def close(self) -> None:
        try:
            self.client.disconnect()
        except Exception:  # noqa: BLE001 - a benchmark tears down whatever is left
            pass


class AsyncScreen(_Recorder):
    """The same screen on an asyncio loop (python-socketio's AsyncClient over aiohttp).

    One process holds dozens of these without threads of their own. With the threaded client, 25
    screens in a process are ~75 threads taking turns at one GIL, and the time a message waits for
    its thread is added to the latency being measured (bench/RESULTS.md)."""

    def __init__(self, url: str, token: str | None = None, events=("ticket_called",)):
        import socketio
        self.url, self.token = url, token
        self._record(socketio.AsyncClient(reconnection=False), events)
        self.snapshot = asyncio.Event()
        self.client.on("snapshot", lambda _data: self.snapshot.set())

    async def connect(self, timeout: float = 30.0) -> "AsyncScreen":
        await self.client.connect(self.url, transports=["websocket"], wait_timeout=timeout, auth=self._auth())
        await asyncio.wait_for(self.snapshot.wait(), timeout)
        return self

    async def close(self) -> None:
        try:
            await self.client.disconnect()
        except Exception:  # noqa: BLE001 - a benchmark tears down whatever is left
            pass


def connect_screens(url: str, count: int, token: str | None = None, events=("ticket_called",),
                    parallel: int = 10) -> list[Screen]:
    """Connect `count` screens, `parallel` at a time (a hall of TVs switched on together)."""
    screens = [Screen(url, token, events) for _ in range(count)]
    errors = []

    def connect_some(part):
        for screen in part:
            try:
                screen.connect()
            except Exception as error:  # noqa: BLE001
                errors.append(error)
    threads = [threading.Thread(target=connect_some, args=(screens[i::parallel],)) for i in range(parallel)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise RuntimeError(f"{len(errors)} screens failed to connect: {errors[0]!r}")
    return screens


async def connect_async_screens(url: str, count: int, token: str | None = None, events=("ticket_called",),
                                parallel: int = 10) -> list[AsyncScreen]:
    """`connect_screens` for AsyncScreens on the running loop."""
    screens = [AsyncScreen(url, token, events) for _ in range(count)]
    gate = asyncio.Semaphore(parallel)

    async def connect(screen):
        async with gate:
            await screen.connect()
    outcomes = await asyncio.gather(*(connect(screen) for screen in screens), return_exceptions=True)
    errors = [outcome for outcome in outcomes if isinstance(outcome, BaseException)]
    if errors:
        raise RuntimeError(f"{len(errors)} screens failed to connect: {errors[0]!r}")
    return screens


# ---- figures ----------------------------------------------------------------------------------

def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of a list, exact: no interpolation."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), int(-(-q * len(ordered) // 100))))
    return ordered[rank - 1]


def summary_ms(seconds: list[float]) -> dict:
    values = [s * 1000 for s in seconds]
    return {"n": len(values), "p50": percentile(values, 50), "p95": percentile(values, 95),
            "p99": percentile(values, 99), "max": max(values) if values else float("nan"),
            "mean": sum(values) / len(values) if values else float("nan")}


def machine() -> dict:
    """nproc, memory, CPU model, Python and the date, for RESULTS.md."""
    cpu = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    memory_kb = int(re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text()).group(1))
    return {"nproc": os.cpu_count(), "memory_gib": round(memory_kb / 1024 / 1024, 1), "cpu": cpu,
            "python": platform.python_version(), "kernel": platform.release(),
            "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "load_before": " ".join(f"{value:.2f}" for value in os.getloadavg())}


def print_machine() -> None:
    info = machine()
    print(f"machine: {info['nproc']} CPUs ({info['cpu']}), {info['memory_gib']} GiB, Python {info['python']}, "
          f"Linux {info['kernel']}; {info['date']}; load average before: {info['load_before']}")


def table(title: str, rows: list[tuple], headers: tuple) -> str:
    """A Markdown table (readable in a terminal too)."""
    cells = [tuple(_cell(value) for value in row) for row in rows]
    widths = [max(len(str(h)), *(len(row[i]) for row in cells)) for i, h in enumerate(headers)]
    lines = [f"\n{title}", "| " + " | ".join(str(h).ljust(w) for h, w in zip(headers, widths)) + " |",
             "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
    lines += ["| " + " | ".join(c.ljust(w) for c, w in zip(row, widths)) + " |" for row in cells]
    return "\n".join(lines)


def _cell(value) -> str:
    if isinstance(value, float):
        return f"{value:.1f}" if abs(value) >= 10 else f"{value:.2f}"
    return str(value)


def scratch_folder(prefix: str, keep: bool = False) -> Path:
    """A temporary instance folder, removed at exit unless kept (to read the server log)."""
    folder = Path(tempfile.mkdtemp(prefix=f"luot-{prefix}-"))
    if not keep:
        import atexit
        atexit.register(shutil.rmtree, folder, ignore_errors=True)
    return folder
