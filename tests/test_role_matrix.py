"""Who may do what: every HTTP endpoint and every Socket.IO event, for every kind of caller.

Columns: anonymous, kiosk, display, printer, the counter-1 tablet, the clerk signed in at counter 1
(with a called ticket), the clerk at counter 2 (free), a manager and an admin. Each cell starts from
the same database (restored with SQLite's backup API); a refused cell must also leave the database
untouched. A route or socket event missing from the matrix fails the test: new ones must say who
may use them.
"""
from __future__ import annotations

import shutil
import sqlite3
from dataclasses import dataclass
from typing import Callable

import pytest

import web
from queueing import accounts, centre, store
from queueing.service import QueueService
from tests.conftest import TEST_SECRET, FakeClock, clerk_id

ROLES = ["anonymous", "kiosk", "display", "printer", "tablet", "clerk1", "clerk2", "manager", "admin"]
STAFF = ["clerk1", "clerk2", "manager", "admin"]
DEVICES = ["kiosk", "display", "printer", "tablet"]
MANAGERS = ["manager", "admin"]
ALLOWED = "allowed"  # any answer but 401/403 (and no 5xx): the body's details belong to other tests
CARD = "038155000003|171234567|LÊ VĂN CƯỜNG|15071955|Nam|Xã Hải Long, Tỉnh Thanh Hóa|20042021"
CSRF = "matrix-csrf-token"
DOSSIER_CODE = "000.00.30.H56-261124-0001"


def only(allowed, ok=200, **overrides) -> dict:
    """Everyone refused (anonymous 401, others 403) except `allowed`, who get `ok`; then overrides."""
    expect = {role: 401 if role == "anonymous" else 403 for role in ROLES}
    expect.update({role: ok for role in allowed})
    expect.update(overrides)
    return expect


def everyone(status=200) -> dict:
    return {role: status for role in ROLES}


def pages(anonymous, clerk, manager, admin) -> dict:
    """A page: devices' bearer tokens mean nothing to pages, so they are anonymous there."""
    expect = {role: anonymous for role in ["anonymous"] + DEVICES}
    expect.update({"clerk1": clerk, "clerk2": clerk, "manager": manager, "admin": admin})
    return expect


@dataclass
class Row:
    method: str
    rule: str  # the Flask rule, to check that every route is in the matrix
    url: str  # may hold {T1}, {W1}, {D}, {spare}, {quay6}
    expect: dict
    body: dict | None = None
    form: dict | None = None
    prepare: Callable | None = None
    note: str = ""
    counts_failures: bool = False  # a refused sign-in is itself recorded (throttling)

    @property
    def page(self) -> bool:
        return not self.url.startswith("/api/")


def start_t1(world):
    world.queue().start(world.ids["T1"], 1, world.ids["clerk1"])


def no_show_w2(world):
    """Clerk 2 calls W2 (A004) out of order and marks it a no-show, so it may be restored."""
    queue = world.queue()
    queue.call_ticket(2, world.ids["clerk2"], "người cao tuổi", ticket_id=world.ids["W2"])
    queue.no_show(world.ids["W2"], 2, world.ids["clerk2"])


