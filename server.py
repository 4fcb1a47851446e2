"""Lượt server: create_app() for the web, and the command line (init, user add, device add, run)."""
from __future__ import annotations

import sys

if __name__ == "__main__" and sys.argv[1:2] in ([], ["run"]):
    # `python server.py` serves every screen from one process on gevent: a WebSocket is a greenlet,
    # not an OS thread (docs/architecture.md, known traps; issue 12). Patching must come before anything
    # imports socket, ssl or threading, so before every import below (sockets.py imports python-socketio,
    # which imports ssl). The other commands stay unpatched. Without gevent it serves in threading mode.
    try:
        from gevent import monkey
        monkey.patch_all()
    except ImportError:
        pass

import argparse
import json
import logging
import os
import re
import secrets
import time
from contextlib import contextmanager
from pathlib import Path

from flask import Flask, jsonify, request
from werkzeug.exceptions import HTTPException

import sockets
import web
from queueing import accounts, centre, maintenance, store
from queueing.model import QueueError
from settings import setting

ROOT = Path(__file__).resolve().parent
MAX_BODY_BYTES = 64 * 1024
CONTENT_SECURITY_POLICY = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                           "media-src 'self'; connect-src 'self'; font-src 'self'; object-src 'none'; "
                           "base-uri 'none'; frame-ancestors 'none'; form-action 'self'")


def instance_path(config: dict) -> Path:
    path = Path(config.get("INSTANCE") or setting("LUOT_INSTANCE") or ROOT / "instance")
    path.mkdir(parents=True, exist_ok=True)
    return path


def secret_key(folder: Path) -> str:
    """LUOT_SECRET_KEY, or one generated once and kept (0600) in the instance folder."""
    configured = setting("LUOT_SECRET_KEY")
    if configured:
        return configured
    key_file = folder / "secret_key"
    if not key_file.exists():
        # Written whole under a name of its own, then linked: processes starting together all end up with
        # the first one's key, and none ever reads a half-written file.
        draft = folder / f".secret_key.{os.getpid()}.{secrets.token_hex(4)}"
        write_private(draft, secrets.token_urlsafe(48))
        try:
            os.link(draft, key_file)
        except FileExistsError:
            pass
        finally:
            draft.unlink()
    return key_file.read_text().strip()


