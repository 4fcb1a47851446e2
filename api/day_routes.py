"""The day's end over HTTP: closing the day on demand and the centre's holiday calendar (issue 11)."""
from __future__ import annotations

from flask import Blueprint, current_app, jsonify

from queueing import holidays
from web import get_db, get_queue, json_body, now, publish, require

bp = Blueprint("day", __name__, url_prefix="/api/v1")


@bp.post("/day/close")
def close_day():
    """Every waiting or called ticket becomes `expired` now; the audit log records who asked."""
    json_body(set())
    principal = require("manager", "admin")
    outcome = get_queue().close_day(principal.id, reason="manual")
    publish(outcome.events)
    return jsonify(outcome.result)


@bp.get("/holidays")
def list_holidays():
    """The days the centre is closed (public: the kiosk and the citizens' pages may show them)."""
    return jsonify(holidays.list_holidays(get_db(), current_app.config["CENTRE_ID"]))


@bp.post("/holidays")
def add_holiday():
    principal = require("admin")
    data = json_body({"date", "name", "name_en"})
    outcome = holidays.add_holiday(get_db(), current_app.config["CENTRE_ID"], principal.id, data, now())
    return jsonify(outcome.result), 201


@bp.delete("/holidays/<day>")
def remove_holiday(day):
    principal = require("admin")
    outcome = holidays.remove_holiday(get_db(), current_app.config["CENTRE_ID"], principal.id, day, now())
    return jsonify(outcome.result)
