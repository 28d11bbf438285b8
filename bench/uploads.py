"""Upload pipeline benchmarks: (a) cleaning a 24 MP JPEG, (b) memory while streaming a 1 GB upload.

Run: .venv/bin/python bench/uploads.py [--upload-mb 1024]
"""

from __future__ import annotations

import argparse
import io
import platform
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
from functools import partial
from pathlib import Path

import anyio
from PIL import Image, ImageOps
from starlette.requests import Request

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.storage.local import LocalStorage
from app.services.portfolio.images import LARGE_THUMB_PX, process_image  # noqa: E402
from app.services.portfolio.uploads import receive_multipart  # noqa: E402

MB = 1024 * 1024
BOUNDARY = "----FolioBenchBoundary"
CHUNK = 64 * 1024  # what uvicorn typically hands the app per receive()
GPS_IFD, MAKE, ORIENTATION = 0x8825, 0x010F, 0x0112


def photo_24mp(orientation: int) -> bytes:
    """A 6000x4000 JPEG with noise over gradients (~9 MB, like a phone photo) carrying camera and GPS EXIF."""
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
    exif[MAKE] = "PhoneMaker"
    exif[ORIENTATION] = orientation
    exif.get_ifd(GPS_IFD).update({1: "N", 2: (49.0, 15.0, 30.0)})
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=90, exif=exif)
    return buffer.getvalue()


def best_of(runs: int, work) -> float:
    timings = []
    for _ in range(runs):
        start = time.perf_counter()
        work()
        timings.append(time.perf_counter() - start)
    return min(timings)


def bench_image(folder: Path) -> dict[str, float]:
    """process_image on a 24 MP JPEG (upright, and sideways as phones store portrait shots), best of 3."""
    figures: dict[str, float] = {}
    for orientation in (1, 6):
        data = photo_24mp(orientation)
        figures["jpeg_mb"] = len(data) / 1e6
        source = folder / "photo.part"

        def run() -> None:
            source.write_bytes(data)
            process_image(source=source, destination=folder / "out" / "p.jpg", thumbs_dir=folder / "out", stem="p")

        figures[f"process_orientation_{orientation}_s"] = best_of(3, run)
    source.write_bytes(photo_24mp(1))

    def thumbnail(draft: bool) -> None:
        with Image.open(source) as image:
            if draft:
                image.draft("RGB", (LARGE_THUMB_PX, LARGE_THUMB_PX))
            ImageOps.exif_transpose(image, in_place=True)
            image.thumbnail((LARGE_THUMB_PX, LARGE_THUMB_PX), Image.Resampling.LANCZOS)

    figures["thumb_with_draft_s"] = best_of(3, partial(thumbnail, True))
    figures["thumb_full_decode_s"] = best_of(3, partial(thumbnail, False))
    return figures


def image_peak_rss(folder: Path) -> dict[str, float]:
    """Peak RSS growth of process_image alone, each in a fresh interpreter.

    Read from /proc's VmHWM: a child's ru_maxrss starts at its parent's high-water mark on Linux.
    """
    figures = {}
    for orientation in (1, 6):
        source = folder / f"rss{orientation}.part"
        source.write_bytes(photo_24mp(orientation))
        script = (
            "import re, sys; from pathlib import Path; from app.services.portfolio.images import process_image\n"
            "def hwm(): return int(re.search(r'VmHWM:\\s+(\\d+)', Path('/proc/self/status').read_text()).group(1))\n"
            "before = hwm(); folder = Path(sys.argv[1])\n"
            "process_image(source=folder / sys.argv[2], destination=folder / 'rss.jpg', thumbs_dir=folder, stem='rss')\n"
            "print(hwm() - before)"
        )
        output = subprocess.run([sys.executable, "-c", script, str(folder), source.name], check=True,
                                capture_output=True, text=True, cwd=Path(__file__).resolve().parent.parent).stdout
        figures[f"orientation_{orientation}_mb"] = int(output) / 1024
    return figures


