"""SMS to citizens behind one small interface (issue 15): `SmsSender.send(phone, text)`.

`LogSmsSender` (the default) only writes the message to the log. `HttpSmsSender` posts to a
Vietnamese SMS gateway's HTTP API (eSMS, SpeedSMS, VNPT, Viettel's brand-name gateways all take
one POST per message): the URL, an `Authorization` header and a body template come from
settings, and texts can go without diacritics (`queueing.text.strip_diacritics`) for gateways or
plans that take ASCII only. `BackgroundSmsSender` sends from a thread of its own, so a slow or
failing gateway never holds up a request; a failed message is logged, never retried twice.
"""
from __future__ import annotations

import json
import logging
import queue as queues
import threading
from typing import Callable, Protocol

import requests

from queueing.text import strip_diacritics

log = logging.getLogger("luot.sms")

DEFAULT_BODY = '{"to": "{phone}", "text": "{text}"}'
TIMEOUT_S = 10.0


class SmsSender(Protocol):
    def send(self, phone: str, text: str) -> None: ...


class SmsError(Exception):
    """The gateway refused or could not be reached."""


class LogSmsSender:
    """Writes each message to the log (and keeps the latest ones): no gateway configured."""

    def __init__(self, keep: int = 100):
        self.keep = keep
        self.sent: list[tuple[str, str]] = []

    def send(self, phone: str, text: str) -> None:
        log.info("SMS to %s: %s", phone, text)
        self.sent = (self.sent + [(phone, text)])[-self.keep:]


class HttpSmsSender:
    """POSTs one message to a gateway: `body_template` with `{phone}` and `{text}` (JSON-escaped when the
    template is JSON, URL-form otherwise), an optional `Authorization` header, 2xx means sent."""

    def __init__(self, url: str, body_template: str = DEFAULT_BODY, authorization: str | None = None,
                 ascii_only: bool = False, timeout: float = TIMEOUT_S, session: requests.Session | None = None):
        if not url.startswith(("http://", "https://")):
            raise ValueError("the SMS gateway URL must be http:// or https://")
        self.url, self.body_template, self.authorization = url, body_template, authorization
        self.ascii_only, self.timeout = ascii_only, timeout
        self.session = session or requests.Session()
        self.is_json = body_template.lstrip().startswith(("{", "["))

    def body(self, phone: str, text: str) -> str:
        if self.ascii_only:
            text = strip_diacritics(text)
        escape = (lambda value: json.dumps(value, ensure_ascii=False)[1:-1]) if self.is_json else \
            (lambda value: requests.utils.quote(value, safe=""))
        return self.body_template.replace("{phone}", escape(phone)).replace("{text}", escape(text))

    def send(self, phone: str, text: str) -> None:
        headers = {"Content-Type": "application/json; charset=utf-8" if self.is_json
                   else "application/x-www-form-urlencoded; charset=utf-8"}
        if self.authorization:
            headers["Authorization"] = self.authorization
        try:
            response = self.session.post(self.url, data=self.body(phone, text).encode("utf-8"), headers=headers,
                                         timeout=self.timeout)
        except requests.RequestException as error:
            raise SmsError(f"gateway unreachable: {error}") from error
        if not 200 <= response.status_code < 300:
            raise SmsError(f"gateway answered {response.status_code}: {response.text[:200]}")


class BackgroundSmsSender:
    """Queues messages for `inner` and sends them from one daemon thread; `send` never blocks."""

    def __init__(self, inner: SmsSender, on_error: Callable[[Exception], None] | None = None):
        self.inner = inner
        self.on_error = on_error
        self._queue: queues.Queue = queues.Queue()
        self._thread = threading.Thread(target=self._run, name="luot-sms", daemon=True)
        self._thread.start()

    def send(self, phone: str, text: str) -> None:
        self._queue.put((phone, text))

    def drain(self, timeout: float = 10.0) -> None:
        """Wait until every queued message was handed to the gateway (tests, shutdown)."""
        done = threading.Event()
        self._queue.put(done)
        done.wait(timeout)

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if isinstance(item, threading.Event):
                item.set()
                continue
            try:
                self.inner.send(*item)
            except Exception as error:  # noqa: BLE001 - a lost SMS is logged; the tracking page still rings
                log.warning("SMS to %s not sent: %s", item[0], error)
                if self.on_error:
                    self.on_error(error)


def sms_sender_from_settings(get: Callable[[str], str | None]) -> SmsSender:
    """The sender the settings ask for: `LUOT_SMS_URL` set → HTTP gateway, else the log."""
    url = get("LUOT_SMS_URL")
    if not url:
        return LogSmsSender()
    return HttpSmsSender(url, get("LUOT_SMS_BODY") or DEFAULT_BODY, get("LUOT_SMS_AUTH") or None,
                         ascii_only=(get("LUOT_SMS_ASCII") or "0") == "1")
