"""The administration's JSON endpoints (/api/v1/admin): admins change, managers look; the same
validated, audited changes as the pages (queueing.admin)."""
from __future__ import annotations

from functools import partial

from flask import Blueprint, abort, current_app, jsonify, request

import web
from manager.admin_sections import SECTIONS, Section, after_change, disconnect
from queueing import admin, alerts
from web import get_db, json_body, now, require

api_bp = Blueprint("admin_api", __name__, url_prefix="/api/v1/admin")

# A centre's configuration file is bigger than the API's usual 64 KB request limit.
CONFIGURATION_MAX_BYTES = 4 * 1024 * 1024


# ---- JSON API --------------------------------------------------------------------------------

def _api_changer():
    return require("admin")


def _api_section(section: str) -> Section:
    if section not in SECTIONS:
        abort(404)
    return SECTIONS[section]


def _respond(outcome, section: str, status: int = 200):
    after_change(outcome, section)
    return jsonify(outcome.result), status


@api_bp.get("/<section>")
def api_list(section):
    require("manager", "admin")
    if section == "settings":
        return jsonify(admin.centre_settings_view(get_db(), current_app.config["CENTRE_ID"]))
    if section == "audit":
        entries = admin.audit_entries(get_db(), current_app.config["CENTRE_ID"],
                                      min(request.args.get("limit", 100, type=int), 1000),
                                      request.args.get("before", type=int), request.args.get("views") == "1")
        return jsonify(entries)
    if section == "alerts":
        return jsonify(alerts.current(get_db(), current_app.config["CENTRE_ID"], now()))
    if section == "configuration":
        return jsonify(admin.export_configuration(get_db(), current_app.config["CENTRE_ID"]))
    return jsonify(_api_section(section).listing(get_db(), current_app.config["CENTRE_ID"]))


@api_bp.post("/<section>")
def api_create(section):
    spec = _api_section(section)
    principal = _api_changer()
    data = json_body(spec.api_fields)
    db, centre_id = get_db(), current_app.config["CENTRE_ID"]
    if section == "devices":
        from printers.drivers import parse_printer_uri
        create = partial(admin.create_device, check_printer_uri=parse_printer_uri)
    else:
        create = spec.create
    return _respond(create(db, centre_id, principal.id, data, now()), section, 201)


@api_bp.patch("/<section>/<int:item_id>")
def api_update(section, item_id):
    spec = _api_section(section)
    if spec.update is None:
        abort(405)
    principal = _api_changer()
    allowed = spec.api_fields - {"password"} if section == "users" else spec.api_fields
    data = json_body(allowed)
    return _respond(spec.update(get_db(), current_app.config["CENTRE_ID"], principal.id, item_id, data, now()), section)


@api_bp.post("/<section>/<int:item_id>/<any(activate, deactivate):verb>")
def api_active(section, item_id, verb):
    spec = _api_section(section)
    if spec.set_active is None:
        abort(404)
    principal = _api_changer()
    outcome = spec.set_active(get_db(), current_app.config["CENTRE_ID"], principal.id, item_id, verb == "activate",
                              now())
    if section == "users" and verb == "deactivate":
        disconnect("user", item_id)
    return _respond(outcome, section)


@api_bp.post("/users/<int:item_id>/reset-password")
def api_reset_password(item_id):
    principal = _api_changer()
    data = json_body({"password"})
    outcome = admin.reset_password(get_db(), current_app.config["CENTRE_ID"], principal.id, item_id,
                                   data.get("password"), now())
    response, status = _respond(outcome, "users")
    response.headers["Cache-Control"] = "no-store"
    return response, status


@api_bp.post("/devices/<int:item_id>/revoke")
def api_revoke(item_id):
    principal = _api_changer()
    outcome = admin.revoke_device(get_db(), current_app.config["CENTRE_ID"], principal.id, item_id, now())
    disconnect("device", item_id)
    return _respond(outcome, "devices")


@api_bp.patch("/settings")
def api_settings():
    principal = _api_changer()
    data = json_body(set(admin.SETTING_DEFAULTS) | set(admin.CENTRE_FIELDS))
    return _respond(admin.update_settings(get_db(), current_app.config["CENTRE_ID"], principal.id, data, now()),
                    "settings")


@api_bp.put("/configuration")
def api_import():
    request.max_content_length = CONFIGURATION_MAX_BYTES
    principal = _api_changer()
    if not request.is_json:
        raise web.ApiError("Nội dung phải là JSON (Content-Type must be application/json)",
                           code="unsupported_media_type", status=415)
    config = request.get_json(silent=True)
    if not isinstance(config, dict):
        raise web.ApiError("Nội dung JSON không hợp lệ: cần một đối tượng (body must be a JSON object)",
                           code="bad_json")
    outcome = admin.import_configuration(get_db(), current_app.config["CENTRE_ID"], config, principal.id, now())
    return _respond(outcome, "configuration")


@api_bp.errorhandler(admin.ValidationError)
def api_validation_error(error):
    body = {"error": error.message, "code": error.code}
    if error.field:
        body["field"] = error.field
    if len(error.errors) > 1 or error.code == "bad_configuration":
        body["errors"] = error.errors
    if len(error.fields) > 1:
        body["fields"] = error.fields
    return jsonify(body), error.status


