"""A dossier from reception to return on the real server (issue 16's «done when»), by HTTP and Socket.IO.

One server on loopback for the module, started with a payment-webhook secret; the test is the bank that
sends the signed notice, and the citizen's phone that follows the dossier page.
"""
from __future__ import annotations

import json
import re
import sqlite3
import threading
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import requests
import socketio

from queueing.payments import SIGNATURE_HEADER, sign
from queueing.vietqr import crc_is_valid, parse_tlv
from tests.conftest import LiveServer

SECRET = "test-webhook-secret"
CODE = "000.00.30.H56-261204-0042"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    running = LiveServer(tmp_path_factory.mktemp("dossier-live"), env={"LUOT_PAYMENT_WEBHOOK_SECRET": SECRET}).start()
    yield running
    running.stop()


def counter_id(server, number: int) -> int:
    with sqlite3.connect(server.folder / "luot.sqlite3") as db:
        return db.execute("SELECT id FROM counters WHERE number = ?", (number,)).fetchone()[0]


def post(server, path, headers, body=None, expect=200):
    response = requests.post(server.url + path, json=body, headers=headers, timeout=10)
    assert response.status_code == expect, response.text
    return response.json()


def test_reception_fee_ready_return_and_on_time_statistics(server):
    base, kiosk = server.url, server.kiosk
    clerk, admin = server.login("quay3"), server.login("admin")
    counter = counter_id(server, 3)
    post(server, f"/api/v1/counters/{counter}/sign-in", clerk)
    ticket = post(server, "/api/v1/tickets", kiosk, {"service": "CA_CT"}, expect=201)
    post(server, f"/api/v1/counters/{counter}/call-next", clerk)
    post(server, f"/api/v1/tickets/{ticket['id']}/start", clerk)

    # a code not of the national form: 400, and the ticket is still being served
    refused = requests.post(f"{base}/api/v1/tickets/{ticket['id']}/finish", headers=clerk, timeout=10,
                            json={"procedure": "CT-R02", "dossier": {"code": "HS 42"}})
    assert (refused.status_code, refused.json()["code"]) == (400, "bad_dossier_code")
    assert requests.get(f"{base}/api/v1/tickets/{ticket['id']}", headers=clerk, timeout=10).json()["status"] == "serving"

    finished = post(server, f"/api/v1/tickets/{ticket['id']}/finish", clerk,
                    {"procedure": "CT-R02", "dossier": {"code": CODE, "fee": 15000, "phone": "0912345678"}})
    dossier = finished["ticket"]["dossier"]
    due = date.fromisoformat(dossier["due_date"])
    assert due.weekday() < 5 and due > datetime.now(ZoneInfo("Asia/Ho_Chi_Minh")).date()
    assert dossier["status"] == "processing" and dossier["track_url"].startswith("/d/")

    # the fee's VietQR, once the centre's account is set
    qr = requests.get(f"{base}/api/v1/dossiers/{CODE}/payment-qr", headers=clerk, timeout=10)
    assert (qr.status_code, qr.json()["code"]) == (409, "no_bank_account")
    settings = requests.patch(f"{base}/api/v1/admin/settings", headers=admin, timeout=10,
                              json={"bank_bin": "970415", "bank_account": "113366668888",
                                    "bank_account_name": "TRUNG TAM PHUC VU HCC"})
    assert settings.status_code == 200, settings.text
    qr = requests.get(f"{base}/api/v1/dossiers/{CODE}/payment-qr", headers=clerk, timeout=10).json()
    fields = parse_tlv(qr["payload"])
    assert fields["54"] == "15000" and crc_is_valid(qr["payload"])
    assert parse_tlv(fields["62"])["08"] == CODE
    assert parse_tlv(parse_tlv(fields["38"])["01"]) == {"00": "970415", "01": "113366668888"}

    # the citizen's phone follows the dossier page (the receipt's QR)
    key = dossier["track_url"].rsplit("/", 1)[1]
    page = requests.get(f"{base}/d/{key}", timeout=10)
    assert page.status_code == 200 and CODE in page.text
    slip = requests.get(f"{base}/d/{key}/receipt.png", timeout=10)
    assert slip.status_code == 200 and slip.content.startswith(b"\x89PNG")
    assert requests.get(f"{base}/api/v1/dossiers/{CODE}", timeout=10).status_code == 404  # no key: no answer
    assert requests.get(f"{base}/api/v1/dossiers/{CODE}?key={key}", timeout=10).json()["status"] == "processing"
    updates, ready_heard = [], threading.Event()
    phone = socketio.Client(reconnection=False)

    @phone.on("dossier_updated")
    def on_update(data):
        updates.append(data)
        if data["status"] == "ready":
            ready_heard.set()

    phone.connect(base, transports=["websocket"], wait_timeout=10)
    try:
        assert phone.call("track_dossier", key, timeout=10) == {"ok": True}

        # the bank's signed notice of the transfer: a wrong signature is refused, the right one marks it paid
        notice = json.dumps({"message": f"CK {CODE} le phi", "amount": 15000, "reference": "FT123"}).encode()
        forged = requests.post(f"{base}/api/v1/payments/webhook", data=notice, timeout=10,
                               headers={"Content-Type": "application/json", SIGNATURE_HEADER: sign("wrong", notice)})
        assert forged.status_code == 401
        paid = requests.post(f"{base}/api/v1/payments/webhook", data=notice, timeout=10,
                             headers={"Content-Type": "application/json", SIGNATURE_HEADER: sign(SECRET, notice)})
        assert paid.status_code == 200 and paid.json()["status"] == "paid"
        assert paid.json()["dossier"]["paid_method"] == "transfer"
        again = requests.post(f"{base}/api/v1/payments/webhook", data=notice, timeout=10,
                              headers={"Content-Type": "application/json", SIGNATURE_HEADER: sign(SECRET, notice)})
        assert again.json()["status"] == "already_paid"

        # the province system marks it ready with a staff token; the phone hears it
        ready = post(server, f"/api/v1/dossiers/{CODE}/ready", admin)
        assert ready["status"] == "ready" and ready["on_time"] is True
        assert ready_heard.wait(10), updates
    finally:
        phone.disconnect()

    # the visit back: the kiosk scans the receipt's QR (its link) → a result-return ticket carrying the dossier
    back = post(server, "/api/v1/tickets", kiosk, {"dossier_code": base + dossier["track_url"]}, expect=201)
    assert back["service"] == "TKQ" and back["dossier"]["code"] == CODE
    called = post(server, f"/api/v1/counters/{counter}/call-next", clerk)["ticket"]
    assert called["id"] == back["id"] and called["dossier"]["status"] == "ready"
    returned = post(server, f"/api/v1/dossiers/{CODE}/returned", clerk)
    assert returned["status"] == "returned" and returned["on_time"] is True
    post(server, f"/api/v1/tickets/{back['id']}/start", clerk)
    post(server, f"/api/v1/tickets/{back['id']}/finish", clerk, {"procedure": "TKQ-01"})
    twice = requests.post(f"{base}/api/v1/tickets", json={"dossier_code": CODE}, headers=kiosk, timeout=10)
    assert (twice.status_code, twice.json()["code"]) == (409, "dossier_returned")

    # statistics by procedure over the due date: returned and on time
    stats = requests.get(f"{base}/api/v1/stats", headers=admin, timeout=10,
                         params={"by": "procedure", "from": due.isoformat(), "to": due.isoformat()}).json()
    row = next(row for row in stats["rows"] if row["key"] == "CT-R02")
    assert (row["dossiers"], row["returned"], row["on_time_pct"], row["overdue_now"]) == (1, 1, 100.0, 0)
    assert stats["total"]["on_time_pct"] == 100.0


