"""A user's "About me": a short Markdown text on their Account page (Mahara's profile introduction comes in here)."""

from __future__ import annotations

from sqlmodel import Session

from app.i18n import _
from app.models import User

MAX_ABOUT = 5000


def update_about(*, session: Session, user: User, text: str) -> str | None:
    """Save `text` as the user's About me, or say why it can't be (nothing is changed then)."""
    text = text.strip().replace("\r\n", "\n")
    if len(text) > MAX_ABOUT:
        return _("Use at most %(max)s characters (this has %(n)s). Try saying it in fewer words.", max=MAX_ABOUT, n=len(text))
    user.about = text
    session.add(user)
    return None
