"""The province hub with real parts: a throwaway PostgreSQL, the hub as `python server.py hub` (a real process,
killed with SIGKILL), and two real centres (the app on its own SQLite file) shipping to it over HTTP."""
from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from tests.conftest import ROOT, FakeClock, free_port, make_app
from tests.hub_fixtures import ThrowawayCluster, why_no_postgres



@pytest.fixture(autouse=True, scope="module")
def postgres_is_installed():
    """The hub's tests need Debian's PostgreSQL, which `scripts/install.sh --test` installs: missing, they fail."""
    reason = why_no_postgres()
    if reason:
        pytest.fail(f"PostgreSQL is needed for the hub's tests (scripts/install.sh --test installs it): {reason}")

DAY = "2026-11-24"
CITIZEN_QR = "038155000003|171234567|LÊ VĂN CƯỜNG|15071955|Nam|Xã Hải Long, Tỉnh Thanh Hóa|20042021"


@pytest.fixture(scope="module")
def cluster():
    started = ThrowawayCluster().start()
    yield started
    started.stop()


def cli(env: dict, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(ROOT / "server.py"), *args], cwd=ROOT, env=env, input=stdin,
                          capture_output=True, text=True, timeout=60)


class HubProcess:
    """`python server.py hub` on a free loopback port."""

    def __init__(self, env: dict):
        self.port = free_port()
        self.env = {**env, "LUOT_PORT": str(self.port), "LUOT_HOST": "127.0.0.1"}
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = None

    def start(self) -> "HubProcess":
        self.process = subprocess.Popen([sys.executable, str(ROOT / "server.py"), "hub"], cwd=ROOT, env=self.env,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                if requests.get(self.url + "/province/sign-in", timeout=1).status_code == 200:
                    return self
            except requests.ConnectionError:
                time.sleep(0.1)
            assert self.process.poll() is None, self.process.stderr.read().decode()
        raise AssertionError("the hub did not start")

    def kill(self) -> None:
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)


@pytest.fixture(scope="module")
def province(cluster, tmp_path_factory):
    """A hub initialised by its CLI on a fresh database, two centres registered, a province manager's token."""
    folder = tmp_path_factory.mktemp("hub")
    env = {**os.environ, "LUOT_HUB_DATABASE_URL": cluster.create_database(), "LUOT_INSTANCE": str(folder),
           "LUOT_SECRET_KEY": "hub-test-secret"}
    init = cli(env, "hub", "init")
    assert init.returncode == 0, init.stderr
    assert "0001_hub_initial" in init.stdout and cli(env, "hub", "init").returncode == 0  # idempotent
    tokens = {}
    for code, name in (("TH-A", "Trung tâm Phục vụ hành chính công xã A"), ("TH-B", "Trung tâm xã B")):
        added = cli(env, "hub", "centre", "add", code, name)
        assert added.returncode == 0, added.stderr
        tokens[code] = added.stdout.strip()
    again = cli(env, "hub", "centre", "add", "TH-A", "again")
    assert again.returncode != 0 and "TH-A" in again.stderr
    manager = cli(env, "hub", "token", "add", "Sở Nội vụ").stdout.strip()
    hub = HubProcess(env).start()
    yield {"env": env, "hub": hub, "tokens": tokens, "manager": {"Authorization": f"Bearer {manager}"},
           "manager_token": manager}
    hub.stop()