def write_private(path: Path, text: str) -> None:
    """Write a file only its owner can read (credentials)."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.chmod(path, 0o600)


def announce_credentials(text: str, path: Path, announce=print, interactive: bool | None = None) -> None:
    """The first start's passwords and kiosk token go to a terminal only; a log (systemd's journal, a file)
    gets where they are kept instead, so secrets never end up in logs (issue 12)."""
    interactive = sys.stdout.isatty() if interactive is None else interactive
    if interactive:
        announce(text)
        announce(f"(also written to {path}, readable only by its owner)")
    else:
        announce(f"Tài khoản được tạo một lần; mật khẩu và mã kiosk ở {path} (chỉ chủ sở hữu đọc được) — "
                 f"accounts created once: passwords and the kiosk token are in {path} (mode 0600), "
                 "not printed because the output is not a terminal")


@maintenance.one_initialiser_at_a_time  # several processes starting together create the centre once
def initialise(db_path: Path, folder: Path, centre_file: str | None = None, clock=time.time,
               announce=print) -> str:
    """Create or migrate the database; an empty one gets the centre, its staff and a kiosk (idempotent)."""
    db = store.connect(db_path)
    try:
        store.migrate(db)
        existing = centre.only_centre_id(db)
        if existing:
            return existing
        if centre_file:
            with open(centre_file, encoding="utf-8") as handle:
                configuration = json.load(handle)
        else:
            configuration = centre.demo_configuration()
            configuration["centre"]["timezone"] = setting("LUOT_TZ")
        now = clock()
        centre_id = centre.load_configuration(db, configuration, now)
        credentials = centre.create_staff(db, centre_id, now)
        kiosk_token = accounts.create_device(db, centre_id, "Kiosk sảnh chính", "kiosk", now, printer_uri="none")
        lines = ["Lượt — tài khoản được tạo một lần (accounts created once). Keep this file safe.", ""]
        lines += [f"  {role:8} {username:10} {password}" for username, role, password in credentials]
        lines += ["", f"  kiosk token: {kiosk_token}",
                  f"  kiosk page:  http://{setting('LUOT_HOST')}:{setting('LUOT_PORT')}/kiosk#token={kiosk_token}", ""]
        text = "\n".join(lines)
        write_private(folder / "credentials.txt", text)
        announce_credentials(text, folder / "credentials.txt", announce)
        return centre_id
    finally:
        db.conn.close()


def create_app(config: dict | None = None) -> Flask:
    """The Flask application; nothing is built at import time."""
    config = dict(config or {})
    folder = instance_path(config)
    app = Flask(__name__, instance_path=str(folder), static_folder=str(ROOT / "static"),
                template_folder=str(ROOT / "templates"))
    database = Path(config.get("DATABASE") or setting("LUOT_DB") or folder / "luot.sqlite3")
    app.config.update(
        DATABASE=str(database), SECRET_KEY=config.get("SECRET_KEY") or secret_key(folder),
        CLOCK=config.get("CLOCK") or time.time, TTS=config.get("TTS") or setting("LUOT_TTS"),
        MAX_CONTENT_LENGTH=MAX_BODY_BYTES, SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=setting("LUOT_HTTPS") == "1", JSON_AS_ASCII=False,
        REDIS_URL=config.get("REDIS_URL", setting("LUOT_REDIS_URL")),
        PUBLIC_URL=public_base_url(config.get("PUBLIC_URL", setting("LUOT_PUBLIC_URL"))),
        TRUSTED_PROXIES=whole_number(config.get("TRUSTED_PROXIES", setting("LUOT_TRUSTED_PROXIES")),
                                     "LUOT_TRUSTED_PROXIES", 0, 10),
        SESSION_IDLE_S=60 * whole_number(config.get("SESSION_IDLE_MINUTES", setting("LUOT_SESSION_IDLE_MINUTES")),
                                         "LUOT_SESSION_IDLE_MINUTES", 1, 24 * 60),
    )
    app.json.ensure_ascii = False
    app.config.update({k: v for k, v in config.items() if k.isupper()})
    app.config["CENTRE_ID"] = initialise(database, folder, config.get("CENTRE_FILE") or setting("LUOT_CENTRE"),
                                         app.config["CLOCK"], announce=config.get("ANNOUNCE", print))

    from api.appointment_routes import bp as appointments_bp
    from api.day_routes import bp as day_bp
    from api.dossier_routes import bp as dossier_bp
    from api.routes import bp as api_bp
    from counter.routes import bp as counter_bp
    from display.routes import bp as display_bp
    from kiosk.issuing import RateLimiter
    from kiosk.routes import bp as kiosk_bp
    from manager.routes import bp as manager_bp
    from manager.stats_routes import bp as stats_bp
    from manager.admin_routes import api_bp as admin_api_bp, bp as admin_bp
    import manager.holiday_routes  # noqa: F401  (adds the holiday calendar pages to the admin blueprint)
    import manager.vocab_routes  # noqa: F401  (adds the assistant vocabulary page and API to the admin blueprints)
    import manager.shipping_routes  # noqa: F401  (adds the shipping status for the monitor to the stats blueprint)
    import manager.catalogue_routes  # noqa: F401  (adds the province catalogue page to the admin blueprint)
    import manager.voice_pack_routes  # noqa: F401  (the voice pack page and API, issue 19)
    from kiosk.assistant.answer import greeting_sentences_vi
    from queueing import voice_pack
    if greeting_sentences_vi not in voice_pack.SPOKEN_SENTENCES:  # the kiosk's greetings are recorded too
        voice_pack.SPOKEN_SENTENCES.append(greeting_sentences_vi)
    import kiosk.booking_routes  # noqa: F401  (adds the citizen's booking pages to the kiosk blueprint, issue 15)
    import kiosk.receipts  # noqa: F401  (adds the dossier receipt slip to the kiosk blueprint, issue 16)
    for blueprint in (api_bp, day_bp, appointments_bp, dossier_bp, kiosk_bp, counter_bp, display_bp, manager_bp,
                      stats_bp, admin_bp, admin_api_bp):
        app.register_blueprint(blueprint)
    import api.events  # noqa: F401  (registers the Socket.IO handlers)
    import api.dossier_events  # noqa: F401  (a dossier's page follows it, issue 16)
    from api.openapi import bp as openapi_bp
    app.register_blueprint(openapi_bp)

    from i18n import current_language, translate
    app.jinja_env.globals.update(_=translate, csrf_token=web.csrf_token)
    app.context_processor(lambda: {"lang": current_language()})
    app.extensions["luot_rate_limiter"] = RateLimiter()
    app.extensions["luot_pool"] = store.ConnectionPool(app.config["DATABASE"])
    app.extensions["luot_announcer"] = make_announcer(app)
    if app.extensions["luot_announcer"].enabled:
        app.extensions["luot_calls_ahead"] = web.AnnouncementsAhead(app, app.extensions["luot_announcer"])
    app.extensions["luot_queue_summaries"] = web.NewestSummary(queue_push_interval(config),
                                                               summarise=lambda: web.queue_summary_now(app),
                                                               followers=web.followers_of(web.TrackingPushes(app),
                                                                                          web.SmsNudges(app)),
                                                               audience=web.connection_count)
    from notify.sms import BackgroundSmsSender, sms_sender_from_settings
    # The SMS sender (issue 15): the log unless LUOT_SMS_URL names a gateway; tests may hand one in.
    app.extensions["luot.sms"] = config.get("SMS") or BackgroundSmsSender(sms_sender_from_settings(setting))
    from kiosk.printing import Printing
    app.extensions["luot_printing"] = Printing(app.config["DATABASE"], web.socketio, app.config["CLOCK"])
    app.teardown_appcontext(web.close_db)
    register_error_handlers(app)
    register_headers(app)
    app.before_request(web.guard_api_body)
    if not app.config.get("TESTING"):
        app.extensions["luot_daily_purge"] = maintenance.DailyPurge(
            app.config["DATABASE"], app.config["CENTRE_ID"], app.config["CLOCK"]).start()
    # cors_allowed_origins=None: Socket.IO from this origin only ([] would switch the Origin check off)
    sockets.raise_open_files_limit()
    store.cooperative_waits = sockets.gevent_patched()
    app.extensions["luot_socket_addresses"] = sockets.AddressCounter(
        sockets.sockets_per_address(config.get("SOCKETS_PER_ADDRESS")))
    # gevent when this process is monkey-patched (gunicorn.conf.py's worker, `python server.py`), so an
    # open WebSocket costs a greenlet and no thread; threading in tests and tools (sockets.async_mode)
    client_manager = sockets.client_manager(app.config["REDIS_URL"])
    web.socketio.init_app(app, async_mode=sockets.async_mode(), message_queue=app.config["REDIS_URL"] or None,
                          cors_allowed_origins=None, json=app.json,
                          **({"client_manager": client_manager} if client_manager else {}))
    trust_proxies(app)
    if not app.config.get("TESTING") or app.config.get("DAY_CLOSER"):
        start_day_closer(app)
    start_shipping(app, config)
    if not app.config.get("TESTING"):
        from manager.alert_push import alert_loop
        web.socketio.start_background_task(alert_loop, app)  # pushes `alert` to monitors every 30 s
    return app


def whole_number(value, name: str, low: int, high: int) -> int:
    """A setting that must be a whole number in [low, high]; refuses to start otherwise."""
    try:
        number = int(str(value).strip())
    except ValueError:
        number = low - 1
    if not low <= number <= high:
        raise SystemExit(f"{name} must be a whole number from {low} to {high}, not {value!r}")
    return number


def trust_proxies(app: Flask) -> None:
    """Behind LUOT_TRUSTED_PROXIES proxies, the client's address and scheme come from their X-Forwarded-For and
    -Proto (the sign-in throttle, the assistant's limit and Socket.IO see the citizen, not nginx); with none
    trusted those headers are ignored, so a client cannot pick its own address. Wrapped last, outside
    Flask-SocketIO's middleware, so Socket.IO connections see the same address as HTTP requests."""
    hops = app.config["TRUSTED_PROXIES"]
    if hops:
        from werkzeug.middleware.proxy_fix import ProxyFix
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)


