"""The voice pack page in headless Chromium: a WAV uploaded for a segment is recorded, drawn and counted."""
from __future__ import annotations

import pytest

from tests.test_browser import COUNTER_SCREEN, expect, live_server, login, open_page  # noqa: F401 (fixtures)
from tests.test_voice_pack import tone_wav

pytestmark = pytest.mark.browser


def test_admin_uploads_a_clip_and_sees_it_recorded(live_server, open_page, tmp_path):  # noqa: F811
    page = open_page(viewport=COUNTER_SCREEN)
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
    page.click("#voice-pack-enable")
    expect(page.locator("#voice-pack-message")).to_contain_text("thiếu")
    expect(page.locator("#voice-pack-status")).to_have_attribute("data-enabled", "no")
