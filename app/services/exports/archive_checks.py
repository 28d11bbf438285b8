"""Checking a Folio archive before anything is written: portfolio.json's format, version, schema, references and
dates, and each listed file's presence, size, checksum and the student's quota. Importing is
app.services.exports.archive_import."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from app.config import Settings
from app.i18n import _
from app.models import User
from app.services.exports import portfolio_json
from app.services.exports import portfolio_json_files
from app.services.portfolio.upload_messages import human_size
from app.services.exports.safe_zip import ArchiveRefused, normalise_name

MAX_JSON_BYTES = 64 * 1024 * 1024


class ImportRefused(Exception):
    """An archive that can't be imported; `message` is user-facing and already translated. Nothing was kept."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def read_limited(path: Path, limit: int) -> bytes:
    """A small file of the archive (portfolio.json, leap2a.xml) read whole, refused beyond `limit` bytes."""
    if path.stat().st_size > limit:
        raise ImportRefused(_("A file in this archive is too large to import."))
    return path.read_bytes()


def load_document(path: Path) -> dict:
    """portfolio.json read and validated (format, version, schema, refs); ImportRefused says what is wrong."""
    raw = read_limited(path, MAX_JSON_BYTES)
    try:
        document = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise ImportRefused(_("portfolio.json in this archive isn't valid JSON; the archive may be damaged.")) from None
    check_document(document)
    return document


def check_document(document: object) -> None:
    """Refuse anything that isn't a valid version 1 portfolio.json."""
    import jsonschema

    if not isinstance(document, dict) or document.get("format") != portfolio_json.FORMAT:
        raise ImportRefused(_("portfolio.json in this archive isn't a Folio portfolio."))
    version = document.get("version")
    if version != portfolio_json.VERSION:
        raise ImportRefused(_("This archive uses version %(version)s of the Folio portfolio format; this Folio can "
                              "only import version %(supported)s.", version=str(version)[:20],
                              supported=portfolio_json.VERSION))
    validator = jsonschema.Draft202012Validator(portfolio_json.load_schema())
    error = jsonschema.exceptions.best_match(validator.iter_errors(document))
    if error is not None:
        where = "/".join(str(part) for part in error.absolute_path) or "/"
        raise ImportRefused(_("portfolio.json in this archive doesn't follow the Folio portfolio format (at “%(where)s”).",
                              where=where[:200]))
    _check_refs(document)
    _check_dates(document)


def _check_refs(document: dict) -> None:
    def refs_of(key: str) -> set[str]:
        found = [item["ref"] for item in document[key]]
        if len(found) != len(set(found)):
            raise ImportRefused(_("portfolio.json in this archive names the same item twice."))
        return set(found)

    artefacts, reflections, goals = refs_of("artefacts"), refs_of("reflections"), refs_of("goals")
    credentials = refs_of("credentials") if "credentials" in document else set()  # older archives have none
    known = artefacts | reflections | goals | credentials
    wanted: list[str] = []
    for reflection in document["reflections"]:
        wanted += reflection["artefacts"] + reflection["goals"] + ([reflection["audio"]] if reflection["audio"] else [])
    for goal in document["goals"]:
        if goal["closing_reflection"]:
            wanted.append(goal["closing_reflection"])
        for checkin in goal["checkins"]:
            wanted += checkin["evidence"]
            if any(index >= len(goal["steps"]) for index in checkin["steps"]):
                raise ImportRefused(_("portfolio.json in this archive refers to a goal step that isn't there."))
    wanted += [artefact["audio_caption"] for artefact in document["artefacts"] if artefact.get("audio_caption")]
    for rating in document["ratings"]:
        wanted += rating["artefacts"]
    wanted += [feedback["on"] for feedback in document["feedback"]]
    wanted += [comment["audio"] for comment in feedback_comments(document) if comment.get("audio")]
    for showcase in document["showcases"]:
        for item in showcase["items"]:
            if "ref" in item:
                if not item["ref"].startswith(item["type"] + "-"):
                    raise ImportRefused(_("portfolio.json in this archive has a showcase item of the wrong type."))
                wanted.append(item["ref"])
    missing = sorted(set(wanted) - known)
    if missing:
        raise ImportRefused(_("portfolio.json in this archive refers to “%(ref)s”, which isn't in it.", ref=missing[0]))
    kinds = {artefact["ref"]: artefact["kind"] for artefact in document["artefacts"]}
    for artefact in document["artefacts"]:
        if artefact["kind"] == "file" and artefact["file"] is None:
            raise ImportRefused(_("portfolio.json in this archive has a file without its details."))
        caption = artefact.get("audio_caption")  # optional: older archives have none
        if caption is not None and (caption == artefact["ref"] or kinds[caption] != "file"):
            raise ImportRefused(_("portfolio.json in this archive gives a piece of evidence a spoken caption that "
                                  "isn't a recording."))


def _check_dates(document: dict) -> None:
    def walk(value: object, key: str = "") -> None:
        if isinstance(value, dict):
            for name, inner in value.items():
                walk(inner, name)
        elif isinstance(value, list):
            for inner in value:
                walk(inner, key)
        elif isinstance(value, str) and (key.endswith("_at") or key in ("occurred_on", "target_date")):
            try:
                if key.endswith("_at"):
                    portfolio_json.parse_timestamp(value)
                else:
                    date.fromisoformat(value)
            except ValueError:
                raise ImportRefused(_("portfolio.json in this archive has an impossible date (“%(value)s”).",
                                      value=value[:40])) from None

    walk(document)


def check_files(document: dict, files: dict[str, Path], settings: Settings, student: User,
                already_imported: set[str] = frozenset()) -> dict[str, Path]:
    """Each file artefact's extracted file (by ref), checked for presence, size, checksum and the student's quota;
    refs in `already_imported` (stored by an earlier run of the same import) are left out."""
    found: dict[str, Path] = {}
    total = 0
    for artefact in document["artefacts"]:
        info = artefact["file"]
        if artefact["kind"] != "file" or not info or info["path"] is None or artefact["ref"] in already_imported:
            continue
        try:
            name = normalise_name(info["path"])
        except ArchiveRefused as refused:
            raise ImportRefused(refused.message) from None
        path = files.get(name)
        if path is None:
            raise ImportRefused(_("“%(name)s” is listed in portfolio.json but isn't in the archive.", name=name[:120]))
        size = path.stat().st_size
        if size > settings.max_upload_bytes:
            raise ImportRefused(_("“%(name)s” is %(size)s; the limit is %(limit)s.", name=info["original_name"][:120],
                                  size=human_size(size), limit=human_size(settings.max_upload_bytes)))
        if info["sha256"] and portfolio_json_files.sha256_of(path) != info["sha256"]:
            raise ImportRefused(_("“%(name)s” in the archive isn't the file portfolio.json describes; the archive may "
                                  "be damaged.", name=name[:120]))
        total += size
        found[artefact["ref"]] = path
    space_left = settings.student_quota_bytes - student.storage_used_bytes
    if total > space_left:
        raise ImportRefused(_("The files in this archive take %(size)s, but only %(space)s of the storage space is left.",
                              size=human_size(total), space=human_size(max(0, space_left))))
    return found


def feedback_comments(document: dict) -> list[dict]:
    """Every comment of the archive's feedback, replies included."""
    return [comment for feedback in document["feedback"] for comment in (feedback, *feedback["replies"])]
