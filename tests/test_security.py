"""Who may get in and what they may change: hashed passwords and tokens, throttled sign-in, cookies,
CSRF on every state-changing request, no state-changing GET, revocation, security headers."""
from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys

import pytest

import web
from queueing import accounts, centre, store
from tests.conftest import table_contents
from tests.conftest import ROOT, TEST_SECRET, Credentials

CARD = "038155000003|171234567|LÊ VĂN CƯỜNG|15071955|Nam|Xã Hải Long, Tỉnh Thanh Hóa|20042021"
# Tables a GET may write: the audit log (who viewed citizen data) and caches rebuilt on demand.
NOT_STATE = {"audit_log", "stats_days", "stats_daily"}


def database_state(app) -> dict:
    contents = table_contents(app.config["DATABASE"])
    return {table: rows for table, rows in contents.items() if table not in NOT_STATE}


def db_of(app):
    return store.connect(app.config["DATABASE"])


def sign_in_browser(client, username: str, password: str):
    page = client.get("/login").get_data(as_text=True)
    token = page.split('name="csrf_token" value="')[1].split('"')[0]
    return client.post("/login", data={"username": username, "password": password, "csrf_token": token})


def page_csrf(client, path="/manager") -> str:
    return client.get(path).get_data(as_text=True).split('name="csrf-token" content="')[1].split('"')[0]


# ---- passwords and tokens at rest -----------------------------------------------------------------

def test_passwords_are_argon2id_hashes_and_tokens_are_stored_hashed(app, api):
    token = api.token("quay1")
    db = db_of(app)
    try:
        hashes = [row["password_hash"] for row in store.all_rows(db, "SELECT password_hash FROM users")]
        assert hashes and all(h.startswith("$argon2id$") for h in hashes)
        stored = [row["token_hash"] for row in store.all_rows(db, "SELECT token_hash FROM staff_tokens")]
        assert hashlib.sha256(token.encode()).hexdigest() in stored
        devices = [row["token_hash"] for row in store.all_rows(db, "SELECT token_hash FROM devices")]
        assert hashlib.sha256(app.credentials.kiosk_token.encode()).hexdigest() in devices
        db.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        db.conn.close()
    raw = open(app.config["DATABASE"], "rb").read()
    for secret in [token, app.credentials.kiosk_token, *app.credentials.passwords.values()]:
        assert secret.encode() not in raw


# ---- sign-in throttling ---------------------------------------------------------------------------

def test_api_sign_in_is_throttled_after_repeated_failures(client, api, clock):
    good = api.credentials.passwords["quay1"]
    for _ in range(web.LOGIN_FAILURES_ALLOWED):
        response = client.post("/api/v1/auth/login", json={"username": "quay1", "password": "wrong-password"})
        assert response.status_code == 401
    blocked = client.post("/api/v1/auth/login", json={"username": "quay1", "password": good})
    assert blocked.status_code == 429 and blocked.json["code"] == "too_many_logins"
    assert 0 < int(blocked.headers["Retry-After"]) <= web.LOGIN_FAILURE_WINDOW_S
    # another account from the same address is not locked out, nor is the name in other letter case counted apart
    assert client.post("/api/v1/auth/login", json={"username": "QUAY1", "password": good}).status_code == 429
    assert client.post("/api/v1/auth/login", json={"username": "quay2",
                                                    "password": api.credentials.passwords["quay2"]}).status_code == 200
    clock.advance(web.LOGIN_FAILURE_WINDOW_S + 1)
    assert client.post("/api/v1/auth/login", json={"username": "quay1", "password": good}).status_code == 200


def test_successful_sign_in_clears_the_failures(client, api):
    good = api.credentials.passwords["quay3"]
    for _ in range(web.LOGIN_FAILURES_ALLOWED - 1):
        client.post("/api/v1/auth/login", json={"username": "quay3", "password": "nope-nope"})
    assert client.post("/api/v1/auth/login", json={"username": "quay3", "password": good}).status_code == 200
    for _ in range(web.LOGIN_FAILURES_ALLOWED - 1):
        client.post("/api/v1/auth/login", json={"username": "quay3", "password": "nope-nope"})
    assert client.post("/api/v1/auth/login", json={"username": "quay3", "password": good}).status_code == 200


