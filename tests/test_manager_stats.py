"""Managers' statistics over HTTP: the /stats API, CSV/XLSX exports re-read, the history page."""
from __future__ import annotations

import csv
import io
from datetime import date, timedelta

import pytest
from openpyxl import load_workbook

from queueing import demo_history, store


@pytest.fixture
def history(app):
    """Three days of demo history before the fixed test day (2026-11-24)."""
    db = store.connect(app.config["DATABASE"])
    try:
        demo_history.generate(db, "demo", 3, seed=7, end_day=date(2026, 11, 23), daily_tickets=60)
    finally:
        db.conn.close()
    return {"from": "2026-11-21", "to": "2026-11-23"}


def test_stats_api_breakdowns_and_totals(client, api, history):
    manager = api.headers("admin")
    for by in ("service", "procedure", "counter", "clerk", "hour", "day"):
        response = client.get("/api/v1/stats", query_string={**history, "by": by}, headers=manager)
        assert response.status_code == 200, response.get_json()
        body = response.get_json()
        assert body["rows"] and {"key", "label", "issued", "served", "no_show", "wait_s", "service_s", "sla_pct",
                                 "satisfaction_pct"} <= set(body["rows"][0])
    by_day = client.get("/api/v1/stats", query_string={**history, "by": "day"}, headers=manager).get_json()
    issued_per_day = sum(row["issued"] for row in by_day["rows"])
    assert issued_per_day == by_day["total"]["issued"] > 0
    by_service = client.get("/api/v1/stats", query_string={**history, "by": "service"}, headers=manager).get_json()
    assert sum(row["issued"] for row in by_service["rows"]) == issued_per_day
    today = client.get("/api/v1/stats/today", headers=manager).get_json()
    assert today["day"] == "2026-11-24" and today["issued"] == 0


@pytest.mark.parametrize("query, code", [
    ({"from": "2026-13-01"}, "bad_date"),
    ({"from": "2026-11-24", "to": "2026-11-01"}, "bad_range"),
    ({"from": "2024-01-01", "to": "2026-01-01"}, "bad_range"),
    ({"by": "colour"}, "bad_breakdown"),
])
def test_stats_api_rejects_bad_queries(client, api, query, code):
    response = client.get("/api/v1/stats", query_string=query, headers=api.headers("admin"))
    assert response.status_code == 400 and response.get_json()["code"] == code


def test_stats_are_for_managers_only(client, api):
    assert client.get("/api/v1/stats").status_code == 401
    assert client.get("/api/v1/stats", headers=api.headers("quay1")).status_code == 403
    assert client.get("/api/v1/stats", headers=api.headers()).status_code == 403  # kiosk
    assert client.get("/api/v1/stats/export").status_code == 401


def test_csv_export_rereads_with_vietnamese_headers(client, api, history):
    response = client.get("/api/v1/stats/export", query_string={**history, "by": "service", "format": "csv"},
                          headers=api.headers("admin"))
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0][:3] == ["Mã", "Nhóm", "Số phiếu cấp"]
    api_rows = client.get("/api/v1/stats", query_string={**history, "by": "service"},
                          headers=api.headers("admin")).get_json()["rows"]
    assert [r[0] for r in rows[1:]] == [r["key"] for r in api_rows]
    assert [int(r[2]) for r in rows[1:]] == [r["issued"] for r in api_rows]


def test_xlsx_export_of_the_ticket_journal(client, api, history):
    response = client.get("/api/v1/stats/export", query_string={**history, "by": "journal", "format": "xlsx"},
                          headers=api.headers("admin"))
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.data), read_only=True).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == "Ngày" and "Số" in rows[0] and "Chờ (giây)" in rows[0]
    total = client.get("/api/v1/stats", query_string={**history, "by": "day"},
                       headers=api.headers("admin")).get_json()["total"]["issued"]
    assert len(rows) - 1 == total
    assert all("citizen" not in str(header).lower() for header in rows[0])
    bad = client.get("/api/v1/stats/export", query_string={"format": "pdf"}, headers=api.headers("admin"))
    assert bad.status_code == 400 and bad.get_json()["code"] == "bad_format"


def test_history_page_renders_tables_and_chart_data(client, api, history):
    page = client.get("/login").get_data(as_text=True)
    token = page.split('name="csrf_token" value="')[1].split('"')[0]
    client.post("/login", data={"username": "admin", "password": api.credentials.passwords["admin"],
                                "csrf_token": token})
    response = client.get("/manager/stats", query_string={**history, "by": "procedure"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "Thủ tục" in html and 'id="page-data"' in html
    assert "chart.umd.min.js" in html and "cdn" not in html.lower()
    bad = client.get("/manager/stats", query_string={"from": "x"})
    assert bad.status_code == 200 and "YYYY-MM-DD" in bad.get_data(as_text=True)
