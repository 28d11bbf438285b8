"""Badges brought in as evidence: what a baked assertion says (issuer, achievement, criteria, date) and whether its
signature can be checked here, offline. Nothing is ever fetched: a hosted assertion, or a key on the issuer's site,
is shown as the issuer described it and said to need the internet to check."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from sqlmodel import Session, select

from app.models import Artefact, Credential, IssuerKey
from app.models.badge_assertions import BadgeAssertion, BadgeCheck
from app.models.base import utcnow
from app.services.badges import did_key
from app.services.badges import proof as proof_module
from app.services.badges.multibase import ed25519_from_multikey

KeyLookup = Callable[[str], "ed25519.Ed25519PublicKey | None"]
RevokedLookup = Callable[[object], bool]


class UnreadableBadge(ValueError):
    """A baked payload that isn't an assertion or credential Folio can read."""


@dataclass
class BadgeDetails:
    issuer_name: str = ""
    issuer_url: str = ""
    achievement_name: str = ""
    description: str = ""
    criteria: str = ""
    criteria_url: str = ""
    issued_on: date | None = None


@dataclass
class Reading:
    details: BadgeDetails
    check: BadgeCheck


def read_badge(*, version: str, payload: str, own_keys: KeyLookup | None = None,
               own_revoked: RevokedLookup | None = None) -> Reading:
    """What a baked payload says and what checking it offline finds; UnreadableBadge when it says nothing readable.
    `own_keys` finds the public key of a verification method of a school on this Folio (folio_keys), `own_revoked`
    whether one of their credentials was revoked (folio_revoked)."""
    text = payload.strip()
    if not text:
        raise UnreadableBadge("empty")
    if text.startswith(("https://", "http://")) and " " not in text:
        # A hosted assertion's address only (Open Badges 1.x and 2.0): its details live on the issuer's site.
        return Reading(BadgeDetails(issuer_url=text[:2000]), BadgeCheck.needs_internet)
    if text.startswith("{"):
        document = _json_object(text)
        check = (_check_embedded(document, own_keys, own_revoked) if version == "3.0"
                 else BadgeCheck.needs_internet)
        return Reading(_details(version, document), check)
    if text.count(".") == 2:
        header, claims = _jws_parts(text)
        credential = claims["vc"] if isinstance(claims.get("vc"), dict) else claims
        check = _check_jws(text, header, claims, credential) if version == "3.0" else BadgeCheck.needs_internet
        return Reading(_details(version, credential), check)
    raise UnreadableBadge("neither JSON, a JWS nor a URL")


def record(*, session: Session, artefact: Artefact, version: str, payload: str, unreadable: bool = False
           ) -> BadgeAssertion:
    """Keep the badge an uploaded image carried, read and checked, beside its artefact (a badge that can't be read
    is kept too, so the page can say so)."""
    reading = None
    if not unreadable:
        try:
            reading = read_badge(version=version, payload=payload, own_keys=folio_keys(session=session),
                                 own_revoked=folio_revoked(session=session))
        except UnreadableBadge:
            reading = None
    details = reading.details if reading else BadgeDetails()
    badge = BadgeAssertion(
        artefact_id=artefact.id, version=version[:8], payload=payload,
        issuer_name=details.issuer_name[:300], issuer_url=details.issuer_url[:2000],
        achievement_name=details.achievement_name[:300], description=details.description,
        criteria=details.criteria, criteria_url=details.criteria_url[:2000], issued_on=details.issued_on,
        verification=reading.check if reading else BadgeCheck.unreadable, checked_at=utcnow(),
    )
    session.add(badge)
    return badge


def folio_keys(*, session: Session) -> KeyLookup:
    """The public key of a verification method ("<issuer>#<multikey>") of a school on this Folio, or None.

    Unlike keys.key_resolver it needs no settings: a credential whose signature one of this Folio's private keys
    made was signed here, whatever address it gives (the issuer part is still checked against the credential)."""
    def public_key_for(method: str) -> ed25519.Ed25519PublicKey | None:
        fragment = method.partition("#")[2]
        if not fragment:
            return None
        key = session.exec(select(IssuerKey).where(IssuerKey.public_key_multibase == fragment)).first()
        return ed25519.Ed25519PublicKey.from_public_bytes(ed25519_from_multikey(fragment)) if key else None
    return public_key_for


