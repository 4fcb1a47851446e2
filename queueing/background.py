"""A centre's background jobs (the retention purge, the day's close): one daemon thread each, that a
failed round never ends."""
from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Callable


class BackgroundJob:
    """What the jobs share: the database and centre they work on, their clock, and a thread that runs
    `_run` until `stop()`. Subclasses write `tick()` (one round) and `_run()` (when to tick)."""

    thread_name = "luot-job"

    def __init__(self, database: str | Path, centre_id: str, clock: Callable[[], float] = time.time,
                 check_every_s: float = 60.0):
        self.database = str(database)
        self.centre_id = centre_id
        self.clock = clock
        self.check_every_s = check_every_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self):
        self._thread = threading.Thread(target=self._run, name=self.thread_name, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
