"""Bitstring Status Lists: each school's revocation bits, published as a signed BitstringStatusListCredential."""

import base64
import gzip
import secrets

import sqlalchemy as sa
from sqlmodel import Session, select

from app.config import Settings
from app.models import Credential, School
from app.models.base import utcnow
from app.services.badges import keys, urls
from app.services.badges.loader import VC_V2
from app.services.badges.proof import sign_document, xsd_datetime

PURPOSE = "revocation"


def place_status_bit(*, session: Session, credential: Credential) -> None:
    """Give a new credential (already flushed) a free bit at a random place in its school's newest list.

    A list is filled to half at most, so a random place is free at the first or second try, and a new list is
    begun after that. Issuing is serialised per school, so two credentials issued at once never pick the same bit:
    PostgreSQL locks the school's row (FOR NO KEY UPDATE, which rows merely pointing at the school don't wait for),
    and on SQLite the flushed credential means this transaction already holds the database's write lock.
    """
    session.exec(select(School.id).where(School.id == credential.school_id).with_for_update(key_share=True))
    newest = session.exec(select(sa.func.max(Credential.status_list))
                          .where(Credential.school_id == credential.school_id)).one() or 0
    in_newest = session.exec(select(sa.func.count()).select_from(Credential).where(
        Credential.school_id == credential.school_id, Credential.status_list == newest)).one()
    list_number = newest if in_newest < urls.STATUS_LIST_BITS // 2 else newest + 1
    while True:
        index = secrets.randbelow(urls.STATUS_LIST_BITS)
        taken = session.exec(select(Credential.id).where(
            Credential.school_id == credential.school_id, Credential.status_list == list_number,
            Credential.status_index == index)).first()
        if taken is None:
            break
    credential.status_list, credential.status_index = list_number, index
    session.add(credential)
    session.flush()


def status_entry(*, settings: Settings, credential: Credential) -> dict:
    """The `credentialStatus` of a credential: its bit in its school's list."""
    list_url = urls.status_list_url(settings=settings, school_id=credential.school_id,
                                    list_number=credential.status_list)
    index = credential.status_index
    return {
        "id": f"{list_url}#{index}", "type": "BitstringStatusListEntry", "statusPurpose": PURPOSE,
        "statusListIndex": str(index), "statusListCredential": list_url,
    }


def encode_bits(indexes: set[int]) -> str:
    """The multibase (base64url, "u") GZIP of a STATUS_LIST_BITS-long bitstring with these bits set (bit 0 leftmost)."""
    bits = bytearray(urls.STATUS_LIST_BITS // 8)
    for index in indexes:
        bits[index // 8] |= 0x80 >> (index % 8)
    compressed = gzip.compress(bytes(bits), mtime=0)
    return "u" + base64.urlsafe_b64encode(compressed).decode("ascii").rstrip("=")


def bit_is_set(encoded_list: str, index: int) -> bool:
    """Whether bit `index` of an encodedList is set; ValueError when the list is not one."""
    if not isinstance(encoded_list, str) or not encoded_list.startswith("u"):
        raise ValueError("not multibase base64url")
    text = encoded_list[1:]
    try:
        bits = gzip.decompress(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
    except (OSError, EOFError, ValueError) as error:
        raise ValueError("not a GZIP bitstring") from error
    if not 0 <= index < len(bits) * 8:
        raise ValueError("index outside the list")
    return bool(bits[index // 8] & (0x80 >> (index % 8)))


def revoked_indexes(*, session: Session, school_id: int, list_number: int) -> set[int]:
    """The set bits of one of the school's lists: its revoked credentials' indexes (one query)."""
    return set(session.exec(
        select(Credential.status_index).where(Credential.school_id == school_id, Credential.status_list == list_number,
                                              Credential.revoked_at.is_not(None))
    ).all())


def status_list_credential(*, session: Session, settings: Settings, school_id: int, list_number: int) -> dict:
    """The school's list as a BitstringStatusListCredential, signed now with its current key."""
    list_url = urls.status_list_url(settings=settings, school_id=school_id, list_number=list_number)
    issuer = urls.issuer_url(settings=settings, school_id=school_id)
    document = {
        "@context": [VC_V2],
        "id": list_url,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": issuer,
        "validFrom": xsd_datetime(utcnow()),
        "credentialSubject": {
            "id": f"{list_url}#list", "type": "BitstringStatusList", "statusPurpose": PURPOSE,
            "encodedList": encode_bits(revoked_indexes(session=session, school_id=school_id, list_number=list_number)),
        },
    }
    key, private = keys.signing_key(session=session, settings=settings, school_id=school_id)
    method = urls.key_id(settings=settings, school_id=school_id, public_key_multibase=key.public_key_multibase)
    return sign_document(document=document, private_key=private, verification_method=method, created=utcnow())
