"""The screens in headless Chromium against a real server: kiosk, counter panel, call display, monitor, reconnection."""
from __future__ import annotations

import io
import json
import math
import re
import shutil
import time
import wave
from pathlib import Path

import pytest
import requests

from printers.slip import wait_range_minutes
from queueing import centre, demo_history, store
from queueing.service import QueueService
from tests.conftest import ROOT, LiveServer, clerk_id, counter_id

from playwright import sync_api

SCREENSHOTS = Path(__file__).resolve().parent / "screenshots"
KIOSK_SCREEN = {"width": 1280, "height": 800}
COUNTER_SCREEN = {"width": 1280, "height": 800}
TV = {"width": 1920, "height": 1080}
PHONE = {"width": 390, "height": 844}
NO_COUNTER = "Chưa có quầy nào đang mở cho lĩnh vực này"
CARD = json.loads((ROOT / "tests" / "data" / "cccd-qr-samples.json").read_text(encoding="utf-8"))["valid"][0]
CARD_NAME = CARD["raw"].split("|")[2]

# scripts/install.sh --test installs Debian chromium and espeak-ng: without them these tests fail, never skip.
pytestmark = [pytest.mark.browser]


# ---- fixtures and helpers -----------------------------------------------------------------------

@pytest.fixture
def live_server(tmp_path, app_instance_template):
    """conftest's live server (a real `python server.py` process on a free loopback port), started on a copy of
    the instance folder the server initialised once: hashing seven passwords for every test would double the
    time these tests take."""
    folder = tmp_path / "instance"
    shutil.copytree(app_instance_template, folder)
    server = LiveServer(folder).start()
    yield server
    server.stop()


@pytest.fixture
def open_page(browser):
    """Opens pages in fresh contexts; fails the test on a script error or a Content-Security-Policy refusal."""
    contexts, problems = [], []

    def open_(url: str | None = None, viewport: dict = KIOSK_SCREEN, **options):
        context = browser.new_context(viewport=viewport, locale="vi-VN", timezone_id="Asia/Ho_Chi_Minh", **options)
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(8000)
        page.on("pageerror", lambda error: problems.append(f"script error: {error}"))
        page.on("console", lambda message: problems.append(f"console: {message.text}")
                if "Content Security Policy" in message.text else None)
        if url:
            page.goto(url)
        return page

    yield open_
    for context in contexts:
        context.close()
    assert not problems, problems


def screenshot(page, name: str) -> Path:
    """Saves a screenshot under tests/screenshots; finite animations are shown in their end state."""
    SCREENSHOTS.mkdir(exist_ok=True)
    path = SCREENSHOTS / name
    page.screenshot(path=str(path), animations="disabled")
    return path


class Api:
    """The HTTP API of a live server, as a kiosk and the clerks use it."""

    def __init__(self, server):
        self.server = server
        self.base = server.url + "/api/v1"
        self._clerks: dict[str, dict] = {}

    def clerk(self, username: str) -> dict:
        if username not in self._clerks:
            self._clerks[username] = self.server.login(username)
        return self._clerks[username]

    def post(self, path: str, headers: dict, body: dict | None = None, expect: int = 200) -> dict:
        response = requests.post(self.base + path, json=body, headers=headers, timeout=10)
        assert response.status_code == expect, response.text
        return response.json()

    def get(self, path: str, headers: dict | None = None) -> dict:
        # The kiosk's token by default: devices read any ticket; anonymous callers need its key (issue 12).
        response = requests.get(self.base + path, headers=headers or self.server.kiosk, timeout=10)
        assert response.status_code == 200, response.text
        return response.json()

    def issue(self, service: str = "TP", **extra) -> dict:
        return self.post("/tickets", self.server.kiosk, {"service": service, **extra}, expect=201)

    def sign_in(self, counter: int) -> None:
        self.post(f"/counters/{counter}/sign-in", self.clerk(f"quay{counter}"))

    def call_next(self, counter: int) -> dict:
        return self.post(f"/counters/{counter}/call-next", self.clerk(f"quay{counter}"))["ticket"]

    def act(self, counter: int, ticket: dict, action: str, body: dict | None = None) -> dict:
        return self.post(f"/tickets/{ticket['id']}/{action}", self.clerk(f"quay{counter}"), body)["ticket"]

    def waiting(self, service: str = "TP") -> int:
        return next(row["waiting"] for row in self.get("/services") if row["code"] == service)


def login(page, server, username: str, next_path: str = "") -> None:
    """Signs in through the sign-in form, as staff do."""
    page.goto(server.url + "/login" + (f"?next={next_path}" if next_path else ""))
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", server.credentials.passwords[username])
    page.click("button[type=submit]")


def expect(locator):
    return sync_api.expect(locator)


def font_px(page, selector: str) -> float:
    return page.eval_on_selector(selector, "node => parseFloat(getComputedStyle(node).fontSize)")


def small_touch_targets(page) -> list[str]:
    """Visible buttons and links smaller than 64×64 CSS pixels."""
    return page.evaluate("""() => Array.from(document.querySelectorAll('button, a, input:not(.card-input)'))
        .filter(node => node.offsetParent !== null)
        .map(node => [node.id || node.textContent.trim().slice(0, 30), node.getBoundingClientRect()])
        .filter(([, box]) => box.width < 64 || box.height < 64)
        .map(([name, box]) => `${name} ${Math.round(box.width)}×${Math.round(box.height)}`)""")


