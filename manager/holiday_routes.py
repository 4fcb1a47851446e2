"""The admin pages' holiday calendar: list the days the centre is closed, add one, remove one (issue 11).

Routes join the admin blueprint (its layout, language and who-may rules); every change is audited
by queueing.holidays in the same transaction.
"""
from __future__ import annotations

from flask import current_app, flash, redirect, request

from manager.admin_routes import PAGE_OF_ENDPOINT, bp, changer, link, render, viewer
from i18n import current_language
from queueing import holidays
from queueing.model import QueueError
from web import get_db, now

PAGE_OF_ENDPOINT.update({"admin.holiday_list": "holidays", "admin.holiday_add": "holidays",
                         "admin.holiday_remove": "holidays"})


def _page(principal, error: QueueError | None = None, values: dict | None = None, status: int = 200):
    days = holidays.list_holidays(get_db(), current_app.config["CENTRE_ID"])
    return render("holidays.html", status, user=principal, days=days, error=error, values=values or {},
                  english=current_language() == "en")


@bp.get("/holidays")
def holiday_list():
    principal, redirect_response = viewer()
    if redirect_response:
        return redirect_response
    return _page(principal)


@bp.post("/holidays")
def holiday_add():
    principal, redirect_response = changer()
    if redirect_response:
        return redirect_response
    values = {key: request.form.get(key, "") for key in ("date", "name", "name_en")}
    try:
        outcome = holidays.add_holiday(get_db(), current_app.config["CENTRE_ID"], principal.id, values, now())
    except QueueError as error:
        return _page(principal, error, values, error.status)
    flash(f"Đã thêm ngày nghỉ {outcome.result['date']} (holiday added)")
    return redirect(link("admin.holiday_list"))


@bp.post("/holidays/<day>/remove")
def holiday_remove(day):
    principal, redirect_response = changer()
    if redirect_response:
        return redirect_response
    try:
        holidays.remove_holiday(get_db(), current_app.config["CENTRE_ID"], principal.id, day, now())
    except QueueError as error:
        return _page(principal, error, status=error.status)
    flash(f"Đã bỏ ngày nghỉ {day} (holiday removed)")
    return redirect(link("admin.holiday_list"))
