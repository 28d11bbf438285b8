"""did:key identifiers resolved locally: the public key is the identifier itself (base58btc multibase, multicodec
prefix), so no resolver or network is involved. Ed25519 and P-256 keys, as VC-JWT's EdDSA and ES256 use."""

from __future__ import annotations

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from app.services.badges.multibase import decode_base58btc, encode_base58btc

_ED25519 = b"\xed\x01"
_P256 = b"\x80\x24"

PublicKey = ed25519.Ed25519PublicKey | ec.EllipticCurvePublicKey


def did_of(verification_method: str) -> str:
    """The DID a verification method or JWS `kid` belongs to ("did:key:z6Mk…#z6Mk…" → "did:key:z6Mk…")."""
    return verification_method.split("#", 1)[0]


def is_did_key(identifier: str) -> bool:
    """True for a did:key identifier (or one of its verification methods)."""
    return isinstance(identifier, str) and identifier.startswith("did:key:z")


def public_key(did: str) -> PublicKey:
    """The public key a did:key names; ValueError for anything else (another method, an unknown key type)."""
    if not is_did_key(did):
        raise ValueError("not a did:key")
    raw = decode_base58btc(did_of(did).removeprefix("did:key:"))
    if raw.startswith(_ED25519) and len(raw) == 34:
        return ed25519.Ed25519PublicKey.from_public_bytes(raw[2:])
    if raw.startswith(_P256) and len(raw) == 35:
        return ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), raw[2:])
    raise ValueError("a did:key of a kind Folio doesn't read")


def ed25519_did(key: ed25519.Ed25519PublicKey) -> str:
    """The did:key of an Ed25519 public key."""
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return "did:key:" + encode_base58btc(_ED25519 + raw)