def start_day_closer(app: Flask) -> None:
    """Expire yesterday's leftovers now, before the first request, then at each closing time and midnight."""
    from queueing.closing import DayCloser

    def publish_closed(events):
        with app.app_context():
            web.publish(events)
    app.extensions["luot_day_closer"] = DayCloser(app.config["DATABASE"], app.config["CENTRE_ID"],
                                                  app.config["CLOCK"], publish=publish_closed).start()


def start_shipping(app: Flask, config: dict) -> None:
    """With LUOT_HUB_URL and LUOT_HUB_TOKEN, ship the event log to the province hub in the background (issue 18)."""
    url = config.get("HUB_URL", setting("LUOT_HUB_URL"))
    token = config.get("HUB_TOKEN", setting("LUOT_HUB_TOKEN"))
    app.config.update(HUB_SHIPPING=bool(url and token), HUB_URL=url, HUB_TOKEN=token)
    if url and token:
        from queueing.shipping import ShippingJob
        app.extensions["luot_shipping"] = ShippingJob(
            app.config["DATABASE"], app.config["CENTRE_ID"], url, token,
            check_every_s=float(config.get("HUB_SHIP_EVERY_S", setting("LUOT_HUB_SHIP_EVERY_S")))).start()


def public_base_url(text) -> str | None:
    """LUOT_PUBLIC_URL without its trailing slash; refuses to start on anything but an http(s) address."""
    if not text:
        return None
    text = str(text).strip().rstrip("/")
    if not re.fullmatch(r"https?://[^\s/?#]+(/[^\s?#]*)?", text):
        raise SystemExit(f"LUOT_PUBLIC_URL must be an http:// or https:// address, not {text!r}")
    return text


