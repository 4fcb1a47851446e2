"""The admin page "Từ vựng trợ lý" and its JSON API (issue 13): the assistant's language data
(synonym groups, abbreviations, stop-words, out-of-scope requests, Vietnamese and English) and the
life events (add, edit, deactivate). Admins change, managers look; every change is audited by
queueing.language in the same transaction, and the kiosk assistant rebuilds from the database on
its next question, on every instance.
"""
from __future__ import annotations

from flask import current_app, flash, jsonify, redirect, request

from manager.admin_routes import PAGE_OF_ENDPOINT, api_bp, bp, changer, link, render, viewer
from i18n import current_language
from queueing import language, vocabulary
from queueing.model import QueueError
from web import get_db, json_body, now, require

PAGE_OF_ENDPOINT.update({name: "vocabulary" for name in (
    "admin.vocabulary_page", "admin.vocabulary_save", "admin.vocabulary_event", "admin.vocabulary_event_active")})


def _centre() -> str:
    return current_app.config["CENTRE_ID"]


def _page(principal, error: QueueError | None = None, typed: dict | None = None, event_error: QueueError | None = None,
          event_typed: dict | None = None, status: int = 200):
    db = get_db()
    return render("vocabulary.html", status, user=principal, error=error, event_error=event_error,
                  values=typed or language.language_to_form(language.get_language(db, _centre())),
                  event_values=event_typed or {}, events=vocabulary.list_life_events(db, _centre()),
                  english=current_language() == "en")


@bp.get("/vocabulary")
def vocabulary_page():
    principal, redirect_response = viewer()
    if redirect_response:
        return redirect_response
    edit = request.args.get("event")
    event_typed = None
    if edit:
        found = [e for e in vocabulary.list_life_events(get_db(), _centre()) if e["code"] == edit]
        if found:
            event = found[0]
            event_typed = {**event, "procedures": ", ".join(event["procedures"]),
                           "phrasings": "\n".join(event["phrasings"]), "phrasings_en": "\n".join(event["phrasings_en"])}
    return _page(principal, event_typed=event_typed)


FORM_KEYS = ("abbreviations", "synonym_groups", "synonym_groups_en", "stopwords", "stopwords_en",
             "out_of_scope", "out_of_scope_en")


@bp.post("/vocabulary")
def vocabulary_save():
    principal, redirect_response = changer()
    if redirect_response:
        return redirect_response
    typed = {key: request.form.get(key, "") for key in FORM_KEYS}
    db = get_db()
    try:
        about = language.get_language(db, _centre()).get("about", "")
        language.save_language(db, _centre(), principal.id, language.language_from_form(typed, about), now())
    except QueueError as error:
        return _page(principal, error, typed, status=error.status)
    flash("Đã lưu từ vựng trợ lý (assistant vocabulary saved)")
    return redirect(link("admin.vocabulary_page"))


@bp.post("/vocabulary/events")
def vocabulary_event():
    principal, redirect_response = changer()
    if redirect_response:
        return redirect_response
    typed = {key: request.form.get(key, "") for key in ("code", "name", "name_en", "procedures", "phrasings",
                                                          "phrasings_en")}
    try:
        outcome = language.save_event(get_db(), _centre(), principal.id, language.event_from_form(typed), now())
    except QueueError as error:
        return _page(principal, event_error=error, event_typed=typed, status=error.status)
    flash(f"Đã lưu sự kiện «{outcome.result['name']}» (life event saved)")
    return redirect(link("admin.vocabulary_page"))


@bp.post("/vocabulary/events/<code>/active")
def vocabulary_event_active(code):
    principal, redirect_response = changer()
    if redirect_response:
        return redirect_response
    active = request.form.get("active") == "1"
    try:
        language.set_event_active(get_db(), _centre(), principal.id, code, active, now())
    except QueueError as error:
        return _page(principal, event_error=error, status=error.status)
    flash(f"Đã {'bật' if active else 'ngừng'} sự kiện {code} (life event {'activated' if active else 'deactivated'})")
    return redirect(link("admin.vocabulary_page"))


# ---- JSON API ------------------------------------------------------------------------------------

@api_bp.get("/vocabulary")
def api_vocabulary():
    require("manager", "admin")
    return jsonify(language.get_language(get_db(), _centre()))


@api_bp.put("/vocabulary")
def api_vocabulary_put():
    principal = require("admin")
    data = json_body(language.LANGUAGE_KEYS)
    return jsonify(language.save_language(get_db(), _centre(), principal.id, data, now()).result)


@api_bp.get("/life-events")
def api_life_events():
    require("manager", "admin")
    return jsonify(vocabulary.list_life_events(get_db(), _centre()))


@api_bp.post("/life-events")
def api_life_event_save():
    principal = require("admin")
    data = json_body(vocabulary.EVENT_KEYS - {"active"})
    return jsonify(language.save_event(get_db(), _centre(), principal.id, data, now()).result)


@api_bp.post("/life-events/<code>/<any(activate, deactivate):verb>")
def api_life_event_active(code, verb):
    principal = require("admin")
    return jsonify(language.set_event_active(get_db(), _centre(), principal.id, code, verb == "activate",
                                             now()).result)
