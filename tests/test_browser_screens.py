"""What people see, at the screens' real sizes, in headless Chromium against one real server (issue 17): the
kiosk portrait and landscape, the phone's tracking page, the statistics page, and axe-core on every page."""
from __future__ import annotations

import re
import shutil

import pytest
import requests

from printers.slip import wait_range_minutes
from queueing import demo_history, store
from tests import axe
from tests.conftest import LiveServer
from tests import test_browser
from tests.test_browser import Api, expect, login, restart_on_same_port, screenshot

open_page = test_browser.open_page  # the same fixture: fails a test on a script error or a CSP refusal

pytestmark = [pytest.mark.browser]

PORTRAIT = {"width": 1080, "height": 1920}
LANDSCAPE = {"width": 1920, "height": 1080}
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1366, "height": 768}

TILE_COVERAGE = """selector => {
  const tiles = [...document.querySelectorAll(selector || '#services .service-button')].filter(node => node.offsetParent);
  const area = tiles.reduce((sum, node) => { const box = node.getBoundingClientRect();
                                             return sum + box.width * box.height; }, 0);
  return area / (innerWidth * innerHeight);
}"""
SMALLEST_TILE_TEXT = """selector => Math.min(...[...document.querySelectorAll(selector)].filter(node => node.offsetParent)
  .map(node => parseFloat(getComputedStyle(node).fontSize)))"""


@pytest.fixture(scope="module")
def server(tmp_path_factory, app_instance_template):
    """One real server for the module, speaking with espeak-ng (the kiosk's guidance is real audio)."""
    folder = tmp_path_factory.mktemp("screens") / "instance"
    shutil.copytree(app_instance_template, folder)
    live = LiveServer(folder, env={"LUOT_TTS": "espeak"}).start()
    yield live
    live.stop()


def box(page, selector: str) -> dict:
    return page.locator(selector).first.bounding_box()


def test_the_kiosk_fills_a_portrait_screen_and_reads_its_choices_aloud(server, open_page):
    page = open_page(f"{server.url}/kiosk#token={server.credentials.kiosk_token}", viewport=PORTRAIT)
    expect(page.locator(".service-button[data-service]").first).to_be_visible()
    assert page.evaluate(TILE_COVERAGE) >= 0.5
    assert page.evaluate(SMALLEST_TILE_TEXT, ".service-button .service-name") >= 28
    services = page.locator("#services")
    assert services.evaluate("node => node.scrollHeight <= node.clientHeight + 1")  # every tile on screen
    # The result flow (issue 16) registers itself: its button shows, as large as a service tile.
    expect(page.locator("#choice-result")).to_be_visible()
    expect(page.locator("#greeting")).not_to_contain_text("nói")
    screenshot(page, "kiosk-portrait.png")
    result, tile = box(page, "#choice-result"), box(page, ".service-button[data-service]")
    assert abs(result["width"] - tile["width"]) < 2 and abs(result["height"] - tile["height"]) < 2

    # "Nghe hướng dẫn" plays this screen's choices, synthesised by the server's espeak-ng.
    with page.expect_response(lambda response: "/kiosk/guidance.wav" in response.url) as answer:
        page.click("#listen")
    response = answer.value
    assert response.status in (200, 206) and response.headers["content-type"] == "audio/wav"  # 206: audio asks by range
    assert "screen=home" in response.url and "choices=" in response.url and "result" in response.url
    assert response.body()[:4] == b"RIFF"

    # The entry button starts its flow on a screen of its own, and the kiosk comes home from it.
    page.click("#choice-result")
    expect(page.locator("#screen-result")).to_be_visible()
    expect(page.locator("#screen-home")).to_be_hidden()
    page.evaluate("LuotKiosk.home()")
    expect(page.locator("#screen-home")).to_be_visible()

    # The priority question: one decision, its choices as large as the service tiles.
    page.get_by_role("button", name=re.compile("Tư pháp – Hộ tịch")).click()
    expect(page.locator("#screen-priority")).to_be_visible()
    expect(page.locator("#screen-home")).to_be_hidden()
    smallest = min(b["height"] for b in (box(page, f"#priority-groups button >> nth={i}")
                                         for i in range(page.locator("#priority-groups button").count())))
    assert smallest >= tile["height"] * 0.95
    assert page.evaluate(SMALLEST_TILE_TEXT, "#priority-groups button") >= 28
    with page.expect_response(lambda response: "/kiosk/guidance.wav" in response.url) as answer:
        page.click("#listen")
    assert "screen=priority" in answer.value.url and answer.value.status in (200, 206)

    # High contrast: white on black, kept on this kiosk across a reload.
    page.click("#priority-back")
    page.click("#high-contrast")
    expect(page.locator("#high-contrast")).to_have_attribute("aria-pressed", "true")
    assert page.evaluate("getComputedStyle(document.body).backgroundColor") == "rgb(0, 0, 0)"
    page.reload()
    expect(page.locator(".service-button[data-service]").first).to_be_visible()
    assert page.evaluate("document.documentElement.classList.contains('high-contrast')")
    screenshot(page, "kiosk-portrait-high-contrast.png")
    page.click("#high-contrast")
    assert page.evaluate("getComputedStyle(document.body).backgroundColor") != "rgb(0, 0, 0)"

    # the number, on the same full-size screen
    page.get_by_role("button", name=re.compile("Chứng thực")).click()
    page.get_by_role("button", name="Không, lấy số thường").click()
    expect(page.locator("#ticket-number")).to_have_text(re.compile(r"^B\d{3}$"))
    assert page.evaluate("document.documentElement.scrollHeight") <= PORTRAIT["height"]
    expect(page.locator("#ticket-done")).to_be_in_viewport()
    page.wait_for_function("() => { const qr = document.getElementById('ticket-qr'); return qr.complete && qr.naturalWidth > 0; }")
    screenshot(page, "kiosk-portrait-ticket.png")


