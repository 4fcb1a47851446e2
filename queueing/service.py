"""QueueService: every command a kiosk, clerk or manager gives the queue, each one transaction."""
from __future__ import annotations

import json
import re
import secrets
import time
from datetime import datetime, timezone
from typing import Callable
from zoneinfo import ZoneInfo

from . import closing, corrections, dossiers, forecast, store
# The rooms and the tracking payload are re-exported here for the screens (api/events.py).
from .events import (ALL, counter_changed, counter_room, queue_changed_marker, rating_recorded,  # noqa: F401
                     rating_requested, ticket_called, ticket_room, ticket_updated, tracking_view)
from .model import (Conflict, CounterState, Event, Forbidden, NotFound, Outcome, QueueError,
                    TicketStatus, epoch_to_iso)
from .numbering import format_ticket_number, local_day, local_hour
from .policy import QueueHeads, choose_next
from .counter_sessions import PAUSE_REASONS, PAUSE_REASONS_EN, CounterSessions  # noqa: F401 (re-exported)
from .queue_views import QueueViews
from .speech_vi import announcement_text
from .transitions import next_status

Clock = Callable[[], float]

DEFAULT_SETTINGS = {
    "language": "vi",
    "priority_ratio": 0,
    "recall_limit": 3,
    "no_show_restore_minutes": 30,
    "no_show_restore_place": "behind_waiting",
    "announcement_template": None,
    "announcement_repeat": 2,
    "notice": "",
    "kiosk_tickets_per_minute": 30,
    "citizen_retention_days": 30,
    **dossiers.DOSSIER_DEFAULTS,
    "appointment_ratio": 3,  # appointments called in a row before an ordinary ticket goes first (0: always first)
    "appointment_grace_minutes": 15,
    "appointment_early_minutes": 30,
    "appointment_slot_minutes": 15,
    "appointment_places": 2,
    "appointment_services": {},
    "phone_join_disabled": [],  # service codes that take no ticket from /join
    "phone_join_per_address_per_hour": 6,
    "appointment_punctual_minutes": 10,  # statistics: an appointment called within this of its slot is on time
    "nudge_ahead": 3,
}

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

store.rollback_listeners.append(forecast.schedules.clear)


# A ticket's tracking key: a random secret only its kiosk answer, slip and tracking link carry (issue 12).
TRACK_KEY_PATTERN = re.compile(r"[A-Za-z0-9_-]{16,64}")


def new_track_key() -> str:
    return secrets.token_urlsafe(16)


