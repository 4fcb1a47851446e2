"""Where shipping the event log to the province hub stands, for the manager monitor's panel (issue 18)."""
from __future__ import annotations

from flask import current_app, jsonify

from manager.stats_routes import bp
from queueing import shipping
from web import get_db, now, require


@bp.get("/api/v1/shipping/status")
def shipping_status():
    """The hub's acknowledged sequence, events not yet at the hub, the lag and the last error."""
    require("manager", "admin")
    return jsonify(shipping.status(get_db(), current_app.config["CENTRE_ID"], now(),
                                   bool(current_app.config.get("HUB_SHIPPING"))))
