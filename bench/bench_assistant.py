"""The kiosk assistant on its measured set (issue 13): top-1/top-3 per kind, out of scope, latency per ask.

    .venv/bin/python bench/bench_assistant.py [--split test|dev|all] [--misses] [--repeat N]

In-process (no server): the assistant is pure Python over an in-memory FTS5 index, built from the
bundled catalogue exactly as the kiosk builds it. A request counts right at top-1 when the first
suggestion is one of its expected codes, at top-3 when one of the first three is; an out-of-scope
or hostile request counts right only when it is answered with no procedure at all.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from kiosk.assistant import load_catalogue_life_events, load_catalogue_procedures, make_assistant  # noqa: E402

CATALOGUE = ROOT / "queueing" / "data" / "catalogue.vi.json"
PHRASINGS = ROOT / "tests" / "data" / "assistant_phrasings.json"
KINDS = ("accented", "unaccented", "typo", "life_event", "english")


def load_items(split: str) -> list[dict]:
    items = json.loads(PHRASINGS.read_text(encoding="utf-8"))["items"]
    return [item for item in items if split == "all" or item["split"] == split]


def build_assistant():
    return make_assistant("rules", load_catalogue_procedures(CATALOGUE), load_catalogue_life_events(CATALOGUE))


def evaluate(assistant, items: list[dict], repeat: int = 1) -> dict:
    """Score every item; returns per-kind counts, misses and latencies (seconds per ask)."""
    results: dict[str, dict] = {}
    latencies: list[float] = []
    misses: list[tuple] = []
    for item in items:
        lang = "en" if item["kind"] == "english" else "vi"
        for _ in range(repeat):
            started = time.perf_counter()
            answer = assistant.ask(item["text"], lang)
            latencies.append(time.perf_counter() - started)
        codes = [suggestion.procedure for suggestion in answer.suggestions]
        row = results.setdefault(item["kind"], {"n": 0, "top1": 0, "top3": 0})
        row["n"] += 1
        if item["expected"] is None:
            right = not codes
            row["top1"] += right
            row["top3"] += right
        else:
            row["top1"] += bool(codes) and codes[0] in item["expected"]
            row["top3"] += any(code in item["expected"] for code in codes[:3])
            right = bool(codes) and codes[0] in item["expected"]
        if not right:
            misses.append((item["kind"], item["text"][:80], item["expected"], codes[:3], answer.confident))
    in_scope = [results[kind] for kind in KINDS if kind in results]
    overall = {"n": sum(r["n"] for r in in_scope), "top1": sum(r["top1"] for r in in_scope),
               "top3": sum(r["top3"] for r in in_scope)}
    ordered = sorted(latencies)
    return {"kinds": results, "overall": overall, "misses": misses,
            "p50_ms": 1000 * statistics.median(ordered) if ordered else 0.0,
            "p99_ms": 1000 * ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))] if ordered else 0.0}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", default="test", choices=("test", "dev", "all"))
    parser.add_argument("--misses", action="store_true", help="list every request not right at top-1")
    parser.add_argument("--repeat", type=int, default=3, help="asks per request for the latency figures")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    assistant = build_assistant()
    build_ms = 1000 * (time.perf_counter() - started)
    report = evaluate(assistant, load_items(args.split), args.repeat)
    print(f"split {args.split}; index built in {build_ms:.0f} ms")
    print(f"{'kind':<14}{'n':>5}{'top-1':>9}{'top-3':>9}")
    for kind in (*KINDS, "out_of_scope"):
        row = report["kinds"].get(kind)
        if row:
            label = "no procedure" if kind == "out_of_scope" else ""
            print(f"{kind:<14}{row['n']:>5}{100 * row['top1'] / row['n']:>8.1f}%{100 * row['top3'] / row['n']:>8.1f}%"
                  f"  {label}")
    overall = report["overall"]
    if overall["n"]:
        print(f"{'overall':<14}{overall['n']:>5}{100 * overall['top1'] / overall['n']:>8.1f}%"
              f"{100 * overall['top3'] / overall['n']:>8.1f}%  (in scope)")
    print(f"latency per ask: p50 {report['p50_ms']:.2f} ms, p99 {report['p99_ms']:.2f} ms")
    if args.misses:
        for miss in report["misses"]:
            print("MISS", *miss, sep=" | ")
    return 0


if __name__ == "__main__":
    sys.exit(main())