ROWS = [
    # ---- public API
    Row("GET", "/api/v1/services", "/api/v1/services", everyone()),
    Row("GET", "/api/v1/me", "/api/v1/me", everyone()),
    Row("GET", "/api/v1/openapi.json", "/api/v1/openapi.json", everyone()),
    Row("GET", "/api/v1/assistant/greeting", "/api/v1/assistant/greeting", everyone()),
    Row("POST", "/api/v1/assistant/ask", "/api/v1/assistant/ask", everyone(), body={"text": "làm giấy khai sinh"}),
    # Issue 12: ids are public (displays hear them); anonymous callers prove a ticket with its track_key.
    Row("GET", "/api/v1/tickets/<ticket_id>", "/api/v1/tickets/{W1}", {**everyone(), "anonymous": 404},
        note="by id: staff and devices; anonymously 404"),
    Row("GET", "/api/v1/tickets/<ticket_id>", "/api/v1/tickets/{W1}?key={W1key}", everyone(),
        note="with its key: anyone"),
    Row("POST", "/api/v1/tickets/<ticket_id>/rating", "/api/v1/tickets/{D}/rating",
        {**only(["tablet"]), "anonymous": 404}, body={"score": 3},
        note="without the key only the counter-1 tablet (it served there); the id alone rates nothing"),
    Row("POST", "/api/v1/tickets/<ticket_id>/rating", "/api/v1/tickets/{D}/rating", everyone(),
        body={"score": 3, "key": "{Dkey}"}, note="the ticket holder rates with its key"),
    Row("POST", "/api/v1/auth/login", "/api/v1/auth/login", everyone(401),
        body={"username": 1, "password": 1}, note="only the credentials decide",
        counts_failures=True),
    Row("POST", "/api/v1/auth/logout", "/api/v1/auth/logout", only(STAFF)),
    # ---- kiosk
    Row("POST", "/api/v1/tickets", "/api/v1/tickets", only(["kiosk"] + STAFF, 201), body={"service": "TP"}),
    Row("POST", "/api/v1/kiosk/back", "/api/v1/kiosk/back", only(["kiosk"], 404),
        body={"scan": "http://192.168.1.10:5000/t/khong-co-phieu-nay"}, note="an unknown slip: 404 to the kiosk"),
    Row("POST", "/api/v1/citizen/check", "/api/v1/citizen/check", only(["kiosk"] + STAFF),
        body={"citizen_qr": CARD}),
    # ---- appointments (issue 15): the code is the booking's only proof
    Row("GET", "/api/v1/appointments/slots", "/api/v1/appointments/slots?service=TP&date=2026-11-24", everyone()),
    Row("POST", "/api/v1/appointments", "/api/v1/appointments", everyone(201),
        body={"service": "TP", "start": "2026-11-24T10:00:00+07:00", "name": "Phạm Thị Dung", "phone": "0987654321"}),
    Row("GET", "/api/v1/appointments/<code>", "/api/v1/appointments/{BK}", everyone()),
    Row("PATCH", "/api/v1/appointments/<code>", "/api/v1/appointments/{BK}", everyone(),
        body={"start": "2026-11-24T11:00:00+07:00"}),
    Row("DELETE", "/api/v1/appointments/<code>", "/api/v1/appointments/{BK}", everyone()),
    Row("POST", "/api/v1/appointments/<code>/check-in", "/api/v1/appointments/{BK}/check-in",
        only(["kiosk"] + STAFF, 201)),
    Row("POST", "/api/v1/appointments/check-in", "/api/v1/appointments/check-in", only(["kiosk"] + STAFF, 404),
        body={"citizen_qr": CARD}, note="that card has no booking today"),
    Row("GET", "/api/v1/appointments", "/api/v1/appointments", only(MANAGERS)),
    Row("GET", "/api/v1/stats/channels", "/api/v1/stats/channels", only(MANAGERS)),
    Row("POST", "/api/v1/join", "/api/v1/join", everyone(201), body={"service": "TP", "phone": "0987654321"}),
    Row("POST", "/api/v1/tickets/<ticket_id>/phone", "/api/v1/tickets/{W1}/phone", only(["kiosk"] + STAFF),
        body={"phone": "0987654321"}, note="the kiosk's keypad right after the ticket"),
    # ---- screens and monitors
    Row("GET", "/api/v1/queue", "/api/v1/queue", only(DEVICES + STAFF)),
    Row("GET", "/api/v1/counters/<int:counter_id>", "/api/v1/counters/1",
        only(["tablet", "clerk1", "manager", "admin"])),
    # ---- a clerk's own counter
    Row("POST", "/api/v1/counters/<int:counter_id>/call-next", "/api/v1/counters/2/call-next", only(["clerk2"])),
    Row("POST", "/api/v1/counters/<int:counter_id>/call-number", "/api/v1/counters/2/call-number",
        only(["clerk2"]), body={"number": "A003", "reason": "người khuyết tật"}),
    Row("POST", "/api/v1/counters/<int:counter_id>/pause", "/api/v1/counters/1/pause", only(["clerk1"]),
        body={"reason": "meeting"}),
    Row("POST", "/api/v1/counters/<int:counter_id>/resume", "/api/v1/counters/1/resume", only(["clerk1"])),
    Row("POST", "/api/v1/counters/<int:counter_id>/sign-out", "/api/v1/counters/1/sign-out", only(["clerk1"])),
    Row("POST", "/api/v1/counters/<int:counter_id>/sign-in", "/api/v1/counters/3/sign-in",
        only(MANAGERS, clerk1=409, clerk2=409), note="a clerk already at a counter must leave it first"),
    # ---- the ticket called at counter 1
    Row("POST", "/api/v1/tickets/<ticket_id>/recall", "/api/v1/tickets/{T1}/recall", only(["clerk1"])),
    Row("POST", "/api/v1/tickets/<ticket_id>/start", "/api/v1/tickets/{T1}/start", only(["clerk1"])),
    Row("POST", "/api/v1/tickets/<ticket_id>/no-show", "/api/v1/tickets/{T1}/no-show", only(["clerk1"])),
    Row("POST", "/api/v1/tickets/<ticket_id>/finish", "/api/v1/tickets/{T1}/finish", only(["clerk1"]),
        body={"procedure": "TP-01"}, prepare=start_t1),
    Row("POST", "/api/v1/tickets/<ticket_id>/transfer", "/api/v1/tickets/{T1}/transfer", only(["clerk1"]),
        body={"service": "LLTP"}),
    Row("POST", "/api/v1/tickets/<ticket_id>/call", "/api/v1/tickets/{W1}/call", only(["clerk2"], clerk1=409),
        body={"reason": "người cao tuổi"}, note="clerk 1 may call out of order, but is busy"),
    Row("POST", "/api/v1/tickets/<ticket_id>/priority", "/api/v1/tickets/{T1}/priority",
        only(["clerk1"] + MANAGERS), body={"priority": "NCT", "reason": "khai nhầm nhóm"},
        note="the counter that called it, or a manager"),
    # ---- a no-show (W2, made by `no_show_w2`) restored
    Row("POST", "/api/v1/tickets/<ticket_id>/restore", "/api/v1/tickets/{W2}/restore", only(STAFF),
        prepare=no_show_w2, note="a clerk signed in at any counter, or a manager"),
    Row("POST", "/api/v1/counters/<int:counter_id>/restore", "/api/v1/counters/2/restore", only(["clerk2"]),
        body={"number": "A004"}, prepare=no_show_w2),
    # ---- statistics: managers
    Row("POST", "/api/v1/day/close", "/api/v1/day/close", only(MANAGERS)),
    Row("GET", "/api/v1/holidays", "/api/v1/holidays", everyone()),
    Row("POST", "/api/v1/holidays", "/api/v1/holidays", only(["admin"], 201),
        body={"date": "2026-12-31", "name": "Tất niên"}),
    Row("DELETE", "/api/v1/holidays/<day>", "/api/v1/holidays/2026-12-31", only(["admin"], ALLOWED)),
    Row("GET", "/api/v1/stats", "/api/v1/stats", only(MANAGERS)),
    Row("GET", "/api/v1/stats/today", "/api/v1/stats/today", only(MANAGERS)),
    Row("GET", "/api/v1/stats/charts", "/api/v1/stats/charts", only(MANAGERS)),
    Row("GET", "/api/v1/stats/export", "/api/v1/stats/export?format=csv", only(MANAGERS)),
    Row("GET", "/api/v1/shipping/status", "/api/v1/shipping/status", only(MANAGERS)),
    # ---- administration: managers read, the admin changes
    Row("GET", "/api/v1/admin/<section>", "/api/v1/admin/users", only(MANAGERS)),
    Row("POST", "/api/v1/admin/<section>", "/api/v1/admin/priority_groups", only(["admin"], ALLOWED),
        body={"code": "MATRIX", "name": "Nhóm thử"}),
    Row("PATCH", "/api/v1/admin/<section>/<int:item_id>", "/api/v1/admin/counters/6", only(["admin"], ALLOWED),
        body={"name": "Quầy 6 – Tổng hợp"}),
    Row("POST", "/api/v1/admin/<section>/<int:item_id>/<any(activate, deactivate):verb>",
        "/api/v1/admin/counters/6/deactivate", only(["admin"], ALLOWED)),
    Row("POST", "/api/v1/admin/users/<int:item_id>/reset-password", "/api/v1/admin/users/{quay6}/reset-password",
        only(["admin"], ALLOWED), body={}),
    Row("POST", "/api/v1/admin/devices/<int:item_id>/revoke", "/api/v1/admin/devices/{spare}/revoke",
        only(["admin"], ALLOWED)),
    Row("PATCH", "/api/v1/admin/settings", "/api/v1/admin/settings", only(["admin"], ALLOWED),
        body={"notice": "Thông báo thử"}),
    Row("PUT", "/api/v1/admin/configuration", "/api/v1/admin/configuration", only(["admin"], ALLOWED),
        body="configuration"),
    Row("GET", "/api/v1/admin/vocabulary", "/api/v1/admin/vocabulary", only(MANAGERS)),
    Row("PUT", "/api/v1/admin/vocabulary", "/api/v1/admin/vocabulary", only(["admin"], ALLOWED),
        body={"stopwords": ["ạ"]}),
    Row("GET", "/api/v1/admin/life-events", "/api/v1/admin/life-events", only(MANAGERS)),
    Row("POST", "/api/v1/admin/life-events", "/api/v1/admin/life-events", only(["admin"], ALLOWED),
        body={"code": "matrix", "name": "Thử", "procedures": ["TP-01"]}),
    Row("POST", "/api/v1/admin/life-events/<code>/<any(activate, deactivate):verb>",
        "/api/v1/admin/life-events/death/deactivate", only(["admin"], ALLOWED)),
    Row("GET", "/api/v1/admin/voice-pack", "/api/v1/admin/voice-pack", only(["admin"])),
    Row("PUT", "/api/v1/admin/voice-pack/<key>", "/api/v1/admin/voice-pack/hai", only(["admin"], ALLOWED)),
    Row("GET", "/api/v1/admin/voice-pack/<key>", "/api/v1/admin/voice-pack/hai", only(["admin"], 404),
        note="404 until the segment is recorded"),
    Row("GET", "/api/v1/admin/voice-pack/<key>/sample", "/api/v1/admin/voice-pack/hai/sample", only(["admin"])),
    Row("GET", "/api/v1/admin/voice-pack/export", "/api/v1/admin/voice-pack/export", only(["admin"])),
    Row("POST", "/api/v1/admin/voice-pack/import", "/api/v1/admin/voice-pack/import", only(["admin"], ALLOWED)),


    # ---- dossiers (issue 16): staff, or the citizen with the receipt's key; the webhook only by its signature
    Row("GET", "/api/v1/dossiers", "/api/v1/dossiers", only(STAFF)),
    Row("GET", "/api/v1/procedures/<code>/due-date", "/api/v1/procedures/CT-R02/due-date", only(STAFF)),
    Row("GET", "/api/v1/dossiers/<code>", "/api/v1/dossiers/{DC}", {**everyone(404), **{r: 200 for r in STAFF}},
        note="by code: staff; anyone else 404"),
    Row("GET", "/api/v1/dossiers/<code>", "/api/v1/dossiers/{DC}?key={DCkey}", everyone(),
        note="with the receipt's key: anyone"),
    Row("POST", "/api/v1/dossiers/<code>/ready", "/api/v1/dossiers/{DC}/ready", only(STAFF)),
    Row("POST", "/api/v1/dossiers/<code>/returned", "/api/v1/dossiers/{DC}/returned", only(STAFF)),
    Row("POST", "/api/v1/dossiers/<code>/paid", "/api/v1/dossiers/{DC}/paid", only(STAFF), body={"method": "cash"}),
    Row("GET", "/api/v1/dossiers/<code>/payment-qr", "/api/v1/dossiers/{DC}/payment-qr", only(STAFF, 409),
        note="409 until the centre sets its bank account"),
    Row("POST", "/api/v1/payments/webhook", "/api/v1/payments/webhook", everyone(404), body={"amount": 1},
        note="off (404) without LUOT_PAYMENT_WEBHOOK_SECRET; with it, only the signature decides"),
    Row("GET", "/d/<key>", "/d/{DCkey}", everyone()),
    Row("GET", "/d/<key>/receipt.png", "/d/{DCkey}/receipt.png", everyone(), note="the receipt's key proves it"),
    # ---- pages (browser session; devices are anonymous there)
    Row("GET", "/kiosk", "/kiosk", everyone()),
    Row("GET", "/display", "/display", everyone()),
    Row("GET", "/login", "/login", everyone()),
    Row("POST", "/login", "/login", everyone(401), form={"username": "nobody", "password": "wrong-password"},
        counts_failures=True),
    Row("POST", "/logout", "/logout", everyone(302), form={}),
    Row("GET", "/t/<track_key>", "/t/{W1key}", everyone()),
    Row("GET", "/t/<track_key>", "/t/{W1}", everyone(404), note="an old tracking link by ticket id"),
    Row("GET", "/t/<track_key>/qr.svg", "/t/{W1key}/qr.svg", everyone()),
    Row("GET", "/t/<track_key>/qr.svg", "/t/{W1}/qr.svg", everyone(404)),
    Row("GET", "/t/<track_key>/manifest.webmanifest", "/t/{W1key}/manifest.webmanifest", everyone()),
    Row("GET", "/t/<track_key>/manifest.webmanifest", "/t/{W1}/manifest.webmanifest", everyone(404)),
    Row("GET", "/kiosk/guidance.wav", "/kiosk/guidance.wav?screen=home", everyone(404),
        note="the tests' server speaks nothing (LUOT_TTS=none): code speech_off"),


    Row("GET", "/book", "/book", everyone()),
    Row("GET", "/join", "/join", everyone()),
    Row("GET", "/book/find", "/book/find?code={BK}", everyone(303)),
    Row("GET", "/book/<code>", "/book/{BK}", everyone()),
    Row("GET", "/book/<code>/qr.svg", "/book/{BK}/qr.svg", everyone()),
    Row("GET", "/book/<code>.ics", "/book/{BK}.ics", everyone()),
    Row("GET", "/rate/<int:counter_number>", "/rate/1", everyone()),
    Row("GET", "/audio/<key>.wav", "/audio/none.wav", everyone(404)),
    Row("GET", "/static/<path:filename>", "/static/js/common.js", everyone()),
    Row("GET", "/counter", "/counter", pages(302, 200, 200, 200)),
    Row("GET", "/manager", "/manager", pages(302, 403, 200, 200)),
    Row("GET", "/manager/stats", "/manager/stats", pages(302, 403, 200, 200)),
    Row("GET", "/manager/admin/", "/manager/admin/", pages(302, 403, 200, 200)),
    Row("GET", "/manager/admin/<any(services, procedures, counters, priority_groups, users, devices):section>",
        "/manager/admin/users", pages(302, 403, 200, 200)),
    Row("GET", "/manager/admin/<any(services, procedures, counters, priority_groups, users):section>/<int:item_id>",
        "/manager/admin/counters/6", pages(302, 403, 200, 200)),
    Row("GET", "/manager/admin/settings", "/manager/admin/settings", pages(302, 403, 200, 200)),
    Row("GET", "/manager/admin/audit", "/manager/admin/audit", pages(302, 403, 200, 200)),
    Row("GET", "/manager/admin/configuration", "/manager/admin/configuration", pages(302, 403, 200, 200)),
    Row("GET", "/manager/admin/configuration.json", "/manager/admin/configuration.json",
        pages(302, 403, 200, 200)),
    Row("POST", "/manager/admin/<any(services, procedures, counters, priority_groups, users, devices):section>",
        "/manager/admin/priority_groups", pages(302, 403, 403, ALLOWED), form={"code": "MATRIX", "name": "Thử"}),
    Row("POST", "/manager/admin/<any(services, procedures, counters, priority_groups, users):section>/<int:item_id>",
        "/manager/admin/counters/6", pages(302, 403, 403, ALLOWED), form={"name": "Quầy 6"}),
    Row("POST",
        "/manager/admin/<any(services, procedures, counters, priority_groups, users):section>/<int:item_id>/active",
        "/manager/admin/counters/6/active", pages(302, 403, 403, ALLOWED), form={}),
    Row("POST", "/manager/admin/users/<int:item_id>/password", "/manager/admin/users/{quay6}/password",
        pages(302, 403, 403, ALLOWED), form={}),
    Row("POST", "/manager/admin/devices/<int:item_id>/revoke", "/manager/admin/devices/{spare}/revoke",
        pages(302, 403, 403, ALLOWED), form={}),
    Row("POST", "/manager/admin/settings", "/manager/admin/settings", pages(302, 403, 403, ALLOWED),
        form={"notice": "Thông báo"}),
    Row("POST", "/manager/admin/configuration", "/manager/admin/configuration", pages(302, 403, 403, ALLOWED),
        form={}),
    Row("GET", "/manager/admin/holidays", "/manager/admin/holidays", pages(302, 403, 200, 200)),
    Row("GET", "/manager/admin/catalogue", "/manager/admin/catalogue", pages(302, 403, 200, 200)),
    Row("POST", "/manager/admin/catalogue", "/manager/admin/catalogue", pages(302, 403, 403, ALLOWED),
        form={"version": "1"}),
    Row("GET", "/manager/admin/vocabulary", "/manager/admin/vocabulary", pages(302, 403, 200, 200)),
    Row("GET", "/manager/admin/voice-pack", "/manager/admin/voice-pack", pages(302, 403, 200, 200)),
    Row("POST", "/manager/admin/vocabulary", "/manager/admin/vocabulary", pages(302, 403, 403, ALLOWED),
        form={"stopwords": "ạ"}),
    Row("POST", "/manager/admin/vocabulary/events", "/manager/admin/vocabulary/events",
        pages(302, 403, 403, ALLOWED), form={"code": "matrix", "name": "Thử", "procedures": "TP-01"}),
    Row("POST", "/manager/admin/vocabulary/events/<code>/active", "/manager/admin/vocabulary/events/death/active",
        pages(302, 403, 403, ALLOWED), form={"active": "0"}),
    Row("POST", "/manager/admin/holidays", "/manager/admin/holidays", pages(302, 403, 403, ALLOWED),
        form={"date": "2026-12-31", "name": "Tất niên"}),
    Row("POST", "/manager/admin/holidays/<day>/remove", "/manager/admin/holidays/2026-12-31/remove",
        pages(302, 403, 403, ALLOWED), form={}),
]


