"""The school's issuer Profile: its name and every key it ever signed with (a controller document for verifiers)."""

from sqlmodel import Session

from app.config import Settings
from app.models import School
from app.services.badges import keys, urls
from app.services.badges.loader import DID_V1, MULTIKEY_V1, OB_V3, VC_V2


def issuer_profile(*, settings: Settings, school: School) -> dict:
    """The short Profile a credential names as its issuer."""
    return {
        "id": urls.issuer_url(settings=settings, school_id=school.id), "type": ["Profile"], "name": school.name,
        "url": settings.base_url.rstrip("/") + "/",
    }


def issuer_document(*, session: Session, settings: Settings, school: School) -> dict:
    """The published Profile with its keys as Multikey verification methods, all allowed to assert (retired too)."""
    issuer = urls.issuer_url(settings=settings, school_id=school.id)
    methods = [
        {"id": urls.key_id(settings=settings, school_id=school.id, public_key_multibase=key.public_key_multibase),
         "type": "Multikey", "controller": issuer, "publicKeyMultibase": key.public_key_multibase}
        for key in keys.published_keys(session=session, school_id=school.id)
    ]
    return {
        # DID v1 first: it defines the controller document terms (contexts/README.md); verifiers read it as one.
        "@context": [DID_V1, VC_V2, OB_V3, MULTIKEY_V1],
        **issuer_profile(settings=settings, school=school),
        "verificationMethod": methods,
        "assertionMethod": [method["id"] for method in methods],
    }