def tone_wav(seconds: float, rate: int = 22050) -> bytes:
    """A short, quiet 16-bit mono tone as a WAV file."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as clip:
        clip.setnchannels(1)
        clip.setsampwidth(2)
        clip.setframerate(rate)
        clip.writeframes(b"".join(int(3000 * math.sin(2 * math.pi * 660 * i / rate)).to_bytes(2, "little", signed=True)
                                  for i in range(int(seconds * rate))))
    return buffer.getvalue()


def restart_on_same_port(server: LiveServer) -> LiveServer:
    """A new server process on the stopped one's port and instance folder (a reboot, as screens see it)."""
    replacement = LiveServer(server.folder)
    replacement.port, replacement.url = server.port, server.url
    replacement.env["LUOT_PORT"] = str(server.port)
    return replacement.start()


def stored(server: LiveServer):
    """A connection to the live server's own database file, to check what was stored."""
    return store.connect(server.folder / "luot.sqlite3")


# ---- kiosk ----------------------------------------------------------------------------------------

def test_kiosk_issues_a_ticket_and_returns_home(live_server, open_page):
    api = Api(live_server)
    api.issue("CT")  # someone is already waiting for Chứng thực
    page = open_page(f"{live_server.url}/kiosk#token={live_server.credentials.kiosk_token}")

    services = page.locator(".service-button")
    expect(services.first).to_be_visible()
    assert services.count() == len([s for s in api.get("/services") if s["code"] != "TKQ"])  # «Nhận kết quả» takes TKQ
    expect(page.locator('[data-waiting="TP"]')).to_have_text("0 đang chờ")
    expect(page.locator('[data-waiting="CT"]')).to_have_text("1 đang chờ")
    expect(page.locator('[data-wait="TP"]')).to_have_text("Chưa có quầy mở")  # nobody signed in yet
    # The activation token is kept on the kiosk and taken out of the address bar.
    assert page.evaluate("location.hash") == ""
    assert page.evaluate("localStorage.getItem('luot.kiosk.token')") == live_server.credentials.kiosk_token
    expect(page.locator("#kiosk-message")).to_be_hidden()
    # All services fit on the 1280×800 screen (the tiles' grid needs no scrolling), every touch target is 64 px.
    assert page.evaluate("document.documentElement.scrollHeight") <= KIOSK_SCREEN["height"]
    assert page.locator("#services").evaluate("node => node.scrollHeight <= node.clientHeight + 1")
    assert small_touch_targets(page) == []
    screenshot(page, "kiosk-home.png")

    page.get_by_role("button", name=re.compile("Tư pháp – Hộ tịch")).click()
    expect(page.locator("#screen-priority")).to_be_visible()
    expect(page.locator("#priority-service")).to_have_text("Tư pháp – Hộ tịch")
    assert small_touch_targets(page) == []
    page.get_by_role("button", name="Không, lấy số thường").click()

    expect(page.locator("#screen-ticket")).to_be_visible()
    expect(page.locator("#ticket-number")).to_have_text("A001")
    expect(page.locator("#ticket-service")).to_have_text("Tư pháp – Hộ tịch")
    expect(page.locator("#ticket-ahead")).to_have_text("0")
    expect(page.locator("#ticket-wait")).to_have_text(NO_COUNTER)  # no open counter: no time to promise
    expect(page.locator("#ticket-priority")).to_be_hidden()
    page.wait_for_function("() => { const qr = document.getElementById('ticket-qr');"
                           " return qr.complete && qr.naturalWidth > 0; }")
    qr_path = page.get_attribute("#ticket-qr", "src")
    track_key = re.fullmatch(r"/t/([^/]+)/qr\.svg", qr_path).group(1)  # the tracking key, not the ticket id
    assert "A001" in requests.get(f"{live_server.url}/t/{track_key}", timeout=10).text
    assert api.waiting("TP") == 1
    expect(page.get_by_role("button", name="Xong")).to_be_in_viewport()
    assert small_touch_targets(page) == []
    screenshot(page, "kiosk-ticket.png")

    page.get_by_role("button", name="Xong").click()
    expect(page.locator("#screen-home")).to_be_visible()
    expect(page.locator("#screen-ticket")).to_be_hidden()
    expect(page.locator('[data-waiting="TP"]')).to_have_text("1 đang chờ")

    # The next citizen sees one person ahead.
    page.get_by_role("button", name=re.compile("Tư pháp – Hộ tịch")).click()
    page.get_by_role("button", name="Không, lấy số thường").click()
    expect(page.locator("#ticket-number")).to_have_text("A002")
    expect(page.locator("#ticket-ahead")).to_have_text("1")

    # Once a clerk opens a counter for the service, the tiles and the ticket give a time, as the slip does.
    api.sign_in(2)
    page.get_by_role("button", name="Xong").click()
    expect(page.locator('[data-wait="TP"]')).to_have_text(re.compile(r"^~\d+\u00a0phút$"))
    expect(page.locator('[data-wait="CA_CT"]')).to_have_text("Chưa có quầy mở")  # counter 2 serves TP only
    page.get_by_role("button", name=re.compile("Tư pháp – Hộ tịch")).click()
    with page.expect_response(lambda response: response.url.endswith("/api/v1/tickets")) as answer:
        page.get_by_role("button", name="Không, lấy số thường").click()
    issued = answer.value.json()
    low, high = wait_range_minutes(issued["estimated_wait_range_s"])
    expect(page.locator("#ticket-number")).to_have_text("A003")
    expect(page.locator("#ticket-ahead")).to_have_text(str(issued["position"]))
    expect(page.locator("#ticket-wait")).to_have_text(f"Khoảng {low}–{high}\u00a0phút")
    assert issued["position"] == 2 and high > low >= 0


