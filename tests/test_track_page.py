"""The phone's tracking page as the server renders it: people ahead and the forecast wait, before any script runs."""
from __future__ import annotations

import re

import web
from printers.slip import wait_range_minutes

NO_COUNTER_VI = "Chưa có quầy nào đang mở cho lĩnh vực này"
NO_COUNTER_EN = "No counter is open for this service yet"


def facts(html: str) -> tuple[int, str]:
    """The page's people-ahead number and its wait text, read from the served HTML."""
    ahead = re.search(r'<dd id="track-ahead">(\d+)</dd>', html)
    wait = re.search(r'<dd id="track-wait"[^>]*>([^<]*)</dd>', html)
    assert ahead and wait, html
    return int(ahead.group(1)), wait.group(1)


def test_without_an_open_counter_the_page_says_so_instead_of_a_time(client, api):
    api.issue("TP")
    second = api.issue("TP")
    assert second["position"] == 1 and second["estimated_wait_s"] is None
    assert facts(client.get(second["track_url"]).get_data(as_text=True)) == (1, NO_COUNTER_VI)
    english = client.get(second["track_url"] + "?lang=en").get_data(as_text=True)
    assert facts(english) == (1, NO_COUNTER_EN)
    assert "phút" not in english.split('id="track-facts"')[1].split("</dl>")[0]


def test_with_an_open_counter_the_page_shows_the_range_in_minutes(client, api):
    assert client.post("/api/v1/counters/2/sign-in", headers=api.headers("quay2")).status_code == 200
    for _ in range(3):
        api.issue("TP")
    ticket = api.issue("TP")
    public = client.get(f"/api/v1/tickets/{ticket['id']}?key={ticket['track_key']}").get_json()
    assert public["position"] == 3 and public["estimated_wait_range_s"] is not None
    low, high = wait_range_minutes(public["estimated_wait_range_s"])
    html = client.get(ticket["track_url"]).get_data(as_text=True)
    assert facts(html) == (3, f"Khoảng {low}–{high}\u00a0phút")
    assert NO_COUNTER_VI not in html.split('id="track-facts"')[1].split("</dl>")[0]
    assert facts(client.get(ticket["track_url"] + "?lang=en").get_data(as_text=True)) == (3, f"About {low}–{high}\u00a0min")


def test_the_first_in_line_has_nobody_ahead(client, api):
    ticket = api.issue("TP")
    assert facts(client.get(ticket["track_url"]).get_data(as_text=True))[0] == 0


def test_tracking_over_socketio_answers_with_the_forecast(app, client, api):
    waiting = api.issue("TP")
    phone = web.socketio.test_client(app)
    phone.get_received()
    assert phone.emit("track", waiting["track_key"], callback=True) == {"ok": True}
    update = [m for m in phone.get_received() if m["name"] == "ticket_updated"][0]["args"][0]
    assert (update["position"], update["estimated_wait_s"], update["estimated_wait_range_s"]) == (0, None, None)
    client.post("/api/v1/counters/2/sign-in", headers=api.headers("quay2"))
    later = api.issue("TP")
    assert phone.emit("track", later["track_key"], callback=True) == {"ok": True}
    update = [m for m in phone.get_received() if m["name"] == "ticket_updated"][-1]["args"][0]
    assert update["position"] == 1 and update["estimated_wait_s"] > 0
    low_s, high_s = update["estimated_wait_range_s"]
    assert 0 <= low_s <= update["estimated_wait_s"] <= high_s


def test_the_page_names_the_centre_and_is_installable(client, api):
    """Issue 17: the centre, the promise to ring, a manifest; the nudge threshold is the centre's (3 when unset)."""
    import json
    ticket = api.issue("TP")
    html = client.get(ticket["track_url"]).get_data(as_text=True)
    assert 'id="track-centre">Trung tâm Phục vụ Hành chính công (demo)<' in html
    assert 'id="alerts-enable"' in html and "reo và rung" in html
    page_data = json.loads(html.split('id="page-data">')[1].split("</script>")[0])
    assert page_data["nudge_ahead"] == 3
    manifest_path = f"{ticket['track_url']}/manifest.webmanifest"
    assert f'rel="manifest" href="{manifest_path}"' in html
    manifest = client.get(manifest_path)
    assert manifest.status_code == 200 and manifest.mimetype == "application/manifest+json"
    data = manifest.get_json(force=True)
    assert data["start_url"] == ticket["track_url"] and data["name"].endswith(ticket["number"])
    assert all(client.get(icon["src"]).status_code == 200 for icon in data["icons"])
    assert client.get(f"/t/{ticket['id']}/manifest.webmanifest").status_code == 404  # the id proves nothing
