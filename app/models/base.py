"""Shared column helpers for all models."""

from datetime import UTC, datetime


def utcnow() -> datetime:
    """Now, timezone-aware in UTC (SQLModel's UTCDateTime stores and returns it so on both databases)."""
    return datetime.now(UTC)