class World:
    """The app and a prepared database: counter 1 has a called ticket, counter 2 is free, tickets wait."""

    def __init__(self, folder, app, template, clock):
        self.folder, self.app, self.template, self.clock = folder, app, template, clock
        self.database = app.config["DATABASE"]
        self.tokens: dict[str, str] = {}
        self.ids: dict = {}
        self.watcher = sqlite3.connect(self.database)

    def queue(self):
        db = store.connect(self.database)
        return QueueService(db, centre.DEMO_CENTRE_ID, clock=self.clock)

    def restore(self) -> None:
        source, target = sqlite3.connect(self.template), sqlite3.connect(self.database)
        try:
            source.backup(target)
        finally:
            source.close()
            target.close()
        from kiosk.issuing import RateLimiter
        self.app.extensions["luot_rate_limiter"] = RateLimiter()

    def version(self) -> int:
        """Changes when any other connection commits to the database."""
        return self.watcher.execute("PRAGMA data_version").fetchone()[0]

    def url(self, row: Row) -> str:
        return row.url.format(**{key: value for key, value in self.ids.items() if isinstance(value, (str, int))})


@pytest.fixture(scope="module")
def world(tmp_path_factory, app_instance_template):
    from queueing import admin
    from server import create_app
    folder = tmp_path_factory.mktemp("matrix") / "instance"
    shutil.copytree(app_instance_template, folder)
    clock = FakeClock("2026-11-24 09:00")
    app = create_app({"INSTANCE": str(folder), "DATABASE": str(folder / "luot.sqlite3"), "TTS": "none",
                      "CLOCK": clock, "SECRET_KEY": TEST_SECRET, "TESTING": True,
                      "QUEUE_PUSH_MS": 0})  # every queue_changed at once, as in conftest.make_app
    db = store.connect(folder / "luot.sqlite3")
    now = clock()
    tokens = {"kiosk": (folder / "credentials.txt").read_text().split("kiosk token: ")[1].split()[0]}
    tokens["display"] = accounts.create_device(db, centre.DEMO_CENTRE_ID, "Màn hình sảnh", "display", now)
    kiosk_id = store.scalar(db, "SELECT id FROM devices WHERE kind = 'kiosk' ORDER BY id LIMIT 1")
    tokens["printer"] = accounts.create_device(db, centre.DEMO_CENTRE_ID, "Máy in sảnh", "printer", now,
                                               kiosk_id=kiosk_id)
    tokens["tablet"] = accounts.create_device(db, centre.DEMO_CENTRE_ID, "Máy tính bảng quầy 1", "counter", now,
                                              counter_id=1)
    accounts.create_device(db, centre.DEMO_CENTRE_ID, "Màn hình dự phòng", "display", now)
    manager_id = accounts.create_user(db, centre.DEMO_CENTRE_ID, "lan.manager", "mat-khau-rat-dai", "manager",
                                      "Quản lý Lan", now)
    users = {"clerk1": clerk_id(db, 1), "clerk2": clerk_id(db, 2), "manager": manager_id,
             "admin": store.scalar(db, "SELECT id FROM users WHERE username = 'admin'")}
    for role, user_id in users.items():
        tokens[role] = accounts.issue_staff_token(db, user_id, now)
    queue = QueueService(db, centre.DEMO_CENTRE_ID, clock=clock)
    done = queue.issue_ticket("TP").result
    queue.sign_in(1, users["clerk1"])
    queue.call_next(1, users["clerk1"])
    queue.start(done["id"], 1, users["clerk1"])
    # its dossier (issue 16): due today, a fee to pay, followed by the receipt's key
    receipt = queue.finish(done["id"], 1, users["clerk1"], ["TP-01"],
                           dossier={"code": DOSSIER_CODE, "fee": 20000}).result["ticket"]["dossier"]
    from queueing.citizen import minimise, parse_card_qr
    called = queue.issue_ticket("TP", citizen=minimise(parse_card_qr(CARD), b"k" * 32)).result
    queue.call_next(1, users["clerk1"])
    waiting = [queue.issue_ticket("TP").result for _ in range(2)]
    queue.sign_in(2, users["clerk2"])
    from queueing import appointments
    booking = appointments.book(queue, {"service": "TP", "start": "2026-11-24T09:15:00+07:00", "name": "Lê Văn Cường",
                                        "phone": "0912345678"}).result
    printer_id = store.scalar(db, "SELECT id FROM devices WHERE name = 'Máy in sảnh'")
    with store.transaction(db):
        store.insert(db, "print_jobs", {"id": "job-1", "centre_id": centre.DEMO_CENTRE_ID,
                                        "ticket_id": waiting[0]["id"], "device_id": printer_id, "status": "pending",
                                        "slip": "{}", "created_at": now, "updated_at": now})
    configuration = admin.export_configuration(db, centre.DEMO_CENTRE_ID)
    ids = {"D": done["id"], "T1": called["id"], "W1": waiting[0]["id"], "W2": waiting[1]["id"],
           "Dkey": done["track_key"], "W1key": waiting[0]["track_key"], "DC": DOSSIER_CODE, "DCkey": receipt["key"],
           "spare": store.scalar(db, "SELECT id FROM devices WHERE name = 'Màn hình dự phòng'"),
           "quay6": clerk_id(db, 6), **users, "configuration": configuration, "BK": booking["code"]}
    db.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.conn.close()
    template = folder.parent / "matrix-template.sqlite3"
    source, target = sqlite3.connect(folder / "luot.sqlite3"), sqlite3.connect(template)
    source.backup(target)
    source.close()
    target.close()
    world = World(folder, app, template, clock)
    world.tokens, world.ids = tokens, ids
    yield world
    world.watcher.close()


