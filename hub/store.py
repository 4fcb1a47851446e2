"""The hub's only SQL: centres and tokens, ingesting a batch of events, province figures, the catalogue."""
from __future__ import annotations

import calendar
import hashlib
import secrets
import threading
from datetime import date, datetime, timedelta
from operator import add
from zoneinfo import ZoneInfo

import psycopg
from psycopg.types.json import Jsonb

from . import figures
from .figures import COUNT_FIELDS, SERVICE_ROW, Delta

CENTRE_ROW = "*"  # the `service` of a centre's own summary row (every ticket of the centre once)
MAX_BATCH = 5000
MAX_SEQ = 2 ** 62
EARLIEST_AT, LATEST_AT = 1577836800.0, 4102444800.0  # 2020-01-01 and 2100-01-01 UTC


class HubError(Exception):
    """A refused request: a readable message, a code and the HTTP status it maps to."""

    def __init__(self, message: str, code: str, status: int = 400, **extra):
        super().__init__(message)
        self.message, self.code, self.status, self.extra = message, code, status, extra


def connect(url: str, **kwargs) -> psycopg.Connection:
    return psycopg.connect(url, **kwargs)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


# ---- centres and tokens ---------------------------------------------------------------------------

def add_centre(conn, code: str, name: str) -> str:
    """Register a centre and return its shipping token (shown once; only its hash is kept)."""
    code, name = code.strip(), name.strip()
    if not code or len(code) > 40 or not all(ch.isalnum() or ch in "-_." for ch in code):
        raise HubError("Mã trung tâm chỉ gồm chữ, số, '-', '_' hoặc '.' (bad centre code)", "bad_code")
    if not name:
        raise HubError("Cần tên trung tâm (a name is required)", "bad_name")
    token = "hc_" + secrets.token_urlsafe(32)
    with conn.transaction():
        if conn.execute("SELECT 1 FROM centres WHERE code = %s", (code,)).fetchone():
            raise HubError(f"Trung tâm '{code}' đã có (centre exists)", "centre_exists", 409)
        conn.execute("INSERT INTO centres (code, name, token_hash) VALUES (%s, %s, %s)",
                     (code, name, token_hash(token)))
    return token


def add_manager_token(conn, name: str) -> str:
    """A province manager's bearer token (shown once)."""
    if not name.strip():
        raise HubError("Cần tên (a name is required)", "bad_name")
    token = "hm_" + secrets.token_urlsafe(32)
    with conn.transaction():
        conn.execute("INSERT INTO manager_tokens (name, token_hash) VALUES (%s, %s)", (name.strip(), token_hash(token)))
    return token


def centre_of_token(conn, token: str):
    return conn.execute("SELECT id, code FROM centres WHERE token_hash = %s", (token_hash(token),)).fetchone()


def manager_of_token(conn, token: str):
    return conn.execute("SELECT id, name FROM manager_tokens WHERE token_hash = %s AND revoked_at IS NULL",
                        (token_hash(token),)).fetchone()


def acked_seq(conn, centre_id: int) -> int:
    return conn.execute("SELECT acked_seq FROM centres WHERE id = %s", (centre_id,)).fetchone()[0]


# ---- partitions -----------------------------------------------------------------------------------

_known_partitions: set[tuple] = set()  # (host, port, database, partition) this process has seen
_partition_lock = threading.Lock()


def month_start(day: date) -> date:
    return day.replace(day=1)


def next_month(day: date) -> date:
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1)


def ensure_partitions(conn, months) -> None:
    """Create the monthly partitions (UTC months) of `events` these months need (own short transactions)."""
    for month in sorted(set(months)):
        name = f"events_{month:%Y_%m}"
        known = (conn.info.host, conn.info.port, conn.info.dbname, name)
        if known in _known_partitions:
            continue
        with _partition_lock, conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(2019)")  # several hub instances create a month once
            exists = conn.execute("SELECT to_regclass(%s)", (name,)).fetchone()[0]
            if exists is None:
                # bounds in UTC whatever the session's TimeZone, matching the UTC months the caller asks for
                conn.execute(f"CREATE TABLE {name} PARTITION OF events FOR VALUES FROM ('{month} 00:00:00+00') TO "
                             f"('{next_month(month)} 00:00:00+00')")
        _known_partitions.add(known)


