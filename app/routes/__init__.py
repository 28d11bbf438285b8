"""Every router, and the explicit list of what may be reached without signing in."""

from starlette.staticfiles import StaticFiles
from starlette.types import Receive, Scope, Send

from app.routes import (
    account, admin, approvals, artefacts, assessments, auth, badges_public, class_members, class_views, classes, competencies,
    conferences, digests, exports, family, feedback, framework_files, framework_scale, framework_translations,
    frameworks, goals, homes, imports, invitations, notifications, presentations, public, reactions, reflections,
    credential_images, credentials, roster, school_classes, shared, showcases, sso,
)

ROUTERS = [
    public.router, auth.router, sso.router, account.router, homes.router, admin.router,
    artefacts.router, reflections.router, goals.router, competencies.router,
    framework_files.router,  # before frameworks: /admin/frameworks/import is not a framework's id
    frameworks.router, framework_scale.router, framework_translations.router,
    classes.router, class_members.router, school_classes.router,
    notifications.router,
    assessments.router, class_views.router,
    feedback.router, approvals.router,
    invitations.router, family.router, digests.router, digests.public_router, reactions.router,
    showcases.router, shared.router, presentations.router, conferences.router,
    exports.router, imports.router, roster.router,
    credentials.router, credential_images.router,
    badges_public.router,
]

# Paths that answer without a signed-in user; tests/test_route_guard.py proves every other one
# redirects to the sign-in page. Adding a path here is a decision to review.
# /invite: a family member redeems an invitation code (creating an account or linking one);
# /language: anyone may pick the language of the pages; /s/...: a showcase's secret link, read-only;
# /logout: signing out must work (and clear the cookie) even when the session has already ended.
# /setup/...: a new person's one-time setup link, where they choose their password.
# /api/v1: the JSON API, its own app: no session cookie counts there, and each operation checks its bearer token
# (app.api.tokens; tests/test_api_access.py asks every operation as every viewer).
# /sso/...: signing in with the school's OpenID Connect provider (404 unless FOLIO_OIDC_ISSUER is set).
# /digest/settings/...: the link in each family digest to change how often it comes or stop it (a signed,
# expiring token names the family member; a mail app's one-click unsubscribe POSTs there too).
# /badges/...: Open Badges credentials are public by design: each school's issuer document and status lists, each
# credential's JSON at its id, and the pages that verify them (app.routes.badges_public).
PUBLIC_PATHS = frozenset({
    "/", "/login", "/logout", "/healthz", "/static", "/invite", "/language", "/setup/{token}",
    "/sso/start", "/sso/callback", "/api/v1",
    "/s/{token}", "/s/{token}/files/{artefact_id}/{variant}", "/digest/settings/{token}",
    "/badges/issuers/{school_id}", "/badges/issuers/{school_id}/status/{list_number}",
    "/badges/credentials/{public_id}", "/badges/credentials/{public_id}/verify", "/badges/verify",
})


class PublicStaticFiles(StaticFiles):
    """Static files; fingerprinted URLs (?v=hash) may be cached for a year."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        fingerprinted = b"v=" in scope.get("query_string", b"")

        async def send_with_cache(message) -> None:
            if message["type"] == "http.response.start" and fingerprinted and message.get("status") == 200:
                message.setdefault("headers", []).append(
                    (b"cache-control", b"public, max-age=31536000, immutable")
                )
            await send(message)

        await super().__call__(scope, receive, send_with_cache)
