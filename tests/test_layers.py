"""Each layer imports only what docs/architecture.md allows it (the same table is written there)."""
from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# The project's own top-level modules and packages, i.e. the layers.
PROJECT = {"queueing", "printers", "kiosk", "counter", "display", "manager", "api", "web", "server", "settings",
           "sockets", "i18n", "gunicorn", "bench", "tests", "hub", "notify"}

# layer (a package or module, most specific first) -> (project modules it may import, third-party roots it must not)
# A project import is allowed when it is, or lies under, one of the listed modules.
SCREEN_MAY = {"queueing", "web", "i18n", "settings"}
RULES = {
    "kiosk.assistant": ({"queueing.text"}, {"flask", "flask_socketio", "socketio", "escpos", "pyttsx3"}),
    "queueing": (set(), {"flask", "flask_socketio", "socketio", "escpos", "pyttsx3", "werkzeug", "jinja2"}),
    "printers": ({"queueing"}, {"flask", "flask_socketio", "pyttsx3"}),
    # SMS senders (issue 15): plain Python over requests; folding texts is the core's
    "notify": ({"queueing.text"}, {"flask", "flask_socketio", "socketio", "escpos", "pyttsx3"}),
    "settings": (set(), {"flask", "flask_socketio", "escpos", "pyttsx3"}),
    # how connections are served (gevent or threading), capped and closed on every instance
    "sockets": ({"settings"}, {"flask", "escpos", "pyttsx3"}),
    "i18n": (set(), {"escpos", "pyttsx3"}),
    "web": ({"queueing", "settings", "sockets"}, {"escpos", "pyttsx3"}),
    # Known exception, to be moved (issue 14): api/events.py and api/routes.py reach into the kiosk
    # blueprint for issuing and printing.
    "api": (SCREEN_MAY | {"sockets", "printers.protocol", "kiosk.issuing", "kiosk.printing"}, {"escpos", "pyttsx3"}),
    "kiosk": (SCREEN_MAY | {"printers.protocol", "printers.slip", "printers.receipt", "printers.spooler"}, {"pyttsx3"}),
    "counter": (SCREEN_MAY, {"escpos", "pyttsx3"}),
    # display/announcer.py owns the TTS engine, in a real OS thread when the server runs on gevent
    "display": (SCREEN_MAY | {"sockets"}, {"escpos"}),
    # The admin pages close a revoked device's sockets (on every instance) and check printer URIs.
    "manager": (SCREEN_MAY | {"sockets", "printers.drivers"}, {"pyttsx3"}),
    # The province hub (issue 18): no screen, no centre SQLite code; the core's statistics definitions only.
    "hub": ({"settings", "queueing.stats.replay", "queueing.stats.tallies"},
            {"flask_socketio", "socketio", "escpos", "pyttsx3", "sqlite3", "sqlite_utils"}),
}


def layer_of(path: Path) -> str | None:
    module = ".".join(path.relative_to(ROOT).with_suffix("").parts)
    for layer in RULES:  # most specific first
        if module == layer or module.startswith(layer + "."):
            return layer
    return None


def imports_of(path: Path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if node.module.split(".")[0] in PROJECT:
                # `from api import events` imports api.events: judge the module, not the package
                for alias in node.names:
                    yield f"{node.module}.{alias.name}"
            else:
                yield node.module


def allowed(name: str, permitted: set[str]) -> bool:
    return any(name == module or name.startswith(module + ".") for module in permitted)


def test_every_layer_imports_only_what_the_architecture_allows():
    broken = []
    checked = 0
    for path in sorted(ROOT.rglob("*.py")):
        if {".venv", "tests", "bench", "node_modules"} & set(path.relative_to(ROOT).parts):
            continue
        layer = layer_of(path)
        if layer is None:
            continue
        permitted, forbidden = RULES[layer]
        own = layer.split(".")[0]
        checked += 1
        for name in imports_of(path):
            root = name.split(".")[0]
            if root in forbidden:
                broken.append(f"{path.relative_to(ROOT)} imports {name} ({layer} must not)")
            elif root in PROJECT and root != own and not allowed(name, permitted):
                broken.append(f"{path.relative_to(ROOT)} imports {name} ({layer} may import only "
                              f"{', '.join(sorted(permitted)) or 'nothing of the project'})")
            elif layer == "kiosk.assistant" and root == "kiosk" and not name.startswith("kiosk.assistant"):
                broken.append(f"{path.relative_to(ROOT)} imports {name} (the assistant is pure, screen-free)")
    assert checked > 50
    assert not broken, "\n".join(broken)


def test_the_rule_table_is_the_one_in_the_architecture_document():
    text = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    for layer in RULES:
        assert f"`{layer}`" in text, f"docs/architecture.md does not list the layer {layer}"