def test_kiosk_assistant_shows_life_event_steps_and_three_choices(live_server, open_page):
    """Issue 13: "bố tôi mất" lists its steps across fields and tickets the first; "căn cước" offers three."""
    api = Api(live_server)
    page = open_page(f"{live_server.url}/kiosk#token={live_server.credentials.kiosk_token}")
    expect(page.locator(".service-button").first).to_be_visible()
    page.locator("#ask-text").fill("bố tôi mất rồi, giờ phải làm gì")
    page.locator("#ask-form button[type=submit]").click()
    steps = page.locator(".life-event-steps > li")
    expect(steps).to_have_count(3)
    expect(page.locator(".life-event-name")).to_have_text("Người thân qua đời")
    expect(steps.nth(0).locator(".suggestion-name")).to_have_text("Đăng ký khai tử")
    expect(steps.nth(0).locator(".suggestion-facts")).to_have_text("Trong ngày · Miễn phí")
    expect(steps.nth(0).locator(".step-documents")).to_contain_text("Mang theo: Tờ khai đăng ký khai tử")
    expect(steps.nth(1).locator(".suggestion-name")).to_have_text("Xóa đăng ký thường trú")
    expect(steps.nth(2).locator(".suggestion-name")).to_contain_text("Hỗ trợ chi phí mai táng")
    assert steps.nth(1).get_by_role("button").count() == 0  # the ticket is for the first step only
    expect(page.locator(".assistant-reply")).to_contain_text("1. Đăng ký khai tử")
    assert small_touch_targets(page) == []
    screenshot(page, "kiosk-assistant-life-event.png")
    steps.nth(0).get_by_role("button", name="Lấy số").click()
    expect(page.locator("#priority-service")).to_have_text("Tư pháp – Hộ tịch")
    page.get_by_role("button", name="Không, lấy số thường").click()
    expect(page.locator("#ticket-number")).to_have_text("A001")
    assert api.waiting("TP") == 1
    page.get_by_role("button", name="Xong").click()

    page.locator("#ask-text").fill("căn cước")
    page.locator("#ask-form button[type=submit]").click()
    choices = page.locator(".assistant-choice")
    expect(choices).to_have_count(3)
    expect(page.locator(".assistant-reply")).to_contain_text("Có phải Ông/Bà cần")
    names = choices.locator(".suggestion-name").all_text_contents()
    assert {"Cấp thẻ căn cước (lần đầu)", "Cấp đổi thẻ căn cước", "Cấp lại thẻ căn cước"} == set(names)
    screenshot(page, "kiosk-assistant-choices.png")

    page.locator("#ask-text").fill("nhà vệ sinh ở đâu")
    page.locator("#ask-form button[type=submit]").click()
    expect(page.locator(".assistant-reply")).to_contain_text("quầy hướng dẫn")
    expect(page.locator("#assistant-answer .suggestion")).to_have_count(0)


def test_kiosk_without_token_says_it_is_not_activated(live_server, open_page):
    api = Api(live_server)
    page = open_page(f"{live_server.url}/kiosk")
    message = page.locator("#kiosk-message")
    expect(message).to_be_visible()
    expect(message).to_have_text(re.compile("Kiosk chưa được kích hoạt"))
    expect(message).to_be_in_viewport()

    page.get_by_role("button", name=re.compile("Tư pháp – Hộ tịch")).click()
    page.get_by_role("button", name="Không, lấy số thường").click()
    expect(page.locator("#screen-home")).to_be_visible()
    expect(page.locator("#screen-ticket")).to_be_hidden()
    expect(message).to_have_text(re.compile("Kiosk chưa được kích hoạt.*/kiosk#token="))
    expect(message).to_be_in_viewport()
    assert api.waiting("TP") == 0
    screenshot(page, "kiosk-not-activated.png")


