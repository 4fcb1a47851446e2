"""Administration of a centre: validated changes to its configuration, each one written to the audit log.

Every command checks its input first and refuses with a clear message (Vietnamese, English in
brackets) before anything is written; the change and its audit row share one transaction.
Nothing is ever deleted: services, procedures, counters, users and priority groups are deactivated,
devices revoked, so the history that statistics read stays whole.

One concern a module: `validation` (checking input), `changes` (diffs and audit rows), `views`
(rows as the pages show them), `entities` (services, procedures, priority groups, counters),
`access` (staff accounts and devices), `settings` (the centre's settings), `configuration` (the
configuration file). Every name callers use is re-exported here: `from queueing import admin`
and `from queueing.admin import X` keep working.
"""
from __future__ import annotations

from ..audit import CITIZEN_VIEW_ACTION
from ..audit import entries as audit_entries
from ..model import QueueError
from .access import (create_device, create_user, reset_password, revoke_device, set_user_active,
                     update_user)
from .changes import audit
from .configuration import export_configuration, import_configuration
from .entities import (create_counter, create_priority_group, create_procedure, create_service,
                       set_counter_active, set_priority_group_active, set_procedure_active, set_service_active,
                       update_counter, update_priority_group, update_procedure, update_service)
from .settings import (CENTRE_FIELDS, SETTING_DEFAULTS, SETTING_LABELS, VOICES, centre_settings_view,
                       clean_setting, update_settings)
from .validation import ValidationError, check_password, format_opening_hours, parse_opening_hours
from .views import (counter_view, device_view, group_view, list_counters, list_devices, list_groups,
                    list_procedures, list_services, list_users, procedure_view, service_view, user_view)

__all__ = [
    "CENTRE_FIELDS", "CITIZEN_VIEW_ACTION", "QueueError", "SETTING_DEFAULTS", "SETTING_LABELS", "VOICES",
    "ValidationError", "audit", "audit_entries", "centre_settings_view", "check_password", "clean_setting",
    "counter_view", "create_counter", "create_device", "create_priority_group", "create_procedure",
    "create_service", "create_user", "device_view", "export_configuration", "format_opening_hours",
    "group_view", "import_configuration", "list_counters", "list_devices", "list_groups", "list_procedures",
    "list_services", "list_users", "parse_opening_hours", "procedure_view", "reset_password", "revoke_device",
    "service_view", "set_counter_active", "set_priority_group_active", "set_procedure_active",
    "set_service_active", "set_user_active", "update_counter", "update_priority_group", "update_procedure",
    "update_service", "update_settings", "update_user", "user_view",
]
