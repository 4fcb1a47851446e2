"""When each waiting ticket will be called: the real call policy run forward over the open counters.

A count of the tickets of the same service ahead is wrong wherever counters are shared: a counter
serving four services takes the oldest across all four, priority tickets jump ahead, tickets sent to
a counter wait for that counter alone. So the forecast replays what the counters will do. Every open
or paused counter becomes free when its current ticket (or its pause) is expected to end; the
counter that is free first takes the ticket `policy.choose_next` would give it, and is busy for the
mean time a ticket of that service holds a counter (call to finish, walk-up and no-shows included,
from the service's recent tickets). One pass gives every waiting ticket its place and its time, so a
call updates every tracking page from one simulation.

Appending an ordinary ticket does not change anybody else's schedule (every ticket is known from the
start, so a counter only takes the newcomer when nothing older is left for it), which keeps issuing
as cheap with 5,000 waiting as with none: `Schedule.add_ordinary` extends the cached pass.
"""
from __future__ import annotations

import heapq
import math
import threading
from bisect import bisect_left, insort
from dataclasses import dataclass, field

from .policy import QueueHeads, choose_next

# A ticket's time at the counter when its service has too few finished tickets to learn from:
# the service's configured time, plus the walk to the counter, spread as seen in centres (CV ~0.6).
WALK_UP_S = 45.0
DEFAULT_SPREAD = 0.6
MIN_SAMPLES = 5
# Priority tickets and transfers of the last hour tell how many more will come and be called first.
JUMPERS_WINDOW_S = 3600.0
# A counter on a pause is expected back after this long (by reason); one paused longer than that, soon.
EXPECTED_PAUSE_S = {"break": 15 * 60, "meeting": 45 * 60, "system": 10 * 60, "other": 15 * 60}
OVERDUE_PAUSE_S = 5 * 60
# Ranges printed on the slip: about 80 % of citizens' waits fall inside (bench/bench_forecast.py).
RANGE_Z = 1.28
RANGE_RELATIVE = 0.1
RANGE_MIN_S = 5 * 60


@dataclass(frozen=True)
class HandlingTimes:
    """How long one ticket of a service holds a counter, from its call until the counter can call again."""

    mean: float
    variance: float
    samples: tuple[float, ...] = ()  # sorted, from the service's recent tickets

    @classmethod
    def learn(cls, samples, default_service_s: float) -> "HandlingTimes":
        values = sorted(max(0.0, float(value)) for value in samples)
        if len(values) < MIN_SAMPLES:
            mean = float(default_service_s) + WALK_UP_S
            return cls(mean, (DEFAULT_SPREAD * mean) ** 2)
        mean = sum(values) / len(values)
        variance = sum((value - mean) ** 2 for value in values) / (len(values) - 1)
        return cls(mean, variance, tuple(values))

    def remaining(self, elapsed: float) -> float:
        """Expected time left for a ticket already `elapsed` seconds at the counter: E[T − e | T > e]."""
        elapsed = max(0.0, elapsed)
        if self.samples:
            longer = [value for value in self.samples if value > elapsed]
            if longer:
                return sum(longer) / len(longer) - elapsed
            return max(30.0, 0.1 * self.mean)
        return max(self.mean - elapsed, 30.0, 0.1 * self.mean)


@dataclass(frozen=True)
class WaitingTicket:
    id: str
    service_id: int
    priority: bool
    target_counter_id: int | None = None
    appointment_from: float | None = None  # a checked-in appointment: its slot's start (issue 15)


@dataclass
class CounterNow:
    """An open or paused counter as the forecast sees it."""

    id: int
    services: frozenset[int]
    free_at: float  # when it can call next: now, or when its current ticket or its pause should end
    consecutive_priority_calls: int = 0
    variance: float = 0.0  # uncertainty of `free_at` (the current ticket's)
    stretch: float = 1.0  # how much longer its ordinary tickets wait for priority tickets and transfers to come
    consecutive_appointment_calls: int = 0


