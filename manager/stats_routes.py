"""Statistics for managers: the /stats API, CSV/XLSX exports and the history page with charts."""
from __future__ import annotations

import csv
import io
import tempfile
from datetime import date, datetime, timedelta, timezone

from flask import Blueprint, Response, jsonify, render_template, request, send_file, stream_with_context

from i18n import current_language
from queueing import stats
from queueing.model import QueueError
from web import get_db, get_queue, now, require, staff_page

bp = Blueprint("stats", __name__, template_folder="templates")

MAX_RANGE_DAYS = 400
JOURNAL = "journal"

# Column headers of exports, Vietnamese first (the centre's reports are in Vietnamese).
BREAKDOWN_COLUMNS = [
    ("key", "Mã"), ("label", "Nhóm"), ("issued", "Số phiếu cấp"), ("called", "Đã gọi"), ("served", "Đã phục vụ"),
    ("no_show", "Vắng mặt"), ("expired", "Hết hạn"), ("transferred", "Chuyển"),
    ("wait_s.mean", "Chờ TB (giây)"), ("wait_s.median", "Chờ trung vị (giây)"), ("wait_s.p90", "Chờ P90 (giây)"),
    ("service_s.mean", "Phục vụ TB (giây)"), ("service_s.median", "Phục vụ trung vị (giây)"),
    ("service_s.p90", "Phục vụ P90 (giây)"), ("walk_s.mean", "Di chuyển TB (giây)"),
    ("sla_pct", "Đạt chuẩn chờ (%)"), ("no_show_pct", "Tỷ lệ vắng (%)"), ("satisfaction_pct", "Hài lòng (%)"),
    ("ratings.3", "Rất hài lòng"), ("ratings.2", "Hài lòng"), ("ratings.1", "Không hài lòng"),
    ("procedures_per_ticket", "Thủ tục/phiếu"),
    ("dossiers", "Hồ sơ đến hạn"), ("returned", "Đã trả kết quả"), ("on_time_pct", "Đúng hạn (%)"),
    ("overdue_now", "Đang quá hạn"), ("days_early_median", "Sớm (+) / trễ (−) trung vị (ngày)"),
]
BREAKDOWN_LABELS = {
    "service": "Lĩnh vực", "procedure": "Thủ tục", "counter": "Quầy", "clerk": "Cán bộ", "hour": "Giờ trong ngày",
    "day": "Ngày", "weekday_hour": "Thứ × giờ", JOURNAL: "Nhật ký phiếu",
}


def local_today() -> date:
    return datetime.fromtimestamp(now(), timezone.utc).astimezone(get_queue().tz).date()


def date_range() -> tuple[date, date]:
    """The ?from=&to= range (inclusive, local days); the last 7 days by default."""
    today = local_today()
    try:
        date_to = date.fromisoformat(request.args["to"]) if request.args.get("to") else today
        date_from = date.fromisoformat(request.args["from"]) if request.args.get("from") else date_to - timedelta(days=6)
    except ValueError:
        raise QueueError("Ngày phải có dạng YYYY-MM-DD (dates must be YYYY-MM-DD)", code="bad_date") from None
    if date_from > date_to:
        raise QueueError("Ngày bắt đầu phải trước ngày kết thúc (from must not be after to)", code="bad_range")
    if (date_to - date_from).days >= MAX_RANGE_DAYS:
        raise QueueError(f"Khoảng thời gian tối đa {MAX_RANGE_DAYS} ngày (range too long)", code="bad_range")
    return date_from, date_to


def breakdown() -> str:
    by = request.args.get("by", "service")
    if by not in stats.BREAKDOWNS:
        raise QueueError(f"Cách nhóm không hợp lệ; chọn một trong: {', '.join(stats.BREAKDOWNS)} "
                         "(unknown breakdown)", code="bad_breakdown")
    return by


def centre_args():
    queue = get_queue()
    return get_db(), queue.centre_id, queue.tz


@bp.get("/api/v1/stats")
def stats_rows():
    require("manager", "admin")
    date_from, date_to = date_range()
    by = breakdown()
    db, centre_id, tz = centre_args()
    return jsonify({"from": date_from.isoformat(), "to": date_to.isoformat(), "by": by,
                    "rows": stats.compute(db, centre_id, tz, date_from, date_to, by, now()),
                    "total": stats.summary(db, centre_id, tz, date_from, date_to, now())})


@bp.get("/api/v1/stats/today")
def stats_today():
    require("manager", "admin")
    db, centre_id, tz = centre_args()
    return jsonify(stats.today_kpis(db, centre_id, tz, now()))


@bp.get("/api/v1/stats/charts")
def stats_charts():
    require("manager", "admin")
    date_from, date_to = date_range()
    db, centre_id, tz = centre_args()
    return jsonify(chart_data(db, centre_id, tz, date_from, date_to))