class Centre:
    """A real centre (the app on its own SQLite file) and a clerk at each counter, driven through its core."""

    def __init__(self, folder: Path, template: Path, code: str):
        self.clock = FakeClock(f"{DAY} 07:30")
        self.app = make_app(folder, template, self.clock)
        self.client = self.app.test_client()
        self.code = code
        from queueing import store
        from queueing.service import QueueService
        self.db = store.connect(self.app.config["DATABASE"])
        self.queue = QueueService(self.db, self.app.config["CENTRE_ID"], clock=self.clock)
        self.counters = store.all_rows(self.db, "SELECT id, number FROM counters WHERE active = 1 ORDER BY number")
        self.clerks = {row["number"]: store.scalar(self.db, "SELECT id FROM users WHERE username = ?",
                                                   (f"quay{row['number']}",)) for row in self.counters}
        self.procedures = {row["service_id"]: row["code"] for row in store.all_rows(
            self.db, "SELECT service_id, code FROM procedures WHERE active = 1 ORDER BY id")}
        self.services = [row["code"] for row in store.all_rows(self.db, "SELECT code FROM services WHERE active = 1")]
        for counter in self.counters:
            self.queue.sign_in(counter["id"], self.clerks[counter["number"]])

    def work(self, tickets: int, seed: int) -> None:
        """Issue tickets and serve them: most finished with a procedure (some rated), some no-shows."""
        rng = random.Random(seed)
        for _ in range(tickets):
            self.clock.advance(rng.randint(5, 60))
            self.queue.issue_ticket(rng.choice(self.services))
        for _ in range(tickets):
            progressed = False
            for counter in self.counters:
                counter_id, clerk_id = counter["id"], self.clerks[counter["number"]]
                self.clock.advance(rng.randint(10, 90))
                ticket = self.queue.call_next(counter_id, clerk_id).result["ticket"]
                if ticket is None:
                    continue
                progressed = True
                if rng.random() < 0.1:
                    self.queue.no_show(ticket["id"], counter_id, clerk_id)
                    continue
                self.clock.advance(rng.randint(5, 40))
                self.queue.start(ticket["id"], counter_id, clerk_id)
                self.clock.advance(rng.randint(60, 600))
                service_id = self.db.conn.execute("SELECT service_id FROM tickets WHERE id = ?",
                                                  (ticket["id"],)).fetchone()[0]
                self.queue.finish(ticket["id"], counter_id, clerk_id, [self.procedures[service_id]])
                if rng.random() < 0.4:
                    self.queue.rate(ticket["id"], rng.choice((1, 2, 3, 3)))
            if not progressed:
                break

    def headers(self) -> dict:
        password = self.app.credentials.passwords["admin"]
        token = self.client.post("/api/v1/auth/login", json={"username": "admin", "password": password}).json["token"]
        return {"Authorization": f"Bearer {token}"}

    def totals(self) -> dict:
        """The centre's own figures: /api/v1/stats?by=service summed over services."""
        rows = self.client.get("/api/v1/stats", query_string={"from": DAY, "to": DAY, "by": "service"},
                               headers=self.headers()).json["rows"]
        return {field: sum(row[field] for row in rows) for field in ("issued", "called", "served", "no_show")}

    def by_service(self) -> dict:
        rows = self.client.get("/api/v1/stats", query_string={"from": DAY, "to": DAY, "by": "service"},
                               headers=self.headers()).json["rows"]
        return {row["key"]: row for row in rows}

    def event_count(self) -> int:
        return self.db.conn.execute("SELECT COUNT(*) FROM ticket_events").fetchone()[0]

    def shipper(self, hub_url: str, token: str, batch_size: int = 1000):
        from queueing.shipping import HttpHubClient, Shipper
        return Shipper(self.db, self.app.config["CENTRE_ID"], HttpHubClient(hub_url, token), token, self.clock,
                       batch_size=batch_size)


@pytest.fixture(scope="module")
def centres(province, tmp_path_factory, app_instance_template):
    made = {code: Centre(tmp_path_factory.mktemp(code) / "instance", app_instance_template, code)
            for code in province["tokens"]}
    yield made
    for centre in made.values():
        centre.db.conn.close()


def hub_stats(province, by: str) -> dict:
    answer = requests.get(province["hub"].url + "/api/v1/province/stats",
                          params={"from": DAY, "to": DAY, "by": by}, headers=province["manager"], timeout=10)
    assert answer.status_code == 200, answer.text
    return {row["key"]: row for row in answer.json()["rows"]}


def hub_events(province, code: str) -> int:
    import psycopg
    with psycopg.connect(province["env"]["LUOT_HUB_DATABASE_URL"]) as conn:
        return conn.execute("""SELECT COUNT(*) FROM events e JOIN centres c ON c.id = e.centre_id
                               WHERE c.code = %s""", (code,)).fetchone()[0]


