"""The admin page "Giọng đọc thu âm" and its JSON API (issue 19): every segment the announcements need,
each recorded in the browser or uploaded as a WAV, and the whole pack exported or imported as one zip.
queueing.voice_pack checks and audits every clip; switching the pack on is PATCH /admin/settings {voice:"pack"}.
"""
from __future__ import annotations

from urllib.parse import quote

from flask import Response, current_app, jsonify, make_response, request

from i18n import current_language
from manager.admin_routes import PAGE_OF_ENDPOINT, api_bp, bp, render, viewer
from queueing import voice_pack
from queueing.model import NotFound
import web
from web import get_db, now, require

PAGE_OF_ENDPOINT["admin.voice_pack_page"] = "voice_pack"
# A clip is ≤ 2 MB (refused with 400 above that, by queueing.voice_pack); a little more may arrive.
CLIP_BODY_MAX = 4 * 1024 * 1024


web.FILE_BODY_ENDPOINTS.update({"admin_api.api_voice_clip_put", "admin_api.api_voice_pack_import"})


def _file_body(accepted: tuple[str, ...]) -> bytes:
    """The request's body, if its Content-Type is one of accepted (or a generic binary upload)."""
    if request.mimetype not in (*accepted, "application/octet-stream"):
        raise web.ApiError(f"Kiểu nội dung phải là {accepted[0]} (Content-Type must be {accepted[0]})",
                           code="unsupported_media_type", status=415)
    return request.get_data()


def _centre() -> str:
    return current_app.config["CENTRE_ID"]


@bp.get("/voice-pack")
def voice_pack_page():
    principal, redirect_response = viewer()
    if redirect_response:
        return redirect_response
    page, status = render("voice_pack.html", user=principal, pack=voice_pack.pack_view(get_db(), _centre()),
                          english=current_language() == "en")
    response = make_response(page, status)
    # The one page that records: every other page keeps the microphone off (server.register_headers).
    response.headers["Permissions-Policy"] = "camera=(), microphone=(self), geolocation=()"
    return response


@api_bp.get("/voice-pack")
def api_voice_pack():
    require("admin")
    return jsonify(voice_pack.pack_view(get_db(), _centre()))


def _key(key: str) -> str:
    if not voice_pack.valid_key(key):
        raise NotFound("Không có đoạn này trong bộ giọng (no such voice pack segment)", code="not_found")
    return key


@api_bp.put("/voice-pack/<key>")
def api_voice_clip_put(key):
    request.max_content_length = CLIP_BODY_MAX
    principal = require("admin")
    outcome = voice_pack.put_clip(get_db(), _centre(), principal.id, _key(key),
                                  _file_body(("audio/wav", "audio/x-wav", "audio/wave", "audio/vnd.wave")), now())
    return jsonify(outcome.result)


@api_bp.get("/voice-pack/<key>")
def api_voice_clip(key):
    require("admin")
    audio = voice_pack.clip_wav(get_db(), _centre(), _key(key))
    if audio is None:
        raise NotFound("Đoạn này chưa được ghi âm (this segment has no clip yet)", code="not_recorded")
    return Response(audio, mimetype="audio/wav", headers={"Cache-Control": "no-store"})


@api_bp.get("/voice-pack/<key>/sample")
def api_voice_clip_sample(key):
    """A call sentence containing the segment, joined from the clips recorded so far."""
    require("admin")
    text, audio = voice_pack.sample_audio(get_db(), _centre(), _key(key))
    return Response(audio, mimetype="audio/wav",
                    headers={"Cache-Control": "no-store", "X-Sample-Text": quote(text)})


@api_bp.get("/voice-pack/export")
def api_voice_pack_export():
    require("admin")
    return Response(voice_pack.export_pack(get_db(), _centre()), mimetype="application/zip",
                    headers={"Content-Disposition": "attachment; filename=voice-pack.zip"})


@api_bp.post("/voice-pack/import")
def api_voice_pack_import():
    request.max_content_length = voice_pack.IMPORT_MAX_BYTES
    principal = require("admin")
    return jsonify(voice_pack.import_pack(get_db(), _centre(), principal.id,
                                                   _file_body(("application/zip", "application/x-zip-compressed")),
                                                   now()).result)