def request_as(world: World, role: str, row: Row):
    client = world.app.test_client()
    headers = {}
    url = world.url(row)
    if not row.page:  # the JSON API: bearer tokens
        if role != "anonymous":
            headers["Authorization"] = "Bearer " + world.tokens[role]
        body = world.ids["configuration"] if row.body == "configuration" else row.body
        if isinstance(body, dict):  # "{Dkey}" and the like name a prepared ticket's key
            body = {key: world.url(Row("", "", value, {})) if isinstance(value, str) and value.startswith("{")
                    else value for key, value in body.items()}
        return client.open(url, method=row.method, json=body, headers=headers)
    with client.session_transaction() as session:  # pages: a browser session with its CSRF token
        session["csrf"] = CSRF
        if role in STAFF:
            db = store.connect(world.database)
            user = accounts.user_by_id(db, world.ids[role])
            db.conn.close()
            session["user_id"] = user["id"]
            session["password_hash_tail"] = user["password_hash"][-16:]
            session["seen_at"] = world.clock()
    if row.method == "GET":
        return client.get(url)
    return client.open(url, method=row.method, data={**(row.form or {}), "csrf_token": CSRF})


def test_every_route_is_in_the_matrix(world):
    served = {(method, rule.rule) for rule in world.app.url_map.iter_rules()
              for method in rule.methods - {"HEAD", "OPTIONS"}}
    covered = {(row.method, row.rule) for row in ROWS}
    assert served - covered == set(), "add a row saying who may use these routes"
    assert covered - served == set(), "rows for routes that do not exist"
    assert all(set(row.expect) == set(ROLES) for row in ROWS)