def test_the_kiosk_fills_a_landscape_screen_with_a_flow_registered_before_it_loads(server, open_page):
    page = open_page(viewport=LANDSCAPE)
    # a flow's script may run before kiosk.js: its registration still counts (the real appointment
    # flow's script, which registers after kiosk.js, is kept away so this one is the only one)
    page.route("**/js/kiosk_appointment.js", lambda route: route.abort())
    page.context.add_init_script("window.LuotKiosk = {flows: {appointment: function () { window.booked = true; }}};")
    page.goto(f"{server.url}/kiosk#token={server.credentials.kiosk_token}")
    expect(page.locator(".service-button[data-service]").first).to_be_visible()
    expect(page.locator("#choice-appointment")).to_be_visible()
    # the choices, services and the entry choices as large as they are, cover half the screen
    assert page.evaluate(TILE_COVERAGE, "#services .service-button, #services .entry-choice") >= 0.5
    assert page.evaluate(SMALLEST_TILE_TEXT, ".service-button .service-name") >= 28
    assert page.locator("#services").evaluate("node => node.scrollHeight <= node.clientHeight + 1")
    page.click("#choice-appointment")
    assert page.evaluate("window.booked") is True
    page.evaluate("LuotKiosk.flows.appointment = undefined")
    expect(page.locator("#choice-appointment")).to_be_hidden()
    screenshot(page, "kiosk-landscape.png")


def test_the_tracking_page_forecasts_nudges_and_survives_a_restart(server, open_page):
    api = Api(server)
    api.sign_in(2)
    tickets = [api.issue("TP") for _ in range(5)]
    mine = tickets[-1]
    page = open_page(viewport=PHONE)
    # what the phone's vibration motor would do
    page.context.add_init_script("window.vibrations = []; navigator.vibrate = p => { vibrations.push(p); return true; };")
    page.goto(f"{server.url}{mine['track_url']}")
    expect(page.locator("#track-centre")).to_have_text("Trung tâm Phục vụ Hành chính công (demo)")
    expect(page.locator("#track-service")).to_have_text("Tư pháp – Hộ tịch")
    expect(page.locator("#track-ahead")).to_have_text("4")
    low, high = wait_range_minutes(api.get(f"/tickets/{mine['id']}")["estimated_wait_range_s"])
    expect(page.locator("#track-wait")).to_have_text(f"Khoảng {low}–{high}\u00a0phút")
    expect(page.locator("#alerts-promise")).to_contain_text("reo và rung")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

    # installable: a manifest with icons the server serves
    manifest_url = page.get_attribute("link[rel=manifest]", "href")
    manifest = requests.get(server.url + manifest_url, timeout=10).json()
    assert manifest["start_url"] == mine["track_url"] and manifest["display"] == "standalone"
    for icon in manifest["icons"]:
        image = requests.get(server.url + icon["src"], timeout=10)
        assert image.status_code == 200 and image.headers["Content-Type"] == "image/png"

    page.click("#alerts-enable")  # the one tap browsers require before sound and vibration
    expect(page.locator("#alerts-on")).to_be_visible()
    expect(page.locator("#alerts-enable")).to_be_hidden()
    screenshot(page, "track-phone-waiting.png")
    taps = len(page.evaluate("vibrations"))

    def serve_next() -> dict:
        ticket = api.call_next(2)
        if ticket["id"] != mine["id"]:
            api.act(2, ticket, "no-show")
        return ticket

    # three people ahead (the centre's nudge_ahead, 3 by default): the phone rings and vibrates once
    serve_next()
    expect(page.locator("#track-ahead")).to_have_text("3")
    page.wait_for_function(f"vibrations.length === {taps + 1}")
    assert page.evaluate("document.body.classList.contains('nudged')")
    serve_next()
    expect(page.locator("#track-ahead")).to_have_text("2")
    assert len(page.evaluate("vibrations")) == taps + 1  # once, not at every step

    # The server restarts (a reboot, a deploy): the page reconnects, follows the ticket again and hears the call.
    server.stop()
    expect(page.locator("#connection-badge")).to_be_visible(timeout=10000)
    restarted = restart_on_same_port(server)
    server.process, server.log = restarted.process, restarted.log
    expect(page.locator("#connection-badge")).to_be_hidden(timeout=15000)
    for _ in range(2):
        serve_next()
    called = serve_next()
    assert called["id"] == mine["id"]
    expect(page.locator("#track-status")).to_have_text(f"Mời số {mine['number']} đến quầy 2")
    expect(page.locator("#track-facts")).to_be_hidden()
    page.wait_for_function(f"vibrations.length === {taps + 2}")
    screenshot(page, "track-phone-called.png")
    api.act(2, mine, "no-show")
    api.post("/counters/2/sign-out", api.clerk("quay2"))  # the module's next tests start with no clerk signed in


