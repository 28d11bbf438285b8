"""Open Badges baked into uploaded pictures: lifted from a PNG before stripping, or from an SVG redrawn as PNG."""

from __future__ import annotations

from pathlib import Path

from app.i18n import _
from app.services.badges import baking, drawing
from app.services.badges import imported as imported_badges


def png_badge_fields(temp: Path) -> dict:
    """The StoredFile fields for the badge a PNG carries (read before its text chunks are stripped), or none."""
    try:
        with open(temp, "rb") as handle:
            badge = baking.extract_png(handle)
    except baking.MalformedBakedBadge:
        return {"badge_version": "2.0", "badge_unreadable": True}
    except ValueError:
        return {}  # a broken PNG: Pillow refuses it next, with the usual message
    return {"badge_version": badge.version, "badge_payload": badge.payload} if badge else {}


def svg_badge_fields(temp: Path) -> dict | None:
    """The StoredFile fields for the badge an SVG carries, with `temp` redrawn as a plain PNG badge picture; None
    (and `temp` untouched) for any other SVG, or one Folio can't read safely."""
    if temp.stat().st_size > baking.MAX_SVG_BYTES:
        return None
    data = temp.read_bytes()
    try:
        badge = baking.extract_svg(data)
        fields = {"badge_version": badge.version, "badge_payload": badge.payload} if badge else {}
    except baking.MalformedBakedBadge:
        fields = {"badge_version": "2.0", "badge_unreadable": True}
    except ValueError:
        return None
    if not fields:
        return None
    title = imported_badges.title_of(version=fields["badge_version"], payload=fields.get("badge_payload", ""))
    temp.write_bytes(drawing.draw_badge_png(title=title or _("Badge")))
    return fields
