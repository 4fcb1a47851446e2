"""Issue 11: nothing stranded (transfers, sign-outs, out-of-order calls), late-comers and priority corrections.

The QueueService methods that use these stay thin; each function here runs inside the caller's write
transaction (or opens one itself when it is a command of its own) and appends one `ticket_events` row
per ticket it changes.
"""
from __future__ import annotations

import re
import unicodedata

from . import store
from .events import queue_changed_marker
from .model import Conflict, CounterState, Forbidden, NotFound, Outcome, QueueError, TicketStatus
from .numbering import local_day
from .transitions import next_status

RESTORE_PLACES = ("behind_waiting", "original")
RESTORE_BY = ("clerk", "manager", "kiosk")
REASON_MAX = 200
# A slip's QR is its tracking URL, ".../t/<track key>" (issue 12: the key, not the public ticket id,
# proves the slip); a scanner types it as text, sometimes with stray whitespace around it.
TRACK_PATH = re.compile(r"/t/([A-Za-z0-9_-]{4,64})(?:[/?#]|$)")
BARE_KEY = re.compile(r"[A-Za-z0-9_-]{16,64}")


def _label(counter: dict) -> str:
    return f"Quầy {counter['number']} ({counter['name']})"


# Old setting names still read from configuration files written before the rename.
RENAMED_SETTINGS = {"no_show_after_recalls": "recall_limit"}


def current_setting_names(settings: dict) -> dict:
    """Settings with old names renamed; a new name given too wins over its old one."""
    if not isinstance(settings, dict):
        return settings
    renamed = {RENAMED_SETTINGS.get(key, key): value for key, value in settings.items() if key in RENAMED_SETTINGS}
    return {**renamed, **{key: value for key, value in settings.items() if key not in RENAMED_SETTINGS}}


# ---- nothing stranded ---------------------------------------------------------------------------

def refuse_unavailable_counter(counter: dict) -> None:
    """A ticket sent to a closed or paused counter would wait there, unseen, until it reopens."""
    if counter["state"] == CounterState.CLOSED:
        raise Conflict(f"{_label(counter)} đang đóng; không thể chuyển phiếu tới quầy này "
                       f"(counter {counter['number']} is closed)", code="counter_closed")
    if counter["state"] == CounterState.PAUSED:
        raise Conflict(f"{_label(counter)} đang tạm dừng; không thể chuyển phiếu tới quầy này "
                       f"(counter {counter['number']} is paused)", code="counter_paused")


def refuse_own_service(ticket: dict, service: dict) -> None:
    """A transfer into the ticket's own service would only move it ahead of others without a logged reason."""
    if service["id"] == ticket["service_id"]:
        raise Conflict(f"Số {ticket['number']} đã thuộc lĩnh vực {service['name']}; không chuyển về chính lĩnh vực "
                       "này. Hãy chuyển tới lĩnh vực hoặc quầy khác (the ticket is already in this service)",
                       code="same_service")


def return_transferred(queue, counter: dict, clerk_id) -> list[str]:
    """Give the tickets transferred to a closing counter back to their service's queue, at their place."""
    returned = []
    for row in store.tickets_sent_to_counter(queue.db, queue.centre_id, counter["id"]):
        ticket = store.ticket_row(queue.db, row["id"])
        store.execute(queue.db, "UPDATE tickets SET target_counter_id = NULL WHERE id = ?", (ticket["id"],))
        queue._log(ticket, "returned_to_service", TicketStatus.WAITING.value, counter["id"], clerk_id,
                   {"from_counter": counter["number"], "service": ticket["service_code"]})
        returned.append(ticket["id"])
    return returned


def check_out_of_order_call(queue, ticket: dict, counter: dict) -> None:
    """An out-of-order call may take only what this counter could call next: its services and what was sent to it."""
    next_status("call", ticket["status"])
    if ticket["target_counter_id"] == counter["id"]:
        return
    if ticket["target_counter_id"] is not None:
        target = store.one(queue.db, "SELECT number, name FROM counters WHERE id = ?", (ticket["target_counter_id"],))
        raise Conflict(f"Số {ticket['number']} đã được chuyển tới quầy {target['number']}; chỉ quầy đó gọi được số "
                       f"này (the ticket was transferred to counter {target['number']})", code="not_served_here")
    if not store.counter_serves(queue.db, counter["id"], ticket["service_id"]):
        raise Conflict(f"{_label(counter)} không phục vụ lĩnh vực {ticket['service_name']} của số {ticket['number']} "
                       "(this counter does not serve the ticket's service)", code="not_served_here")


