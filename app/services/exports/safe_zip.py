"""Untrusted ZIP archives (imports) opened safely: everything is checked before anything is written, and the
real bytes are counted while extracting, because what an archive declares can lie.

Refused: more files than settings.import_max_files, more (declared or real) bytes than
settings.import_max_unpacked_mb, absolute names, drive letters, `..`, symbolic links and other special
entries, names that collide once normalised, encrypted entries, compression ratios above MAX_RATIO for one
file or above MAX_ARCHIVE_RATIO for the archive as a whole (declared before anything is written, real while
extracting: many small files, each under RATIO_FLOOR, add up), and archives nested more than one level (a ZIP
inside is accepted only when it is the whole payload, as when a Mahara export was zipped again). A refusal
raises ArchiveRefused with a user-facing message and leaves nothing on disk.
"""

from __future__ import annotations

import re
import shutil
import stat
import unicodedata
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from app.config import Settings
from app.i18n import _, ngettext
from app.services.portfolio.upload_messages import human_size

MAX_RATIO = 200  # uncompressed : compressed, per file, once a file is past RATIO_FLOOR bytes
RATIO_FLOOR = 1024 * 1024
# Unpacked : archive size for the whole archive, once it unpacks to more than ARCHIVE_RATIO_FLOOR. Real portfolios
# are mostly photos, recordings and PDFs (already compressed) beside some text: far below 100 as a whole.
MAX_ARCHIVE_RATIO = 100
ARCHIVE_RATIO_FLOOR = 64 * 1024 * 1024
CHUNK = 64 * 1024
ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")
_DRIVE = re.compile(r"^[A-Za-z]:")