def queue_push_interval(config: dict) -> float:
    """LUOT_QUEUE_PUSH_MS (or the QUEUE_PUSH_MS config key) in seconds; refuses to start on a bad value."""
    text = str(config.get("QUEUE_PUSH_MS", setting("LUOT_QUEUE_PUSH_MS")))
    try:
        milliseconds = float(text)
    except ValueError:
        milliseconds = -1
    if not 0 <= milliseconds <= 10_000:
        raise SystemExit(f"LUOT_QUEUE_PUSH_MS must be a number of milliseconds from 0 to 10000, not {text!r}")
    return milliseconds / 1000


def make_announcer(app: Flask):
    """The TTS adapter: one owner thread for espeak, or nothing when LUOT_TTS=none."""
    from display.announcer import Announcer, NullAnnouncer, VoicePackSource
    if app.config["TTS"] == "none":
        return NullAnnouncer()
    announcer = Announcer(Path(app.instance_path) / "audio",
                          pack=VoicePackSource(app.config["DATABASE"], app.config["CENTRE_ID"]))
    announcer.start()
    return announcer


def wants_json() -> bool:
    return request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json"


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(QueueError)
    def queue_error(error):
        return web.error_response(error)

    @app.errorhandler(HTTPException)
    def http_error(error):
        if not wants_json():
            return error
        messages = {404: "Không tìm thấy (not found)", 405: "Phương thức không được hỗ trợ (method not allowed)",
                    413: "Nội dung quá lớn (request body too large)",
                    415: "Kiểu nội dung không được hỗ trợ (unsupported media type)",
                    400: "Yêu cầu không hợp lệ (bad request)"}
        message = messages.get(error.code, error.description or error.name)
        response = jsonify({"error": message, "code": error.name.lower().replace(" ", "_")})
        # keep what the error says about itself, e.g. the Allow header a 405 must carry
        response.headers.extend((k, v) for k, v in error.get_headers() if k.lower() != "content-type")
        return response, error.code

    @app.errorhandler(Exception)
    def unexpected(error):
        app.logger.exception("unexpected error on %s %s", request.method, request.path)
        response = jsonify({"error": "Lỗi máy chủ; thao tác chưa được thực hiện (internal error)",
                            "code": "internal_error"})
        return response, 500


def register_headers(app: Flask) -> None:
    @app.after_request
    def security_headers(response):
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        response.headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        if app.config["SESSION_COOKIE_SECURE"]:
            response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        if request.path.startswith("/api/"):
            response.headers.setdefault("Cache-Control", "no-store")
        return response


# ---- command line ------------------------------------------------------------------------------

def _cli_database() -> tuple[Path, Path]:
    folder = instance_path({})
    return Path(setting("LUOT_DB") or folder / "luot.sqlite3"), folder


