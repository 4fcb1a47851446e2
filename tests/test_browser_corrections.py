"""Issue 11 in the browser: the counter panel corrects a priority and restores a no-show; the kiosk's «Tôi đã quay lại»."""
from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.test_browser import COUNTER_SCREEN, Api, live_server, login, open_page  # noqa: F401 (fixtures)


def test_counter_corrects_a_priority_and_restores_a_no_show(live_server, open_page):  # noqa: F811
    api = Api(live_server)
    claimed = api.issue("TP", priority="NCT")
    page = open_page(viewport=COUNTER_SCREEN)
    login(page, live_server, "quay2")
    page.wait_for_url("**/counter")
    page.locator('.counter-choice[data-counter="2"]').click()
    expect(page.locator("#panel")).to_be_visible()
    expect(page.locator("#btn-priority")).to_be_disabled()
    page.locator("#btn-next").click()
    expect(page.locator("#current-service")).to_contain_text("★")
    page.keyboard.press("u")
    expect(page.locator("#priority-dialog")).to_be_visible()
    expect(page.locator("#priority-number")).to_have_text(claimed["number"])
    page.locator("#priority-value").select_option("")
    page.locator("#priority-reason").fill("Công dân chưa đủ 60 tuổi")
    page.locator("#priority-dialog button.primary").click()
    expect(page.locator("#priority-dialog")).to_be_hidden()
    expect(page.locator("#current-service")).not_to_contain_text("★")
    assert api.get(f"/tickets/{claimed['id']}", live_server.login("quay2"))["priority"] is None

    page.locator("#btn-noshow").click()
    expect(page.locator("#current-number")).to_have_text("—")
    page.keyboard.press("k")
    expect(page.locator("#restore-dialog")).to_be_visible()
    page.locator("#restore-number").fill("A999")
    page.locator("#restore-dialog button.primary").click()
    expect(page.locator("#restore-error")).to_contain_text("A999")
    page.locator("#restore-number").fill(claimed["number"].lower())
    page.locator("#restore-dialog button.primary").click()
    expect(page.locator("#restore-dialog")).to_be_hidden()
    expect(page.locator("#counter-message")).to_have_text(f"Đã xếp lại số {claimed['number']} vào hàng chờ.")
    assert api.get(f"/tickets/{claimed['id']}")["status"] == "waiting"


def test_kiosk_im_back_restores_a_no_show_from_the_scanned_slip(live_server, open_page):  # noqa: F811
    api = Api(live_server)
    ticket = api.issue("TP")
    clerk = live_server.login("quay2")
    api.post("/counters/2/sign-in", clerk)
    api.post("/counters/2/call-next", clerk)
    api.post(f"/tickets/{ticket['id']}/no-show", clerk)
    page = open_page(f"{live_server.url}/kiosk#token={live_server.credentials.kiosk_token}")
    page.locator("#im-back").click()
    expect(page.locator("#screen-back")).to_be_visible()
    expect(page.locator("#back-result")).to_have_text(re.compile("mã QR trên phiếu"))
    # the scanner types the slip's QR (its tracking URL) and Enter into the focused hidden field
    page.keyboard.type(f"{live_server.url}{ticket['track_url']}")
    page.keyboard.press("Enter")
    expect(page.locator("#back-result")).to_have_text(f"Số {ticket['number']} đã được xếp lại vào hàng chờ. "
                                                      "Còn 0 người trước Ông/Bà.")
    assert api.get(f"/tickets/{ticket['id']}")["status"] == "waiting"
    page.keyboard.type(f"{live_server.url}{ticket['track_url']}")  # scanned again: already waiting
    page.keyboard.press("Enter")
    expect(page.locator("#back-result")).to_contain_text("vẫn đang chờ")
