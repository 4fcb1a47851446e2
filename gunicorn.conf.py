"""Production settings read by gunicorn: `.venv/bin/gunicorn -c gunicorn.conf.py 'server:create_app()'`.

ONE gevent worker: every connection (a WebSocket of a display, a monitor, a counter panel, a phone
following its ticket, or a kiosk's HTTP request) is a greenlet of a few KB, not an OS thread. With
the former gthread worker (200 threads) 200 idle sockets left no thread for HTTP and kiosks timed out
(docs/architecture.md, known traps; issue 12); here one instance holds 5,000 sockets with kiosks answered in
milliseconds (bench/RESULTS.md, bench_sockets.py). The worker monkey-patches the standard library
before it loads the app, so Flask-SocketIO runs in gevent mode (sockets.async_mode). Command-line
options override anything set here, e.g. `-b 0.0.0.0:5000`; so does GUNICORN_CMD_ARGS.
"""
from settings import setting

# Where to listen: the same LUOT_HOST / LUOT_PORT as the development server (127.0.0.1:5000), so
# behind nginx nothing else is needed; `-b 0.0.0.0:5000` to serve the LAN directly.
bind = [f"{setting('LUOT_HOST')}:{setting('LUOT_PORT')}"]

# One worker per instance: several workers without a message queue lose broadcasts (only the
# clients of the worker that emitted hear them). To use more cores, run several instances with
# LUOT_REDIS_URL behind a sticky load balancer (README, deploy/nginx-luot.conf).
workers = 1
worker_class = "gevent"

# Connections the worker holds at once (WebSockets + keep-alive HTTP connections); past it gunicorn
# stops accepting until one closes. Anonymous sockets are also capped per address
# (LUOT_SOCKETS_PER_ADDRESS). Each one is a file descriptor: create_app raises the soft open-files
# limit to the hard one, and deploy/luot.service sets LimitNOFILE above this.
worker_connections = 10000
# Pending connections the kernel queues (a hall of phones reconnecting after a restart); the kernel
# caps it at net.core.somaxconn.
backlog = 4096

# The worker's heartbeat is a greenlet: it is restarted only if the hub is blocked for this long (a
# SQLite call is 1-2 ms, a writer waiting for another process's lock yields between tries, and
# speech synthesis runs in an OS thread: display/announcer.py).
timeout = 60
# On stop/restart, give requests in flight time to finish, then close the WebSockets: screens
# reconnect by themselves and get a fresh snapshot.
graceful_timeout = 10
# Idle keep-alive connections are parked in the worker's poller, not in a thread. Kiosks and
# counter panels send a request every few seconds; 15 s saves a TCP handshake per click.
# Behind nginx keep this above nginx's `keepalive_timeout` for the upstream (deploy/nginx-luot.conf).
keepalive = 15

# Request size limits: the API takes small JSON bodies (64 KB, server.MAX_BODY_BYTES).
limit_request_line = 4094
limit_request_fields = 100
limit_request_field_size = 8190

# The control socket (gunicorn >= 25) is not used: systemd stops and reloads us with signals.
control_socket_disable = True

# Logs to stderr (journald under systemd). No access log: nginx keeps one; add
# `--access-logfile -` when running without nginx.
errorlog = "-"
loglevel = "info"
accesslog = None

# nginx on the same host sets X-Forwarded-Proto / X-Forwarded-For
# (wsgi.url_scheme becomes https), trusted from loopback only.
forwarded_allow_ips = "127.0.0.1,::1"

# Build the app in the worker, after the fork: its TTS thread and Redis listener must live there.
preload_app = False
