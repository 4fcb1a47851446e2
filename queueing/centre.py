"""A centre's configuration: the bundled demo centre and loading a configuration into a database."""
from __future__ import annotations

import json
from pathlib import Path
from zoneinfo import ZoneInfo

from . import accounts, holidays, language, store, vocabulary
from .corrections import current_setting_names
from .model import QueueError, Role

CATALOGUE_PATH = Path(__file__).resolve().parent / "data" / "catalogue.vi.json"
DEMO_CENTRE_ID = "demo"
# A centre's zone when none is known (a centre row missing, a configuration file without one).
DEFAULT_TIMEZONE = "Asia/Ho_Chi_Minh"
# Letters that read unambiguously over a loudspeaker in Vietnamese.
DEMO_PREFIXES = "ABCDEGHKLMN"
# Which fields each demo counter serves; the last counter is a general one.
DEMO_COUNTERS = [
    ("Quầy 1 – Tư pháp, Chứng thực", ["TP", "CT"], "Tầng 1"),
    ("Quầy 2 – Tư pháp – Hộ tịch", ["TP"], "Tầng 1"),
    ("Quầy 3 – Công an (cư trú, căn cước)", ["CA_CT", "CA_CC"], "Tầng 1"),
    ("Quầy 4 – Đất đai, Xây dựng", ["DD", "XD"], "Tầng 2"),
    ("Quầy 5 – Kinh doanh, Bảo trợ xã hội", ["KD", "BTXH"], "Tầng 2"),
    ("Quầy 6 – Tổng hợp", ["LLTP", "GT", "BHXH", "CT"], "Tầng 2"),
]


def time_zone(db, centre_id: str) -> ZoneInfo:
    """The centre's time zone, or DEFAULT_TIMEZONE when the centre is unknown."""
    centre = store.centre(db, centre_id)
    return ZoneInfo(centre["timezone"] if centre else DEFAULT_TIMEZONE)


def load_catalogue(path: Path = CATALOGUE_PATH) -> dict:
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)


def demo_configuration() -> dict:
    """The demo centre, built from the bundled catalogue of Vietnamese procedures."""
    catalogue = load_catalogue()
    services = []
    for order, (field, prefix) in enumerate(zip(catalogue["fields"], DEMO_PREFIXES)):
        services.append({
            "code": field["code"], "name": field["name_vi"], "name_en": field["name_en"], "prefix": prefix,
            "sort_order": order,
            "procedures": [{"code": p["code"], "name": p["name_vi"], "name_en": p["name_en"],
                            "legal_days": p.get("legal_days"), "same_day": bool(p.get("same_day")),
                            "legal_days_note": p.get("legal_days_note"),
                            "fee_vnd": p.get("fee_vnd"), "fee_note": p.get("fee_note"),
                            **{key: p.get(key, []) for key in vocabulary.PHRASE_FIELDS}}
                           for p in field["procedures"]],
        })
    from .dossiers import RETURN_SERVICE  # the kiosk's «Nhận kết quả» issues its tickets (issue 16)
    services.append({**RETURN_SERVICE, "sort_order": len(services)})
    return {
        "centre": {"id": DEMO_CENTRE_ID, "name": "Trung tâm Phục vụ Hành chính công (demo)",
                   "name_en": "Public Administrative Service Centre (demo)", "timezone": DEFAULT_TIMEZONE,
                   "settings": {}},
        "services": services,
        "priority_groups": [{"code": g["code"], "name": g["name_vi"].split(" (")[0],
                             "name_en": g["name_en"].split(" (")[0]}
                            for g in catalogue["priority_groups"] if g["code"] not in ("CAP_CUU", "HEN")],
        "counters": [{"number": number, "name": name, "services": fields + [RETURN_SERVICE["code"]],
                      "floor": floor}
                     for number, (name, fields, floor) in enumerate(DEMO_COUNTERS, start=1)],
        "life_events": catalogue.get("life_events", []),
    }


def _require(mapping: dict, key: str, where: str):
    value = mapping.get(key)
    if value in (None, "") or (isinstance(value, str) and not value.strip()):
        raise QueueError(f"Cấu hình thiếu '{key}' ở {where} (centre configuration: missing {key})",
                         code="bad_configuration")
    return value


