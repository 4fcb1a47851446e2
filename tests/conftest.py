"""Fixtures with real parts: a SQLite file per test, the app, a fixed clock, tokens, a live server."""
from __future__ import annotations

import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import Credentials  # noqa: E402  (one reader of instance/credentials.txt)
from queueing import centre, store  # noqa: E402
from queueing.service import QueueService  # noqa: E402

VN = ZoneInfo("Asia/Ho_Chi_Minh")


class FakeClock:
    """A clock tests set and advance; returns UTC epoch seconds like time.time."""

    def __init__(self, local: str = "2026-11-24 08:00"):
        self.now = datetime.strptime(local, "%Y-%m-%d %H:%M").replace(tzinfo=VN).timestamp()

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds

    def set_local(self, local: str) -> None:
        self.now = datetime.strptime(local, "%Y-%m-%d %H:%M").replace(tzinfo=VN).timestamp()


@pytest.fixture
def clock():
    return FakeClock()


@pytest.fixture(scope="session")
def demo_database(tmp_path_factory):
    """The demo centre with its staff, built once (password hashing is slow on purpose)."""
    path = tmp_path_factory.mktemp("template") / "demo.sqlite3"
    db = store.connect(path)
    store.migrate(db)
    centre.load_configuration(db, centre.demo_configuration(), time.time())
    centre.create_staff(db, centre.DEMO_CENTRE_ID, time.time())
    db.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.conn.close()
    return path


@pytest.fixture
def db_path(tmp_path, demo_database):
    """A fresh copy of the demo centre's SQLite file for one test."""
    path = tmp_path / "luot.sqlite3"
    shutil.copyfile(demo_database, path)
    return path


@pytest.fixture
def db(db_path):
    connection = store.connect(db_path)
    yield connection
    connection.conn.close()


@pytest.fixture
def queue(db, clock):
    return QueueService(db, centre.DEMO_CENTRE_ID, clock=clock)


def rows(app, sql, params=()):
    """Rows of a query on an app's database, read on a connection of its own."""
    db = store.connect(app.config["DATABASE"])
    try:
        return store.all_rows(db, sql, params)
    finally:
        db.conn.close()


def clerk_id(db, counter_number: int) -> int:
    return store.scalar(db, "SELECT id FROM users WHERE username = ?", (f"quay{counter_number}",))


def counter_id(db, counter_number: int) -> int:
    return store.scalar(db, "SELECT id FROM counters WHERE number = ?", (counter_number,))


@pytest.fixture
def open_counter(queue, db):
    """Sign the demo clerk in at a counter and return (counter id, clerk id)."""
    def sign_in(number: int):
        ids = counter_id(db, number), clerk_id(db, number)
        queue.sign_in(*ids)
        return ids
    return sign_in


