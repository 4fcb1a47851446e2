"""The province's procedure catalogue at a centre: what differs from the centre's own, and applying it at once.

The hub publishes versions of one catalogue (its `services`, each with its `procedures`, in the
configuration file's format). A centre's admin sees what a version would add or change and applies it
in one step, through the configuration import (checked whole first, one transaction, audited): services
and procedures are matched by code, matches updated, new ones added, nothing deleted.
"""
from __future__ import annotations

from .admin.configuration import export_configuration, import_configuration
from .admin.validation import ValidationError
from .model import Outcome

SERVICE_FIELDS = ("name", "name_en", "prefix", "target_wait_s", "default_service_s")
PROCEDURE_FIELDS = ("name", "name_en", "legal_days", "same_day", "legal_days_note", "fee_vnd", "fee_note", "active")


def _services_of(catalogue) -> list[dict]:
    services = catalogue.get("services") if isinstance(catalogue, dict) else None
    if not isinstance(services, list) or not all(isinstance(item, dict) for item in services):
        raise ValidationError("Danh mục của tỉnh không hợp lệ: cần 'services' là danh sách "
                              "(the province catalogue needs a 'services' list)", code="bad_catalogue")
    return services


def catalogue_diff(db, centre_id: str, catalogue: dict) -> dict:
    """Services and procedures the catalogue would add, and fields it would change (before → after)."""
    own = {service["code"]: service for service in export_configuration(db, centre_id)["services"]}
    own_procedures = {procedure["code"]: (service["code"], procedure)
                      for service in own.values() for procedure in service.get("procedures", [])}
    diff = {"version": catalogue.get("version"), "added_services": [], "added_procedures": [], "changed": [],
            "unchanged": 0}
    for service in _services_of(catalogue):
        code = service.get("code")
        mine = own.get(code)
        if mine is None:
            diff["added_services"].append({"code": code, "name": service.get("name")})
        else:
            changes = {field: (mine.get(field), service[field]) for field in SERVICE_FIELDS
                       if field in service and service[field] != mine.get(field)}
            if changes:
                diff["changed"].append({"kind": "service", "code": code, "changes": changes})
            else:
                diff["unchanged"] += 1
        for procedure in service.get("procedures", []) if isinstance(service.get("procedures"), list) else []:
            if not isinstance(procedure, dict):
                continue
            found = own_procedures.get(procedure.get("code"))
            if found is None:
                diff["added_procedures"].append({"code": procedure.get("code"), "name": procedure.get("name"),
                                                 "service": code})
                continue
            changes = {field: (found[1].get(field), procedure[field]) for field in PROCEDURE_FIELDS
                       if field in procedure and procedure[field] != found[1].get(field)}
            if changes:
                diff["changed"].append({"kind": "procedure", "code": procedure.get("code"), "changes": changes})
            else:
                diff["unchanged"] += 1
    diff["pending"] = bool(diff["added_services"] or diff["added_procedures"] or diff["changed"])
    return diff


def apply_catalogue(db, centre_id: str, catalogue: dict, user_id, now: float) -> Outcome:
    """Apply the catalogue's services and procedures in one checked, audited transaction."""
    services = []
    for service in _services_of(catalogue):
        item = {key: value for key, value in service.items() if key in (*SERVICE_FIELDS, "code", "procedures")}
        services.append(item)
    return import_configuration(db, centre_id, {"centre": {}, "services": services}, user_id, now)