class ArchiveRefused(Exception):
    """An archive Folio won't open; `message` is user-facing and already translated."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass
class ExtractedArchive:
    """What an archive held, on disk under `root`: normalised names (a/b.txt) → their extracted files."""

    root: Path
    files: dict[str, Path] = field(default_factory=dict)
    total_bytes: int = 0
    unwrapped: bool = False  # the payload was a ZIP inside the uploaded ZIP

    def path_of(self, name: str) -> Path | None:
        """The extracted file for an archive name (normalised the same way), or None."""
        try:
            return self.files.get(normalise_name(name))
        except ArchiveRefused:
            return None


def is_zip(path: Path) -> bool:
    """True when the file starts like a ZIP archive."""
    with open(path, "rb") as handle:
        return handle.read(4).startswith(ZIP_MAGIC)


def normalise_name(raw: str) -> str:
    """An entry name as a safe relative POSIX path ("a/b.txt"); ArchiveRefused for anything that could escape."""
    name = unicodedata.normalize("NFC", raw.replace("\\", "/"))
    if "\x00" in name or name.startswith("/") or _DRIVE.match(name):
        raise ArchiveRefused(_("The archive contains a file with an absolute path (“%(name)s”), which Folio refuses.",
                               name=_shown(raw)))
    parts = [part for part in name.split("/") if part not in ("", ".")]
    if any(part == ".." for part in parts):
        raise ArchiveRefused(_("The archive contains a path that leads outside its folder (“%(name)s”), which Folio refuses.",
                               name=_shown(raw)))
    if any(any(not ch.isprintable() for ch in part) for part in parts):
        raise ArchiveRefused(_("The archive contains a file name with control characters, which Folio refuses."))
    return "/".join(parts)


def open_untrusted_zip(path: Path, *, settings: Settings, dest: Path) -> ExtractedArchive:
    """Check and extract the ZIP at `path` into `dest` (created; must not hold anything yet).

    Raises ArchiveRefused (and removes `dest`) when the archive breaks any rule."""
    if dest.exists() and any(dest.iterdir()):
        raise ValueError(f"{dest} is not empty")
    dest.mkdir(parents=True, exist_ok=True)
    try:
        extracted = _extract(path, settings=settings, dest=dest, level=0)
    except BaseException:
        shutil.rmtree(dest, ignore_errors=True)
        raise
    return extracted


# --- the work ----------------------------------------------------------------------------------------------


def _limits(settings: Settings) -> tuple[int, int]:
    return settings.import_max_files, settings.import_max_unpacked_mb * 1024 * 1024


def _extract(path: Path, *, settings: Settings, dest: Path, level: int) -> ExtractedArchive:
    max_files, max_bytes = _limits(settings)
    _check_entry_count(path, max_files)
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError):
        raise ArchiveRefused(_("This isn't a ZIP archive Folio can read: it may be damaged or incomplete.")) from None
    with archive:
        entries = _checked_entries(archive, max_files=max_files, max_bytes=max_bytes)
        packed = path.stat().st_size
        _check_archive_ratio(sum(info.file_size for _name, info in entries), packed)
        files = [(name, info) for name, info in entries if not info.is_dir()]
        nested = [(name, info) for name, info in files if _looks_like_archive(archive, name, info, alone=len(files) == 1)]
        if nested:
            if level > 0:
                raise ArchiveRefused(_("The archive contains another archive inside an archive; Folio opens only one level."))
            if len(files) != 1:
                raise ArchiveRefused(_("The archive contains other archives (“%(name)s”); Folio only opens an archive "
                                       "inside an archive when it is the only thing in it.", name=_shown(nested[0][0])))
            inner = dest / ".payload.zip"
            _copy_entry(archive, nested[0][1], inner, budget=_Budget(max_bytes, packed))
        else:
            root = dest / "archive"
            root.mkdir()
            budget = _Budget(max_bytes, packed)
            result = ExtractedArchive(root=root)
            for name, info in entries:
                target = root / name
                if info.is_dir():
                    target.mkdir(parents=True, exist_ok=True)
                    continue
                target.parent.mkdir(parents=True, exist_ok=True)
                _copy_entry(archive, info, target, budget=budget)
                result.files[name] = target
            result.total_bytes = budget.used
            return result
    try:
        result = _extract(inner, settings=settings, dest=dest, level=level + 1)
    finally:
        inner.unlink(missing_ok=True)
    result.unwrapped = True
    return result


def _check_entry_count(path: Path, max_files: int) -> None:
    """Refuse from the end-of-archive record alone, before the whole table of contents is read into memory."""
    try:
        size = path.stat().st_size
        with open(path, "rb") as handle:
            handle.seek(max(0, size - 65_557))
            tail = handle.read()
    except OSError:
        return
    position = tail.rfind(b"PK\x05\x06")
    if position < 0 or position + 12 > len(tail):
        return  # zipfile decides
    count = int.from_bytes(tail[position + 10:position + 12], "little")
    if count == 0xFFFF:  # ZIP64: the real count is in the ZIP64 record; zipfile reads it, checked again below
        return
    if count > 2 * max_files + 100:  # folders count as entries too; the exact file count is checked later
        raise _too_many(count, max_files)


def _too_many(count: int, max_files: int) -> ArchiveRefused:
    return ArchiveRefused(ngettext(
        "The archive holds %(count)s files; Folio imports at most %(num)s file.",
        "The archive holds %(count)s files; Folio imports at most %(num)s files.", max_files, count=count))


def _checked_entries(archive: zipfile.ZipFile, *, max_files: int, max_bytes: int) -> list[tuple[str, zipfile.ZipInfo]]:
    infos = archive.infolist()
    file_count = sum(1 for info in infos if not info.is_dir())
    if file_count > max_files:
        raise _too_many(file_count, max_files)
    declared = sum(info.file_size for info in infos)
    if declared > max_bytes:
        raise _too_big(max_bytes)
    seen: dict[str, str] = {}
    folders: set[str] = set()
    entries = []
    for info in infos:
        name = normalise_name(info.filename)
        if not name:
            if info.is_dir():
                continue
            raise ArchiveRefused(_("The archive contains a file without a name, which Folio refuses."))
        mode = info.external_attr >> 16
        kind = stat.S_IFMT(mode)
        if info.create_system == 3 and kind and kind not in (stat.S_IFREG, stat.S_IFDIR):
            if kind == stat.S_IFLNK:
                raise ArchiveRefused(_("The archive contains a symbolic link (“%(name)s”), which Folio refuses.",
                                       name=_shown(info.filename)))
            raise ArchiveRefused(_("The archive contains a special file (“%(name)s”), which Folio refuses.",
                                   name=_shown(info.filename)))
        if info.flag_bits & 0x1:
            raise ArchiveRefused(_("The archive is protected with a password; Folio can only import archives without one."))
        key = name.casefold()
        if key in seen and not (info.is_dir() and seen[key] == "dir"):
            raise ArchiveRefused(_("The archive contains “%(name)s” twice; Folio refuses archives with repeated names.",
                                   name=_shown(name)))
        seen[key] = "dir" if info.is_dir() else "file"
        parents = PurePosixPath(name).parents
        for parent in list(parents)[:-1]:
            folders.add(str(parent).casefold())
        entries.append((name, info))
    for name, kind in seen.items():
        if kind == "file" and name in folders:
            raise ArchiveRefused(_("The archive contains “%(name)s” both as a file and as a folder, which Folio refuses.",
                                   name=_shown(name)))
    return entries


def _looks_like_archive(archive: zipfile.ZipFile, name: str, info: zipfile.ZipInfo, *, alone: bool) -> bool:
    """A nested archive: named .zip, or (when it is the only file) anything that starts like a ZIP.

    Other ZIP-shaped entries (office documents are ZIPs too) are extracted as files, never opened as archives:
    the import's file checks decide about them."""
    if name.lower().endswith(".zip"):
        return True
    if not alone or info.file_size < 4:
        return False
    try:
        with archive.open(info) as handle:
            return handle.read(4).startswith(ZIP_MAGIC)
    except (zipfile.BadZipFile, OSError, EOFError, zlib.error, NotImplementedError, RuntimeError):
        raise ArchiveRefused(_("This isn't a ZIP archive Folio can read: it may be damaged or incomplete.")) from None