def init_partitions(conn, today: date, back: int = 12, ahead: int = 2) -> None:
    month = month_start(today)
    months = [month]
    for _ in range(back):
        months.append(month_start(months[-1] - timedelta(days=1)))
    forward = month
    for _ in range(ahead):
        forward = next_month(forward)
        months.append(forward)
    ensure_partitions(conn, months)


# ---- ingest ---------------------------------------------------------------------------------------

def _text(value, limit: int = 200) -> str | None:
    return None if value is None else str(value)[:limit]


def _checked_events(payload: dict, after: int, through: int) -> list[dict]:
    events = payload.get("events")
    if not isinstance(events, list) or len(events) > MAX_BATCH:
        raise HubError(f"'events' phải là danh sách tối đa {MAX_BATCH} sự kiện (events: a list of at most "
                       f"{MAX_BATCH})", "bad_batch")
    previous = after
    checked = []
    for event in events:
        if not isinstance(event, dict):
            raise HubError("Sự kiện không hợp lệ (bad event)", "bad_event")
        seq = event.get("seq")
        if not isinstance(seq, int) or seq <= previous or seq > through:
            raise HubError("Số thứ tự sự kiện phải tăng dần trong (after, through] (seq out of order)", "bad_seq")
        previous = seq
        event = dict(event)
        checked.append(event)
        try:
            event["at"] = float(event["at"])
            event["day"] = date.fromisoformat(event["day"])
            event["hour"] = int(event.get("hour") or 0)
        except (KeyError, TypeError, ValueError):
            raise HubError("Sự kiện thiếu thời điểm hoặc ngày (event needs at and day)", "bad_event")
        if not 0 <= event["hour"] <= 23:
            raise HubError("Giờ phát số phải từ 0 đến 23 (hour out of range)", "bad_event")
        if not EARLIEST_AT <= event["at"] <= LATEST_AT:  # each month of events is a partition: no year 9999
            raise HubError("Thời điểm sự kiện ngoài 2020–2100 (event time out of range)", "bad_event")
        if not isinstance(event.get("ticket"), str) or not isinstance(event.get("kind"), str) \
                or not isinstance(event.get("for"), str):
            raise HubError("Sự kiện thiếu phiếu, loại hoặc lĩnh vực (event needs ticket, kind, for)", "bad_event")
        if event.get("detail") is not None and not isinstance(event["detail"], dict):
            raise HubError("'detail' phải là một đối tượng (detail must be an object)", "bad_event")
    return checked


def ingest(conn, centre_id: int, payload: dict, now: float) -> int:
    """Store one batch of a centre's events (those it already has are ignored) and fold them into the
    summaries, in one transaction; returns the highest sequence now stored (the acknowledgement)."""
    try:
        after, through = int(payload.get("after", -1)), int(payload.get("through", -1))
    except (TypeError, ValueError):
        after = through = -1
    if after < 0 or through < after or through > MAX_SEQ:
        raise HubError("Cần 'after' và 'through' (0 ≤ after ≤ through < 2^62)", "bad_batch")
    events = _checked_events(payload, after, through)
    months = {month_start(datetime.fromtimestamp(e["at"], ZoneInfo("UTC")).date()) for e in events}
    ensure_partitions(conn, months)
    with conn.transaction():
        row = conn.execute("SELECT acked_seq, timezone, services, procedures FROM centres WHERE id = %s FOR UPDATE",
                           (centre_id,)).fetchone()
        acked, timezone, services, procedures = row
        if after > acked:
            raise HubError(f"Hub chỉ có đến sự kiện {acked}; gửi lại từ đó (gap: resend from {acked})", "gap", 409,
                           acked=acked)
        centre = payload.get("centre") or {}
        if isinstance(centre.get("timezone"), str):
            try:
                ZoneInfo(centre["timezone"])
                timezone = centre["timezone"]
            except (ValueError, KeyError):
                pass
        known = (services, procedures)
        if isinstance(payload.get("services"), dict):
            services = {**services, **payload["services"]}
        if isinstance(payload.get("procedures"), dict):
            procedures = {**procedures, **payload["procedures"]}
        fresh = [event for event in events if event["seq"] > acked]
        stored = _insert_events(conn, centre_id, fresh) if fresh else set()
        fresh = [event for event in fresh if event["seq"] in stored]
        if fresh:
            _fold(conn, centre_id, fresh, services, ZoneInfo(timezone))
        _update_centre(conn, centre_id, payload, fresh, max(acked, through), timezone,
                       None if (services, procedures) == known else (services, procedures), now)
        return max(acked, through)


