"""Verifying a credential as a stranger would: its proof, the issuer's key, its status bit and its dates."""

import json
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone

from sqlmodel import Session

from app.config import Settings
from app.i18n import _
from app.models import School
from app.services.badges import keys, status, urls
from app.services.badges.loader import OB_V3, VC_V2
from app.services.badges.proof import verify_document
from app.services.forms import FormInput


@dataclass(frozen=True)
class Check:
    name: str
    passed: bool
    message: str


@dataclass
class Verification:
    """Each check and what it found; `valid` only when every one passed."""

    checks: list[Check] = field(default_factory=list)
    revoked: bool = False

    @property
    def valid(self) -> bool:
        return bool(self.checks) and all(check.passed for check in self.checks)


_PROOF_MESSAGES = {
    "no-proof": lambda: _("The credential carries no signature."),
    "unsupported-proof": lambda: _(
        "The credential is signed in a way Folio does not check (only eddsa-rdfc-2022 and Ed25519Signature2020)."),
    "unknown-context": lambda: _("The credential uses a vocabulary (JSON-LD context) Folio does not know, so it was not checked."),
    "unknown-key": lambda: _("The credential was not signed by a key of a school on this Folio, so it cannot be checked here."),
    "bad-signature": lambda: _("The signature does not match: the credential was changed after it was issued."),
    "malformed": lambda: _("The credential's signature is not in the expected form."),
    "unsafe": lambda: _("The credential holds words its vocabulary does not define, which the signature cannot cover."),
}


def _parse_time(value) -> datetime | None:
    if not isinstance(value, str) or not re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)", value):
        return None
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _issuer_id(document: dict) -> str | None:
    issuer = document.get("issuer")
    issuer = issuer.get("id") if isinstance(issuer, dict) else issuer
    return issuer if isinstance(issuer, str) else None


def _school_of(*, session: Session, settings: Settings, issuer: str | None) -> School | None:
    prefix = urls.issuer_url(settings=settings, school_id=0)[:-1]
    if not issuer or not issuer.startswith(prefix) or not issuer[len(prefix):].isdigit():
        return None
    return session.get(School, int(issuer[len(prefix):]))


def _format_check(document) -> Check:
    contexts = document.get("@context") if isinstance(document, dict) else None
    types = document.get("type") if isinstance(document, dict) else None
    ok = (isinstance(contexts, list) and contexts[:1] == [VC_V2] and OB_V3 in contexts and isinstance(types, list)
          and "VerifiableCredential" in types and "OpenBadgeCredential" in types)
    return Check("format", ok, _("It is an Open Badges 3.0 credential.") if ok
                 else _("It is not an Open Badges 3.0 credential."))


def _status_check(*, session: Session, settings: Settings, document: dict, school: School | None) -> tuple[Check, bool]:
    entry = document.get("credentialStatus")
    if not isinstance(entry, dict) or entry.get("type") != "BitstringStatusListEntry" or school is None:
        return Check("status", False, _("Its revocation status could not be found.")), False
    list_url = entry.get("statusListCredential")
    prefix = urls.status_list_url(settings=settings, school_id=school.id, list_number=0)[:-1]
    index = entry.get("statusListIndex")
    if (not isinstance(list_url, str) or not list_url.startswith(prefix) or not list_url[len(prefix):].isdigit()
            or len(list_url) - len(prefix) > 6 or not isinstance(index, str) or not index.isdigit() or len(index) > 7
            or entry.get("statusPurpose") != status.PURPOSE):
        return Check("status", False, _("Its revocation status could not be found.")), False
    # Read the bit from the list encoded as it is published, the way any verifier reads it.
    encoded = status.encode_bits(status.revoked_indexes(session=session, school_id=school.id,
                                                        list_number=int(list_url[len(prefix):])))
    try:
        revoked = status.bit_is_set(encoded, int(index))
    except ValueError:
        return Check("status", False, _("Its revocation status could not be found.")), False
    if revoked:
        return Check("status", False, _("The school has revoked this credential.")), True
    return Check("status", True, _("The school has not revoked it.")), False


def _dates_check(document: dict) -> Check:
    now = datetime.now(timezone.utc)
    valid_from = _parse_time(document.get("validFrom"))
    if valid_from is None:
        return Check("dates", False, _("It has no valid issue date."))
    if valid_from > now:
        return Check("dates", False, _("It is not valid yet."))
    if "validUntil" in document:
        valid_until = _parse_time(document.get("validUntil"))
        if valid_until is None or valid_until <= now:
            return Check("dates", False, _("It has expired."))
    return Check("dates", True, _("It is within its validity dates."))


def verify_credential(*, session: Session, settings: Settings, document) -> Verification:
    """Every check of one credential document (already parsed JSON), each said plainly."""
    result = Verification()
    result.checks.append(_format_check(document))
    if not isinstance(document, dict):
        return result
    proof = verify_document(document=document, public_key_for=keys.key_resolver(session=session, settings=settings))
    result.checks.append(Check("signature", proof.valid, _("The signature is valid: nothing was changed since it was issued.")
                               if proof.valid else _PROOF_MESSAGES[proof.reason]()))
    issuer = _issuer_id(document)
    school = _school_of(session=session, settings=settings, issuer=issuer)
    key_ok = proof.valid and school is not None and proof.verification_method.partition("#")[0] == issuer
    result.checks.append(Check("issuer", key_ok, _("It was signed with a key of %(school)s, its issuer.", school=school.name)
                               if key_ok else _("It was not signed with a key of the issuer it names.")))
    status_check, result.revoked = _status_check(session=session, settings=settings, document=document, school=school)
    result.checks.append(status_check)
    result.checks.append(_dates_check(document))
    return result


MAX_PASTED_BYTES = 512 * 1024


@dataclass(kw_only=True)
class PastedCredential(FormInput):
    """The verify form: the credential read from what was pasted or uploaded, if it is one."""

    document: dict | None = None


def parse_pasted(*, text: str) -> PastedCredential:
    """A pasted or uploaded credential as JSON, or a message beside the text box saying what is wrong with it."""
    if not text.strip():
        return PastedCredential(errors={"text": _("Paste a credential's JSON or choose its file.")})
    if len(text.encode("utf-8")) > MAX_PASTED_BYTES:
        return PastedCredential(errors={"text": _("That is too large to be a credential.")})
    try:
        document = json.loads(text)
    except ValueError:
        return PastedCredential(errors={"text": _(
            "That is not JSON. Paste the whole credential, from its first “{” to its last “}”.")})
    if not isinstance(document, dict):
        return PastedCredential(errors={"text": _("That is JSON, but not a credential.")})
    return PastedCredential(document=document)
