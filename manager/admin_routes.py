"""Administration pages (/manager/admin) and JSON endpoints (/api/v1/admin): admins change, managers look.

Handlers only translate between forms/JSON and queueing.admin, which validates and audits every change;
events are published after the commit. A page that fails validation is shown again with what was typed.
"""
from __future__ import annotations

import json
from datetime import datetime, timezone

from flask import Blueprint, Response, abort, current_app, flash, get_flashed_messages, redirect, render_template, request, url_for

from i18n import current_language
from manager.admin_api import CONFIGURATION_MAX_BYTES, api_bp  # noqa: F401  (server.py registers it from here)
from manager.admin_sections import (ACTION_LABELS, SECTION_TITLES, SECTIONS, SETTINGS_FIELDS, in_language, after_change,
                                    changer, disconnect, display_value, field_options, form_values, link, local_time,
                                    submitted, t, viewer)
from manager.alert_push import alert_loop, check_alerts  # noqa: F401  (server.py starts the loop from here)
from queueing import admin, alerts
from queueing.model import QueueError
from web import get_db, now

bp = Blueprint("admin", __name__, url_prefix="/manager/admin", template_folder="templates")


PAGE_OF_ENDPOINT = {"admin.settings": "settings", "admin.audit_log": "audit", "admin.configuration": "configuration",
                    "admin.configuration_import": "configuration"}


def switch_language_url() -> str:
    """This page in the other language (a page answering a POST links to the admin home instead)."""
    other = "en" if current_language() == "vi" else "vi"
    if request.method != "GET":
        return url_for("admin.index", lang=other)
    return url_for(request.endpoint, **{**(request.view_args or {}), **request.args.to_dict(), "lang": other})


@bp.context_processor
def admin_context():
    active_page = (request.view_args or {}).get("section") or PAGE_OF_ENDPOINT.get(request.endpoint)
    return {"t": t, "link": link, "sections": SECTION_TITLES, "display_value": display_value,
            "field_options": field_options, "active_page": active_page, "switch_language_url": switch_language_url}


def render(template: str, status: int = 200, **context):
    principal = context.pop("user")
    page = render_template(f"manager/admin/{template}", user=principal, can_change=principal.role == "admin",
                           flashes=get_flashed_messages(), **context)
    return page, status


# ---- pages -----------------------------------------------------------------------------------

@bp.get("/")
def index():
    principal, redirect_response = viewer()
    if redirect_response:
        return redirect_response
    db, centre_id = get_db(), current_app.config["CENTRE_ID"]
    counts = {name: len(SECTIONS[name].listing(db, centre_id)) for name in SECTION_TITLES}
    return render("index.html", user=principal, counts=counts,
                  alerts=alerts.current(db, centre_id, now()), recent=admin.audit_entries(db, centre_id, 10),
                  action_label=action_label, local_time=local_time,
                  public_url=current_app.config.get("PUBLIC_URL"))


def _find(section: str, item_id: int) -> dict:
    for item in SECTIONS[section].listing(get_db(), current_app.config["CENTRE_ID"]):
        if item["id"] == item_id:
            return item
    abort(404)


def _section_page(principal, section: str, values=None, error: QueueError | None = None, status: int = 200):
    items = SECTIONS[section].listing(get_db(), current_app.config["CENTRE_ID"])
    return render("section.html", status, user=principal, section=section, spec=SECTIONS[section], items=items,
                  values=values or _blank(section), error=error)


def _blank(section: str) -> dict:
    values = {}
    for form_field in SECTIONS[section].fields:
        values[form_field.name] = [] if form_field.kind == "checkboxes" else (
            False if form_field.kind == "checkbox" else "")
    if section == "services":
        values.update(target_wait_min="15", default_service_min="7", sort_order="0")
    if section == "users":
        values["role"] = "clerk"
    return values


@bp.get("/<any(services, procedures, counters, priority_groups, users, devices):section>")
def section_list(section):
    principal, redirect_response = viewer()
    if redirect_response:
        return redirect_response
    return _section_page(principal, section)


@bp.post("/<any(services, procedures, counters, priority_groups, users, devices):section>")
def section_create(section):
    principal, redirect_response = changer()
    if redirect_response:
        return redirect_response
    data = submitted(SECTIONS[section].fields, creating=True)
    db, centre_id = get_db(), current_app.config["CENTRE_ID"]
    try:
        if section == "devices":
            from printers.drivers import parse_printer_uri
            outcome = admin.create_device(db, centre_id, principal.id, data, now(), check_printer_uri=parse_printer_uri)
        else:
            outcome = SECTIONS[section].create(db, centre_id, principal.id, data, now())
    except QueueError as error:
        return _section_page(principal, section, values=data, error=error, status=error.status)
    after_change(outcome, section)
    if section == "users" and outcome.result["password"]:
        return _secret_page(principal, "users", outcome.result["user"]["display_name"], outcome.result["password"])
    if section == "devices":
        device = outcome.result["device"]
        return _secret_page(principal, "devices", device["name"], outcome.result["token"],
                            kiosk=device["kind"] == "kiosk")
    flash(t("saved"))
    return redirect(link("admin.section_list", section=section))


