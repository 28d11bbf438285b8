"""portfolio.json's credentials: each one's signed JSON file for the archive, byte for byte as issued, and its entry."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from app.services.exports import export_credentials
from app.services.exports.portfolio_json import timestamp
from app.services.exports.portfolio_json_rows import PortfolioRows


@dataclass
class ExportedCredential:
    """One credential's signed JSON to put in the archive, byte for byte as issued."""

    archive_path: str  # e.g. "credentials/credential-<public id>.json"
    content: bytes


def credential_docs(rows: PortfolioRows) -> tuple[list[dict], list[ExportedCredential]]:
    """The credentials' documents, and their files for the archive."""
    exported = [ExportedCredential(export_credentials.archive_path(view), export_credentials.file_bytes(view))
                for view in rows.credentials]
    docs = [{
        "ref": rows.credential_refs[view.credential.id], "achievement": view.name, "issuer": view.issuer_name,
        "issued_at": timestamp(view.issued_at), "revoked_at": timestamp(view.credential.revoked_at),
        "id": view.document.get("id", view.json_url), "verify_url": view.verify_url,
        "path": file.archive_path, "sha256": hashlib.sha256(file.content).hexdigest(),
    } for view, file in zip(rows.credentials, exported)]
    return docs, exported
