"""The clerk's counter panel."""
from __future__ import annotations

from flask import Blueprint, render_template

from i18n import current_language, page_texts
from queueing import store
from queueing.service import PAUSE_REASONS
from web import get_db, get_queue, staff_page

bp = Blueprint("counter", __name__, template_folder="templates")

COUNTER_TEXTS = ["choose_counter", "sign_in_counter", "leave_counter", "call_next", "recall", "start", "finish",
                 "no_show", "transfer", "pause", "resume", "current_ticket", "none_waiting", "waiting",
                 "counter", "service", "disconnected", "minutes"]


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
        procedures.setdefault(row["service_code"], []).append(
            {"code": row["code"], "name": row["name"] if lang == "vi" else (row["name_en"] or row["name"])})
    return render_template("counter/panel.html", user=principal, page_data={
        "lang": lang, "texts": page_texts(COUNTER_TEXTS, lang), "user": principal.name,
        "counter": mine["id"] if mine else None, "tz": queue.centre["timezone"],
        "counters": [{"id": c["id"], "number": c["number"], "name": c["name"], "services": c["services"],
                      "clerk": c["clerk_name"], "state": c["state"]} for c in store.counters(db, queue.centre_id)],
        "services": [{"code": s["code"], "name": s["name"] if lang == "vi" else (s["name_en"] or s["name"])}
                     for s in store.services(db, queue.centre_id)],
        "procedures": procedures, "pause_reasons": PAUSE_REASONS,
    })
