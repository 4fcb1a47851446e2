"""A clerk's session at a counter: signing in and out, pausing and resuming (half of QueueService)."""
from __future__ import annotations

from . import corrections, store
from .events import queue_changed_marker
from .model import Conflict, CounterState, Forbidden, Outcome, QueueError, TicketStatus

PAUSE_REASONS = {"break": "Nghỉ giải lao", "meeting": "Họp", "system": "Sự cố hệ thống", "other": "Khác"}
PAUSE_REASONS_EN = {"break": "Break", "meeting": "Meeting", "system": "System problem", "other": "Other"}


class CounterSessions:
    """Relies on QueueService's `db`, `centre_id`, `clock`, `counter()`, `_counter_events()` and `_requeue()`."""

    def clerk_counter(self, clerk_id: int) -> dict | None:
        """The counter a clerk is signed in at, if any."""
        return store.one(self.db, "SELECT * FROM counters WHERE centre_id = ? AND clerk_id = ? AND active = 1",
                         (self.centre_id, clerk_id))

    def _counter_of_clerk(self, counter_id, clerk_id) -> dict:
        counter = self.counter(counter_id)
        if counter["clerk_id"] != clerk_id:
            raise Forbidden("Cán bộ chưa đăng nhập tại quầy này (not signed in at this counter)",
                            code="not_at_counter")
        return counter

    def _set_counter(self, counter_id: int, **values) -> None:
        values.setdefault("state_since", self.clock())
        assignments = ", ".join(f"{column} = ?" for column in values)
        store.execute(self.db, f"UPDATE counters SET {assignments} WHERE id = ?", (*values.values(), counter_id))

    def _counter_log(self, counter_id: int, kind: str, clerk_id, reason=None) -> None:
        store.insert(self.db, "counter_events", {"centre_id": self.centre_id, "counter_id": counter_id,
                                                 "at": self.clock(), "kind": kind, "clerk_id": clerk_id,
                                                 "reason": reason})

    def sign_in(self, counter_id, clerk_id: int) -> Outcome:
        """Put a clerk at a counter; one clerk per counter and one counter per clerk."""
        with store.transaction(self.db):
            counter = self.counter(counter_id)
            if counter["clerk_id"] not in (None, clerk_id):
                raise Conflict("Quầy đang có cán bộ khác đăng nhập (another clerk is signed in here)",
                               code="counter_taken")
            elsewhere = self.clerk_counter(clerk_id)
            if elsewhere and elsewhere["id"] != counter["id"]:
                raise Conflict(f"Cán bộ đang đăng nhập tại quầy {elsewhere['number']}; hãy đăng xuất trước "
                               "(already signed in at another counter)", code="clerk_elsewhere")
            if counter["clerk_id"] != clerk_id:
                self._set_counter(counter["id"], clerk_id=clerk_id, state=CounterState.OPEN.value,
                                  pause_reason=None)
                self._counter_log(counter["id"], "signed_in", clerk_id)
            events = self._counter_events(counter["id"], state_changed=True) + [queue_changed_marker()]
            result = self.counter_snapshot(counter["id"])
        return Outcome(result, events)

    def sign_out(self, counter_id, clerk_id: int) -> Outcome:
        """Close a counter; a ticket still called there, and those transferred to it, go back to the queue in their place."""
        with store.transaction(self.db):
            counter = self._counter_of_clerk(counter_id, clerk_id)
            events = []
            if counter["current_ticket_id"]:
                ticket = store.ticket_row(self.db, counter["current_ticket_id"])
                if ticket["status"] in (TicketStatus.CALLED, TicketStatus.SERVING):
                    self._requeue(ticket, counter["id"], clerk_id, "returned_on_sign_out")
                    events += self._ticket_events(ticket["id"])
            for returned_id in corrections.return_transferred(self, counter, clerk_id):
                events += self._ticket_events(returned_id)
            self._set_counter(counter["id"], clerk_id=None, state=CounterState.CLOSED.value,
                              pause_reason=None, current_ticket_id=None)
            self._counter_log(counter["id"], "signed_out", clerk_id)
            events += self._counter_events(counter["id"], state_changed=True) + [queue_changed_marker()]
            result = self.counter_snapshot(counter["id"])
        return Outcome(result, events)

    def pause(self, counter_id, clerk_id: int, reason="break") -> Outcome:
        """Stop calling at a counter for a stated reason, visible on the monitor."""
        reason = reason or "break"
        if reason not in PAUSE_REASONS:
            raise QueueError(f"Lý do tạm dừng không hợp lệ; chọn một trong: {', '.join(PAUSE_REASONS)} "
                             "(unknown pause reason)", code="bad_reason")
        with store.transaction(self.db):
            counter = self._counter_of_clerk(counter_id, clerk_id)
            if counter["state"] != CounterState.PAUSED:
                self._set_counter(counter["id"], state=CounterState.PAUSED.value, pause_reason=reason)
                self._counter_log(counter["id"], "paused", clerk_id, reason)
            events = self._counter_events(counter["id"], state_changed=True) + [queue_changed_marker()]
            result = self.counter_snapshot(counter["id"])
        return Outcome(result, events)

    def resume(self, counter_id, clerk_id: int) -> Outcome:
        """Open a paused counter again."""
        with store.transaction(self.db):
            counter = self._counter_of_clerk(counter_id, clerk_id)
            if counter["state"] == CounterState.PAUSED:
                self._set_counter(counter["id"], state=CounterState.OPEN.value, pause_reason=None)
                self._counter_log(counter["id"], "resumed", clerk_id)
            events = self._counter_events(counter["id"], state_changed=True) + [queue_changed_marker()]
            result = self.counter_snapshot(counter["id"])
        return Outcome(result, events)
