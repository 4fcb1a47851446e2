"""The assistant's vocabulary as data the admin edits (issue 13): the page "Từ vựng trợ lý", its API,
the configuration file, and what the kiosk assistant answers afterwards (real SQLite file, Flask client)."""
from __future__ import annotations

import json

from queueing import admin, language, store, vocabulary
from queueing.centre import DEMO_CENTRE_ID as CENTRE
from tests.test_admin import add_manager, app_db, audit_rows, sign_in, snapshot_of, text_of, user_id

PAGE = "/manager/admin/vocabulary"


def ask(client, text: str) -> dict:
    response = client.post("/api/v1/assistant/ask", json={"text": text})
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def codes(answer: dict) -> list[str]:
    return [item["procedure"] for item in answer["suggestions"]]


def form_of(page: str, csrf: str) -> dict:
    """The vocabulary form's text areas as the page shows them."""
    form = {"csrf_token": csrf}
    for name in language.language_to_form({}):
        start = page.index(f'name="{name}"')
        form[name] = page[page.index(">", start) + 1:page.index("</textarea>", start)]
    return {key: value.replace("&#34;", '"').replace("&#39;", "'").replace("&amp;", "&") for key, value in form.items()}


def test_a_change_on_the_page_changes_what_the_assistant_answers(app, client):
    assert ask(client, "ksinh")["understood"] is False
    assert "TP-01" not in codes(ask(client, "làm quokka"))
    csrf = sign_in(client, app, "admin")
    page = text_of(client.get(PAGE))
    assert "Từ vựng trợ lý" in page and "sổ đỏ, bìa đỏ" in page
    form = form_of(page, csrf)
    form["abbreviations"] += "\nksinh = khai sinh"
    form["synonym_groups"] += "\nkhai sinh, quokka"
    response = client.post(PAGE, data=form)
    assert response.status_code == 302, text_of(response)
    answer = ask(client, "ksinh")
    assert answer["understood"] and codes(answer)[0] == "TP-01"
    assert "TP-01" in codes(ask(client, "làm quokka"))
    rows = audit_rows(app_db(app), "vocabulary.update")
    assert rows and set(rows[-1]["detail"]["after"]) == {"abbreviations", "synonym_groups"}
    # the rest of the bundled data is kept as it was
    stored = language.get_language(app_db(app), CENTRE)
    assert stored["abbreviations"]["ksinh"] == "khai sinh" and stored["out_of_scope"]["vi"]
    audit_page = text_of(client.get("/manager/admin/audit"))
    assert 'data-action="vocabulary.update"' in audit_page and "Sửa · Từ vựng trợ lý" in audit_page


def test_a_life_event_added_on_the_page_is_answered_then_deactivated(app, client):
    csrf = sign_in(client, app, "admin")
    event = {"csrf_token": csrf, "code": "quokka", "name": "Nhận nuôi quokka", "name_en": "Adopting a quokka",
             "procedures": "TP-01, CT-01", "phrasings": "tôi vừa nhận nuôi một con quokka", "phrasings_en": ""}
    response = client.post(f"{PAGE}/events", data=event)
    assert response.status_code == 302, text_of(response)
    answer = ask(client, "nhận nuôi quokka")
    assert answer["life_event"] and answer["life_event"]["code"] == "quokka", answer
    assert audit_rows(app_db(app), "life_events.create")
    assert "Nhận nuôi quokka" in text_of(client.get(PAGE))
    assert client.post(f"{PAGE}/events/quokka/active", data={"csrf_token": csrf, "active": "0"}).status_code == 302
    assert not (ask(client, "nhận nuôi quokka")["life_event"] or {}).get("code") == "quokka"
    assert audit_rows(app_db(app), "life_events.deactivate")
    # editing a deactivated event keeps it deactivated
    assert client.post(f"{PAGE}/events", data={**event, "name": "Nhận nuôi chuột túi"}).status_code == 302
    saved = [e for e in vocabulary.list_life_events(app_db(app), CENTRE) if e["code"] == "quokka"][0]
    assert saved["name"] == "Nhận nuôi chuột túi" and saved["active"] is False
    edit_page = text_of(client.get(PAGE + "?event=quokka"))
    assert 'value="Nhận nuôi chuột túi"' in edit_page and "TP-01, CT-01" in edit_page


def test_bad_input_on_the_page_is_shown_with_what_was_typed_and_changes_nothing(app, client):
    db = app_db(app)
    before = snapshot_of(db)
    csrf = sign_in(client, app, "admin")
    form = form_of(text_of(client.get(PAGE)), csrf)
    form["synonym_groups"] += "\nchỉ-một-từ"
    form["abbreviations"] += "\nksinh khai sinh"
    response = client.post(PAGE, data=form)
    page = text_of(response)
    assert response.status_code == 400 and "viết tắt = đầy đủ" in page and "ksinh khai sinh" in page
    form["abbreviations"] = form["abbreviations"].replace("ksinh khai sinh", "ksinh = khai sinh")
    response = client.post(PAGE, data=form)
    page = text_of(response)
    assert response.status_code == 400 and "ít nhất 2 từ" in page and "chỉ-một-từ" in page
    response = client.post(f"{PAGE}/events", data={"csrf_token": csrf, "code": "x", "name": "Thử",
                                                   "procedures": "KHONG-CO", "phrasings": "gì đó"})
    page = text_of(response)
    assert response.status_code == 400 and "không có thủ tục KHONG-CO" in page and 'value="Thử"' in page
    assert snapshot_of(db) == before


