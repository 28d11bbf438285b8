"""A user's own account: language, email and updates, password, and (students) who was given access to their work."""

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response

from app.api import tokens as api_tokens
from app.auth import SESSION_COOKIE, CurrentUser, end_other_sessions, require_user
from app.db import SessionDep
from app.flash import redirect_with
from app.i18n import _, available_locales
from app.navigation import home_path
from app.routes.auth import password_off_page
from app.models import Role, User
from app.models.base import utcnow
from app.routes.ids import PathId
from app.security import client_address
from app.services.accounts import about as about_service
from app.services.accounts import accounts
from app.services.accounts import audit_views
from app.services.accounts import sso
from app.services.family import digests
from app.services.moderation import email_notifications as email_notifications_service
from app.templating import render

router = APIRouter(prefix="/account", dependencies=[Depends(require_user)])


def _page(request: Request, session, user: User, *, errors: dict[str, str] | None = None, values: dict | None = None,
          status_code: int = 200, history_page: int = 1, token_form: dict | None = None, new_token: dict | None = None,
          headers: dict | None = None) -> Response:
    """The account page, with the email form filled from `values` (what was posted) or the saved settings."""
    saved = {"email": user.email or "", "email_notifications": user.email_notifications,
             "digest_frequency": user.digest_frequency, "about": user.about}
    context = {
        "locales": available_locales(),
        "errors": errors or {},
        "values": {**saved, **(values or {})},
        "email_enabled": request.app.state.settings.email_enabled,
        "password_sign_in": request.app.state.settings.password_login_allowed(user.role),
        "sso_provider": sso.provider_name(settings=request.app.state.settings),
        "is_guardian": user.role is Role.guardian,
        "frequencies": digests.frequency_options(),
        "access": audit_views.access_history(session=session, student=user, number=history_page)
        if user.role is Role.student else None,
        "when": lambda moment: audit_views.local_time(moment, request.app.state.settings.timezone),
        "tokens": api_tokens.tokens_of(session=session, user=user),
        "token_errors": (token_form or {}).get("errors", {}),
        "token_values": (token_form or {}).get("values", {}),
        "token_expired": api_tokens.is_expired,
        "new_token": new_token,
    }
    return render(request, "account/show.html", context, status_code=status_code, headers=headers)


@router.get("")
def show_account(request: Request, user: CurrentUser, session: SessionDep, page: int = 1) -> Response:
    """The account page: who you are, your language, email and updates, a link to change your password; for a
    student, who was given access to their work and when (a page at a time)."""
    return _page(request, session, user, history_page=page)


@router.post("/language")
def update_language(
    request: Request, user: CurrentUser, session: SessionDep, locale: Annotated[str, Form(max_length=16)] = ""
) -> Response:
    """Remember the language the user chose ("" means: follow the browser)."""
    if locale and locale not in available_locales():
        errors = {"locale": _("Choose one of the languages in the list.")}
        return _page(request, session, user, errors=errors, status_code=422)
    user.locale = locale or None
    session.add(user)
    session.commit()
    return redirect_with(request, "/account", _("Your language setting is saved."))


@router.post("/notifications")
def update_notifications(
    request: Request,
    user: CurrentUser,
    session: SessionDep,
    email: Annotated[str, Form(max_length=1000)] = "",
    email_notifications: Annotated[str, Form(max_length=10)] = "",
    digest_frequency: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    """Save the email address, "email me my notifications" and (guardians) how often the family digest comes."""
    wanted = bool(email_notifications)
    errors = email_notifications_service.update_email_settings(
        session=session, user=user, email=email, email_notifications=wanted,
        digest_frequency=digest_frequency if user.role is Role.guardian else None,
    )
    if errors:
        session.rollback()
        values = {"email": email.strip(), "email_notifications": wanted}
        if user.role is Role.guardian:
            values["digest_frequency"] = digest_frequency
        return _page(request, session, user, errors=errors, values=values, status_code=422)
    session.commit()
    return redirect_with(request, "/account", _("Your email settings are saved."))


@router.post("/tokens")
def create_api_token(
    request: Request, user: CurrentUser, session: SessionDep, token_name: Annotated[str, Form(max_length=1000)] = "",
    token_scopes: Annotated[str, Form(max_length=20)] = "", token_expiry: Annotated[str, Form(max_length=10)] = "",
    token_expiry_date: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    """Make a personal access token for the API and show it, once (only its hash is kept)."""
    data = api_tokens.parse_token_form(name=token_name, scopes=token_scopes, expiry=token_expiry,
                                       expiry_date=token_expiry_date, today=utcnow().date())
    if data.errors:
        values = {"token_name": token_name, "token_scopes": token_scopes, "token_expiry": token_expiry,
                  "token_expiry_date": token_expiry_date}
        form = {"errors": {f"token_{k}": v for k, v in data.errors.items()}, "values": values}
        return _page(request, session, user, token_form=form, status_code=422)
    row, token = api_tokens.create_token(session=session, user=user, data=data)
    session.commit()
    return _page(request, session, user, new_token={"name": row.name, "value": token},
                 headers={"Cache-Control": "no-store"})


@router.post("/tokens/{token_id}/revoke")
def revoke_api_token(request: Request, token_id: PathId, user: CurrentUser, session: SessionDep) -> Response:
    """Revoke one of the user's tokens: it stops working at once."""
    row = api_tokens.revoke_token(session=session, user=user, token_id=token_id)
    session.commit()
    return redirect_with(request, "/account#tokens",
                         _("The token \"%(name)s\" is revoked: it no longer works.", name=row.name))


def _no_password(request: Request, status_code: int) -> Response:
    provider = sso.provider_name(settings=request.app.state.settings)
    message = _("You sign in with %(provider)s, so you have no Folio password to change.", provider=provider)
    return password_off_page(request, message, sign_in_button=False, status_code=status_code)


@router.post("/about")
def update_about(
    request: Request, user: CurrentUser, session: SessionDep, about: Annotated[str, Form(max_length=20_000)] = ""
) -> Response:
    """Save the About me text (Markdown), or show it again with what to fix."""
    problem = about_service.update_about(session=session, user=user, text=about)
    if problem:
        session.rollback()
        return _page(request, session, user, errors={"about": problem}, values={"about": about}, status_code=422)
    session.commit()
    return redirect_with(request, "/account", _("Your About me is saved."))


@router.get("/password")
def password_form(request: Request, user: CurrentUser) -> Response:
    """The change-password form."""
    if not request.app.state.settings.password_login_allowed(user.role):
        return _no_password(request, status_code=200)
    return render(request, "account/password.html", {"errors": {}})


@router.post("/password")
def change_password(
    request: Request,
    user: CurrentUser,
    session: SessionDep,
    current_password: Annotated[str, Form(max_length=1024)] = "",
    new_password: Annotated[str, Form(max_length=1024)] = "",
    confirm_password: Annotated[str, Form(max_length=1024)] = "",
) -> Response:
    """Change the password; other browsers signed in as this user are signed out."""
    if not request.app.state.settings.password_login_allowed(user.role):
        return _no_password(request, status_code=409)
    errors = accounts.change_password(
        session=session, user=user, current=current_password, new=new_password, confirm=confirm_password,
        address=client_address(request),
    )
    if errors:
        session.rollback()
        return render(request, "account/password.html", {"errors": errors}, status_code=422)
    end_other_sessions(session=session, user_id=user.id, keep_token=request.cookies.get(SESSION_COOKIE))
    session.commit()
    return redirect_with(request, home_path(user),
                         _("Your password has been changed. Other devices have been signed out."))
