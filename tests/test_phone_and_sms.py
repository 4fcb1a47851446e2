"""A ticket from the phone (/join), the kiosk's phone opt-in and the SMS nudge (issue 15), against a real
HTTP SMS gateway this test runs on loopback."""
from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from notify.sms import BackgroundSmsSender, HttpSmsSender, LogSmsSender, SmsError, sms_sender_from_settings
from queueing.text import strip_diacritics
from tests.conftest import rows


class Gateway:
    """A stand-in for a Vietnamese SMS gateway's HTTP API: records each POST, answers `status`."""

    def __init__(self):
        self.received: list[dict] = []
        self.status = 200
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server's name)
                body = self.rfile.read(int(self.headers["Content-Length"])).decode("utf-8")
                gateway.received.append({"path": self.path, "auth": self.headers.get("Authorization"),
                                         "type": self.headers.get("Content-Type"), "body": body})
                self.send_response(gateway.status)
                self.end_headers()
                self.wfile.write(b'{"CodeResult": "100"}')

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/MainService.svc/json/SendMultipleMessage_V4_post_json/"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def gateway():
    running = Gateway()
    yield running
    running.close()


def test_http_sender_posts_the_template_with_auth_and_folds_diacritics_on_request(gateway):
    sender = HttpSmsSender(gateway.url, '{"Phone": "{phone}", "Content": "{text}", "SmsType": "2"}',
                           authorization="Basic YXBpOnNlY3JldA==")
    sender.send("0912345678", 'Lượt: mời số A012 "đến" quầy 3.')
    sent = gateway.received[-1]
    assert sent["auth"] == "Basic YXBpOnNlY3JldA==" and sent["type"].startswith("application/json")
    assert json.loads(sent["body"]) == {"Phone": "0912345678", "Content": 'Lượt: mời số A012 "đến" quầy 3.',
                                        "SmsType": "2"}
    ascii_sender = HttpSmsSender(gateway.url, "to={phone}&msg={text}", ascii_only=True)
    ascii_sender.send("0912345678", "Lượt: Đến quầy")
    assert gateway.received[-1]["body"] == "to=0912345678&msg=Luot%3A%20Den%20quay"
    gateway.status = 401
    with pytest.raises(SmsError):
        sender.send("0912345678", "x")
    with pytest.raises(SmsError):
        HttpSmsSender("http://127.0.0.1:9/", timeout=2).send("0912345678", "x")
    assert strip_diacritics("Nguyễn Thị Đào") == "Nguyen Thi Dao"


def test_settings_choose_the_sender_and_the_background_one_never_raises(gateway):
    assert isinstance(sms_sender_from_settings(lambda name: None), LogSmsSender)
    configured = sms_sender_from_settings({"LUOT_SMS_URL": gateway.url, "LUOT_SMS_ASCII": "1"}.get)
    assert isinstance(configured, HttpSmsSender) and configured.ascii_only
    errors = []
    background = BackgroundSmsSender(configured, on_error=errors.append)
    gateway.status = 500
    background.send("0912345678", "một")
    background.drain()
    gateway.status = 200
    background.send("0912345678", "hai")
    background.drain()
    assert [json.loads(item["body"])["text"] for item in gateway.received] == ["mot", "hai"] and len(errors) == 1


