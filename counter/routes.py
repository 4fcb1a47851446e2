"""The clerk's counter panel, and the citizen-facing rating tablet at each counter."""
from __future__ import annotations

from flask import Blueprint, abort, render_template

from i18n import current_language, page_texts
from queueing import store
from queueing.service import PAUSE_REASONS, PAUSE_REASONS_EN
from web import get_db, get_queue, staff_page

bp = Blueprint("counter", __name__, template_folder="templates")

COUNTER_TEXTS = ["appointment_badge", "choose_counter", "sign_in_counter", "leave_counter", "call_next", "recall", "start", "finish",
                 "no_show", "transfer", "pause", "resume", "current_ticket", "none_waiting", "waiting",
                 "counter", "service", "disconnected", "minutes", "state_open", "state_paused", "state_closed",
                 "status_called", "status_serving", "recalled_times", "choose_procedure_first", "choose_target", "counter_taken_by",
                 "restored_ok", "no_priority_group", "no_counter_short"]

RATE_TEXTS = ["rate_question", "rate_1", "rate_2", "rate_3", "rate_thanks", "rate_thanks_detail", "rate_idle",
              "rate_not_activated", "rate_wrong_counter", "rate_failed", "ticket", "counter", "disconnected"]


def localised(row: dict, lang: str) -> str:
    return row["name"] if lang == "vi" else (row["name_en"] or row["name"])


@bp.get("/counter")
def panel():
    principal, redirect_response = staff_page("clerk", "manager", "admin")
    if redirect_response:
        return redirect_response
    lang = current_language()
    queue = get_queue()
    db = get_db()
    mine = queue.clerk_counter(principal.id)
    procedures: dict[str, list[dict]] = {}
    for row in store.procedures(db, queue.centre_id):
        procedures.setdefault(row["service_code"], []).append({"code": row["code"], "name": localised(row, lang)})
    return render_template("counter/panel.html", user=principal, page_data={
        "lang": lang, "texts": page_texts(COUNTER_TEXTS, lang), "user": principal.name,
        "counter": mine["id"] if mine else None, "tz": queue.centre["timezone"],
        "counters": [{"id": c["id"], "number": c["number"], "name": c["name"], "services": c["services"],
                      "clerk": c["clerk_name"] or c["clerk_username"], "mine": c["clerk_id"] == principal.id,
                      "state": c["state"]} for c in store.counters(db, queue.centre_id)],
        "services": [{"code": s["code"], "name": localised(s, lang)} for s in store.services(db, queue.centre_id)],
        "priority_groups": [{"code": g["code"], "name": localised(g, lang)}
                            for g in store.priority_groups(db, queue.centre_id)],
        "procedures": procedures, "pause_reasons": PAUSE_REASONS if lang == "vi" else PAUSE_REASONS_EN,
    })


@bp.get("/rate/<int:counter_number>")
def rate(counter_number):
    """The rating tablet of one counter; opened once as /rate/<n>#token=<counter device token>."""
    lang = current_language()
    queue = get_queue()
    counter = next((c for c in store.counters(get_db(), queue.centre_id) if c["number"] == counter_number), None)
    if counter is None:
        abort(404)
    return render_template("counter/rate.html", counter=counter, page_data={
        "lang": lang, "texts": page_texts(RATE_TEXTS, lang), "tz": queue.centre["timezone"],
        "counter": {"id": counter["id"], "number": counter["number"], "name": counter["name"]},
        "centre": queue.centre["name"] if lang == "vi" else (queue.centre["name_en"] or queue.centre["name"])})