def _insert_events(conn, centre_id: int, events: list[dict]) -> set[int]:
    rows = conn.execute(
        """INSERT INTO events (centre_id, seq, at, kind, ticket, local_day, service, counter, detail)
           SELECT %s, seq, to_timestamp(at), kind, ticket, local_day, service, counter, detail
           FROM unnest(%s::bigint[], %s::double precision[], %s::text[], %s::text[], %s::date[], %s::text[],
                       %s::text[], %s::jsonb[]) AS e(seq, at, kind, ticket, local_day, service, counter, detail)
           ON CONFLICT DO NOTHING RETURNING seq""",
        (centre_id, [e["seq"] for e in events], [e["at"] for e in events], [_text(e["kind"], 40) for e in events],
         [_text(e["ticket"], 80) for e in events], [e["day"] for e in events],
         [_text(e.get("service"), 40) for e in events], [_text(e.get("counter"), 80) for e in events],
         [Jsonb(e["detail"]) if e.get("detail") else None for e in events])).fetchall()
    return {seq for (seq,) in rows}


def _log_entry(event: dict) -> list:
    detail = event.get("detail") or {}
    score = detail.get("score") if event["kind"] == "rated" else None
    return [event["kind"], event["at"], event.get("service"), event.get("counter"), event.get("to"), score]


def _fold(conn, centre_id: int, events: list[dict], services: dict, tz: ZoneInfo) -> None:
    """Grow each touched ticket's log, and move its share in the daily and monthly rows from old to new."""
    by_ticket: dict[str, list[dict]] = {}
    for event in events:
        by_ticket.setdefault(event["ticket"], []).append(event)
    existing = {row[0]: row[1:] for row in conn.execute(
        """SELECT ticket, local_day, local_hour, service, log, procedures FROM tickets
           WHERE centre_id = %s AND ticket = ANY(%s)""", (centre_id, list(by_ticket)))}
    deltas: dict[tuple, Delta] = {}

    def delta(day: date, service: str, procedure: str) -> Delta:
        key = (day, service, procedure)
        found = deltas.get(key)
        if found is None:
            found = deltas[key] = Delta()
        return found

    def move(facts, sign: int) -> None:
        target = (services.get(facts.service_id) or {}).get("target_wait_s")
        share = figures.share_of(facts, target)
        day = facts.local_day
        delta(day, CENTRE_ROW, SERVICE_ROW).add_share(share, sign)
        for service, procedure in figures.ticket_rows(facts):
            delta(day, service, procedure).add_share(share, sign)

    ticket_rows, dossier_events = [], []
    for ticket, new_events in by_ticket.items():
        if ticket in existing:
            local_day, local_hour, service, log, procedures = existing[ticket]
            move(figures.facts_of(ticket, local_day, local_hour, service, log, procedures), -1)
        else:
            first = new_events[0]
            local_day, local_hour, service, log, procedures = first["day"], first["hour"], first["for"], [], []
        log = log + [_log_entry(event) for event in new_events]
        procedures = list(procedures)
        for event in new_events:
            detail = event.get("detail") or {}
            if event["kind"] == "finished" and isinstance(detail.get("procedures"), list):
                procedures += [str(code)[:40] for code in detail["procedures"] if str(code)[:40] not in procedures]
            if event["kind"].startswith("dossier_"):
                dossier_events.append(event)
        facts = figures.facts_of(ticket, local_day, local_hour, service, log, procedures)
        move(facts, +1)
        ticket_rows.append((ticket, local_day, local_hour, service, facts.status, Jsonb(log), Jsonb(procedures)))
    columns = list(zip(*ticket_rows))
    conn.execute(
        """INSERT INTO tickets (centre_id, ticket, local_day, local_hour, service, status, log, procedures)
           SELECT %s, * FROM unnest(%s::text[], %s::date[], %s::smallint[], %s::text[], %s::text[], %s::jsonb[],
                                    %s::jsonb[])
           ON CONFLICT (centre_id, ticket) DO UPDATE SET status = EXCLUDED.status, log = EXCLUDED.log,
               procedures = EXCLUDED.procedures""", (centre_id, *(list(column) for column in columns)))
    if dossier_events:
        _fold_dossiers(conn, centre_id, dossier_events, tz, delta)
    _apply_deltas(conn, centre_id, deltas)


