"""The benchmark scripts still run: each one, at a tiny size, starts what it starts (the production
server, its client processes), drives it and exits 0 with its table. The figures themselves belong
in bench/RESULTS.md, never in a test (the machines are shared and noisy); this only makes sure the
commands RESULTS.md quotes keep working and still find nothing wrong (no HTTP error, no error in the
server log, no missed delivery: each script exits non-zero on any of them)."""
from __future__ import annotations

import subprocess
import sys

import pytest

from tests.conftest import ROOT


def run_bench(script: str, *arguments: str, timeout: float = 240) -> str:
    finished = subprocess.run([sys.executable, f"bench/{script}", *arguments], cwd=ROOT, capture_output=True,
                              text=True, timeout=timeout)
    assert finished.returncode == 0, f"{script} failed:\n{finished.stdout[-3000:]}\n{finished.stderr[-3000:]}"
    return finished.stdout


def row(output: str, measure: str) -> list[str]:
    """The cells after `measure` in the printed Markdown table."""
    line = next(line for line in output.splitlines() if line.startswith(f"| {measure} "))
    return [cell.strip() for cell in line.strip("|").split("|")][1:]


@pytest.mark.parametrize("client", ["asyncio", "threads"])
def test_call_to_screen_benchmark(client):
    output = run_bench("bench_calls.py", "--screens", "6", "--monitors", "2", "--counters", "3", "--calls", "6",
                       "--rate", "6", "--processes", "2", "--client", client)
    assert row(output, "screens connected (displays + monitors)")[0] == "6 (4 + 2)"
    assert row(output, "deliveries measured")[0] == "36"  # 6 calls x 6 screens, every one measured
    assert row(output, "missed deliveries")[0] == "0"
    assert float(row(output, "call-to-screen p99")[0].split()[0]) > 0


def test_ticket_issue_benchmark():
    output = run_bench("bench_issue.py", "--kiosks", "2", "--tickets", "60", "--warmup", "10", "--displays", "2",
                       "--backlog", "150")
    assert "tickets/s" in output and "| HTTP errors" in output
    assert row(output, "throughput with a backlog ÷ from an empty queue")


def test_forecast_benchmark():
    output = run_bench("bench_forecast.py", "--seeds", "1", "--hours", "1", "--counters", "4", "--repeat", "5")
    assert row(output, "all")[0] != "0" and "%" in row(output, "≥ 80 % inside the printed range")[0]


def test_busy_day_benchmark():
    # 8 counters: with the demo centre's pattern fewer leave some services without a counter
    output = run_bench("bench_day.py", "--tickets", "40", "--counters", "8", "--kiosks", "2", "--displays", "2",
                       "--monitors", "1", "--speed", "2000", "--processes", "2")
    assert "server CPU" in output and "peak RSS" in output


def test_hot_path_and_statistics_benchmarks():
    profile = run_bench("bench_profile.py", "--waiting", "20", "--repeat", "10")
    assert "call-next" in profile and "snapshot" in profile
    statistics = run_bench("bench_stats.py", "--tickets", "3000")
    assert "ticket_journal (stream)" in statistics


def test_idle_sockets_benchmark():
    output = run_bench("bench_sockets.py", "--sockets", "60", "--processes", "2", "--per-address", "10",
                       "--calls", "3", "--rate", "3", "--kiosk-requests", "10")
    assert row(output, "sockets connected")[0].startswith("60 of 60")
    assert row(output, "deliveries measured")[0] == "180"
    assert row(output, "missed deliveries")[0] == "0"


def test_province_hub_benchmark():
    from tests.hub_fixtures import why_no_postgres
    if why_no_postgres():
        pytest.fail(f"PostgreSQL is needed (scripts/install.sh --test installs it): {why_no_postgres()}")
    output = run_bench("bench_hub.py", "--centres", "3", "--tickets", "30", "--lag-seconds", "3")
    stored, sent = row(output, "events stored / sent (exactly once)")[0].split(" / ")
    assert stored == sent and row(output, "centres whose issued/served/no-show differ")[0] == "0"
    year_by_centre = next(line for line in output.splitlines() if line.startswith("| year 2") and "by=centre" in line)
    assert "median" in year_by_centre