@dataclass(frozen=True)
class Call:
    """One ticket's forecast call: when, by which counter, and how sure that is."""

    at: float
    counter_id: int
    variance: float
    counters: int  # counters that could call it: more of them average out the randomness
    stretch: float = 1.0  # priority tickets and transfers still to come will be called before an ordinary one

    def expected_wait(self, now: float) -> float:
        return max(0.0, self.at - now) * self.stretch

    def wait_s(self, now: float) -> int:
        return int(round(self.expected_wait(now)))

    def range_s(self, now: float) -> tuple[int, int]:
        """A range the wait should fall in for most citizens (the slip prints it)."""
        wait = self.expected_wait(now)
        spread = RANGE_Z * math.sqrt(self.variance / max(1, self.counters)) + RANGE_RELATIVE * wait
        spread = max(spread, RANGE_MIN_S / 2)
        return max(0, int(wait - spread)), int(wait + spread)


@dataclass
class Schedule:
    """The outcome of one forecast pass, and what is needed to extend it with a newcomer."""

    made_at: float
    calls: dict[str, Call]
    call_keys: list[tuple[float, int]]  # (time, counter) of every call, in the order they happen
    counters: dict[int, CounterNow]  # each counter's state once the waiting tickets are called
    handling: dict[int, HandlingTimes]
    waiting: dict[int, list[int]] = field(default_factory=dict)  # service -> [ordinary, priority] waiting
    order_places: dict[str, int] = field(default_factory=dict)  # tickets no counter will call: place in line

    def counters_serving(self, service_id: int) -> list[CounterNow]:
        return [counter for counter in self.counters.values() if service_id in counter.services]

    def position(self, call: Call) -> int:
        """How many tickets are called before this call."""
        return bisect_left(self.call_keys, (call.at, call.counter_id))

    def for_new_ordinary(self, service_id: int, now: float) -> Call | None:
        """Where an ordinary ticket issued now would be called, or None when no counter serves it."""
        serving = self.counters_serving(service_id)
        if not serving:
            return None
        first = min(serving, key=lambda counter: (max(counter.free_at, now), counter.id))
        return Call(max(first.free_at, now), first.id, first.variance, len(serving), first.stretch)

    def add_ordinary(self, ticket_id: str, service_id: int, now: float) -> Call | None:
        """Put a newly issued ordinary ticket in the schedule: as nothing older is left for the counter that
        takes it, it moves nobody already in it (only the places of those called after it)."""
        counts = self.waiting.setdefault(service_id, [0, 0])
        call = self.for_new_ordinary(service_id, now)
        if call is None:
            self.order_places[ticket_id] = counts[0] + counts[1]
            counts[0] += 1
            return None
        counts[0] += 1
        counter = self.counters[call.counter_id]
        handling = self.handling[service_id]
        counter.free_at = call.at + handling.mean
        counter.variance += handling.variance
        counter.consecutive_priority_calls = 0
        counter.consecutive_appointment_calls = 0
        insort(self.call_keys, (call.at, call.counter_id))
        self.calls[ticket_id] = call
        return call

    def waiting_in_service(self, service_id: int, priority: bool) -> int:
        """Tickets of the service that go before a newcomer by queue order alone (no counter open)."""
        ordinary, priorities = self.waiting.get(service_id, (0, 0))
        return priorities if priority else ordinary + priorities


