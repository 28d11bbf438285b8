"""A school's Ed25519 issuer keys: made on first need, kept sealed under the secret key, retired but never removed."""

import base64
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlmodel import Session, select

from app.config import Settings
from app.models import IssuerKey
from app.models.base import utcnow
from app.services.badges import urls
from app.services.badges.multibase import ed25519_from_multikey, ed25519_multikey

_INFO = b"folio badges issuer key v1"


def _sealing_key(settings: Settings) -> AESGCM:
    secret = settings.resolved_secret_key().encode("utf-8")
    return AESGCM(HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO).derive(secret))


def _seal(*, settings: Settings, seed: bytes, public_key_multibase: str) -> str:
    nonce = os.urandom(12)
    # The public key is the associated data: a sealed seed moved onto another key's row does not open.
    sealed = _sealing_key(settings).encrypt(nonce, seed, public_key_multibase.encode("ascii"))
    return base64.urlsafe_b64encode(nonce + sealed).decode("ascii")


def _unseal(*, settings: Settings, key: IssuerKey) -> Ed25519PrivateKey | None:
    data = base64.urlsafe_b64decode(key.sealed_private_key.encode("ascii"))
    try:
        seed = _sealing_key(settings).decrypt(data[:12], data[12:], key.public_key_multibase.encode("ascii"))
    except InvalidTag:
        return None
    return Ed25519PrivateKey.from_private_bytes(seed)


def _new_key(*, session: Session, settings: Settings, school_id: int) -> tuple[IssuerKey, Ed25519PrivateKey]:
    private = Ed25519PrivateKey.generate()
    public = ed25519_multikey(private.public_key().public_bytes_raw())
    key = IssuerKey(school_id=school_id, public_key_multibase=public,
                    sealed_private_key=_seal(settings=settings, seed=private.private_bytes_raw(), public_key_multibase=public))
    session.add(key)
    session.flush()
    return key, private


def signing_key(*, session: Session, settings: Settings, school_id: int) -> tuple[IssuerKey, Ed25519PrivateKey]:
    """The school's current key and its private half, made on first need (or when the secret key changed)."""
    current = session.exec(
        select(IssuerKey).where(IssuerKey.school_id == school_id, IssuerKey.retired_at.is_(None))
        .order_by(IssuerKey.id.desc())
    ).first()
    if current is not None:
        private = _unseal(settings=settings, key=current)
        if private is not None:
            return current, private
        # Sealed under an earlier secret key: it can no longer sign, but what it signed still verifies.
        current.retired_at = utcnow()
    return _new_key(session=session, settings=settings, school_id=school_id)


def retire_keys(*, session: Session, school_id: int) -> int:
    """Retire the school's current key(s): the next credential gets a new key; the old stay published."""
    keys = session.exec(select(IssuerKey).where(IssuerKey.school_id == school_id, IssuerKey.retired_at.is_(None))).all()
    for key in keys:
        key.retired_at = utcnow()
    return len(keys)


def published_keys(*, session: Session, school_id: int) -> list[IssuerKey]:
    """Every key the school ever had, oldest first: all stay in its issuer document."""
    return list(session.exec(select(IssuerKey).where(IssuerKey.school_id == school_id).order_by(IssuerKey.id)).all())


def key_resolver(*, session: Session, settings: Settings):
    """A `public_key_for` for proof checks: a verification method id of a Folio school → its public key, or None."""
    def public_key_for(method: str) -> Ed25519PublicKey | None:
        issuer, _, fragment = method.partition("#")
        key = session.exec(select(IssuerKey).where(IssuerKey.public_key_multibase == fragment)).first()
        if key is None or issuer != urls.issuer_url(settings=settings, school_id=key.school_id):
            return None
        return Ed25519PublicKey.from_public_bytes(ed25519_from_multikey(key.public_key_multibase))
    return public_key_for
