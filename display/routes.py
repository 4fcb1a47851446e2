"""The hall's call display (TV) and the announcement audio it plays."""
from __future__ import annotations

from flask import Blueprint, current_app, render_template, request, send_file

from i18n import current_language, page_texts
from queueing.model import NotFound
from queueing import store
from web import get_db, get_queue

bp = Blueprint("display", __name__, template_folder="templates")

AUDIO_WAIT_S = 8.0

DISPLAY_TEXTS = ["appointment_badge", "invite", "to_counter", "counter", "recent_calls", "waiting", "start_sound", "start_sound_hint",
                 "disconnected", "minutes", "no_calls_yet", "wait_about", "no_counter_display"]


@bp.get("/display")
def display():
    """Full-screen display; ?floor=… or ?counters=1,2,3 shows only those counters (and their services)."""
    lang = current_language()
    queue = get_queue()
    counters = queue.counters_overview()
    floor = request.args.get("floor")
    wanted = {part.strip() for part in request.args.get("counters", "").split(",") if part.strip()}
    if floor:
        counters = [c for c in counters if c["floor"] == floor]
    if wanted:
        counters = [c for c in counters if str(c["number"]) in wanted]
    filtered = bool(floor or wanted)
    services = sorted({code for c in counters for code in (c["services"] or [])}) if filtered else None
    return render_template("display/display.html", page_data={
        "lang": lang, "tz": queue.centre["timezone"], "counters": [c["counter"] for c in counters],
        "filtered": filtered, "services": services, "texts": page_texts(DISPLAY_TEXTS, lang),
        "prefixes": {row["code"]: row["prefix"] for row in store.services(get_db(), queue.centre_id)}})


@bp.get("/audio/<key>.wav")
def audio(key):
    """An announcement's WAV, synthesised once by the announcer's thread and cached on disk."""
    announcer = current_app.extensions["luot_announcer"]
    path = announcer.wav_path(key, timeout=AUDIO_WAIT_S)
    if path is None:
        raise NotFound("Không có âm thanh này (no such announcement audio)", code="no_audio")
    return send_file(path, mimetype="audio/wav", max_age=86400)