def count_in_priority_ratio(queue, ticket: dict, counter: dict) -> None:
    """Count an out-of-order call in the priority ratio as call_next counts its calls, or it would bypass the ratio."""
    was_priority = ticket["priority_group_id"] is not None
    store.execute(queue.db, "UPDATE counters SET consecutive_priority_calls = ? WHERE id = ?",
                  (counter["consecutive_priority_calls"] + 1 if was_priority else 0, counter["id"]))


# ---- late-comers --------------------------------------------------------------------------------

def track_key_from_scan(text) -> str:
    """The tracking key in a scanned slip QR (its tracking URL) or a typed key."""
    if not isinstance(text, str) or not text.strip():
        raise QueueError("Hãy quét mã QR trên phiếu (scan the QR code on the slip)", code="scan_required")
    text = unicodedata.normalize("NFC", text.strip())
    found = TRACK_PATH.search(text)
    if found:
        return found.group(1)
    if BARE_KEY.fullmatch(text):
        return text
    raise QueueError("Không đọc được mã trên phiếu; vui lòng quét lại hoặc gặp cán bộ hướng dẫn "
                     "(the slip's code was not recognised)", code="bad_scan")


def ticket_id_from_scan(queue, text) -> str:
    """The id of the ticket whose slip was scanned: its tracking key must be that ticket's (404 otherwise)."""
    row = queue.ticket_for_key(track_key_from_scan(text))
    if row is None:
        raise NotFound("Không tìm thấy phiếu này; vui lòng gặp cán bộ hướng dẫn (unknown slip)",
                       code="unknown_ticket")
    return row["id"]


def no_show_by_number(queue, number) -> dict:
    """Today's no-show with this number."""
    if not isinstance(number, str) or not number.strip():
        raise QueueError("Hãy nhập số thứ tự cần khôi phục (number is required)", code="number_required")
    number = unicodedata.normalize("NFC", number.strip().upper())
    ticket_id = store.ticket_id_by_number(queue.db, queue.centre_id, local_day(queue.clock(), queue.tz), number,
                                          TicketStatus.NO_SHOW.value)
    if ticket_id is None:
        raise NotFound(f"Hôm nay không có số {number} bị đánh dấu vắng mặt (no such no-show today)",
                       code="unknown_ticket")
    return queue.ticket(ticket_id)


def _refuse_restore(queue, ticket: dict, now: float) -> None:
    status = ticket["status"]
    if status == TicketStatus.WAITING:
        raise Conflict(f"Số {ticket['number']} vẫn đang chờ; không cần khôi phục (the ticket is still waiting)",
                       code="not_no_show")
    if status in (TicketStatus.CALLED, TicketStatus.SERVING):
        raise Conflict(f"Số {ticket['number']} đang được mời tới quầy {ticket['counter_number']} "
                       f"(the ticket is called at counter {ticket['counter_number']})", code="not_no_show")
    if status != TicketStatus.NO_SHOW:
        raise Conflict(f"Số {ticket['number']} không ở trạng thái vắng mặt; vui lòng lấy số mới "
                       "(only a no-show can be restored)", code="not_no_show")
    if ticket["local_day"] != local_day(now, queue.tz):
        raise Conflict(f"Số {ticket['number']} là của ngày khác; vui lòng lấy số mới "
                       "(only today's no-shows can be restored)", code="restore_too_late")
    minutes = int(queue.settings["no_show_restore_minutes"])
    if minutes <= 0:
        raise Conflict("Trung tâm không cho khôi phục số vắng mặt; vui lòng lấy số mới "
                       "(this centre does not restore no-shows)", code="restore_disabled")
    if now - ticket["finished_at"] > minutes * 60:
        raise Conflict(f"Đã quá {minutes} phút kể từ khi số {ticket['number']} bị đánh dấu vắng mặt; vui lòng lấy "
                       f"số mới (a no-show can be restored within {minutes} minutes)", code="restore_too_late")


