"""A centre's holiday calendar: the days it is closed, seeded from Viet Nam's public holidays.

The bundled calendar (data/holidays.vi.json) goes into every configured centre; the demo centre,
open at every hour of every day (docs/architecture.md), gets none. Administrators add and remove days; each
change is written to the audit log in the same transaction.
"""
from __future__ import annotations

import json
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

from . import store
from .model import NotFound, Outcome, QueueError

HOLIDAYS_PATH = Path(__file__).resolve().parent / "data" / "holidays.vi.json"
DEMO_CENTRE_ID = "demo"  # centre.DEMO_CENTRE_ID; not imported: centre.py imports this module
NAME_MAX = 120
# How far ahead "opens again on …" looks: Tết is 9 days; a month covers any calendar.
LOOK_AHEAD_DAYS = 31
WEEKDAY_VI = ("Thứ Hai", "Thứ Ba", "Thứ Tư", "Thứ Năm", "Thứ Sáu", "Thứ Bảy", "Chủ nhật")


def bundled_holidays(path: Path = HOLIDAYS_PATH) -> list[dict]:
    """The public holidays shipped with Lượt: [{date, name, name_en, confirmed}]."""
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)["holidays"]


def seed_defaults(db, centre_id: str, holidays: list[dict] | None = None) -> int:
    """Put the bundled (or given) holidays into a centre's calendar, keeping days it already has."""
    if centre_id == DEMO_CENTRE_ID and holidays is None:
        return 0
    added = 0
    for holiday in bundled_holidays() if holidays is None else holidays:
        added += db.conn.execute("INSERT OR IGNORE INTO holidays (centre_id, day, name, name_en) VALUES (?, ?, ?, ?)",
                                 (centre_id, holiday["date"], holiday["name"], holiday.get("name_en", ""))).rowcount
    return added


def list_holidays(db, centre_id: str) -> list[dict]:
    """Every day of the centre's calendar, in date order: [{date, name, name_en}]."""
    return [{"date": row["day"], "name": row["name"], "name_en": row["name_en"]}
            for row in store.all_rows(db, "SELECT day, name, name_en FROM holidays WHERE centre_id = ? ORDER BY day",
                                      (centre_id,))]


def holiday_on(db, centre_id: str, day: str) -> dict | None:
    """The holiday on a local day (YYYY-MM-DD), or None when the centre works that day."""
    row = store.one(db, "SELECT day, name, name_en FROM holidays WHERE centre_id = ? AND day = ?", (centre_id, day))
    return {"date": row["day"], "name": row["name"], "name_en": row["name_en"]} if row else None


def holiday_days(db, centre_id: str, first: str, last: str) -> set[str]:
    """The holidays between two local days, inclusive."""
    return {row["day"] for row in store.all_rows(
        db, "SELECT day FROM holidays WHERE centre_id = ? AND day BETWEEN ? AND ?", (centre_id, first, last))}


def _clean_day(value) -> str:
    try:
        if not isinstance(value, str):
            raise ValueError
        return date.fromisoformat(value.strip()).isoformat()
    except ValueError:
        raise QueueError("Ngày nghỉ phải có dạng YYYY-MM-DD (date must be YYYY-MM-DD)", code="bad_date") from None


def _clean_name(value, label: str, required: bool) -> str:
    from .text import nfc
    text = nfc(value.strip()) if isinstance(value, str) else ""
    if value is not None and not isinstance(value, str):
        raise QueueError(f"{label} phải là chữ ({label} must be text)", code="bad_name")
    if required and not text:
        raise QueueError("Hãy nhập tên ngày nghỉ (holiday name is required)", code="name_required")
    if len(text) > NAME_MAX or any(ord(ch) < 32 for ch in text):
        raise QueueError(f"{label} quá dài hoặc có ký tự điều khiển (name too long or has control characters)",
                         code="bad_name")
    return text


def add_holiday(db, centre_id: str, user_id, data: dict, now: float | None = None) -> Outcome:
    """Add (or rename) one closed day; audited as `holidays.create` / `holidays.update`."""
    from .audit import record_change as audit
    if not isinstance(data, dict):
        raise QueueError("Dữ liệu ngày nghỉ không hợp lệ (body must be an object)", code="bad_request")
    day = _clean_day(data.get("date"))
    name = _clean_name(data.get("name"), "Tên ngày nghỉ", required=True)
    name_en = _clean_name(data.get("name_en"), "Tên tiếng Anh", required=False)
    with store.transaction(db):
        before = holiday_on(db, centre_id, day)
        db.conn.execute("""INSERT INTO holidays (centre_id, day, name, name_en) VALUES (?, ?, ?, ?)
                           ON CONFLICT (centre_id, day) DO UPDATE SET name = excluded.name,
                           name_en = excluded.name_en""", (centre_id, day, name, name_en))
        after = holiday_on(db, centre_id, day)
        if before != after:
            audit(db, centre_id, time.time() if now is None else now, user_id,
                  "holidays.update" if before else "holidays.create", {"type": "holiday", "id": day}, before, after)
    return Outcome(after, [])


