"""portfolio.json's format: its version and schema, how it writes values (timestamps, days, refs), and its text.

The document is a student's whole portfolio (docs/portfolio-json.md, schema in app/schemas/portfolio-v1.schema.json),
built section by section by app.services.exports.portfolio_json_document. Items refer to each other by stable refs
("artefact-3", "reflection-1", "goal-2"), never database ids: refs are given in a fixed order (created_at, then title,
then kind), so two exports of the same portfolio are identical apart from `exported_at`, and an export of an imported
portfolio gives the same refs again.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

FORMAT = "folio-portfolio"
VERSION = 1
SCHEMA_PATH = Path(__file__).resolve().parents[2] / "schemas" / "portfolio-v1.schema.json"  # app/schemas


def load_schema() -> dict:
    """The JSON Schema (draft 2020-12) of portfolio.json version 1."""
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


def timestamp(value: datetime | None) -> str | None:
    """A datetime as ISO 8601 in UTC ("2026-11-23T09:30:00.123456+00:00"); naive values are taken as UTC."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat()


def parse_timestamp(value: str | None) -> datetime | None:
    """The inverse of timestamp(): an aware UTC datetime, or None."""
    if not value:
        return None
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def day(value: date | None) -> str | None:
    return value.isoformat() if value else None


def order_key(created: datetime, title: str, *rest) -> tuple:
    """The order refs are given in: creation time, then title, then whatever tells the rest apart."""
    return (timestamp(created) or "", title, *rest)


def ref_key(ref: str) -> tuple[str, int]:
    """Sorts refs by kind, then number ("artefact-2" before "artefact-10")."""
    kind, _, number = ref.rpartition("-")
    return (kind, int(number) if number.isdigit() else 0)


def sorted_refs(ids: list[int] | None, table: dict[int, str]) -> list[str]:
    """The refs of those of `ids` that have one in `table`, in ref order."""
    return sorted((table[i] for i in ids or [] if i in table), key=ref_key)


def dumps(document: dict) -> str:
    """portfolio.json's text: UTF-8, sorted keys, two-space indent (so two exports compare line by line)."""
    return json.dumps(document, ensure_ascii=False, indent=2, sort_keys=True) + "\n"