@contextmanager
def cli_centre():
    """The initialised database's connection and centre id for one command."""
    database, folder = _cli_database()
    centre_id = initialise(database, folder)
    db = store.connect(database)
    try:
        yield db, centre_id
    finally:
        db.conn.close()


def command_init(args) -> int:
    database, folder = _cli_database()
    centre_id = initialise(database, folder, args.centre or setting("LUOT_CENTRE"))
    print(f"Cơ sở dữ liệu sẵn sàng (database ready): {database} — centre '{centre_id}'")
    return 0


def command_user_add(args) -> int:
    password = sys.stdin.readline().rstrip("\r\n")
    with cli_centre() as (db, centre_id):
        accounts.create_user(db, centre_id, args.name, password, args.role, args.display_name or "", time.time())
    print(f"Đã tạo tài khoản {args.name} ({args.role}) — user created")
    return 0


def command_device_add(args) -> int:
    from printers.drivers import parse_printer_uri
    if args.printer:
        try:
            parse_printer_uri(args.printer)
        except ValueError as error:
            raise QueueError(f"Địa chỉ máy in không hợp lệ: {error} (bad printer URI)", code="bad_printer")
    with cli_centre() as (db, centre_id):
        kiosk_id = counter_id = None
        if args.kiosk is not None:
            kiosks = store.active_kiosks_named(db, centre_id, args.kiosk)
            if len(kiosks) != 1:
                raise QueueError(f"Cần đúng một kiosk tên '{args.kiosk}' (found {len(kiosks)} kiosks with that name)",
                                 code="unknown_kiosk")
            kiosk_id = kiosks[0]
        if args.counter is not None:
            counter_id = store.counter_id_by_number(db, centre_id, args.counter)
            if counter_id is None:
                raise QueueError(f"Không có quầy số {args.counter} (unknown counter)", code="unknown_counter")
        token = accounts.create_device(db, centre_id, args.name, args.kind, time.time(),
                                       printer_uri=args.printer, counter_id=counter_id, kiosk_id=kiosk_id,
                                       paper_mm=args.paper)
    print(token)
    return 0


def command_run(args) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s", force=True)
    app = create_app()
    host, port = setting("LUOT_HOST"), int(setting("LUOT_PORT"))
    print(f"Lượt đang chạy tại http://{host}:{port}/  (kiosk /kiosk · quầy /counter · màn hình /display · "
          f"quản lý /manager)", flush=True)
    web.socketio.run(app, host=host, port=port, allow_unsafe_werkzeug=True, use_reloader=False)
    return 0


def command_demo_history(args) -> int:
    from queueing import demo_history
    with cli_centre() as (db, centre_id):
        if args.delete:
            print(f"Đã xóa dữ liệu mẫu (demo history deleted): {demo_history.delete_demo(db, centre_id)}")
            return 0
        started = time.time()
        result = demo_history.generate(db, centre_id, args.days, seed=args.seed, replace=args.replace)
    print(f"Đã tạo lịch sử mẫu {args.days} ngày trong {time.time() - started:.0f} s (demo history): {result}")
    return 0


def command_backup(args) -> int:
    database, _folder = _cli_database()
    target = maintenance.backup(database, args.file)
    print(f"Đã sao lưu (backup written): {target} ({target.stat().st_size} bytes, readable by its owner only)")
    return 0


def command_restore(args) -> int:
    database, folder = _cli_database()
    kept = maintenance.restore(args.file, database)
    initialise(database, folder)  # brings an older backup's schema up to date
    print(f"Đã phục hồi {database} từ {args.file} (restored)"
          + (f"; bản cũ giữ tại (previous copy kept at) {kept}" if kept else ""))
    return 0


def command_purge(args) -> int:
    with cli_centre() as (db, centre_id):
        days = args.days if args.days is not None else maintenance.retention_days_of(db, centre_id)
        count = maintenance.purge_citizen_data(db, centre_id, time.time(), days)
    print(f"Đã xóa dữ liệu công dân của {count} phiếu cũ hơn {days} ngày (citizen data purged)")
    return 0


def command_device_list(args) -> int:
    with cli_centre() as (db, centre_id):
        for device in accounts.devices(db, centre_id):
            state = "revoked" if device["revoked_at"] else "active"
            print(f"{device['id']:4}  {device['kind']:8} {state:8} {device['name']}")
    return 0