def folio_revoked(*, session: Session) -> RevokedLookup:
    """Whether a credential (by its id, ".../badges/credentials/<public id>") issued on this Folio was revoked."""
    def is_revoked(credential_id) -> bool:
        if not isinstance(credential_id, str) or "/badges/credentials/" not in credential_id:
            return False
        public_id = credential_id.rsplit("/", 1)[-1][:36]
        issued = session.exec(select(Credential).where(Credential.public_id == public_id)).first()
        return issued is not None and issued.revoked_at is not None
    return is_revoked


def badge_of(*, session: Session, artefact: Artefact) -> BadgeAssertion | None:
    """The badge an artefact carried, if any (the caller has already decided the viewer may see the artefact)."""
    return session.exec(select(BadgeAssertion).where(BadgeAssertion.artefact_id == artefact.id)).first()


def badges_of(*, session: Session, artefact_ids: list[int]) -> dict[int, BadgeAssertion]:
    """Badges of many artefacts at once (cards and lists), by artefact id."""
    if not artefact_ids:
        return {}
    rows = session.exec(select(BadgeAssertion).where(BadgeAssertion.artefact_id.in_(artefact_ids))).all()
    return {row.artefact_id: row for row in rows}


def badges_on_page(*, session: Session, rows) -> dict[int, BadgeAssertion]:
    """Badges of the artefacts among a timeline page's rows (one query), by artefact id."""
    return badges_of(session=session, artefact_ids=[row.entry.id for row in rows if row.entry.type.value == "artefact"])


@dataclass(frozen=True)
class Validity:
    """The dates between which a badge says it counts, and where now stands (a badge valid today can expire later,
    so this is read from the payload each time rather than kept with the signature check)."""

    valid_from: datetime | None = None
    valid_until: datetime | None = None
    now: datetime | None = None

    @property
    def expired(self) -> bool:
        return self.valid_until is not None and self.now is not None and self.valid_until <= self.now

    @property
    def not_yet_valid(self) -> bool:
        return self.valid_from is not None and self.now is not None and self.valid_from > self.now


def validity_of(*, badge: BadgeAssertion, now: datetime | None = None) -> Validity:
    """When a kept badge counts from and until (Open Badges 3.0 validFrom/validUntil, VC 1.1 expirationDate, VC-JWT
    nbf/exp, Open Badges 1.x/2.0 expires), and whether it has expired or isn't valid yet."""
    now = now or datetime.now(UTC)
    text = badge.payload.strip()
    try:
        if text.startswith("{"):
            document = _json_object(text)
            claims: dict = {}
        elif text.count(".") == 2 and not text.startswith(("https://", "http://")):
            claims = _jws_parts(text)[1]
            document = claims["vc"] if isinstance(claims.get("vc"), dict) else claims
        else:
            return Validity(now=now)
    except UnreadableBadge:
        return Validity(now=now)
    if badge.version == "3.0":
        start = _moment(document.get("validFrom")) or _moment(claims.get("nbf"))
        end = (_moment(document.get("validUntil")) or _moment(document.get("expirationDate"))
               or _moment(claims.get("exp")))
    else:
        start, end = None, _moment(document.get("expires"))
    return Validity(valid_from=start, valid_until=end, now=now)


def _moment(value) -> datetime | None:
    """A point in time from an ISO 8601 string (a bare date counts from its midnight UTC) or a Unix time."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        try:
            return datetime.fromtimestamp(value, UTC)
        except (OverflowError, OSError, ValueError):
            return None
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        try:
            moment = datetime.combine(date.fromisoformat(text[:10]), datetime.min.time())
        except ValueError:
            return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def title_of(*, version: str, payload: str) -> str:
    """The achievement's name a payload gives, or "" (for drawing a badge picture before any row exists)."""
    try:
        return read_badge(version=version, payload=payload).details.achievement_name
    except UnreadableBadge:
        return ""