def test_two_centres_ship_and_the_province_counts_what_they_count(province, centres):
    a, b = centres["TH-A"], centres["TH-B"]
    a.client.post("/api/v1/tickets", json={"service": "TP", "citizen_qr": CITIZEN_QR},
                  headers={"Authorization": f"Bearer {a.app.credentials.kiosk_token}"})
    a.work(40, seed=1)
    b.work(25, seed=2)
    for code, centre in centres.items():
        assert centre.shipper(province["hub"].url, province["tokens"][code], batch_size=50).ship() > 0
    by_centre = hub_stats(province, "centre")
    for code, centre in centres.items():
        mine = centre.totals()
        theirs = by_centre[code]
        assert mine["issued"] > 0 and mine["served"] > 0
        assert {field: theirs[field] for field in mine} == mine
        assert hub_events(province, code) == centre.event_count()
    by_service = hub_stats(province, "service")
    for code in ("TP", "CT"):
        a_row, b_row = a.by_service()[code], b.by_service()[code]
        hub_row = by_service[code]
        assert hub_row["served"] == a_row["served"] + b_row["served"]
        waits = [row for row in (a_row, b_row) if row["wait_s"]["mean"] is not None]
        called = sum(row["called"] for row in waits)
        if called:  # means are exact: the sum of both centres' waits over both centres' called tickets
            expected = sum(row["wait_s"]["mean"] * row["called"] for row in waits) / called
            assert abs(hub_row["wait_s"]["mean"] - expected) < 0.2
            # medians come from 5 s buckets: within one bucket of the centres' exact figure when one centre
            if len(waits) == 1:
                assert abs(hub_row["wait_s"]["median"] - waits[0]["wait_s"]["median"]) <= 5
    procedures = hub_stats(province, "procedure")
    assert sum(row["served"] for row in procedures.values()) == a.totals()["served"] + b.totals()["served"]
    # no personal data left the centre: not the citizen's name, nor ID digits
    import psycopg
    with psycopg.connect(province["env"]["LUOT_HUB_DATABASE_URL"]) as conn:
        everything = json.dumps(conn.execute("SELECT json_agg(e) FROM events e").fetchone()[0], ensure_ascii=False)
    assert "CƯỜNG" not in everything and "038155000003" not in everything and "0003\"" not in everything
    assert "clerk" not in everything


def test_hub_killed_mid_shipping_loses_and_doubles_nothing(province, centres):
    a = centres["TH-A"]
    hub = province["hub"]
    a.work(120, seed=3)
    shipper = a.shipper(hub.url, province["tokens"]["TH-A"], batch_size=20)
    from queueing.shipping import HubAnswer
    sent_before_kill = 0
    for _ in range(3):  # a few batches reach the hub, then it dies with SIGKILL
        sent_before_kill += shipper.ship(max_batches=1)
    hub.kill()
    with pytest.raises(HubAnswer):
        shipper.ship()  # the centre notes the failure and carries on; nothing waits for the hub
    a.work(30, seed=4)  # the centre keeps serving while the hub is down
    hub.start()
    shipper.ship()
    assert hub_events(province, "TH-A") == a.event_count()
    totals, theirs = a.totals(), hub_stats(province, "centre")["TH-A"]
    assert {field: theirs[field] for field in totals} == totals
    # the same events sent again (a lost acknowledgement) are ignored, not counted twice
    shipper.cursor = 0
    shipper.ship()
    assert hub_events(province, "TH-A") == a.event_count()
    assert {field: hub_stats(province, "centre")["TH-A"][field] for field in totals} == totals
    assert sent_before_kill > 0


def test_shipping_job_and_the_monitor_panel(province, centres, tmp_path, app_instance_template):
    from queueing.shipping import ShippingJob
    a = centres["TH-A"]
    a.work(5, seed=5)
    job = ShippingJob(a.app.config["DATABASE"], a.app.config["CENTRE_ID"], province["hub"].url,
                      province["tokens"]["TH-A"], clock=a.clock, check_every_s=0.2).start()
    try:
        deadline = time.time() + 20
        while time.time() < deadline and hub_events(province, "TH-A") < a.event_count():
            time.sleep(0.2)
    finally:
        job.stop()
    assert hub_events(province, "TH-A") == a.event_count()
    a.app.config["HUB_SHIPPING"] = True
    status = a.client.get("/api/v1/shipping/status", headers=a.headers()).json
    assert status["configured"] is True and status["pending"] == 0 and status["lag_s"] == 0
    assert status["acked_seq"] == a.db.conn.execute("SELECT MAX(id) FROM ticket_events").fetchone()[0]
    from tests.test_security import sign_in_browser
    browser = a.app.test_client()
    sign_in_browser(browser, "admin", a.app.credentials.passwords["admin"])
    page = browser.get("/manager").get_data(as_text=True)
    assert 'id="shipping-panel"' in page and "js/monitor_shipping.js" in page


