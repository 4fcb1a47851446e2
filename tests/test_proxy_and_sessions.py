"""Issue 12: behind a proxy (trusted hops only), the sign-in's open redirect, CSP, idle staff sessions,
and the assistant's limit per kiosk."""
from __future__ import annotations

import pytest

import web
from queueing import store
from server import CONTENT_SECURITY_POLICY
from tests.conftest import make_app
from tests.test_security import sign_in_browser

FORWARDED = {"X-Forwarded-For": "203.0.113.7", "X-Forwarded-Proto": "https"}


def failure_keys(app) -> list[str]:
    db = store.connect(app.config["DATABASE"])
    try:
        return [row["key"] for row in store.all_rows(db, "SELECT key FROM login_failures ORDER BY id")]
    finally:
        db.conn.close()


def bad_login(client, headers=None):
    return client.post("/api/v1/auth/login", json={"username": "quay1", "password": "sai"}, headers=headers or {},
                       environ_base={"REMOTE_ADDR": "10.0.0.2"})


def test_without_trusted_proxies_forwarded_headers_are_ignored(app, client):
    assert app.config["TRUSTED_PROXIES"] == 0
    assert bad_login(client, FORWARDED).status_code == 401
    assert failure_keys(app) == ["quay1|10.0.0.2"]  # the connecting address, whatever the header claims


@pytest.fixture
def proxied_app(tmp_path, clock, app_instance_template, monkeypatch):
    monkeypatch.setenv("LUOT_TRUSTED_PROXIES", "1")
    return make_app(tmp_path / "proxied", app_instance_template, clock)


def test_behind_one_trusted_proxy_the_client_address_counts(proxied_app):
    client = proxied_app.test_client()
    assert proxied_app.config["TRUSTED_PROXIES"] == 1
    bad_login(client, FORWARDED)
    # only the last hop (the one nginx added) is believed; an address the client put first is not
    bad_login(client, {"X-Forwarded-For": "198.51.100.9, 203.0.113.8"})
    assert failure_keys(proxied_app) == ["quay1|203.0.113.7", "quay1|203.0.113.8"]
    # five failures from one citizen's address do not lock the account for everyone behind nginx
    for _ in range(5):
        bad_login(client, FORWARDED)
    assert bad_login(client, FORWARDED).status_code == 429
    good = client.post("/api/v1/auth/login", headers={"X-Forwarded-For": "203.0.113.99"},
                       json={"username": "quay1", "password": proxied_app.credentials.passwords["quay1"]})
    assert good.status_code == 200


def test_a_bad_trusted_proxies_value_refuses_to_start(tmp_path, clock, app_instance_template, monkeypatch):
    monkeypatch.setenv("LUOT_TRUSTED_PROXIES", "nginx")
    with pytest.raises(SystemExit, match="LUOT_TRUSTED_PROXIES"):
        make_app(tmp_path / "bad", app_instance_template, clock)


@pytest.mark.parametrize("target", ["/\\evil.example", "//evil.example", "https://evil.example",
                                    "/\\/evil.example", "/\t/evil.example", "http:/evil.example", "evil.example",
                                    " //evil.example", "\\\\evil.example"])
def test_sign_in_never_redirects_off_site(client, api, target):
    page = client.get("/login", query_string={"next": target}).get_data(as_text=True)
    token = page.split('name="csrf_token" value="')[1].split('"')[0]
    response = client.post("/login", data={"username": "admin", "password": api.credentials.passwords["admin"],
                                           "csrf_token": token, "next": target})
    assert response.status_code == 302
    assert response.headers["Location"] == "/manager", response.headers["Location"]


def test_sign_in_follows_a_local_next(client, api):
    page = client.get("/login?next=/manager/stats?from%3D2026-11-01").get_data(as_text=True)
    token = page.split('name="csrf_token" value="')[1].split('"')[0]
    response = client.post("/login", data={"username": "admin", "password": api.credentials.passwords["admin"],
                                           "csrf_token": token, "next": "/manager/stats?from=2026-11-01"})
    assert response.headers["Location"] == "/manager/stats?from=2026-11-01"


def test_csp_connects_only_to_this_site(client):
    policy = client.get("/kiosk").headers["Content-Security-Policy"]
    assert policy == CONTENT_SECURITY_POLICY
    connect = next(part.strip() for part in policy.split(";") if part.strip().startswith("connect-src"))
    assert connect == "connect-src 'self'"  # not any ws:/wss: host; browsers (CSP3) let 'self' cover ws(s) here


def test_an_idle_staff_session_ends_on_the_server(app, client, api, clock):
    assert app.config["SESSION_IDLE_S"] == 30 * 60
    assert sign_in_browser(client, "admin", api.credentials.passwords["admin"]).status_code == 302
    clock.advance(29 * 60)
    assert client.get("/manager").status_code == 200
    assert client.get("/api/v1/me").get_json()["kind"] == "user"
    clock.advance(29 * 60)  # used 29 minutes ago: still signed in, and the idle time starts again
    assert client.get("/api/v1/queue").status_code == 200
    clock.advance(30 * 60 + 1)
    expired = client.get("/manager")
    assert expired.status_code == 302 and expired.headers["Location"].startswith("/login")
    assert client.get("/api/v1/queue").status_code == 401  # the API answers 401
    clock.advance(-3600)  # a clock set back does not bring the session back: it was cleared
    assert client.get("/api/v1/queue").status_code == 401


def test_the_session_idle_time_is_a_setting(tmp_path, clock, app_instance_template, monkeypatch):
    monkeypatch.setenv("LUOT_SESSION_IDLE_MINUTES", "5")
    app = make_app(tmp_path / "short", app_instance_template, clock)
    client = app.test_client()
    sign_in_browser(client, "admin", app.credentials.passwords["admin"])
    clock.advance(4 * 60)
    assert client.get("/manager").status_code == 200
    clock.advance(5 * 60 + 1)
    assert client.get("/manager").status_code == 302
    monkeypatch.setenv("LUOT_SESSION_IDLE_MINUTES", "0")
    with pytest.raises(SystemExit, match="LUOT_SESSION_IDLE_MINUTES"):
        make_app(tmp_path / "zero", app_instance_template, clock)


def test_an_idle_session_cannot_open_a_staff_socket(app, client, api, clock):
    sign_in_browser(client, "admin", api.credentials.passwords["admin"])
    clock.advance(31 * 60)
    socket = web.socketio.test_client(app, flask_test_client=client)
    snapshot = next(m["args"][0] for m in socket.get_received() if m["name"] == "snapshot")
    assert snapshot["you"]["kind"] == "anonymous" and "alerts" not in snapshot


def test_the_assistant_limit_is_per_kiosk_with_a_token_and_per_address_without(app, client, api):
    ask = {"text": "làm giấy khai sinh"}
    kiosk = api.headers()
    for _ in range(30):
        assert client.post("/api/v1/assistant/ask", json=ask, headers=kiosk).status_code == 200
    assert client.post("/api/v1/assistant/ask", json=ask, headers=kiosk).status_code == 429
    # the kiosk's questions did not use up its address: a phone on the same address still asks
    assert client.post("/api/v1/assistant/ask", json=ask).status_code == 200
    for _ in range(29):
        client.post("/api/v1/assistant/ask", json=ask)
    assert client.post("/api/v1/assistant/ask", json=ask).status_code == 429
    other = client.post("/api/v1/assistant/ask", json=ask, environ_base={"REMOTE_ADDR": "10.0.0.9"})
    assert other.status_code == 200
