"""Alerts pushed to the managers' monitors: a background task evaluates them every ALERT_INTERVAL_S."""
from __future__ import annotations

import web
from queueing import alerts

ALERT_INTERVAL_S = 30


# ---- alerts pushed to monitors ---------------------------------------------------------------

def check_alerts(app) -> list[dict]:
    """One round: evaluate the centre's alerts and push the new ones (and the cleared keys) to monitors."""
    with app.app_context():
        pool = app.extensions["luot_pool"]
        db = pool.acquire()
        try:
            at = app.config["CLOCK"]()
            standing = alerts.current(db, app.config["CENTRE_ID"], at)
            # claimed in the database: every instance runs this loop, monitors hear each alert once
            new, resolved = alerts.SharedAlertTracker(app.config["CENTRE_ID"]).update(db, standing, at)
        finally:
            pool.release(db)
        for alert in new:
            web.socketio.emit("alert", alert, to="monitor")
        for key in resolved:
            web.socketio.emit("alert_resolved", {"key": key}, to="monitor")
    return new


def alert_loop(app, interval: float = ALERT_INTERVAL_S) -> None:
    """The background task server.create_app starts: check_alerts every `interval` seconds, forever."""
    while True:
        web.socketio.sleep(interval)
        try:
            check_alerts(app)
        except Exception:  # a failed round must not end the loop; the next one may succeed
            app.logger.exception("alert check failed")
