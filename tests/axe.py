"""axe-core in the browser tests: every page a citizen or a member of staff opens, checked for serious and
critical accessibility violations (issue 17).

axe-core is vendored for the tests only (tests/vendor/axe.min.js, its licence beside it, from the npm package
`axe-core`); it is never served to users. It is run through Playwright's `evaluate`, which the pages' strict
Content-Security-Policy does not apply to, so the pages are checked exactly as they are served.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

AXE_SOURCE = Path(__file__).resolve().parent / "vendor" / "axe.min.js"
AXE_VERSION = "4.14.1"
BLOCKING = ("serious", "critical")


@dataclass(frozen=True)
class Page:
    """A page to check: its path, who signs in first (None: nobody), the screen it is made for, and whether it
    exists only once a feature is merged (booking): such a page answering 404 is reported as skipped."""
    name: str
    path: str
    user: str | None = None
    viewport: tuple[int, int] = (1280, 800)
    ready: str = "body"
    optional: bool = False


KIOSK_PORTRAIT = (1080, 1920)
TV = (1920, 1080)
PHONE = (390, 844)
DESKTOP = (1366, 768)

# `{kiosk_token}` and `{track_url}` are filled in by the test from its live server.
PAGES = [
    Page("kiosk", "/kiosk#token={kiosk_token}", viewport=KIOSK_PORTRAIT, ready=".service-button[data-service]"),
    Page("display", "/display", viewport=TV, ready="#latest-number"),
    Page("tracking", "{track_url}", viewport=PHONE, ready="#track-status.status-waiting"),
    Page("rating", "/rate/1", ready="body"),
    Page("sign-in", "/login", viewport=DESKTOP, ready="input[name=username]"),
    Page("counter", "/counter", user="quay1", ready="main"),
    Page("monitor", "/manager", user="admin", viewport=DESKTOP, ready="main"),
    Page("statistics", "/manager/stats", user="admin", viewport=DESKTOP, ready="#breakdown"),
    Page("administration", "/manager/admin/", user="admin", viewport=DESKTOP, ready="h1"),
    Page("booking", "/book", viewport=PHONE, optional=True),
]


def inject(page) -> None:
    """Loads axe-core into the page once."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(AXE_SOURCE.read_text(encoding="utf-8") + "\n;undefined")


def violations(page, impacts=BLOCKING) -> list[dict]:
    """axe-core's violations on the page as it is now (WCAG 2.x A and AA rules and best practices), those of
    the given impacts only, each as {id, impact, help, targets, why (the first node's failure summary)}."""
    inject(page)
    found = page.evaluate("""() => axe.run(document, {resultTypes: ['violations']})
        .then(result => result.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                                                     targets: v.nodes.map(n => n.target.join(' ')).slice(0, 5),
                                                     why: v.nodes.length ? v.nodes[0].failureSummary : ''})))""")
    return [violation for violation in found if violation["impact"] in impacts]


def describe(found: list[dict]) -> str:
    """Violations as lines a failing test prints."""
    return "\n".join(f"{v['impact']}: {v['id']} ({v['help']}) at {', '.join(v['targets'])} — {v['why']}" for v in found)
