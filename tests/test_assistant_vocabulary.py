"""The assistant's vocabulary in the centre's data (issue 13): migration, admin form, import/export, the answer."""
from __future__ import annotations

import json

import pytest

from queueing import admin, store, vocabulary
from queueing.centre import DEMO_CENTRE_ID as CENTRE
from tests.test_admin import sign_in, text_of, user_id


def procedure_row(db, code: str) -> dict:
    return store.one(db, "SELECT * FROM procedures WHERE centre_id = ? AND code = ?", (CENTRE, code))


def test_the_demo_centre_has_the_catalogue_vocabulary(db):
    row = procedure_row(db, "TP-01")
    assert "làm giấy khai sinh cho con" in json.loads(row["phrasings"])
    assert "register my baby's birth" in json.loads(row["phrasings_en"])
    assert json.loads(row["documents"])[0] == "Tờ khai đăng ký khai sinh"
    events = vocabulary.list_life_events(db, CENTRE)
    death = next(event for event in events if event["code"] == "death")
    assert death["procedures"] == ["TP-03", "CT-R05", "BT-03"] and death["name"] == "Người thân qua đời"


def test_the_migration_gives_existing_centres_the_vocabulary_and_keeps_their_own(tmp_path):
    from queueing.schema import migrations
    db = store.connect(tmp_path / "old.sqlite3")
    migrations.apply(db, stop_before="0007_assistant_vocabulary")  # a database as shipped before issue 13
    db.execute("INSERT INTO centres (id, name, settings, created_at) VALUES ('old', 'Cũ', '{}', 0)")
    db.execute("INSERT INTO services (centre_id, code, name, prefix) VALUES ('old', 'TP', 'Tư pháp', 'A')")
    for code, name in (("TP-03", "Đăng ký khai tử"), ("X-1", "Thủ tục riêng")):
        db.execute("INSERT INTO procedures (centre_id, service_id, code, name) VALUES ('old', 1, ?, ?)", [code, name])
    migrations.apply(db)
    rows = {row["code"]: row for row in store.all_rows(db, "SELECT * FROM procedures WHERE centre_id = 'old'")}
    assert "bố tôi mất cần làm giấy gì" in json.loads(rows["TP-03"]["phrasings"])
    assert json.loads(rows["X-1"]["phrasings"]) == []  # not in the catalogue: nothing invented
    events = {event["code"]: event for event in vocabulary.list_life_events(db, "old")}
    assert events["death"]["procedures"] == ["TP-03"]  # only the steps this centre offers
    assert "birth" not in events
    db.conn.close()


def test_phrasings_are_edited_one_per_line_and_audited(db):
    procedure_id = procedure_row(db, "KD-01")["id"]
    outcome = admin.update_procedure(db, CENTRE, user_id(db, "admin"), procedure_id,
                                     {"phrasings": "bán xôi đầu ngõ\n\n  mở  xe bánh mì \nbán xôi đầu ngõ"})
    assert outcome.result["phrasings"] == ["bán xôi đầu ngõ", "mở xe bánh mì"]
    assert json.loads(procedure_row(db, "KD-01")["phrasings"]) == ["bán xôi đầu ngõ", "mở xe bánh mì"]
    audit = store.one(db, "SELECT * FROM audit_log WHERE action = 'procedure.update' ORDER BY id DESC LIMIT 1")
    assert json.loads(audit["detail"])["after"]["phrasings"] == ["bán xôi đầu ngõ", "mở xe bánh mì"]


@pytest.mark.parametrize(("value", "message"), [
    ({"a": 1}, "must be a list of text"),
    (["ok", 3], "must be a list of text"),
    ("x" * 201, "at most 200 characters"),
    ("\n".join(f"câu {n}" for n in range(201)), "at most 200 phrases"),
])
def test_bad_phrasings_are_refused_clearly(db, value, message):
    procedure_id = procedure_row(db, "KD-01")["id"]
    before = procedure_row(db, "KD-01")["phrasings"]
    with pytest.raises(admin.ValidationError, match=message) as error:
        admin.update_procedure(db, CENTRE, user_id(db, "admin"), procedure_id, {"phrasings": value})
    assert error.value.status == 400
    assert procedure_row(db, "KD-01")["phrasings"] == before