@pytest.mark.parametrize("row", ROWS, ids=[f"{row.method} {row.url}" for row in ROWS])
def test_http_role_matrix(world, row):
    outcomes = {}
    for role in ROLES:
        world.restore()
        if row.prepare:
            row.prepare(world)
        before = world.version()
        response = request_as(world, role, row)
        response.get_data()
        expected = row.expect[role]
        outcomes[role] = response.status_code
        assert response.status_code < 500, (role, response.status_code, response.get_data(as_text=True)[:300])
        if expected == ALLOWED:
            assert response.status_code not in (401, 403), (role, response.get_data(as_text=True)[:300])
        else:
            assert response.status_code == expected, (role, response.status_code,
                                                      response.get_data(as_text=True)[:300])
        refused = expected in (401, 403) or (expected == 302 and row.method != "GET" and row.rule != "/logout")
        if refused and not row.counts_failures:
            assert world.version() == before, f"{role} was refused but the database changed"
            if not row.page:
                assert response.json["code"] in ("unauthorized", "forbidden", "not_at_counter", "not_your_ticket",
                                                 "csrf"), response.json
    pytest.matrix_cells = getattr(pytest, "matrix_cells", 0) + len(outcomes)


# ---- Socket.IO --------------------------------------------------------------------------------------

SOCKET_EVENTS = {
    # event: (payload, roles allowed) — the others get {"code": "forbidden"} and change nothing
    "track": (lambda world: world.ids["W1key"], ROLES),  # by key; by id: test_track_by_id_is_for_staff_only
    "track_dossier": (lambda world: world.ids["DCkey"], ROLES),  # the receipt's key proves the dossier
    "watch_counter": (lambda world: 1, ["tablet", "clerk1", "manager", "admin"]),
    "printer_ready": (lambda world: {"printer": "agent", "width": 576}, ["printer"]),
    "print_result": (lambda world: {"job_id": "job-1", "ok": True, "error": None}, ["printer"]),
}
# who hears what when clerk 2 calls the next ticket at counter 2
HEARS = {
    "ticket_called": {"anonymous", "display", "manager", "admin"},
    # hall displays hear counter_changed only when a counter opens, pauses or closes (test_api)
    "counter_changed": {"clerk2", "manager", "admin"},
    "queue_changed": set(ROLES),
}