def test_tracking_page_on_a_phone_shows_the_wait_and_follows_the_call(live_server, open_page):
    api = Api(live_server)
    first = api.issue("TP")
    second = api.issue("TP")
    page = open_page(f"{live_server.url}{second['track_url']}", viewport=PHONE)
    expect(page.locator("#track-number")).to_have_text(second["number"])
    expect(page.locator("#track-status")).to_have_text("Đang chờ")
    expect(page.locator("#track-ahead")).to_have_text("1")
    expect(page.locator("#track-wait")).to_have_text(NO_COUNTER)
    # The screens round waits the way the slip does (common.js mirrors printers/slip.py).
    samples = [[0, 150], [16 * 60, 22 * 60], [15 * 60, 25 * 60], [15 * 60 + 1, 25 * 60 + 1], [40 * 60, 41 * 60],
               [-30, 90], [497, 2292]]
    assert page.evaluate("samples => samples.map(Luot.waitRange)", samples) == \
        [list(wait_range_minutes(sample)) for sample in samples]
    assert page.evaluate("Luot.waitRange(null)") is None and page.evaluate("Luot.minutes(null)") is None

    api.sign_in(2)
    page.reload()  # the served HTML carries the forecast for a phone whose script is slow to run
    ticket = api.get(f"/tickets/{second['id']}")
    low, high = wait_range_minutes(ticket["estimated_wait_range_s"])
    expect(page.locator("#track-wait")).to_have_text(f"Khoảng {low}–{high}\u00a0phút")
    expect(page.locator("#track-ahead")).to_have_text("1")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    screenshot(page, "track-phone.png")

    # The call reaches the phone as a push (ticket_updated), not by asking again.
    api.call_next(2)
    api.act(2, first, "no-show")
    api.call_next(2)
    expect(page.locator("#track-status")).to_have_text(f"Mời số {second['number']} đến quầy 2")
    expect(page.locator("#track-facts")).to_be_hidden()

    # Served: the page's rating sends the ticket's key (issue 12) and is recorded.
    api.act(2, second, "start")
    api.act(2, second, "finish", {"procedure": "TP-01"})
    expect(page.get_by_role("button", name="Rất hài lòng")).to_be_visible()
    page.get_by_role("button", name="Rất hài lòng").click()
    expect(page.locator("#track-rating")).to_be_hidden()
    expect(page.locator("#track-rating-message")).to_have_text("Cảm ơn Ông/Bà!")
    assert api.get(f"/tickets/{second['id']}")["rating"] == 3

    # A rating that does not get through is never silent: the page says so, and a second try records it.
    restored = api.post(f"/tickets/{first['id']}/restore", api.clerk("quay2"))
    assert restored["ticket"]["status"] == "waiting"
    api.call_next(2)
    api.act(2, first, "start")
    api.act(2, first, "finish", {"procedure": "TP-01"})
    other = open_page(f"{live_server.url}{first['track_url']}", viewport=PHONE)
    expect(other.get_by_role("button", name="Hài lòng", exact=True)).to_be_visible()
    other.context.set_offline(True)
    other.get_by_role("button", name="Không hài lòng").click()
    expect(other.locator("#track-rating-message")).to_contain_text("Chưa ghi nhận được đánh giá")
    expect(other.locator("#track-rating-message")).to_contain_text("Không kết nối được máy chủ")
    assert api.get(f"/tickets/{first['id']}")["rating"] is None
    other.context.set_offline(False)
    other.get_by_role("button", name="Hài lòng", exact=True).click()
    expect(other.locator("#track-rating-message")).to_have_text("Cảm ơn Ông/Bà!")
    assert api.get(f"/tickets/{first['id']}")["rating"] == 2


# ---- counter panel --------------------------------------------------------------------------------

def test_counter_panel_with_buttons_and_keyboard(live_server, open_page):
    api = Api(live_server)
    first = api.issue("TP", citizen_qr=CARD["raw"])
    second, third = api.issue("TP"), api.issue("TP")
    page = open_page(viewport=COUNTER_SCREEN)
    login(page, live_server, "quay1")
    page.wait_for_url("**/counter")
    page.locator('.counter-choice[data-counter="1"]').click()

    expect(page.locator("#panel")).to_be_visible()
    expect(page.locator("#counter-title")).to_have_text(re.compile("^Quầy 1"))
    expect(page.locator("#counter-state")).to_have_text(re.compile("Đang mở"))
    expect(page.locator("#waiting-count")).to_have_text("3 đang chờ")
    expect(page.locator("#current-number")).to_have_text("—")
    expect(page.locator('#counter-services tr[data-service="TP"] td').nth(1)).to_have_text("3")
    assert CARD_NAME not in page.content(), "the citizen's name must only show once the ticket is called"

    # With the buttons: call, start, finish (choosing the procedure in the dialog).
    page.locator("#btn-next").click()
    expect(page.locator("#current-number")).to_have_text("A001")
    expect(page.locator("#current-citizen")).to_contain_text(CARD_NAME)
    expect(page.locator("#current-label")).to_have_text(re.compile("Đã gọi"))
    expect(page.locator("#waiting-count")).to_have_text("2 đang chờ")
    expect(page.locator("#btn-finish")).to_be_disabled()
    page.locator("#btn-start").click()
    expect(page.locator("#current-label")).to_have_text("Đang phục vụ")
    expect(page.locator("#btn-finish")).to_be_enabled()
    timer = page.locator("#current-timer")
    expect(timer).to_have_text(re.compile(r"^\d+:\d\d$"))
    shown = timer.text_content()
    expect(timer).not_to_have_text(shown, timeout=3000)  # the timer runs
    screenshot(page, "counter-panel.png")

    page.locator("#btn-finish").click()
    dialog = page.locator("#finish-dialog")
    expect(dialog).to_be_visible()
    expect(page.locator("#finish-number")).to_have_text("A001")
    page.locator(".procedure-option").filter(has=page.get_by_text("Đăng ký khai sinh", exact=True)).click()
    screenshot(page, "counter-finish-dialog.png")
    page.locator("#finish-ok").click()
    expect(dialog).to_be_hidden()
    expect(page.locator("#current-number")).to_have_text("—")
    expect(page.locator("#current-citizen")).to_be_hidden()
    assert api.get(f"/tickets/{first['id']}")["status"] == "done"

    # With the keyboard: N calls, S starts, F opens the dialog where typing (without diacritics) filters.
    page.keyboard.press("n")
    expect(page.locator("#current-number")).to_have_text("A002")
    expect(page.locator("#current-citizen")).to_be_hidden()
    expect(page.locator("#waiting-count")).to_have_text("1 đang chờ")
    page.keyboard.press("s")
    expect(page.locator("#current-label")).to_have_text("Đang phục vụ")
    page.keyboard.press("f")
    expect(dialog).to_be_visible()
    page.keyboard.type("dang ky khai sinh")
    expect(page.locator(".procedure-option:visible")).to_have_count(2)
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Space")
    page.keyboard.press("Enter")
    expect(dialog).to_be_hidden()
    expect(page.locator("#current-number")).to_have_text("—")

    # R recalls, V marks a no-show; P pauses (Enter picks the first reason) and P resumes.
    page.keyboard.press("n")
    expect(page.locator("#current-number")).to_have_text("A003")
    page.keyboard.press("r")
    expect(page.locator("#current-label")).to_have_text(re.compile("gọi lại 1 lần"))
    page.keyboard.press("v")
    expect(page.locator("#current-number")).to_have_text("—")
    expect(page.locator("#waiting-count")).to_have_text("0 đang chờ")
    page.keyboard.press("n")
    expect(page.locator("#counter-message")).to_have_text("Không có ai đang chờ")
    page.keyboard.press("p")
    expect(page.locator("#pause-dialog")).to_be_visible()
    page.keyboard.press("Enter")
    expect(page.locator("#counter-state")).to_have_text(re.compile("Tạm dừng · Nghỉ giải lao"))
    expect(page.locator("#btn-next")).to_be_disabled()
    page.keyboard.press("p")
    expect(page.locator("#counter-state")).to_have_text(re.compile("Đang mở"))

    db = stored(live_server)
    try:
        statuses = {row["id"]: row["status"] for row in store.all_rows(
            db, "SELECT id, status FROM tickets WHERE id IN (?, ?, ?)", (first["id"], second["id"], third["id"]))}
        procedures = {row["ticket_id"]: row["code"] for row in store.all_rows(
            db, """SELECT tp.ticket_id, p.code FROM ticket_procedures tp JOIN procedures p ON p.id = tp.procedure_id
                   WHERE tp.ticket_id IN (?, ?)""", (first["id"], second["id"]))}
    finally:
        db.conn.close()
    assert statuses == {first["id"]: "done", second["id"]: "done", third["id"]: "no_show"}
    assert procedures == {first["id"]: "TP-01", second["id"]: "TP-01"}


