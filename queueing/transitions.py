"""The ticket state machine: which action may move a ticket from which status to which."""
from __future__ import annotations

from .model import Conflict, TicketStatus

W, C, S, D, N, E = (TicketStatus.WAITING, TicketStatus.CALLED, TicketStatus.SERVING,
                    TicketStatus.DONE, TicketStatus.NO_SHOW, TicketStatus.EXPIRED)

# action -> {from status: to status}; anything not listed is refused.
TRANSITIONS: dict[str, dict[TicketStatus, TicketStatus]] = {
    "call": {W: C},
    "recall": {C: C},
    "start": {C: S},
    "finish": {S: D},
    "no_show": {C: N},
    "transfer": {C: W, S: W},
    "restore": {N: W},  # a late-comer back within the centre's restore window (issue 11)
    # The day closed (closing time, midnight, or a manager): a ticket being served is left to finish.
    "expire": {W: E, C: E},
}

_STATUS_VI = {W: "đang chờ", C: "đã được gọi", S: "đang được phục vụ", D: "đã xong", N: "vắng mặt", E: "đã hết hạn"}
_ACTION_VI = {"call": "gọi", "recall": "gọi lại", "start": "bắt đầu phục vụ", "finish": "kết thúc",
              "no_show": "đánh dấu vắng mặt", "transfer": "chuyển",
              "restore": "khôi phục", "expire": "cho hết hạn"}


class InvalidTransition(Conflict):
    """The ticket's current status does not allow the action."""

    code = "invalid_transition"


def next_status(action: str, current: str) -> TicketStatus:
    """Return the status after `action`, or raise InvalidTransition."""
    allowed = TRANSITIONS.get(action)
    if allowed is None:
        raise ValueError(f"unknown action {action!r}")
    status = TicketStatus(current)
    if status not in allowed:
        raise InvalidTransition(
            f"Không thể {_ACTION_VI[action]} một phiếu {_STATUS_VI[status]} "
            f"(cannot {action.replace('_', '-')} a ticket that is {status.value})")
    return allowed[status]
