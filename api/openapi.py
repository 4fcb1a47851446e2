"""GET /api/v1/openapi.json: the OpenAPI description of the HTTP API, kept in code next to the routes.

Only operations whose route this server has are published (the statistics routes come with the
statistics blueprint); tests/test_openapi.py checks that every /api/v1 route is described and runs
schemathesis against a live server with this description.
"""
from __future__ import annotations

import re

from flask import Blueprint, current_app, jsonify

bp = Blueprint("openapi", __name__)

OPENAPI_VERSION = "3.0.3"
API_VERSION = "1.0.0"


def ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def string(**extra) -> dict:
    return {"type": "string", **extra}


def nullable(schema: dict) -> dict:
    return {**schema, "nullable": True}


def obj(properties: dict, required=(), closed: bool = False) -> dict:
    """An object schema; `closed` request bodies refuse unknown fields, as the server does."""
    schema = {"type": "object", "properties": properties}
    if required:
        schema["required"] = list(required)
    if closed:
        schema["additionalProperties"] = False
    return schema


INTEGER = {"type": "integer"}
NUMBER = {"type": "number"}
BOOLEAN = {"type": "boolean"}
# One procedure the assistant offers: the contract's four fields, then what the kiosk shows beside it.
ASSISTANT_SUGGESTION = obj({
    "service": string(), "procedure": string(), "name": string(), "score": {**NUMBER, "minimum": 0, "maximum": 100},
    "service_name": string(), "legal_time": nullable(string()), "fee": nullable(string()),
    "legal_days": nullable(INTEGER), "documents": {"type": "array", "items": string()}},
    ["service", "procedure", "name", "score"])
TIME = nullable(string(format="date-time"))
STATUS = string(enum=["waiting", "called", "serving", "done", "no_show", "expired"],
                description="expired: still waiting or called when the day closed; never called afterwards")
# Seconds until the forecast call; null when no open counter serves the service (the screens say so).
WAIT = nullable({"type": "integer", "minimum": 0})
WAIT_RANGE = nullable({"type": "array", "items": {"type": "integer", "minimum": 0}, "minItems": 2, "maxItems": 2})

