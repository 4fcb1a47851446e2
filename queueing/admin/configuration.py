"""The configuration file: exporting a centre's configuration and importing one, checked whole first."""
from __future__ import annotations

from ..events import notice_changed
from .. import holidays, language, store, vocabulary
from ..model import NotFound, Outcome
from ..text import nfc
from .changes import _diff, _now, _update_columns, _without, audit
from .entities import (COUNTER_CHECKS, PROCEDURE_CHECKS, PROCEDURE_KEY, _clean_group, _clean_service,
                       _queue_events, _service_columns, _write_counter_services)
from .settings import CENTRE_FIELDS, SETTING_DEFAULTS, centre_settings_view, clean_setting
from .validation import ValidationError, _clean, _code, _int
from .views import _procedure_view, counter_view, group_view, list_counters, list_groups, list_procedures, \
    list_services, service_view
from ..corrections import current_setting_names


def export_configuration(db, centre_id: str) -> dict:
    """The centre's configuration in the format load_configuration reads (no accounts, devices or secrets)."""
    centre = store.centre(db, centre_id)
    if centre is None:
        raise NotFound(f"Không có trung tâm '{centre_id}' (unknown centre)")
    procedures: dict[str, list[dict]] = {}
    for procedure in list_procedures(db, centre_id):
        item = _without(procedure, "id", "service")
        procedures.setdefault(procedure["service"], []).append(item)
    services = []
    for service in list_services(db, centre_id):
        item = _without(service, "id")
        item["procedures"] = procedures.get(service["code"], [])
        services.append(item)
    return {
        "centre": {"id": centre["id"], "name": centre["name"], "name_en": centre["name_en"],
                   "timezone": centre["timezone"], "settings": {**SETTING_DEFAULTS, **centre["settings"]}},
        "services": services,
        "priority_groups": [_without(group, "id") for group in list_groups(db, centre_id)],
        "counters": [_without(counter, "id", "state") for counter in list_counters(db, centre_id)],
        "holidays": holidays.list_holidays(db, centre_id),
        "life_events": vocabulary.list_life_events(db, centre_id),
        "vocabulary": language.get_language(db, centre_id),
    }


SERVICE_KEYS = {"code", "name", "name_en", "prefix", "target_wait_s", "default_service_s", "daily_cap",
                "opening_hours", "sort_order", "active", "procedures"}
PROCEDURE_KEYS = {"code", "name", "name_en", "legal_days", "same_day", "legal_days_note", "fee_vnd", "fee_note",
                  "active", *vocabulary.PHRASE_FIELDS}
GROUP_KEYS = {"code", "name", "name_en", "sort_order", "active"}
COUNTER_KEYS = {"number", "name", "floor", "services", "active"}
MAX_ERRORS_SHOWN = 15


def import_configuration(db, centre_id: str, config: dict, user_id, now: float | None = None) -> Outcome:
    """Apply a configuration file: everything is checked first, then written in one transaction.

    Services, procedures and priority groups are matched by code and counters by number: matches are
    updated, new ones added; nothing missing from the file is deleted (history stays whole).
    """
    errors: list[str] = []
    plan = _plan_import(db, centre_id, config, errors)
    closed_days = holidays.clean_import(config.get("holidays") if isinstance(config, dict) else None, errors)
    if errors:
        shown = "; ".join(f"{n}) {e}" for n, e in enumerate(errors[:MAX_ERRORS_SHOWN], start=1))
        more = f"; … và {len(errors) - MAX_ERRORS_SHOWN} lỗi khác" if len(errors) > MAX_ERRORS_SHOWN else ""
        raise ValidationError(f"Tệp cấu hình có {len(errors)} lỗi, chưa thay đổi gì: {shown}{more} "
                              f"(configuration file has {len(errors)} errors; nothing was changed)",
                              code="bad_configuration", errors=errors)
    now = _now(now)
    with store.transaction(db):
        before = export_configuration(db, centre_id)
        changes = _apply_import(db, centre_id, plan)
        holidays.seed_defaults(db, centre_id, closed_days)  # added or kept, never removed, like the rest
        after = export_configuration(db, centre_id)
        summary = {section: {"added": sum(1 for c in changes if c["section"] == section and c["before"] is None),
                             "updated": sum(1 for c in changes if c["section"] == section and c["before"] is not None)}
                   for section in ("centre", "services", "procedures", "priority_groups", "counters", "life_events",
                                   "vocabulary")}
        audit(db, centre_id, now, user_id, "configuration.import", {"type": "centre", "id": centre_id},
              None, None, {"summary": summary, "changes": changes})
        events = _queue_events("all")
        if before["centre"]["settings"].get("notice") != after["centre"]["settings"].get("notice"):
            events.append(notice_changed(after["centre"]["settings"]["notice"]))
    return Outcome({"summary": summary, "changes": len(changes)}, events)