def _secret_page(principal, section: str, name: str, secret: str, kiosk: bool = False):
    """A generated password or device token, shown in this answer only and never cached."""
    kiosk_url = f"{request.host_url}kiosk#token={secret}" if kiosk else None
    page, status = render("secret.html", user=principal, section=section, name=name, secret=secret,
                          kiosk_url=kiosk_url)
    response = Response(page, status)
    response.headers["Cache-Control"] = "no-store"
    return response


def _edit_page(principal, section: str, item: dict, values=None, error: QueueError | None = None,
               status: int = 200):
    label = str(item.get("code") or item.get("username") or item.get("number"))
    return render("edit.html", status, user=principal, section=section, spec=SECTIONS[section], item=item,
                  label=label, values=values or form_values(section, item), error=error)


@bp.get("/<any(services, procedures, counters, priority_groups, users):section>/<int:item_id>")
def item_edit(section, item_id):
    principal, redirect_response = viewer()
    if redirect_response:
        return redirect_response
    return _edit_page(principal, section, _find(section, item_id))


@bp.post("/<any(services, procedures, counters, priority_groups, users):section>/<int:item_id>")
def item_update(section, item_id):
    principal, redirect_response = changer()
    if redirect_response:
        return redirect_response
    item = _find(section, item_id)
    data = submitted(SECTIONS[section].fields, creating=False)
    try:
        outcome = SECTIONS[section].update(get_db(), current_app.config["CENTRE_ID"], principal.id, item_id, data,
                                           now())
    except QueueError as error:
        return _edit_page(principal, section, item, values={**form_values(section, item), **data}, error=error,
                          status=error.status)
    after_change(outcome, section)
    flash(t("saved"))
    return redirect(link("admin.section_list", section=section))


@bp.post("/<any(services, procedures, counters, priority_groups, users):section>/<int:item_id>/active")
def item_active(section, item_id):
    principal, redirect_response = changer()
    if redirect_response:
        return redirect_response
    item = _find(section, item_id)
    active = request.form.get("active") == "1"
    try:
        outcome = SECTIONS[section].set_active(get_db(), current_app.config["CENTRE_ID"], principal.id, item_id,
                                               active, now())
    except QueueError as error:
        return _edit_page(principal, section, item, error=error, status=error.status)
    after_change(outcome, section)
    if section == "users" and not active:
        disconnect("user", item_id)
    flash(t("saved"))
    return redirect(link("admin.section_list", section=section))


@bp.post("/users/<int:item_id>/password")
def user_password(item_id):
    principal, redirect_response = changer()
    if redirect_response:
        return redirect_response
    item = _find("users", item_id)
    try:
        outcome = admin.reset_password(get_db(), current_app.config["CENTRE_ID"], principal.id, item_id,
                                       request.form.get("password") or None, now())
    except QueueError as error:
        return _edit_page(principal, "users", item, error=error, status=error.status)
    if outcome.result["password"]:
        return _secret_page(principal, "users", item["display_name"], outcome.result["password"])
    flash(t("saved"))
    return redirect(link("admin.section_list", section="users"))


@bp.post("/devices/<int:item_id>/revoke")
def device_revoke(item_id):
    principal, redirect_response = changer()
    if redirect_response:
        return redirect_response
    try:
        outcome = admin.revoke_device(get_db(), current_app.config["CENTRE_ID"], principal.id, item_id, now())
    except QueueError as error:
        return _section_page(principal, "devices", error=error, status=error.status)
    after_change(outcome, "devices")
    disconnect("device", item_id)
    flash(t("saved"))
    return redirect(link("admin.section_list", section="devices"))


@bp.route("/settings", methods=["GET", "POST"])
def settings():
    if request.method == "GET":
        principal, redirect_response = viewer()
        if redirect_response:
            return redirect_response
        current = admin.centre_settings_view(get_db(), current_app.config["CENTRE_ID"])
        return render("settings.html", user=principal, fields=SETTINGS_FIELDS, values=_settings_values(current),
                      error=None)
    principal, redirect_response = changer()
    if redirect_response:
        return redirect_response
    data = {f.name: request.form.getlist(f.name) if f.kind == "checkboxes" else request.form.get(f.name, "")
            for f in SETTINGS_FIELDS}
    try:
        outcome = admin.update_settings(get_db(), current_app.config["CENTRE_ID"], principal.id, data, now())
    except QueueError as error:
        return render("settings.html", error.status, user=principal, fields=SETTINGS_FIELDS, values=data,
                      error=error)
    after_change(outcome, "settings")
    flash(t("saved") if outcome.events else t("no_change"))
    return redirect(link("admin.settings"))


