"""The kiosk screen, the phone tracking page, and the kiosk's helper endpoints (card check, assistant)."""
from __future__ import annotations

import io
import json
from datetime import datetime, timezone

import segno
from flask import (Blueprint, Response, abort, current_app, jsonify, make_response, render_template, request,
                   send_file, url_for)

from i18n import current_language, page_texts
from kiosk.assistant import ProcedureInfo, language_from_data, life_event_from_data, make_assistant
from kiosk.guidance import guidance_text, parse_choices
from kiosk.issuing import check_card
from printers.slip import wait_range_minutes
from queueing import store, vocabulary
from queueing.model import QueueError
from settings import setting
from web import bearer_token, citizen_url, current_principal, get_db, get_queue, json_body, now, require

bp = Blueprint("kiosk", __name__, template_folder="templates")

ASK_PER_MINUTE = 30
GUIDANCE_WAIT_S = 15  # espeak-ng makes a long guidance sentence in well under a second; a cold engine takes longer

KIOSK_TEXTS = ["waiting", "closed", "sold_out", "holiday_closed", "cut_off", "priority_question", "no_priority", "your_number", "people_ahead",
               "estimated_wait", "minutes", "track_hint", "back", "done", "kiosk_not_activated", "take_number",
               "ask", "ask_placeholder", "kiosk_choose", "bring", "scan_card_hint", "im_back_hint", "im_back_ok",
               "wait_range", "wait_about", "no_counter_open", "no_counter_short", "listen_failed"]


@bp.get("/kiosk")
def kiosk():
    lang = current_language()
    queue = get_queue()
    groups = [{"code": g["code"], "name": g["name"] if lang == "vi" else (g["name_en"] or g["name"])}
              for g in store.priority_groups(get_db(), queue.centre_id)]
    return render_template("kiosk/kiosk.html", page_data={
        "lang": lang, "texts": page_texts(KIOSK_TEXTS, lang), "priority_groups": groups,
        "centre": queue.centre["name"] if lang == "vi" else (queue.centre["name_en"] or queue.centre["name"]),
        "tz": queue.centre["timezone"], "return_service": queue.settings["dossier_return_service"]})


def ticket_for_key_or_404(track_key) -> dict:
    """The ticket a tracking key proves; an unknown key, or an old `/t/<ticket id>` link, is 404 (issue 12)."""
    row = get_queue().ticket_for_key(track_key)
    if row is None:
        abort(404)
    return row


@bp.get("/kiosk/guidance.wav")
def guidance():
    """The spoken guidance of one kiosk screen as a WAV (`?screen=home|priority|ticket|back&lang=&choices=&number=`),
    made by the announcer's TTS thread and cached on disk by its text, so it works without any network."""
    lang = request.args.get("lang", "vi")
    if lang not in ("vi", "en"):
        raise QueueError("Ngôn ngữ phải là vi hoặc en (lang must be vi or en)", code="bad_lang")
    queue = get_queue()
    english = lang == "en"
    services = [(row["name_en"] or row["name"]) if english else row["name"]
                for row in queue.services_overview() if row.get("open") and not row.get("sold_out")]
    groups = [(g["name_en"] or g["name"]) if english else g["name"] for g in store.priority_groups(get_db(), queue.centre_id)]
    text = guidance_text(request.args.get("screen", "home"), lang, services, groups,
                         parse_choices(request.args.get("choices")), request.args.get("number") or None)
    announcer = current_app.extensions["luot_announcer"]
    key = announcer.request(text, lang, **queue.voice())
    if key is None:
        raise QueueError("Máy chủ không bật giọng nói (LUOT_TTS=none) (speech is off)", code="speech_off", status=404)
    path = announcer.wav_path(key, timeout=GUIDANCE_WAIT_S)
    if path is None:
        raise QueueError("Chưa tạo được âm thanh hướng dẫn; thử lại (guidance audio not ready)", code="no_audio",
                         status=404)
    # max_age 0 with an ETag: the browser asks again each time (the services may have changed) and gets a 304
    return send_file(path, mimetype="audio/wav", max_age=0, etag=True, conditional=True)


@bp.get("/t/<track_key>")
def track(track_key):
    """The phone page that follows one ticket live; the number is in the HTML for slow phones."""
    lang = current_language()
    queue = get_queue()
    ticket = queue.public_ticket(ticket_for_key_or_404(track_key))
    # the same minutes the slip printed and the script will show, so a slow phone reads them before it runs
    wait = wait_range_minutes(ticket["estimated_wait_range_s"]) if ticket["estimated_wait_s"] is not None else None
    centre = queue.centre["name"] if lang == "vi" else (queue.centre["name_en"] or queue.centre["name"])
    response = make_response(render_template("kiosk/track.html", ticket=ticket, wait=wait, track_key=track_key,
                                             centre=centre, page_data={
        "lang": lang, "ticket": ticket, "key": track_key, "tz": queue.centre["timezone"],
        "nudge_ahead": nudge_ahead(queue.settings),
        "texts": page_texts(["people_ahead", "estimated_wait", "minutes", "waiting", "to_counter", "wait_range",
                             "no_counter_open", "rate_failed", "rate_thanks", "alerts_on", "nudge_near",
                             "nudge_called", "track_title"], lang)}))
    response.headers["Cache-Control"] = "private, no-store"  # the page is the key's: no shared cache keeps it
    return response


def nudge_ahead(centre_settings: dict) -> int:
    """How many people ahead the phone is nudged at (the centre's `nudge_ahead`, 3 when unset, 0 = never)."""
    try:
        return max(0, int(centre_settings.get("nudge_ahead", 3)))
    except (TypeError, ValueError):
        return 3


