"""A student's portfolio.json put together section by section, with the files to place beside it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlmodel import Session

from app.config import Settings
from app.models import User
from app.models.base import utcnow
from app.services.exports.portfolio_json import FORMAT, VERSION, timestamp
from app.services.exports.portfolio_json_competencies import framework_docs, rating_docs
from app.services.exports.portfolio_json_credentials import ExportedCredential, credential_docs
from app.services.exports.portfolio_json_feedback import feedback_docs
from app.services.exports.portfolio_json_files import ExportedFile
from app.services.exports.portfolio_json_items import artefact_docs, goal_docs, reflection_docs
from app.services.exports.portfolio_json_rows import load_rows
from app.services.exports.portfolio_json_showcases import showcase_docs
from app.storage import Storage


@dataclass
class Serialized:
    document: dict
    files: list[ExportedFile] = field(default_factory=list)
    credentials: list[ExportedCredential] = field(default_factory=list)

    @property
    def file_paths(self) -> dict[int, str]:
        """Artefact id → the path of its original file in the archive."""
        return {f.artefact_id: f.archive_path for f in self.files}


def serialize_portfolio(*, session: Session, settings: Settings, student: User, store: Storage | None = None,
                        exported_at: datetime | None = None) -> dict:
    """`student`'s portfolio as a portfolio.json document (a constant number of queries). With `store`,
    each file's sha256 is computed from the stored file."""
    return collect(session=session, settings=settings, student=student, store=store, exported_at=exported_at).document


def collect(*, session: Session, settings: Settings, student: User, store: Storage | None = None,
            exported_at: datetime | None = None) -> Serialized:
    """The portfolio.json document plus the original files to place beside it in an archive."""
    rows = load_rows(session=session, settings=settings, student=student)
    artefacts, exported_files = artefact_docs(rows, store)
    reflections = reflection_docs(rows)
    goals = goal_docs(rows)
    ratings = rating_docs(rows)
    feedback = feedback_docs(rows)
    showcases = showcase_docs(rows)
    credentials, exported_credentials = credential_docs(rows)
    document = {
        "format": FORMAT,
        "version": VERSION,
        "exported_at": timestamp(exported_at or utcnow()),
        "student": {"display_name": student.display_name, "username": student.username},
        "school": {"name": rows.school.name if rows.school else ""},
        "frameworks": framework_docs(rows),
        "artefacts": artefacts,
        "reflections": reflections,
        "goals": goals,
        "ratings": ratings,
        "feedback": feedback,
        "showcases": showcases,
        "credentials": credentials,
    }
    return Serialized(document=document, files=exported_files, credentials=exported_credentials)