def _collect(errors: list[str], where: str, function, *args):
    """Run a cleaner, turning its refusal into one line of the error list."""
    try:
        return function(*args)
    except ValidationError as error:
        errors.extend(f"{where}: {message}" for message in error.errors)
        return None


def _unknown_keys(errors: list[str], where: str, item: dict, allowed: set[str]) -> None:
    unknown = sorted(set(item) - allowed)
    if unknown:
        errors.append(f"{where}: trường không được hỗ trợ {', '.join(unknown)} (unknown fields)")


def _plan_import(db, centre_id: str, config, errors: list[str]) -> dict:
    """Every item of the file cleaned and matched to what exists; problems go to `errors`."""
    plan: dict = {"centre": {}, "services": [], "procedures": [], "groups": [], "counters": []}
    if not isinstance(config, dict) or not isinstance(config.get("centre"), dict):
        errors.append("Tệp cấu hình phải là JSON có mục 'centre' (a centre configuration needs 'centre')")
        return plan
    unknown = sorted(set(config) - {"centre", "services", "priority_groups", "counters", "holidays", "life_events",
                               "vocabulary"})
    if unknown:
        errors.append(f"Mục không được hỗ trợ: {', '.join(unknown)} (unknown sections)")
    centre = config["centre"]
    _unknown_keys(errors, "centre", centre, {"id", "name", "name_en", "timezone", "settings"})
    centre_values = {key: centre[key] for key in CENTRE_FIELDS if key in centre}
    settings = current_setting_names(centre.get("settings", {}))
    if not isinstance(settings, dict):
        errors.append("centre.settings phải là một bảng (settings must be an object)")
        settings = {}
    for key, value in {**centre_values, **settings}.items():
        if key in CENTRE_FIELDS and key in settings:
            errors.append(f"centre.settings: «{key}» thuộc mục centre (belongs to centre)")
            continue
        cleaned = _collect(errors, f"centre.{key}", clean_setting, key, value)
        if cleaned is not None or key in ("announcement_template",):
            plan["centre"][key] = cleaned
    for section in ("services", "priority_groups", "counters"):
        if not isinstance(config.get(section, []), list):
            errors.append(f"Mục '{section}' phải là một danh sách ({section} must be a list)")
            config = {**config, section: []}

    existing_services = {row["code"]: row for row in store.services(db, centre_id, active_only=False)}
    final_prefix = {code: row["prefix"] for code, row in existing_services.items()}
    seen_services: set[str] = set()
    seen_procedures: set[str] = set()
    for index, item in enumerate(config.get("services", []), start=1):
        where = f"services[{index}]"
        if not isinstance(item, dict):
            errors.append(f"{where}: phải là một đối tượng (must be an object)")
            continue
        _unknown_keys(errors, where, item, SERVICE_KEYS)
        code = _collect(errors, where, _code, item.get("code"), "code", "Mã lĩnh vực")
        if code is None:
            continue
        where = f"lĩnh vực {code}"
        if code in seen_services:
            errors.append(f"{where}: mã bị lặp trong tệp (duplicate service code)")
            continue
        seen_services.add(code)
        existing = existing_services.get(code)
        data = {k: v for k, v in item.items() if k != "procedures"}
        if existing is None and "sort_order" not in data:
            # like load_configuration, a new service without an order goes where the file puts it: last
            data["sort_order"] = max((row["sort_order"] for row in existing_services.values()), default=-1) + index
        values = _collect(errors, where, _clean_service, data, existing)
        if values is None:
            continue
        values.pop("code", None)
        if "prefix" in values:
            final_prefix[code] = values["prefix"]
        plan["services"].append((code, existing, values))
        procedures = item.get("procedures", [])
        if not isinstance(procedures, list):
            errors.append(f"{where}: 'procedures' phải là một danh sách (procedures must be a list)")
            continue
        for position, procedure in enumerate(procedures, start=1):
            place = f"{where}, thủ tục thứ {position}"
            if not isinstance(procedure, dict):
                errors.append(f"{place}: phải là một đối tượng (must be an object)")
                continue
            _unknown_keys(errors, place, procedure, PROCEDURE_KEYS)
            procedure_code = _collect(errors, place, _code, procedure.get("code"), "code", "Mã thủ tục")
            if procedure_code is None:
                continue
            place = f"thủ tục {procedure_code}"
            if procedure_code in seen_procedures:
                errors.append(f"{place}: mã bị lặp trong tệp (duplicate procedure code)")
                continue
            seen_procedures.add(procedure_code)
            existing_procedure = store.one(db, "SELECT * FROM procedures WHERE centre_id = ? AND code = ?",
                                           (centre_id, procedure_code))
            cleaned = _collect(errors, place, _clean_procedure_fields, procedure, existing_procedure)
            if cleaned is not None:
                cleaned.pop("code", None)
                plan["procedures"].append((procedure_code, code, existing_procedure, cleaned))
    by_prefix: dict[str, list[str]] = {}
    for code, prefix in final_prefix.items():
        by_prefix.setdefault(prefix, []).append(code)
    for prefix, codes in sorted(by_prefix.items()):
        if len(codes) > 1:
            errors.append(f"Chữ đầu «{prefix}» dùng cho nhiều lĩnh vực: {', '.join(sorted(codes))} "
                          "(prefix used by several services)")

    existing_groups = {row["code"]: row for row in store.all_rows(
        db, "SELECT * FROM priority_groups WHERE centre_id = ?", (centre_id,))}
    seen_groups: set[str] = set()
    for index, item in enumerate(config.get("priority_groups", []), start=1):
        where = f"priority_groups[{index}]"
        if not isinstance(item, dict):
            errors.append(f"{where}: phải là một đối tượng (must be an object)")
            continue
        _unknown_keys(errors, where, item, GROUP_KEYS)
        code = _collect(errors, where, _code, item.get("code"), "code", "Mã nhóm ưu tiên")
        if code is None:
            continue
        if code in seen_groups:
            errors.append(f"nhóm ưu tiên {code}: mã bị lặp trong tệp (duplicate priority group code)")
            continue
        seen_groups.add(code)
        data = dict(item) if "sort_order" in item or code in existing_groups else {**item, "sort_order": index - 1}
        values = _collect(errors, f"nhóm ưu tiên {code}", _clean_group, data, existing_groups.get(code))
        if values is not None:
            values.pop("code", None)
            plan["groups"].append((code, existing_groups.get(code), values))

    known_services = set(existing_services) | seen_services
    existing_counters = {row["number"]: row for row in store.all_rows(
        db, "SELECT * FROM counters WHERE centre_id = ?", (centre_id,))}
    seen_counters: set[int] = set()
    for index, item in enumerate(config.get("counters", []), start=1):
        where = f"counters[{index}]"
        if not isinstance(item, dict):
            errors.append(f"{where}: phải là một đối tượng (must be an object)")
            continue
        _unknown_keys(errors, where, item, COUNTER_KEYS)
        number = _collect(errors, where, lambda v: _int(v, "number", "Số quầy", minimum=1, maximum=999),
                          item.get("number"))
        if number is None:
            continue
        where = f"quầy {number}"
        if number in seen_counters:
            errors.append(f"{where}: số quầy bị lặp trong tệp (duplicate counter number)")
            continue
        seen_counters.add(number)
        existing = existing_counters.get(number)
        data = {k: v for k, v in item.items() if k not in ("number", "services")}
        values = _collect(errors, where, _clean_counter_fields, data, existing)
        if values is None:
            continue
        if "services" in item or existing is None:
            codes = item.get("services") or []
            if not isinstance(codes, list) or not all(isinstance(c, str) for c in codes):
                errors.append(f"{where}: 'services' phải là danh sách mã lĩnh vực (services must be a list of codes)")
                continue
            codes = list(dict.fromkeys(nfc(c).strip().upper() for c in codes))
            unknown_codes = [c for c in codes if c not in known_services]
            if unknown_codes:
                errors.append(f"{where}: phục vụ lĩnh vực không có: {', '.join(unknown_codes)} "
                              "(counter serves an unknown service)")
                continue
            values["services"] = codes
        if values.get("active") == 0 and existing is not None and existing["active"] and existing["clerk_id"]:
            errors.append(f"{where}: đang có cán bộ làm việc, không thể ngừng dùng (a clerk is signed in)")
            continue
        plan["counters"].append((number, existing, values))
    # Life events name procedures of the file or of the centre, by code (issue 13).
    known = seen_procedures | {row["code"] for row in store.all_rows(
        db, "SELECT code FROM procedures WHERE centre_id = ?", (centre_id,))}
    events = config.get("life_events", [])
    if not isinstance(events, list):
        errors.append("Mục 'life_events' phải là một danh sách (life_events must be a list)")
        events = []
    plan["life_events"] = []
    for index, item in enumerate(events, start=1):
        try:
            plan["life_events"].append(vocabulary.clean_life_event(item, known))
        except vocabulary.PhraseError as error:
            errors.append(f"life_events[{index}]: {error}")
    plan["vocabulary"] = None
    if config.get("vocabulary") is not None:  # absent: the centre keeps its own
        try:
            plan["vocabulary"] = language.clean_language(config["vocabulary"])
        except language.LanguageError as error:
            errors.extend(f"vocabulary: {message}" for message in error.errors)
    return plan