def remove_holiday(db, centre_id: str, user_id, day, now: float | None = None) -> Outcome:
    """Make a day a working day again; audited as `holidays.delete`."""
    from .audit import record_change as audit
    day = _clean_day(day)
    with store.transaction(db):
        before = holiday_on(db, centre_id, day)
        if before is None:
            raise NotFound(f"Ngày {day} không có trong lịch nghỉ (no holiday on {day})", code="unknown_holiday")
        db.conn.execute("DELETE FROM holidays WHERE centre_id = ? AND day = ?", (centre_id, day))
        audit(db, centre_id, time.time() if now is None else now, user_id, "holidays.delete",
              {"type": "holiday", "id": day}, before, None)
    return Outcome({"date": day, "removed": True}, [])


def spans_on(service: dict, day: date) -> list[tuple[str, str]] | None:
    """A service's opening spans on a day ("07:30", "11:30"), or None when it has no hours (open all day)."""
    if not service["opening_hours"]:
        return None
    from .service import WEEKDAYS
    return [tuple(span) for span in json.loads(service["opening_hours"]).get(WEEKDAYS[day.weekday()], [])]


def local_moment(day: date, hh_mm: str, tz) -> float:
    """The UTC epoch of a local wall-clock time on a day ("24:00" is the next midnight)."""
    hours, minutes = (int(part) for part in hh_mm.split(":"))
    midnight = datetime(day.year, day.month, day.day, tzinfo=tz)
    return (midnight + timedelta(hours=hours, minutes=minutes)).astimezone(timezone.utc).timestamp()


def next_opening(db, centre_id: str, tz, service: dict, after: float, from_day: date) -> float | None:
    """When a service next opens: the first span start after `after`, on `from_day` or later, skipping holidays.

    A service without opening hours opens at the first midnight of a working day. None when nothing
    opens within LOOK_AHEAD_DAYS (every day a holiday, or no spans at all).
    """
    last = from_day + timedelta(days=LOOK_AHEAD_DAYS)
    closed = holiday_days(db, centre_id, from_day.isoformat(), last.isoformat())
    day = from_day
    while day <= last:
        if day.isoformat() not in closed:
            spans = spans_on(service, day)
            starts = ["00:00"] if spans is None else sorted(start for start, _ in spans)
            for start in starts:
                moment = local_moment(day, start, tz)
                if moment > after or (spans is None and moment >= after):
                    return moment
        day += timedelta(days=1)
    return None


def opening_text(epoch: float | None, tz) -> tuple[str, str]:
    """("07:30 Thứ Hai 23/02/2026", "07:30 Monday 23/02/2026") for a message, or a vaguer phrase when unknown."""
    if epoch is None:
        return "khi có thông báo mới", "when announced"
    local = datetime.fromtimestamp(epoch, timezone.utc).astimezone(tz)
    return (f"{local:%H:%M} {WEEKDAY_VI[local.weekday()]} {local:%d/%m/%Y}",
            f"{local:%H:%M} {local:%A} {local:%d/%m/%Y}")


def clean_import(items, errors: list[str]) -> list[dict]:
    """A configuration file's `holidays` list, checked; problems go to `errors` like the other sections."""
    if items is None:
        return []
    if not isinstance(items, list):
        errors.append("holidays: phải là danh sách (must be a list)")
        return []
    cleaned = []
    for index, item in enumerate(items, start=1):
        try:
            if not isinstance(item, dict):
                raise QueueError("mỗi ngày nghỉ là một đối tượng {date, name} (each holiday is an object)")
            cleaned.append({"date": _clean_day(item.get("date")),
                            "name": _clean_name(item.get("name"), "Tên ngày nghỉ", required=True),
                            "name_en": _clean_name(item.get("name_en"), "Tên tiếng Anh", required=False)})
        except QueueError as error:
            errors.append(f"holidays[{index}]: {error.message}")
    return cleaned
