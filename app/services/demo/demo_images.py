"""Pictures for the demo portfolio, drawn with Pillow (no media is downloaded or shipped)."""

from __future__ import annotations

import math
import random
from pathlib import Path

from PIL import Image, ImageDraw

W, H = 1600, 1200


def _paper(colour=(250, 247, 240)) -> tuple[Image.Image, ImageDraw.ImageDraw]:
    image = Image.new("RGB", (W, H), colour)
    draw = ImageDraw.Draw(image)
    rng = random.Random(7)
    for _ in range(2500):  # a little grain, so it looks photographed rather than flat
        x, y = rng.randrange(W), rng.randrange(H)
        shade = rng.randrange(-12, 12)
        draw.point((x, y), fill=tuple(max(0, min(255, c + shade)) for c in colour))
    return image, draw


def bridge_model() -> Image.Image:
    """A truss bridge made of craft sticks, on a table."""
    image, draw = _paper((214, 226, 235))
    draw.rectangle((0, 850, W, H), fill=(160, 118, 80))
    deck_y, left, right = 760, 220, 1380
    draw.rectangle((left, deck_y, right, deck_y + 28), fill=(222, 184, 135), outline=(120, 80, 40), width=4)
    step = (right - left) // 8
    for i in range(8):
        x0, x1 = left + i * step, left + (i + 1) * step
        top = 520
        draw.line((x0, deck_y, x1, top if i % 2 == 0 else deck_y), fill=(200, 150, 90), width=16)
        draw.line((x0, top, x1, top), fill=(200, 150, 90), width=16)
        draw.line((x0, deck_y, x0, top), fill=(190, 140, 80), width=12)
    draw.line((right, deck_y, right, 520), fill=(190, 140, 80), width=12)
    for x in (left - 40, right + 40):
        draw.rectangle((x - 60, deck_y + 28, x + 60, 860), fill=(120, 120, 130))
    draw.ellipse((1180, 610, 1300, 700), fill=(80, 80, 90))  # the weight it carried
    return image


def volcano_poster() -> Image.Image:
    """A hand-drawn volcano cross-section poster."""
    image, draw = _paper()
    draw.polygon([(200, 1050), (800, 300), (1400, 1050)], fill=(120, 90, 70), outline=(60, 40, 30))
    draw.polygon([(760, 350), (840, 350), (900, 1050), (700, 1050)], fill=(220, 70, 30))
    for i in range(9):
        angle = math.radians(-150 + i * 15)
        draw.line((800, 300, 800 + 260 * math.cos(angle), 300 + 260 * math.sin(angle)), fill=(240, 120, 40), width=10)
    draw.ellipse((690, 1000, 910, 1120), fill=(250, 150, 40))
    draw.rectangle((80, 60, 1520, 180), outline=(30, 30, 30), width=6)
    for x in range(120, 1480, 90):
        draw.line((x, 100, x + 50, 100), fill=(30, 30, 30), width=12)  # the "title", in marker
    return image


def fraction_bars() -> Image.Image:
    """Fraction strips coloured in on squared paper."""
    image, draw = _paper((255, 255, 255))
    for x in range(0, W, 40):
        draw.line((x, 0, x, H), fill=(205, 222, 240), width=2)
    for y in range(0, H, 40):
        draw.line((0, y, W, y), fill=(205, 222, 240), width=2)
    colours = [(230, 90, 80), (250, 180, 60), (90, 170, 100), (70, 140, 210), (150, 100, 200)]
    for row, parts in enumerate((1, 2, 3, 4, 6)):
        top = 120 + row * 200
        width = 1200 // parts
        for part in range(parts):
            x0 = 200 + part * width
            fill = colours[row] if part < max(1, parts // 2) else (250, 250, 250)
            draw.rectangle((x0, top, x0 + width, top + 140), fill=fill, outline=(40, 40, 40), width=5)
    return image


def garden_photo() -> Image.Image:
    """The class garden bed, with seedlings in rows."""
    image, draw = _paper((170, 205, 235))
    draw.rectangle((0, 500, W, H), fill=(110, 80, 55))
    rng = random.Random(3)
    for row in range(5):
        y = 600 + row * 120
        for col in range(12):
            x = 120 + col * 120 + rng.randrange(-15, 15)
            height = rng.randrange(40, 110)
            draw.line((x, y, x, y - height), fill=(60, 140, 60), width=8)
            draw.ellipse((x - 28, y - height - 18, x, y - height + 10), fill=(80, 170, 70))
            draw.ellipse((x, y - height - 18, x + 28, y - height + 10), fill=(80, 170, 70))
    draw.ellipse((1300, 80, 1480, 260), fill=(255, 220, 90))
    return image


DEMO_PICTURES = {
    "bridge-model.jpg": bridge_model,
    "volcano-poster.jpg": volcano_poster,
    "fraction-strips.png": fraction_bars,
    "class-garden.jpg": garden_photo,
}


def write_picture(name: str, folder: Path) -> Path:
    """Draw one demo picture into `folder` (as a camera would hand it over) and return its path."""
    path = folder / name
    image = DEMO_PICTURES[name]()
    if name.endswith(".png"):
        image.save(path, "PNG")
    else:
        image.save(path, "JPEG", quality=88)
    return path