def _ratio_limit(packed: int) -> int:
    return max(ARCHIVE_RATIO_FLOOR, MAX_ARCHIVE_RATIO * max(packed, 1))


def _check_archive_ratio(unpacked: int, packed: int) -> None:
    """Refuse, before anything is written, an archive whose declared contents are far larger than itself."""
    if unpacked > _ratio_limit(packed):
        raise _bomb(unpacked, packed)


def _bomb(unpacked: int, packed: int) -> ArchiveRefused:
    return ArchiveRefused(_("The archive unpacks to %(size)s or more from only %(packed)s, far more than real work "
                            "takes (a “zip bomb”), so Folio refuses it.",
                            size=human_size(unpacked), packed=human_size(packed)))


class _Budget:
    """The real bytes extracted so far, against the unpacked limit and the whole archive's ratio."""

    def __init__(self, max_bytes: int, packed: int) -> None:
        self.max_bytes = max_bytes
        self.packed = packed
        self.ratio_limit = _ratio_limit(packed)
        self.used = 0


def _copy_entry(archive: zipfile.ZipFile, info: zipfile.ZipInfo, target: Path, *, budget: _Budget) -> None:
    """Extract one entry, counting the real bytes (the declared size and ratio may lie)."""
    written = 0
    limit_per_ratio = max(RATIO_FLOOR, MAX_RATIO * max(info.compress_size, 1))
    try:
        with archive.open(info) as source, open(target, "xb") as out:
            while chunk := source.read(CHUNK):
                written += len(chunk)
                budget.used += len(chunk)
                if budget.used > budget.max_bytes:
                    raise _too_big(budget.max_bytes)
                if budget.used > budget.ratio_limit:  # the sizes declared lied: the real bytes decide
                    raise _bomb(budget.used, budget.packed)
                if written > limit_per_ratio:
                    raise ArchiveRefused(_("“%(name)s” in the archive unpacks to far more than its packed size "
                                           "(a “zip bomb”), so Folio refuses the archive.", name=_shown(info.filename)))
                out.write(chunk)
    except ArchiveRefused:
        raise
    except NotImplementedError:
        raise ArchiveRefused(_("The archive uses a compression method Folio can't read.")) from None
    except RuntimeError:
        raise ArchiveRefused(_("The archive is protected with a password; Folio can only import archives without one.")) from None
    except (zipfile.BadZipFile, EOFError, zlib.error, ValueError):
        raise ArchiveRefused(_("This isn't a ZIP archive Folio can read: it may be damaged or incomplete.")) from None


def _too_big(max_bytes: int) -> ArchiveRefused:
    return ArchiveRefused(_("The archive unpacks to more than %(limit)s MB, the most Folio accepts.",
                            limit=max_bytes // (1024 * 1024)))


def _shown(name: str) -> str:
    """A name fit to show in a message: printable and not too long."""
    cleaned = "".join(ch if ch.isprintable() else "?" for ch in name)
    return cleaned if len(cleaned) <= 80 else cleaned[:77] + "…"