# ---- call display ---------------------------------------------------------------------------------

def open_display(open_page, server, query: str = ""):
    page = open_page(f"{server.url}/display{query}", viewport=TV)
    gate = page.locator("#sound-gate")
    expect(gate).to_be_visible()
    page.get_by_role("button", name="Bắt đầu").click()
    expect(gate).to_be_hidden()
    expect(page.locator("#centre-name")).not_to_be_empty()  # the snapshot arrived
    return page


WATCH_LATEST = """() => {
    window.shownAt = {};
    const node = document.getElementById('latest-number');
    new MutationObserver(() => { if (!(node.textContent in window.shownAt)) window.shownAt[node.textContent] = Date.now(); })
        .observe(node, {childList: true, characterData: true, subtree: true});
}"""


def test_display_shows_calls_within_a_second(live_server, open_page):
    api = Api(live_server)
    api.sign_in(1)
    api.sign_in(2)
    for service in ("TP", "TP", "TP", "CA_CT", "TP", "TP", "CT"):
        api.issue(service)
    page = open_display(open_page, live_server)
    expect(page.locator("#recent-calls li.empty")).to_have_text("Chưa có số nào được gọi")
    expect(page.locator('#waiting-list li[data-service="TP"] .waiting-count')).to_have_text("5")
    # Each service's expected wait for a newcomer sits next to its count, the server's figure in minutes;
    # Công an (counter 3, closed) has none to give.
    forecast = {row["code"]: row["estimated_wait_s"] for row in api.get("/services")}
    tp_wait = page.locator('#waiting-list li[data-service="TP"] .waiting-wait')
    expect(tp_wait).to_have_text(re.compile(r"^~\d+\u00a0phút$"))
    assert abs(int(re.search(r"\d+", tp_wait.text_content()).group()) - forecast["TP"] / 60) <= 1
    expect(page.locator('#waiting-list li[data-service="CA_CT"] .waiting-wait')).to_have_text("chưa mở quầy")
    assert forecast["CA_CT"] is None
    expect(page.locator(".counter-tile")).to_have_count(6)
    expect(page.locator("#notice")).to_be_hidden()  # no notice configured: no empty yellow band

    page.evaluate(WATCH_LATEST)
    sent = time.time()
    first = api.call_next(1)
    answered = time.time()
    page.wait_for_function("number => number in window.shownAt", arg=first["number"], timeout=2000)
    appeared = page.evaluate("number => window.shownAt[number]", first["number"]) / 1000
    print(f"\ncall-next → number on the display: {1000 * (appeared - sent):.0f} ms after the request, "
          f"{1000 * (appeared - answered):.0f} ms after the response")
    assert appeared - answered < 1.0

    expect(page.locator("#latest-number")).to_have_text("A001")
    expect(page.locator("#latest-counter")).to_have_text("đến quầy 1")
    expect(page.locator("#now-calling")).to_have_class(re.compile(r"\bflash\b"))  # blinks briefly…
    expect(page.locator("#now-calling")).not_to_have_class(re.compile(r"\bflash\b"), timeout=5000)  # …then steady
    expect(page.locator('.counter-tile[data-counter="1"] .tile-number')).to_have_text("A001")
    expect(page.locator('#waiting-list li[data-service="TP"] .waiting-count')).to_have_text("4")

    # More calls: the newest is highlighted, the previous ones move down the list.
    api.act(1, first, "no-show")
    second = api.call_next(2)
    expect(page.locator("#latest-number")).to_have_text(second["number"])
    expect(page.locator("#recent-calls li.newest .recent-number")).to_have_text(second["number"])
    expect(page.locator('.counter-tile.newest')).to_have_attribute("data-counter", "2")
    expect(page.locator('.counter-tile[data-counter="1"] .tile-number')).to_have_text("A001")
    third = api.call_next(1)
    api.act(1, third, "no-show")
    api.act(2, second, "no-show")
    fourth = api.call_next(2)
    fifth = api.call_next(1)
    api.act(2, fourth, "recall")  # a recall is announced again and goes back to the top
    expected = [fourth, fifth, third, second, first]
    expect(page.locator("#recent-calls .recent-number")).to_have_text([call["number"] for call in expected])
    expect(page.locator("#recent-calls li.newest")).to_have_count(1)
    expect(page.locator("#latest-number")).to_have_text(fourth["number"])
    expect(page.locator('.counter-tile[data-counter="1"] .tile-number')).to_have_text(fifth["number"])
    expect(page.locator('.counter-tile[data-counter="2"] .tile-number')).to_have_text(fourth["number"])
    expect(page.locator('#waiting-list li[data-service="TP"] .waiting-count')).to_have_text(str(api.waiting("TP")))

    # A counter that pauses dims at once and keeps its last number; it lights up again on resuming.
    api.act(1, fifth, "no-show")
    api.post("/counters/1/pause", api.clerk("quay1"), {"reason": "break"})
    expect(page.locator('.counter-tile[data-counter="1"]')).to_have_class(re.compile(r"\bstate-paused\b"))
    expect(page.locator('.counter-tile[data-counter="1"] .tile-number')).to_have_text(fifth["number"])
    api.post("/counters/1/resume", api.clerk("quay1"))
    expect(page.locator('.counter-tile[data-counter="1"]')).to_have_class(re.compile(r"\bstate-open\b"))

    # The clock and date are in Vietnamese; the big things are big enough to read across the hall.
    expect(page.locator("#clock-time")).to_have_text(re.compile(r"^\d\d:\d\d$"))
    expect(page.locator("#clock-date")).to_have_text(re.compile(r"^(Thứ (Hai|Ba|Tư|Năm|Sáu|Bảy)|Chủ Nhật), \d+ tháng \d+, 20\d\d$", re.I))
    assert font_px(page, "#latest-number") >= 200
    assert font_px(page, ".tile-number") >= 72
    assert font_px(page, "#recent-calls li") >= 40
    assert font_px(page, "#waiting-list .waiting-count") >= 32
    assert page.evaluate("document.documentElement.scrollHeight") <= TV["height"]
    assert page.evaluate("""() => Array.from(document.querySelectorAll('.tile-number, #latest-number, .recent-calls li'))
        .every(node => node.scrollWidth <= node.clientWidth + 1)""")
    screenshot(page, "display.png")


