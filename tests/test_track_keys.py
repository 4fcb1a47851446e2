"""Issue 12: a ticket is proven by its track_key, never by its id (which every display hears)."""
from __future__ import annotations

import re

import pytest

import web
from queueing import centre, store
from queueing.schema import migrations


def finished(client, api, ticket, counter=1):
    """The clerk at `counter` calls, starts and finishes the ticket; returns the display's call of it."""
    clerk = api.headers(f"quay{counter}")
    client.post(f"/api/v1/counters/{counter}/sign-in", headers=clerk)
    called = client.post(f"/api/v1/counters/{counter}/call-next", headers=clerk).get_json()["ticket"]
    assert called["id"] == ticket["id"]
    client.post(f"/api/v1/tickets/{ticket['id']}/start", headers=clerk)
    assert client.post(f"/api/v1/tickets/{ticket['id']}/finish", json={"procedure": "TP-01"},
                       headers=clerk).status_code == 200


def stored_rating(app, ticket_id):
    db = store.connect(app.config["DATABASE"])
    try:
        return store.scalar(db, "SELECT rating FROM tickets WHERE id = ?", (ticket_id,))
    finally:
        db.conn.close()


def test_an_id_heard_on_a_display_cannot_forge_the_citizens_rating(app, client, api):
    display = web.socketio.test_client(app)  # anonymous: a public display, or anyone pretending to be one
    display.get_received()
    ticket = api.issue("TP")
    finished(client, api, ticket)
    heard = [m["args"][0] for m in display.get_received() if m["name"] == "ticket_called"]
    ticket_id = heard[-1]["ticket_id"]
    assert ticket_id == ticket["id"] and "track_key" not in str(heard)

    forged = client.post(f"/api/v1/tickets/{ticket_id}/rating", json={"score": 1})
    assert forged.status_code == 404 and forged.get_json()["code"] == "unknown_ticket"
    other = api.issue("TP")  # a key of another ticket proves nothing about this one
    for key in ("x" * 22, other["track_key"], ticket["id"], ""):
        wrong = client.post(f"/api/v1/tickets/{ticket_id}/rating", json={"score": 1, "key": key})
        assert wrong.status_code == 404, key
    assert stored_rating(app, ticket_id) is None

    own = client.post(f"/api/v1/tickets/{ticket_id}/rating", json={"score": 3, "key": ticket["track_key"]})
    assert own.status_code == 200 and own.get_json()["rating"] == 3
    assert stored_rating(app, ticket_id) == 3


def test_staff_and_other_devices_cannot_rate_by_id(app, client, api):
    ticket = api.issue("TP")
    finished(client, api, ticket)
    for headers in (api.headers("quay1"), api.headers("admin"), api.headers()):  # clerk, admin, kiosk
        refused = client.post(f"/api/v1/tickets/{ticket['id']}/rating", json={"score": 1}, headers=headers)
        assert refused.status_code == 403, refused.get_json()
    assert stored_rating(app, ticket["id"]) is None


def test_reading_a_ticket_anonymously_needs_its_key_and_never_shows_the_priority(client, api):
    ticket = api.issue("TP", priority="PNMT")
    assert ticket["priority"] == "PNMT"  # the kiosk that issued it shows it
    path = f"/api/v1/tickets/{ticket['id']}"
    assert client.get(path).status_code == 404
    assert client.get(path + "?key=" + "A" * 22).status_code == 404
    public = client.get(path + "?key=" + ticket["track_key"])
    assert public.status_code == 200
    answer = public.get_json()
    assert answer["number"] == ticket["number"] and {"id", "number", "service", "status", "position",
                                                     "estimated_wait_s", "counter", "called_at"} <= set(answer)
    assert "priority" not in answer and "PNMT" not in str(answer) and "track_key" not in answer
    assert client.get(path, headers=api.headers("quay1")).get_json()["priority"] == "PNMT"  # staff
    assert "priority" not in client.get(path, headers=api.headers()).get_json()  # a device: the public view


def test_the_tracking_page_and_its_qr_are_by_key_and_old_id_links_are_gone(client, api):
    ticket = api.issue("TP", priority="PNMT")
    assert ticket["track_url"] == f"/t/{ticket['track_key']}"
    page = client.get(ticket["track_url"])
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and ticket["number"] in html and "no-store" in page.headers["Cache-Control"]
    assert '"PNMT"' not in html and "priority" not in html  # nothing about the group in the page or its data
    assert client.get(f"/t/{ticket['id']}").status_code == 404  # an old link by id answers nothing
    assert client.get(f"/t/{ticket['id']}/qr.svg").status_code == 404
    qr = client.get(ticket["track_url"] + "/qr.svg")
    assert qr.status_code == 200 and qr.mimetype == "image/svg+xml"


def test_the_qr_on_screen_encodes_the_tracking_link_with_the_key(client, api):
    import segno
    ticket = api.issue("TP")
    svg = client.get(ticket["track_url"] + "/qr.svg").get_data(as_text=True)
    expected = segno.make(f"http://localhost/t/{ticket['track_key']}", error="m")
    wrong = segno.make(f"http://localhost/t/{ticket['id']}", error="m")

    def as_svg(qr):
        import io
        buffer = io.BytesIO()
        qr.save(buffer, kind="svg", scale=6, border=2, dark="#111")
        return buffer.getvalue().decode()
    assert svg == as_svg(expected) and svg != as_svg(wrong)


