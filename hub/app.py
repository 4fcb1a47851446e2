"""The hub's Flask application: the ingest endpoint for centres, the province API and the /province pages."""
from __future__ import annotations

import csv
import hmac
import io
import os
import secrets
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from flask import (Blueprint, Flask, Response, current_app, g, jsonify, redirect, render_template, request, session,
                   url_for)
from werkzeug.exceptions import HTTPException

from settings import setting

from . import store
from .store import HubError

ROOT = Path(__file__).resolve().parent.parent
PROVINCE_TZ = ZoneInfo("Asia/Ho_Chi_Minh")
MAX_BODY_BYTES = 8 * 1024 * 1024  # a batch of 5,000 events
CONTENT_SECURITY_POLICY = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                           "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'")

api = Blueprint("hub_api", __name__, url_prefix="/api/v1")
pages = Blueprint("province", __name__, url_prefix="/province", template_folder="templates")


def create_hub_app(config: dict | None = None) -> Flask:
    """The hub; its database is LUOT_HUB_DATABASE_URL (or DATABASE_URL in `config`)."""
    from psycopg_pool import ConnectionPool
    config = dict(config or {})
    url = config.get("DATABASE_URL") or setting("LUOT_HUB_DATABASE_URL")
    if not url:
        raise SystemExit("LUOT_HUB_DATABASE_URL is not set (postgresql://user@host/dbname)")
    app = Flask(__name__, static_folder=str(ROOT / "static"), template_folder=str(Path(__file__).parent / "templates"))
    app.config.update(SECRET_KEY=config.get("SECRET_KEY") or setting("LUOT_SECRET_KEY") or _instance_secret(),
                      MAX_CONTENT_LENGTH=MAX_BODY_BYTES, SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Lax",
                      SESSION_COOKIE_SECURE=setting("LUOT_HTTPS") == "1", CLOCK=config.get("CLOCK") or time.time)
    app.json.ensure_ascii = False
    app.extensions["hub_pool"] = ConnectionPool(url, min_size=1, max_size=int(config.get("POOL_SIZE", 8)),
                                                kwargs={"autocommit": True}, open=True)
    app.register_blueprint(api)
    app.register_blueprint(pages)

    @app.get("/")
    def home():
        return redirect(url_for("province.live_page"))

    @app.errorhandler(HubError)
    def refused(error: HubError):
        return jsonify({"error": error.message, "code": error.code, **error.extra}), error.status

    @app.errorhandler(HTTPException)
    def http_error(error):
        if not request.path.startswith("/api/"):
            return error
        return jsonify({"error": error.description or error.name,
                        "code": error.name.lower().replace(" ", "_")}), error.code

    @app.after_request
    def headers(response):
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        if request.path.startswith("/api/"):
            response.headers.setdefault("Cache-Control", "no-store")
        return response

    app.teardown_appcontext(_give_back)
    app.jinja_env.globals.update(csrf_token=_csrf_token)
    return app


def _instance_secret() -> str:
    folder = Path(setting("LUOT_INSTANCE") or ROOT / "instance")
    folder.mkdir(parents=True, exist_ok=True)
    key_file = folder / "hub_secret_key"
    if not key_file.exists():
        descriptor = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.write(secrets.token_urlsafe(48))
    return key_file.read_text().strip()


def db():
    """This request's pooled connection (autocommit; writes open their own transaction)."""
    if "hub_conn" not in g:
        pool = current_app.extensions["hub_pool"]
        g.hub_conn = pool.getconn()
    return g.hub_conn


def _give_back(_error=None):
    conn = g.pop("hub_conn", None)
    if conn is not None:
        current_app.extensions["hub_pool"].putconn(conn)


def _bearer() -> str | None:
    header = request.headers.get("Authorization", "")
    return header[7:].strip() if header.startswith("Bearer ") else None