def _settings_values(current: dict) -> dict:
    return {f.name: list(current.get(f.name) or []) if f.kind == "checkboxes" else
            "" if current.get(f.name) is None else
            json.dumps(current[f.name], ensure_ascii=False) if isinstance(current[f.name], dict) else
            str(current[f.name]) for f in SETTINGS_FIELDS}


def action_label(action: str) -> str:
    section, _, verb = action.partition(".")
    noun = {"service": "services", "procedure": "procedures", "counter": "counters", "user": "users",
            "device": "devices", "priority_group": "priority_groups", "settings": "settings",
            "configuration": "configuration"}.get(section)
    verb_label = in_language(ACTION_LABELS.get(verb, (verb, verb)))
    own = {"vocabulary": ("Từ vựng trợ lý", "Assistant vocabulary"),
           "life_events": ("Sự kiện trong đời", "Life events"),
           "voice_pack": ("Giọng đọc thu âm", "Recorded voice")}.get(section)  # issues 13, 19 (own route modules)
    if own:
        return f"{verb_label} · {in_language(own)}"
    return f"{verb_label} · {t(noun)}" if noun else action


def describe(entry: dict) -> str:
    """One audit row's before → after as short text."""
    detail = entry["detail"]
    target = detail.get("target") or {}
    name = target.get("code") or target.get("number") or target.get("username") or target.get("name") or ""
    if detail.get("summary"):
        parts = [f"{section}: +{counts['added']} ~{counts['updated']}" for section, counts in detail["summary"].items()
                 if counts["added"] or counts["updated"]]
        return "; ".join(parts) or t("no_change")
    before, after = detail.get("before"), detail.get("after")
    if before is None and isinstance(after, dict):
        shown = ", ".join(f"{k}={_short(v)}" for k, v in after.items() if k != "id")
        return f"{name}: {shown}"
    if isinstance(before, dict) and isinstance(after, dict):
        shown = "; ".join(f"{k}: {_short(before.get(k))} → {_short(after.get(k))}" for k in after)
        return f"{name}: {shown}" if name else shown
    if not target and detail:
        return _short(detail)
    return str(name)


def _short(value) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 80 else text[:77] + "…"


@bp.get("/audit")
def audit_log():
    principal, redirect_response = viewer()
    if redirect_response:
        return redirect_response
    before_id = request.args.get("before", type=int)
    include_views = request.args.get("views") == "1"
    entries = admin.audit_entries(get_db(), current_app.config["CENTRE_ID"], 100, before_id, include_views)
    return render("audit.html", user=principal, entries=entries, action_label=action_label, describe=describe,
                  local_time=local_time, include_views=include_views)


@bp.get("/configuration")
def configuration():
    principal, redirect_response = viewer()
    if redirect_response:
        return redirect_response
    return render("configuration.html", user=principal, error=None)


@bp.get("/configuration.json")
def configuration_download():
    principal, redirect_response = viewer()
    if redirect_response:
        return redirect_response
    centre_id = current_app.config["CENTRE_ID"]
    body = json.dumps(admin.export_configuration(get_db(), centre_id), ensure_ascii=False, indent=2)
    stamp = datetime.fromtimestamp(now(), timezone.utc).strftime("%Y%m%d")
    return Response(body + "\n", mimetype="application/json", headers={
        "Content-Disposition": f'attachment; filename="luot-{centre_id}-{stamp}.json"', "Cache-Control": "no-store"})


@bp.post("/configuration")
def configuration_import():
    request.max_content_length = CONFIGURATION_MAX_BYTES
    principal, redirect_response = changer()
    if redirect_response:
        return redirect_response
    upload = request.files.get("file")
    try:
        config = _read_configuration(upload.read() if upload else b"")
        outcome = admin.import_configuration(get_db(), current_app.config["CENTRE_ID"], config, principal.id, now())
    except QueueError as error:
        return render("configuration.html", error.status, user=principal, error=error)
    after_change(outcome, "configuration")
    flash(f"{t('imported')}: {outcome.result['changes']} " + ("thay đổi" if current_language() == "vi" else "changes"))
    return redirect(link("admin.configuration"))


def _read_configuration(raw: bytes) -> dict:
    if not raw:
        raise admin.ValidationError("Hãy chọn tệp cấu hình (.json) (choose a configuration file)", field="file",
                                    code="file_required")
    try:
        return json.loads(raw.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise admin.ValidationError("Tệp không phải văn bản UTF-8 (file is not UTF-8 text)", field="file",
                                    code="bad_configuration") from None
    except json.JSONDecodeError as error:
        raise admin.ValidationError(f"Tệp không phải JSON hợp lệ: dòng {error.lineno}, cột {error.colno} "
                                    f"(not valid JSON: {error.msg})", field="file", code="bad_configuration") from None


