"""A framework's words in other languages, for a school's admins: each competency's and scale level's own form."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from app.access.errors import NotFound
from app.auth import AdminUser, require_user
from app.db import SessionDep
from app.flash import redirect_with
from app.i18n import _, language_name
from app.routes.frameworks import TextField
from app.routes.ids import PathId
from app.services.competencies import frameworks as service
from app.services.competencies import framework_page
from app.services.competencies import scales, translations
from app.templating import render

router = APIRouter(dependencies=[Depends(require_user)])


def _translations_page(request: Request, session, framework, locale: str, *, typed: dict | None = None,
                       errors: dict | None = None, status_code: int = 200) -> Response:
    """Every competency and level of the framework, each with its own small form for `locale`; `typed` holds what
    was typed in the one form being re-shown ({"name": ..., "description": ...} under its key, e.g. "c12")."""
    if locale not in translations.translation_locales(settings=request.app.state.settings):
        raise NotFound()
    detail = framework_page.framework_detail(session=session, framework=framework)
    saved = translations.framework_translations(session=session, framework=framework)
    forms = {}
    for row in detail.rows:
        existing = saved.competencies.get(row.competency.id, {}).get(locale)
        forms[f"c{row.competency.id}"] = {"name": existing.name if existing else "",
                                           "description": existing.description if existing else ""}
    for level in detail.levels:
        existing = saved.levels.get(level.id, {}).get(locale)
        forms[f"l{level.id}"] = {"name": existing.label if existing else "",
                                 "description": existing.descriptor if existing else ""}
    forms.update(typed or {})
    context = {"detail": detail, "locale": locale, "forms": forms, "errors": errors or {}}
    return render(request, "frameworks/translations.html", context, status_code=status_code)


@router.get("/admin/frameworks/{framework_id}/translations/{locale}")
def translations_page(request: Request, framework_id: PathId, locale: str, user: AdminUser, session: SessionDep) -> Response:
    """The framework's competencies and scale, each with a form for its words in `locale`."""
    framework = service.framework_for_admin(session=session, admin=user, framework_id=framework_id)
    return _translations_page(request, session, framework, locale)


def _save_translation(request: Request, session, framework, locale: str, key: str, anchor: str, name: str,
                      description: str, name_limit: int, save) -> Response:
    if locale not in translations.translation_locales(settings=request.app.state.settings):
        raise NotFound()
    data = translations.parse_translation(name=name, description=description, name_limit=name_limit)
    if data.errors:
        errors = {f"{key}-{field}": message for field, message in data.errors.items()}
        return _translations_page(request, session, framework, locale, errors=errors, status_code=422,
                                  typed={key: {"name": name, "description": description}})
    save(data)
    session.commit()
    return redirect_with(request, f"/admin/frameworks/{framework.id}/translations/{locale}#{anchor}",
                     _("The %(language)s words are saved.", language=language_name(locale)))


@router.post("/admin/frameworks/{framework_id}/translations/{locale}/competencies/{competency_id}")
def save_competency_translation(
    request: Request, framework_id: PathId, locale: str, competency_id: PathId, user: AdminUser, session: SessionDep,
    name: TextField = "", description: TextField = "",
) -> Response:
    """Save (or, left empty, remove) a competency's name and description in `locale`."""
    framework = service.framework_for_admin(session=session, admin=user, framework_id=framework_id)
    competency = service.competency_of(session=session, framework=framework, competency_id=competency_id)
    return _save_translation(
        request, session, framework, locale, f"c{competency.id}", f"competency-{competency.id}", name, description,
        200, lambda data: translations.save_competency_translation(
            session=session, competency=competency, locale=locale, data=data))


@router.post("/admin/frameworks/{framework_id}/translations/{locale}/levels/{level_id}")
def save_level_translation(
    request: Request, framework_id: PathId, locale: str, level_id: PathId, user: AdminUser, session: SessionDep,
    name: TextField = "", description: TextField = "",
) -> Response:
    """Save (or, left empty, remove) a scale level's label and descriptor in `locale`."""
    framework = service.framework_for_admin(session=session, admin=user, framework_id=framework_id)
    level = scales.level_of(session=session, framework=framework, level_id=level_id)
    return _save_translation(
        request, session, framework, locale, f"l{level.id}", f"level-{level.id}", name, description, 60,
        lambda data: translations.save_level_translation(session=session, level=level, locale=locale, data=data))