def require_centre() -> int:
    token = _bearer()
    if not token:
        raise HubError("Cần mã của trung tâm (centre token required)", "unauthorized", 401)
    found = store.centre_of_token(db(), token)
    if found is None:
        if store.manager_of_token(db(), token):
            raise HubError("Mã này không phải của một trung tâm (not a centre token)", "forbidden", 403)
        raise HubError("Mã không hợp lệ (unknown token)", "unauthorized", 401)
    return found[0]


def require_manager() -> None:
    if session.get("province_manager"):
        return
    token = _bearer()
    if not token:
        raise HubError("Cần đăng nhập quản lý tỉnh (province manager token required)", "unauthorized", 401)
    if store.manager_of_token(db(), token) is None:
        if store.centre_of_token(db(), token):
            raise HubError("Mã của trung tâm không xem được số liệu tỉnh (centre tokens cannot read the province)",
                           "forbidden", 403)
        raise HubError("Mã không hợp lệ (unknown token)", "unauthorized", 401)


# ---- the API -------------------------------------------------------------------------------------

@api.get("/province/ingest")
def ingest_position():
    """A centre asks how far the hub has its log (where to resume)."""
    centre_id = require_centre()
    return jsonify({"acked": store.acked_seq(db(), centre_id)})


@api.post("/province/ingest")
def ingest():
    """A centre's batch of events; answers the highest sequence stored (409 `gap` with it, to resend from)."""
    centre_id = require_centre()
    payload = request.get_json(silent=True)
    if not isinstance(payload, dict):
        raise HubError("Cần một đối tượng JSON (a JSON object is required)", "bad_json")
    acked = store.ingest(db(), centre_id, payload, current_app.config["CLOCK"]())
    return jsonify({"acked": acked})


@api.get("/province/centres")
def centres():
    require_manager()
    return jsonify(store.centres(db(), current_app.config["CLOCK"]()))


@api.get("/province/live")
def live():
    require_manager()
    return jsonify(store.live(db()))


def _range_and_by() -> tuple[date, date, str]:
    today = datetime.fromtimestamp(current_app.config["CLOCK"](), PROVINCE_TZ).date()
    try:
        first = date.fromisoformat(request.args.get("from") or (today - timedelta(days=29)).isoformat())
        last = date.fromisoformat(request.args.get("to") or today.isoformat())
    except ValueError:
        raise HubError("Ngày phải có dạng YYYY-MM-DD (dates are YYYY-MM-DD)", "bad_date")
    if last < first or (last - first).days > 366 * 3:
        raise HubError("Khoảng ngày không hợp lệ (from ≤ to, at most three years)", "bad_range")
    by = request.args.get("by", "centre")
    if by not in store.BY:
        raise HubError("'by' là centre, service hoặc procedure", "bad_by")
    return first, last, by


@api.get("/province/stats")
def stats():
    require_manager()
    first, last, by = _range_and_by()
    return jsonify(store.stats(db(), first, last, by))


@api.get("/province/catalogue")
def catalogue():
    """The province's procedure catalogue, newest version (centres pull it; anyone with a token reads it)."""
    token = _bearer()
    if not session.get("province_manager") and not (token and (store.centre_of_token(db(), token)
                                                               or store.manager_of_token(db(), token))):
        raise HubError("Cần mã của trung tâm hoặc quản lý tỉnh (token required)", "unauthorized", 401)
    found = store.latest_catalogue(db())
    if found is None:
        raise HubError("Tỉnh chưa công bố danh mục (no catalogue published)", "no_catalogue", 404)
    return jsonify(found)


# ---- the pages -----------------------------------------------------------------------------------

def _csrf_token() -> str:
    if "csrf" not in session:
        session["csrf"] = secrets.token_urlsafe(24)
    return session["csrf"]


def _check_csrf() -> None:
    sent = request.form.get("csrf_token", "")
    if not sent or not hmac.compare_digest(sent, session.get("csrf", "")):
        raise HubError("Phiên đã hết hạn, vui lòng thử lại (CSRF check failed)", "csrf", 400)