def test_kiosk_result_flow_in_chromium(server, browser):
    """«Nhận kết quả» at the kiosk: the code typed → a result-return ticket carrying the dossier."""
    from playwright.sync_api import expect
    clerk = server.login("quay3")
    counter = counter_id(server, 3)
    requests.post(f"{server.url}/api/v1/counters/{counter}/sign-in", headers=clerk, timeout=10)
    code = "000.00.30.H56-261204-0077"
    ticket = post(server, "/api/v1/tickets", server.kiosk, {"service": "CA_CT"}, expect=201)
    post(server, f"/api/v1/counters/{counter}/call-next", clerk)
    post(server, f"/api/v1/tickets/{ticket['id']}/start", clerk)
    post(server, f"/api/v1/tickets/{ticket['id']}/finish", clerk, {"procedure": "CT-R02", "dossier": {"code": code}})
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="vi-VN",
                                  timezone_id="Asia/Ho_Chi_Minh")
    try:
        page = context.new_page()
        page.goto(f"{server.url}/kiosk#token={server.credentials.kiosk_token}")
        page.locator("#choice-result").click()
        expect(page.locator("#screen-result")).to_be_visible()
        page.locator("#result-code").fill(code.lower())
        page.locator("#result-form button[type=submit]").click()
        expect(page.locator("#result-number")).to_have_text(re.compile(r"^R\d{3}$"))
        expect(page.locator("#result-status")).to_contain_text("đang giải quyết")
    finally:
        context.close()
    called = post(server, f"/api/v1/counters/{counter}/call-next", clerk)["ticket"]
    assert called["service"] == "TKQ" and called["dossier"]["code"] == code
