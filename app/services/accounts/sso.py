"""Single sign-on, the accounts half: which Folio account an ID token's checked claims belong to, and whether it may
come in. Nobody gets an account by signing in: accounts are made by the school (no self-sign-up).

The protocol (state, nonce, PKCE, signature) is app.services.accounts.oidc's business.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from sqlmodel import Session, select

from app.config import Settings
from app.i18n import _
from app.models import AuditEventKind, School, User
from app.models.base import utcnow
from app.services.accounts import audit

METHOD = "sso"


class SsoRefusal(str, Enum):
    domain = "domain"  # signed in at the provider with an address outside FOLIO_OIDC_ALLOWED_DOMAINS
    unverified = "unverified"  # domains are limited, but the provider vouched for no address to check
    unknown = "unknown"  # no Folio account matches
    inactive = "inactive"  # the account is switched off


@dataclass
class SsoOutcome:
    user: User | None = None
    refusal: SsoRefusal | None = None
    who: str = ""  # how the provider named the person, for the refusal page


def provider_name(*, settings: Settings) -> str:
    """The provider as the sign-in button names it."""
    return settings.oidc_button_label or _("your school account")


def verified_email(claims: dict) -> str | None:
    """The email the provider vouches for (email_verified true), lower-cased; None without one."""
    email = claims.get("email")
    verified = claims.get("email_verified")
    if isinstance(email, str) and "@" in email and (verified is True or verified == "true"):
        return email.strip().lower()
    return None


def username_claim(claims: dict, settings: Settings) -> str | None:
    """The value of FOLIO_OIDC_USERNAME_CLAIM, lower-cased as usernames are stored; None when unset or absent."""
    if not settings.oidc_username_claim:
        return None
    value = claims.get(settings.oidc_username_claim)
    if isinstance(value, (str, int)) and str(value).strip():
        return str(value).strip().lower()
    return None


def _address(claims: dict, settings: Settings) -> str | None:
    # Entra ID often sends no verified email; its preferred_username is then the sign-in address (the UPN).
    email = verified_email(claims)
    if email:
        return email
    name = username_claim(claims, settings)
    return name if name and "@" in name else None


def domain_refusal(*, claims: dict, settings: Settings) -> SsoRefusal | None:
    """None when no domains are configured, or the person's address is in one of them (exactly, not a subdomain)."""
    if not settings.oidc_domains:
        return None
    address = _address(claims, settings)
    if address is None:
        return SsoRefusal.unverified
    return None if address.rpartition("@")[2] in settings.oidc_domains else SsoRefusal.domain


def match_account(*, session: Session, claims: dict, settings: Settings) -> User | None:
    """The Folio account these checked claims belong to: by the username claim (when configured), else by the
    verified email. The one place to teach other identifiers (a roster's sourcedId column) to."""
    name = username_claim(claims, settings)
    if name:
        user = session.exec(select(User).where(User.username == name)).first()
        if user is not None:
            return user
    email = verified_email(claims)
    if email:
        return session.exec(select(User).where(User.email == email)).first()
    return None


def _only_school(session: Session) -> int | None:
    # A refusal names no account, so no school's admins would read it; on a one-school Folio they are the ones to.
    ids = session.exec(select(School.id).limit(2)).all()
    return ids[0] if len(ids) == 1 else None


def _who(claims: dict, settings: Settings) -> str:
    return (verified_email(claims) or username_claim(claims, settings) or str(claims.get("email") or "")
            or str(claims.get("sub", "")))[:200]


def sign_in(*, session: Session, claims: dict, settings: Settings, address: str) -> SsoOutcome:
    """Let the person in, or say why not; both go in the audit log (the caller commits)."""
    who = _who(claims, settings)
    details = {"method": METHOD, "sub": str(claims.get("sub", ""))[:200]}
    refusal = domain_refusal(claims=claims, settings=settings)
    if refusal is not None:
        audit.record(session=session, event=AuditEventKind.sign_in_failed, actor=None, object_description=who,
                     school_id=_only_school(session), address=address, details=details | {"reason": refusal.value})
        return SsoOutcome(refusal=refusal, who=who)
    user = match_account(session=session, claims=claims, settings=settings)
    if user is None:
        audit.record(session=session, event=AuditEventKind.sign_in_failed, actor=None, object_description=who,
                     school_id=_only_school(session), address=address,
                     details=details | {"reason": SsoRefusal.unknown.value})
        return SsoOutcome(refusal=SsoRefusal.unknown, who=who)
    if not user.is_active:
        audit.record(session=session, event=AuditEventKind.sign_in_failed, actor=None, subject=user, address=address,
                     details=details | {"reason": SsoRefusal.inactive.value})
        return SsoOutcome(refusal=SsoRefusal.inactive, who=who)
    user.last_login_at = utcnow()
    session.add(user)
    audit.record(session=session, event=AuditEventKind.sign_in, actor=user, subject=user, address=address,
                 details=details)
    return SsoOutcome(user=user, who=who)


def record_failure(*, session: Session, reason: str, address: str) -> None:
    """A sign-in that failed before anyone was known (wrong state or nonce, expired token...), in the audit log."""
    audit.record(session=session, event=AuditEventKind.sign_in_failed, actor=None, school_id=_only_school(session),
                 address=address, details={"method": METHOD, "reason": reason[:100]})