def test_failures_count_across_server_processes(app, api, tmp_path, clock):
    """Two processes on one database (two gunicorn instances) share the failure count."""
    from server import create_app
    other = create_app({"INSTANCE": app.instance_path, "DATABASE": app.config["DATABASE"], "TTS": "none",
                        "CLOCK": clock, "SECRET_KEY": TEST_SECRET, "TESTING": True})
    first, second = app.test_client(), other.test_client()
    for index in range(web.LOGIN_FAILURES_ALLOWED):
        (first if index % 2 else second).post("/api/v1/auth/login", json={"username": "admin", "password": "x" * 9})
    for client in (first, second):
        assert client.post("/api/v1/auth/login", json={
            "username": "admin", "password": api.credentials.passwords["admin"]}).status_code == 429


def test_browser_sign_in_is_throttled(client, api):
    for _ in range(5):
        assert sign_in_browser(client, "quay4", "wrong-password").status_code == 401
    assert sign_in_browser(client, "quay4", api.credentials.passwords["quay4"]).status_code == 429


# ---- sessions ---------------------------------------------------------------------------------------

def test_session_cookie_flags(client, api):
    response = sign_in_browser(client, "admin", api.credentials.passwords["admin"])
    assert response.status_code == 302
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie  # plain-HTTP LAN


def test_over_https_cookies_are_secure_and_hsts_is_sent(tmp_path, app_instance_template, clock, monkeypatch):
    from server import create_app
    folder = tmp_path / "instance"
    shutil.copytree(app_instance_template, folder)
    monkeypatch.setenv("LUOT_HTTPS", "1")
    app = create_app({"INSTANCE": str(folder), "DATABASE": str(folder / "luot.sqlite3"), "TTS": "none",
                      "CLOCK": clock, "SECRET_KEY": TEST_SECRET, "TESTING": True})
    client = app.test_client()
    passwords = Credentials((folder / "credentials.txt").read_text()).passwords
    response = sign_in_browser(client, "admin", passwords["admin"])
    cookie = response.headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")


def test_a_password_change_ends_existing_sessions(app, client, api):
    assert sign_in_browser(client, "admin", api.credentials.passwords["admin"]).status_code == 302
    assert client.get("/manager").status_code == 200
    db = db_of(app)
    try:
        with store.transaction(db):
            store.execute(db, "UPDATE users SET password_hash = ? WHERE username = 'admin'",
                          (accounts.hash_password("a-new-long-password"),))
    finally:
        db.conn.close()
    assert client.get("/manager").status_code == 302


# ---- CSRF and state-changing requests --------------------------------------------------------------

# Endpoints a signed-in browser may POST without a CSRF token, and why that is safe.
CSRF_EXEMPT = {
    "api.login": "answers a bearer token in the body; sets no cookie and changes no session",
    "kiosk.ask": "reads only (a rate limit per address)",
    "dossiers.payment_webhook": "no session: a bank's call, proven by the HMAC signature of its body (off without a secret)",
}


def fill(rule, ticket_id: str) -> str:
    """A concrete URL for a Flask rule: real ids where the rule takes them."""
    values = {}
    for argument in rule.arguments:
        converter = rule._converters[argument]
        if argument == "ticket_id":
            values[argument] = ticket_id
        elif argument == "section":
            values[argument] = "users"
        elif argument == "filename":
            values[argument] = "js/common.js"
        elif converter.__class__.__name__ == "AnyConverter":  # <any(a, b):x>
            values[argument] = sorted(converter.items)[0]
        elif converter.__class__.__name__ == "IntegerConverter":
            values[argument] = 2 if argument == "item_id" else 1
        else:
            values[argument] = "x"
    url = rule.rule
    for argument, value in values.items():
        url = re.sub(rf"<(?:[^:<>]+:)?{argument}>", str(value), url)
    return url


