"""What the queue shows: the forecast of every waiting ticket, and the views of tickets, services and
counters that answers, snapshots and events are made of (read-only; QueueService's commands use them)."""
from __future__ import annotations

import json

from . import closing, events, forecast, store
from .model import TicketStatus
from .dossiers import staff_view as dossier_staff_view
from .numbering import local_day


class QueueViews:
    """Read-side half of QueueService; relies on its `db`, `centre_id`, `clock`, `settings` and `iso()`."""

    def schedule(self) -> forecast.Schedule:
        """The forecast of every waiting ticket, made once per change of the queue (see queueing/forecast.py)."""
        now = self.clock()
        key, version = self._schedule_key()
        schedule = forecast.schedules.get(key, version, now)
        if schedule is None:
            schedule = self._simulate(now)
            forecast.schedules.put(key, version, schedule)
        return schedule

    def _schedule_key(self) -> tuple[tuple, tuple]:
        return ((store.database_path(self.db), self.centre_id),
                store.queue_version(self.db, self.centre_id) + (int(self.settings["priority_ratio"]),
                                                                 int(self.settings["appointment_ratio"])))

    def _simulate(self, now: float) -> forecast.Schedule:
        services = store.services(self.db, self.centre_id, active_only=False)
        samples = store.recent_handling_times(self.db, self.centre_id, [service["id"] for service in services])
        handling = {service["id"]: forecast.HandlingTimes.learn(samples[service["id"]], service["default_service_s"])
                    for service in services}
        counters = [forecast.counter_now(now, row, row["services"], handling)
                    for row in store.calling_counters(self.db, self.centre_id)]
        tickets = [forecast.WaitingTicket(ticket_id, service_id, bool(priority), target, appointment_start)
                   for ticket_id, service_id, priority, target, appointment_start
                   in store.waiting_queue(self.db, self.centre_id)]
        window = forecast.JUMPERS_WINDOW_S
        arrivals = {service_id: count / window for service_id, count in store.queue_jumpers(
            self.db, self.centre_id, now - window, local_day(now, self.tz)).items()}
        return forecast.simulate(now, counters, tickets, handling, int(self.settings["priority_ratio"]), arrivals,
                                 int(self.settings["appointment_ratio"]))

    def forecast_new_ticket(self, service: dict) -> dict | None:
        """When an ordinary ticket of `service` issued now would be called: `{position, wait_s, range_s}`,
        or None when no open counter serves the service (the kiosk then says so instead of a number)."""
        schedule = self.schedule()
        return self._forecast_view(schedule, schedule.for_new_ordinary(service["id"], self.clock()))

    def _forecast_view(self, schedule: forecast.Schedule, call: forecast.Call | None) -> dict | None:
        if call is None:
            return None
        now = self.clock()
        return {"position": schedule.position(call), "wait_s": call.wait_s(now), "range_s": list(call.range_s(now))}

    def queue_summary(self) -> dict:
        """Waiting counts and the wait a newcomer can expect per service (the `queue_changed` payload);
        `estimated_wait_s` is None where no open counter serves the service."""
        schedule = self.schedule()
        rows = []
        for service in store.service_queues(self.db, self.centre_id):
            expected = self._forecast_view(schedule, schedule.for_new_ordinary(service["id"], self.clock()))
            rows.append({"code": service["code"], "name": service["name"], "name_en": service["name_en"],
                         "waiting": service["waiting"], "open_counters": service["open_counters"],
                         "estimated_wait_s": expected["wait_s"] if expected else None,
                         "estimated_wait_range_s": expected["range_s"] if expected else None})
        return {"services": rows}

    def services_overview(self) -> list[dict]:
        """The kiosk's list of services with open state, waiting counts, forecasts and procedures."""
        now = self.clock()
        summary = {row["code"]: row for row in self.queue_summary()["services"]}
        procedures: dict[str, list[dict]] = {}
        for row in store.procedures(self.db, self.centre_id):
            procedures.setdefault(row["service_code"], []).append(
                {"code": row["code"], "name": row["name"], "name_en": row["name_en"]})
        today = local_day(now, self.tz)
        answer = []
        for service in store.services(self.db, self.centre_id):
            queue = summary[service["code"]]
            cap = service["daily_cap"]
            answer.append({
                "code": service["code"], "name": service["name"], "name_en": service["name_en"],
                "prefix": service["prefix"], "open": self.service_is_open(service, now),
                "sold_out": bool(cap and store.issued_today(self.db, self.centre_id, service["id"], today) >= cap),
                "opening_hours": json.loads(service["opening_hours"]) if service["opening_hours"] else None,
                "opening_hours_text": self.opening_hours_text(service) if service["opening_hours"] else None,
                "waiting": queue["waiting"], "open_counters": queue["open_counters"],
                "estimated_wait_s": queue["estimated_wait_s"], "estimated_wait_range_s": queue["estimated_wait_range_s"],
                "procedures": procedures.get(service["code"], []),
            })
        return closing.mark_closures(self, answer)

    def ticket_forecast(self, row: dict, schedule: forecast.Schedule | None = None) -> dict:
        """A waiting ticket's place and expected wait: `position` is how many tickets are expected to be
        called before it; the wait is None when no open counter will call it."""
        if row["status"] != TicketStatus.WAITING:
            return {"position": 0, "estimated_wait_s": None, "estimated_wait_range_s": None}
        schedule = schedule or self.schedule()
        call = schedule.calls.get(row["id"])
        if call is None:
            return {"position": schedule.order_places.get(row["id"], 0), "estimated_wait_s": None,
                    "estimated_wait_range_s": None}
        expected = self._forecast_view(schedule, call)
        return {"position": expected["position"], "estimated_wait_s": expected["wait_s"],
                "estimated_wait_range_s": expected["range_s"]}

    def public_ticket(self, row: dict, schedule: forecast.Schedule | None = None) -> dict:
        """A ticket as anyone holding its tracking key may see it: no personal data, no priority group
        (a group such as disability or pregnancy says something about the citizen; issue 12)."""
        return {
            "id": row["id"], "number": row["number"], "service": row["service_code"],
            "service_name": row["service_name"], "service_name_en": row["service_name_en"],
            "status": row["status"], **self.ticket_forecast(row, schedule),
            "counter": row["counter_number"] if row["status"] != TicketStatus.WAITING else None,
            "counter_name": row["counter_name"] if row["status"] != TicketStatus.WAITING else None,
            "issued_at": self.iso(row["issued_at"]), "called_at": self.iso(row["called_at"]),
            "rating": row["rating"],
        }

    def ticket_for_staff(self, row: dict) -> dict:
        """A ticket as staff looking it up see it: the public view and its priority group, no citizen data."""
        return {**self.public_ticket(row), "priority": row["priority_code"]}

    def staff_ticket(self, row: dict) -> dict:
        """A ticket as the clerk who called it sees it, with the citizen's minimised data."""
        answer = self.public_ticket(row)
        answer.update({"priority": row["priority_code"],
            "citizen_name": row["citizen_name"], "citizen_id_last4": row["citizen_id_last4"],
            "citizen_birth_year": row["citizen_birth_year"], "recall_count": row["recall_count"],
            "started_at": self.iso(row["started_at"]), "finished_at": self.iso(row["finished_at"]),
            "priority_name": row["priority_name"], "dossier_number": row["dossier_number"],
            "channel": row["channel"],
        })
        if row["dossier_number"]:  # a reception's dossier, or the one a result-return ticket came to collect
            dossier = store.dossier_of_ticket(self.db, row["id"])
            answer["dossier"] = dossier_staff_view(dossier, self) if dossier else None
        return answer

    def counter_view(self, counter: dict) -> dict:
        """A counter's public state (the `counter_changed` payload), made in queueing/events.py."""
        return events.counter_state(self.db, self.tz, counter)

    def counters_overview(self) -> list[dict]:
        """Every counter's state for monitors and displays."""
        rows = store.counters(self.db, self.centre_id)
        return [{"counter": row["id"], "id": row["id"], "number": row["number"], "name": row["name"],
                 "floor": row["floor"], "state": row["state"], "pause_reason": row["pause_reason"],
                 "since": self.iso(row["state_since"]), "services": row["services"],
                 "clerk": row["clerk_name"] or row["clerk_username"],
                 "ticket": row["ticket_number"], "ticket_status": row["ticket_status"]}
                for row in rows]

    def call_view(self, row: dict) -> dict:
        return {"ticket_id": row["id"], "number": row["number"], "counter": row["counter_number"],
                "counter_name": row["counter_name"], "service": row["service_code"],
                "called_at": self.iso(row["called_at"]), "recall": row["recall_count"] > 0,
                "appointment": row["channel"] == "appointment"}

    def recent_calls(self, limit: int = 8) -> list[dict]:
        return [self.call_view(row) for row in store.recent_calls(self.db, self.centre_id, limit)]

    def queue_state(self) -> dict:
        """The `GET /queue` answer and the public part of every snapshot."""
        return {**self.queue_summary(), "counters": self.counters_overview(),
                "recent_calls": self.recent_calls(), "notice": self.settings["notice"],
                "centre": {"id": self.centre_id, "name": self.centre["name"],
                           "name_en": self.centre["name_en"]}}

    def counter_snapshot(self, counter_id: int, personal: bool = True) -> dict:
        """What a counter panel needs: its state, its current ticket and its services' queues.

        `personal=False` (the counter's rating tablet) shows the current ticket's number and state only:
        no citizen data and no priority group (issue 12)."""
        counter = self.counter(counter_id)
        current = store.ticket_row(self.db, counter["current_ticket_id"]) if counter["current_ticket_id"] else None
        served = {row["service_id"] for row in store.all_rows(
            self.db, "SELECT service_id FROM counter_services WHERE counter_id = ?", (counter_id,))}
        services = [s for s in self.queue_summary()["services"]]
        codes = {row["code"] for row in store.services(self.db, self.centre_id) if row["id"] in served}
        return {**self.counter_view(counter), "clerk_id": counter["clerk_id"],
                "current": (self.staff_ticket(current) if personal else
                            {key: current[key] for key in ("id", "number", "status")}) if current else None,
                "services": [s for s in services if s["code"] in codes],
                "waiting": sum(s["waiting"] for s in services if s["code"] in codes)}