def test_province_api_pages_and_exports(province, centres):
    hub = province["hub"]
    listed = requests.get(hub.url + "/api/v1/province/centres", headers=province["manager"], timeout=10).json()
    assert [row["code"] for row in listed] == ["TH-A", "TH-B"]
    assert all(row["events"] > 0 and row["lag_s"] is not None for row in listed)
    live = requests.get(hub.url + "/api/v1/province/live", headers=province["manager"], timeout=10).json()
    assert {row["code"] for row in live} == {"TH-A", "TH-B"} and all(row["open_counters"] for row in live)
    # who may read what
    assert requests.get(hub.url + "/api/v1/province/stats", timeout=10).status_code == 401
    centre_token = {"Authorization": f"Bearer {province['tokens']['TH-A']}"}
    refused = requests.get(hub.url + "/api/v1/province/stats", headers=centre_token, timeout=10)
    assert refused.status_code == 403 and refused.json()["code"] == "forbidden"
    bad = requests.get(hub.url + "/api/v1/province/stats", params={"by": "clerk"}, headers=province["manager"],
                       timeout=10)
    assert bad.status_code == 400 and bad.json()["code"] == "bad_by"
    assert requests.post(hub.url + "/api/v1/province/ingest", json={"after": 0, "through": 0, "events": []},
                         headers=province["manager"], timeout=10).status_code == 403
    gap = requests.post(hub.url + "/api/v1/province/ingest", json={"after": 10 ** 9, "through": 10 ** 9, "events": []},
                        headers=centre_token, timeout=10)
    assert gap.status_code == 409 and gap.json()["code"] == "gap" and isinstance(gap.json()["acked"], int)
    junk = requests.post(hub.url + "/api/v1/province/ingest", data=b"nope", headers=centre_token, timeout=10)
    assert junk.status_code == 400
    acked = requests.get(hub.url + "/api/v1/province/ingest", headers=centre_token, timeout=10).json()["acked"]
    odd = {"seq": acked + 1, "ticket": "x", "day": DAY, "hour": 99, "for": "TP", "at": time.time(), "kind": "issued"}
    for batch in ({"after": acked, "through": acked + 1, "events": [odd]},
                  {"after": acked, "through": acked + 1, "events": [{**odd, "hour": 8, "at": 1e12}]},
                  {"after": acked, "through": 2 ** 63, "events": []},
                  {"after": acked, "through": acked + 2, "events": [{**odd, "hour": 8, "seq": acked + 3}]}):
        refused = requests.post(hub.url + "/api/v1/province/ingest", json=batch, headers=centre_token, timeout=10)
        assert refused.status_code == 400 and refused.json()["code"] in ("bad_event", "bad_batch", "bad_seq")
    assert requests.get(hub.url + "/api/v1/province/ingest", headers=centre_token, timeout=10).json()["acked"] == acked
    # the pages: sign in with the manager's token, live state, statistics with the ranking, CSV and XLSX
    browser = requests.Session()
    form = browser.get(hub.url + "/province/sign-in", timeout=10).text
    csrf = form.split('name="csrf_token" value="')[1].split('"')[0]
    wrong = browser.post(hub.url + "/province/sign-in", data={"csrf_token": csrf, "token": "nope"}, timeout=10)
    assert wrong.status_code == 401
    signed = browser.post(hub.url + "/province/sign-in", data={"csrf_token": csrf, "token": province["manager_token"]},
                          timeout=10)
    assert signed.status_code == 200 and "TH-A" in signed.text and 'id="province-live"' in signed.text
    stats_page = browser.get(hub.url + "/province/stats", params={"from": DAY, "to": DAY, "by": "centre"}, timeout=10)
    assert "province-ranking" in stats_page.text and "Trung tâm xã B" in stats_page.text
    csv_text = browser.get(hub.url + "/province/stats/export",
                           params={"format": "csv", "from": DAY, "to": DAY, "by": "centre"}, timeout=10)
    assert csv_text.status_code == 200 and "TH-A" in csv_text.content.decode("utf-8-sig")
    xlsx = browser.get(hub.url + "/province/stats/export",
                       params={"format": "xlsx", "from": DAY, "to": DAY, "by": "service"}, timeout=10)
    from io import BytesIO
    from openpyxl import load_workbook
    sheet = load_workbook(BytesIO(xlsx.content)).active
    assert sheet.cell(1, 1).value == "key" and sheet.max_row > 1


