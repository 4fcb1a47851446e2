"""Socket.IO for dossiers (issue 16): a dossier's page follows it live with the receipt's key."""
from __future__ import annotations

from flask_socketio import emit, join_room

from queueing.dossiers import DossierDesk, dossier_room, public_view
from web import get_queue, socketio


@socketio.on("track_dossier")
def on_track_dossier(key):
    """The page /d/<key> follows one dossier; answered with `dossier_updated`, then hears each change of it."""
    row = DossierDesk(get_queue()).by_key(key)
    if row is None:
        return {"error": "Không tìm thấy hồ sơ (unknown dossier)", "code": "unknown_dossier"}
    emit("dossier_updated", public_view(row, get_queue()))
    if row["status"] != "returned":
        join_room(dossier_room(row["key"]))
    return {"ok": True}