def _fold_dossiers(conn, centre_id: int, events: list[dict], tz: ZoneInfo, delta) -> None:
    """Dossiers received, ready and returned; each completed one counts once, on its completion day."""
    keys = [key for key in dict.fromkeys(str((e.get("detail") or {}).get("dossier") or "") for e in events) if key]
    rows = {row[0]: list(row[1:]) for row in conn.execute(
        """SELECT dossier, service, procedure, due_date, ready_day, returned_day FROM dossiers
           WHERE centre_id = %s AND dossier = ANY(%s)""", (centre_id, keys))}
    before = {key: list(row) for key, row in rows.items()}
    for event in events:
        detail = event.get("detail") or {}
        key = str(detail.get("dossier") or "")
        if not key:
            continue
        row = rows.setdefault(key, [event["for"], None, None, None, None])
        local_date = datetime.fromtimestamp(event["at"], tz).date()
        if event["kind"] == "dossier_received":
            row[1] = _text(detail.get("procedure"), 40) or row[1]
            try:
                row[2] = date.fromisoformat(str(detail.get("due_date")))
            except ValueError:
                pass
        elif event["kind"] == "dossier_ready" and row[3] is None:
            row[3] = local_date
        elif event["kind"] == "dossier_returned" and row[4] is None:
            row[4] = local_date

    def count(row, sign: int) -> None:
        service, procedure, due, ready, returned = row
        result = figures.on_time(due, ready, returned)
        if result is None:
            return
        done_day = ready or returned
        for service_key, procedure_key in ((CENTRE_ROW, SERVICE_ROW), (service, SERVICE_ROW), (service, procedure)):
            if procedure_key is None:
                continue
            counts = delta(done_day, service_key, procedure_key).counts
            counts[figures.C_DOSSIERS_DONE] += sign
            counts[figures.C_DOSSIERS_ON_TIME] += sign * int(result)

    for key, row in rows.items():
        if key in before:
            count(before[key], -1)
        count(row, +1)
    with conn.cursor() as cursor:
        cursor.executemany(
            """INSERT INTO dossiers (centre_id, dossier, service, procedure, due_date, ready_day, returned_day)
               VALUES (%s, %s, %s, %s, %s, %s, %s)
               ON CONFLICT (centre_id, dossier) DO UPDATE SET procedure = EXCLUDED.procedure,
                   due_date = EXCLUDED.due_date, ready_day = EXCLUDED.ready_day, returned_day = EXCLUDED.returned_day""",
            [(centre_id, key, *row) for key, row in rows.items()])


def _apply_deltas(conn, centre_id: int, deltas: dict[tuple, Delta]) -> None:
    """Add a batch's changes to the centre's daily and monthly rows: read, add in Python, write back.

    Safe without further locks: every summary row belongs to one centre, and `ingest` holds that centre's
    row lock (FOR UPDATE) for the whole transaction, so no other batch writes these rows meanwhile. Adding
    sparse changes in Python costs far less than elementwise array sums in SQL on every upsert."""
    daily: dict[tuple, Delta] = {}
    monthly: dict[tuple, Delta] = {}
    for (day, service, procedure), change in deltas.items():
        if change.is_empty():
            continue
        daily[(day, service, procedure)] = change
        monthly.setdefault((month_start(day), service, procedure), Delta()).merge(change)
    for table, column, changes in (("daily", "day", daily), ("monthly", "month", monthly)):
        if not changes:
            continue
        stored = {(row[0], row[1], row[2]): row[3:] for row in conn.execute(
            f"""SELECT {column}, service, procedure, counts, sums, wait_hist, service_hist FROM {table}
                WHERE centre_id = %s AND {column} = ANY(%s)""",
            (centre_id, sorted({key[0] for key in changes})))}
        params = []
        for key in sorted(changes):
            counts, sums, wait, service_hist = stored.get(key, ([], [], b"", b""))
            change = changes[key]
            params.append((centre_id, *key, _summed(list(counts), change.counts), _summed(list(sums), change.sums),
                           figures.pack_histogram(_added(list(figures.unpack_histogram(wait)), change.wait_hist)),
                           figures.pack_histogram(_added(list(figures.unpack_histogram(service_hist)),
                                                         change.service_hist))))
        with conn.cursor() as cursor:
            cursor.executemany(
                f"""INSERT INTO {table} (centre_id, {column}, service, procedure, counts, sums, wait_hist, service_hist)
                    VALUES (%s, %s, %s, %s, %s::bigint[], %s::double precision[], %s, %s)
                    ON CONFLICT (centre_id, {column}, service, procedure) DO UPDATE SET
                        counts = EXCLUDED.counts, sums = EXCLUDED.sums, wait_hist = EXCLUDED.wait_hist,
                        service_hist = EXCLUDED.service_hist""", params)


