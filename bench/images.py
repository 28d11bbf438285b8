"""Photo cleaning speed: process_image on a 24 MP camera-like JPEG (EXIF with GPS, XMP), upright and rotated.

Run: .venv/bin/python bench/images.py [--runs 5]
Prints the median (and best) of several runs for orientation 1 (upright) and 6 (stored sideways, as phones do).
"""

from __future__ import annotations

import argparse
import io
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.services.portfolio.images import process_image  # noqa: E402

GPS_IFD, MAKE, MODEL, ORIENTATION = 0x8825, 0x010F, 0x0110, 0x0112
XMP = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF><rdf:Description dc:creator="Bench"/></rdf:RDF></x:xmpmeta>'


def photo_24mp(orientation: int) -> bytes:
    """A 6000x4000 JPEG (noise over gradients, ~9 MB like a phone photo) with camera, GPS and orientation EXIF."""
    width, height = 6000, 4000
    noise = Image.effect_noise((width, height), 40)
    across = Image.linear_gradient("L").resize((width, height))
    around = Image.radial_gradient("L").resize((width, height))
    image = Image.merge("RGB", (
        Image.blend(across, noise, 0.35),
        Image.blend(around, noise, 0.25),
        Image.blend(across.transpose(Image.Transpose.FLIP_LEFT_RIGHT), around, 0.5),
    ))
    exif = image.getexif()
    exif[MAKE], exif[MODEL], exif[ORIENTATION] = "PhoneMaker", "Pocket 12", orientation
    exif.get_ifd(GPS_IFD).update({1: "N", 2: (49.0, 15.0, 30.0), 3: "W", 4: (123.0, 7.0, 12.0)})
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=90, exif=exif, xmp=XMP, comment=b"Bench camera")
    return buffer.getvalue()


def cpu_seconds() -> float:
    """CPU time of this process and its finished children (jpegtran): what the work costs on an idle machine."""
    times = os.times()
    return times.user + times.system + times.children_user + times.children_system


def time_process(folder: Path, data: bytes, runs: int) -> tuple[list[float], list[float]]:
    source = folder / "photo.part"
    wall, cpu = [], []
    for _ in range(runs):
        source.write_bytes(data)  # not timed: the upload has already landed on disk
        start, start_cpu = time.perf_counter(), cpu_seconds()
        process_image(source=source, destination=folder / "out" / "p.jpg", thumbs_dir=folder / "out", stem="p")
        wall.append(time.perf_counter() - start)
        cpu.append(cpu_seconds() - start_cpu)
    return wall, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    print(f"Python {platform.python_version()}, {platform.machine()}, Pillow {Image.__version__}")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for orientation, label in ((1, "upright"), (6, "rotated (orientation 6)")):
            data = photo_24mp(orientation)
            wall, cpu = time_process(folder, data, args.runs)
            print(f"24 MP JPEG ({len(data) / 1e6:.1f} MB), {label}: median {statistics.median(wall):.3f} s "
                  f"(best {min(wall):.3f} s), CPU median {statistics.median(cpu):.3f} s, over {args.runs} runs")
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())} on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