def simulate(now: float, counters: list[CounterNow], tickets: list[WaitingTicket],
             handling: dict[int, HandlingTimes], priority_ratio: int,
             jumpers: dict[int, float] | None = None, appointment_ratio: int = 0) -> Schedule:
    """Run the call policy forward; `tickets` in queue order (queue time, then issue order).

    `jumpers` (tickets per second by service, from the last hour) stretches the waits of ordinary
    tickets: priority tickets and transfers that come while they wait will go before them. A checked-in
    appointment waits in the ordinary line and, from its slot's start, also in its service's appointment
    line, which `policy.choose_next` serves before the ordinary one (`appointment_ratio`).
    """
    queues: dict[tuple, list[int]] = {}
    waiting: dict[int, list[int]] = {}
    for index, ticket in enumerate(tickets):
        owner = ("counter", ticket.target_counter_id) if ticket.target_counter_id else ("service", ticket.service_id)
        queues.setdefault((*owner, ticket.priority), []).append(index)
        if ticket.appointment_from is not None and not ticket.priority:
            queues.setdefault((*owner, "appointment"), []).append(index)
        if not ticket.target_counter_id:
            waiting.setdefault(ticket.service_id, [0, 0])[int(ticket.priority)] += 1
    for key, queue in queues.items():
        if key[2] == "appointment":
            queue.sort(key=lambda index: (tickets[index].appointment_from, index))
    heads = {key: 0 for key in queues}
    taken: set[int] = set()  # an appointment is in two lines: once called, skipped in the other
    reach: dict[int, int] = {}  # service -> counters that serve it
    keys_of: dict[int, tuple[list, list, list]] = {}
    for counter in counters:
        for service_id in counter.services:
            reach[service_id] = reach.get(service_id, 0) + 1
        owners = [("service", service_id) for service_id in counter.services] + [("counter", counter.id)]
        keys_of[counter.id] = tuple([(*owner, kind) for owner in owners if (*owner, kind) in queues]
                                    for kind in (True, False, "appointment"))

    def first(key) -> int | None:
        queue = queues[key]
        while heads[key] < len(queue) and queue[heads[key]] in taken:
            heads[key] += 1
        return queue[heads[key]] if heads[key] < len(queue) else None

    def head(keys) -> tuple | None:
        best = None
        for key in keys:
            index = first(key)
            if index is not None and (best is None or index < first(best)):
                best = key
        return best

    def appointment_head(keys, at: float) -> tuple[tuple | None, float | None]:
        """The appointment line whose first ticket's slot has begun earliest; else when the next one begins."""
        best, best_order, later = None, None, None
        for key in keys:
            index = first(key)
            if index is None:
                continue
            begins = tickets[index].appointment_from
            if begins > at:
                later = begins if later is None else min(later, begins)
            elif best is None or (begins, index) < best_order:
                best, best_order = key, (begins, index)
        return best, later

    calls: dict[str, Call] = {}
    call_keys: list[tuple[float, int]] = []
    for counter in counters:
        counter.stretch = _stretch(counter, jumpers or {}, handling, reach)
    heap = [(counter.free_at, counter.id) for counter in counters]
    heapq.heapify(heap)
    by_id = {counter.id: counter for counter in counters}
    while heap:
        at, counter_id = heapq.heappop(heap)
        counter = by_id[counter_id]
        priority_keys, ordinary_keys, appointment_keys = keys_of[counter_id]
        appointment_key, next_slot = appointment_head(appointment_keys, at)
        chosen = choose_next(QueueHeads(head(priority_keys), head(ordinary_keys), appointment_key),
                             counter.consecutive_priority_calls, priority_ratio,
                             counter.consecutive_appointment_calls, appointment_ratio)
        if chosen is None:
            if next_slot is not None:  # only appointments whose slot is still to come: wait for it
                heapq.heappush(heap, (next_slot, counter_id))
                continue
            counter.free_at = at  # nothing left for it: it is free from here on
            continue
        index = first(chosen)
        taken.add(index)
        ticket = tickets[index]
        others = 1 if ticket.target_counter_id else reach.get(ticket.service_id, 1)
        calls[ticket.id] = Call(at, counter_id, counter.variance, others, 1.0 if ticket.priority else counter.stretch)
        call_keys.append((at, counter_id))
        counter.consecutive_priority_calls = counter.consecutive_priority_calls + 1 if ticket.priority else 0
        if not ticket.priority:
            counter.consecutive_appointment_calls = (counter.consecutive_appointment_calls + 1
                                                     if chosen[2] == "appointment" else 0)
        times = handling[ticket.service_id]
        counter.free_at = at + times.mean
        counter.variance += times.variance
        heapq.heappush(heap, (counter.free_at, counter_id))
    call_keys.sort()
    return Schedule(now, calls, call_keys, by_id, handling, waiting, _order_places(tickets, calls))


# Past this share of a counter's time going to tickets that jump the queue, the estimate would explode: cap it.
MAX_JUMPER_LOAD = 0.5