def chart_data(db, centre_id, tz, date_from, date_to) -> dict:
    """Everything the history page draws, each chart with the numbers behind it."""
    return {
        "hourly": stats.hourly_arrivals_served(db, centre_id, tz, date_from, date_to),
        "histogram": stats.wait_histogram(db, centre_id, tz, date_from, date_to, 300),
        "procedures": [row for row in stats.compute(db, centre_id, tz, date_from, date_to, "procedure")
                       if row["served"]],
        "heatmap": [{"weekday": row["weekday"], "hour": row["hour"], "issued": row["issued"]}
                    for row in stats.compute(db, centre_id, tz, date_from, date_to, "weekday_hour")],
    }


def cell(row: dict, path: str):
    value = row
    for part in path.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def export_table(by: str, date_from: date, date_to: date):
    """(headers, rows iterator) of a breakdown or of the raw ticket journal."""
    db, centre_id, tz = centre_args()
    if by == JOURNAL:
        journal = stats.ticket_journal(db, centre_id, tz, date_from, date_to)
        first = next(journal, None)
        if first is None:
            return ["Không có phiếu"], iter(())
        keys = list(first)

        def rows():
            yield [first[k] for k in keys]
            for entry in journal:
                yield [entry[k] for k in keys]
        return [JOURNAL_HEADERS.get(k, k) for k in keys], rows()
    data = stats.compute(db, centre_id, tz, date_from, date_to, by, now())
    return [label for _, label in BREAKDOWN_COLUMNS], ([cell(row, path) for path, _ in BREAKDOWN_COLUMNS] for row in data)


JOURNAL_HEADERS = {
    "local_day": "Ngày", "number": "Số", "service": "Lĩnh vực", "service_name": "Tên lĩnh vực",
    "final_service": "Lĩnh vực cuối", "priority": "Ưu tiên", "lang": "Ngôn ngữ", "status": "Trạng thái",
    "issued_at": "Giờ lấy số", "first_called_at": "Giờ gọi", "started_at": "Giờ bắt đầu",
    "finished_at": "Giờ kết thúc", "counter": "Quầy", "counter_number": "Số quầy", "clerk": "Cán bộ",
    "procedures": "Thủ tục", "rating": "Đánh giá", "wait_s": "Chờ (giây)", "walk_s": "Di chuyển (giây)",
    "service_s": "Phục vụ (giây)", "recalls": "Số lần gọi lại", "transfers": "Số lần chuyển",
}


@bp.get("/api/v1/stats/export")
def stats_export():
    require("manager", "admin")
    date_from, date_to = date_range()
    by = request.args.get("by", "service")
    if by != JOURNAL:
        by = breakdown()
    kind = request.args.get("format", "csv")
    if kind not in ("csv", "xlsx"):
        raise QueueError("Định dạng phải là csv hoặc xlsx (format must be csv or xlsx)", code="bad_format")
    headers, rows = export_table(by, date_from, date_to)
    name = f"luot-{by}-{date_from.isoformat()}-{date_to.isoformat()}.{kind}"
    if kind == "csv":
        def generate():
            buffer = io.StringIO()
            writer = csv.writer(buffer)
            buffer.write("\ufeff")  # Excel opens UTF-8 Vietnamese correctly only with a BOM
            writer.writerow(headers)
            for index, row in enumerate(rows, start=1):
                writer.writerow(row)
                if index % 500 == 0:
                    yield buffer.getvalue()
                    buffer.seek(0)
                    buffer.truncate()
            yield buffer.getvalue()
        return Response(stream_with_context(generate()), mimetype="text/csv",
                        headers={"Content-Disposition": f'attachment; filename="{name}"'})
    from openpyxl import Workbook
    workbook = Workbook(write_only=True)  # rows go straight to disk, so a year of tickets fits in memory
    sheet = workbook.create_sheet(BREAKDOWN_LABELS[by][:31])
    sheet.append(headers)
    for row in rows:
        sheet.append(row)
    spool = tempfile.TemporaryFile()
    workbook.save(spool)
    spool.seek(0)
    return send_file(spool, as_attachment=True, download_name=name,
                     mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


@bp.get("/manager/stats")
def history():
    """The history page: a date range, the breakdowns, charts and their numbers."""
    principal, redirect_response = staff_page("manager", "admin")
    if redirect_response:
        return redirect_response
    lang = current_language()
    try:
        date_from, date_to = date_range()
        by = breakdown()
        error = None
    except QueueError as problem:
        date_to = local_today()
        date_from, by, error = date_to - timedelta(days=6), "service", problem.message
    db, centre_id, tz = centre_args()
    rows = stats.compute(db, centre_id, tz, date_from, date_to, by, now())
    return render_template("manager/stats.html", user=principal, error=error, by=by, rows=rows,
                           breakdowns=BREAKDOWN_LABELS, date_from=date_from, date_to=date_to,
                           total=stats.summary(db, centre_id, tz, date_from, date_to, now()),
                           page_data={"lang": lang, "charts": chart_data(db, centre_id, tz, date_from, date_to)})
