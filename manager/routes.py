"""Manager pages: staff sign-in, and the live monitor."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, redirect, render_template, request, session, url_for

from i18n import current_language, page_texts, translate
from queueing import accounts, stats
from web import (ApiError, check_csrf, check_login_throttle, clear_login_failures, get_db, get_queue, now,
                 record_login_failure, staff_page)

bp = Blueprint("manager", __name__, template_folder="templates")


def safe_next(target: str | None, fallback: str) -> str:
    """Only a local path is followed after sign-in: one leading "/", no backslash (browsers read "/\\host" as
    "//host"), no whitespace or control characters (they drop tabs and newlines inside a URL), no scheme or host."""
    if not isinstance(target, str) or not target.startswith("/") or target.startswith("//"):
        return fallback
    if "\\" in target or any(ord(character) <= 0x20 or ord(character) == 0x7f for character in target):
        return fallback
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return fallback
    return target


@bp.route("/login", methods=["GET", "POST"])
def login():
    lang = current_language()
    next_page = request.values.get("next")
    if request.method == "GET":
        return render_template("manager/login.html", next=next_page, error=None, username="")
    check_csrf()
    username = request.form.get("username", "")
    try:
        check_login_throttle(username)
    except ApiError:
        return render_template("manager/login.html", next=next_page, username=username,
                               error=translate("too_many_logins", lang)), 429
    user = accounts.authenticate(get_db(), username, request.form.get("password", ""))
    if user is None:
        record_login_failure(username)
        return render_template("manager/login.html", next=next_page, username=username,
                               error=translate("bad_login", lang)), 401
    clear_login_failures(username)
    session.clear()
    session["user_id"] = user["id"]
    # Changing the password ends every session made with the old one.
    session["password_hash_tail"] = user["password_hash"][-16:]
    session["seen_at"] = now()  # the idle clock starts (LUOT_SESSION_IDLE_MINUTES)
    fallback = url_for("counter.panel") if user["role"] == "clerk" else url_for("manager.monitor")
    return redirect(safe_next(next_page, fallback))


@bp.post("/logout")
def logout():
    check_csrf()
    session.clear()
    return redirect(url_for("manager.login"))


@bp.get("/manager")
def monitor():
    principal, redirect_response = staff_page("manager", "admin")
    if redirect_response:
        return redirect_response
    lang = current_language()
    texts = page_texts(["waiting", "closed", "counter", "clerk", "ticket", "state", "service", "disconnected",
                        "minutes", "recent_calls", "no_counter_short"], lang)
    queue = get_queue()
    return render_template("manager/monitor.html", user=principal,
                           page_data={"lang": lang, "texts": texts, "centre": queue.centre["name"],
                                      "kpis": stats.today_kpis(get_db(), queue.centre_id, queue.tz, now())})
