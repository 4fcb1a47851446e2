"""A realistic past for the demo centre, made by driving QueueService with a simulated clock.

Every ticket is issued, called, recalled, started, transferred, finished, marked absent and
rated through the same QueueService commands a kiosk and the clerks use, so the tickets, the event
log, the procedures and the statistics are all real; only the clock is simulated.

The simulated centre works Monday to Friday 07:30–11:30 and 13:30–17:00 (numbers until 16:45)
and Saturday mornings; arrivals peak mid-morning. Each service has its own share of the day and
its own service times (chứng thực 3–5 min, hộ tịch 8–15, đất đai 15–30, ...). About 4.5% of
called citizens never come (recalled, then marked no-show), some come only after a recall, ~3%
of tickets are transferred to a related service, and ~40% of finished tickets are rated (mostly
3 or 2, more 1s after a long wait). The clerks quay1..quayN sign in at their counters each day
and sign out at closing; missing clerk accounts are created.

Every generated ticket has is_demo = 1, and the generator's sign-in/sign-out rows in
counter_events carry reason = 'demo_history', so `delete_demo` removes exactly what was generated.

Safety: history always ends before today (the live queue is never touched), and `generate`
refuses when tickets already exist on any day of the period (pass replace=True to delete the
previous demo history first), when a clerk is signed in, or while live tickets are waiting or at
a counter (a counter of the simulation would call them).
"""
from __future__ import annotations

import heapq
import random
import time
from collections import Counter
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from . import accounts, stats, store
from .dossiers import DossierDesk, add_working_days
from .model import Conflict, QueueError, Role
from .service import QueueService

DEMO_REASON = "demo_history"

# Share of a day's tickets by service code, and service time range in minutes (unknown services
# use their configured default service time).
SERVICE_SHARES = {"CT": 88, "TP": 40, "CA_CT": 25, "CA_CC": 20, "DD": 12, "XD": 5, "KD": 18, "BTXH": 12,
                  "LLTP": 12, "GT": 15, "BHXH": 15, "TKQ": 15}
DEFAULT_SHARE = 10
SERVICE_MINUTES = {"CT": (3, 5), "TP": (8, 15), "CA_CT": (6, 12), "CA_CC": (5, 10), "DD": (15, 30),
                   "XD": (12, 25), "KD": (10, 20), "BTXH": (8, 15), "LLTP": (4, 8), "GT": (5, 10),
                   "BHXH": (6, 12), "TKQ": (1, 3)}
# A clerk sends the citizen to the related field when the dossier needs it first.
TRANSFER_TO = {"TP": "CT", "CT": "TP", "CA_CT": "CA_CC", "CA_CC": "CA_CT", "DD": "XD", "XD": "DD",
               "KD": "BTXH", "BTXH": "KD", "LLTP": "CT", "GT": "CT", "BHXH": "CT"}

# (start, end, relative arrival rate) in local minutes after midnight.
WEEKDAY_PROFILE = [(7 * 60 + 30, 8 * 60, 0.55), (8 * 60, 9 * 60, 0.9), (9 * 60, 10 * 60, 1.0),
                   (10 * 60, 11 * 60, 0.8), (11 * 60, 11 * 60 + 30, 0.45), (13 * 60 + 30, 14 * 60 + 30, 0.5),
                   (14 * 60 + 30, 16 * 60, 0.55), (16 * 60, 16 * 60 + 45, 0.35)]
SATURDAY_PROFILE = WEEKDAY_PROFILE[:5]
# Monday is the busiest day; Saturday has only a morning.
WEEKDAY_VOLUME = {0: 1.15, 1: 1.05, 2: 1.0, 3: 0.95, 4: 0.9, 5: 0.35}
SIGN_IN_MINUTE = 7 * 60 + 25
CLOSING_MINUTE = {5: 11 * 60 + 30}
DEFAULT_CLOSING_MINUTE = 17 * 60