@bp.get("/t/<track_key>/manifest.webmanifest")
def track_manifest(track_key):
    """The web app manifest that makes one ticket's tracking page installable on a phone's home screen."""
    ticket = ticket_for_key_or_404(track_key)
    page = url_for("kiosk.track", track_key=track_key)
    manifest = {
        "name": f"Lượt · {ticket['number']}", "short_name": ticket["number"], "lang": "vi",
        "start_url": page, "scope": page, "display": "standalone",
        "background_color": "#ffffff", "theme_color": "#b3121b",
        "icons": [{"src": url_for("static", filename=f"icons/luot-{size}.png"), "sizes": f"{size}x{size}",
                   "type": "image/png", "purpose": "any maskable"} for size in (192, 512)],
    }
    return Response(json.dumps(manifest, ensure_ascii=False), mimetype="application/manifest+json",
                    headers={"Cache-Control": "private, no-store"})


@bp.get("/t/<track_key>/qr.svg")
def track_qr(track_key):
    """The QR code of a ticket's tracking page, as printed on the slip."""
    ticket_for_key_or_404(track_key)
    qr = segno.make(citizen_url(url_for("kiosk.track", track_key=track_key)), error="m")
    buffer = io.BytesIO()
    qr.save(buffer, kind="svg", scale=6, border=2, dark="#111")
    return Response(buffer.getvalue(), mimetype="image/svg+xml", headers={"Cache-Control": "private, no-store"})


@bp.post("/api/v1/citizen/check")
def citizen_check():
    """Read a scanned ID-card QR for the kiosk screen; nothing is stored."""
    require("kiosk", "staff")
    return jsonify(check_card(json_body({"citizen_qr"}).get("citizen_qr")))


def assistant():
    """The kiosk assistant over the centre's current procedures, life events and language data; rebuilt
    when they differ from those it was built from, whoever changed them (another instance on the same database, a configuration import)."""
    app = current_app._get_current_object()
    centre_id = get_queue().centre_id
    rows = store.procedures(get_db(), centre_id)
    event_rows = store.life_events(get_db(), centre_id)
    language_text = store.assistant_language(get_db(), centre_id)  # None: the bundled file
    # ~0.3 ms to read; the index costs far more to build
    source = (tuple(tuple(row.items()) for row in rows + event_rows), language_text)
    if "luot_assistant" not in app.extensions or app.extensions.get("luot_assistant_source") != source:
        procedures = [ProcedureInfo(service=row["service_code"], code=row["code"], name=row["name"],
                                    name_en=row["name_en"], service_name=row["service_name"],
                                    service_name_en=row["service_name_en"], legal_days=row["legal_days"],
                                    same_day=bool(row["same_day"]), fee_vnd=row["fee_vnd"],
                                    fee_note=row["fee_note"], legal_days_note=row["legal_days_note"],
                                    **{key: tuple(vocabulary.loads(row[key])) for key in vocabulary.PHRASE_FIELDS})
                      for row in rows]
        life_events = [life_event_from_data(vocabulary.event_view(row)) for row in event_rows]
        language = language_from_data(json.loads(language_text)) if language_text else None
        app.extensions["luot_assistant"] = make_assistant(setting("LUOT_ASSISTANT"), procedures, life_events,
                                                          language)
        app.extensions["luot_assistant_source"] = source
    return app.extensions["luot_assistant"]


@bp.get("/api/v1/assistant/greeting")
def greeting():
    """The assistant's greeting for the time of day, with its spoken WAV."""
    lang = request.args.get("lang", "vi")
    lang = lang if lang in ("vi", "en") else "vi"
    queue = get_queue()
    local = datetime.fromtimestamp(now(), timezone.utc).astimezone(queue.tz)
    text = assistant().greeting(local, lang)
    key = current_app.extensions["luot_announcer"].request(text, lang, **queue.voice())
    return jsonify({"text": text, "audio_url": f"/audio/{key}.wav" if key else None})


@bp.post("/api/v1/assistant/ask")
def ask():
    """Find procedures from a citizen's free text; rate-limited per kiosk (its token), otherwise per address."""
    data = json_body({"text", "lang"})
    text, lang = data.get("text"), data.get("lang") or "vi"
    if not isinstance(text, str):
        raise QueueError("Hãy nhập nhu cầu bằng chữ (text is required)", code="text_required")
    if lang not in ("vi", "en"):
        raise QueueError("Ngôn ngữ phải là vi hoặc en (lang must be vi or en)", code="bad_lang")
    # Anyone may ask: only a bearer token (a kiosk's) is looked at, never a browser session, which would
    # ask for the CSRF token of a write. A kiosk is one device however many citizens use it; behind a
    # proxy, remote_addr is the client's only when LUOT_TRUSTED_PROXIES says so (server.trust_proxies).
    principal = current_principal() if bearer_token() else None
    asker = ("kiosk", principal.id) if principal and principal.is_device("kiosk") else ("address", request.remote_addr)
    if not current_app.extensions["luot_rate_limiter"].allow(("ask", *asker), ASK_PER_MINUTE):
        raise QueueError("Hỏi quá nhanh; vui lòng chờ một chút (too many questions)", code="rate_limited",
                         status=429)
    answer = assistant().ask(text, lang).to_dict()
    # Spoken like the greeting, through the announcer's one TTS thread (None when TTS is off).
    key = current_app.extensions["luot_announcer"].request(answer["reply"], lang, **get_queue().voice())
    answer["audio_url"] = f"/audio/{key}.wav" if key else None
    return jsonify(answer)
