"""LUOT_PUBLIC_URL: every QR and link given to citizens starts with the centre's public address (issue 17)."""
from __future__ import annotations

import io
import json

import pytest
import segno

from printers.slip import SlipData
from server import public_base_url
from tests.conftest import make_app
from tests.test_admin import sign_in
from tests.test_printing_integration import job_rows, make_kiosk, wait_for

PUBLIC = "https://luot.ubnd-quan1.gov.vn"


def svg_of(text: str) -> str:
    buffer = io.BytesIO()
    segno.make(text, error="m").save(buffer, kind="svg", scale=6, border=2, dark="#111")
    return buffer.getvalue().decode()


@pytest.fixture
def public_app(tmp_path, clock, app_instance_template, monkeypatch):
    monkeypatch.setenv("LUOT_PUBLIC_URL", PUBLIC + "/")  # a trailing slash is forgiven
    return make_app(tmp_path / "instance", app_instance_template, clock)


def test_the_slip_and_the_screen_qr_carry_the_public_address(public_app, tmp_path):
    client = public_app.test_client()
    token = make_kiosk(public_app, f"file://{tmp_path / 'slips.bin'}")
    response = client.post("/api/v1/tickets", json={"service": "TP"}, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 201
    ticket = response.get_json()
    assert wait_for(lambda: job_rows(public_app))
    slip = SlipData.from_dict(json.loads(job_rows(public_app)[0]["slip"]))
    assert slip.track_url == f"{PUBLIC}/t/{ticket['track_key']}"
    svg = client.get(ticket["track_url"] + "/qr.svg").get_data(as_text=True)
    assert svg == svg_of(f"{PUBLIC}/t/{ticket['track_key']}")
    assert svg != svg_of(f"http://localhost/t/{ticket['track_key']}")
    # the administration page has nothing to warn about
    sign_in(client, public_app, "admin")
    assert 'id="public-url-warning"' not in client.get("/manager/admin/").get_data(as_text=True)


def test_without_it_links_use_the_request_address_and_the_admin_page_warns(app, client, api):
    ticket = api.issue("TP")
    svg = client.get(ticket["track_url"] + "/qr.svg").get_data(as_text=True)
    assert svg == svg_of(f"http://localhost/t/{ticket['track_key']}")
    sign_in(client, app, "admin")
    page = client.get("/manager/admin/").get_data(as_text=True)
    assert 'id="public-url-warning"' in page and "LUOT_PUBLIC_URL" in page


@pytest.mark.parametrize("text", ["luot.example.gov.vn", "ftp://x", "https://", "https://a b", "https://x/?q=1"])
def test_a_bad_public_address_refuses_to_start(text):
    with pytest.raises(SystemExit, match="LUOT_PUBLIC_URL"):
        public_base_url(text)