def test_following_a_ticket_live_needs_its_key(app, client, api):
    ticket = api.issue("TP", priority="PNMT")
    phone = web.socketio.test_client(app)
    phone.get_received()
    refused = phone.emit("track", ticket["id"], callback=True)
    assert refused["code"] == "unknown_ticket"
    assert not [m for m in phone.get_received() if m["name"] == "ticket_updated"]
    assert phone.emit("track", {"key": ticket["track_key"]}, callback=True)["code"] == "unknown_ticket"
    assert phone.emit("track", ticket["track_key"], callback=True) == {"ok": True}
    # the tracking room hears the ticket's moves, never its priority group
    clerk = api.headers("quay1")
    client.post("/api/v1/counters/1/sign-in", headers=clerk)
    client.post("/api/v1/counters/1/call-next", headers=clerk)
    updates = [m["args"][0] for m in phone.get_received() if m["name"] == "ticket_updated"]
    assert updates and updates[-1]["status"] == "called" and updates[-1]["id"] == ticket["id"]
    assert all("priority" not in update and "PNMT" not in str(update) for update in updates)


def test_the_counters_rating_tablet_gets_no_personal_data(app, client, api):
    from queueing import accounts
    db = store.connect(app.config["DATABASE"])
    try:
        token = accounts.create_device(db, centre.DEMO_CENTRE_ID, "Bảng đánh giá quầy 1", "counter", 0,
                                       counter_id=1)
    finally:
        db.conn.close()
    card = "038155000003|171234567|LÊ VĂN CƯỜNG|15071955|Nam|Xã Hải Long, Tỉnh Thanh Hóa|20042021"
    ticket = api.issue("TP", priority="NCT", citizen_qr=card)
    clerk = api.headers("quay1")
    client.post("/api/v1/counters/1/sign-in", headers=clerk)
    client.post("/api/v1/counters/1/call-next", headers=clerk)
    tablet = web.socketio.test_client(app, auth={"token": token})
    received = tablet.get_received()
    snapshot = next(m["args"][0] for m in received if m["name"] == "snapshot")
    assert snapshot["counter"]["current"] == {"id": ticket["id"], "number": ticket["number"], "status": "called"}
    state = client.get("/api/v1/counters/1", headers={"Authorization": f"Bearer {token}"}).get_json()
    assert state["current"] == snapshot["counter"]["current"]
    client.post(f"/api/v1/tickets/{ticket['id']}/start", headers=clerk)
    client.post(f"/api/v1/tickets/{ticket['id']}/finish", json={"procedure": "TP-01"}, headers=clerk)
    heard = tablet.get_received()
    assert "rating_requested" in [m["name"] for m in heard]
    everything = str(received + heard)
    for personal in ("CƯỜNG", "0003", "1955", "NCT", "citizen", "priority"):
        assert personal not in everything, personal
    # and the tablet rates the ticket its counter served, without a key
    rated = client.post(f"/api/v1/tickets/{ticket['id']}/rating", json={"score": 2},
                        headers={"Authorization": f"Bearer {token}"})
    assert rated.status_code == 200


def test_migration_gives_existing_tickets_keys_and_drops_the_id_hash(tmp_path):
    db = store.connect(tmp_path / "old.sqlite3")
    migrations.apply(db, stop_before="0009_keys_track_key")
    # rows as a database of that time holds them (today's load_configuration writes later tables too)
    db.conn.execute("INSERT INTO centres (id, name, created_at) VALUES (?, 'Trung tâm cũ', 0)", (centre.DEMO_CENTRE_ID,))
    db.conn.execute("INSERT INTO services (centre_id, code, name, prefix) VALUES (?, 'TP', 'Tư pháp – Hộ tịch', 'A')",
                    (centre.DEMO_CENTRE_ID,))
    columns = {row["name"] for row in store.all_rows(db, "PRAGMA table_info(tickets)")}
    assert "citizen_id_hash" in columns and "track_key" not in columns
    service_id = store.scalar(db, "SELECT id FROM services WHERE code = 'TP'")
    for sequence in (1, 2):
        db.conn.execute("""INSERT INTO tickets (id, centre_id, number_service_id, local_day, sequence, number,
                           service_id, status, issued_at, local_hour, queue_at, citizen_id_hash)
                           VALUES (?, ?, ?, '2026-11-24', ?, ?, ?, 'done', 0, 8, 0, ?)""",
                        (f"old-ticket-{sequence}", centre.DEMO_CENTRE_ID, service_id, sequence, f"A00{sequence}",
                         service_id, "h" * 64))
    db.conn.commit()
    store.migrate(db)
    rows = store.all_rows(db, "SELECT * FROM tickets ORDER BY id")
    assert all(re.fullmatch(r"[A-Za-z0-9_-]{22}", row["track_key"]) for row in rows)
    assert len({row["track_key"] for row in rows}) == 2 and all("citizen_id_hash" not in row for row in rows)
    with pytest.raises(Exception, match="UNIQUE"):
        db.conn.execute("UPDATE tickets SET track_key = ? WHERE id = 'old-ticket-2'", (rows[0]["track_key"],))
    assert db.conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    db.conn.close()