def table_contents(db_path: str | Path) -> dict[str, list[tuple]]:
    """Every table's rows in a stable order, to compare two databases."""
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        tables = [row[0] for row in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")]
        return {table: sorted(conn.execute(f'SELECT * FROM "{table}"').fetchall(), key=repr) for table in tables}
    finally:
        conn.close()


TEST_SECRET = "test-secret-key-for-luot"


@pytest.fixture(scope="session")
def app_instance_template(tmp_path_factory):
    """An instance folder initialised once by the server itself (database, credentials)."""
    from server import initialise
    folder = tmp_path_factory.mktemp("instance-template")
    initialise(folder / "luot.sqlite3", folder, announce=lambda *_: None)
    db = store.connect(folder / "luot.sqlite3")
    db.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.conn.close()
    return folder


def make_app(folder: Path, template: Path, clock, tts: str = "none", queue_push_ms: float = 0):
    """The app on a copy of the initialised instance folder, with its credentials attached.

    Waiting counts are pushed at once (not the served default, one every 250 ms) so that tests with
    Flask-SocketIO's synchronous test client see every `queue_changed` of a request when it returns;
    the held-back summaries have their own tests (test_push.py) and every live-server test runs the default."""
    from server import create_app
    shutil.copytree(template, folder)
    application = create_app({"INSTANCE": str(folder), "DATABASE": str(folder / "luot.sqlite3"), "TTS": tts,
                              "CLOCK": clock, "SECRET_KEY": TEST_SECRET, "TESTING": True,
                              "QUEUE_PUSH_MS": queue_push_ms})
    application.credentials = Credentials((folder / "credentials.txt").read_text())
    return application


@pytest.fixture
def app(tmp_path, clock, app_instance_template):
    return make_app(tmp_path / "instance", app_instance_template, clock)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def api(app, client):
    """Helpers that log in and call the API with bearer tokens."""
    class Api:
        credentials = app.credentials

        def token(self, username: str) -> str:
            response = client.post("/api/v1/auth/login",
                                   json={"username": username, "password": self.credentials.passwords[username]})
            assert response.status_code == 200, response.json
            return response.json["token"]

        def headers(self, username: str | None = None, token: str | None = None) -> dict:
            token = token or (self.token(username) if username else self.credentials.kiosk_token)
            return {"Authorization": f"Bearer {token}"}

        def issue(self, service="TP", **extra):
            response = client.post("/api/v1/tickets", json={"service": service, **extra}, headers=self.headers())
            assert response.status_code == 201, response.json
            return response.json
    return Api()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class LiveServer:
    """A real server process on a loopback port, as the README runs it."""

    def __init__(self, folder: Path, command: list[str] | None = None, env: dict | None = None):
        self.folder = folder
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {**os.environ, "LUOT_INSTANCE": str(folder), "LUOT_PORT": str(self.port),
                    "LUOT_HOST": "127.0.0.1", "LUOT_TTS": "none", "PYTHONUNBUFFERED": "1", **(env or {})}
        self.command = command or [sys.executable, "server.py"]
        self.process = None

    def start(self, timeout: float = 30.0) -> "LiveServer":
        self.log = open(self.folder / f"server-{time.time_ns()}.log", "w")
        self.process = subprocess.Popen(self.command, cwd=ROOT, env=self.env, stdout=self.log,
                                        stderr=subprocess.STDOUT)
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited: {self.read_log()}")
            try:
                if requests.get(self.url + "/api/v1/services", timeout=1).status_code == 200:
                    self.credentials = Credentials((self.folder / "credentials.txt").read_text())
                    return self
            except requests.RequestException:
                time.sleep(0.1)
        raise RuntimeError(f"server did not start: {self.read_log()}")

    def read_log(self) -> str:
        self.log.flush()
        return "".join(path.read_text() for path in sorted(self.folder.glob("server-*.log")))

    def stop(self, kill: bool = False) -> None:
        if self.process and self.process.poll() is None:
            (self.process.kill if kill else self.process.terminate)()
            self.process.wait(timeout=15)
        self.log.close()

    def login(self, username: str) -> dict:
        response = requests.post(self.url + "/api/v1/auth/login", timeout=10,
                                 json={"username": username, "password": self.credentials.passwords[username]})
        response.raise_for_status()
        return {"Authorization": "Bearer " + response.json()["token"]}

    @property
    def kiosk(self) -> dict:
        return {"Authorization": "Bearer " + self.credentials.kiosk_token}


CHROMIUM = "/usr/bin/chromium"  # Debian's; scripts/install.sh --test installs it (never a downloaded browser)
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic", "--disable-dev-shm-usage"]


@pytest.fixture(scope="module")
def browser():
    """Headless Debian Chromium driven by Playwright, one per test module."""
    from playwright import sync_api
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def live_server(tmp_path):
    server = LiveServer(tmp_path).start()
    yield server
    server.stop()


def pytest_terminal_summary(terminalreporter):
    """Figures the closing notes quote: role-matrix cells and schemathesis cases, when those tests ran."""
    for module_name, function in (("tests.test_role_matrix", "matrix_summary"),
                                  ("tests.test_openapi", "schemathesis_summary")):
        module = sys.modules.get(module_name)
        line = getattr(module, function)() if module else None
        if line:
            terminalreporter.write_line(line)
