"""Ids from a URL, validated once, by type: anything that is not a positive id the database can hold is a 404.

Every table's id is a 32-bit integer on PostgreSQL (and fits SQLite's 64 bits), so a larger number can name no row;
letting it through would reach the database and fail there (a 500) instead of answering "no such thing".
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Form, Path, Query
from pydantic import Field

MAX_ID = 2**31 - 1

PathId = Annotated[int, Path(ge=1, le=MAX_ID)]
QueryId = Annotated[int, Query(ge=1, le=MAX_ID)]
# In a form an impossible id is bad input (400), like any other malformed field.
FormId = Annotated[int, Form(ge=1, le=MAX_ID)]
FormIds = Annotated[list[Annotated[int, Field(ge=1, le=MAX_ID)]], Form()]


def valid_id(value: object) -> bool:
    """True for an int that could be a row's id."""
    return isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= MAX_ID