def test_life_events_import_updates_adds_and_checks_codes(db):
    config = admin.export_configuration(db, CENTRE)
    config["life_events"].append({"code": "retire", "name": "Nghỉ hưu", "name_en": "Retiring",
                                  "procedures": ["BH-02"], "phrasings": ["sắp về hưu"], "phrasings_en": []})
    config["life_events"][0]["phrasings"] = ["nhà vừa có thêm em bé"]
    outcome = admin.import_configuration(db, CENTRE, config, user_id(db, "admin"))
    assert outcome.result["summary"]["life_events"] == {"added": 1, "updated": 1}
    exported = admin.export_configuration(db, CENTRE)
    assert exported["life_events"][0]["phrasings"] == ["nhà vừa có thêm em bé"]
    assert exported["life_events"][-1]["code"] == "retire"
    bad = json.loads(json.dumps(exported))
    bad["life_events"][0]["procedures"] = ["NOPE-1"]
    bad["life_events"][1]["colour"] = "red"
    with pytest.raises(admin.ValidationError) as error:
        admin.import_configuration(db, CENTRE, bad, user_id(db, "admin"))
    assert error.value.status == 400
    assert any("NOPE-1" in line for line in error.value.errors)
    assert any("colour" in line for line in error.value.errors)
    assert admin.export_configuration(db, CENTRE) == exported  # nothing was changed


def test_the_procedure_form_shows_and_saves_phrasings(app, client):
    csrf = sign_in(client, app, "admin")
    with app.app_context():
        from web import get_db
        procedure_id = procedure_row(get_db(), "KD-01")["id"]
    page = text_of(client.get(f"/manager/admin/procedures/{procedure_id}"))
    assert '<textarea id="f-phrasings" name="phrasings"' in page and "mở quán ăn\nmở tiệm tạp hóa" in page
    assert client.post("/api/v1/assistant/ask", json={"text": "bán xôi buổi sáng ở đầu ngõ"}).status_code == 200
    form = {"csrf_token": csrf, "service": "KD", "name": "Đăng ký thành lập hộ kinh doanh",
            "name_en": "Household business registration", "legal_days": "3", "legal_days_note": "", "fee_vnd": "",
            "fee_note": "", "phrasings": "mở quán ăn\nbán xôi đầu ngõ", "phrasings_en": "open a shop",
            "documents": "", "documents_en": ""}
    response = client.post(f"/manager/admin/procedures/{procedure_id}", data=form)
    assert response.status_code == 302
    assert "luot_assistant" not in app.extensions  # rebuilt with the new words on the next question
    answer = client.post("/api/v1/assistant/ask", json={"text": "bán xôi buổi sáng ở đầu ngõ"}).get_json()
    assert answer["suggestions"][0]["procedure"] == "KD-01"


def test_ask_answers_with_life_event_choices_and_audio_fields(client):
    response = client.post("/api/v1/assistant/ask", json={"text": "bố tôi mất rồi, giờ làm gì"})
    assert response.status_code == 200
    data = response.get_json()
    assert {"reply", "suggestions", "understood", "confident", "choices", "life_event", "audio_url"} <= set(data)
    assert [step["procedure"] for step in data["life_event"]["steps"]] == ["TP-03", "CT-R05", "BT-03"]
    assert data["suggestions"][0]["procedure"] == "TP-03"
    assert data["audio_url"] is None  # TTS is off in tests
    unsure = client.post("/api/v1/assistant/ask", json={"text": "căn cước"}).get_json()
    assert len(unsure["choices"]) == 3 and unsure["reply"].startswith("Có phải Ông/Bà cần")


@pytest.mark.parametrize(("body", "code"), [
    ({}, "text_required"), ({"text": 5}, "text_required"), ({"text": "x", "lang": "fr"}, "bad_lang"),
    ({"text": "x", "colour": 1}, None),
])
def test_ask_refuses_bad_input_with_a_clear_4xx(client, body, code):
    response = client.post("/api/v1/assistant/ask", json=body)
    assert 400 <= response.status_code < 500
    data = response.get_json()
    assert data["error"] and (code is None or data["code"] == code)
