"""The public URLs a credential names: its issuer, the issuer's keys, its status list and its own id."""

from app.config import Settings

# Bits per status list: 16 KB, the least the Bitstring Status List spec asks for, so that fetching a list tells
# nobody which credential is being checked.
STATUS_LIST_BITS = 131_072


def _base(settings: Settings) -> str:
    return settings.base_url.rstrip("/")


def issuer_url(*, settings: Settings, school_id: int) -> str:
    """The school's issuer Profile (and controller document of its keys)."""
    return f"{_base(settings)}/badges/issuers/{school_id}"


def key_id(*, settings: Settings, school_id: int, public_key_multibase: str) -> str:
    """A key's verification method id: the issuer URL with the key as its fragment."""
    return f"{issuer_url(settings=settings, school_id=school_id)}#{public_key_multibase}"


def status_list_url(*, settings: Settings, school_id: int, list_number: int) -> str:
    """One of the school's status list credentials."""
    return f"{issuer_url(settings=settings, school_id=school_id)}/status/{list_number}"


def credential_url(*, settings: Settings, public_id: str) -> str:
    """A credential's id: its signed JSON is served here."""
    return f"{_base(settings)}/badges/credentials/{public_id}"


def verify_page_url(*, settings: Settings, public_id: str) -> str:
    """The public page that verifies a credential."""
    return f"{credential_url(settings=settings, public_id=public_id)}/verify"
