"""Background jobs (PDF exports, archives, imports): a table several app processes or a worker can share."""

from datetime import datetime
from enum import Enum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from app.models.base import utcnow
from app.models.people import _enum_column


class JobStatus(str, Enum):
    queued = "queued"
    running = "running"
    done = "done"
    failed = "failed"


class Job(SQLModel, table=True):
    """One piece of long work for one user. A runner claims a queued job with a conditional UPDATE (so two
    processes never run the same job), reports progress as it goes, and leaves a result file to download."""

    __tablename__ = "jobs"
    __table_args__ = (sa.Index("ix_jobs_status_created", "status", "created_at"),)

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=40)  # e.g. "portfolio_pdf", "class_pdfs", "archive", "import"
    owner_id: int = Field(foreign_key="users.id", index=True, ondelete="CASCADE")  # who asked; who may see it
    params: dict = Field(default_factory=dict, sa_type=sa.JSON)
    status: JobStatus = Field(sa_column=_enum_column(JobStatus, nullable=False, default=JobStatus.queued))
    progress: int = Field(default=0)
    total: int = Field(default=0)
    stage: str = Field(default="", max_length=200)  # what it is doing now, already in the asker's language
    error: str = Field(default="", sa_type=sa.Text)  # why it failed, in the asker's language
    result_name: str | None = Field(default=None, max_length=120)  # file under the jobs folder
    result_size: int = Field(default=0, sa_type=sa.BigInteger)
    download_name: str = Field(default="", max_length=255)
    content_type: str = Field(default="application/octet-stream", max_length=100)
    attempts: int = Field(default=0)
    claimed_by: str | None = Field(default=None, max_length=80)
    heartbeat_at: datetime | None = Field(default=None)
    created_at: datetime = Field(default_factory=utcnow)
    started_at: datetime | None = Field(default=None)
    finished_at: datetime | None = Field(default=None)
    expires_at: datetime | None = Field(default=None)  # the result is deleted after this


class ImportKey(SQLModel, table=True):
    """What one import of one archive has already created: an item per archive entry (its key, e.g.
    "artefact:a3"), so an import that is run again after a crash carries on instead of duplicating. The row
    with an empty key records that the import finished (when the same file is uploaded again, Folio says so).

    `scope` is the fingerprint (SHA-256) of the uploaded file, plus a random suffix when the student asked to
    import it again as copies."""

    __tablename__ = "import_keys"
    __table_args__ = (sa.UniqueConstraint("student_id", "scope", "item_key", name="uq_import_keys_scope_key"),)

    id: int | None = Field(default=None, primary_key=True)
    student_id: int = Field(foreign_key="users.id", ondelete="CASCADE")
    scope: str = Field(max_length=100)
    item_key: str = Field(default="", max_length=200)
    # Deleting the item forgets its key: importing again brings it back.
    item_id: int | None = Field(default=None, foreign_key="items.id", ondelete="CASCADE", index=True)
    created_at: datetime = Field(default_factory=utcnow)
