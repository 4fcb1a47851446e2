"""The admin page of the province's procedure catalogue: what a published version changes, applied in one step
(issue 18). Routes join the admin blueprint; the import is checked whole and audited by the core."""
from __future__ import annotations

from flask import current_app, flash, redirect, request

from manager.admin_routes import PAGE_OF_ENDPOINT, bp, changer, link, render, viewer
from manager.admin_sections import after_change
from i18n import current_language
from queueing import province_catalogue
from queueing.model import QueueError
from queueing.shipping import HttpHubClient, HubAnswer
from web import get_db, now

PAGE_OF_ENDPOINT.update({"admin.catalogue": "configuration", "admin.catalogue_apply": "configuration"})


def _fetch() -> tuple[dict | None, str | None]:
    """The hub's newest catalogue, or why there is none to show."""
    url, token = current_app.config.get("HUB_URL"), current_app.config.get("HUB_TOKEN")
    if not (url and token):
        return None, "Chưa kết nối trung tâm tỉnh (LUOT_HUB_URL and LUOT_HUB_TOKEN are not set)"
    try:
        return HttpHubClient(url, token, timeout_s=10).catalogue(), None
    except HubAnswer as error:
        return None, f"Không lấy được danh mục của tỉnh (cannot read the province catalogue): {error}"


def _page(principal, error=None, status: int = 200):
    catalogue, problem = _fetch()
    diff = None
    if catalogue is not None:
        try:
            diff = province_catalogue.catalogue_diff(get_db(), current_app.config["CENTRE_ID"], catalogue)
        except QueueError as refusal:
            problem = refusal.message
    return render("catalogue.html", status, user=principal, diff=diff, problem=problem, error=error,
                  english=current_language() == "en")


@bp.get("/catalogue")
def catalogue():
    principal, redirect_response = viewer()
    if redirect_response:
        return redirect_response
    return _page(principal)


@bp.post("/catalogue")
def catalogue_apply():
    principal, redirect_response = changer()
    if redirect_response:
        return redirect_response
    catalogue_now, problem = _fetch()
    if catalogue_now is None:
        return _page(principal, QueueError(problem, code="no_catalogue"), 409)
    if str(catalogue_now.get("version")) != request.form.get("version", ""):
        return _page(principal, QueueError("Tỉnh vừa công bố phiên bản mới; hãy xem lại thay đổi "
                                           "(a newer version was published: review it first)", code="stale_catalogue"),
                     409)
    try:
        outcome = province_catalogue.apply_catalogue(get_db(), current_app.config["CENTRE_ID"], catalogue_now,
                                                     principal.id, now())
    except QueueError as error:
        return _page(principal, error, error.status)
    after_change(outcome, "configuration")
    flash(f"Đã áp dụng danh mục của tỉnh, phiên bản {catalogue_now.get('version')} (province catalogue applied)")
    return redirect(link("admin.catalogue"))