@pages.route("/sign-in", methods=["GET", "POST"])
def sign_in():
    error = None
    if request.method == "POST":
        _check_csrf()
        if store.manager_of_token(db(), request.form.get("token", "").strip()):
            session.clear()
            session["province_manager"] = True
            return redirect(url_for("province.live_page"))
        error = "Mã không đúng (wrong token)"
    return render_template("province/sign_in.html", error=error), 401 if error else 200


@pages.post("/sign-out")
def sign_out():
    _check_csrf()
    session.clear()
    return redirect(url_for("province.sign_in"))


def _signed_in():
    return bool(session.get("province_manager"))


@pages.get("")
def live_page():
    if not _signed_in():
        return redirect(url_for("province.sign_in"))
    now = current_app.config["CLOCK"]()
    centres_now = {row["code"]: row for row in store.centres(db(), now)}
    rows = [{**row, "lag_s": centres_now[row["code"]]["lag_s"], "events": centres_now[row["code"]]["events"]}
            for row in store.live(db())]
    return render_template("province/live.html", rows=rows)


@pages.get("/stats")
def stats_page():
    if not _signed_in():
        return redirect(url_for("province.sign_in"))
    try:
        first, last, by = _range_and_by()
    except HubError as error:
        return render_template("province/stats.html", rows=[], error=error.message, by="centre",
                               first="", last="", ranking=[]), 400
    rows = store.stats(db(), first, last, by)["rows"]
    ranking = sorted((row for row in rows if row["issued"] or row["served"]),
                     key=lambda row: (-(row["on_time_pct"] if row["on_time_pct"] is not None else -1),
                                      -(row["sla_pct"] if row["sla_pct"] is not None else -1),
                                      -(row["satisfaction_pct"] if row["satisfaction_pct"] is not None else -1)))
    return render_template("province/stats.html", rows=rows, by=by, first=first.isoformat(), last=last.isoformat(),
                           ranking=ranking if by == "centre" else [], error=None)


EXPORT_COLUMNS = ("key", "label", "issued", "called", "served", "no_show", "wait_mean_s", "wait_median_s",
                  "wait_p90_s", "service_mean_s", "service_median_s", "service_p90_s", "sla_pct",
                  "satisfaction_pct", "dossiers_done", "on_time_pct")


def _flat(row: dict) -> list:
    return [row["key"], row["label"], row["issued"], row["called"], row["served"], row["no_show"],
            row["wait_s"]["mean"], row["wait_s"]["median"], row["wait_s"]["p90"], row["service_s"]["mean"],
            row["service_s"]["median"], row["service_s"]["p90"], row["sla_pct"], row["satisfaction_pct"],
            row["dossiers_done"], row["on_time_pct"]]


@pages.get("/stats/export")
def export():
    if not _signed_in():
        require_manager()
    first, last, by = _range_and_by()
    kind = request.args.get("format", "csv")
    if kind not in ("csv", "xlsx"):
        raise HubError("Định dạng phải là csv hoặc xlsx (format must be csv or xlsx)", "bad_format")
    rows = [_flat(row) for row in store.stats(db(), first, last, by)["rows"]]
    name = f"luot-tinh-{by}-{first}-{last}.{kind}"
    if kind == "csv":
        buffer = io.StringIO()
        buffer.write("\ufeff")  # Excel opens UTF-8 with a BOM as UTF-8 (Vietnamese names)
        writer = csv.writer(buffer)
        writer.writerow(EXPORT_COLUMNS)
        writer.writerows(rows)
        return Response(buffer.getvalue(), mimetype="text/csv",
                        headers={"Content-Disposition": f"attachment; filename={name}"})
    from openpyxl import Workbook
    book = Workbook()
    sheet = book.active
    sheet.title = by
    sheet.append(EXPORT_COLUMNS)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return Response(buffer.getvalue(), headers={"Content-Disposition": f"attachment; filename={name}"},
                    mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