def writing_rules(app):
    return [(method, rule) for rule in app.url_map.iter_rules() for method in sorted(rule.methods)
            if method in ("POST", "PUT", "PATCH", "DELETE")]


def test_every_state_changing_request_from_a_browser_session_needs_the_csrf_token(app, client, api):
    ticket = api.issue("TP", citizen_qr=CARD)
    assert sign_in_browser(client, "admin", api.credentials.passwords["admin"]).status_code == 302
    client.post("/api/v1/counters/6/sign-in", headers={"X-CSRF-Token": page_csrf(client)})
    before = database_state(app)
    checked = []
    for method, rule in writing_rules(app):
        if rule.endpoint in CSRF_EXEMPT:
            continue
        url = fill(rule, ticket["id"])
        for attempt in ({}, {"headers": {"X-CSRF-Token": "forged"}}, {"data": {"csrf_token": "forged"}}):
            response = client.open(url, method=method, json={} if "data" not in attempt else None, **attempt)
            assert response.status_code in (403, 415), (method, url, attempt, response.status_code)
            if response.status_code == 415:  # a form body on the JSON API is refused before anything else
                assert url.startswith("/api/") and "data" in attempt
        checked.append(f"{method} {rule.rule}")
        assert database_state(app) == before, f"{method} {url} changed the database without a CSRF token"
    assert len(checked) >= 20
    # the same session with its token may write
    assert client.post("/api/v1/tickets", json={"service": "TP"},
                       headers={"X-CSRF-Token": page_csrf(client)}).status_code == 201


def test_no_get_changes_state(app, client, api):
    ticket = api.issue("TP", citizen_qr=CARD)
    clerk = api.headers("quay1")
    client.post("/api/v1/counters/1/sign-in", headers=clerk)
    client.post("/api/v1/counters/1/call-next", headers=clerk)
    staff_bearer = api.headers("admin")
    assert sign_in_browser(client, "admin", api.credentials.passwords["admin"]).status_code == 302
    before = database_state(app)
    visited = 0
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods:
            continue
        url = fill(rule, ticket["id"])
        for headers in ({}, staff_bearer, clerk, api.headers()):
            response = client.get(url, headers=headers)
            response.get_data()  # a streamed export runs to its end
            assert response.status_code < 500, (url, response.status_code)
            visited += 1
        anonymous = app.test_client().get(url)
        anonymous.get_data()
        assert anonymous.status_code < 500
    assert visited >= 4 * 25
    assert database_state(app) == before


# ---- revocation -------------------------------------------------------------------------------------

def test_api_logout_revokes_the_staff_token(client, api):
    headers = api.headers("quay2")
    assert client.get("/api/v1/me", headers=headers).json["kind"] == "user"
    assert client.post("/api/v1/auth/logout", headers=headers).json["ok"] is True
    refused = client.get("/api/v1/me", headers=headers)
    assert refused.status_code == 401 and refused.json["code"] == "unauthorized"
    assert client.post("/api/v1/auth/logout", headers=api.headers()).status_code == 403  # devices: by an admin
    assert client.post("/api/v1/auth/logout").status_code == 401


def test_revoking_a_users_tokens_ends_every_api_session(app, client, api):
    first, second = api.headers("quay5"), api.headers("quay5")
    db = db_of(app)
    try:
        assert accounts.revoke_user_tokens(db, "quay5", app.config["CLOCK"]()) == 2
    finally:
        db.conn.close()
    for headers in (first, second):
        assert client.get("/api/v1/queue", headers=headers).status_code == 401


