"""Production settings read by gunicorn: `.venv/bin/gunicorn -c gunicorn.conf.py 'server:create_app()'`.

Flask-SocketIO runs in threading mode (docs/architecture.md, known traps), so this is ONE worker process with
many threads. Every open WebSocket (a display, a monitor, a counter panel, a tracking phone) holds
one thread for as long as it stays connected; short HTTP requests (kiosks, clerks' buttons) share
the rest. Command-line options override anything set here, e.g. `-b 0.0.0.0:5000` or
`--threads 400`; so does the environment variable GUNICORN_CMD_ARGS.
"""
from settings import setting

# Where to listen: the same LUOT_HOST / LUOT_PORT as the development server (127.0.0.1:5000), so
# behind nginx nothing else is needed; `-b 0.0.0.0:5000` to serve the LAN directly.
bind = [f"{setting('LUOT_HOST')}:{setting('LUOT_PORT')}"]

# One worker per instance: several workers without a message queue lose broadcasts (only the
# clients of the worker that emitted hear them). To use more cores, run several instances with
# LUOT_REDIS_URL behind a sticky load balancer (README, deploy/nginx-luot.conf).
workers = 1
worker_class = "gthread"

# threads > screens + headroom. 200 covers 100 screens and phones tracking their ticket plus
# kiosks and clerks' requests; a thread that waits on a socket costs ~50 KB of RSS and no CPU
# (bench/RESULTS.md: 128 MB with 494 threads).
threads = 200
# Connections the worker holds at once (WebSockets + idle keep-alive HTTP connections).
worker_connections = 1000
# Pending connections the kernel queues while every thread is busy (a burst of kiosks at 07:30).
backlog = 2048

# A request may wait up to 10 s for the SQLite write lock (store.BUSY_TIMEOUT_MS); the worker is only
# restarted if its main loop stops answering for much longer than that. WebSockets do not count:
# with gthread the heartbeat comes from the main loop, not from request threads.
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