def connect(world, role):
    auth = None if role == "anonymous" else {"token": world.tokens[role]}
    client = web.socketio.test_client(world.app, auth=auth)
    assert client.is_connected(), role
    return client


def test_every_socket_event_is_in_the_matrix(world):
    handlers = set(web.socketio.server.handlers["/"]) - {"connect", "disconnect"}
    assert handlers == set(SOCKET_EVENTS), "add the event to SOCKET_EVENTS with who may send it"


@pytest.mark.parametrize("event", sorted(SOCKET_EVENTS))
def test_socket_event_role_matrix(world, event):
    payload, allowed = SOCKET_EVENTS[event]
    for role in ROLES:
        world.restore()
        client = connect(world, role)
        client.get_received()
        before = world.version()
        answer = client.emit(event, payload(world), callback=True)
        if role in allowed:
            assert answer == {"ok": True}, (role, answer)
        else:
            assert isinstance(answer, dict) and answer.get("code") == "forbidden", (role, answer)
            assert world.version() == before, f"{role} was refused but the database changed"
            assert not any(message["name"] in ("counter_snapshot", "print_job") for message in client.get_received())
        client.disconnect()
    pytest.matrix_cells = getattr(pytest, "matrix_cells", 0) + len(ROLES)


def test_track_by_id_is_for_staff_only(world):
    """Ticket ids are heard by every display: following one by its id alone is refused unless staff (issue 12)."""
    for role in ROLES:
        world.restore()
        client = connect(world, role)
        client.get_received()
        answer = client.emit("track", world.ids["W1"], callback=True)
        if role in STAFF:
            assert answer == {"ok": True}, role
        else:
            assert answer.get("code") == "unknown_ticket", (role, answer)
            assert not any(m["name"] == "ticket_updated" for m in client.get_received()), role
        client.disconnect()
    pytest.matrix_cells = getattr(pytest, "matrix_cells", 0) + len(ROLES)


