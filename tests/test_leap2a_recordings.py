"""Leap2A round trip of a spoken reflection: Folio's archive (leap2a.xml and its files) imported again keeps the
reflection's recording linked, heard with the reflection and never listed as evidence of its own."""

from __future__ import annotations

import xml.etree.ElementTree as ET
import zipfile

import pytest
from sqlmodel import select

from app.access import attached_recordings_among
from app.models import Artefact, Audience, Reflection, ReflectionArtefact
from app.services.exports import archive_export
from app.services.exports.leap2a import ATOM
from app.services.exports.leap2a_import import import_leap2a
from app.services.portfolio.artefacts import ArtefactInput, create_file_artefacts
from app.services.portfolio.reflections import ReflectionInput, create_reflection
from tests.factories import login, make_class, make_school, make_user
from tests.media import png
from tests.test_archive_roundtrip import _store
from tests.test_filetypes import wav_bytes

pytestmark = pytest.mark.storage


def test_a_spoken_reflection_keeps_its_recording_through_export_and_import(client, client_from, session, settings,
                                                                          tmp_path):
    student = make_user(session, make_school(session, "Riverside Elementary"))
    photo = create_file_artefacts(session=session, owner=student, files=[_store(settings, tmp_path, student, "bridge.png", png())],
                                  data=ArtefactInput(title="Bridge", audience=Audience.class_))[0]
    audio = create_file_artefacts(session=session, owner=student, files=[_store(settings, tmp_path, student, "said.wav", wav_bytes())],
                                  data=ArtefactInput(title="What I said", audience=Audience.private))[0]
    create_reflection(session=session, owner=student, audio_artefact_id=audio.id, data=ReflectionInput(
        title="About my bridge", body="", audience=Audience.class_, artefact_ids={photo.id}))
    session.commit()

    path = tmp_path / "archive.zip"
    archive_export.build_archive(session=session, settings=settings, student=student, out_path=path)
    files = {}
    with zipfile.ZipFile(path) as archive:
        xml = archive.read("leap2a.xml")
        for name in archive.namelist():
            if name.startswith("files/"):
                target = tmp_path / "extracted" / name
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(archive.read(name))
                files[name] = target
    entries = {e.findtext(f"{{{ATOM}}}id"): e for e in ET.fromstring(xml).findall(f"{{{ATOM}}}entry")}
    post = next(e for e in entries.values() if e.findtext(f"{{{ATOM}}}title") == "About my bridge")
    attached = [link.get("href") for link in post.findall(f"{{{ATOM}}}link[@rel='leap2:has_attachment']")]
    assert attached == [f"portfolio:artefact{audio.id}"]

    school_b = make_school(session, "Hillside Middle")
    other, classmate, stranger = make_user(session, school_b), make_user(session, school_b), make_user(session, school_b)
    make_class(session, school_b, students=[other, classmate])
    summary = import_leap2a(session=session, settings=settings, student=other, xml_bytes=xml, files=files)
    session.commit()
    assert summary.reflections == 1 and summary.artefacts == 2 and not summary.not_imported
    reflection = session.exec(select(Reflection).where(Reflection.owner_id == other.id)).one()
    recording = session.get(Artefact, reflection.audio_artefact_id)
    assert recording is not None and recording.owner_id == other.id and recording.media_kind.value == "audio"
    assert recording.title == "What I said" and recording.audience is Audience.private
    assert attached_recordings_among(session=session, ids=[recording.id]) == {recording.id}
    evidence = set(session.exec(select(ReflectionArtefact.artefact_id)
                                .where(ReflectionArtefact.reflection_id == reflection.id)).all())
    new_photo = session.exec(select(Artefact).where(Artefact.owner_id == other.id, Artefact.title == "Bridge")).one()
    assert evidence == {new_photo.id}, "the recording is heard with the reflection, not linked as its evidence"

    # Heard with the reflection by whoever may read it (imports come in private: shared with the class, then a
    # classmate hears it too); nobody else.
    login(client, other)
    assert f'/files/{recording.id}/original' in client.get(f"/reflections/{reflection.id}").text
    reflection.audience = Audience.class_
    session.add(reflection)
    session.commit()
    for address, person, status in (("203.0.113.7", classmate, 200), ("203.0.113.8", stranger, 404)):
        viewer = client_from(address)
        login(viewer, person)
        assert viewer.get(f"/files/{recording.id}/original").status_code == status, person.display_name
