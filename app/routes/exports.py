"""Export pages: a student's portfolio or showcase as a PDF, the portable archive, a class's PDFs for conference
night; and the progress page and download of every background job."""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlmodel import select

from app import storage as file_storage
from app.auth import CurrentUser, StudentUser, TeacherUser, require_user
from app.db import SessionDep
from app.file_responses import stored_file_response
from app.i18n import _
from app.models import Job, JobStatus, Role, SchoolClass, Showcase
from app.navigation import home_path
from app.security import client_address
from app.services.jobs import job_pages
from app.services.jobs import jobs
from app.access import not_found
from app.services.classes.classes import class_for_staff
from app.services.exports.pdf_cover import photo_choices
from app.services.showcases.showcase_items import showcase_of_owner, valid_id
from app.templating import render
from app.routes.ids import PathId

router = APIRouter(dependencies=[Depends(require_user)])

SECTIONS = ("goals", "reflections", "evidence", "feedback", "competencies", "credentials")


def section_options() -> list[dict[str, str]]:
    """The parts of a portfolio PDF, with a label and a hint each, in the current language."""
    return [
        {"value": "goals", "label": _("Goals"), "hint": _("Each goal with its steps and how far along it is.")},
        {"value": "reflections", "label": _("Reflections"), "hint": _("Your published reflections.")},
        {"value": "evidence", "label": _("Evidence"), "hint": _("Notes, links and files, with pictures where there are some.")},
        {"value": "feedback", "label": _("Feedback"), "hint": _("Comments from your teachers, classmates and family.")},
        {"value": "competencies", "label": _("Competency summary"),
         "hint": _("Your self-ratings and your teachers' ratings, with growth charts.")},
        {"value": "credentials", "label": _("Credentials"),
         "hint": _("Your badges: who issued each one, when, and where anyone can verify it.")},
    ]


def parse_sections(values: list[str]) -> tuple[list[str], dict[str, str]]:
    """The chosen sections in their usual order, and errors when none was chosen."""
    chosen = [section for section in SECTIONS if section in set(values)]
    if not chosen:
        return [], {"sections": _("Choose at least one part to include.")}
    return chosen, {}


def _to_job(job: Job) -> RedirectResponse:
    return RedirectResponse(f"/jobs/{job.id}", status_code=303)


def _job_helpers() -> dict:
    return {"job_title": job_pages.job_title, "status_label": job_pages.status_label, "is_downloadable": job_pages.is_downloadable}


def _exports_page(request: Request, session, user, *, selected=SECTIONS, errors=None, cover_id="",
                  status_code=200) -> Response:
    showcases = session.exec(
        select(Showcase).where(Showcase.owner_id == user.id).order_by(Showcase.updated_at.desc(), Showcase.id.desc())
    ).all()
    context = {
        "sections": section_options(), "selected": set(selected), "errors": errors or {},
        "showcases": showcases, "recent": job_pages.recent_jobs(session=session, user=user), **_job_helpers(),
        "photos": photo_choices(session=session, student=user), "cover_id": cover_id,
    }
    return render(request, "exports/index.html", context, status_code=status_code)


@router.get("/exports")
def show_exports(request: Request, user: StudentUser, session: SessionDep) -> Response:
    """Export your portfolio: a PDF of it, of a showcase, or everything as a portable archive."""
    return _exports_page(request, session, user)