def test_join_takes_an_ordinary_ticket_once_per_phone_and_service(client, api, app):
    body = {"service": "TP", "phone": "0912345678"}
    joined = client.post("/api/v1/join", json=body)
    assert joined.status_code == 201, joined.json
    assert joined.json["track_url"].startswith("/t/") and "print" not in joined.json
    stored = rows(app, "SELECT channel, citizen_phone FROM tickets WHERE id = ?", (joined.json["id"],))[0]
    assert stored == {"channel": "phone", "citizen_phone": "0912345678"}
    issued = rows(app, "SELECT detail FROM ticket_events WHERE ticket_id = ? AND kind = 'issued'",
                  (joined.json["id"],))[0]
    assert json.loads(issued["detail"]) == {"channel": "phone"}
    again = client.post("/api/v1/join", json=body)
    assert again.status_code == 409 and again.json["code"] == "already_joined"
    assert client.post("/api/v1/join", json={**body, "phone": "12"}).status_code == 400
    assert "Lấy số qua điện thoại" in client.get("/join").get_data(as_text=True)
    admin = api.headers("admin")
    assert client.patch("/api/v1/admin/settings", json={"phone_join_disabled": ["TP"],
                                                        "phone_join_per_address_per_hour": 6},
                        headers=admin).status_code == 200
    off = client.post("/api/v1/join", json={**body, "phone": "0987654321"})
    assert off.status_code == 409 and off.json["code"] == "join_disabled"
    assert ">Tư pháp<" not in client.get("/join").get_data(as_text=True)
    other = [client.post("/api/v1/join", json={"service": "LLTP", "phone": f"09{n:08d}"}).status_code
             for n in range(3)]
    assert other == [201, 201, 429]  # 6 attempts an hour from this address, refused ones counted too


def test_sms_when_the_turn_is_near_and_when_called_each_once(client, api, app, gateway):
    app.extensions["luot.sms"] = HttpSmsSender(gateway.url)
    tickets = [api.issue("TP") for _ in range(5)]
    opted = client.post(f"/api/v1/tickets/{tickets[4]['id']}/phone", json={"phone": "0912 345 678"},
                        headers=api.headers())
    assert opted.status_code == 200 and opted.json["phone"] == "*******678"
    assert client.post(f"/api/v1/tickets/{tickets[4]['id']}/phone", json={"phone": "0912345678"}).status_code == 401
    clerk = api.headers("quay1")
    client.post("/api/v1/counters/1/sign-in", headers=clerk)
    texts = lambda: [json.loads(item["body"])["text"] for item in gateway.received]  # noqa: E731
    for ticket in tickets[:4]:
        called = client.post("/api/v1/counters/1/call-next", headers=clerk).json["ticket"]
        client.post(f"/api/v1/tickets/{called['id']}/no-show", headers=clerk)
    number = tickets[4]["number"]
    assert texts() == [f"Lượt: số {number} còn 3 người phía trước, vui lòng quay lại quầy."]
    client.post("/api/v1/counters/1/call-next", headers=clerk)
    client.post("/api/v1/counters/1/pause", json={"reason": "break"}, headers=clerk)
    assert texts()[1:] == [f"Lượt: mời số {number} đến quầy 1."]


def test_a_ready_result_is_texted_to_the_phone_given_at_reception(client, api, app, gateway):
    """Issue 16 through issue 15's sender: marking a dossier ready sends one SMS to the gateway, in Vietnamese."""
    app.extensions["luot.sms"] = HttpSmsSender(gateway.url)
    ticket = api.issue("CA_CT")
    clerk = api.headers("quay3")
    client.post("/api/v1/counters/3/sign-in", headers=clerk)
    assert client.post("/api/v1/counters/3/call-next", headers=clerk).json["ticket"]["id"] == ticket["id"]
    client.post(f"/api/v1/tickets/{ticket['id']}/start", headers=clerk)
    code = "000.00.30.H56-241204-0007"
    finished = client.post(f"/api/v1/tickets/{ticket['id']}/finish", headers=clerk,
                           json={"procedure": "CT-R02", "dossier": {"code": code, "phone": "0912 345 678"}})
    assert finished.status_code == 200, finished.json
    assert gateway.received == []
    assert client.post(f"/api/v1/dossiers/{code}/ready", headers=clerk).status_code == 200
    sent = [json.loads(item["body"]) for item in gateway.received]
    assert len(sent) == 1 and sent[0]["to"] == "0912345678"
    assert f"kết quả hồ sơ {code} đã có" in sent[0]["text"]