SCHEMAS = {
    "Error": obj({"error": string(minLength=1, description="a readable message, Vietnamese then English"),
                  "code": string(minLength=1, description="a stable slug for programs")},
                 ["error", "code"]),
    "Procedure": obj({"code": string(), "name": string(), "name_en": string()}, ["code", "name", "name_en"]),
    "Service": obj({
        "code": string(), "name": string(), "name_en": string(), "prefix": string(), "open": BOOLEAN,
        "sold_out": BOOLEAN, "waiting": INTEGER, "open_counters": INTEGER, "estimated_wait_s": WAIT,
        "estimated_wait_range_s": WAIT_RANGE, "opening_hours": nullable({"type": "object"}),
        "closed_reason": nullable(string(enum=["holiday", "cut_off", "hours"], description=(
            "why no number is issued now: a holiday, the cut-off before closing, or the opening hours"))),
        "closed_message": nullable(string(description="what the kiosk says, Vietnamese then English")),
        "opens_at": nullable(string(format="date-time", description="when the service opens next")),
        "procedures": {"type": "array", "items": ref("Procedure")},
    }, ["code", "name", "name_en", "prefix", "open", "waiting", "estimated_wait_s", "procedures"]),
    "ServiceQueue": obj({"code": string(), "name": string(), "name_en": string(), "waiting": INTEGER,
                         "open_counters": INTEGER, "estimated_wait_s": WAIT, "estimated_wait_range_s": WAIT_RANGE},
                        ["code", "waiting", "estimated_wait_s"]),
    "PublicTicket": obj({
        "id": string(), "number": string(), "service": string(), "service_name": string(),
        "service_name_en": string(), "status": STATUS,
        "position": {"type": "integer", "minimum": 0, "description": "tickets expected to be called before it"},
        "estimated_wait_s": WAIT, "estimated_wait_range_s": WAIT_RANGE, "counter": nullable(INTEGER), "counter_name": nullable(string()),
        "issued_at": TIME, "called_at": TIME, "rating": nullable(INTEGER),
    }, ["id", "number", "service", "status", "position", "counter", "called_at"]),
    "IssuedTicket": {"allOf": [ref("PublicTicket"), obj({
        "track_key": string(minLength=16, description="the secret that proves the ticket (reading it, following "
                                                      "it, rating it); only this answer, the slip and the link carry it"),
        "track_url": string(description="/t/<track_key>, the tracking page"),
        "priority": nullable(string()),
        "print": obj({"status": string(), "message": string()}),
        "dossier": ref("PublicDossier"),
    }, ["estimated_wait_s", "track_key", "track_url", "issued_at"])]},
    "StaffReadTicket": {"allOf": [ref("PublicTicket"), obj({"priority": nullable(string())})]},
    "TabletTicket": obj({"id": string(), "number": string(), "status": STATUS}, ["id", "number", "status"],
                        closed=True),
    "StaffTicket": {"allOf": [ref("PublicTicket"), obj({
        "priority": nullable(string()), "citizen_name": nullable(string()), "citizen_id_last4": nullable(string()),
        "citizen_birth_year": nullable(INTEGER), "recall_count": INTEGER, "started_at": TIME,
        "finished_at": TIME, "priority_name": nullable(string()), "dossier_number": nullable(string()),
        "dossier": nullable(ref("Dossier")),
    }, ["citizen_name", "recall_count"])]},
    "TicketAnswer": obj({"ticket": ref("StaffTicket")}, ["ticket"]),
    "RestoredAnswer": obj({"ticket": ref("PublicTicket")}, ["ticket"]),
    "MaybeTicketAnswer": obj({"ticket": nullable(ref("StaffTicket"))}, ["ticket"]),
    "Counter": obj({
        "counter": INTEGER, "number": INTEGER, "name": string(), "floor": string(),
        "state": string(enum=["closed", "open", "paused"]), "pause_reason": nullable(string()),
        "since": TIME, "clerk": nullable(string()), "ticket": nullable(string()),
        "ticket_status": nullable(string()),
    }, ["counter", "number", "name", "state", "ticket"]),
    "CounterSnapshot": {"allOf": [ref("Counter"), obj({
        "clerk_id": nullable(INTEGER),
        "current": {"anyOf": [ref("StaffTicket"), ref("TabletTicket"), {"type": "null"}],
                    "description": "a counter's rating tablet sees the number and state only, nothing personal"},
        "services": {"type": "array", "items": ref("ServiceQueue")}, "waiting": INTEGER,
    }, ["current", "services", "waiting"])]},
    "Call": obj({"ticket_id": string(), "number": string(), "counter": INTEGER, "counter_name": string(),
                 "service": string(), "called_at": TIME, "recall": BOOLEAN},
                ["ticket_id", "number", "counter", "called_at"]),
    "QueueState": obj({
        "services": {"type": "array", "items": ref("ServiceQueue")},
        "counters": {"type": "array", "items": ref("Counter")},
        "recent_calls": {"type": "array", "items": ref("Call")},
        "notice": string(), "centre": obj({"id": string(), "name": string(), "name_en": string()}),
    }, ["services", "counters", "recent_calls"]),
}

