"""On-time figures of dossiers (issue 16), the province's headline number, by procedure, service, counter, clerk.

Which dossiers
    Those whose due date falls in the range `date_from`..`date_to` (local days, inclusive), grouped by
    the dossier's procedure, the service that procedure belongs to, and the counter and clerk that
    received it (a separate selection from the ticket figures, which go by issue day).

Per dossier
    resolved = the local day it was marked ready, or returned if it never was marked ready (as the
    province hub computes it from `dossier_ready` / `dossier_returned`).
    on time  = resolved on or before the due date. late = resolved after it, or not resolved and the
    due date is before today (it can no longer be on time). Not resolved and due today or later:
    pending, counted in `dossiers` but in neither share yet.

Row fields
    dossiers = dossiers due in the range; returned = of those, results handed over (or posted);
    on_time_pct = on time / (on time + late) × 100, rounded to 0.1 (None when none is settled);
    overdue_now = not resolved and past the due date now; days_early_median = median over resolved
    dossiers of (due date − resolved day) in calendar days: positive early, negative late (None if none).
"""
from __future__ import annotations

from datetime import date, datetime, timezone

from .. import store
from .quantiles import quantile

DIMENSIONS = {"procedure": "procedure_id", "service": "service_id", "counter": "counter_id", "clerk": "clerk_id"}
FIELDS = ("dossiers", "returned", "on_time_pct", "overdue_now", "days_early_median")


def _local_day(epoch: float, tz) -> date:
    return datetime.fromtimestamp(epoch, timezone.utc).astimezone(tz).date()


def figures(rows: list[dict], tz, today: date) -> dict:
    """The on-time fields of one group of dossier rows."""
    on_time = late = overdue = returned = 0
    early_days = []
    for row in rows:
        due = date.fromisoformat(row["due_date"])
        resolved_at = row["ready_at"] if row["ready_at"] is not None else row["returned_at"]
        returned += row["status"] == "returned"
        if resolved_at is None:
            if today > due:
                late += 1
                overdue += 1
            continue
        resolved = _local_day(resolved_at, tz)
        early_days.append(float((due - resolved).days))
        if resolved <= due:
            on_time += 1
        else:
            late += 1
    settled = on_time + late
    early_days.sort()
    return {"dossiers": len(rows), "returned": returned,
            "on_time_pct": round(100 * on_time / settled, 1) if settled else None,
            "overdue_now": overdue, "days_early_median": quantile(early_days, 1, 2) if early_days else None}


def by_dimension(db, centre_id: str, tz, date_from: date, date_to: date, by: str | None, now: float) -> dict:
    """{group id: fields} for a breakdown (`by` one of DIMENSIONS), or {None: fields} for the whole range."""
    rows = store.dossiers_for_stats(db, centre_id, date_from.isoformat(), date_to.isoformat())
    today = _local_day(now, tz)
    groups: dict = {}
    for row in rows:
        groups.setdefault(row[DIMENSIONS[by]] if by else None, []).append(row)
    return {key: figures(members, tz, today) for key, members in groups.items()}


def empty() -> dict:
    return figures([], timezone.utc, date.min)