def test_province_catalogue_published_diffed_and_applied_in_one_step(province, centres, tmp_path):
    from queueing.admin.configuration import export_configuration
    from tests.test_security import sign_in_browser
    b = centres["TH-B"]
    services = export_configuration(b.db, b.app.config["CENTRE_ID"])["services"]
    tp = next(service for service in services if service["code"] == "TP")
    tp["procedures"][0]["name"] = tp["procedures"][0]["name"] + " (mẫu tỉnh 2026)"
    tp["procedures"].append({"code": "TP-TINH-01", "name": "Thủ tục mới của tỉnh", "legal_days": 3})
    path = tmp_path / "catalogue.json"
    path.write_text(json.dumps({"services": services}, ensure_ascii=False), encoding="utf-8")
    published = cli(province["env"], "hub", "catalogue", "publish", str(path), "--note", "2026")
    assert published.returncode == 0, published.stderr
    browser = b.app.test_client()
    sign_in_browser(browser, "admin", b.app.credentials.passwords["admin"])
    b.app.config.update(HUB_URL=None, HUB_TOKEN=None)
    assert "LUOT_HUB_URL" in browser.get("/manager/admin/catalogue").get_data(as_text=True)
    b.app.config.update(HUB_URL=province["hub"].url, HUB_TOKEN=province["tokens"]["TH-B"])
    page = browser.get("/manager/admin/catalogue").get_data(as_text=True)
    assert 'id="catalogue-diff"' in page and "TP-TINH-01" in page and "mẫu tỉnh 2026" in page
    version = page.split('name="version" value="')[1].split('"')[0]
    csrf = page.split('name="csrf_token" value="')[1].split('"')[0]
    stale = browser.post("/manager/admin/catalogue", data={"csrf_token": csrf, "version": "999"})
    assert stale.status_code == 409
    applied = browser.post("/manager/admin/catalogue", data={"csrf_token": csrf, "version": version})
    assert applied.status_code == 302
    row = b.db.conn.execute("SELECT name, legal_days FROM procedures WHERE code = 'TP-TINH-01'").fetchone()
    assert tuple(row) == ("Thủ tục mới của tỉnh", 3)
    assert 'id="catalogue-same"' in browser.get("/manager/admin/catalogue").get_data(as_text=True)
    audit = b.db.conn.execute("SELECT COUNT(*) FROM audit_log WHERE action = 'configuration.import'").fetchone()[0]
    assert audit == 1


def test_a_hub_restored_from_an_older_backup_catches_up(province, centres):
    import psycopg
    b = centres["TH-B"]
    shipper = b.shipper(province["hub"].url, province["tokens"]["TH-B"])
    shipper.ship()
    assert shipper.cursor == b.db.conn.execute("SELECT MAX(id) FROM ticket_events").fetchone()[0]
    # the hub's database goes back to before TH-B's first batch (a restore): it holds nothing of TH-B
    with psycopg.connect(province["env"]["LUOT_HUB_DATABASE_URL"], autocommit=True) as conn, conn.transaction():
        centre_id = conn.execute("SELECT id FROM centres WHERE code = 'TH-B'").fetchone()[0]
        for table in ("events", "tickets", "daily", "monthly", "dossiers"):
            conn.execute(f"DELETE FROM {table} WHERE centre_id = %s", (centre_id,))
        conn.execute("UPDATE centres SET acked_seq = 0, events = 0 WHERE id = %s", (centre_id,))
    b.work(4, seed=6)
    shipper.ship()  # the hub answers 409 with what it holds; the shipper sends everything again from there
    assert hub_events(province, "TH-B") == b.event_count()
    totals = b.totals()
    assert {field: hub_stats(province, "centre")["TH-B"][field] for field in totals} == totals
