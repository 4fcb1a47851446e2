"""Hostile text everywhere a name, a notice or a scan is shown: rendered as text, never run.

A centre whose every name is markup, a notice with a script, clerks whose display names are markup,
and the hostile ID-card sample (tests/data/cccd-qr-samples.json) scanned at the kiosk: the ticket
goes kiosk → counter → manager, and every page is opened in headless Chromium. No dialog may open,
no element may come out of the text, the Content-Security-Policy must have nothing to refuse, and
the text must be visible as typed.
"""
from __future__ import annotations

import json

import pytest

from queueing import store
from tests.conftest import ROOT, LiveServer

from playwright import sync_api

SAMPLES = json.loads((ROOT / "tests" / "data" / "cccd-qr-samples.json").read_text(encoding="utf-8"))
HOSTILE_SCAN = SAMPLES["hostile"][0]["raw"]
HOSTILE_NAME = HOSTILE_SCAN.split("|")[2]  # <script>alert(1)</script>

PAYLOADS = {
    "centre": "Trung tâm <img src=x onerror=alert('centre')>",
    "service": "Hộ tịch <svg onload=alert('service')>",
    "procedure": "Khai sinh \"><img src=x onerror=alert('procedure')>",
    "counter": "Quầy <b onmouseover=alert('counter')>một</b>",
    "priority": "Ưu tiên <img src=x onerror=alert('priority')>",
    "notice": "Thông báo </script><script>alert('notice')</script>",
    "clerk": "Cán bộ <iframe src=javascript:alert('clerk')>",
}
# Elements and attributes none of the payloads may turn into.
INJECTED = """() => {
  const found = [];
  for (const node of document.querySelectorAll('*')) {
    const tag = node.tagName.toLowerCase();
    if (['iframe', 'svg'].includes(tag) && !node.closest('[data-icon]')) found.push(tag);
    if (tag === 'img' && node.getAttribute('src') === 'x') found.push('img[src=x]');
    if (tag === 'script' && !node.src && node.type !== 'application/json') found.push('inline script');
    if (tag === 'b' && node.hasAttribute('onmouseover')) found.push('b[onmouseover]');
    for (const attribute of node.attributes) {
      if (attribute.name.startsWith('on')) found.push(tag + '[' + attribute.name + ']');
    }
  }
  return found.concat(window.__violations || []);
}"""

pytestmark = [pytest.mark.browser]


def hostile_centre() -> dict:
    return {
        "centre": {"id": "hostile", "name": PAYLOADS["centre"], "timezone": "Asia/Ho_Chi_Minh",
                   "settings": {"notice": PAYLOADS["notice"]}},
        "services": [{"code": "HT", "name": PAYLOADS["service"], "name_en": PAYLOADS["service"], "prefix": "A",
                      "procedures": [{"code": "HT-01", "name": PAYLOADS["procedure"]}]}],
        "priority_groups": [{"code": "NCT", "name": PAYLOADS["priority"]}],
        "counters": [{"number": 1, "name": PAYLOADS["counter"], "services": ["HT"]}],
    }


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    from server import initialise
    folder = tmp_path_factory.mktemp("hostile")
    centre_file = folder / "centre.json"
    centre_file.write_text(json.dumps(hostile_centre(), ensure_ascii=False), encoding="utf-8")
    initialise(folder / "luot.sqlite3", folder, str(centre_file), announce=lambda *_: None)
    db = store.connect(folder / "luot.sqlite3")
    with store.transaction(db):
        store.execute(db, "UPDATE users SET display_name = ?", (PAYLOADS["clerk"],))
    db.conn.close()
    live = LiveServer(folder).start()
    yield live
    live.stop()


class Watch:
    """A browser context that records dialogs, script errors and CSP refusals."""

    def __init__(self, browser):
        self.context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="vi-VN")
        self.context.add_init_script("""window.__violations = [];
            document.addEventListener('securitypolicyviolation',
              e => window.__violations.push('CSP refused ' + e.violatedDirective + ' ' + (e.sample || '')));""")
        self.dialogs, self.errors = [], []
        self.context.on("page", self._watch)
        self.page = self.context.new_page()
        self.page.set_default_timeout(8000)

    def _watch(self, page):
        page.on("dialog", lambda dialog: (self.dialogs.append(dialog.message), dialog.dismiss()))
        page.on("pageerror", lambda error: self.errors.append(str(error)))

    def check(self, *texts: str) -> None:
        """Nothing ran, nothing was injected, and each text is on the page as text."""
        self.page.wait_for_timeout(150)
        assert self.dialogs == [], f"a script ran: {self.dialogs}"
        assert self.errors == [], self.errors
        assert self.page.evaluate(INJECTED) == [], self.page.url
        body = self.page.evaluate("document.body.innerText")
        for text in texts:
            assert text in body, f"{text!r} not shown as text on {self.page.url}"

    def sign_in(self, server, username: str) -> None:
        self.page.goto(server.url + "/login")
        self.page.fill("input[name=username]", username)
        self.page.fill("input[name=password]", server.credentials.passwords[username])
        self.page.click("button[type=submit]")
        self.page.wait_for_load_state()

    def close(self):
        self.context.close()