def set_notice(server, text: str) -> None:
    """The centre's notice line, as the centre's configuration stores it."""
    db = stored(server)
    try:
        with store.transaction(db):
            store.execute(db, "UPDATE centres SET settings = json_set(settings, '$.notice', ?)", (text,))
    finally:
        db.conn.close()


def test_display_for_one_counter_shows_only_its_calls(live_server, open_page):
    api = Api(live_server)
    notice = "Nghỉ trưa 11:30–13:30 <b>không</b> nhận hồ sơ"
    set_notice(live_server, notice)
    api.sign_in(1)
    api.sign_in(2)
    for _ in range(4):
        api.issue("TP")
    api.issue("CA_CT")
    one = api.call_next(1)
    two = api.call_next(2)
    page = open_display(open_page, live_server, "?counters=2")
    expect(page.locator(".counter-tile")).to_have_count(1)
    expect(page.locator(".counter-tile")).to_have_attribute("data-counter", "2")
    expect(page.locator("#recent-calls .recent-number")).to_have_text([two["number"]])
    expect(page.locator("#latest-number")).to_have_text(two["number"])
    # The notice line scrolls along the bottom, as text (never as HTML).
    expect(page.locator("#notice")).to_be_visible()
    expect(page.locator("#notice-text")).to_have_text(notice)
    expect(page.locator("#notice-text b")).to_have_count(0)
    # Only the services counter 2 serves are listed.
    expect(page.locator("#waiting-list li")).to_have_count(2)  # Tư pháp, and the demo's «Trả kết quả» (issue 16)
    expect(page.locator('#waiting-list li[data-service="TP"]')).to_be_visible()

    api.act(1, one, "no-show")
    other = api.call_next(1)
    api.act(2, two, "no-show")
    mine = api.call_next(2)
    expect(page.locator("#latest-number")).to_have_text(mine["number"])
    expect(page.locator("#recent-calls .recent-number")).to_have_text([mine["number"], two["number"]])
    assert other["number"] not in page.locator("main").inner_text()
    screenshot(page, "display-counter-2.png")