@router.post("/exports/pdf")
def export_portfolio_pdf(
    request: Request, user: StudentUser, session: SessionDep,
    sections: Annotated[list[str], Form(max_length=20)] = [],  # noqa: B006 (FastAPI copies defaults)
    cover_id: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    """Queue a PDF of the chosen parts of the portfolio, with the cover photo chosen (or Folio's choice)."""
    chosen, errors = parse_sections(sections)
    params: dict = {"sections": chosen, "showcase_id": None}
    if cover_id:
        offered = {str(photo.id): photo.id for photo in photo_choices(session=session, student=user)}
        if cover_id in offered:
            params["cover_id"] = offered[cover_id]
        else:
            errors["cover_id"] = _("Choose one of the photos shown, or let Folio choose.")
    if errors:
        return _exports_page(request, session, user, selected=sections, errors=errors, cover_id=cover_id,
                             status_code=422)
    job = job_pages.request_job(session=session, owner=user, kind="portfolio_pdf", params=params, subject=user,
                                address=client_address(request))
    return _to_job(job)


@router.post("/exports/showcases/{showcase_id:int}")
def export_showcase_pdf(request: Request, showcase_id: PathId, user: StudentUser, session: SessionDep) -> Response:
    """Queue a PDF of one of the student's own showcases."""
    showcase = showcase_of_owner(session=session, owner=user, showcase_id=showcase_id)
    job = job_pages.request_job(session=session, owner=user, kind="portfolio_pdf",
                                params={"sections": list(SECTIONS), "showcase_id": showcase.id}, subject=user,
                                object_description=f"showcase {showcase.id}", address=client_address(request))
    return _to_job(job)


@router.post("/exports/archive")
def export_archive(request: Request, user: StudentUser, session: SessionDep) -> Response:
    """Queue the portable archive of everything (offline website, original files, portfolio.json, Leap2A)."""
    job = job_pages.request_job(session=session, owner=user, kind="archive", params={"student_id": user.id},
                                subject=user, address=client_address(request))
    return _to_job(job)


def _class_of_teacher(session, user, class_id: int) -> SchoolClass:
    if not valid_id(class_id):
        raise not_found()
    return class_for_staff(session=session, user=user, class_id=class_id)


def _class_page(request: Request, session, user, school_class, *, selected=SECTIONS, errors=None,
                status_code=200) -> Response:
    recent = [job for job in job_pages.recent_jobs(session=session, user=user, limit=20)
              if job.kind == "class_pdfs" and (job.params or {}).get("class_id") == school_class.id][:5]
    context = {
        "school_class": school_class, "sections": section_options(), "selected": set(selected),
        "errors": errors or {}, "recent": recent, **_job_helpers(),
    }
    return render(request, "exports/class.html", context, status_code=status_code)


@router.get("/classes/{class_id:int}/export")
def show_class_export(request: Request, class_id: PathId, user: TeacherUser, session: SessionDep) -> Response:
    """PDFs for conference night: one per student of the class, zipped."""
    return _class_page(request, session, user, _class_of_teacher(session, user, class_id))


@router.post("/classes/{class_id:int}/export")
def export_class_pdfs(
    request: Request, class_id: PathId, user: TeacherUser, session: SessionDep,
    sections: Annotated[list[str], Form(max_length=20)] = [],  # noqa: B006
) -> Response:
    """Queue one PDF per student of the class, in a ZIP."""
    school_class = _class_of_teacher(session, user, class_id)
    chosen, errors = parse_sections(sections)
    if errors:
        return _class_page(request, session, user, school_class, selected=sections, errors=errors, status_code=422)
    job = job_pages.request_job(session=session, owner=user, kind="class_pdfs",
                                params={"class_id": school_class.id, "sections": chosen}, subject=None,
                                object_description=school_class.name, address=client_address(request))
    return _to_job(job)


def _back_link(job: Job, user) -> tuple[str, str]:
    """Where the job was asked for, and the words of the link back there."""
    if job.kind == "class_pdfs" and isinstance((job.params or {}).get("class_id"), int):
        return f"/classes/{job.params['class_id']}/export", _("Back to the class's PDFs")
    if job.kind == "import":
        return "/import", _("Back to importing")
    if job.kind == "roster_import":
        return "/admin/people", _("Back to people")
    if user.role is Role.student:
        return "/exports", _("Back to your exports")
    return home_path(user), _("Back to your home page")


@router.get("/jobs/{job_id:int}")
def show_job(request: Request, job_id: PathId, user: CurrentUser, session: SessionDep) -> Response:
    """A job's progress (re-polled while it runs), then its download or why it failed."""
    job = job_pages.job_for_owner(session=session, user=user, job_id=job_id)
    context = {"job": job, "active": job.status in jobs.ACTIVE, "back": _back_link(job, user), **_job_helpers()}
    return render(request, "jobs/show.html", context, block="progress",
                  headers={"Cache-Control": "no-store"})


@router.post("/jobs/{job_id:int}/retry")
def retry_job(request: Request, job_id: PathId, user: CurrentUser, session: SessionDep) -> Response:
    """Try a failed job again (a new job with the same request)."""
    job = job_pages.job_for_owner(session=session, user=user, job_id=job_id)
    if job.status is not JobStatus.failed:
        return _to_job(job)
    return _to_job(job_pages.retry(session=session, user=user, job=job, address=client_address(request)))


@router.get("/jobs/{job_id:int}/download")
def download_job(request: Request, job_id: PathId, user: CurrentUser, session: SessionDep) -> Response:
    """The job's result file, streamed from disk, for its owner only while it is kept."""
    job = job_pages.job_for_owner(session=session, user=user, job_id=job_id)
    settings = request.app.state.settings
    key = jobs.stored_result(settings, job) if job_pages.is_downloadable(job) else None
    if key is None:
        raise not_found()
    return stored_file_response(
        request=request, store=file_storage.job_files(settings), key=key, media_type=job.content_type,
        filename=jobs.safe_download_name(job.download_name, PurePosixPath(key).suffix), disposition="attachment",
        headers={"Cache-Control": "private, no-store", "X-Content-Type-Options": "nosniff"},
    )
