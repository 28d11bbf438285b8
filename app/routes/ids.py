"""Ids from a URL, validated once, by type: anything that is not a positive id the database can hold is a 404.

Every table's id is a 32-bit integer on PostgreSQL (and fits SQLite's 64 bits), so a larger number can name no row;
letting it through would reach the database and fail there (a 500) instead of answering "no such thing".
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Form, Path, Query
from pydantic import Field

from app.access.loaders import MAX_ID  # one definition of an id, for routes and services

PathId = Annotated[int, Path(ge=1, le=MAX_ID)]
QueryId = Annotated[int, Query(ge=1, le=MAX_ID)]
# In a form an impossible id is bad input (400), like any other malformed field.
FormId = Annotated[int, Form(ge=1, le=MAX_ID)]
FormIds = Annotated[list[Annotated[int, Field(ge=1, le=MAX_ID)]], Form()]

