"""Every setting Lượt reads from the environment, declared once with its default and help text."""
from __future__ import annotations

import os
from dataclasses import dataclass


@dataclass(frozen=True)
class Setting:
    name: str
    default: str | None
    help: str


SETTINGS = [
    Setting("LUOT_HOST", "127.0.0.1", "Address the server listens on (development server and gunicorn.conf.py; "
                                      "0.0.0.0 for the whole LAN)."),
    Setting("LUOT_PORT", "5000", "Port the server listens on (development server and gunicorn.conf.py)."),
    Setting("LUOT_DB", None, "SQLite database file; default instance/luot.sqlite3."),
    Setting("LUOT_SECRET_KEY", None, "Signs sessions and keys ID-number hashes; generated into "
                                     "instance/secret_key when unset."),
    Setting("LUOT_CENTRE", None, "Centre configuration file (JSON) loaded into an empty database; "
                                 "default: the bundled demo centre."),
    Setting("LUOT_REDIS_URL", None, "Redis URL used as the Socket.IO message queue when several server "
                                    "processes share one database."),
    Setting("LUOT_TTS", "espeak", "Voice announcements: espeak (pyttsx3 + espeak-ng) or none."),
    Setting("LUOT_TZ", "Asia/Ho_Chi_Minh", "Time zone of the demo centre created on first start."),
    Setting("LUOT_INSTANCE", None, "Folder for the database, secret key, credentials and audio cache; "
                                   "default ./instance."),
    Setting("LUOT_ASSISTANT", "rules", "Kiosk assistant backend; 'rules' (built in) is the default."),
    Setting("LUOT_HTTPS", "0", "1 when served over HTTPS (marks cookies Secure)."),
    Setting("LUOT_PUBLIC_URL", None, "The centre's address as citizens' phones reach it (e.g. https://luot.example.gov.vn): "
                                     "every QR code and link given to citizens starts with it. Unset: the address the "
                                     "kiosk used (often a LAN address a phone on mobile data cannot open), and the "
                                     "administration page warns."),
    Setting("LUOT_TRUSTED_PROXIES", "0", "How many reverse proxies (nginx) stand in front of the server; their "
                                         "X-Forwarded-For/-Proto give the client's address and scheme. 0: the headers "
                                         "are ignored and the connecting address is the client's."),
    Setting("LUOT_SESSION_IDLE_MINUTES", "30", "A staff browser session unused this long ends on the server "
                                               "(pages go to sign-in, the API answers 401)."),
    Setting("LUOT_QUEUE_PUSH_MS", "250", "Waiting counts (`queue_changed`) go to screens at most this often, the "
                                         "newest only, so calls reach the displays first; 0 sends every change."),
    Setting("LUOT_SOCKETS_PER_ADDRESS", "50", "Socket.IO connections one client address may hold without a staff or "
                                              "device token (phones following their ticket, public displays); the "
                                              "next one is refused at once. At least 20."),
    Setting("LUOT_HUB_DATABASE_URL", None, "The province hub's PostgreSQL (postgresql://user@host/dbname); only "
                                           "`python server.py hub …` reads it."),
    Setting("LUOT_HUB_URL", None, "A centre ships its event log to this province hub (https://hub.example); off when "
                                  "unset."),
    Setting("LUOT_HUB_TOKEN", None, "The centre's shipping token, from `python server.py hub centre add` on the hub."),
    Setting("LUOT_HUB_SHIP_EVERY_S", "2", "Seconds between a centre's shipping rounds (each sends everything new, "
                                          "in batches of 1,000)."),


    Setting("LUOT_PAYMENT_WEBHOOK_SECRET", None, "Key of the HMAC-SHA256 signature a bank or gateway puts on "
                                                 "POST /api/v1/payments/webhook (header X-Luot-Signature: sha256=…); "
                                                 "unset: the webhook is off (404)."),


    Setting("LUOT_SMS_URL", None, "SMS gateway URL (HTTP POST per message); unset: messages are only logged."),
    Setting("LUOT_SMS_AUTH", None, "Authorization header sent to the SMS gateway, e.g. 'Bearer …' or 'Basic …'."),
    Setting("LUOT_SMS_BODY", '{"to": "{phone}", "text": "{text}"}', "SMS gateway request body; {phone} and {text} "
                                                                   "are filled in (JSON-escaped in a JSON body, "
                                                                   "URL-encoded otherwise)."),
    Setting("LUOT_SMS_ASCII", "0", "1: SMS texts without Vietnamese diacritics (ASCII-only gateways or plans)."),
]

_BY_NAME = {setting.name: setting for setting in SETTINGS}


def setting(name: str, environ=None) -> str | None:
    """The value of a declared setting from the environment, or its default."""
    environ = os.environ if environ is None else environ
    value = environ.get(name)
    return value if value not in (None, "") else _BY_NAME[name].default
