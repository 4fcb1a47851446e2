"""The counter's rating tablet (/rate/<counter>) in headless Chromium against a real server."""
from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest
import requests

from queueing import store
from tests.conftest import ROOT
from tests.test_browser import (Api, expect, live_server, open_page,  # noqa: F401, F811 (fixtures)
                                 screenshot)

TABLET = {"width": 1024, "height": 600}

pytestmark = [pytest.mark.browser]


def add_counter_device(server, counter: int, name: str) -> str:
    """Registers a counter's rating tablet with the CLI, as an administrator does; returns its token."""
    result = subprocess.run([sys.executable, "server.py", "device", "add", name, "--kind", "counter",
                             "--counter", str(counter)], cwd=ROOT, capture_output=True, text=True, timeout=60,
                            env={**os.environ, "LUOT_INSTANCE": str(server.folder), "LUOT_TTS": "none"})
    assert result.returncode == 0, result.stderr
    token = result.stdout.strip().splitlines()[-1]
    assert len(token) > 30
    return token


def finish_a_ticket(api: Api, counter: int = 1) -> dict:
    """A citizen is served at the counter and the clerk finishes the ticket over the API."""
    ticket = api.issue("TP")
    called = api.call_next(counter)
    assert called["id"] == ticket["id"]
    api.act(counter, called, "start")
    api.act(counter, called, "finish", {"procedure": "TP-01"})
    return ticket


def test_rating_page_lights_up_and_records_the_score(live_server, open_page):
    api = Api(live_server)
    api.sign_in(1)
    token = add_counter_device(live_server, 1, "Bảng đánh giá quầy 1")
    page = open_page(viewport=TABLET)
    page.clock.install()  # the tablet's timers run on a clock the test can move forward
    page.goto(f"{live_server.url}/rate/1#token={token}")

    # Idle: a calm screen naming the counter; the token is kept on the tablet, not in the address bar.
    expect(page.locator("#rate-idle")).to_be_visible()
    expect(page.locator("#rate-counter")).to_have_text(re.compile("^Quầy 1"))
    expect(page.locator("#rate-ask")).to_be_hidden()
    expect(page.locator("#rate-message")).to_be_hidden()
    assert page.evaluate("location.hash") == ""
    assert page.evaluate("localStorage.getItem('luot.rate.token')") == token
    page.wait_for_function("() => document.getElementById('connection-badge').hidden")
    screenshot(page, "rate-idle.png")

    ticket = finish_a_ticket(api)
    ask = page.locator("#rate-ask")
    expect(ask).to_be_visible()
    expect(page.locator("#rate-number")).to_have_text(ticket["number"])
    expect(ask).to_contain_text("Ông/Bà đánh giá thế nào về việc giải quyết thủ tục?")
    buttons = page.locator(".rate-buttons button")
    expect(buttons).to_have_text(["Rất hài lòng", "Hài lòng", "Không hài lòng"])
    for index in range(3):
        box = buttons.nth(index).bounding_box()
        assert box["height"] >= 150 and box["width"] >= 250, box
    assert page.evaluate("document.documentElement.scrollHeight") <= TABLET["height"]
    screenshot(page, "rate-ask.png")

    page.get_by_role("button", name="Rất hài lòng").click()
    expect(page.locator("#rate-thanks")).to_be_visible()
    expect(ask).to_be_hidden()
    screenshot(page, "rate-thanks.png")
    answer = requests.get(f"{live_server.url}/api/v1/tickets/{ticket['id']}?key={ticket['track_key']}", timeout=10).json()
    assert answer["rating"] == 3

    # Recorded against the ticket, the counter and the clerk who served it.
    db = store.connect(live_server.folder / "luot.sqlite3")
    try:
        rated = store.one(db, """SELECT e.counter_id, e.clerk_id, t.counter_id AS ticket_counter, t.clerk_id AS ticket_clerk
                                 FROM ticket_events e JOIN tickets t ON t.id = e.ticket_id
                                 WHERE e.ticket_id = ? AND e.kind = 'rated'""", (ticket["id"],))
        quay1 = store.scalar(db, "SELECT id FROM users WHERE username = 'quay1'")
        counter_one = store.scalar(db, "SELECT id FROM counters WHERE number = 1")
    finally:
        db.conn.close()
    assert rated == {"counter_id": counter_one, "clerk_id": quay1, "ticket_counter": counter_one, "ticket_clerk": quay1}

    # A few seconds later the tablet is calm again, ready for the next citizen.
    page.clock.run_for(3_000)
    expect(page.locator("#rate-thanks")).to_be_visible()
    page.clock.run_for(3_000)
    expect(page.locator("#rate-idle")).to_be_visible()
    expect(page.locator("#rate-thanks")).to_be_hidden()


def test_rating_page_returns_to_idle_without_an_answer(live_server, open_page):
    api = Api(live_server)
    api.sign_in(1)
    token = add_counter_device(live_server, 1, "Bảng đánh giá quầy 1")
    page = open_page(viewport=TABLET)
    page.clock.install()
    page.goto(f"{live_server.url}/rate/1?lang=en#token={token}")
    expect(page.locator("#rate-idle")).to_be_visible()
    page.wait_for_function("() => document.getElementById('connection-badge').hidden")

    ticket = finish_a_ticket(api)
    expect(page.locator("#rate-ask")).to_be_visible()
    expect(page.locator("#rate-ask")).to_contain_text("How satisfied are you")
    expect(page.locator(".rate-buttons button")).to_have_text(["Very satisfied", "Satisfied", "Dissatisfied"])
    page.clock.run_for(59_000)
    expect(page.locator("#rate-ask")).to_be_visible()
    page.clock.run_for(2_000)
    expect(page.locator("#rate-idle")).to_be_visible()
    expect(page.locator("#rate-ask")).to_be_hidden()
    assert requests.get(f"{live_server.url}/api/v1/tickets/{ticket['id']}?key={ticket['track_key']}", timeout=10).json()["rating"] is None


def test_rating_page_needs_its_own_counters_token(live_server, open_page):
    api = Api(live_server)
    api.sign_in(1)
    not_activated = open_page(f"{live_server.url}/rate/1", viewport=TABLET)
    expect(not_activated.locator("#rate-message")).to_have_text(re.compile("chưa được kích hoạt"))

    token = add_counter_device(live_server, 1, "Bảng đánh giá quầy 1")
    wrong_counter = open_page(f"{live_server.url}/rate/2#token={token}", viewport=TABLET)
    expect(wrong_counter.locator("#rate-message")).to_have_text(re.compile("thuộc quầy khác"))
    finish_a_ticket(api)
    wrong_counter.wait_for_timeout(500)
    expect(wrong_counter.locator("#rate-ask")).to_be_hidden()

    assert requests.get(f"{live_server.url}/rate/99", timeout=10).status_code == 404
    kiosk_token = open_page(f"{live_server.url}/rate/1#token={live_server.credentials.kiosk_token}", viewport=TABLET)
    expect(kiosk_token.locator("#rate-message")).to_have_text(re.compile("chưa được kích hoạt"))