def _added(histogram: list, changes: dict[int, int]) -> list:
    """A histogram with sparse bucket changes added (it grows to the highest bucket changed)."""
    if changes:
        highest = max(changes) + 1
        if highest > len(histogram):
            histogram.extend([0] * (highest - len(histogram)))
        for bucket, count in changes.items():
            histogram[bucket] += count
    return histogram


def _update_centre(conn, centre_id: int, payload: dict, fresh: list[dict], acked: int, timezone: str,
                   names: tuple[dict, dict] | None, now: float) -> None:
    """The centre's cursor, counts, live state and contact times; its names only when they changed."""
    live = payload.get("live") if isinstance(payload.get("live"), dict) else {}
    live = {key: live.get(key) for key in ("waiting", "longest_wait_s", "open_counters", "pending")
            if isinstance(live.get(key), (int, float))}
    oldest_pending = (payload.get("live") or {}).get("oldest_pending_at") if isinstance(payload.get("live"), dict) \
        else None
    services, procedures = names or (None, None)
    conn.execute(
        """UPDATE centres SET acked_seq = %s, events = events + %s,
               last_event_at = GREATEST(last_event_at, %s), last_contact_at = %s, behind_since = %s,
               live = %s, timezone = %s, services = COALESCE(%s, services), procedures = COALESCE(%s, procedures)
           WHERE id = %s""",
        (acked, len(fresh), max((e["at"] for e in fresh), default=None), now,
         float(oldest_pending) if isinstance(oldest_pending, (int, float)) else None,
         Jsonb(live), timezone, Jsonb(services) if names else None, Jsonb(procedures) if names else None,
         centre_id))


# ---- what the province reads ----------------------------------------------------------------------

def centres(conn, now: float) -> list[dict]:
    rows = conn.execute("""SELECT code, name, last_event_at, events, last_contact_at, behind_since, live
                           FROM centres ORDER BY code""").fetchall()
    answer = []
    for code, name, last_event_at, events, last_contact_at, behind_since, live in rows:
        answer.append({"code": code, "name": name, "last_event_at": _iso(last_event_at), "events": events,
                       "lag_s": lag_of(now, last_contact_at, behind_since), "live": live})
    return answer


def lag_of(now: float, last_contact_at, behind_since) -> float | None:
    """How far the hub's copy may be behind: the age of the oldest event the centre had not sent at its last
    batch, or, when it had sent everything, the time since that batch (None before the first one)."""
    if behind_since is not None:
        return round(max(0.0, now - behind_since), 1)
    if last_contact_at is None:
        return None
    return round(max(0.0, now - last_contact_at), 1)


def _iso(epoch) -> str | None:
    return None if epoch is None else datetime.fromtimestamp(epoch, ZoneInfo("UTC")).isoformat()


def live(conn) -> list[dict]:
    rows = conn.execute("SELECT code, name, live, last_event_at FROM centres ORDER BY code").fetchall()
    return [{"code": code, "name": name, "waiting": state.get("waiting"), "longest_wait_s": state.get("longest_wait_s"),
             "open_counters": state.get("open_counters"), "as_of": _iso(last_event_at)}
            for code, name, state, last_event_at in rows]


def split_range(first: date, last: date) -> tuple[list[date], list[date]]:
    """Whole calendar months inside [first, last] (read from `monthly`) and the days left over (from `daily`)."""
    months, days = [], []
    day = first
    while day <= last:
        month_end = day.replace(day=calendar.monthrange(day.year, day.month)[1])
        if day.day == 1 and month_end <= last:
            months.append(day)
            day = month_end + timedelta(days=1)
        else:
            days.append(day)
            day += timedelta(days=1)
    return months, days


BY = ("centre", "service", "procedure")


