"""Sweeps of the file stores: scratch files a dead process left behind, roster files previewed but never imported,
and trash past its grace period.

Run when the app starts and with the job runner's periodic cleanup. Every step is idempotent (deleting what is
already gone is no error), so several app processes and workers may sweep at once."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from app import storage as file_storage
from app.config import Settings

logger = logging.getLogger(__name__)
# Where app.services.roster_import.roster_job keeps an upload between its preview and the import, and for how long.
ROSTER_PREVIEWS = "incoming/roster-"
ROSTER_PREVIEW_KEEP = timedelta(days=1)


@dataclass
class SweepReport:
    scratch_removed: int = 0
    trash_purged: int = 0


def sweep(*, settings: Settings, now: datetime | None = None) -> SweepReport:
    """Remove scratch files older than the longest an upload can take, and purge trash older than
    FOLIO_TRASH_HOURS, in the upload and job stores."""
    now = now or datetime.now(timezone.utc)
    report = SweepReport()
    stale = now - timedelta(seconds=settings.upload_time_limit_seconds)
    uploads = file_storage.uploads(settings)
    report.scratch_removed += uploads.remove_stale_scratch(older_than=stale)
    job_files = file_storage.job_files(settings)
    report.scratch_removed += job_files.remove_stale_scratch(older_than=stale)
    previews = [key for key, info in job_files.scan(ROSTER_PREVIEWS).items()
                if info.modified is not None and info.modified < now - ROSTER_PREVIEW_KEEP]
    job_files.delete(previews)
    report.scratch_removed += len(previews)
    report.trash_purged = uploads.purge_trash(deleted_before=now - timedelta(hours=settings.trash_hours))
    return report


def sweep_quietly(*, settings: Settings) -> SweepReport | None:
    """sweep(), logging instead of raising: a store that is briefly away must not stop startup or the jobs."""
    try:
        return sweep(settings=settings)
    except Exception:
        logger.exception("Sweeping the file stores failed; the next sweep tries again")
        return None
