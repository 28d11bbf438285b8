"""Files of an upload whose save was refused for a moment (a busy database), held for the retry: they are already
checked and in the store, and the form carries a signed token naming them, so the person need not choose them again.

A held file belongs to no row until the retry saves it; `folio check` only calls such a file an orphan after the
trash's grace period (FOLIO_TRASH_HOURS), longer than a token lives, so a file is never swept while it is held."""

from __future__ import annotations

import dataclasses

from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlmodel import Session, select

from app.models import Artefact, MediaKind, User
from app.services.portfolio.stored_files import StoredFile
from app.storage import Storage

HOLD_SECONDS = 3600
_SALT = "folio-held-files"


def hold(*, secret_key: str, owner: User, files: list[StoredFile]) -> str:
    """A token naming `files` for `owner`'s retry (signed, so nobody can name files that aren't theirs)."""
    kept = [{**dataclasses.asdict(f), "media_kind": f.media_kind.value} for f in files]
    return URLSafeTimedSerializer(secret_key, salt=_SALT).dumps({"owner": owner.id, "files": kept})


def claim(*, session: Session, store: Storage, secret_key: str, owner: User, token: str) -> list[StoredFile]:
    """The held files a token names, if it is `owner`'s, fresh, and its files are still there and not saved yet
    (a token sent twice adds its files once); anything else names nothing."""
    if not token:
        return []
    try:
        held = URLSafeTimedSerializer(secret_key, salt=_SALT).loads(token, max_age=HOLD_SECONDS)
    except BadSignature:  # tampered, another server's, or expired (SignatureExpired is a BadSignature)
        return []
    if not isinstance(held, dict) or held.get("owner") != owner.id:
        return []
    names = {f.get("stored_name") for f in held.get("files", []) if isinstance(f, dict)}
    saved = set(session.exec(select(Artefact.stored_name).where(Artefact.stored_name.in_(names))).all())
    files = []
    for fields in held.get("files", []):
        try:
            stored = StoredFile(**{**fields, "media_kind": MediaKind(fields["media_kind"])})
        except (TypeError, KeyError, ValueError):
            continue
        keys = [k for k in (stored.stored_name, stored.thumb_small, stored.thumb_large, stored.thumb_print) if k]
        if stored.stored_name in saved or any(not k.startswith(f"u{owner.id}/") for k in keys):
            continue
        if store.exists(stored.stored_name):
            files.append(stored)
    return files