# Request bodies, closed like json_body() on the server: unknown fields are refused.
BODIES = {
    "Login": obj({"username": string(), "password": string()}, ["username", "password"], closed=True),
    "TicketRequest": obj({
        "service": string(minLength=1, description="a service code from GET /services"),
        "priority": nullable(string(description="a priority group code")),
        "citizen_qr": nullable(string(maxLength=512, description="the ID card's QR as a scanner types it")),
        "lang": {"description": "vi or en; anything else means vi"},
        "dossier_code": string(description="result-return service: the dossier's code or its receipt's scanned QR"),
    }, ["service"], closed=True),
    "Pause": obj({"reason": nullable(string(enum=["break", "meeting", "system", "other"],
                                            description="default break"))}, closed=True),
    "Finish": obj({
        "procedure": string(minLength=1),
        "procedures": {"type": "array", "items": string(minLength=1), "minItems": 1},
        "dossier_number": nullable(string(maxLength=64)),
        "dossier": ref("DossierAtFinish"),
    }, closed=True),
    "Transfer": obj({"service": string(), "counter": INTEGER}, closed=True),
    "OutOfOrder": obj({"reason": string(minLength=1)}, ["reason"], closed=True),
    "CallNumber": obj({"number": string(minLength=1), "reason": string(minLength=1)}, ["number", "reason"],
                      closed=True),
    "RestoreNumber": obj({"number": string(minLength=1, description="today's number, e.g. A012")}, ["number"],
                         closed=True),
    "Scan": obj({"scan": string(minLength=1, maxLength=512, description="the slip's QR as the scanner types it: "
                                                                        "its tracking URL .../t/<track_key>")},
                ["scan"], closed=True),
    "PriorityChange": obj({"priority": nullable(string(description="a priority group code; null or absent removes "
                                                                   "the priority")),
                           "reason": string(minLength=1, maxLength=200)}, ["reason"], closed=True),
    "Rating": obj({"score": {"type": "integer", "minimum": 1, "maximum": 3},
                   "key": string(description="the ticket's track_key: needed by anyone but its counter's tablet")},
                  ["score"], closed=True),
    "CitizenCheck": obj({"citizen_qr": string(maxLength=512)}, ["citizen_qr"], closed=True),
    "Ask": obj({"text": string(), "lang": {"description": "vi or en; empty means vi"}}, ["text"], closed=True),
    "Empty": obj({}, closed=True),
    "Holiday": obj({"date": string(format="date", description="a local day YYYY-MM-DD"),
                    "name": string(minLength=1, maxLength=120), "name_en": nullable(string(maxLength=120))},
                   ["date", "name"], closed=True),
    "AdminFields": {"type": "object", "description": "the section's fields (see the admin pages); unknown ones "
                                                     "are refused"},
    "Password": obj({"password": nullable(string(description="empty or absent: a password is generated"))},
                    closed=True),
    # issue 13: the assistant's language data per centre, and its life events
    "Vocabulary": obj({"about": string(),
                       "abbreviations": {"type": "object", "additionalProperties": string(minLength=1),
                                         "description": "abbreviation -> expansion"},
                       "synonym_groups": {"type": "array", "items": {"type": "array", "items": string(minLength=1),
                                                                     "minItems": 2}},
                       "synonym_groups_en": {"type": "array", "items": {"type": "array",
                                                                        "items": string(minLength=1), "minItems": 2}},
                       "stopwords": {"type": "array", "items": string(minLength=1)},
                       "stopwords_en": {"type": "array", "items": string(minLength=1)},
                       "out_of_scope": obj({"vi": {"type": "array", "items": string(minLength=1)},
                                            "en": {"type": "array", "items": string(minLength=1)}}, closed=True)},
                      closed=True),
    "LifeEvent": obj({"code": string(minLength=1, maxLength=40), "name": string(minLength=1, maxLength=120),
                      "name_en": string(maxLength=120),
                      "procedures": {"type": "array", "items": string(), "minItems": 1,
                                     "description": "procedure codes, in order"},
                      "phrasings": {"type": "array", "items": string()},
                      "phrasings_en": {"type": "array", "items": string()}},
                     ["code", "name", "procedures"], closed=True),
}

ERROR_TEXT = {400: "bad request (unknown field, bad value)", 401: "no or unknown token",
              403: "not allowed for this token, or not at this counter", 404: "not found",
              405: "method not allowed", 409: "conflicts with the current state", 413: "body over 64 KB",
              415: "body is not JSON", 429: "too many requests"}
COMMON_ERRORS = (400, 404, 405, 413, 415)


def answer(schema: dict | None, description: str = "OK") -> dict:
    if schema is None:
        return {"description": description}
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def operation(endpoint: str, summary: str, ok: dict, status: int = 200, body: str | None = None,
              errors=(), auth: bool = True, parameters=(), tags=()) -> dict:
    """One operation: its answer, the errors it may give (always JSON {error, code}) and its body."""
    responses = {str(status): ok}
    for code in sorted(set(COMMON_ERRORS) | set(errors) | ({401} if auth else set())):
        responses[str(code)] = answer(ref("Error"), ERROR_TEXT[code])
    spec = {"operationId": endpoint.replace(".", "_"), "summary": summary, "responses": responses,
            "tags": list(tags)}
    if parameters:
        spec["parameters"] = list(parameters)
    if body:
        spec["requestBody"] = {"required": body not in ("Pause", "Empty"),
                               "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{body}"}}}}
    if not auth:
        spec["security"] = []
    return spec


TICKET_ID = {"name": "ticket_id", "in": "path", "required": True, "schema": string(),
             "description": "the ticket's id (public: displays hear it)"}
TRACK_KEY_QUERY = {"name": "key", "in": "query", "required": False, "schema": string(),
                   "description": "the ticket's track_key; anonymous callers need it (404 without)"}
COUNTER_ID = {"name": "counter_id", "in": "path", "required": True, "schema": INTEGER}
LANG_QUERY = {"name": "lang", "in": "query", "required": False, "schema": string(),
              "description": "vi or en; anything else means vi"}