def test_display_announces_calls_in_order_without_overlap(tmp_path, app_instance_template, open_page):
    """Chime, then the spoken WAV `repeat` times, one call after the other; real espeak audio on the server."""
    folder = tmp_path / "instance"
    shutil.copytree(app_instance_template, folder)
    server = LiveServer(folder, env={"LUOT_TTS": "espeak"}).start()
    try:
        api = Api(server)
        api.sign_in(1)
        api.sign_in(2)
        api.issue("TP")
        api.issue("TP")
        page = open_page(viewport=TV)
        page.add_init_script("""
            window.audioLog = [];
            const play = HTMLMediaElement.prototype.play;
            HTMLMediaElement.prototype.play = function () {
                const clip = this, name = new URL(clip.src).pathname;
                window.audioLog.push(['play', name, performance.now()]);
                for (const kind of ['ended', 'error', 'pause']) {
                    clip.addEventListener(kind, () => window.audioLog.push([kind, name, performance.now()]), {once: true});
                }
                return play.apply(this, arguments);
            };""")
        # The server really synthesises the voice (checked below); the browser plays short clips to stay fast.
        page.route("**/audio/*.wav", lambda route: route.fulfill(body=tone_wav(0.25), content_type="audio/wav"))
        page.route("**/sounds/chime.wav", lambda route: route.fulfill(body=tone_wav(0.15), content_type="audio/wav"))
        page.goto(server.url + "/display")
        page.get_by_role("button", name="Bắt đầu").click()
        expect(page.locator("#centre-name")).not_to_be_empty()
        first, second = api.call_next(1), api.call_next(2)
        expect(page.locator("#latest-number")).to_have_text(second["number"])
        page.wait_for_function("() => window.audioLog.filter(entry => entry[0] === 'play').length >= 7", timeout=20000)
        page.wait_for_timeout(600)
        log = page.evaluate("window.audioLog")
        voice_urls = {name for kind, name, _ in log if name.startswith("/audio/")}
        wavs = [requests.get(server.url + url, timeout=10) for url in sorted(voice_urls)]
    finally:
        server.stop()
    assert wavs and all(wav.status_code == 200 and wav.content[:4] == b"RIFF" for wav in wavs)
    plays = [name for kind, name, _ in log if kind == "play"]
    chime = "/static/sounds/chime.wav"
    voice = [name for name in plays if name.startswith("/audio/")]
    assert len(set(voice)) == 2, plays
    first_voice, second_voice = dict.fromkeys(voice)
    assert plays == [chime, chime, first_voice, first_voice, chime, second_voice, second_voice], plays
    # Each clip starts only after the one before it ended.
    events = [(kind, at) for kind, _, at in log]
    for index, (kind, at) in enumerate(events):
        if kind == "play" and index:
            assert events[index - 1][0] in ("ended", "pause", "error") and events[index - 1][1] <= at, log
    assert [kind for kind, _ in events].count("ended") >= 7, log


# ---- manager monitor ------------------------------------------------------------------------------

def test_manager_monitor_updates_by_push(live_server, open_page):
    api = Api(live_server)
    page = open_page(viewport=COUNTER_SCREEN)
    login(page, live_server, "admin")
    page.wait_for_url("**/manager")
    expect(page.locator("#monitor-counters tr")).to_have_count(6)
    expect(page.locator("#monitor-services tr")).to_have_count(len(api.get("/services")))
    waiting_tp = page.locator('#monitor-services tr[data-service="TP"] td').nth(1)
    expect(waiting_tp).to_have_text("0")
    page.evaluate("window.sameDocument = true")

    api.issue("TP")
    expect(waiting_tp).to_have_text("1")
    api.sign_in(1)
    ticket = api.call_next(1)
    counter_one = page.locator('#monitor-counters tr[data-counter="1"]')
    expect(counter_one).to_contain_text("Đang mở")
    expect(counter_one).to_contain_text(f"{ticket['number']} · đã gọi")
    expect(waiting_tp).to_have_text("0")
    expect(page.locator("#monitor-calls li").first).to_contain_text(ticket["number"])
    assert page.evaluate("window.sameDocument") is True, "the monitor must update by push, not by reloading"
    expect(page.locator("#kpi-waiting_now")).to_have_text("0")
    expect(page.locator("#kpi-served")).to_have_text("0")
    screenshot(page, "manager-monitor.png")


@pytest.mark.browser
def test_manager_picks_a_range_and_sees_the_charts(live_server, open_page):
    db = store.connect(live_server.folder / "luot.sqlite3")
    try:
        result = demo_history.generate(db, "demo", 7, seed=3, daily_tickets=80)
    finally:
        db.conn.close()
    page = open_page(viewport={"width": 1600, "height": 1000})
    login(page, live_server, "admin", "/manager/stats")
    page.wait_for_url("**/manager/stats")
    page.fill("input[name=from]", result["first_day"])
    page.fill("input[name=to]", result["last_day"])
    page.select_option("select[name=by]", "procedure")
    page.click(".range-form button[type=submit]")
    page.wait_for_url(re.compile(r".*by=procedure.*"))
    for canvas in ("chart-hourly", "chart-histogram", "chart-procedures"):
        points = page.evaluate(f"Chart.getChart(document.getElementById('{canvas}')).data.datasets[0].data.length")
        assert points > 0, canvas
        # something was drawn: the canvas is not blank
        assert page.evaluate(f"""(() => {{ const c = document.getElementById('{canvas}');
            const px = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
            for (let i = 3; i < px.length; i += 4) if (px[i] > 0) return true; return false; }})()""")
    assert page.locator("#heatmap td").count() > 0
    assert page.locator("#breakdown tbody tr").count() > 3
    page.locator("#breakdown th").nth(1).click()  # sortable
    expect(page.locator("#breakdown th").nth(1)).to_have_attribute("data-sort", "asc")
    page.locator("details.chart-numbers summary").click()
    expect(page.locator("#chart-tables table").first).to_be_visible()
    screenshot(page, "manager-stats.png")


