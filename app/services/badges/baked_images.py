"""A signed credential baked into a badge picture the student can take anywhere: a PNG or an SVG Folio draws (the
achievement's name in a ring), carrying the credential exactly as issued (Open Badges 3.0 baking)."""

from __future__ import annotations

import io
import json

from app.services.badges import baking, drawing


def _payload(credential: dict | str) -> str:
    return credential if isinstance(credential, str) else json.dumps(credential, ensure_ascii=False)


def credential_png(*, credential: dict | str, title: str) -> bytes:
    """A PNG badge named `title` with the credential (JSON, or a VC-JWT string) baked in."""
    target = io.BytesIO()
    baking.bake_png(source=io.BytesIO(drawing.draw_badge_png(title=title)), target=target,
                    payload=_payload(credential), version="3.0")
    return target.getvalue()


def credential_svg(*, credential: dict | str, title: str) -> bytes:
    """An SVG badge named `title` with the credential baked in."""
    return baking.bake_svg(drawing.draw_badge_svg(title=title), payload=_payload(credential), version="3.0")