DATE_QUERY = [{"name": name, "in": "query", "required": False, "schema": string(),
               "description": "a local day YYYY-MM-DD; default: the last 7 days"} for name in ("from", "to")]


def breakdowns() -> list[str]:
    from queueing.stats import BREAKDOWNS
    return list(BREAKDOWNS)


ADMIN_SECTIONS = ["services", "procedures", "counters", "priority_groups", "users", "devices"]
ADMIN_VIEWS = ADMIN_SECTIONS + ["settings", "audit", "alerts", "configuration"]
ITEM_ID = {"name": "item_id", "in": "path", "required": True, "schema": INTEGER}
ANY_JSON = answer({}, "the section's JSON")
TICKET_ACTION = (403, 404, 409)
COUNTER_ACTION = (403, 404, 409)


def paths() -> dict:
    """Every documented operation: {path: {method: operation}}."""
    staff = ("staff",)
    return {
        "/api/v1/auth/login": {"post": operation(
            "api.login", "Sign a staff member in; returns a bearer token for one working day",
            answer(obj({"token": string(), "role": string(), "name": string()}, ["token", "role"])),
            body="Login", errors=(401, 429), auth=False, tags=("auth",))},
        "/api/v1/auth/logout": {"post": operation(
            "api.logout", "Revoke the staff token the request carries",
            answer(obj({"ok": BOOLEAN, "name": string()}, ["ok"])), body="Empty", errors=(403,), tags=("auth",))},
        "/api/v1/openapi.json": {"get": operation(
            "openapi.openapi_json", "This description", answer({"type": "object"}), auth=False, tags=("meta",))},
        "/api/v1/me": {"get": operation(
            "api.me", "Who the request is authenticated as (anonymous without a token)",
            answer(obj({"kind": string(enum=["user", "device", "anonymous"]), "name": string(),
                        "role": nullable(string()), "counter": nullable(INTEGER)}, ["kind", "role"])),
            auth=False, tags=("auth",))},
        "/api/v1/services": {"get": operation(
            "api.services", "Services with open state, waiting counts, estimated waits and procedures",
            answer({"type": "array", "items": ref("Service")}), auth=False, tags=("kiosk",))},
        "/api/v1/tickets": {"post": operation(
            "api.issue_ticket", "Issue the next number of a service (kiosk, staff)",
            answer(ref("IssuedTicket"), "Issued: durable before this answer"), status=201, body="TicketRequest",
            errors=(403, 409, 429), tags=("kiosk",))},
        "/api/v1/tickets/{ticket_id}": {"get": operation(
            "api.get_ticket", "A ticket: staff and devices by id; anyone with its ?key=. No personal data; "
                              "the priority group only to staff",
            answer(ref("StaffReadTicket")), auth=False, parameters=[TICKET_ID, TRACK_KEY_QUERY], tags=("ticket",))},
        "/api/v1/tickets/{ticket_id}/recall": {"post": operation(
            "api.recall", "Announce a called ticket again", answer(ref("TicketAnswer")), body="Empty",
            errors=TICKET_ACTION, parameters=[TICKET_ID], tags=("counter",))},
        "/api/v1/tickets/{ticket_id}/start": {"post": operation(
            "api.start", "The citizen arrived: service starts", answer(ref("TicketAnswer")), body="Empty",
            errors=TICKET_ACTION, parameters=[TICKET_ID], tags=("counter",))},
        "/api/v1/tickets/{ticket_id}/no-show": {"post": operation(
            "api.no_show", "The citizen did not come", answer(ref("TicketAnswer")), body="Empty",
            errors=TICKET_ACTION, parameters=[TICKET_ID], tags=("counter",))},
        "/api/v1/tickets/{ticket_id}/finish": {"post": operation(
            "api.finish", "Close a ticket with the procedure(s) handled", answer(ref("TicketAnswer")),
            body="Finish", errors=TICKET_ACTION, parameters=[TICKET_ID], tags=("counter",))},
        "/api/v1/tickets/{ticket_id}/transfer": {"post": operation(
            "api.transfer", "Send a ticket to another service or counter; it keeps its number and place",
            answer(ref("TicketAnswer")), body="Transfer", errors=TICKET_ACTION, parameters=[TICKET_ID],
            tags=("counter",))},
        "/api/v1/tickets/{ticket_id}/call": {"post": operation(
            "api.call_out_of_order", "Call one waiting ticket out of order, with a logged reason",
            answer(ref("TicketAnswer")), body="OutOfOrder", errors=TICKET_ACTION, parameters=[TICKET_ID],
            tags=("counter",))},
        "/api/v1/tickets/{ticket_id}/restore": {"post": operation(
            "api.restore", "Put a no-show back in its service's queue within the centre's restore window "
                           "(a clerk at a counter, or a manager)",
            answer(ref("RestoredAnswer")), body="Empty", errors=TICKET_ACTION, parameters=[TICKET_ID],
            tags=("counter",))},
        "/api/v1/tickets/{ticket_id}/priority": {"post": operation(
            "api.change_priority", "Remove or change a wrongly claimed priority group, with a reason (the counter "
                                   "that called the ticket, or a manager)",
            answer(ref("TicketAnswer")), body="PriorityChange", errors=TICKET_ACTION, parameters=[TICKET_ID],
            tags=("counter",))},
        "/api/v1/counters/{counter_id}/restore": {"post": operation(
            "api.restore_number", "Restore today's no-show with this number (the clerk at this counter)",
            answer(ref("RestoredAnswer")), body="RestoreNumber", errors=COUNTER_ACTION, parameters=[COUNTER_ID],
            tags=("counter",))},
        "/api/v1/kiosk/back": {"post": operation(
            "api.kiosk_back", "Tôi đã quay lại / I'm back: the kiosk restores the no-show whose slip was scanned",
            answer(ref("RestoredAnswer")), body="Scan", errors=(403, 404, 409), tags=("kiosk",))},
        "/api/v1/tickets/{ticket_id}/rating": {"post": operation(
            "api.rating", "The citizen's satisfaction, once, after service (3 very satisfied .. 1 dissatisfied)",
            answer(ref("PublicTicket")), body="Rating", errors=(403, 404, 409), auth=False, parameters=[TICKET_ID],
            tags=("ticket",))},
        "/api/v1/counters/{counter_id}": {"get": operation(
            "api.counter_state", "A counter's state and current ticket (its clerk, managers, its tablet)",
            answer(ref("CounterSnapshot")), errors=(403,), parameters=[COUNTER_ID], tags=("counter",))},
        "/api/v1/counters/{counter_id}/sign-in": {"post": operation(
            "api.sign_in", "Sign the clerk in at a counter; one clerk per counter",
            answer(ref("CounterSnapshot")), body="Empty", errors=COUNTER_ACTION, parameters=[COUNTER_ID],
            tags=("counter",))},
        "/api/v1/counters/{counter_id}/sign-out": {"post": operation(
            "api.sign_out", "Close the counter; a ticket still called there goes back in its place",
            answer(ref("CounterSnapshot")), body="Empty", errors=COUNTER_ACTION, parameters=[COUNTER_ID],
            tags=("counter",))},
        "/api/v1/counters/{counter_id}/call-next": {"post": operation(
            "api.call_next", "Claim the next ticket for this counter; null when nothing waits",
            answer(ref("MaybeTicketAnswer")), body="Empty", errors=COUNTER_ACTION, parameters=[COUNTER_ID],
            tags=("counter",))},
        "/api/v1/counters/{counter_id}/call-number": {"post": operation(
            "api.call_number", "Call today's waiting ticket with this number out of order, with a reason",
            answer(ref("TicketAnswer")), body="CallNumber", errors=COUNTER_ACTION, parameters=[COUNTER_ID],
            tags=("counter",))},
        "/api/v1/counters/{counter_id}/pause": {"post": operation(
            "api.pause", "Stop calling for a reason shown on the monitor", answer(ref("CounterSnapshot")),
            body="Pause", errors=COUNTER_ACTION, parameters=[COUNTER_ID], tags=("counter",))},
        "/api/v1/counters/{counter_id}/resume": {"post": operation(
            "api.resume", "Open a paused counter again", answer(ref("CounterSnapshot")), body="Empty",
            errors=COUNTER_ACTION, parameters=[COUNTER_ID], tags=("counter",))},
        "/api/v1/day/close": {"post": operation(
            "day.close_day", "Close the day now: every waiting or called ticket becomes expired (managers, admin)",
            answer(obj({"expired": INTEGER}, ["expired"])), body="Empty", errors=(403,), tags=staff)},
        "/api/v1/holidays": {
            "get": operation("day.list_holidays", "The days the centre is closed, in date order",
                             answer({"type": "array", "items": ref("Holiday")}), auth=False, tags=("kiosk",)),
            "post": operation("day.add_holiday", "Add or rename a closed day (admin; audited)",
                              answer(ref("Holiday")), status=201, body="Holiday", errors=(403,), tags=("admin",))},
        "/api/v1/holidays/{day}": {"delete": operation(
            "day.remove_holiday", "Make a day a working day again (admin; audited)",
            answer(obj({"date": string(), "removed": BOOLEAN}, ["date", "removed"])), errors=(403,),
            parameters=[{"name": "day", "in": "path", "required": True, "schema": string()}], tags=("admin",))},
        "/api/v1/queue": {"get": operation(
            "api.queue_state", "Waiting counts, counters and recent calls (staff, devices)",
            answer(ref("QueueState")), errors=(403,), tags=("monitor",))},
        "/api/v1/citizen/check": {"post": operation(
            "kiosk.citizen_check", "Read a scanned ID-card QR for the kiosk screen; nothing is stored",
            answer(obj({"name": string(), "age": INTEGER, "elderly": BOOLEAN,
                        "suggested_priority": nullable(string())}, ["name", "elderly"])),
            body="CitizenCheck", errors=(403,), tags=("kiosk",))},
        "/api/v1/assistant/ask": {"post": operation(
            "kiosk.ask", "Find procedures from a citizen's free text (rate-limited per address)",
            answer(obj({"reply": string(), "suggestions": {"type": "array", "items": ASSISTANT_SUGGESTION},
                        # issue 13, additive: how sure, the three choices when unsure, a life event's steps
                        "understood": BOOLEAN, "confident": BOOLEAN,
                        "choices": {"type": "array", "items": ASSISTANT_SUGGESTION, "maxItems": 3},
                        "life_event": nullable(obj({"code": string(), "name": string(), "steps": {
                            "type": "array", "items": obj({
                                "service": string(), "procedure": string(), "name": string(),
                                "fee": nullable(string()), "legal_days": nullable(INTEGER),
                                "legal_time": nullable(string()), "documents": {"type": "array", "items": string()}},
                                ["service", "procedure", "name", "fee", "legal_days"])}},
                            ["code", "name", "steps"])),
                        "audio_url": nullable(string())},
                ["reply", "suggestions"])),
            body="Ask", errors=(429,), auth=False, tags=("kiosk",))},
        "/api/v1/assistant/greeting": {"get": operation(
            "kiosk.greeting", "The assistant's greeting for the time of day, with its spoken WAV",
            answer(obj({"text": string(), "audio_url": nullable(string())}, ["text", "audio_url"])),
            auth=False, parameters=[LANG_QUERY], tags=("kiosk",))},
        "/api/v1/stats": {"get": operation(
            "stats.stats_rows", "Statistics by service, procedure, counter, clerk, hour or day (managers)",
            answer(obj({"rows": {"type": "array", "items": {"type": "object"}}}, ["rows"])),
            errors=(403,), parameters=[*DATE_QUERY, {"name": "by", "in": "query", "required": False,
                                                     "schema": string(enum=breakdowns())}], tags=staff)},
        "/api/v1/stats/today": {"get": operation(
            "stats.stats_today", "Today's figures for the monitor (managers)", answer({"type": "object"}),
            errors=(403,), tags=staff)},
        "/api/v1/stats/charts": {"get": operation(
            "stats.stats_charts", "The history page's charts with their numbers (managers)",
            answer({"type": "object"}), errors=(403,), parameters=DATE_QUERY, tags=staff)},
        "/api/v1/stats/export": {"get": operation(
            "stats.stats_export", "The same statistics as a CSV or XLSX download (managers)",
            {"description": "the file", "content": {
                "text/csv": {"schema": string()},
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {
                    "schema": string(format="binary")}}},
            errors=(403,), parameters=[*DATE_QUERY, {
                "name": "by", "in": "query", "required": False, "schema": string(enum=breakdowns() + ["journal"])}, {
                "name": "format", "in": "query", "required": False, "schema": string(enum=["csv", "xlsx"])}],
            tags=staff)},
        "/api/v1/shipping/status": {"get": operation(
            "stats.shipping_status", "Where shipping the event log to the province hub stands: acknowledged "
            "sequence, events not yet there, lag and last error (managers)",
            answer(obj({"configured": {"type": "boolean"}, "acked_seq": {"type": "integer"},
                        "pending": {"type": "integer"}, "lag_s": nullable({"type": "number"}),
                        "last_success_at": nullable({"type": "number"}),
                        "last_attempt_at": nullable({"type": "number"}), "last_error": nullable(string())},
                       ["configured", "acked_seq", "pending", "lag_s"])),
            errors=(403,), tags=staff)},
        "/api/v1/admin/{section}": {
            "get": operation("admin_api.api_list", "A section of the centre's set-up, or its settings, audit log, "
                             "alerts or whole configuration (managers, admin)", ANY_JSON, errors=(403,),
                             parameters=[{"name": "section", "in": "path", "required": True,
                                          "schema": string(enum=ADMIN_VIEWS)},
                                         *({"name": name, "in": "query", "required": False, "schema": string(),
                                            "description": "audit log paging"}
                                           for name in ("limit", "before", "views"))], tags=("admin",)),
            "post": operation("admin_api.api_create", "Add a service, procedure, counter, priority group, user or "
                              "device (admin)", ANY_JSON, status=201, body="AdminFields", errors=(403, 409),
                              parameters=[{"name": "section", "in": "path", "required": True,
                                           "schema": string(enum=ADMIN_SECTIONS)}], tags=("admin",))},
        "/api/v1/admin/{section}/{item_id}": {"patch": operation(
            "admin_api.api_update", "Change an item of the set-up (admin)", ANY_JSON, body="AdminFields",
            errors=(403, 409), parameters=[{"name": "section", "in": "path", "required": True,
                                            "schema": string(enum=ADMIN_SECTIONS)}, ITEM_ID], tags=("admin",))},
        "/api/v1/admin/{section}/{item_id}/{verb}": {"post": operation(
            "admin_api.api_active", "Deactivate or reactivate an item (admin)", ANY_JSON, errors=(403, 409),
            parameters=[{"name": "section", "in": "path", "required": True, "schema": string(enum=ADMIN_SECTIONS)},
                        ITEM_ID, {"name": "verb", "in": "path", "required": True,
                                  "schema": string(enum=["activate", "deactivate"])}], tags=("admin",))},
        "/api/v1/admin/users/{item_id}/reset-password": {"post": operation(
            "admin_api.api_reset_password", "Set or generate a user's new password (admin)", ANY_JSON,
            body="Password", errors=(403, 409), parameters=[ITEM_ID], tags=("admin",))},
        "/api/v1/admin/devices/{item_id}/revoke": {"post": operation(
            "admin_api.api_revoke", "Revoke a device's token; it is disconnected at once (admin)", ANY_JSON,
            errors=(403, 409), parameters=[ITEM_ID], tags=("admin",))},
        "/api/v1/admin/settings": {"patch": operation(
            "admin_api.api_settings", "Change the centre's settings (admin)", ANY_JSON, body="AdminFields",
            errors=(403, 409), tags=("admin",))},
        "/api/v1/admin/configuration": {"put": operation(
            "admin_api.api_import", "Replace the centre's set-up with a configuration file's (admin)", ANY_JSON,
            body="AdminFields", errors=(403, 409), tags=("admin",))},
        "/api/v1/admin/vocabulary": {
            "get": operation("admin_api.api_vocabulary", "The assistant's language data: synonym groups, "
                             "abbreviations, stop-words, out-of-scope requests (managers, admin)",
                             answer(ref("Vocabulary")), errors=(403,), tags=("admin",)),
            "put": operation("admin_api.api_vocabulary_put", "Replace the assistant's language data; the kiosk "
                             "assistant uses it from its next question (admin; audited)", answer(ref("Vocabulary")),
                             body="Vocabulary", errors=(403,), tags=("admin",))},
        "/api/v1/admin/life-events": {
            "get": operation("admin_api.api_life_events", "The centre's life events, active or not (managers, admin)",
                             ANY_JSON, errors=(403,), tags=("admin",)),
            "post": operation("admin_api.api_life_event_save", "Add a life event, or edit the one with this code "
                              "(admin; audited)", ANY_JSON, body="LifeEvent", errors=(403,), tags=("admin",))},
        **voice_pack_paths(),
        "/api/v1/admin/life-events/{code}/{verb}": {"post": operation(
            "admin_api.api_life_event_active", "Deactivate or reactivate a life event (admin; audited)", ANY_JSON,
            errors=(403,), parameters=[{"name": "code", "in": "path", "required": True, "schema": string()},
                                       {"name": "verb", "in": "path", "required": True,
                                        "schema": string(enum=["activate", "deactivate"])}], tags=("admin",))},
    }