class QueueService(QueueViews, CounterSessions):
    """The domain core's front door; handlers call it and publish the events it returns."""

    def __init__(self, db, centre_id: str, clock: Clock = time.time):
        self.db = db
        self.centre_id = centre_id
        self.clock = clock
        centre = store.centre(db, centre_id)
        if centre is None:
            raise NotFound(f"Không có trung tâm '{centre_id}' (unknown centre)")
        self.centre = centre
        self.tz = ZoneInfo(centre["timezone"])
        self.settings = {**DEFAULT_SETTINGS, **centre["settings"]}

    # ---- reading -----------------------------------------------------------------------

    def iso(self, epoch: float | None) -> str | None:
        return epoch_to_iso(epoch, self.tz)

    def service_by_code(self, code) -> dict:
        if not isinstance(code, str) or not code:
            raise QueueError("Thiếu mã lĩnh vực (service is required)", code="service_required")
        row = store.one(self.db, "SELECT * FROM services WHERE centre_id = ? AND code = ? AND active = 1",
                        (self.centre_id, code))
        if row is None:
            raise QueueError(f"Không có lĩnh vực '{code}' (unknown service)", code="unknown_service")
        return row

    def counter(self, counter_id) -> dict:
        row = store.one(self.db, "SELECT * FROM counters WHERE centre_id = ? AND id = ? AND active = 1",
                        (self.centre_id, counter_id))
        if row is None:
            raise NotFound(f"Không có quầy {counter_id} (unknown counter)", code="unknown_counter")
        return row

    def ticket(self, ticket_id) -> dict:
        row = store.ticket_row(self.db, ticket_id) if isinstance(ticket_id, str) else None
        if row is None or row["centre_id"] != self.centre_id:
            raise NotFound("Không tìm thấy phiếu (unknown ticket)", code="unknown_ticket")
        return row

    def ticket_by_key(self, ticket_id, track_key) -> dict:
        """The ticket `ticket_id` if `track_key` is its tracking key (404 otherwise, as for an unknown id)."""
        row = self.ticket_for_key(track_key)
        if row is None or row["id"] != ticket_id:
            raise NotFound("Không tìm thấy phiếu (unknown ticket)", code="unknown_ticket")
        return row

    def ticket_for_key(self, track_key) -> dict | None:
        """The ticket a tracking key proves, or None."""
        if not isinstance(track_key, str) or not TRACK_KEY_PATTERN.fullmatch(track_key):
            return None
        ticket_id = store.ticket_id_by_track_key(self.db, self.centre_id, track_key)
        return store.ticket_row(self.db, ticket_id) if ticket_id else None

    def service_is_open(self, service: dict, epoch: float) -> bool:
        """Whether a service issues numbers at this moment; no hours configured means always."""
        if not service["opening_hours"]:
            return True
        hours = json.loads(service["opening_hours"])
        moment = datetime.fromtimestamp(epoch, timezone.utc).astimezone(self.tz)
        now = moment.strftime("%H:%M")
        return any(start <= now < end for start, end in hours.get(WEEKDAYS[moment.weekday()], []))

    def opening_hours_text(self, service: dict) -> str:
        """A service's opening hours for people, e.g. "T2–T6 07:00–11:30, 13:30–17:00"."""
        hours = json.loads(service["opening_hours"] or "{}")
        names = dict(zip(WEEKDAYS, ("T2", "T3", "T4", "T5", "T6", "T7", "CN")))
        groups: list[tuple[list[str], str]] = []
        for day in WEEKDAYS:
            spans = ", ".join(f"{start}–{end}" for start, end in hours.get(day, []))
            if not spans:
                continue
            if groups and groups[-1][1] == spans and WEEKDAYS.index(groups[-1][0][-1]) == WEEKDAYS.index(day) - 1:
                groups[-1][0].append(day)
            else:
                groups.append(([day], spans))
        return "; ".join(f"{names[days[0]]}" + (f"–{names[days[-1]]}" if len(days) > 1 else "") + f" {spans}"
                         for days, spans in groups) or "—"

    # ---- events ------------------------------------------------------------------------

    def _ticket_events(self, ticket_id: str) -> list[Event]:
        row = store.ticket_row(self.db, ticket_id)
        return [ticket_updated(self.public_ticket(row))]

    def tracking_updates(self, ticket_ids) -> list[Event]:
        """`ticket_updated` for each of these tickets still waiting, all from one forecast: after a call,
        every phone following its ticket learns its new place at the cost of one simulation."""
        schedule = self.schedule()
        return [ticket_updated(self.public_ticket(row, schedule))
                for row in store.ticket_rows(self.db, self.centre_id, ticket_ids, status=TicketStatus.WAITING.value)]

    def _counter_events(self, counter_id: int, state_changed: bool = False) -> list[Event]:
        return [counter_changed(self.db, self.tz, self.counter(counter_id), state_changed=state_changed)]

    def likely_announcements(self, limit: int = 40) -> list[tuple[str, str]]:
        """(text, lang) of the calls most likely next: each open counter's head tickets (priority and
        normal) announced at that counter, at most `limit`; for synthesising their audio ahead."""
        lang = self.settings["language"]
        found: list[tuple[str, str]] = []
        for counter in store.counters(self.db, self.centre_id):
            if counter["state"] != "open" or not counter["clerk_id"]:
                continue
            for ticket_id in store.queue_heads(self.db, self.centre_id, counter["id"]):
                if ticket_id is None:
                    continue
                row = store.ticket_row(self.db, ticket_id)
                text = announcement_text(row["number"], counter["number"], counter["name"], lang=lang,
                                         template=self.settings["announcement_template"], recall_count=0)
                if (text, lang) not in found:
                    found.append((text, lang))
                if len(found) >= limit:
                    return found
        return found

    def _call_event(self, ticket_id: str) -> Event:
        row = store.ticket_row(self.db, ticket_id)
        payload = self.call_view(row)
        lang = self.settings["language"]
        payload["announcement"] = {
            "text": announcement_text(row["number"], row["counter_number"], row["counter_name"], lang=lang,
                                      template=self.settings["announcement_template"],
                                      recall_count=row["recall_count"]),
            "lang": lang, "repeat": self.settings["announcement_repeat"], "audio_url": None, **self.voice(),
        }
        return ticket_called(payload)

    def voice(self) -> dict:
        """How announcements are spoken here: the centre's `voice` and `voice_rate` (words per minute)."""
        return {"voice": self.settings.get("voice") or "vi", "rate": int(self.settings.get("voice_rate") or 130)}

    def _log(self, ticket: dict, kind: str, to_status, counter_id=None, clerk_id=None, detail=None,
             at: float | None = None) -> None:
        store.add_ticket_event(self.db, self.centre_id, ticket["id"], at or self.clock(), kind, ticket["status"],
                               to_status, ticket["service_id"], counter_id, clerk_id, detail)

    # ---- kiosk -------------------------------------------------------------------------

    def issue_ticket(self, service_code, priority=None, device_id=None, citizen=None, lang="vi",
                     is_demo: bool = False, channel: str = "kiosk", dossier_code: str | None = None) -> Outcome:
        """Give a citizen the next number of a service; durable before it returns."""
        with store.transaction(self.db):
            return self.issue_in_transaction(service_code, priority, device_id, citizen, lang, is_demo, channel,
                                             dossier_code=dossier_code)

    def issue_in_transaction(self, service_code, priority=None, device_id=None, citizen=None, lang="vi",
                             is_demo: bool = False, channel: str = "kiosk",
                             appointment_start: float | None = None, dossier_code: str | None = None) -> Outcome:
        """`issue_ticket` inside the caller's transaction; an appointment's check-in (issue 15) is one: its
        place was promised at booking, so neither the opening hours nor the daily cap refuse it."""
        lang = lang if lang in ("vi", "en") else "vi"
        service = self.service_by_code(service_code)
        priority_id = self._priority_id(priority)
        now = self.clock()
        day = local_day(now, self.tz)
        if channel != "appointment":
            closing.refuse_if_closed(self, service, now)  # 409 holiday / cut_off (issue 11)
            if not self.service_is_open(service, now):
                hours = self.opening_hours_text(service)
                raise Conflict(f"Hiện tại ngoài giờ lấy số. Giờ nhận số: {hours}. Vui lòng quay lại trong khung giờ này "
                               f"(closed now; opening hours {hours})", code="closed")
            if service["daily_cap"] and store.issued_today(self.db, self.centre_id, service["id"], day) >= service["daily_cap"]:
                raise Conflict("Đã hết số trong ngày cho lĩnh vực này (daily cap reached)", code="sold_out")
        sequence = store.next_sequence(self.db, self.centre_id, service["id"], day)
        # If the clock was set back (NTP, a manual fix), a new ticket still queues behind today's others.
        queue_at = max(now, store.latest_queue_time(self.db, self.centre_id, day) or now)
        ticket_id = secrets.token_urlsafe(12)
        row = {
            "id": ticket_id, "track_key": new_track_key(), "centre_id": self.centre_id, "number_service_id": service["id"],
            "local_day": day, "sequence": sequence,
            "number": format_ticket_number(service["prefix"], sequence), "service_id": service["id"],
            "priority_group_id": priority_id, "status": TicketStatus.WAITING.value, "issued_at": now,
            "local_hour": local_hour(now, self.tz), "queue_at": queue_at, "device_id": device_id,
            "lang": lang, "is_demo": int(is_demo), "channel": channel, "appointment_start": appointment_start,
            "dossier_number": dossier_code,
        }
        if citizen is not None:
            # Not the ID number's keyed hash: nothing read it (dropped by migration 0009_keys_track_key).
            row.update({"citizen_name": citizen.name,
                        "citizen_id_last4": citizen.id_last4, "citizen_birth_year": citizen.birth_year})
        # An ordinary newcomer extends the schedule made before it (it moves nobody), so issuing costs the
        # same with 5,000 waiting as with none; a priority ticket or an appointment moves others and is
        # forecast afresh.
        schedule = self.schedule() if priority_id is None and appointment_start is None else None
        store.insert(self.db, "tickets", row)
        detail = {"priority": priority} if priority else {}
        if channel != "kiosk":
            detail["channel"] = channel
        if dossier_code:
            detail["dossier"] = dossier_code
        store.add_ticket_event(self.db, self.centre_id, ticket_id, now, "issued", None, "waiting",
                               service["id"], detail=detail or None)
        if schedule is not None:
            schedule.add_ordinary(ticket_id, service["id"], now)
            forecast.schedules.put(*self._schedule_key(), schedule)
        issued = store.ticket_row(self.db, ticket_id)
        # Only this answer (to the kiosk or staff who issued it) carries the key that proves the ticket.
        public = {**self.public_ticket(issued, schedule), "priority": issued["priority_code"],
                  "track_key": issued["track_key"]}
        return Outcome(public, [queue_changed_marker()])

    def _priority_id(self, priority) -> int | None:
        if priority in (None, ""):
            return None
        row = store.one(self.db, "SELECT id FROM priority_groups WHERE centre_id = ? AND code = ? AND active = 1",
                        (self.centre_id, priority)) if isinstance(priority, str) else None
        if row is None:
            raise QueueError(f"Không có nhóm ưu tiên '{priority}' (unknown priority group)",
                             code="unknown_priority")
        return row["id"]

    def call_next(self, counter_id, clerk_id: int) -> Outcome:
        """Claim the next ticket for a counter; two clerks calling at once never get the same one."""
        with store.transaction(self.db):
            counter = self._counter_of_clerk(counter_id, clerk_id)
            if counter["state"] == CounterState.PAUSED:
                raise Conflict("Quầy đang tạm dừng; hãy tiếp tục trước khi gọi số (counter is paused)",
                               code="counter_paused")
            self._refuse_if_busy(counter)
            stale = closing.expire_earlier_days(self)  # yesterday's A001 is never called (issue 11)
            heads = QueueHeads(*store.queue_heads(self.db, self.centre_id, counter["id"], self.clock()))
            chosen = choose_next(heads, counter["consecutive_priority_calls"], int(self.settings["priority_ratio"]),
                                 counter["consecutive_appointment_calls"], int(self.settings["appointment_ratio"]))
            if chosen is None:
                return Outcome({"ticket": None}, stale)
            ticket = store.ticket_row(self.db, chosen)
            self._claim(ticket, counter, clerk_id, "called")
            was_priority = ticket["priority_group_id"] is not None
            store.execute(self.db, "UPDATE counters SET consecutive_priority_calls = ? WHERE id = ?",
                          (counter["consecutive_priority_calls"] + 1 if was_priority else 0, counter["id"]))
            if not was_priority:  # a run of appointments ends with an ordinary call (appointment_ratio)
                store.execute(self.db, "UPDATE counters SET consecutive_appointment_calls = ? WHERE id = ?",
                              (counter["consecutive_appointment_calls"] + 1 if chosen == heads.appointment_ticket_id
                               else 0, counter["id"]))
            events = stale + self._after_call(ticket["id"], counter["id"])
            result = {"ticket": self.staff_ticket(store.ticket_row(self.db, ticket["id"]))}
        return Outcome(result, events)

    def call_ticket(self, counter_id, clerk_id: int, reason, ticket_id=None, number=None) -> Outcome:
        """Call one specific waiting ticket (by id, or by today's number) out of order; the reason is logged.

        Only a ticket this counter could call next: one of its services, or one transferred to it."""
        if not isinstance(reason, str) or not reason.strip():
            raise QueueError("Gọi không theo thứ tự cần ghi lý do (a reason is required)", code="reason_required")
        with store.transaction(self.db):
            counter = self._counter_of_clerk(counter_id, clerk_id)
            self._refuse_if_busy(counter)
            stale = closing.expire_earlier_days(self)  # an earlier day's ticket is expired, never called
            ticket = self.ticket(ticket_id) if ticket_id is not None else self._waiting_by_number(number)
            corrections.check_out_of_order_call(self, ticket, counter)
            self._claim(ticket, counter, clerk_id, "called_out_of_order", {"reason": reason.strip()[:200]})
            corrections.count_in_priority_ratio(self, ticket, counter)
            events = stale + self._after_call(ticket["id"], counter["id"])
            result = {"ticket": self.staff_ticket(store.ticket_row(self.db, ticket["id"]))}
        return Outcome(result, events)

    def _waiting_by_number(self, number) -> dict:
        if not isinstance(number, str) or not number.strip():
            raise QueueError("Hãy nhập số thứ tự cần gọi (number is required)", code="number_required")
        day = local_day(self.clock(), self.tz)
        ticket_id = store.scalar(self.db, """SELECT id FROM tickets WHERE centre_id = ? AND local_day = ?
                                             AND number = ? AND status = 'waiting'""",
                                 (self.centre_id, day, number.strip().upper()))
        if ticket_id is None:
            raise NotFound(f"Không có số {number.strip().upper()} đang chờ hôm nay (no such waiting ticket today)",
                           code="unknown_ticket")
        return self.ticket(ticket_id)

    def _refuse_if_busy(self, counter: dict) -> None:
        if counter["current_ticket_id"]:
            current = store.ticket_row(self.db, counter["current_ticket_id"])
            if current and current["status"] in (TicketStatus.CALLED, TicketStatus.SERVING):
                raise Conflict(f"Quầy đang phục vụ số {current['number']}; hãy kết thúc trước khi gọi số mới "
                               "(finish the current ticket first)", code="counter_busy")

    def _claim(self, ticket: dict, counter: dict, clerk_id: int, kind: str, detail=None) -> None:
        to_status = next_status("call", ticket["status"])
        now = self.clock()
        claimed = store.execute(
            self.db,
            """UPDATE tickets SET status = ?, counter_id = ?, clerk_id = ?, called_at = ?,
                      first_called_at = COALESCE(first_called_at, ?), target_counter_id = NULL, recall_count = 0
               WHERE id = ? AND status = 'waiting'""",
            (to_status.value, counter["id"], clerk_id, now, now, ticket["id"]))
        if claimed != 1:
            raise Conflict("Phiếu vừa được quầy khác gọi (ticket already called)", code="already_called")
        self._log(ticket, kind, to_status.value, counter["id"], clerk_id, detail, at=now)
        store.execute(self.db, "UPDATE counters SET current_ticket_id = ? WHERE id = ?", (ticket["id"], counter["id"]))

    def _after_call(self, ticket_id: str, counter_id: int) -> list[Event]:
        return ([self._call_event(ticket_id)] + self._ticket_events(ticket_id) + self._counter_events(counter_id)
                + [queue_changed_marker()])

    def _ticket_at_counter(self, ticket_id, counter_id, clerk_id) -> tuple[dict, dict]:
        counter = self._counter_of_clerk(counter_id, clerk_id)
        ticket = self.ticket(ticket_id)
        if ticket["counter_id"] != counter["id"] or ticket["status"] not in (TicketStatus.CALLED, TicketStatus.SERVING):
            raise Forbidden("Phiếu này không do quầy của bạn gọi (ticket was not called at your counter)",
                            code="not_your_ticket")
        return ticket, counter

    def recall(self, ticket_id, counter_id, clerk_id: int) -> Outcome:
        """Announce a called ticket again, at most `recall_limit` times; then the clerk marks it a no-show."""
        with store.transaction(self.db):
            ticket, counter = self._ticket_at_counter(ticket_id, counter_id, clerk_id)
            to_status = next_status("recall", ticket["status"])
            limit = int(self.settings["recall_limit"])
            if limit and ticket["recall_count"] >= limit:
                raise Conflict(f"Đã gọi lại tối đa {limit} lần; nếu công dân không đến, hãy bấm «Vắng mặt» "
                               "(recall limit reached: mark the ticket as a no-show)", code="recall_limit")
            now = self.clock()
            store.execute(self.db, "UPDATE tickets SET recall_count = recall_count + 1, called_at = ? WHERE id = ?",
                          (now, ticket["id"]))
            self._log(ticket, "recalled", to_status.value, counter["id"], clerk_id,
                      {"recall": ticket["recall_count"] + 1}, at=now)
            events = [self._call_event(ticket["id"])] + self._ticket_events(ticket["id"]) + self._counter_events(counter["id"])
            result = {"ticket": self.staff_ticket(store.ticket_row(self.db, ticket["id"]))}
        return Outcome(result, events)

    def start(self, ticket_id, counter_id, clerk_id: int) -> Outcome:
        """The citizen arrived at the counter: service time starts now."""
        return self._simple_transition(ticket_id, counter_id, clerk_id, "start", "started", "started_at")

    def no_show(self, ticket_id, counter_id, clerk_id: int) -> Outcome:
        """The citizen did not come; the counter is free again."""
        return self._simple_transition(ticket_id, counter_id, clerk_id, "no_show", "no_show", "finished_at",
                                       release=True)

    def restore_no_show(self, ticket_id=None, number=None, by: str = "clerk", counter_id=None, user_id=None,
                        device_id=None) -> Outcome:
        """A late-comer is back: today's no-show (by id or number) waits again, within the restore window."""
        return corrections.restore_no_show(self, ticket_id, number, by, counter_id, user_id, device_id)

    def change_priority(self, ticket_id, priority, reason, user_id: int, is_manager: bool = False) -> Outcome:
        """Correct a wrongly claimed priority group (the calling counter, or a manager), with a logged reason."""
        return corrections.change_priority(self, ticket_id, priority, reason, user_id, is_manager)

    def _simple_transition(self, ticket_id, counter_id, clerk_id, action, kind, time_column, release=False,
                           detail=None) -> Outcome:
        with store.transaction(self.db):
            ticket, counter = self._ticket_at_counter(ticket_id, counter_id, clerk_id)
            to_status = next_status(action, ticket["status"])
            now = self.clock()
            store.execute(self.db, f"UPDATE tickets SET status = ?, {time_column} = ? WHERE id = ?",
                          (to_status.value, now, ticket["id"]))
            self._log(ticket, kind, to_status.value, counter["id"], clerk_id, detail, at=now)
            if release:
                store.execute(self.db, "UPDATE counters SET current_ticket_id = NULL WHERE id = ?", (counter["id"],))
            events = self._ticket_events(ticket["id"]) + self._counter_events(counter["id"])
            result = {"ticket": self.staff_ticket(store.ticket_row(self.db, ticket["id"]))}
        return Outcome(result, events)

    def finish(self, ticket_id, counter_id, clerk_id: int, procedures, dossier_number=None, dossier=None) -> Outcome:
        """Close a ticket, recording which procedure(s) of its service were handled, and the dossier it produced."""
        codes = [procedures] if isinstance(procedures, str) else procedures
        if not codes or not isinstance(codes, list) or not all(isinstance(c, str) and c for c in codes):
            raise QueueError("Hãy chọn thủ tục đã giải quyết (procedure is required)", code="procedure_required")
        if dossier_number is not None and (not isinstance(dossier_number, str) or len(dossier_number) > 64):
            raise QueueError("Số biên nhận hồ sơ không hợp lệ (bad dossier number)", code="bad_dossier_number")
        dossier_request = dossiers.clean_request(dossier) if dossier is not None else None
        with store.transaction(self.db):
            ticket, counter = self._ticket_at_counter(ticket_id, counter_id, clerk_id)
            to_status = next_status("finish", ticket["status"])
            procedure_ids, procedure_rows = [], []
            for code in dict.fromkeys(codes):
                row = store.one(self.db, """SELECT * FROM procedures WHERE centre_id = ? AND code = ?
                                            AND service_id = ? AND active = 1""",
                                (self.centre_id, code, ticket["service_id"]))
                if row is None:
                    raise QueueError(f"Thủ tục '{code}' không thuộc lĩnh vực của phiếu này "
                                     "(procedure does not belong to the ticket's service)", code="bad_procedure")
                procedure_ids.append(row["id"])
                procedure_rows.append(row)
            now = self.clock()
            if dossier_request is not None:
                dossier_number = dossiers.clean_code(dossier_request["code"], self.settings["dossier_code_pattern"])
            store.execute(self.db, "UPDATE tickets SET status = ?, finished_at = ?, dossier_number = ? WHERE id = ?",
                          (to_status.value, now, dossier_number or None, ticket["id"]))
            for procedure_id in procedure_ids:
                store.insert(self.db, "ticket_procedures", {"ticket_id": ticket["id"], "procedure_id": procedure_id,
                                                            "counter_id": counter["id"], "clerk_id": clerk_id})
            self._log(ticket, "finished", to_status.value, counter["id"], clerk_id,
                      {"procedures": list(dict.fromkeys(codes))}, at=now)
            received = None
            if dossier_request is not None:  # after `finished`: the dossier is what the finished reception produced
                received = dossiers.record_received(self, {**ticket, "status": to_status.value}, counter, clerk_id,
                                                    procedure_rows, dossier_request, now)
            store.execute(self.db, "UPDATE counters SET current_ticket_id = NULL WHERE id = ?", (counter["id"],))
            events = (self._ticket_events(ticket["id"]) + self._counter_events(counter["id"])
                      + [rating_requested(ticket, counter["id"])])
            result = {"ticket": self.staff_ticket(store.ticket_row(self.db, ticket["id"]))}
            if received is not None:
                result["ticket"]["dossier"] = received
        return Outcome(result, events)

    def transfer(self, ticket_id, counter_id, clerk_id: int, service=None, to_counter=None) -> Outcome:
        """Send a ticket to another service or an open counter; it keeps its number and its place by issue time."""
        if (service is None) == (to_counter is None):
            raise QueueError("Chuyển tới một lĩnh vực hoặc một quầy (give service or counter)",
                             code="transfer_target")
        with store.transaction(self.db):
            ticket, counter = self._ticket_at_counter(ticket_id, counter_id, clerk_id)
            next_status("transfer", ticket["status"])
            target_service_id = ticket["service_id"]
            target_counter_id = None
            if service is not None:
                target_service = self.service_by_code(service)
                corrections.refuse_own_service(ticket, target_service)
                target_service_id = target_service["id"]
            else:
                target = self.counter(to_counter)
                if target["id"] == counter["id"]:
                    raise QueueError("Không thể chuyển tới chính quầy này (cannot transfer to the same counter)",
                                     code="transfer_target")
                corrections.refuse_unavailable_counter(target)
                target_counter_id = target["id"]
            self._requeue(ticket, counter["id"], clerk_id, "transferred",
                          service_id=target_service_id, target_counter_id=target_counter_id,
                          detail={"to_service": service, "to_counter": target_counter_id})
            events = self._ticket_events(ticket["id"]) + self._counter_events(counter["id"]) + [queue_changed_marker()]
            if target_counter_id:
                events.append(counter_changed(self.db, self.tz, self.counter(target_counter_id), to_monitor=False))
            result = {"ticket": self.staff_ticket(store.ticket_row(self.db, ticket["id"]))}
        return Outcome(result, events)

    def _requeue(self, ticket: dict, counter_id: int, clerk_id, kind: str, service_id=None,
                 target_counter_id=None, detail=None) -> None:
        now = self.clock()
        store.execute(self.db, """UPDATE tickets SET status = 'waiting', service_id = ?, target_counter_id = ?,
                                  counter_id = NULL, clerk_id = NULL, called_at = NULL, started_at = NULL,
                                  recall_count = 0 WHERE id = ?""",
                      (service_id or ticket["service_id"], target_counter_id, ticket["id"]))
        store.add_ticket_event(self.db, self.centre_id, ticket["id"], now, kind, ticket["status"], "waiting",
                               service_id or ticket["service_id"], counter_id, clerk_id, detail)
        store.execute(self.db, "UPDATE counters SET current_ticket_id = NULL WHERE id = ?", (counter_id,))

    def close_day(self, user_id=None, reason: str = "manual") -> Outcome:
        """Expire every waiting or called ticket now (`{expired: N}`); the day's end, see closing.py."""
        return closing.close_day(self, user_id, reason)

    def rate(self, ticket_id, score) -> Outcome:
        """Record the citizen's satisfaction (3 very satisfied, 2 satisfied, 1 dissatisfied) once."""
        if not isinstance(score, int) or isinstance(score, bool) or score not in (1, 2, 3):
            raise QueueError("Điểm đánh giá phải là 1, 2 hoặc 3 (score must be 1..3)", code="bad_score")
        with store.transaction(self.db):
            ticket = self.ticket(ticket_id)
            if ticket["status"] != TicketStatus.DONE:
                raise Conflict("Chỉ đánh giá được sau khi đã giải quyết xong (rate after service)",
                               code="not_finished")
            if ticket["rating"] is not None:
                raise Conflict("Phiếu này đã được đánh giá (already rated)", code="already_rated")
            store.execute(self.db, "UPDATE tickets SET rating = ? WHERE id = ?", (score, ticket["id"]))
            self._log(ticket, "rated", ticket["status"], ticket["counter_id"], ticket["clerk_id"], {"score": score})
            events = self._ticket_events(ticket["id"]) + [rating_recorded(ticket["id"], score, ticket["counter_id"])]
            result = self.public_ticket(store.ticket_row(self.db, ticket["id"]))
        return Outcome(result, events)
