"""The job runner: a loop that requeues abandoned jobs, runs queued ones, cleans up expired results and sweeps the
file stores (stale scratch files, old trash).

The app starts one in a daemon thread when settings.job_runner is "in-process"; `folio worker` runs the same loop
in the foreground (several workers, and several app processes, may share one jobs table safely)."""

from __future__ import annotations

import logging
import os
import secrets
import socket
import threading
import time

from sqlalchemy.engine import Engine

from app.config import Settings
from app.services.jobs import job_housekeeping, job_runs, jobs
from app.services.operations.housekeeping import sweep_quietly

logger = logging.getLogger(__name__)

POLL_SECONDS = 1.0
CLEANUP_SECONDS = 300.0
ERROR_BACKOFF_SECONDS = 10.0


def new_worker_id() -> str:
    """A name for this runner that says where it runs (shown in the jobs table as claimed_by)."""
    return f"{socket.gethostname()[:50]}:{os.getpid()}:{secrets.token_hex(3)}"


class JobRunner:
    """Runs jobs until stopped: `start()`/`stop()` for a background thread, `run_forever()` in the foreground,
    `run_once()` for what is queued now."""

    def __init__(self, *, engine: Engine, settings: Settings, worker_id: str | None = None,
                 poll_seconds: float = POLL_SECONDS, cleanup_seconds: float = CLEANUP_SECONDS) -> None:
        self.engine = engine
        self.settings = settings
        self.worker_id = worker_id or new_worker_id()
        self.poll_seconds = poll_seconds
        self.cleanup_seconds = cleanup_seconds
        self.wake = threading.Event()  # set by jobs.enqueue in this process: there is work now
        self.stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._cleaned_at = float("-inf")

    def run_once(self) -> int:
        """Requeue abandoned jobs, run everything queued, clean up if due; how many jobs ran."""
        jobs.load_handlers()
        job_housekeeping.requeue_abandoned(engine=self.engine, settings=self.settings)
        ran = job_runs.run_pending(engine=self.engine, settings=self.settings, worker_id=self.worker_id,
                               stop=self.stopping)
        if time.monotonic() - self._cleaned_at >= self.cleanup_seconds:
            job_housekeeping.cleanup_expired(engine=self.engine, settings=self.settings)
            sweep_quietly(settings=self.settings)
            self._cleaned_at = time.monotonic()
        return ran

    def run_forever(self) -> None:
        """Poll for jobs (or wake at once when one is enqueued here) until stop() is called."""
        jobs.add_waker(self.wake)
        try:
            while not self.stopping.is_set():
                self.wake.clear()
                try:
                    self.run_once()
                    pause = self.poll_seconds
                except Exception:  # the database may be briefly away; keep going
                    logger.exception("The job runner hit an error; retrying in %s s", ERROR_BACKOFF_SECONDS)
                    pause = ERROR_BACKOFF_SECONDS
                self.wake.wait(pause)
        finally:
            jobs.remove_waker(self.wake)

    def start(self) -> None:
        """Run the loop in a daemon thread."""
        self._thread = threading.Thread(target=self.run_forever, name="folio-job-runner", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Ask the loop to stop after the current job, and wait for it (a job still running after `timeout` is
        left to finish or, if the process ends, to be requeued as abandoned)."""
        self.stopping.set()
        self.wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
