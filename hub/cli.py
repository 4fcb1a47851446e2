"""`python server.py hub …`: init, run, centre add, token add, catalogue publish."""
from __future__ import annotations

import json
import logging
import sys
from datetime import date

from settings import setting

from . import schema, store


def _connect():
    url = setting("LUOT_HUB_DATABASE_URL")
    if not url:
        raise store.HubError("Chưa đặt LUOT_HUB_DATABASE_URL (set LUOT_HUB_DATABASE_URL=postgresql://…)", "no_database")
    try:
        return store.connect(url, autocommit=True)
    except Exception as error:  # psycopg.OperationalError and friends: say what failed, not a traceback
        raise store.HubError(f"Không kết nối được PostgreSQL (cannot connect): {error}".strip(), "no_database")


def command_init(_args) -> int:
    with _connect() as conn:
        applied = schema.migrate(conn)
        store.init_partitions(conn, date.today())
    print(f"Hub sẵn sàng (hub database ready); migrations applied now: {', '.join(applied) or 'none'}")
    return 0


def command_run(_args) -> int:
    from werkzeug.serving import make_server
    from .app import create_hub_app
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s", force=True)
    with _connect() as conn:
        schema.migrate(conn)  # a hub started on an older schema brings it up to date first
        store.init_partitions(conn, date.today())
    app = create_hub_app()
    host, port = setting("LUOT_HOST"), int(setting("LUOT_PORT"))
    server = make_server(host, port, app, threaded=True)
    print(f"Lượt hub đang chạy tại http://{host}:{port}/province", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


def command_centre_add(args) -> int:
    with _connect() as conn:
        token = store.add_centre(conn, args.code, args.name)
    print(token)
    return 0


def command_token_add(args) -> int:
    with _connect() as conn:
        token = store.add_manager_token(conn, args.name)
    print(token)
    return 0


def command_catalogue_publish(args) -> int:
    with open(args.file, encoding="utf-8") as handle:
        data = json.load(handle)
    if not isinstance(data, dict) or not isinstance(data.get("services"), list):
        raise store.HubError("Danh mục cần khóa 'services' (the catalogue needs a 'services' list)", "bad_catalogue")
    with _connect() as conn:
        version = store.publish_catalogue(conn, data, args.note or "")
    print(f"Đã công bố danh mục phiên bản {version} (catalogue version {version} published)")
    return 0


def add_parser(commands) -> None:
    hub = commands.add_parser("hub", help="the province hub (PostgreSQL): run it, or init / centre add / token add")
    hub.set_defaults(handler=command_run)
    actions = hub.add_subparsers(dest="hub_action")
    actions.add_parser("init", help="create or migrate the hub's database (idempotent)").set_defaults(
        handler=command_init)
    actions.add_parser("run", help="run the hub (default)").set_defaults(handler=command_run)
    centre = actions.add_parser("centre", help="centres").add_subparsers(dest="centre_action", required=True)
    centre_add = centre.add_parser("add", help="register a centre and print its shipping token once")
    centre_add.add_argument("code")
    centre_add.add_argument("name")
    centre_add.set_defaults(handler=command_centre_add)
    token = actions.add_parser("token", help="province manager tokens").add_subparsers(dest="token_action",
                                                                                      required=True)
    token_add = token.add_parser("add", help="print a province manager's bearer token once")
    token_add.add_argument("name")
    token_add.set_defaults(handler=command_token_add)
    catalogue = actions.add_parser("catalogue", help="the province's procedure catalogue").add_subparsers(
        dest="catalogue_action", required=True)
    publish = catalogue.add_parser("publish", help="publish FILE (JSON, the centre configuration's services) "
                                                   "as the next version")
    publish.add_argument("file")
    publish.add_argument("--note")
    publish.set_defaults(handler=command_catalogue_publish)


def run(handler, args) -> int:
    try:
        return handler(args)
    except store.HubError as error:
        print(f"Lỗi: {error.message}", file=sys.stderr)
        return 2