def voice_pack_paths() -> dict:
    """The voice pack (issue 19): its segments, one clip's WAV up or down, a sample sentence, the whole pack as a zip."""
    key = {"name": "key", "in": "path", "required": True, "schema": string(),
           "description": "a segment's key, as GET /admin/voice-pack lists them"}
    wav = {"description": "a 16-bit mono PCM WAV", "content": {"audio/wav": {"schema": string(format="binary")}}}
    zipped = {"description": "the pack: one <key>.wav per clip and voice-pack.json",
              "content": {"application/zip": {"schema": string(format="binary")}}}
    pack = obj({"enabled": {"type": "boolean"}, "complete": {"type": "boolean"}, "segments": {
        "type": "array", "items": obj({"key": string(), "text": string(), "kind": string(), "recorded": {"type": "boolean"},
                                       "duration_s": {"type": ["number", "null"]}})}})
    put = operation("admin_api.api_voice_clip_put", "Record one segment: a PCM WAV, at most 2 MB and 10 s; 400 when "
                    "not a WAV, too long, too large or silent (admin; audited)",
                    answer(obj({"key": string(), "recorded": {"type": "boolean"}, "duration_s": NUMBER})),
                    errors=(403,), parameters=[key], tags=("admin",))
    put["requestBody"] = {"required": True, "content": {"audio/wav": {"schema": string(format="binary")}}}
    load = operation("admin_api.api_voice_pack_import", "Load clips from an exported pack (zip); segments this centre "
                     "does not use are skipped (admin; audited)",
                     answer(obj({"imported": {"type": "array", "items": string()},
                                 "skipped": {"type": "array", "items": string()}})), errors=(403,), tags=("admin",))
    load["requestBody"] = {"required": True, "content": {"application/zip": {"schema": string(format="binary")}}}
    return {
        "/api/v1/admin/voice-pack": {"get": operation(
            "admin_api.api_voice_pack", "Every segment the announcements need, whether recorded, and whether the pack "
            "is in use (PATCH /admin/settings {voice: \"pack\"} switches it on once complete) (admin)",
            answer(pack), errors=(403,), tags=("admin",))},
        "/api/v1/admin/voice-pack/{key}": {
            "get": operation("admin_api.api_voice_clip", "One recorded clip (admin)", wav, errors=(403,),
                             parameters=[key], tags=("admin",)),
            "put": put},
        "/api/v1/admin/voice-pack/{key}/sample": {"get": operation(
            "admin_api.api_voice_clip_sample", "A call sentence containing the segment, from the clips recorded so far "
            "(admin)", wav, errors=(403,), parameters=[key], tags=("admin",))},
        "/api/v1/admin/voice-pack/export": {"get": operation(
            "admin_api.api_voice_pack_export", "Every recorded clip as one zip (admin)", zipped, errors=(403,),
            tags=("admin",))},
        "/api/v1/admin/voice-pack/import": {"post": load},
    }