# ---- reconnection ---------------------------------------------------------------------------------

def test_display_reconnects_after_server_restart(live_server, open_page):
    api = Api(live_server)
    api.sign_in(1)
    first = api.issue("TP")
    api.issue("TP")
    api.call_next(1)
    page = open_display(open_page, live_server)
    expect(page.locator("#latest-number")).to_have_text(first["number"])
    badge = page.locator("#connection-badge")
    expect(badge).to_be_hidden()

    live_server.stop()
    expect(badge).to_be_visible(timeout=5000)
    expect(badge).to_have_text(re.compile("mất kết nối"))
    screenshot(page, "display-disconnected.png")

    # While the display is cut off the queue moves on (written by the core straight into the database).
    db = stored(live_server)
    try:
        queue = QueueService(db, centre.only_centre_id(db))
        clerk, counter = clerk_id(db, 1), counter_id(db, 1)
        queue.no_show(first["id"], counter, clerk)
        called = queue.call_next(counter, clerk).result["ticket"]
        queue.issue_ticket("TP")
    finally:
        db.conn.close()

    restarted = restart_on_same_port(live_server)
    try:
        expect(badge).to_be_hidden(timeout=10000)
        expect(page.locator("#latest-number")).to_have_text(called["number"])
        expect(page.locator('.counter-tile[data-counter="1"] .tile-number')).to_have_text(called["number"])
        expect(page.locator("#recent-calls .recent-number")).to_have_text([called["number"], first["number"]])
        expect(page.locator('#waiting-list li[data-service="TP"] .waiting-count')).to_have_text(
            str(Api(restarted).waiting("TP")))
        # Live again: a new call arrives by push.
        Api(restarted).act(1, called, "recall")
        expect(page.locator("#now-calling")).to_have_class(re.compile(r"\bflash\b"))
    finally:
        restarted.stop()


# ---- English -------------------------------------------------------------------------------------

def test_screens_switch_to_english(live_server, open_page):
    kiosk = open_page(f"{live_server.url}/kiosk?lang=en#token={live_server.credentials.kiosk_token}")
    expect(kiosk.locator('[data-waiting="TP"]')).to_have_text("0 waiting")
    expect(kiosk.locator('.service-button[data-service="TP"] .service-name')).to_have_text("Justice – Civil status (vital records)")
    kiosk.locator('.service-button[data-service="TP"]').click()
    expect(kiosk.locator("#screen-priority .question")).to_have_text("Do you belong to a priority group?")
    kiosk.get_by_role("button", name="No, a normal ticket").click()
    expect(kiosk.locator(".ticket-label")).to_have_text("Your number")
    expect(kiosk.locator("#ticket-wait")).to_have_text("No counter is open for this service yet")
    screenshot(kiosk, "kiosk-ticket-en.png")

    display = open_page(f"{live_server.url}/display?lang=en", viewport=TV)
    display.get_by_role("button", name="Start").click()
    expect(display.locator(".invite")).to_have_text("NOW SERVING")
    expect(display.locator("#clock-date")).to_have_text(re.compile(r"^(Mon|Tues|Wednes|Thurs|Fri|Satur|Sun)day"))
    expect(display.locator('#waiting-list li[data-service="TP"] .waiting-service')).to_have_text(
        "Justice – Civil status (vital records)")

    counter = open_page(viewport=COUNTER_SCREEN)
    login(counter, live_server, "quay2", "/counter?lang=en")
    counter.locator('.counter-choice[data-counter="2"]').click()
    expect(counter.locator("#btn-next")).to_contain_text("Call next")
    expect(counter.locator("#counter-state")).to_have_text(re.compile("Open"))
    expect(counter.locator("#waiting-count")).to_have_text("1 waiting")


@pytest.mark.browser
def test_counter_calls_a_specific_number_with_a_reason(live_server, open_page):
    api = Api(live_server)
    api.issue("TP")
    wanted = api.issue("TP")
    page = open_page(viewport=COUNTER_SCREEN)
    login(page, live_server, "quay2")
    page.wait_for_url("**/counter")
    page.locator('.counter-choice[data-counter="2"]').click()
    expect(page.locator("#panel")).to_be_visible()
    page.keyboard.press("g")
    expect(page.locator("#call-number-dialog")).to_be_visible()
    page.locator("#call-number-value").fill(wanted["number"])
    page.locator("#call-number-reason").fill("")
    page.locator("#call-number-dialog button.primary").click()
    expect(page.locator("#call-number-dialog")).to_be_visible()  # the browser insists on a reason
    page.locator("#call-number-value").fill("A999")
    page.locator("#call-number-reason").fill("Người già yếu")
    page.locator("#call-number-dialog button.primary").click()
    expect(page.locator("#call-number-error")).to_contain_text("A999")
    page.locator("#call-number-value").fill(wanted["number"])
    page.locator("#call-number-dialog button.primary").click()
    expect(page.locator("#call-number-dialog")).to_be_hidden()
    expect(page.locator("#current-number")).to_have_text(wanted["number"])
    assert api.get(f"/tickets/{wanted['id']}")["status"] == "called"
