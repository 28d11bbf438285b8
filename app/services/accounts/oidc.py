"""Single sign-on with OpenID Connect, the protocol half (Authlib): the provider's published metadata and keys, the
authorization request (code flow with state, nonce and PKCE), the code exchange and the ID token's checks.

Whose account the checked claims are is app.services.accounts.sso's business.
"""

from __future__ import annotations

import hmac
import threading
import time
import warnings
from dataclasses import dataclass

import httpx
from authlib.common.security import generate_token
from authlib.deprecate import AuthlibDeprecationWarning
from authlib.integrations.base_client import OAuthError
from authlib.oidc.core import CodeIDToken
from joserfc import jwt
from joserfc.errors import ClaimError, InvalidKeyIdError, JoseError
from joserfc.jwk import KeySet
from joserfc.jws import JWSRegistry

from app.config import Settings

with warnings.catch_warnings():
    # Authlib 1.9 nudges towards the httpx2 fork; Folio's HTTP client is httpx, which Authlib still supports.
    warnings.filterwarnings("ignore", message="The httpx module is deprecated", category=AuthlibDeprecationWarning)
    from authlib.integrations.httpx_client import OAuth2Client

SCOPE = "openid email profile"
CALLBACK_PATH = "/sso/callback"
# Metadata and keys are fetched again after this; a key id never seen before also fetches the keys again (rotation).
METADATA_SECONDS = 3600
# Seconds of disagreement between our clock and the provider's that exp/iat still forgive.
LEEWAY = 60
HTTP_TIMEOUT = 10.0
# Only signatures made with the provider's private key: "none" and HMAC (keyed with the shared client secret) are not
# accepted, whatever the metadata offers.
_ASYMMETRIC = ("RS", "PS", "ES", "Ed")


class SsoError(Exception):
    """The sign-in could not be completed; `reason` goes to the audit and server logs, never to the page as is."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True)
class PendingSignIn:
    """What the browser carries (in a signed cookie) from the request to the provider until it comes back."""

    state: str
    nonce: str
    code_verifier: str
    next: str = ""


def clock() -> int:
    """Now, in seconds since the epoch, as the ID token's exp and iat are checked against (tests move it)."""
    return int(time.time())


_cache: dict[str, tuple[float, dict]] = {}
_cache_lock = threading.Lock()


def redirect_uri(*, settings: Settings) -> str:
    return settings.base_url.rstrip("/") + CALLBACK_PATH


def _client(settings: Settings, metadata: dict) -> OAuth2Client:
    # The secret goes in the Authorization header when the provider takes it there (the OAuth default), else in the body.
    methods = metadata.get("token_endpoint_auth_methods_supported") or ["client_secret_basic"]
    auth_method = "client_secret_basic" if "client_secret_basic" in methods else "client_secret_post"
    return OAuth2Client(client_id=settings.oidc_client_id, client_secret=settings.oidc_client_secret, scope=SCOPE,
                        redirect_uri=redirect_uri(settings=settings), code_challenge_method="S256",
                        token_endpoint_auth_method=auth_method, timeout=HTTP_TIMEOUT)


def _get_json(url: str) -> dict:
    try:
        response = httpx.get(url, timeout=HTTP_TIMEOUT, follow_redirects=False)
        response.raise_for_status()
        return response.json()
    except (httpx.HTTPError, ValueError) as exc:
        raise SsoError("provider_unreachable", f"{url}: {exc}") from None