def restore_no_show(queue, ticket_id=None, number=None, by: str = "clerk", counter_id=None, user_id=None,
                    device_id=None) -> Outcome:
    """Put a late-comer's no-show back in its service's queue, where `no_show_restore_place` says."""
    assert by in RESTORE_BY
    with store.transaction(queue.db):
        if by == "clerk" and counter_id is not None:
            queue._counter_of_clerk(counter_id, user_id)
        ticket = queue.ticket(ticket_id) if ticket_id is not None else no_show_by_number(queue, number)
        now = queue.clock()
        _refuse_restore(queue, ticket, now)
        to_status = next_status("restore", ticket["status"])
        place = queue.settings["no_show_restore_place"]
        queue_at = ticket["queue_at"]
        if place != "original":
            # Behind everyone waiting now; like a new ticket, never ahead of them if the clock was set back.
            queue_at = max(now, store.latest_queue_time(queue.db, queue.centre_id, ticket["local_day"]) or now)
        # first_called_at stays: the wait in the statistics is to the FIRST call (docs/architecture.md).
        store.execute(queue.db, """UPDATE tickets SET status = ?, queue_at = ?, counter_id = NULL, clerk_id = NULL,
                                   target_counter_id = NULL, called_at = NULL, started_at = NULL,
                                   finished_at = NULL, recall_count = 0 WHERE id = ?""",
                      (to_status.value, queue_at, ticket["id"]))
        detail = {"by": by, "place": place, "absent_s": round(max(0.0, now - ticket["finished_at"]), 1)}
        if device_id is not None:
            detail["device"] = device_id
        queue._log(ticket, "restored", to_status.value, counter_id, user_id, detail, at=now)
        events = queue._ticket_events(ticket["id"]) + [queue_changed_marker()]
        result = {"ticket": queue.public_ticket(store.ticket_row(queue.db, ticket["id"]))}
    return Outcome(result, events)


# ---- priority corrections -----------------------------------------------------------------------

def change_priority(queue, ticket_id, priority, reason, user_id: int, is_manager: bool) -> Outcome:
    """Remove or change a ticket's priority group, with a required reason, logged as `priority_changed`."""
    if not isinstance(reason, str) or not reason.strip():
        raise QueueError("Sửa nhóm ưu tiên cần ghi lý do (a reason is required)", code="reason_required")
    if priority is not None and not isinstance(priority, str):
        raise QueueError("Nhóm ưu tiên phải là một mã hoặc null (priority must be a code or null)",
                         code="unknown_priority")
    with store.transaction(queue.db):
        ticket = queue.ticket(ticket_id)
        at_counter = queue.clerk_counter(user_id)
        at_my_counter = (at_counter is not None and ticket["counter_id"] == at_counter["id"]
                         and ticket["status"] in (TicketStatus.CALLED, TicketStatus.SERVING))
        if not at_my_counter and not is_manager:
            raise Forbidden("Chỉ quầy đã gọi số này (hoặc quản lý) được sửa nhóm ưu tiên "
                            "(only the counter that called the ticket, or a manager)", code="not_your_ticket")
        if ticket["status"] not in (TicketStatus.WAITING, TicketStatus.CALLED, TicketStatus.SERVING):
            raise Conflict(f"Số {ticket['number']} đã kết thúc; không sửa nhóm ưu tiên được "
                           "(the ticket is closed)", code="ticket_closed")
        priority_id = queue._priority_id(priority)
        if priority_id == ticket["priority_group_id"]:
            raise Conflict("Nhóm ưu tiên không thay đổi (priority unchanged)", code="priority_unchanged")
        store.execute(queue.db, "UPDATE tickets SET priority_group_id = ? WHERE id = ?", (priority_id, ticket["id"]))
        queue._log(ticket, "priority_changed", ticket["status"], ticket["counter_id"], user_id,
                   {"from": ticket["priority_code"], "to": priority or None, "reason": reason.strip()[:REASON_MAX]})
        events = queue._ticket_events(ticket["id"])
        if ticket["counter_id"] and ticket["status"] != TicketStatus.WAITING:
            events += queue._counter_events(ticket["counter_id"])
        else:
            events.append(queue_changed_marker())
        result = {"ticket": queue.staff_ticket(store.ticket_row(queue.db, ticket["id"]))}
    return Outcome(result, events)
