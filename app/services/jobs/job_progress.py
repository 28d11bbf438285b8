"""A running job's progress and heartbeat: each written in its own short transaction, best effort, so the
progress page sees them while the handler's own work is still uncommitted. Used by app.services.jobs.jobs."""

from __future__ import annotations

import logging
import threading
import time

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from app.models import Job, JobStatus
from app.models.base import utcnow

logger = logging.getLogger(__name__)

PROGRESS_INTERVAL = 0.5  # at most this often (seconds) a progress report is written
PROGRESS_BACKOFF = 5.0  # after a report couldn't be written, wait this much longer before the next try


def _short_write(engine: Engine, statement) -> bool:
    """Run one UPDATE in its own short transaction, waiting only briefly for locks; False when it couldn't.

    Progress and heartbeats are best effort: on SQLite the handler's own uncommitted writes hold the database
    lock, and a report that can't get in quickly is simply skipped (the next one will try again)."""
    with engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        raw = connection.connection.driver_connection
        if sqlite:
            busy_ms = raw.execute("PRAGMA busy_timeout").fetchone()[0]
            raw.execute("PRAGMA busy_timeout = 100")
        try:
            with connection.begin():
                if connection.dialect.name == "postgresql":
                    connection.exec_driver_sql("SET LOCAL lock_timeout = '2s'")
                connection.execute(statement)
            return True
        except sa.exc.DBAPIError as exc:
            logger.debug("Skipped a job progress write: %s", exc)
            return False
        finally:
            if sqlite:
                raw.execute(f"PRAGMA busy_timeout = {int(busy_ms)}")


class ProgressReporter:
    """The `progress` callable handed to a handler: records done/total/stage, at most every `interval` seconds
    (plus the last report, when done reaches total), each in its own short transaction."""

    def __init__(self, *, engine: Engine, job_id: int, worker_id: str, interval: float = PROGRESS_INTERVAL) -> None:
        self.engine = engine
        self.job_id = job_id
        self.worker_id = worker_id
        self.interval = interval
        self.done = 0
        self.total = 0
        self.stage = ""
        self._written_at = float("-inf")
        self._pending = False

    def __call__(self, done: int, total: int, stage: str) -> None:
        self.done, self.total, self.stage = max(0, int(done)), max(0, int(total)), str(stage)[:200]
        self._pending = True
        final = self.total > 0 and self.done >= self.total
        if final or time.monotonic() - self._written_at >= self.interval:
            self.flush()

    def flush(self) -> None:
        """Write the latest report now, if there is one not yet written."""
        if not self._pending:
            return
        statement = sa.update(Job).where(
            Job.id == self.job_id, Job.status == JobStatus.running, Job.claimed_by == self.worker_id,
        ).values(progress=self.done, total=self.total, stage=self.stage, heartbeat_at=utcnow())
        if _short_write(self.engine, statement):
            self._pending = False
            self._written_at = time.monotonic()
        else:  # the database is busy (on SQLite: probably with this very job's writes); try again a bit later
            self._written_at = time.monotonic() + PROGRESS_BACKOFF


class Heartbeat:
    """Refreshes a running job's heartbeat in the background, so a quiet handler isn't taken for dead."""

    def __init__(self, *, engine: Engine, job_id: int, worker_id: str, every: float) -> None:
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, args=(engine, job_id, worker_id, every),
                                        name=f"folio-job-{job_id}-heartbeat", daemon=True)

    def _beat(self, engine: Engine, job_id: int, worker_id: str, every: float) -> None:
        while not self._stop.wait(every):
            statement = sa.update(Job).where(
                Job.id == job_id, Job.status == JobStatus.running, Job.claimed_by == worker_id,
            ).values(heartbeat_at=utcnow())
            try:
                _short_write(engine, statement)
            except Exception:  # a heartbeat must never take the job down
                logger.exception("Job %s heartbeat failed", job_id)

    def __enter__(self) -> "Heartbeat":
        self._thread.start()
        return self

    def __exit__(self, *_exc) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