def _clean_procedure_fields(data: dict, existing: dict | None) -> dict:
    """A procedure's own fields (its service comes from where it sits in the file)."""
    return _clean(data, PROCEDURE_CHECKS, existing, PROCEDURE_KEY)


def _clean_counter_fields(data: dict, existing: dict | None) -> dict:
    return _clean(data, COUNTER_CHECKS, existing)


def _record(changes: list[dict], section: str, key, before: dict | None, after: dict) -> None:
    if before is None:
        changes.append({"section": section, "key": key, "before": None, "after": after})
        return
    changed_before, changed_after = _diff(before, after)
    if changed_after:
        changes.append({"section": section, "key": key, "before": changed_before, "after": changed_after})


def _apply_import(db, centre_id: str, plan: dict) -> list[dict]:
    """Write a checked plan inside the caller's transaction; returns what changed."""
    changes: list[dict] = []
    if plan["centre"]:
        centre = store.centre(db, centre_id)
        before = centre_settings_view(db, centre_id)
        columns = {key: plan["centre"][key] for key in CENTRE_FIELDS if key in plan["centre"]}
        settings = {**centre["settings"], **{k: v for k, v in plan["centre"].items() if k not in CENTRE_FIELDS}}
        columns["settings"] = store.dumps(settings)
        _update_columns(db, "centres", centre_id, columns)
        _record(changes, "centre", centre_id, before, centre_settings_view(db, centre_id))
    # Prefixes may be swapped between services: park the changing ones first so UNIQUE holds throughout.
    for code, existing, values in plan["services"]:
        if existing is not None and "prefix" in values and values["prefix"] != existing["prefix"]:
            store.execute(db, "UPDATE services SET prefix = ? WHERE id = ?", (f"~{existing['id']}", existing["id"]))
    service_ids = {}
    for code, existing, values in plan["services"]:
        if existing is None:
            service_ids[code] = store.insert(db, "services", {"centre_id": centre_id, "code": code,
                                                              **_service_columns(values)})
            _record(changes, "services", code, None,
                    service_view(store.one(db, "SELECT * FROM services WHERE id = ?", (service_ids[code],))))
        else:
            service_ids[code] = existing["id"]
            _update_columns(db, "services", existing["id"], _service_columns(values))
            _record(changes, "services", code, service_view(existing),
                    service_view(store.one(db, "SELECT * FROM services WHERE id = ?", (existing["id"],))))
    for code, service_code, existing, values in plan["procedures"]:
        values = {**values, "service_id": service_ids[service_code]}
        if existing is None:
            procedure_id = store.insert(db, "procedures", {"centre_id": centre_id, "code": code, **values})
            _record(changes, "procedures", code, None, _procedure_view(db, centre_id, procedure_id))
        else:
            before = _procedure_view(db, centre_id, existing["id"])
            _update_columns(db, "procedures", existing["id"], values)
            _record(changes, "procedures", code, before, _procedure_view(db, centre_id, existing["id"]))
    for code, existing, values in plan["groups"]:
        if existing is None:
            group_id = store.insert(db, "priority_groups", {"centre_id": centre_id, "code": code, **values})
            _record(changes, "priority_groups", code, None,
                    group_view(store.one(db, "SELECT * FROM priority_groups WHERE id = ?", (group_id,))))
        else:
            _update_columns(db, "priority_groups", existing["id"], values)
            _record(changes, "priority_groups", code, group_view(existing),
                    group_view(store.one(db, "SELECT * FROM priority_groups WHERE id = ?", (existing["id"],))))
    for number, existing, values in plan["counters"]:
        codes = values.pop("services", None)
        if existing is None:
            counter_id = store.insert(db, "counters", {"centre_id": centre_id, "number": number, **values})
            before = None
        else:
            counter_id = existing["id"]
            before = _without(counter_view(db, existing), "state")
            _update_columns(db, "counters", counter_id, values)
        if codes is not None:
            _write_counter_services(db, counter_id, [store.scalar(
                db, "SELECT id FROM services WHERE centre_id = ? AND code = ?", (centre_id, code)) for code in codes])
        after = _without(counter_view(db, store.one(db, "SELECT * FROM counters WHERE id = ?", (counter_id,))),
                         "state")
        _record(changes, "counters", number, before, after)
    for order, values in enumerate(plan.get("life_events", [])):
        before, after = vocabulary.save_life_event(db, centre_id, values, order)
        if before != after:
            _record(changes, "life_events", values["code"], before, after)
    if plan.get("vocabulary") is not None:
        changed = language.apply_language(db, centre_id, plan["vocabulary"])
        if changed:
            changes.append({"section": "vocabulary", "key": centre_id, "before": changed[0], "after": changed[1]})
    return changes