def provider_metadata(*, settings: Settings, refresh_keys: bool = False) -> dict:
    """The provider's discovery document with its key set under "jwks", fetched at most hourly per process."""
    issuer = settings.oidc_issuer.rstrip("/")
    with _cache_lock:
        cached = _cache.get(issuer)
    if cached and not refresh_keys and time.monotonic() - cached[0] < METADATA_SECONDS:
        return cached[1]
    metadata = dict(cached[1]) if cached and refresh_keys else _get_json(f"{issuer}/.well-known/openid-configuration")
    # OpenID Connect Discovery 4.3: the document must name the very issuer it was fetched for.
    if metadata.get("issuer", "").rstrip("/") != issuer:
        raise SsoError("provider_metadata", f"issuer {metadata.get('issuer')!r} is not {issuer!r}")
    for endpoint in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
        if not metadata.get(endpoint):
            raise SsoError("provider_metadata", f"no {endpoint}")
    metadata["jwks"] = _get_json(metadata["jwks_uri"])
    with _cache_lock:
        _cache[issuer] = (time.monotonic(), metadata)
    return metadata


def authorization_request(*, settings: Settings, next_path: str = "") -> tuple[str, PendingSignIn]:
    """The provider's address to send the browser to, and what to remember until it comes back."""
    metadata = provider_metadata(settings=settings)
    pending = PendingSignIn(state=generate_token(32), nonce=generate_token(32), code_verifier=generate_token(64),
                            next=next_path)
    with _client(settings, metadata) as client:
        url, _state = client.create_authorization_url(metadata["authorization_endpoint"], state=pending.state,
                                                      code_verifier=pending.code_verifier, nonce=pending.nonce)
    return url, pending


def complete(*, settings: Settings, pending: PendingSignIn, state: str, code: str, issuer: str = "") -> dict:
    """Check the returned state (and issuer, RFC 9207, when the provider names it), exchange the code with the PKCE
    verifier, and return the ID token's checked claims."""
    if not state or not hmac.compare_digest(state.encode(), pending.state.encode()):
        raise SsoError("state")
    if not code:
        raise SsoError("no_code")
    metadata = provider_metadata(settings=settings)
    if issuer and issuer != metadata["issuer"]:
        raise SsoError("iss", issuer)
    try:
        with _client(settings, metadata) as client:
            token = client.fetch_token(metadata["token_endpoint"], code=code, code_verifier=pending.code_verifier,
                                       grant_type="authorization_code")
    except OAuthError as exc:
        raise SsoError("token_exchange", str(exc)) from None
    except (httpx.HTTPError, ValueError) as exc:
        raise SsoError("provider_unreachable", str(exc)) from None
    if not token.get("id_token"):
        raise SsoError("no_id_token")
    return validate_id_token(settings=settings, id_token=token["id_token"], nonce=pending.nonce,
                             access_token=token.get("access_token"))


def _decode(id_token: str, metadata: dict):
    offered = metadata.get("id_token_signing_alg_values_supported") or ["RS256"]
    algorithms = [alg for alg in offered if alg.startswith(_ASYMMETRIC)]
    return jwt.decode(id_token, KeySet.import_key_set(metadata["jwks"]),
                      registry=JWSRegistry(algorithms=algorithms, strict_check_header=False))


def validate_id_token(*, settings: Settings, id_token: str, nonce: str, access_token: str | None = None) -> dict:
    """The claims of `id_token` once its signature (the provider's keys), iss, aud, exp, iat, nonce and at_hash
    are right; SsoError otherwise."""
    metadata = provider_metadata(settings=settings)
    try:
        try:
            token = _decode(id_token, metadata)
        except InvalidKeyIdError:  # the provider may have rotated its keys since we fetched them
            token = _decode(id_token, provider_metadata(settings=settings, refresh_keys=True))
        claims = CodeIDToken(
            token.claims, token.header,
            {"iss": {"essential": True, "value": metadata["issuer"]},
             "aud": {"essential": True, "value": settings.oidc_client_id},
             "exp": {"essential": True}},
            {"nonce": nonce, "client_id": settings.oidc_client_id, "access_token": access_token},
        )
        claims.validate(now=clock(), leeway=LEEWAY)
    except ClaimError as exc:
        raise SsoError(f"{exc.error}:{exc.claim}") from None
    except (JoseError, ValueError) as exc:
        raise SsoError("id_token", str(exc)) from None
    return dict(claims)