def _stretch(counter: CounterNow, arrivals: dict[int, float], handling: dict[int, HandlingTimes],
             reach: dict[int, int]) -> float:
    """1 / (1 − the share of this counter's time that tickets jumping the queue are expected to take)."""
    load = sum(arrivals.get(service_id, 0.0) * handling[service_id].mean / max(1, reach.get(service_id, 1))
               for service_id in counter.services if service_id in handling)
    return 1.0 / (1.0 - min(load, MAX_JUMPER_LOAD))


def _order_places(tickets: list[WaitingTicket], calls: dict[str, Call]) -> dict[str, int]:
    """For tickets no open counter will call: how many go before them in their own queue by the policy's
    order (priority groups first, then by queue time), which is all that can be said of them."""
    places: dict[str, int] = {}
    priorities: dict[tuple, int] = {}
    for ticket in tickets:
        if ticket.priority:
            owner = (ticket.target_counter_id, ticket.service_id)
            priorities[owner] = priorities.get(owner, 0) + 1
    ahead: dict[tuple, list[int]] = {}
    for ticket in tickets:
        owner = (ticket.target_counter_id, ticket.service_id)
        counts = ahead.setdefault(owner, [0, 0])
        if ticket.id not in calls:
            places[ticket.id] = counts[1] if ticket.priority else priorities.get(owner, 0) + counts[0]
        counts[int(ticket.priority)] += 1
    return places


def counter_now(now: float, row: dict, services: frozenset[int], handling: dict[int, HandlingTimes]) -> CounterNow:
    """A counter's next free moment from its state: its current ticket's expected remainder, or its pause."""
    free_at, variance = now, 0.0
    if row["state"] == "paused":
        expected = EXPECTED_PAUSE_S.get(row["pause_reason"] or "break", EXPECTED_PAUSE_S["other"])
        since = row["state_since"] if row["state_since"] is not None else now
        free_at = max(since + expected, now + OVERDUE_PAUSE_S if now - since >= expected else now)
    if row["current_status"] in ("called", "serving") and row["current_service_id"] in handling:
        times = handling[row["current_service_id"]]
        remaining = times.remaining(now - (row["current_called_at"] or now))
        free_at = max(free_at, now + remaining)
        variance = times.variance
    return CounterNow(row["id"], services, free_at, row["consecutive_priority_calls"] or 0, variance,
                      consecutive_appointment_calls=row.get("consecutive_appointment_calls") or 0)


# ---- one schedule per database and centre, kept while nothing changed -------------------------------

# Time moves the forecast even when nothing happens (a long service runs over): rebuild at least this often.
SCHEDULE_MAX_AGE_S = 30.0


class ScheduleCache:
    """The newest schedule of each centre in this process.

    A version is (event log sequence, counter log sequence, configuration...): a schedule serves a reader
    whose committed version is the same or older in the logs with the same configuration. A newer one is
    what a writer holding the write lock has just extended with its own ticket; a reader must not rebuild
    it away (nor a slower rebuild replace it), or every issue would rebuild under the write lock.
    """

    def __init__(self):
        self._lock = threading.Lock()
        self._entries: dict[tuple, tuple[tuple, Schedule]] = {}

    @staticmethod
    def _serves(cached: tuple, wanted: tuple) -> bool:
        return cached[2:] == wanted[2:] and all((have or 0) >= (want or 0) for have, want in zip(cached[:2], wanted[:2]))

    def get(self, key: tuple, version: tuple, now: float) -> Schedule | None:
        with self._lock:
            entry = self._entries.get(key)
        if entry is None or not self._serves(entry[0], version):
            return None
        schedule = entry[1]
        if not 0 <= now - schedule.made_at <= SCHEDULE_MAX_AGE_S:
            return None
        return schedule

    def put(self, key: tuple, version: tuple, schedule: Schedule) -> None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None and entry[0] != version and self._serves(entry[0], version) \
                    and entry[1].made_at >= schedule.made_at:
                return  # a newer schedule is already here
            self._entries[key] = (version, schedule)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


schedules = ScheduleCache()
