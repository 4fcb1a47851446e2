"""The province hub: every centre's event log on PostgreSQL, province statistics, live state and catalogue.

A second face of the same codebase (`python server.py hub`). It only ever receives: it imports no
screen blueprint and no centre SQLite code, and the centre's core imports nothing of it. Its figures
use the core's definitions (`queueing.stats.replay` and `queueing.stats.tallies`, plain Python).
"""
