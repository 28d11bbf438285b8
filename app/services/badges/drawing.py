"""A plain badge picture (a ring with the achievement's name), drawn when a badge has no picture Folio can keep:
an SVG badge brought in as evidence (SVG can carry scripts, so its drawing isn't kept) or a credential to bake."""

from __future__ import annotations

import io
import textwrap
from xml.sax.saxutils import escape

from PIL import Image, ImageDraw, ImageFont

SIZE = 400
INK = (23, 48, 92)  # dark blue on white: a contrast ratio over 10:1
PAPER = (255, 255, 255)
RING = (214, 160, 32)


def _lines(title: str) -> list[str]:
    return textwrap.wrap(title.strip(), width=16)[:4] or [""]


def draw_badge_png(*, title: str) -> bytes:
    """A 400 px PNG: a gold ring and the title in dark blue."""
    image = Image.new("RGB", (SIZE, SIZE), PAPER)
    draw = ImageDraw.Draw(image)
    draw.ellipse((12, 12, SIZE - 12, SIZE - 12), fill=RING)
    draw.ellipse((40, 40, SIZE - 40, SIZE - 40), fill=PAPER)
    font = ImageFont.load_default(size=34)
    lines = _lines(title)
    line_height = 42
    top = SIZE / 2 - line_height * len(lines) / 2
    for number, line in enumerate(lines):
        draw.text((SIZE / 2, top + number * line_height + line_height / 2), line, fill=INK, font=font, anchor="mm")
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def draw_badge_svg(*, title: str) -> bytes:
    """The same picture as an SVG, named by its <title> for screen readers."""
    lines = _lines(title)
    top = SIZE / 2 - 42 * len(lines) / 2 + 21
    texts = "".join(f'<tspan x="200" y="{top + 42 * number:.0f}">{escape(line)}</tspan>'
                    for number, line in enumerate(lines))
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {SIZE} {SIZE}" width="{SIZE}" height="{SIZE}" '
            f'role="img" aria-labelledby="badge-title"><title id="badge-title">{escape(title)}</title>'
            f'<circle cx="200" cy="200" r="188" fill="rgb{RING}"/><circle cx="200" cy="200" r="160" fill="white"/>'
            f'<text font-family="sans-serif" font-size="34" fill="rgb{INK}" text-anchor="middle" '
            f'dominant-baseline="middle">{texts}</text></svg>').encode("utf-8")