def test_socket_connections_see_only_what_they_may(world):
    world.restore()
    assert not web.socketio.test_client(world.app, auth={"token": "forged"}).is_connected()
    clients = {role: connect(world, role) for role in ROLES}
    for role, client in clients.items():
        snapshot = next(m["args"][0] for m in client.get_received() if m["name"] == "snapshot")
        assert {"services", "counters", "recent_calls"} <= set(snapshot), role
        # the citizen's name reaches only the clerk of the counter that called the ticket; its rating
        # tablet sees the number and nothing personal (issue 12)
        citizen = (snapshot.get("counter") or {}).get("current") or {}
        assert (citizen.get("citizen_name") == "LÊ VĂN CƯỜNG") == (role == "clerk1"), role
        if role == "tablet":
            assert citizen == {"id": world.ids["T1"], "number": "A002", "status": "called"}
        assert ("alerts" in snapshot) == (role in MANAGERS), role
        assert "citizen_name" not in str({k: v for k, v in snapshot.items() if k != "counter"}), role
    http = world.app.test_client()
    called = http.post("/api/v1/counters/2/call-next", headers={"Authorization": "Bearer " + world.tokens["clerk2"]})
    assert called.status_code == 200 and called.json["ticket"]["id"] == world.ids["W1"]
    for role, client in clients.items():
        received = client.get_received()
        heard = {message["name"] for message in received}
        assert "citizen" not in str(received), role  # a broadcast never carries personal data
        for event, audience in HEARS.items():
            assert (event in heard) == (role in audience), (role, event, heard)
        client.disconnect()
    pytest.matrix_cells = getattr(pytest, "matrix_cells", 0) + len(ROLES) * (len(HEARS) + 3)


def matrix_summary() -> str | None:
    """The figure for the end of the run (printed by conftest's terminal summary), if the matrix ran."""
    cells = getattr(pytest, "matrix_cells", 0)
    if not cells:
        return None
    return (f"role matrix: {len(ROWS)} routes and {len(SOCKET_EVENTS)} socket events × {len(ROLES)} callers: "
            f"{cells} cells checked")
