"""Student-led conferences: the presentation's slides, and the family's response to a showcase.

A response answers two questions ("What made you proud?", "What would you like to see next?"). It is typed
either on the student's device at the end of the presentation (source "conference") or later from a guardian's
own login (source "family"). Who may read them: the student, their teachers, and the guardians who may see the
showcase; nobody else (404).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlmodel import Session, func, select

from app.config import Settings
from app.i18n import _
from app.models import ConferenceResponse, NotificationKind, ResponseSource, Role, Showcase, User
from app.access import not_found
from app.services.moderation.notifications import notify
from app.services.showcases.showcase_items import ResolvedItem, can_see_showcase, resolve_items

ANSWER_MAX = 2000
NAME_MAX = 120


@dataclass
class Slide:
    """One slide of a presentation: the title, one showcase item, the response form or the thank-you."""

    number: int
    anchor: str
    kind: str  # "title", "item", "respond" or "thanks"
    item: ResolvedItem | None = None


@dataclass
class ResponseInput:
    author_name: str = ""
    proud: str = ""
    next_hope: str = ""
    errors: dict[str, str] = field(default_factory=dict)


def slides_for(*, session: Session, settings: Settings, showcase: Showcase, viewer: User, thanks: bool = False) -> list[Slide]:
    """The presentation in order: a title slide, one slide per item `viewer` may see, the response slide (and a
    thank-you slide after a response was saved); a fixed number of queries."""
    items = resolve_items(session=session, settings=settings, showcase=showcase, viewer=viewer)
    slides = [Slide(1, "slide-1", "title")]
    for item in items:
        number = len(slides) + 1
        slides.append(Slide(number, f"slide-{number}", "item", item))
    number = len(slides) + 1
    slides.append(Slide(number, f"slide-{number}", "respond"))
    if thanks:
        slides.append(Slide(number + 1, "thanks", "thanks"))
    return slides


def validate_response(*, author_name: str, proud: str, next_hope: str) -> ResponseInput:
    """The form's values, trimmed, with an error message per field that needs fixing (empty: all is well)."""
    data = ResponseInput(author_name=author_name.strip(), proud=proud.strip(), next_hope=next_hope.strip())
    if len(data.author_name) > NAME_MAX:
        data.errors["author_name"] = _("Keep the name under %(num)s characters.", num=NAME_MAX)
    for name in ("proud", "next_hope"):
        if len(getattr(data, name)) > ANSWER_MAX:
            data.errors[name] = _("Keep this answer under %(num)s characters (it has %(count)s).",
                                  num=ANSWER_MAX, count=len(getattr(data, name)))
    if not data.proud and not data.next_hope:
        data.errors["proud"] = _("Answer at least one of the two questions.")
    return data


def record_response(
    *, session: Session, showcase: Showcase, author: User | None, author_name: str, proud: str, next_hope: str,
    source: ResponseSource,
) -> ConferenceResponse:
    """Save a family's response on `showcase` (values already validated); a response written from a guardian's
    own login also tells the student."""
    response = ConferenceResponse(
        showcase_id=showcase.id, owner_id=showcase.owner_id, author_id=author.id if author is not None else None,
        author_name=author_name[:NAME_MAX], proud=proud, next_hope=next_hope, source=source,
    )
    session.add(response)
    if source is ResponseSource.family:
        notify(session=session, user_id=showcase.owner_id, kind=NotificationKind.family_response,
               link=f"/showcases/{showcase.id}/responses",
               name=author_name or (author.display_name if author is not None else ""), title=showcase.title)
    return response


def can_read_responses(*, session: Session, viewer: User, showcase: Showcase) -> bool:
    """True for the student, their teachers and the guardians who may see this showcase."""
    if viewer.id == showcase.owner_id:
        return True
    if viewer.role not in (Role.teacher, Role.guardian):
        return False
    return can_see_showcase(session=session, viewer=viewer, showcase=showcase)


def showcase_responses_visible_to(*, session: Session, viewer: User, showcase_id: int) -> Showcase:
    """The showcase whose responses `viewer` may read, or 404."""
    showcase = session.get(Showcase, showcase_id)
    if showcase is None or not can_read_responses(session=session, viewer=viewer, showcase=showcase):
        raise not_found()
    return showcase


def owner_name(*, session: Session, showcase: Showcase) -> str:
    """The display name of the student whose showcase it is."""
    owner = session.get(User, showcase.owner_id)
    return owner.display_name if owner is not None else ""


def responses_for(*, session: Session, showcase: Showcase) -> list[ConferenceResponse]:
    """The responses on `showcase`, newest first."""
    return list(session.exec(
        select(ConferenceResponse).where(ConferenceResponse.showcase_id == showcase.id)
        .order_by(ConferenceResponse.created_at.desc(), ConferenceResponse.id.desc())
    ).all())


def response_counts(*, session: Session, showcase_ids: list[int]) -> dict[int, int]:
    """How many responses each showcase has (one grouped query; showcases without any are left out)."""
    if not showcase_ids:
        return {}
    rows = session.exec(
        select(ConferenceResponse.showcase_id, func.count()).where(ConferenceResponse.showcase_id.in_(list(showcase_ids)))
        .group_by(ConferenceResponse.showcase_id)
    ).all()
    return {showcase_id: count for showcase_id, count in rows}