NO_SHOW_SHARE = 0.045
LATE_SHARE = 0.07  # come only after one recall
TRANSFER_SHARE = 0.03
RATED_SHARE = 0.4
PRIORITY_SHARE = 0.05
# Dossiers (issue 16): receptions of a procedure with a time limit leave one; most results are ready on
# time, a few late; most are collected within days, a few by post; fees are paid by transfer or in cash.
DOSSIER_SHARE = 0.8
DOSSIER_LATE_SHARE = 0.04
DOSSIER_POSTED_SHARE = 0.1
DOSSIER_TRANSFER_SHARE = 0.55
DOSSIER_AGENCY = "000.00.30.H56"


class _Clock:
    """The simulated time QueueService reads."""

    def __init__(self):
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _local_epoch(day: date, minute: float, tz: ZoneInfo) -> float:
    return datetime(day.year, day.month, day.day, tzinfo=tz).timestamp() + minute * 60


def _local_today(tz: ZoneInfo) -> date:
    return datetime.now(tz).date()


class _Simulation:
    """One centre's days played through QueueService, event by event in time order."""

    def __init__(self, db, centre_id: str, rng: random.Random, daily_tickets: int):
        self.db = db
        self.clock = _Clock()
        self.queue = QueueService(db, centre_id, clock=self.clock)
        self.tz = self.queue.tz
        self.rng = rng
        self.daily_tickets = daily_tickets
        # counter id -> the service codes it calls; counters serving nothing stay closed
        self.codes_of = {counter["id"]: frozenset(counter["services"])
                         for counter in store.counters(db, centre_id) if counter["services"]}
        self.clerks: dict[int, int] = {}  # counter id -> clerk id, set by generate()
        served_codes = set().union(*self.codes_of.values())
        self.services = {row["code"]: row for row in store.services(db, centre_id) if row["code"] in served_codes}
        self.procedures: dict[str, list[str]] = {}
        for row in store.procedures(db, centre_id):
            self.procedures.setdefault(row["service_code"], []).append(row["code"])
        self.services = {code: row for code, row in self.services.items() if self.procedures.get(code)}
        self.codes = sorted(self.services)
        self.shares = [SERVICE_SHARES.get(code, DEFAULT_SHARE) for code in self.codes]
        self.priorities = [row["code"] for row in store.priority_groups(db, centre_id)]
        self.totals = Counter()
        self.issued_at: dict[str, float] = {}
        self.legal_days = {row["code"]: row["legal_days"] for row in store.procedures(db, centre_id)}
        self.dossiers = DossierDesk(self.queue)
        self.later_days: list = []  # (moment, action, code): dossier results on a later day

    # ---- one day --------------------------------------------------------------------------

    def play_day(self, day: date) -> None:
        """Open the counters, let the day's citizens come and be served, close the counters."""
        profile = SATURDAY_PROFILE if day.weekday() == 5 else WEEKDAY_PROFILE
        self.heap: list = []
        self.sequence = 0
        self.dossier_sequence = 0
        self.day = day
        end_of_day = _local_epoch(day + timedelta(days=1), 0, self.tz)
        for moment, action, code in [item for item in self.later_days if item[0] < end_of_day]:
            self._at(moment, action, code)
        self.later_days = [item for item in self.later_days if item[0] >= end_of_day]
        self.idle: set[int] = set()
        self.waiting = Counter()
        self.last_activity: dict[int, float] = {}
        self.clock.now = _local_epoch(day, SIGN_IN_MINUTE, self.tz)
        for counter_id, clerk_id in self.clerks.items():
            self.queue.sign_in(counter_id, clerk_id)
            self.idle.add(counter_id)
        expected = self.daily_tickets * WEEKDAY_VOLUME[day.weekday()] * self.rng.uniform(0.9, 1.1)
        weights = [(end - start) * rate for start, end, rate in profile]
        for _ in range(max(0, round(expected))):
            start, end, _rate = self.rng.choices(profile, weights)[0]
            minute = self.rng.uniform(start, end)
            code = self.rng.choices(self.codes, self.shares)[0]
            priority = None
            if self.priorities and self.rng.random() < PRIORITY_SHARE:
                priority = self.rng.choice(self.priorities)
            self._at(_local_epoch(day, minute, self.tz), "arrive", code, priority)
        while self.heap:
            moment, _, action, arguments = heapq.heappop(self.heap)
            self.clock.now = moment
            getattr(self, "_" + action)(*arguments)
        closing = _local_epoch(day, CLOSING_MINUTE.get(day.weekday(), DEFAULT_CLOSING_MINUTE), self.tz)
        for counter_id, clerk_id in self.clerks.items():
            self.clock.now = max(closing, self.last_activity.get(counter_id, closing) + 60)
            self.queue.sign_out(counter_id, clerk_id)

    def _at(self, moment: float, action: str, *arguments) -> None:
        self.sequence += 1  # ties keep the order they were planned in
        heapq.heappush(self.heap, (moment, self.sequence, action, arguments))

    def _later(self, low: float, high: float, action: str, *arguments) -> None:
        self._at(self.clock.now + self.rng.uniform(low, high), action, *arguments)

    def _clerk(self, counter_id: int) -> int:
        return self.clerks[counter_id]

    def _wake(self, code: str) -> None:
        """An idle counter that serves this service notices the new ticket."""
        ready = [counter_id for counter_id in sorted(self.idle) if code in self.codes_of[counter_id]]
        if ready:
            counter_id = self.rng.choice(ready)
            self.idle.discard(counter_id)
            self._later(5, 30, "call", counter_id)

    # ---- actions ----------------------------------------------------------------------------

    def _arrive(self, code: str, priority) -> None:
        try:
            ticket = self.queue.issue_ticket(code, priority=priority, is_demo=True).result
        except Conflict:  # outside a configured opening hour or past a daily cap: the citizen goes home
            return
        self.issued_at[ticket["id"]] = self.clock.now
        self.totals["tickets"] += 1
        self.waiting[code] += 1
        self._wake(code)

    def _call(self, counter_id: int) -> None:
        codes = self.codes_of[counter_id]
        if not any(self.waiting[code] for code in codes):
            self.idle.add(counter_id)
            return
        ticket = self.queue.call_next(counter_id, self._clerk(counter_id)).result["ticket"]
        if ticket is None:
            self.idle.add(counter_id)
            return
        if ticket["id"] not in self.issued_at:
            raise QueueError("Quầy mô phỏng đã gọi một phiếu thật; dừng tạo lịch sử demo "
                             "(the simulation called a live ticket)", code="live_ticket_called")
        self.waiting[ticket["service"]] -= 1
        self.last_activity[counter_id] = self.clock.now
        draw = self.rng.random()
        if draw < NO_SHOW_SHARE:
            self._later(50, 70, "recall", counter_id, ticket, self.rng.choice((1, 2)), False)
        elif draw < NO_SHOW_SHARE + LATE_SHARE:
            self._later(50, 70, "recall", counter_id, ticket, 1, True)
        else:
            self._later(20, 90, "start", counter_id, ticket)

    def _recall(self, counter_id: int, ticket: dict, remaining: int, comes: bool) -> None:
        self.queue.recall(ticket["id"], counter_id, self._clerk(counter_id))
        self.totals["recalls"] += 1
        if remaining > 1:
            self._later(50, 70, "recall", counter_id, ticket, remaining - 1, comes)
        elif comes:
            self._later(15, 60, "start", counter_id, ticket)
        else:
            self._later(50, 70, "no_show", counter_id, ticket)

    def _no_show(self, counter_id: int, ticket: dict) -> None:
        self.queue.no_show(ticket["id"], counter_id, self._clerk(counter_id))
        self.totals["no_show"] += 1
        self._next(counter_id)

    def _start(self, counter_id: int, ticket: dict) -> None:
        self.queue.start(ticket["id"], counter_id, self._clerk(counter_id))
        code = ticket["service"]
        duration = self._service_seconds(code)
        target = TRANSFER_TO.get(code)
        if target in self.services and target != code and self.rng.random() < TRANSFER_SHARE:
            self._at(self.clock.now + duration * self.rng.uniform(0.2, 0.5), "transfer", counter_id, ticket, target)
        else:
            self._at(self.clock.now + duration, "finish", counter_id, ticket)

    def _transfer(self, counter_id: int, ticket: dict, target: str) -> None:
        self.queue.transfer(ticket["id"], counter_id, self._clerk(counter_id), service=target)
        self.totals["transferred"] += 1
        self.waiting[target] += 1
        self._wake(target)
        self._next(counter_id)

    def _finish(self, counter_id: int, ticket: dict) -> None:
        procedures = self._procedures(ticket["service"])
        dossier = self._dossier_of(procedures)
        finished = self.queue.finish(ticket["id"], counter_id, self._clerk(counter_id), procedures,
                                     dossier=dossier).result
        if dossier:
            self._follow(finished["ticket"]["dossier"])
        self.totals["served"] += 1
        if self.rng.random() < RATED_SHARE:
            waited = self.clock.now - self.issued_at[ticket["id"]]
            # A long wait shows in the rating.
            weights = (15, 35, 50) if waited > 45 * 60 else (4, 24, 72)
            self._later(3, 20, "rate", ticket["id"], self.rng.choices((1, 2, 3), weights)[0])
        self._next(counter_id)

    def _dossier_of(self, procedures: list[str]) -> dict | None:
        """The dossier a reception leaves: the first procedure handled with a time limit of days, mostly."""
        procedure = next((code for code in procedures if (self.legal_days.get(code) or 0) >= 1), None)
        if procedure is None or self.rng.random() >= DOSSIER_SHARE:
            return None
        self.dossier_sequence += 1
        return {"code": f"{DOSSIER_AGENCY}-{self.day:%y%m%d}-{self.dossier_sequence:04d}", "procedure": procedure}

    def _follow(self, dossier: dict) -> None:
        """The fee paid now; the result ready by (rarely after) its due date, then collected or posted."""
        self.totals["dossiers"] += 1
        if dossier["fee"]:
            method = "transfer" if self.rng.random() < DOSSIER_TRANSFER_SHARE else "cash"
            self.dossiers.mark_paid(dossier["code"], method)
        due = date.fromisoformat(dossier["due_date"])
        working = [self.day + timedelta(days=n) for n in range(1, (due - self.day).days + 1)]
        working = [day for day in working if day.weekday() < 5] or [due]
        ready = self.rng.choice(working[len(working) // 2:])
        if self.rng.random() < DOSSIER_LATE_SHARE:
            ready = add_working_days(due, self.rng.randint(1, 3), set())
        collected = add_working_days(ready, self.rng.choice((0, 0, 1, 1, 2, 3, 5)), set())
        self.later_days.append((_local_epoch(ready, self.rng.uniform(8 * 60, 11 * 60), self.tz), "dossier_ready",
                                dossier["code"]))
        self.later_days.append((_local_epoch(collected, self.rng.uniform(13 * 60 + 30, 16 * 60 + 30), self.tz),
                                "dossier_returned", dossier["code"]))

    def _dossier_ready(self, code: str) -> None:
        self.dossiers.mark_ready(code)

    def _dossier_returned(self, code: str) -> None:
        self.dossiers.mark_returned(code, by_post=self.rng.random() < DOSSIER_POSTED_SHARE)
        self.totals["dossiers_returned"] += 1

    def _rate(self, ticket_id: str, score: int) -> None:
        self.queue.rate(ticket_id, score)
        self.totals["rated"] += 1

    def _next(self, counter_id: int) -> None:
        self.last_activity[counter_id] = self.clock.now
        self._later(10, 40, "call", counter_id)

    # ---- samples ----------------------------------------------------------------------------

    def _service_seconds(self, code: str) -> float:
        if code in SERVICE_MINUTES:
            low, high = SERVICE_MINUTES[code]
            return 60 * self.rng.triangular(low, high, low + (high - low) * 0.35)
        return self.services[code]["default_service_s"] * self.rng.uniform(0.6, 1.4)

    def _procedures(self, code: str) -> list[str]:
        choices = self.procedures[code]
        wanted = min(len(choices), self.rng.choices((1, 2, 3), (80, 16, 4))[0])
        weights = [1 / (index + 1) for index in range(len(choices))]  # the first procedures are the common ones
        picked: list[str] = []
        while len(picked) < wanted:
            code_picked = self.rng.choices(choices, weights)[0]
            if code_picked not in picked:
                picked.append(code_picked)
        return picked


def _clerks(db, centre_id: str, counter_ids, now: float) -> tuple[dict[int, int], list[str]]:
    """The clerk quayN of each counter N, created when missing."""
    numbers = {row["id"]: row["number"] for row in store.counters(db, centre_id)}
    clerks, created = {}, []
    for counter_id in counter_ids:
        username = f"quay{numbers[counter_id]}"
        user_id = store.scalar(db, "SELECT id FROM users WHERE centre_id = ? AND username = ? AND active = 1",
                               (centre_id, username))
        if user_id is None:
            user_id = accounts.create_user(db, centre_id, username, accounts.new_password(), Role.CLERK.value,
                                           f"Cán bộ quầy {numbers[counter_id]}", now)
            created.append(username)
        clerks[counter_id] = user_id
    return clerks, created


def _refuse_if_clerks_signed_in(db, centre_id: str) -> None:
    if store.scalar(db, "SELECT COUNT(*) FROM counters WHERE centre_id = ? AND clerk_id IS NOT NULL", (centre_id,)):
        raise Conflict("Có cán bộ đang đăng nhập tại quầy; hãy đăng xuất trước khi tạo lịch sử demo "
                       "(a clerk is signed in)", code="counters_open")


def _refuse_unless_quiet(db, centre_id: str, first_day: date, last_day: date) -> None:
    if store.scalar(db, "SELECT COUNT(*) FROM tickets WHERE centre_id = ? AND local_day BETWEEN ? AND ?",
                    (centre_id, first_day.isoformat(), last_day.isoformat())):
        raise Conflict("Đã có phiếu trong khoảng ngày này; xoá lịch sử demo trước hoặc dùng replace=True "
                       "(history already exists for these days)", code="history_exists")
    if store.scalar(db, """SELECT COUNT(*) FROM tickets WHERE centre_id = ?
                           AND status IN ('waiting', 'called', 'serving')""", (centre_id,)):
        raise Conflict("Còn phiếu đang chờ hoặc đang phục vụ; tạo lịch sử demo khi hàng đợi trống "
                       "(live tickets are still open)", code="queue_not_empty")


def generate(db, centre_id: str, days: int, seed: int = 1, end_day: date | None = None, *,
             daily_tickets: int = 210, replace: bool = False, today: date | None = None) -> dict:
    """Play `days` calendar days of history ending at `end_day` (default yesterday) through QueueService.

    `today` is the centre's local date (the real one by default; an app with a fixed clock passes its own).
    """
    if not isinstance(days, int) or isinstance(days, bool) or not 1 <= days <= 3660:
        raise QueueError("Số ngày phải từ 1 đến 3660 (days must be 1..3660)", code="bad_days")
    if not isinstance(daily_tickets, int) or daily_tickets < 0:
        raise QueueError("Số phiếu mỗi ngày phải là số không âm (daily_tickets must be >= 0)", code="bad_volume")
    started = time.perf_counter()
    rng = random.Random(seed)
    simulation = _Simulation(db, centre_id, rng, daily_tickets)
    today = today or _local_today(simulation.tz)
    end_day = end_day or today - timedelta(days=1)
    if end_day >= today:
        raise QueueError("Lịch sử demo phải kết thúc trước hôm nay (history must end before today)",
                         code="bad_range")
    first_day = end_day - timedelta(days=days - 1)
    _refuse_if_clerks_signed_in(db, centre_id)
    if replace:
        delete_demo(db, centre_id)
    _refuse_unless_quiet(db, centre_id, first_day, end_day)
    simulation.clerks, created = _clerks(db, centre_id, sorted(simulation.codes_of), time.time())
    saved_counters = store.all_rows(db, "SELECT id, state_since, consecutive_priority_calls FROM counters "
                                        "WHERE centre_id = ?", (centre_id,))
    last_counter_event = store.scalar(db, "SELECT COALESCE(MAX(id), 0) FROM counter_events") or 0
    synchronous = store.scalar(db, "PRAGMA synchronous")
    # Demo rows can be made again, so skip the per-commit fsync while playing (WAL keeps the file sound).
    db.conn.execute("PRAGMA synchronous = NORMAL")
    open_days = 0
    try:
        day = first_day
        while day <= end_day:
            if day.weekday() in WEEKDAY_VOLUME:
                simulation.play_day(day)
                open_days += 1
            day += timedelta(days=1)
    finally:
        for counter_id, clerk_id in simulation.clerks.items():
            # After an error mid-day the clerks are still signed in: close their counters again.
            if store.scalar(db, "SELECT clerk_id FROM counters WHERE id = ?", (counter_id,)) == clerk_id:
                simulation.queue.sign_out(counter_id, clerk_id)
        with store.transaction(db):
            store.execute(db, """UPDATE counter_events SET reason = ?
                                 WHERE centre_id = ? AND id > ? AND kind IN ('signed_in', 'signed_out')
                                   AND at >= ? AND at < ?""",
                          (DEMO_REASON, centre_id, last_counter_event,
                           _local_epoch(first_day, 0, simulation.tz),
                           _local_epoch(end_day + timedelta(days=1), 0, simulation.tz)))
            for counter in saved_counters:
                store.execute(db, "UPDATE counters SET state_since = ?, consecutive_priority_calls = ? WHERE id = ?",
                              (counter["state_since"], counter["consecutive_priority_calls"], counter["id"]))
        db.conn.execute(f"PRAGMA synchronous = {int(synchronous)}")
    totals = simulation.totals
    return {"first_day": first_day.isoformat(), "last_day": end_day.isoformat(), "days": days,
            "open_days": open_days, "tickets": totals["tickets"], "served": totals["served"],
            "no_show": totals["no_show"], "transferred": totals["transferred"], "recalls": totals["recalls"],
            "rated": totals["rated"], "dossiers": totals["dossiers"], "dossiers_returned": totals["dossiers_returned"],
            "clerks_created": created,
            "seconds": round(time.perf_counter() - started, 1)}


def delete_demo(db, centre_id: str) -> dict:
    """Remove every demo ticket of a centre with its events, procedures, numbers and the generator's sign-ins."""
    demo = "SELECT id FROM tickets WHERE centre_id = ? AND is_demo = 1"
    with store.transaction(db):
        numbered = store.all_rows(db, """SELECT DISTINCT number_service_id, local_day FROM tickets
                                         WHERE centre_id = ? AND is_demo = 1""", (centre_id,))
        removed = {
            "events": store.execute(db, f"DELETE FROM ticket_events WHERE ticket_id IN ({demo})", (centre_id,)),
            "procedures": store.execute(db, f"DELETE FROM ticket_procedures WHERE ticket_id IN ({demo})",
                                        (centre_id,)),
        }
        store.execute(db, f"DELETE FROM print_jobs WHERE ticket_id IN ({demo})", (centre_id,))
        removed["dossiers"] = store.delete_demo_dossiers(db, centre_id)
        store.execute(db, f"UPDATE counters SET current_ticket_id = NULL WHERE current_ticket_id IN ({demo})",
                      (centre_id,))
        removed["tickets"] = store.execute(db, "DELETE FROM tickets WHERE centre_id = ? AND is_demo = 1",
                                           (centre_id,))
        # A day's numbering restarts only where no real ticket of that service and day is left.
        removed["sequences"] = sum(store.execute(
            db, """DELETE FROM ticket_sequences WHERE centre_id = ? AND service_id = ? AND local_day = ?
                   AND NOT EXISTS (SELECT 1 FROM tickets WHERE centre_id = ? AND number_service_id = ?
                                   AND local_day = ?)""",
            (centre_id, row["number_service_id"], row["local_day"], centre_id, row["number_service_id"],
             row["local_day"])) for row in numbered)
        removed["counter_events"] = store.execute(
            db, "DELETE FROM counter_events WHERE centre_id = ? AND reason = ?", (centre_id, DEMO_REASON))
        stats.forget_stale(db, centre_id)
    return removed