def test_the_statistics_page_names_procedures_and_its_tables_fit_1366(server, open_page):
    api = Api(server)
    api.post("/day/close", api.clerk("admin"))  # the earlier tests' tickets: demo history needs an empty queue
    db = store.connect(server.folder / "luot.sqlite3")
    try:
        result = demo_history.generate(db, "demo", 3, seed=5, daily_tickets=60)
    finally:
        db.conn.close()
    page = open_page(viewport=DESKTOP)
    login(page, server, "admin", "/manager/stats")
    page.wait_for_url("**/manager/stats**")
    page.goto(f"{server.url}/manager/stats?from={result['first_day']}&to={result['last_day']}&by=procedure")
    expect(page.locator("select[name=by]")).to_have_value("procedure")
    labels = page.evaluate("Chart.getChart(document.getElementById('chart-procedures')).data.labels")
    assert labels and not [label for label in labels if re.fullmatch(r"[A-Z_]+-\d+", label)], labels
    assert "Đăng ký khai sinh" in " ".join(labels)
    name_column = page.locator("#breakdown tbody td.label").first.bounding_box()
    assert name_column["width"] >= 200  # no longer a 60 px column
    assert page.evaluate("document.documentElement.scrollWidth") <= DESKTOP["width"]
    region = page.locator(".table-scroll")
    assert region.get_attribute("tabindex") == "0" and region.get_attribute("role") == "region"
    assert page.evaluate("document.querySelector('#breakdown').getBoundingClientRect().height") < 4000
    page.locator("#breakdown").scroll_into_view_if_needed()
    screenshot(page, "stats-1366.png")


def test_no_page_has_a_serious_or_critical_accessibility_violation(server, open_page):
    api = Api(server)
    ticket = api.issue("CT")
    values = {"kiosk_token": server.credentials.kiosk_token, "track_url": ticket["track_url"]}
    problems, checked, skipped = {}, [], []
    for spec in axe.PAGES:
        page = open_page(viewport=dict(zip(("width", "height"), spec.viewport)))
        if spec.user:
            login(page, server, spec.user, spec.path)
            page.wait_for_url(f"**{spec.path}**")
        else:
            answer = page.goto(server.url + spec.path.format(**values))
            if spec.optional and answer.status == 404:
                skipped.append(spec.name)
                continue
        page.wait_for_selector(spec.ready, state="attached")
        found = axe.violations(page)
        if spec.name == "kiosk":  # its second screen too: the priority question
            page.get_by_role("button", name=re.compile("Chứng thực")).click()
            page.wait_for_selector("#screen-priority:not([hidden])")
            found += axe.violations(page)
        if found:
            problems[spec.name] = axe.describe(found)
        checked.append(spec.name)
        page.context.close()
    assert not problems, "\n".join(f"{name}:\n{text}" for name, text in problems.items())
    assert len(checked) >= 9, (checked, skipped)
