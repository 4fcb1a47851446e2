"""The voice pack page in headless Chromium: a WAV uploaded for a segment is recorded, drawn and counted."""
from __future__ import annotations

import pytest

from tests.conftest import CHROMIUM, CHROMIUM_ARGS
from tests.test_browser import COUNTER_SCREEN, expect, live_server, login, open_page  # noqa: F401 (fixtures)
from tests.test_voice_pack import tone_wav

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def browser():
    """conftest's Chromium with a fake microphone (its test tone) that needs no permission prompt."""
    from playwright import sync_api
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=[
            *CHROMIUM_ARGS, "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream"])
        yield chromium
        chromium.close()


def test_admin_uploads_a_clip_and_sees_it_recorded(live_server, open_page, tmp_path):  # noqa: F811
    page = open_page(viewport=COUNTER_SCREEN, permissions=["microphone"])
    login(page, live_server, "admin")
    page.goto(live_server.url + "/manager/admin/voice-pack")
    rows = page.locator("#voice-pack-table tbody tr")
    total = rows.count()
    assert total > 20
    expect(page.locator("#voice-pack-count")).to_have_text(f"0/{total}")
    row = page.locator('#voice-pack-table tr[data-key="hai"]')
    clip = tmp_path / "hai.wav"
    clip.write_bytes(tone_wav(440, seconds=0.5))
    row.locator(".upload input").set_input_files(str(clip))
    expect(row).to_have_attribute("data-recorded", "yes")
    expect(row.locator("canvas.waveform")).to_have_attribute("data-drawn", "yes")
    expect(page.locator("#voice-pack-count")).to_have_text(f"1/{total}")
    # A bad file is refused with a readable message; the pack cannot be switched on while incomplete.
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"not audio")
    page.locator('#voice-pack-table tr[data-key="ba"] .upload input').set_input_files(str(bad))
    expect(page.locator("#voice-pack-message")).to_contain_text("WAV")
    # Recording: the fake microphone's tone is recorded, trimmed, encoded as WAV in the page and uploaded.
    recorded_row = page.locator('#voice-pack-table tr[data-key="ba"]')
    recorded_row.locator(".record").click()
    expect(recorded_row.locator(".stop")).to_be_visible()
    page.wait_for_timeout(1500)
    recorded_row.locator(".stop").click()
    expect(recorded_row).to_have_attribute("data-recorded", "yes")
    expect(page.locator("#voice-pack-count")).to_have_text(f"2/{total}")
    page.click("#voice-pack-enable")
    expect(page.locator("#voice-pack-message")).to_contain_text("thiếu")
    expect(page.locator("#voice-pack-status")).to_have_attribute("data-enabled", "no")