def load_configuration(db, config: dict, now: float) -> str:
    """Write a centre configuration into an empty database; returns the centre id."""
    if not isinstance(config, dict) or not isinstance(config.get("centre"), dict):
        raise QueueError("Tệp cấu hình trung tâm phải có mục 'centre' (bad centre configuration)",
                         code="bad_configuration")
    centre = config["centre"]
    centre_id = _require(centre, "id", "centre")
    with store.transaction(db):
        store.insert(db, "centres", {"id": centre_id, "name": _require(centre, "name", "centre"),
                                     "name_en": centre.get("name_en", ""),
                                     "timezone": centre.get("timezone", DEFAULT_TIMEZONE),
                                     "settings": store.dumps(current_setting_names(centre.get("settings", {}))),
                                     "created_at": now})
        # The file's own calendar, else Viet Nam's public holidays (none for the demo centre).
        holidays.seed_defaults(db, centre_id, config.get("holidays"))
        language.seed_language(db, centre_id)  # the bundled assistant vocabulary; a file's own replaces it below
        service_ids = {}
        for order, service in enumerate(config.get("services", [])):
            code = _require(service, "code", "services")
            service_ids[code] = store.insert(db, "services", {
                "centre_id": centre_id, "code": code, "name": _require(service, "name", f"service {code}"),
                "name_en": service.get("name_en", ""), "prefix": _require(service, "prefix", f"service {code}"),
                "target_wait_s": int(service.get("target_wait_s", 900)),
                "default_service_s": int(service.get("default_service_s", 420)),
                "daily_cap": service.get("daily_cap"),
                "opening_hours": store.dumps(service["opening_hours"]) if service.get("opening_hours") else None,
                "sort_order": service.get("sort_order", order)})
            for procedure in service.get("procedures", []):
                store.insert(db, "procedures", {
                    "centre_id": centre_id, "service_id": service_ids[code],
                    "code": _require(procedure, "code", f"service {code}"),
                    "name": _require(procedure, "name", f"procedure {procedure.get('code')}"),
                    "name_en": procedure.get("name_en", ""), "legal_days": procedure.get("legal_days"),
                    "same_day": int(bool(procedure.get("same_day"))), "fee_vnd": procedure.get("fee_vnd"),
                    "legal_days_note": procedure.get("legal_days_note"),
                    "fee_note": procedure.get("fee_note"),
                    **{key: vocabulary.dumps(vocabulary.clean_phrases(procedure.get(key), key))
                       for key in vocabulary.PHRASE_FIELDS}})
        for order, group in enumerate(config.get("priority_groups", [])):
            store.insert(db, "priority_groups", {"centre_id": centre_id, "code": _require(group, "code", "priority"),
                                                 "name": _require(group, "name", "priority"),
                                                 "name_en": group.get("name_en", ""), "sort_order": order})
        for counter in config.get("counters", []):
            counter_id = store.insert(db, "counters", {
                "centre_id": centre_id, "number": int(_require(counter, "number", "counters")),
                "name": _require(counter, "name", "counters"), "floor": counter.get("floor", "")})
            for code in counter.get("services", []):
                if code not in service_ids:
                    raise QueueError(f"Quầy {counter['number']} phục vụ lĩnh vực không có: {code} "
                                     "(counter serves an unknown service)", code="bad_configuration")
                store.insert(db, "counter_services", {"counter_id": counter_id, "service_id": service_ids[code]})
        # Life events (issue 13) name procedures by code, so they come after every procedure.
        known = {row["code"] for row in store.all_rows(db, "SELECT code FROM procedures WHERE centre_id = ?",
                                                       (centre_id,))}
        for order, event in enumerate(config.get("life_events", [])):
            try:
                values = vocabulary.clean_life_event(event, known)
            except vocabulary.PhraseError as error:
                raise QueueError(f"Sự kiện {event.get('code') if isinstance(event, dict) else order}: {error} "
                                 "(centre configuration: bad life event)", code="bad_configuration") from None
            vocabulary.save_life_event(db, centre_id, values, order)
        if config.get("vocabulary") is not None:  # an exported file's own assistant vocabulary
            try:
                language.apply_language(db, centre_id, language.clean_language(config["vocabulary"]))
            except language.LanguageError as error:
                raise QueueError(f"{error.message} (centre configuration: bad vocabulary)",
                                 code="bad_configuration") from None
    return centre_id


def create_staff(db, centre_id: str, now: float) -> list[tuple[str, str, str]]:
    """An admin and one clerk per counter with generated passwords: (username, role, password)."""
    credentials = [("admin", Role.ADMIN.value, accounts.new_password())]
    for counter in store.counters(db, centre_id):
        credentials.append((f"quay{counter['number']}", Role.CLERK.value, accounts.new_password()))
    for username, role, password in credentials:
        display = "Quản trị" if role == Role.ADMIN else f"Cán bộ {username.replace('quay', 'quầy ')}"
        accounts.create_user(db, centre_id, username, password, role, display, now)
    return credentials


def only_centre_id(db) -> str | None:
    """The centre this deployment serves (the first one created)."""
    return store.scalar(db, "SELECT id FROM centres ORDER BY created_at, id LIMIT 1")
