"""Archives are untrusted: zip-slip, zip bombs, too many files, malformed archives and bad portfolio.json are refused,
with a clear message, and nothing is written (no rows, no stored files, no extracted files left behind)."""

from __future__ import annotations

import hashlib
import io
import json
import stat
import zipfile

import pytest
from sqlmodel import func, select

from app import storage
from app.models import Artefact, CompetencyRating, Goal, Reflection, Showcase, Item
from app.services.exports import archive_export
from app.services.exports import safe_zip
from app.services.exports.archive_import import ImportRefused, import_archive
from tests.factories import make_school, make_user
from tests.media import png
from tests.test_archive_roundtrip import rich_portfolio
from tests.stored import stored_keys

pytestmark = pytest.mark.storage  # on the upload folder and on an S3 server


def make_zip(entries: list[tuple[str | zipfile.ZipInfo, bytes]], *, compression=zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=compression) as archive:
        for name, data in entries:
            archive.writestr(name, data)
    return buffer.getvalue()


def symlink_entry(name: str, target: str) -> tuple[zipfile.ZipInfo, bytes]:
    info = zipfile.ZipInfo(name)
    info.create_system = 3
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    return info, target.encode()


def counts(session, student) -> dict[str, int]:
    session.expire_all()
    models = {"artefacts": (Artefact, Artefact.owner_id), "reflections": (Reflection, Reflection.owner_id),
              "goals": (Goal, Goal.owner_id), "showcases": (Showcase, Showcase.owner_id),
              "ratings": (CompetencyRating, CompetencyRating.student_id), "timeline": (Item, Item.owner_id)}
    return {name: session.exec(select(func.count()).select_from(model).where(column == student.id)).one()
            for name, (model, column) in models.items()}


def written_files(settings, student) -> list[str]:
    """Every file an import could have left: stored uploads of the student, and anything under the jobs folder."""
    found = []
    for root in (settings.upload_dir / f"u{student.id}", settings.upload_dir / ".incoming", settings.jobs_dir):
        if root.exists():
            found += [str(p) for p in root.rglob("*") if p.is_file()]
    return found + stored_keys(settings, f"u{student.id}/") + storage.job_files(settings).list()


@pytest.fixture
def target(session):
    return make_user(session, make_school(session, "New School"))


def refuse(session, settings, target, tmp_path, data: bytes, expected: str, name: str = "upload.zip") -> str:
    path = tmp_path / "incoming-test" / name
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(data)
    before = counts(session, target)
    with pytest.raises(ImportRefused) as refused:
        import_archive(session=session, settings=settings, student=target, archive_path=path)
    assert expected in refused.value.message
    assert counts(session, target) == before
    assert written_files(settings, target) == []
    assert not list(tmp_path.rglob("evil*")), "nothing escaped the extraction folder"
    return refused.value.message


@pytest.mark.parametrize("name", ["../evil.txt", "a/../../evil.txt", "..\\evil.txt"])
def test_zip_slip_is_refused(session, settings, target, tmp_path, name):
    data = make_zip([("portfolio.json", b"{}"), (name, b"gotcha")])
    refuse(session, settings, target, tmp_path, data, "leads outside its folder")


@pytest.mark.parametrize("name", ["/tmp/evil.txt", "C:/evil.txt", "c:\\evil.txt"])
def test_absolute_paths_are_refused(session, settings, target, tmp_path, name):
    data = make_zip([("portfolio.json", b"{}"), (name, b"gotcha")])
    refuse(session, settings, target, tmp_path, data, "absolute path")


def test_symlinks_are_refused(session, settings, target, tmp_path):
    data = make_zip([("portfolio.json", b"{}"), symlink_entry("evil-link", "/etc/passwd")])
    refuse(session, settings, target, tmp_path, data, "symbolic link")


def test_duplicate_names_are_refused(session, settings, target, tmp_path):
    data = make_zip([("portfolio.json", b"{}"), ("files/a.txt", b"one"), ("files/A.txt", b"two")])
    refuse(session, settings, target, tmp_path, data, "twice")


def test_zip_bomb_over_the_unpacked_limit_is_refused(session, settings, target, tmp_path):
    settings.import_max_unpacked_mb = 10
    data = make_zip([("portfolio.json", b"{}"), ("zeros.bin", bytes(50 * 1024 * 1024))])
    assert len(data) < 200_000
    refuse(session, settings, target, tmp_path, data, "more than 10 MB")