# --- reading --------------------------------------------------------------------------------------------


def _json_object(text: str) -> dict:
    try:
        document = json.loads(text)
    except ValueError as error:
        raise UnreadableBadge(f"not JSON: {error}") from None
    if not isinstance(document, dict):
        raise UnreadableBadge("not a JSON object")
    return document


def _b64url(segment: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
    except (binascii.Error, ValueError) as error:
        raise UnreadableBadge(f"not base64url: {error}") from None


def _jws_parts(token: str) -> tuple[dict, dict]:
    header_part, claims_part, _signature = token.split(".")
    return _json_object(_b64url(header_part).decode("utf-8", "replace")), \
        _json_object(_b64url(claims_part).decode("utf-8", "replace"))


def _text(value) -> str:
    """A plain string from a JSON value that may be a string or a language map ({"en": "…"})."""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, dict):
        for key in ("@value", "en", *value.keys()):
            if isinstance(value.get(key), str):
                return value[key].strip()
    return ""


def _web_address(value) -> str:
    text = _text(value)
    return text if text.startswith(("https://", "http://")) else ""


def _issued_on(value) -> date | None:
    if isinstance(value, int | float) and not isinstance(value, bool):  # Open Badges 1.0's Unix time
        try:
            return datetime.fromtimestamp(value, UTC).date()
        except (OverflowError, OSError, ValueError):
            return None
    text = _text(value)
    if not text:
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).date()
    except ValueError:
        try:
            return date.fromisoformat(text[:10])
        except ValueError:
            return None


def _criteria(value) -> tuple[str, str]:
    if isinstance(value, str):
        return ("", value) if _web_address(value) else (value.strip(), "")
    if isinstance(value, dict):
        return _text(value.get("narrative")), _web_address(value.get("id") or value.get("url"))
    return "", ""


def _issuer(value) -> tuple[str, str]:
    if isinstance(value, str):
        return "", _web_address(value)
    if isinstance(value, dict):
        return _text(value.get("name")), _web_address(value.get("url")) or _web_address(value.get("id"))
    return "", ""


def _details(version: str, document: dict) -> BadgeDetails:
    if version == "3.0":
        subject = document.get("credentialSubject")
        subject = subject[0] if isinstance(subject, list) and subject else subject
        achievement = subject.get("achievement") if isinstance(subject, dict) else None
        achievement = achievement if isinstance(achievement, dict) else {}
        issuer = document.get("issuer")
        issued = document.get("validFrom") or document.get("issuanceDate") or document.get("awardedDate")
        name = _text(achievement.get("name")) or _text(document.get("name"))
    else:
        achievement = document.get("badge")
        if isinstance(achievement, str):
            achievement = {"criteria": achievement} if _web_address(achievement) else {}
        achievement = achievement if isinstance(achievement, dict) else {}
        issuer = achievement.get("issuer")
        issued = document.get("issuedOn")
        name = _text(achievement.get("name"))
    issuer_name, issuer_url = _issuer(issuer)
    criteria, criteria_url = _criteria(achievement.get("criteria"))
    return BadgeDetails(issuer_name=issuer_name, issuer_url=issuer_url, achievement_name=name,
                        description=_text(achievement.get("description")), criteria=criteria,
                        criteria_url=criteria_url, issued_on=_issued_on(issued))


# --- checking ---------------------------------------------------------------------------------------------


def _issuer_id(credential: dict) -> str:
    issuer = credential.get("issuer")
    return issuer.get("id", "") if isinstance(issuer, dict) else issuer if isinstance(issuer, str) else ""


