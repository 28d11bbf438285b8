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