def test_a_revoked_device_is_refused_at_once_over_http_and_socket_io(app, client, api):
    db = db_of(app)
    try:
        token = accounts.create_device(db, centre.DEMO_CENTRE_ID, "Máy in thử", "printer", 0.0)
        device_id = store.scalar(db, "SELECT id FROM devices WHERE name = 'Máy in thử'")
    finally:
        db.conn.close()
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/queue", headers=headers).status_code == 200
    agent = web.socketio.test_client(app, auth={"token": token})
    assert agent.is_connected()
    assert agent.emit("printer_ready", {"printer": "file:///tmp/x", "width": 576}, callback=True) == {"ok": True}
    db = db_of(app)
    try:
        accounts.revoke_device(db, device_id, 1.0)
    finally:
        db.conn.close()
    assert client.get("/api/v1/queue", headers=headers).status_code == 401
    # the live connection is dropped at its next event, and it cannot come back
    answer = agent.emit("printer_ready", {"printer": "file:///tmp/x", "width": 576}, callback=True)
    assert answer["code"] == "forbidden" and not agent.is_connected()
    assert not web.socketio.test_client(app, auth={"token": token}).is_connected()


def test_cli_lists_and_revokes_devices_and_user_tokens(tmp_path, app_instance_template):
    folder = tmp_path / "instance"
    shutil.copytree(app_instance_template, folder)
    env = {**os.environ, "LUOT_INSTANCE": str(folder), "LUOT_TTS": "none"}

    def run(*args):
        return subprocess.run([sys.executable, "server.py", *args], cwd=ROOT, env=env, capture_output=True,
                              text=True, timeout=60)

    assert run("init").returncode == 0
    listed = run("device", "list")
    assert listed.returncode == 0 and "kiosk" in listed.stdout and "active" in listed.stdout
    device_id = listed.stdout.split()[0]
    revoked = run("device", "revoke", device_id)
    assert revoked.returncode == 0, revoked.stderr
    assert "revoked" in run("device", "list").stdout
    assert run("device", "revoke", device_id).returncode != 0  # already revoked: says so
    assert run("device", "revoke", "999").returncode != 0
    assert run("user", "revoke-tokens", "quay1").returncode == 0
    missing = run("user", "revoke-tokens", "nobody")
    assert missing.returncode != 0 and "nobody" in missing.stderr


# ---- headers ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/kiosk", "/display", "/login", "/counter", "/manager", "/api/v1/services",
                                  "/api/v1/nothing", "/static/js/common.js", "/t/unknown"])
def test_security_headers_everywhere(client, path):
    response = client.get(path)
    policy = response.headers["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
    assert directives["default-src"] == "'self'" and directives["script-src"] == "'self'"
    assert directives["object-src"] == "'none'" and directives["frame-ancestors"] == "'none'"
    assert directives["base-uri"] == "'none'" and directives["form-action"] == "'self'"
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy and "*" not in policy.replace("ws:", "")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert "camera=()" in response.headers["Permissions-Policy"]
    if path.startswith("/api/"):
        assert response.headers["Cache-Control"] == "no-store"


def test_method_not_allowed_keeps_its_allow_header(client):
    response = client.delete("/api/v1/services")
    assert response.status_code == 405 and response.json["code"] == "method_not_allowed"
    assert "GET" in response.headers["Allow"]


def test_numbers_too_big_for_the_database_are_not_found(client, api):
    huge = "9" * 30
    for method, url in (("GET", f"/api/v1/counters/{huge}"), ("POST", f"/api/v1/counters/{huge}/call-next"),
                        ("GET", f"/rate/{huge}")):
        response = client.open(url, method=method, headers=api.headers("admin"))
        assert response.status_code == 404, (url, response.status_code)


def test_socket_io_refuses_other_origins(client):
    """A page on another site cannot open a Socket.IO session with the browser's cookie."""
    handshake = "/socket.io/?EIO=4&transport=polling"
    refused = client.get(handshake, headers={"Origin": "http://evil.example"})
    assert refused.status_code == 400
    same_site = client.get(handshake, headers={"Origin": "http://localhost"})
    assert same_site.status_code == 200 and b'"sid"' in same_site.data