def streaming_request(file_bytes: int) -> tuple[Request, int]:
    """A request whose 1 GB body is generated chunk by chunk as the receiver asks for it (never held whole)."""
    head = (f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="files"; filename="lesson.mp4"\r\n'
            f"Content-Type: video/mp4\r\n\r\n").encode() + b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2"
    tail = f"\r\n--{BOUNDARY}--\r\n".encode()
    filler = bytes(range(256)) * (CHUNK // 256)
    filler_total = file_bytes - 24
    total = len(head) + filler_total + len(tail)

    def chunks():
        yield head
        remaining = filler_total
        while remaining > 0:
            piece = filler if remaining >= CHUNK else filler[:remaining]
            remaining -= len(piece)
            yield piece
        yield tail

    source = chunks()

    async def receive() -> dict:
        piece = next(source, None)
        if piece is None:
            return {"type": "http.disconnect"}
        return {"type": "http.request", "body": piece, "more_body": piece is not tail}

    headers = [(b"content-type", f"multipart/form-data; boundary={BOUNDARY}".encode()),
               (b"content-length", str(total).encode())]
    return Request({"type": "http", "method": "POST", "path": "/", "query_string": b"", "headers": headers},
                   receive), total


def stream_once(folder: Path, file_bytes: int) -> float:
    request, total = streaming_request(file_bytes)
    start = time.perf_counter()
    form = anyio.run(partial(receive_multipart, request, store=LocalStorage(folder), owner_id=1,
                             max_file_bytes=file_bytes + MB, quota_remaining=file_bytes + MB))
    elapsed = time.perf_counter() - start
    [stored] = form.files
    assert stored.size_bytes == file_bytes and stored.content_type == "video/mp4", form
    (folder / stored.stored_name).unlink()
    return elapsed


def bench_stream(folder: Path, file_bytes: int) -> dict[str, float]:
    """Peak RSS growth (whole process) and peak Python allocations (tracemalloc) while streaming the upload."""
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    elapsed = stream_once(folder, file_bytes)
    rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    tracemalloc.start()
    stream_once(folder, file_bytes)
    _current, traced_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {
        "seconds": elapsed, "mb_per_s": file_bytes / MB / elapsed,
        "rss_before_mb": rss_before / 1024, "rss_peak_mb": rss_after / 1024,
        "rss_delta_mb": (rss_after - rss_before) / 1024, "tracemalloc_peak_mb": traced_peak / MB,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--upload-mb", type=int, default=1024, help="size of the streamed upload (default 1 GB)")
    args = parser.parse_args()
    print(f"Python {platform.python_version()}, Pillow {Image.__version__}, {platform.machine()}")
    with tempfile.TemporaryDirectory() as folder:
        # Streaming first: ru_maxrss only ever grows, and the image work needs far more memory.
        stream = bench_stream(Path(folder) / "uploads", args.upload_mb * MB)
        print(f"(b) streaming a {args.upload_mb} MB upload: {stream['seconds']:.2f} s "
              f"({stream['mb_per_s']:.0f} MB/s); peak RSS {stream['rss_before_mb']:.0f} -> "
              f"{stream['rss_peak_mb']:.0f} MB (+{stream['rss_delta_mb']:.1f} MB); "
              f"tracemalloc peak {stream['tracemalloc_peak_mb']:.2f} MB")
        image = bench_image(Path(folder))
        print(f"(a) 24 MP JPEG ({image['jpeg_mb']:.1f} MB) through process_image, best of 3: "
              f"{image['process_orientation_1_s']:.2f} s upright, {image['process_orientation_6_s']:.2f} s "
              f"with Orientation 6")
        print(f"    large thumbnail alone: {image['thumb_with_draft_s']:.3f} s with draft, "
              f"{image['thumb_full_decode_s']:.3f} s with a full decode")
        rss = image_peak_rss(Path(folder))
        print(f"    peak RSS growth of process_image: +{rss['orientation_1_mb']:.0f} MB upright, "
              f"+{rss['orientation_6_mb']:.0f} MB with Orientation 6")


if __name__ == "__main__":
    main()