def command_device_revoke(args) -> int:
    with cli_centre() as (db, _centre_id):
        accounts.revoke_device(db, args.id, time.time())
    print(f"Đã thu hồi mã của thiết bị {args.id} (device token revoked)")
    return 0


def command_user_revoke_tokens(args) -> int:
    with cli_centre() as (db, _centre_id):
        count = accounts.revoke_user_tokens(db, args.name, time.time())
    print(f"Đã thu hồi {count} mã đăng nhập của {args.name} (tokens revoked)")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="server.py", description="Lượt — hệ thống xếp hàng lấy số")
    commands = parser.add_subparsers(dest="command")
    init = commands.add_parser("init", help="create or migrate the database (idempotent)")
    init.add_argument("--centre", help="centre configuration file (JSON) for an empty database")
    init.set_defaults(handler=command_init)
    commands.add_parser("run", help="run the server (default)").set_defaults(handler=command_run)
    user = commands.add_parser("user", help="staff accounts").add_subparsers(dest="action", required=True)
    user_add = user.add_parser("add", help="add a staff account; the password is read from stdin")
    user_add.add_argument("name")
    user_add.add_argument("--role", required=True, choices=["admin", "manager", "clerk"])
    user_add.add_argument("--display-name")
    user_add.set_defaults(handler=command_user_add)
    device = commands.add_parser("device", help="devices").add_subparsers(dest="action", required=True)
    device_add = device.add_parser("add", help="register a device and print its token once")
    device_add.add_argument("name")
    device_add.add_argument("--kind", required=True, choices=["kiosk", "display", "printer", "counter"])
    device_add.add_argument("--printer", help="printer URI: network://HOST:PORT, usb://VID:PID, serial:///dev/..., "
                                              "file:///path, cups://NAME, agent or none")
    device_add.add_argument("--counter", type=int, help="counter number (for a counter's rating tablet)")
    device_add.add_argument("--kiosk", help="name of the kiosk a print agent (--kind printer) prints for")
    device_add.add_argument("--paper", type=int, default=80, choices=[58, 80], help="paper width in mm")
    device_add.set_defaults(handler=command_device_add)
    demo = commands.add_parser("demo-history", help="fill the demo centre with a realistic, deletable history")
    demo.add_argument("--days", type=int, default=60, help="how many days before today (default 60)")
    demo.add_argument("--seed", type=int, default=1)
    demo.add_argument("--replace", action="store_true", help="delete the previous demo history first")
    demo.add_argument("--delete", action="store_true", help="only delete the demo history")
    demo.set_defaults(handler=command_demo_history)
    user_revoke = user.add_parser("revoke-tokens", help="end every API session (bearer token) of a staff member")
    user_revoke.add_argument("name")
    user_revoke.set_defaults(handler=command_user_revoke_tokens)
    device.add_parser("list", help="list devices (id, kind, state, name)").set_defaults(handler=command_device_list)
    device_revoke = device.add_parser("revoke", help="revoke a device's token (it is refused at once)")
    device_revoke.add_argument("id", type=int, help="the device id shown by `device list`")
    device_revoke.set_defaults(handler=command_device_revoke)
    backup = commands.add_parser("backup", help="copy the database (safe while the server runs) into FILE")
    backup.add_argument("file")
    backup.set_defaults(handler=command_backup)
    restore = commands.add_parser("restore", help="replace the database with a backup (stop the server first)")
    restore.add_argument("file")
    restore.set_defaults(handler=command_restore)
    purge = commands.add_parser("purge", help="erase citizen data older than the retention period (default 30 days)")
    purge.add_argument("--days", type=int, help="retention in days (default: the centre's citizen_retention_days)")
    purge.set_defaults(handler=command_purge)
    from hub.cli import add_parser as add_hub_parser
    add_hub_parser(commands)  # the province hub (issue 18): the same codebase, on PostgreSQL
    return parser


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    handler = getattr(args, "handler", command_run)
    if args.command == "hub":
        from hub.cli import run as run_hub
        return run_hub(handler, args)
    try:
        return handler(args)
    except QueueError as error:
        print(f"Lỗi: {error.message}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