def test_zip_bomb_ratio_is_refused_even_under_the_limit(session, settings, target, tmp_path):
    data = make_zip([("portfolio.json", b"{}"), ("zeros.bin", bytes(50 * 1024 * 1024))])
    refuse(session, settings, target, tmp_path, data, "zip bomb")


def test_lying_sizes_are_refused(session, settings, target, tmp_path):
    """The table of contents says 1,000 bytes; the data is 2 MB: the real bytes decide."""
    data = bytearray(make_zip([("portfolio.json", b"{}"), ("big.bin", bytes(range(256)) * 8192)]))
    central = data.rfind(b"PK\x01\x02")  # the last central directory entry: big.bin
    data[central + 24:central + 28] = (1000).to_bytes(4, "little")
    refuse(session, settings, target, tmp_path, bytes(data), "damaged")


def test_too_many_files_are_refused(session, settings, target, tmp_path):
    settings.import_max_files = 5
    data = make_zip([("portfolio.json", b"{}")] + [(f"files/{n}.txt", b"x") for n in range(10)])
    refuse(session, settings, target, tmp_path, data, "at most 5 files")


def test_not_a_zip_is_refused(session, settings, target, tmp_path):
    refuse(session, settings, target, tmp_path, png(), "isn't a Folio archive or a Mahara export", name="photo.png")


