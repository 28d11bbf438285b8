"""Test helpers for the JSON API: personal access tokens made through the Account page, as a person would."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

TOKEN = re.compile(r"folio_pat_[A-Za-z0-9_-]{20,}")


def make_token(client: TestClient, *, name: str = "My script", scopes: str = "read write", expiry: str = "30",
               expiry_date: str = "") -> str:
    """A new token from the signed-in `client`'s Account page (the page shows it once)."""
    response = client.post("/account/tokens", data={"token_name": name, "token_scopes": scopes,
                                                    "token_expiry": expiry, "token_expiry_date": expiry_date})
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    return TOKEN.search(response.text).group(0)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