def served_operations(url_map) -> set[tuple[str, str]]:
    """(method, OpenAPI path) of every /api/v1 route of a Flask url map."""
    served = set()
    for rule in url_map.iter_rules():
        if rule.rule.startswith("/api/v1/"):
            path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule)
            served |= {(method.lower(), path) for method in rule.methods - {"HEAD", "OPTIONS"}}
    return served


def build_spec(served: set[tuple[str, str]] | None = None) -> dict:
    """The OpenAPI document for the operations this server serves (all documented ones when None)."""
    from api import dossier_openapi, openapi_appointments  # issues 16 and 15's operations, in their own modules
    published = {}
    for path, methods in {**paths(), **dossier_openapi.paths(), **openapi_appointments.paths()}.items():
        kept = {method: spec for method, spec in methods.items() if served is None or (method, path) in served}
        if kept:
            published[path] = kept
    return {
        "openapi": OPENAPI_VERSION,
        "info": {"title": "Lượt — hệ thống xếp hàng lấy số (queue API)", "version": API_VERSION,
                 "description": "JSON in UTF-8; times ISO 8601 with the centre's offset; every error is "
                                "{\"error\": message, \"code\": slug} with a 4xx status. Staff get a bearer "
                                "token from /auth/login, devices from the command line."},
        "servers": [{"url": "/"}],
        "security": [{"bearerAuth": []}],
        "paths": published,
        "components": {"schemas": {**SCHEMAS, **BODIES, **dossier_openapi.SCHEMAS, **dossier_openapi.BODIES,
                                   **openapi_appointments.SCHEMAS, **openapi_appointments.BODIES},
                       "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}}},
    }


@bp.get("/api/v1/openapi.json")
def openapi_json():
    """The API's description, limited to what this server serves."""
    return jsonify(build_spec(served_operations(current_app.url_map)))
