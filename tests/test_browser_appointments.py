"""A day with an appointment in headless Chromium (issue 15): book on a phone-sized page, check in at the
kiosk, be called first once the slot begins.

The server is the real app on a loopback port in this process (werkzeug's threaded server, Socket.IO
in threading mode as in every test), so the test can move the centre's clock as the `clock` fixture
does; a `python server.py` process has only the wall clock."""
from __future__ import annotations

import threading

import pytest
import requests
from playwright.sync_api import expect
from werkzeug.serving import ThreadedWSGIServer

from tests.conftest import FakeClock, make_app, rows

pytestmark = [pytest.mark.browser]

PHONE = {"width": 390, "height": 844}
KIOSK_SCREEN = {"width": 1280, "height": 800}


@pytest.fixture
def served(tmp_path, app_instance_template):
    clock = FakeClock("2026-11-24 08:00")
    app = make_app(tmp_path / "instance", app_instance_template, clock)
    server = ThreadedWSGIServer("127.0.0.1", 0, app)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield app, clock, f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


def test_book_on_a_phone_check_in_at_the_kiosk_and_be_called_first(served, browser):
    app, clock, url = served
    problems: list[str] = []
    phone = browser.new_context(viewport=PHONE, locale="vi-VN", timezone_id="Asia/Ho_Chi_Minh").new_page()
    phone.on("pageerror", lambda error: problems.append(str(error)))
    phone.set_default_timeout(8000)

    # 08:00: a citizen books today's 08:30 slot of the justice service on the phone.
    phone.goto(url + "/book")
    expect(phone.locator("h1")).to_have_text("Đặt lịch hẹn")
    phone.select_option("#book-service", "TP")
    slot = phone.locator('.slot[data-start="2026-11-24T08:30:00+07:00"]')
    expect(slot).to_contain_text("còn 2 chỗ")
    slot.click()
    phone.fill("#book-name", "Nguyễn Thị Mai")
    phone.fill("#book-phone", "0912 345 678")
    phone.click("#book-submit")
    expect(phone.locator("#book-error")).to_have_text("Cần đồng ý lưu thông tin để đặt lịch.")
    phone.check("#book-consent")
    phone.click("#book-submit")
    phone.wait_for_url("**/book/*")
    code = phone.locator("#booking-code").inner_text()
    assert len(code) == 8
    expect(phone.locator("#booking-when")).to_have_text("08:30 24/11/2026")
    assert phone.locator(".booking-qr").evaluate("img => img.naturalWidth") > 0
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]  # nothing wider than the phone

    # Two ordinary tickets are issued before the appointment's holder arrives; counter 1 opens.
    kiosk_headers = {"Authorization": "Bearer " + app.credentials.kiosk_token}
    earlier = [requests.post(url + "/api/v1/tickets", json={"service": "TP"}, headers=kiosk_headers,
                             timeout=10).json()["number"] for _ in range(2)]
    login = requests.post(url + "/api/v1/auth/login", timeout=10,
                          json={"username": "quay1", "password": app.credentials.passwords["quay1"]}).json()
    clerk = {"Authorization": "Bearer " + login["token"]}
    assert requests.post(url + "/api/v1/counters/1/sign-in", headers=clerk, timeout=10).status_code == 200

    # 08:10: at the kiosk, "Tôi có lịch hẹn", the code typed on the keypad, checked in.
    clock.set_local("2026-11-24 08:10")
    kiosk = browser.new_context(viewport=KIOSK_SCREEN, locale="vi-VN", timezone_id="Asia/Ho_Chi_Minh").new_page()
    kiosk.on("pageerror", lambda error: problems.append(str(error)))
    kiosk.set_default_timeout(8000)
    kiosk.goto(f"{url}/kiosk#token={app.credentials.kiosk_token}")
    kiosk.click("#choice-appointment")
    expect(kiosk.locator("#screen-appointment")).to_be_visible()
    expect(kiosk.locator("#screen-home")).to_be_hidden()
    for character in code:
        kiosk.locator("#appointment-keys .key", has_text=character).first.click()
    expect(kiosk.locator("#appointment-code")).to_have_text(code)
    kiosk.click("#appointment-submit")
    number = kiosk.locator("#appointment-number")
    expect(number).to_be_visible()
    expect(kiosk.locator(".appointment-ticket .badge-appointment")).to_have_text("Lịch hẹn 08:30")
    ticket_number = number.inner_text()
    assert ticket_number not in earlier
    phone.reload()
    expect(phone.locator("#booking-status")).to_have_text("Đã xác nhận tại trung tâm")

    # Someone else takes an ordinary ticket at the kiosk and asks for an SMS on the keypad.
    kiosk.click("#appointment-back")
    kiosk.get_by_role("button", name="Tư pháp – Hộ tịch").first.click()
    kiosk.get_by_role("button", name="Không, lấy số thường").click()
    expect(kiosk.locator("#screen-ticket")).to_be_visible()
    kiosk.click("#phone-optin-open")
    for digit in "0987654321":
        kiosk.locator("#phone-optin-keys .key", has_text=digit).first.click()
    kiosk.click("#phone-optin-send")
    expect(kiosk.locator("#phone-optin-result")).to_have_text("Đã đăng ký: Ông/Bà sẽ nhận tin nhắn khi sắp đến lượt.")
    walk_in = kiosk.locator("#ticket-number").inner_text()
    assert rows(app, "SELECT citizen_phone FROM tickets WHERE number = ?", (walk_in,))[0]["citizen_phone"] == "0987654321"

    # 08:30: the slot has begun, so counter 1 calls the appointment before the two issued earlier.
    clock.set_local("2026-11-24 08:30")
    called = requests.post(url + "/api/v1/counters/1/call-next", headers=clerk, timeout=10).json()["ticket"]
    assert called["number"] == ticket_number and called["channel"] == "appointment"
    assert not problems, problems
