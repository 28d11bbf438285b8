"""The link in every digest that lets a family member change how often digests come, or stop them, without
signing in: a signed token naming the guardian, valid for TOKEN_DAYS (a forwarded old email stops working)."""

from __future__ import annotations

import hashlib
import hmac
from datetime import timedelta

from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlmodel import Session

from app.config import Settings
from app.models import DigestFrequency, Role, User
from app.services.family.digests.compose import absolute_url

_SALT = "folio.digest-settings"
TOKEN_DAYS = 60
SETTINGS_PATH = "/digest/settings/{token}"


def _serializer(settings: Settings) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(settings.resolved_secret_key(), salt=_SALT)


def settings_token(*, settings: Settings, guardian: User) -> str:
    """A token for this guardian's digest settings page (signed; its age is checked when used)."""
    # A digest of the address is signed in too: a link sent to an address the account no longer has doesn't work
    # (and the address itself is not in the link, which may end up in a server's log).
    return _serializer(settings).dumps({"g": guardian.id, "e": _address_tag(guardian)})


def _address_tag(guardian: User) -> str:
    return hashlib.sha256((guardian.email or "").strip().lower().encode()).hexdigest()[:12]


def settings_url(*, settings: Settings, guardian: User) -> str:
    """The absolute address of the guardian's digest settings page, for an email and its List-Unsubscribe."""
    return absolute_url(settings=settings, path=SETTINGS_PATH.format(token=settings_token(settings=settings,
                                                                                         guardian=guardian)))


def guardian_for_token(*, session: Session, settings: Settings, token: str) -> User | None:
    """The guardian a fresh, untampered token names (None for anything else: expired, forged, another address)."""
    try:
        payload = _serializer(settings).loads(token, max_age=int(timedelta(days=TOKEN_DAYS).total_seconds()))
    except BadSignature:  # SignatureExpired is one too
        return None
    if not isinstance(payload, dict) or not isinstance(payload.get("g"), int):
        return None
    guardian = session.get(User, payload["g"])
    if guardian is None or guardian.role is not Role.guardian or not guardian.is_active:
        return None
    if not hmac.compare_digest(_address_tag(guardian), str(payload.get("e", ""))):
        return None
    return guardian


def set_frequency(*, session: Session, guardian: User, frequency: str) -> bool:
    """Save the guardian's digest frequency; False (nothing changed) for a value that isn't one."""
    if frequency not in {choice.value for choice in DigestFrequency}:
        return False
    guardian.digest_frequency = frequency
    session.add(guardian)
    session.commit()
    return True