def test_truncated_zip_is_refused(session, settings, target, tmp_path):
    data = make_zip([("portfolio.json", b"{}"), ("files/a.bin", bytes(range(256)) * 400)], compression=zipfile.ZIP_STORED)
    refuse(session, settings, target, tmp_path, data[: len(data) // 2], "damaged or incomplete")


def test_archive_without_portfolio_or_leap2a_is_refused(session, settings, target, tmp_path):
    refuse(session, settings, target, tmp_path, make_zip([("notes.txt", b"hello")]), "neither a portfolio.json")


def test_nested_zip_inside_nested_zip_is_refused(session, settings, target, tmp_path):
    innermost = make_zip([("leap2a.xml", b"<feed/>")])
    inner = make_zip([("export.zip", innermost)])
    refuse(session, settings, target, tmp_path, make_zip([("outer.zip", inner)]), "only one level")


def test_zip_beside_other_files_is_refused(session, settings, target, tmp_path):
    inner = make_zip([("leap2a.xml", b"<feed/>")])
    refuse(session, settings, target, tmp_path, make_zip([("portfolio.json", b"{}"), ("other.zip", inner)]),
           "only thing in it")


# --- portfolio.json ------------------------------------------------------------------------------------------


def folio_archive(session, settings, tmp_path) -> tuple[dict, dict[str, bytes]]:
    """A real exported archive, as (portfolio.json, every other entry), to tamper with."""
    student, _items = rich_portfolio(session, settings, tmp_path)
    path = tmp_path / "real.zip"
    archive_export.build_archive(session=session, settings=settings, student=student, out_path=path)
    with zipfile.ZipFile(path) as archive:
        entries = {name: archive.read(name) for name in archive.namelist()}
    return json.loads(entries.pop("portfolio.json")), entries


def rebuild(document: dict | bytes, entries: dict[str, bytes]) -> bytes:
    raw = document if isinstance(document, bytes) else json.dumps(document).encode()
    return make_zip([("portfolio.json", raw), *entries.items()])


def test_invalid_json_is_refused(session, settings, target, tmp_path):
    document, entries = folio_archive(session, settings, tmp_path)
    refuse(session, settings, target, tmp_path, rebuild(b'{"format": "folio-portfolio", ', entries), "isn't valid JSON")


def test_schema_invalid_json_is_refused(session, settings, target, tmp_path):
    document, entries = folio_archive(session, settings, tmp_path)
    del document["artefacts"][0]["title"]
    message = refuse(session, settings, target, tmp_path, rebuild(document, entries), "doesn't follow the Folio portfolio format")
    assert "artefacts/0" in message


def test_wrong_types_are_refused(session, settings, target, tmp_path):
    document, entries = folio_archive(session, settings, tmp_path)
    document["goals"][0]["status"] = "exploded"
    refuse(session, settings, target, tmp_path, rebuild(document, entries), "doesn't follow the Folio portfolio format")


def test_unknown_version_is_refused(session, settings, target, tmp_path):
    document, entries = folio_archive(session, settings, tmp_path)
    document["version"] = 2
    refuse(session, settings, target, tmp_path, rebuild(document, entries), "version 2")


def test_dangling_refs_are_refused(session, settings, target, tmp_path):
    document, entries = folio_archive(session, settings, tmp_path)
    document["reflections"][0]["artefacts"].append("artefact-99")
    refuse(session, settings, target, tmp_path, rebuild(document, entries), "artefact-99")


def test_impossible_dates_are_refused(session, settings, target, tmp_path):
    document, entries = folio_archive(session, settings, tmp_path)
    document["artefacts"][0]["occurred_on"] = "2026-13-45"
    refuse(session, settings, target, tmp_path, rebuild(document, entries), "impossible date")


def test_missing_file_is_refused(session, settings, target, tmp_path):
    document, entries = folio_archive(session, settings, tmp_path)
    path = next(a["file"]["path"] for a in document["artefacts"] if a["file"])
    del entries[path]
    refuse(session, settings, target, tmp_path, rebuild(document, entries), "isn't in the archive")


def test_changed_file_is_refused(session, settings, target, tmp_path):
    document, entries = folio_archive(session, settings, tmp_path)
    path = next(a["file"]["path"] for a in document["artefacts"] if a["title"] == "Essay")
    entries[path] = b"something else entirely\n"
    refuse(session, settings, target, tmp_path, rebuild(document, entries), "isn't the file portfolio.json describes")


def test_a_refused_file_rolls_back_everything_already_imported(session, settings, target, tmp_path):
    """The photo is stored first, then the program disguised as an essay is refused: the photo goes too."""
    document, entries = folio_archive(session, settings, tmp_path)
    essay = next(a for a in document["artefacts"] if a["title"] == "Essay")
    program = b"MZ\x90\x00" + bytes(2000)
    entries[essay["file"]["path"]] = program
    essay["file"]["sha256"] = hashlib.sha256(program).hexdigest()
    essay["file"]["size"] = len(program)
    assert document["artefacts"].index(essay) > 0, "something is imported before the bad file"
    refuse(session, settings, target, tmp_path, rebuild(document, entries), "looks like a program")


def test_over_quota_is_refused(session, settings, target, tmp_path):
    document, entries = folio_archive(session, settings, tmp_path)
    settings.student_quota_mb = 1
    target.storage_used_bytes = 1024 * 1024 - 10
    session.add(target)
    session.commit()
    refuse(session, settings, target, tmp_path, rebuild(document, entries), "storage space")


# --- safe_zip on its own -----------------------------------------------------------------------------------------


def test_safe_zip_extracts_good_archives_and_leaves_nothing_on_refusal(settings, tmp_path):
    good = tmp_path / "good.zip"
    good.write_bytes(make_zip([("a/b.txt", b"hello"), ("c.txt", b"world")]))
    extracted = safe_zip.open_untrusted_zip(good, settings=settings, dest=tmp_path / "out")
    assert sorted(extracted.files) == ["a/b.txt", "c.txt"]
    assert extracted.files["a/b.txt"].read_bytes() == b"hello"
    assert extracted.files["a/b.txt"].resolve().is_relative_to((tmp_path / "out").resolve())

    bad = tmp_path / "bad.zip"
    bad.write_bytes(make_zip([("ok.txt", b"fine"), ("../evil.txt", b"no")]))
    with pytest.raises(safe_zip.ArchiveRefused):
        safe_zip.open_untrusted_zip(bad, settings=settings, dest=tmp_path / "out2")
    assert not (tmp_path / "out2").exists()


def test_safe_zip_unwraps_one_level(settings, tmp_path):
    inner = make_zip([("leap2a.xml", b"<feed/>"), ("files/x.txt", b"x")])
    outer = tmp_path / "outer.zip"
    outer.write_bytes(make_zip([("mahara-export.zip", inner)]))
    extracted = safe_zip.open_untrusted_zip(outer, settings=settings, dest=tmp_path / "out")
    assert extracted.unwrapped and sorted(extracted.files) == ["files/x.txt", "leap2a.xml"]
    assert not (tmp_path / "out" / ".payload.zip").exists()


def test_office_documents_inside_an_archive_are_files_not_nested_archives(settings, tmp_path):
    docx_like = make_zip([("[Content_Types].xml", b"<Types/>"), ("word/document.xml", b"<w/>")])
    path = tmp_path / "a.zip"
    path.write_bytes(make_zip([("portfolio.json", b"{}"), ("files/artefact-1-report", docx_like)]))
    extracted = safe_zip.open_untrusted_zip(path, settings=settings, dest=tmp_path / "out")
    assert extracted.files["files/artefact-1-report"].read_bytes() == docx_like and not extracted.unwrapped
