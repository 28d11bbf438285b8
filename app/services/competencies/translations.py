"""A framework's words in other languages: competency names and descriptions, scale labels and descriptors.

The admin writes them on the framework page. Everyone else reads competencies and levels in their own language
wherever they appear: for a request that reads translated content (read_content_in), every Competency and
ProficiencyLevel the session loads gets its translated words as its loaded values (so nothing is written back),
from one query per request for all of the school's translations in that language. Admins always see and edit the
originals, and a missing translation falls back to the original.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import attributes
from sqlmodel import Session, SQLModel, select

from app import i18n
from app.config import Settings
from app.i18n import _
from app.models import (
    Competency,
    CompetencyTranslation,
    Framework,
    ProficiencyLevel,
    ProficiencyLevelTranslation,
    Role,
    User,
)

_LOCALE_KEY = "folio_content_locale"
_SCHOOL_KEY = "folio_content_school"
_LOADED_KEY = "folio_content_translations"


def translation_locales(*, settings: Settings) -> list[str]:
    """The languages an admin can translate a framework into: every one Folio speaks but the school's own (the
    language its frameworks are written in)."""
    return [code for code in i18n.available_locales() if code != settings.default_locale]


def read_content_in(*, session: Session, user: User | None, locale: str, original: str) -> None:
    """Make the competencies and levels this session loads read in `locale`, for a user who isn't an admin and
    reads another language than the `original` one (the school's, which frameworks are written in)."""
    if user is None or user.role == Role.admin or locale == original:
        return
    session.info[_LOCALE_KEY] = locale
    session.info[_SCHOOL_KEY] = user.school_id


@dataclass
class _Loaded:
    competencies: dict[int, tuple[str, str]] = field(default_factory=dict)
    levels: dict[int, tuple[str, str]] = field(default_factory=dict)


def _translations(session: Session) -> _Loaded | None:
    locale = session.info.get(_LOCALE_KEY)
    if locale is None:
        return None
    loaded = session.info.get(_LOADED_KEY)
    if loaded is None:
        loaded = session.info[_LOADED_KEY] = _Loaded()
        school_id = session.info[_SCHOOL_KEY]
        competency_rows = (
            sa.select(sa.literal("c").label("kind"), CompetencyTranslation.competency_id.label("owner"),
                      CompetencyTranslation.name.label("words"), CompetencyTranslation.description.label("more"))
            .join(Competency, Competency.id == CompetencyTranslation.competency_id)
            .join(Framework, Framework.id == Competency.framework_id)
            .where(CompetencyTranslation.locale == locale, Framework.school_id == school_id)
        )
        level_rows = (
            sa.select(sa.literal("l"), ProficiencyLevelTranslation.level_id, ProficiencyLevelTranslation.label,
                      ProficiencyLevelTranslation.descriptor)
            .join(ProficiencyLevel, ProficiencyLevel.id == ProficiencyLevelTranslation.level_id)
            .join(Framework, Framework.id == ProficiencyLevel.framework_id)
            .where(ProficiencyLevelTranslation.locale == locale, Framework.school_id == school_id)
        )
        # A plain Core query on the session's connection: it runs while the ORM is loading rows, so it must
        # neither flush nor load ORM objects itself.
        for kind, owner, words, more in session.connection().execute(sa.union_all(competency_rows, level_rows)):
            (loaded.competencies if kind == "c" else loaded.levels)[owner] = (words, more)
    return loaded


def _translating(kind: str, name_column: str, text_column: str):
    """A load/refresh listener giving a row its translated words: `kind` names the loaded translations ("competencies"
    or "levels"), the columns take the name and the longer text (kept as written when that has no translation)."""

    def translate(target, context, attrs=None) -> None:
        loaded = _translations(context.session)
        if loaded is None or (attrs is not None and not {name_column, text_column} & set(attrs)):
            return
        words = getattr(loaded, kind).get(target.id)
        if words is not None:
            attributes.set_committed_value(target, name_column, words[0])
            attributes.set_committed_value(target, text_column, words[1] or getattr(target, text_column))

    return translate


for _model, _listener in ((Competency, _translating("competencies", "name", "description")),
                          (ProficiencyLevel, _translating("levels", "label", "descriptor"))):
    event.listen(_model, "load", _listener)
    event.listen(_model, "refresh", _listener)


# --- editing (admins) ------------------------------------------------------------------------------------


@dataclass
class FrameworkTranslations:
    """A framework's translations, by owner id and then by locale."""

    competencies: dict[int, dict[str, CompetencyTranslation]]
    levels: dict[int, dict[str, ProficiencyLevelTranslation]]


def framework_translations(*, session: Session, framework: Framework) -> FrameworkTranslations:
    """Every translation of the framework's competencies and levels (two queries)."""
    competencies: dict[int, dict[str, CompetencyTranslation]] = {}
    for row in session.exec(
        select(CompetencyTranslation).join(Competency, Competency.id == CompetencyTranslation.competency_id)
        .where(Competency.framework_id == framework.id)
    ):
        competencies.setdefault(row.competency_id, {})[row.locale] = row
    levels: dict[int, dict[str, ProficiencyLevelTranslation]] = {}
    for row in session.exec(
        select(ProficiencyLevelTranslation).join(ProficiencyLevel, ProficiencyLevel.id == ProficiencyLevelTranslation.level_id)
        .where(ProficiencyLevel.framework_id == framework.id)
    ):
        levels.setdefault(row.level_id, {})[row.locale] = row
    return FrameworkTranslations(competencies=competencies, levels=levels)


@dataclass
class TranslationInput:
    name: str
    description: str
    errors: dict[str, str] = field(default_factory=dict)


def parse_translation(*, name: str, description: str, name_limit: int) -> TranslationInput:
    """A translation from the form; an empty name means no translation (the original is shown)."""
    data = TranslationInput(name=name.strip(), description=description.strip())
    if len(data.name) > name_limit:
        data.errors["name"] = _("Keep the name under %(limit)s characters (it has %(n)s).", limit=name_limit,
                                n=len(data.name))
    if data.description and not data.name:
        data.errors["name"] = _("Translate the name too, or leave both empty.")
    if len(data.description) > 5000:
        data.errors["description"] = _("Keep the description under 5,000 characters.")
    return data


def _save_translation(*, session: Session, model: type[SQLModel], keys: dict[str, object], columns: tuple[str, str],
                      data: TranslationInput) -> None:
    """Add, change or (with an empty name) remove the `model` row found by `keys`; `columns` name the columns that
    take the name and the longer text."""
    existing = session.exec(select(model).filter_by(**keys)).first()
    if not data.name:
        if existing is not None:
            session.delete(existing)
        return
    row = existing if existing is not None else model(**keys)
    name_column, text_column = columns
    setattr(row, name_column, data.name)
    setattr(row, text_column, data.description)
    session.add(row)


def save_competency_translation(*, session: Session, competency: Competency, locale: str, data: TranslationInput) -> None:
    """Add, change or (with an empty name) remove the competency's translation into `locale`."""
    _save_translation(session=session, model=CompetencyTranslation, columns=("name", "description"), data=data,
                      keys={"competency_id": competency.id, "locale": locale})


def save_level_translation(*, session: Session, level: ProficiencyLevel, locale: str, data: TranslationInput) -> None:
    """Add, change or (with an empty label) remove the level's translation into `locale`."""
    _save_translation(session=session, model=ProficiencyLevelTranslation, columns=("label", "descriptor"),
                      keys={"level_id": level.id, "locale": locale}, data=data)