def stats(conn, first: date, last: date, by: str) -> dict:
    """The province's rows by centre, service or procedure over issue days first..last (both included)."""
    months, days = split_range(first, last)
    if by == "centre":
        where = "service = %s AND procedure = ''"
        where_args = (CENTRE_ROW,)
    elif by == "service":
        where = "service <> %s AND procedure = ''"
        where_args = (CENTRE_ROW,)
    else:
        where = "service <> %s AND procedure <> ''"
        where_args = (CENTRE_ROW,)
    sql = f"""SELECT centre_id, service, procedure, counts, sums, wait_hist, service_hist FROM monthly
              WHERE month = ANY(%s) AND {where}
              UNION ALL
              SELECT centre_id, service, procedure, counts, sums, wait_hist, service_hist FROM daily
              WHERE day = ANY(%s) AND {where}"""
    totals: dict = {}
    with conn.cursor(binary=True) as cursor:
        cursor.execute(sql, (months, *where_args, days, *where_args))
        for centre_id, service, procedure, counts, sums, wait_hist, service_hist in cursor:
            key = centre_id if by == "centre" else service if by == "service" else (service, procedure)
            wait_hist, service_hist = figures.unpack_histogram(wait_hist), figures.unpack_histogram(service_hist)
            total = totals.get(key)
            if total is None:
                totals[key] = [list(counts), list(sums), list(wait_hist), list(service_hist)]
                continue
            for position, values in enumerate((counts, sums, wait_hist, service_hist)):
                total[position] = _summed(total[position], values)
    return {"rows": _rows(conn, by, totals)}


def _summed(mine: list, values) -> list:
    """Elementwise mine + values; the shorter one counts as padded with zeros (histograms are trimmed)."""
    if len(values) > len(mine):
        mine, values = values, mine
    return list(map(add, mine, values)) + list(mine[len(values):])


def _rows(conn, by: str, totals: dict) -> list[dict]:
    centre_rows = conn.execute("SELECT id, code, name, services, procedures FROM centres ORDER BY code").fetchall()
    empty = [[0] * COUNT_FIELDS, [0.0, 0.0], [], []]
    rows = []
    if by == "centre":
        for centre_id, code, name, _services, _procedures in centre_rows:
            counts, sums, wait, service = totals.get(centre_id, empty)
            rows.append({"key": code, "label": name, **figures.figures(_padded(counts), sums, wait, service)})
        return rows
    labels: dict = {}
    for _id, _code, _name, services, procedures in centre_rows:
        if by == "service":
            labels.update({code: (info or {}).get("name") or code for code, info in services.items()})
        else:
            labels.update({code: ((info or {}).get("name") or code, (info or {}).get("service"))
                           for code, info in procedures.items()})
    if by == "service":
        for code in sorted(set(labels) | set(totals)):
            counts, sums, wait, service = totals.get(code, empty)
            rows.append({"key": code, "label": labels.get(code, code),
                         **figures.figures(_padded(counts), sums, wait, service)})
        return rows
    merged: dict = {}
    for (service_code, procedure), total in totals.items():
        merged.setdefault(procedure, (service_code, []))[1].append(total)
    for code in sorted(set(labels) | set(merged)):
        service_code, parts = merged.get(code, ((labels.get(code) or (None, None))[1], []))
        counts, sums, wait, service = [0] * COUNT_FIELDS, [0.0, 0.0], [], []
        for part in parts:
            figures.add_into(counts, part[0])
            figures.add_into(sums, part[1])
            figures.add_into(wait, part[2])
            figures.add_into(service, part[3])
        label = (labels.get(code) or (code, None))[0]
        rows.append({"key": code, "label": label, "service": service_code,
                     **figures.figures(_padded(counts), sums, wait, service, counts_issued=False)})
    return rows


def _padded(counts: list) -> list:
    return list(counts) + [0] * (COUNT_FIELDS - len(counts))


# ---- the catalogue --------------------------------------------------------------------------------

def publish_catalogue(conn, data: dict, note: str = "") -> int:
    with conn.transaction():
        return conn.execute("INSERT INTO catalogue (data, note) VALUES (%s, %s) RETURNING version",
                            (Jsonb(data), note)).fetchone()[0]


def latest_catalogue(conn) -> dict | None:
    row = conn.execute("SELECT version, published_at, note, data FROM catalogue ORDER BY version DESC LIMIT 1").fetchone()
    if row is None:
        return None
    version, published_at, note, data = row
    return {"version": version, "published_at": published_at.isoformat(), "note": note, **data}