def _check_jws(token: str, header: dict, claims: dict, credential: dict) -> BadgeCheck:
    """A VC-JWT: checked when its key is a did:key that is the issuer's own identifier."""
    kid = header.get("kid") if isinstance(header.get("kid"), str) else ""
    issuer = _issuer_id(credential) or (claims.get("iss") if isinstance(claims.get("iss"), str) else "")
    did = did_key.did_of(kid) if did_key.is_did_key(kid) else issuer if did_key.is_did_key(issuer) else ""
    if not did:
        return BadgeCheck.needs_internet  # the key is published on the issuer's site
    if (issuer and issuer != did) or (isinstance(claims.get("iss"), str) and claims["iss"] != did):
        return BadgeCheck.does_not_verify  # signed by a key that isn't the issuer's
    try:
        key = did_key.public_key(did)
    except ValueError:
        return BadgeCheck.cannot_check
    signing_input = token.rsplit(".", 1)[0].encode("ascii")
    try:
        signature = _b64url(token.rsplit(".", 1)[1])
    except UnreadableBadge:
        return BadgeCheck.does_not_verify
    algorithm = header.get("alg")
    try:
        if algorithm in ("EdDSA", "Ed25519") and isinstance(key, ed25519.Ed25519PublicKey):
            key.verify(signature, signing_input)
        elif algorithm == "ES256" and isinstance(key, ec.EllipticCurvePublicKey) and len(signature) == 64:
            der = encode_dss_signature(int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big"))
            key.verify(der, signing_input, ec.ECDSA(hashes.SHA256()))
        else:
            return BadgeCheck.does_not_verify  # "none", or an algorithm that doesn't match the key
    except InvalidSignature:
        return BadgeCheck.does_not_verify
    return BadgeCheck.verified


def _check_embedded(credential: dict, own_keys: KeyLookup | None, own_revoked: RevokedLookup | None) -> BadgeCheck:
    """A credential with an embedded eddsa-rdfc-2022 or Ed25519Signature2020 proof by its issuer's did:key, or by a
    school on this Folio: checked offline with the vendored JSON-LD contexts (app.services.badges.proof); a key
    elsewhere needs the internet."""
    proof = credential.get("proof")
    proof = proof[0] if isinstance(proof, list) and proof else proof
    if not isinstance(proof, dict):
        return BadgeCheck.cannot_check  # not signed at all
    method = proof.get("verificationMethod")
    method = method.get("id") if isinstance(method, dict) else method
    if not isinstance(method, str):
        return BadgeCheck.cannot_check
    own_key = own_keys(method) if own_keys is not None and not did_key.is_did_key(method) else None
    if not did_key.is_did_key(method) and own_key is None:
        return BadgeCheck.needs_internet  # the key is published on the issuer's site
    if did_key.did_of(method) != _issuer_id(credential):
        return BadgeCheck.does_not_verify  # signed by a key that isn't the issuer's
    if proof.get("cryptosuite") != proof_module.CRYPTOSUITE and proof.get("type") != proof_module.ED25519_2020_PROOF_TYPE:
        return BadgeCheck.cannot_check

    def public_key_for(verification_method: str) -> ed25519.Ed25519PublicKey | None:
        if own_key is not None:
            return own_key if verification_method == method else None
        # A did:key has one verification method, "<did>#<its key>": any other fragment names nothing.
        did = did_key.did_of(verification_method)
        if verification_method != f"{did}#{did.removeprefix('did:key:')}":
            return None
        try:
            key = did_key.public_key(verification_method)
        except ValueError:
            return None
        return key if isinstance(key, ed25519.Ed25519PublicKey) else None

    found = proof_module.verify_document(document=credential, public_key_for=public_key_for)
    if found.valid and own_key is not None and own_revoked is not None and own_revoked(credential.get("id")):
        return BadgeCheck.revoked  # genuine, but the school on this Folio that issued it has withdrawn it
    if found.valid:
        return BadgeCheck.verified
    # Only a signature that doesn't match is a forgery; a context Folio hasn't vendored, or an odd form, isn't.
    return BadgeCheck.does_not_verify if found.reason == "bad-signature" else BadgeCheck.cannot_check