def test_the_api_changes_the_vocabulary_and_refuses_bad_input_and_managers(app, client, api):
    add_manager(app)
    db = app_db(app)
    admin_headers, manager = api.headers("admin"), api.headers("lan")
    data = client.get("/api/v1/admin/vocabulary", headers=manager).get_json()
    assert data["synonym_groups"] and data["abbreviations"]["dk"] == "đăng ký"
    before = snapshot_of(db)
    for body, words in [({**data, "synonym_groups": [["một"]]}, "ít nhất 2 từ"),
                        ({**data, "abbreviations": {"dk": 3}}, "phải là chữ"),
                        ({**data, "stopwords": "tôi"}, "danh sách"),
                        ({**data, "colours": []}, "không được hỗ trợ")]:
        response = client.put("/api/v1/admin/vocabulary", json=body, headers=admin_headers)
        assert response.status_code == 400 and words in response.get_json()["error"], response.get_json()
    assert client.put("/api/v1/admin/vocabulary", json=data, headers=manager).status_code == 403
    assert client.post("/api/v1/admin/life-events", headers=manager,
                       json={"code": "x", "name": "X", "procedures": ["TP-01"]}).status_code == 403
    assert client.post("/api/v1/admin/life-events/death/deactivate", headers=manager).status_code == 403
    assert snapshot_of(db) == before
    response = client.put("/api/v1/admin/vocabulary", headers=admin_headers,
                          json={**data, "abbreviations": {**data["abbreviations"], "ksinh": "khai sinh"}})
    assert response.status_code == 200
    assert codes(ask(client, "ksinh"))[0] == "TP-01"
    response = client.post("/api/v1/admin/life-events", headers=admin_headers,
                           json={"code": "quokka", "name": "Nhận nuôi quokka", "procedures": ["TP-01"],
                                 "phrasings": ["tôi vừa nhận nuôi một con quokka"]})
    assert response.status_code == 200 and response.get_json()["active"] is True
    assert ask(client, "nhận nuôi quokka")["life_event"]["code"] == "quokka"
    events = client.get("/api/v1/admin/life-events", headers=manager).get_json()
    assert "quokka" in [event["code"] for event in events]


def test_manager_sees_the_page_but_cannot_change_it(app, client):
    add_manager(app)
    db = app_db(app)
    before = snapshot_of(db)
    csrf = sign_in(client, app, "lan")
    page = text_of(client.get(PAGE))
    assert "Từ vựng trợ lý" in page and "Lưu từ vựng" not in page
    form = form_of(page, csrf)
    assert client.post(PAGE, data={**form, "stopwords": "x"}).status_code == 403
    assert client.post(f"{PAGE}/events", data={"csrf_token": csrf, "code": "x", "name": "X",
                                                "procedures": "TP-01"}).status_code == 403
    assert client.post(f"{PAGE}/events/death/active", data={"csrf_token": csrf, "active": "0"}).status_code == 403
    assert snapshot_of(db) == before


def test_configuration_round_trip_carries_the_vocabulary(db):
    exported = admin.export_configuration(db, CENTRE)
    assert exported["vocabulary"]["abbreviations"]["dk"] == "đăng ký"
    changed = json.loads(json.dumps(exported))
    changed["vocabulary"]["synonym_groups"].append(["khai sinh", "quokka"])
    outcome = admin.import_configuration(db, CENTRE, changed, user_id(db, "admin"))
    assert outcome.result["summary"]["vocabulary"] == {"added": 0, "updated": 1}
    assert admin.export_configuration(db, CENTRE) == changed
    before = snapshot_of(db)
    for bad, words in [({"synonym_groups": [["a"]]}, "ít nhất 2 từ"), ({"abbreviations": ["dk"]}, "abbreviations"),
                       ({"nonsense": 1}, "không được hỗ trợ")]:
        try:
            admin.import_configuration(db, CENTRE, {**changed, "vocabulary": bad}, user_id(db, "admin"))
        except admin.ValidationError as error:
            assert any(words in message for message in error.errors), error.errors
        else:
            raise AssertionError(f"accepted {bad}")
    assert snapshot_of(db) == before
    # a file without the section leaves the centre's vocabulary alone
    without = {key: value for key, value in changed.items() if key != "vocabulary"}
    assert admin.import_configuration(db, CENTRE, without, user_id(db, "admin")).result["changes"] == 0
    assert store.assistant_language(db, CENTRE)


def test_the_migration_gives_existing_centres_the_bundled_vocabulary(tmp_path):
    from queueing.schema import migrations
    db = store.connect(tmp_path / "old.sqlite3")
    migrations.apply(db, stop_before="0010_vocab_language")
    db.execute("INSERT INTO centres (id, name, settings, created_at) VALUES ('old', 'Cũ', '{}', 0)")
    migrations.apply(db)
    stored = json.loads(store.assistant_language(db, "old"))
    assert stored == language.clean_language(language.bundled_language())
    assert stored["abbreviations"]["cccd"] and stored["synonym_groups_en"]
    db.conn.close()


def test_the_page_speaks_english_too(app, client):
    sign_in(client, app, "admin")
    page = text_of(client.get(PAGE + "?lang=en"))
    assert "Assistant vocabulary" in page and "Synonym groups (English)" in page and "Life events" in page
