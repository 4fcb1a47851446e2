"""How Socket.IO connections are served and held: gevent or threading, per-address caps, and
disconnecting a room's connections on every instance (issue 12)."""
from __future__ import annotations

import ipaddress
import threading

import socketio

from settings import setting

# Below this a centre's own hall (one NAT address for a dozen TVs and panels) would be refused.
MIN_SOCKETS_PER_ADDRESS = 20


def gevent_patched() -> bool:
    """True when this process runs on gevent (gunicorn's gevent worker, or `python server.py`)."""
    try:
        from gevent import monkey
    except ImportError:
        return False
    return monkey.is_module_patched("socket")


def async_mode() -> str:
    """gevent in a monkey-patched process (every WebSocket a greenlet); threading otherwise (tests,
    tools that import create_app): a thread per WebSocket there (docs/architecture.md, known traps)."""
    return "gevent" if gevent_patched() else "threading"


def spawn(target, *args) -> None:
    """Run target(*args) concurrently without waiting for it to start: a greenlet under gevent (where
    threading.Thread.start() waits for the new greenlet, i.e. for every greenlet runnable before it,
    such as the writers of a broadcast to thousands of sockets), a daemon thread otherwise."""
    if gevent_patched():
        import gevent
        gevent.spawn(target, *args)
    else:
        threading.Thread(target=target, args=args, daemon=True).start()


def raise_open_files_limit() -> int:
    """Raise this process's soft limit on open files to its hard limit (each connection is a file
    descriptor; a soft limit of 1,024 would cap the connections far below what gevent holds)."""
    import resource
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        target = 65536 if hard == resource.RLIM_INFINITY else hard
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            return target
        except (ValueError, OSError):
            pass
    return soft


def sockets_per_address(value: str | None = None) -> int:
    """LUOT_SOCKETS_PER_ADDRESS as a number; refuses to start below MIN_SOCKETS_PER_ADDRESS."""
    text = str(value if value is not None else setting("LUOT_SOCKETS_PER_ADDRESS"))
    try:
        number = int(text)
    except ValueError:
        number = -1
    if number < MIN_SOCKETS_PER_ADDRESS:
        raise SystemExit(f"LUOT_SOCKETS_PER_ADDRESS must be a whole number of at least {MIN_SOCKETS_PER_ADDRESS} "
                         f"(connections one address may hold without a token), not {text!r}")
    return number


def client_address(environ: dict) -> str:
    """The address a connection comes from; behind nginx on the same host, the one nginx appended to
    X-Forwarded-For (only a loopback peer is trusted to say so, as gunicorn.conf.py's forwarded_allow_ips)."""
    peer = environ.get("REMOTE_ADDR") or "-"
    forwarded = environ.get("HTTP_X_FORWARDED_FOR")
    if forwarded:
        try:
            trusted = ipaddress.ip_address(peer).is_loopback
        except ValueError:
            trusted = False
        if trusted:
            return forwarded.split(",")[-1].strip() or peer
    return peer


class AddressCounter:
    """Anonymous connections held per client address on this instance, so one phone or laptop cannot
    take the server's connections; staff and device tokens are not counted."""

    def __init__(self, limit: int):
        self.limit = limit
        self._lock = threading.Lock()
        self._held: dict[str, int] = {}
        self._address_of: dict[str, str] = {}

    def admit(self, sid: str, address: str) -> bool:
        """Count sid against address; False (and not counted) when the address already holds `limit`."""
        with self._lock:
            if self._held.get(address, 0) >= self.limit:
                return False
            self._held[address] = self._held.get(address, 0) + 1
            self._address_of[sid] = address
            return True

    def release(self, sid: str) -> None:
        with self._lock:
            address = self._address_of.pop(sid, None)
            if address is None:
                return
            left = self._held[address] - 1
            if left:
                self._held[address] = left
            else:
                del self._held[address]

    def held(self, address: str) -> int:
        with self._lock:
            return self._held.get(address, 0)


def _disconnect_here(server, room: str, namespace: str = "/") -> int:
    """Disconnect this instance's members of room; how many there were."""
    members = [sid for sid, _eio_sid in server.manager.get_participants(namespace, room)]
    for sid in members:
        try:
            server.disconnect(sid, namespace=namespace, ignore_queue=True)
        except (KeyError, ValueError):  # gone meanwhile
            pass
    return len(members)


class RedisManager(socketio.RedisManager):
    """python-socketio's Redis manager that can also disconnect a whole room on every instance.

    Socket.IO's message queue carries emits, room changes and disconnects *by sid*; an instance does
    not know the sids of another's connections. A `close_room` message marked `luot_disconnect` makes
    each instance disconnect its own members of the room (a revoked device's or user's connections,
    the tracking pages of a ticket that ended). Instances that do not know the mark only empty the room.
    """

    def disconnect_room(self, room: str, namespace: str = "/") -> None:
        message = {"method": "close_room", "room": room, "namespace": namespace, "host_id": self.host_id,
                   "luot_disconnect": True}
        self._handle_close_room(message)
        self._publish(message)

    def _handle_close_room(self, message):
        if message.get("luot_disconnect"):
            _disconnect_here(self.server, message.get("room"), message.get("namespace") or "/")
        else:
            super()._handle_close_room(message)


def client_manager(redis_url: str | None):
    """The Socket.IO client manager: ours on Redis when instances share a message queue, else the default."""
    if not redis_url:
        return None
    if not redis_url.startswith(("redis://", "rediss://")):
        return None  # another queue (kombu): Flask-SocketIO's own manager; room disconnects stay local
    return RedisManager(redis_url, channel="flask-socketio")


def disconnect_room(socketio_object, room: str) -> None:
    """Close every connection in room, on every instance when a message queue joins them."""
    server = socketio_object.server
    if server is None:
        return
    manager = server.manager
    if isinstance(manager, RedisManager):
        manager.disconnect_room(room)
    else:
        _disconnect_here(server, room)


def principal_room(kind: str, principal_id) -> str:
    """The room every connection of one device or one staff account joins (to disconnect them all)."""
    return f"{kind}:{principal_id}"
