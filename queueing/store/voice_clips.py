"""The recorded voice pack's clips (issue 19): its SQL, re-exported by `queueing.store` like every other query."""
from __future__ import annotations

from . import all_rows, execute


def voice_clips(db, centre_id: str) -> list[dict]:
    """Every recorded clip of a centre's voice pack, without its audio."""
    return all_rows(db, """SELECT key, text, duration_s, digest, recorded_at, recorded_by FROM voice_clips
                           WHERE centre_id = ? ORDER BY key""", (centre_id,))


def voice_clip_audio(db, centre_id: str, keys) -> dict[str, bytes]:
    """The prepared PCM of the clips with these keys (those recorded)."""
    keys = list(dict.fromkeys(keys))
    marks = ",".join("?" * len(keys))
    return {row[0]: row[1] for row in db.conn.execute(
        f"SELECT key, audio FROM voice_clips WHERE centre_id = ? AND key IN ({marks})", (centre_id, *keys))}


def save_voice_clip(db, centre_id: str, row: dict) -> None:
    """Store (or replace) one clip, inside the caller's transaction."""
    execute(db, """INSERT INTO voice_clips (centre_id, key, text, audio, duration_s, digest, recorded_at, recorded_by)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                   ON CONFLICT (centre_id, key) DO UPDATE SET text = excluded.text, audio = excluded.audio,
                       duration_s = excluded.duration_s, digest = excluded.digest,
                       recorded_at = excluded.recorded_at, recorded_by = excluded.recorded_by""",
            (centre_id, row["key"], row["text"], row["audio"], row["duration_s"], row["digest"], row["recorded_at"],
             row["recorded_by"]))
