"""CSRF protection and security headers, as plain ASGI middleware (no buffering of streamed bodies); and which
address a request came from."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from urllib.parse import urlsplit

from starlette.datastructures import Headers, MutableHeaders
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})

# Only this server: no CDN, font host or analytics can be reached from a Folio page.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data: blob:",
        "media-src 'self' blob:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


def security_headers(*, hsts: bool) -> dict[str, str]:
    """The headers every response carries (error pages included)."""
    headers = {
        "Content-Security-Policy": CONTENT_SECURITY_POLICY,
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "same-origin",
        "X-Frame-Options": "DENY",
        "Cross-Origin-Opener-Policy": "same-origin",
        "Cross-Origin-Resource-Policy": "same-origin",
        # Camera and microphone stay available to Folio itself (evidence and spoken reflections).
        "Permissions-Policy": "camera=(self), microphone=(self), geolocation=(), payment=(), usb=()",
    }
    if hsts:
        headers["Strict-Transport-Security"] = "max-age=31536000"
    return headers


class SecurityHeadersMiddleware:
    """Adds security_headers() to every HTTP response that does not set its own."""

    def __init__(self, app: ASGIApp, *, hsts: bool) -> None:
        self.app = app
        self.headers = security_headers(hsts=hsts)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in self.headers.items():
                    if name not in headers:
                        headers[name] = value
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def is_cross_origin(method: str, headers: Headers, trusted_origins: frozenset[str]) -> bool:
    """True when a state-changing request was sent by another site (the algorithm of Go's CrossOriginProtection).

    Browsers send Sec-Fetch-Site (all current ones) or at least Origin on such requests; a request with
    neither is not from a browser, so there is no ambient cookie a third party could be abusing.
    """
    if method.upper() in SAFE_METHODS:
        return False
    origin = headers.get("origin")
    if origin and origin.lower() in trusted_origins:
        return False
    fetch_site = headers.get("sec-fetch-site")
    if fetch_site is not None:
        return fetch_site not in ("same-origin", "none")
    if origin is None:
        return False
    host = headers.get("host", "")
    return urlsplit(origin).netloc.lower() != host.lower()


def is_api_token_request(scope: Scope) -> bool:
    """A call to the JSON API with a bearer token and no cookie: the API ignores cookies (app.api.auth), so no other
    site can borrow a browser's session through it, and a program on another origin may call it."""
    headers = Headers(scope=scope)
    return (scope.get("path", "").startswith("/api/") and "cookie" not in headers
            and headers.get("authorization", "").lower().startswith("bearer "))


class CrossOriginProtectionMiddleware:
    """Refuses cross-site POST/PUT/PATCH/DELETE (CSRF), HTMX requests included, with 403."""

    def __init__(self, app: ASGIApp, *, trusted_origins: list[str]) -> None:
        self.app = app
        self.trusted_origins = frozenset(_origin_of(o) for o in trusted_origins if o)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and is_cross_origin(
            scope["method"], Headers(scope=scope), self.trusted_origins
        ) and not is_api_token_request(scope):
            if scope.get("path", "").startswith("/api/"):
                # The API's errors are problem details (app.api.problems), this one too.
                await JSONResponse({"type": "about:blank", "title": "Forbidden", "status": 403,
                                    "detail": "A request with a cookie was sent by another website."},
                                   status_code=403, media_type="application/problem+json")(scope, receive, send)
                return
            response = HTMLResponse(
                "<!doctype html><html lang='en'><head><meta charset='utf-8'><title>Refused · Folio</title></head>"
                "<body><main><h1>Request refused</h1><p>This form was sent from another website, so Folio "
                "ignored it to protect your account. Go back to Folio and try again from there.</p>"
                "<p><a href='/'>Back to Folio</a></p></main></body></html>",
                status_code=403,
            )
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)


# --- the client's address ----------------------------------------------------------------------


def _ip(value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The IP in "1.2.3.4", "1.2.3.4:5678", "[2001:db8::1]:443" or "2001:db8::1"; None for anything else."""
    value = value.strip()
    if value.startswith("["):
        value = value[1:value.find("]")] if "]" in value else value
    elif value.count(":") == 1:
        value = value.split(":", 1)[0]
    try:
        ip = ipaddress.ip_address(value)
    except ValueError:
        return None
    # A dual-stack listener shows IPv4 peers as ::ffff:1.2.3.4; they must match IPv4 proxies and counts.
    return ip.ipv4_mapped if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped else ip


def forwarded_client(*, peer: str, forwarded_for: Iterable[str], trusted: tuple) -> str:
    """The address to hold responsible: the peer, unless it is a trusted proxy; then the nearest address in
    X-Forwarded-For that isn't one (each proxy appends what it saw, so anything to the left of that is only
    what the client claimed)."""
    peer_ip = _ip(peer)
    if peer_ip is None or not any(peer_ip in network for network in trusted):
        return str(peer_ip) if peer_ip else peer
    hops = [hop.strip() for value in forwarded_for for hop in value.split(",") if hop.strip()]
    for hop in reversed(hops):
        hop_ip = _ip(hop)
        if hop_ip is None:
            return hop[:64]  # a trusted proxy vouched for it, whatever it is
        if not any(hop_ip in network for network in trusted):
            return str(hop_ip)
    # Every hop is a trusted proxy: the request started inside, at the first of them.
    return str(_ip(hops[0])) if hops else str(peer_ip)


def client_address(request: Request) -> str:
    """Where the request came from, believing X-Forwarded-For only from FOLIO_TRUSTED_PROXIES (as `folio serve` does)."""
    peer = request.client.host if request.client else "unknown"
    return forwarded_client(peer=peer, forwarded_for=request.headers.getlist("x-forwarded-for"),
                            trusted=request.app.state.settings.trusted_proxy_networks)