def test_hostile_names_go_kiosk_to_counter_to_manager_as_text(server, browser):
    expect = sync_api.expect
    # ---- kiosk: the hostile card is scanned, the citizen takes a number
    kiosk = Watch(browser)
    try:
        kiosk.page.goto(f"{server.url}/kiosk#token={server.credentials.kiosk_token}")
        expect(kiosk.page.locator(".service-button").first).to_be_visible()
        kiosk.check(PAYLOADS["centre"], PAYLOADS["service"])
        kiosk.page.focus("#card-input")
        kiosk.page.keyboard.insert_text(HOSTILE_SCAN)
        kiosk.page.keyboard.press("Enter")
        expect(kiosk.page.locator("#card-status")).to_contain_text(HOSTILE_NAME)
        kiosk.check("✓ " + HOSTILE_NAME)
        kiosk.page.locator(".service-button").first.click()
        expect(kiosk.page.locator("#screen-priority")).to_be_visible()
        kiosk.check(PAYLOADS["priority"])
        kiosk.page.locator(".priority-none").click()
        expect(kiosk.page.locator("#ticket-number")).to_have_text("A001")
        kiosk.check(PAYLOADS["service"])
    finally:
        kiosk.close()
    db = store.connect(server.folder / "luot.sqlite3")
    try:
        track_key, stored_name = store.one(db, "SELECT track_key, citizen_name FROM tickets").values()
    finally:
        db.conn.close()
    assert stored_name == HOSTILE_NAME  # kept as data; only its rendering must be safe

    # ---- the phone's tracking page and the hall's display
    public = Watch(browser)
    try:
        public.page.goto(f"{server.url}/t/{track_key}")
        public.check("A001", PAYLOADS["service"])
        public.page.goto(f"{server.url}/display")
        expect(public.page.locator("#notice-text")).to_have_text(PAYLOADS["notice"])
        public.check(PAYLOADS["centre"], PAYLOADS["notice"])
    finally:
        public.close()

    # ---- counter: the clerk calls the ticket and sees the citizen's name, as text
    counter = Watch(browser)
    try:
        counter.sign_in(server, "quay1")
        expect(counter.page.locator(".counter-choice").first).to_be_visible()
        counter.check(PAYLOADS["counter"])
        counter.page.locator(".counter-choice").first.click()
        counter.page.locator("#btn-next").click()
        expect(counter.page.locator("#current-citizen")).to_contain_text(HOSTILE_NAME)
        counter.check(HOSTILE_NAME, PAYLOADS["service"])
        counter.page.locator("#btn-start").click()
        expect(counter.page.locator("#btn-finish")).to_be_enabled()
        counter.page.locator("#btn-finish").click()
        expect(counter.page.locator("#procedure-list")).to_contain_text(PAYLOADS["procedure"])
        counter.check(PAYLOADS["procedure"])
        counter.page.locator("#finish-cancel").click()
        counter.page.locator("#btn-transfer").click()
        counter.check()
        counter.page.keyboard.press("Escape")
    finally:
        counter.close()

    # ---- manager: the live monitor, statistics and administration pages
    manager = Watch(browser)
    try:
        manager.sign_in(server, "admin")
        expect(manager.page.locator("[data-counter='1']")).to_contain_text(PAYLOADS["clerk"])
        manager.check(PAYLOADS["counter"], PAYLOADS["clerk"], PAYLOADS["service"])
        for path, texts in (("/manager/stats", [PAYLOADS["service"]]),
                            ("/manager/admin/users", [PAYLOADS["clerk"]]),
                            ("/manager/admin/services", [PAYLOADS["service"]]),
                            ("/manager/admin/counters", [PAYLOADS["counter"]]),
                            ("/manager/admin/procedures", [PAYLOADS["procedure"]]),
                            ("/manager/admin/priority_groups", [PAYLOADS["priority"]]),
                            ("/manager/admin/settings", []),
                            ("/manager/admin/audit", [])):
            response = manager.page.goto(server.url + path)
            assert response.status == 200, path
            manager.check(*texts)
    finally:
        manager.close()


def test_pages_carry_a_strict_content_security_policy(server):
    import requests
    for path in ("/kiosk", "/display", "/login", "/t/none"):
        policy = requests.get(server.url + path, timeout=10).headers["Content-Security-Policy"]
        assert "script-src 'self'" in policy and "'unsafe-inline'" not in policy and "'unsafe-eval'" not in policy
        assert "object-src 'none'" in policy and "frame-ancestors 'none'" in policy


def test_page_data_cannot_break_out_of_its_script_tag(server):
    """Server-rendered JSON (page_data) escapes <, > and & so a name cannot close the script element."""
    import requests
    html = requests.get(server.url + "/kiosk", timeout=10).text
    data = html.split('<script type="application/json" id="page-data">')[1].split("</script>")[0]
    assert "<" not in data and ">" not in data
    assert "\\u003c" in data  # the centre's name, escaped
