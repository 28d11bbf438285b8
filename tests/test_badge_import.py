"""Badges brought in as evidence, over HTTP: a baked Open Badges 2.0 or 3.0 PNG/SVG is recognised, its assertion
kept beside the cleaned image (not as hidden metadata), shown as a badge, and checked offline where that is possible.
Fixtures: tests/fixtures/badges (made by make_fixtures.py there)."""

from __future__ import annotations

import base64
import html
import io
import json
from pathlib import Path

import pytest
from PIL import Image
from sqlmodel import func, select

from app.models import Artefact, Audience, BadgeAssertion, BadgeCheck, MediaKind, Role, User
from app.services.badges import baking
from tests.factories import link_guardian, login, make_class, make_school, make_user
from tests.media import GPS_IFD
from tests.stored import stored_bytes, stored_keys

FIXTURES = Path(__file__).parent / "fixtures" / "badges"


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def upload(client, name: str, data: bytes, content_type: str = "image/png", **fields):
    parts = [("files", (name, data, content_type))] + [(k, (None, v)) for k, v in fields.items()]
    return client.post("/artefacts/upload", files=parts)


def page_text(response) -> str:
    return html.unescape(response.text)


@pytest.fixture
def student(session):
    return make_user(session, make_school(session))


def _only_artefact(session) -> Artefact:
    return session.exec(select(Artefact)).one()


def test_a_badgr_png_is_shown_as_a_badge_whose_hosted_check_needs_the_internet(client, session, student, settings):
    login(client, student)
    response = upload(client, "young-botanist.png", fixture("ob2-hosted-badgr.png"), title="My botany badge")
    assert response.status_code == 303
    artefact = _only_artefact(session)
    badge = session.exec(select(BadgeAssertion)).one()
    assert (badge.artefact_id, badge.version, badge.verification) == (artefact.id, "2.0", BadgeCheck.needs_internet)
    assert json.loads(badge.payload)["id"] == "https://api.badgr.io/public/assertions/8bYm7TbZQe6m2d9uAqL1xA"
    page = page_text(client.get(f"/artefacts/{artefact.id}"))
    for words in ("Young Botanist", "Riverside Botanical Garden", "https://botanic.example.org", "growth journal",
                  "https://example.org/botany/criteria", "Open Badges 2.0",
                  "Can't be checked without the internet: shown as the issuer described it."):
        assert words in page, words
    assert f'src="/files/{artefact.id}/large"' in page  # the badge's own picture
    # The assertion lives in its row, not as metadata left in the stored picture.
    stored = stored_bytes(settings, artefact.stored_name)
    assert Image.open(io.BytesIO(stored)).text == {}
    assert b"openbadges" not in stored and b"Badgr baker" not in stored
    assert 'class="chip chip--badge badge-check--needs_internet">Badge</span>' in client.get("/artefacts").text


@pytest.mark.parametrize("name", ["ob3-didkey.png", "ob3-didkey-proof.png"])  # a VC-JWT; an eddsa-rdfc-2022 proof
def test_an_ob3_credential_signed_by_a_did_key_verifies_offline(client, session, student, name):
    login(client, student)
    assert upload(client, "robotics.png", fixture(name)).status_code == 303
    badge = session.exec(select(BadgeAssertion)).one()
    assert (badge.version, badge.verification) == ("3.0", BadgeCheck.verified)
    assert (badge.achievement_name, badge.issuer_name, str(badge.issued_on)) == (
        "Robotics Level 1", "Riverside Science Club", "2026-05-02")
    page = page_text(client.get(f"/artefacts/{badge.artefact_id}"))
    assert "Verified: signed with the issuer's own key, and unchanged since it was issued." in page
    assert "Build a robot that follows a black line" in page and "Does not verify" not in page


def _tampered_ob3(name: str) -> bytes:
    original = baking.extract_png_bytes(fixture(name))
    if original.payload.startswith("{"):
        credential = json.loads(original.payload)
        credential["credentialSubject"]["achievement"]["name"] = "Robotics Level 5"
        return baking.bake_png_bytes(fixture(name), payload=json.dumps(credential), version="3.0")
    header, claims, signature = original.payload.split(".")
    decoded = json.loads(base64.urlsafe_b64decode(claims + "=" * (-len(claims) % 4)))
    decoded["vc"]["credentialSubject"]["achievement"]["name"] = "Robotics Level 5"
    forged = base64.urlsafe_b64encode(json.dumps(decoded).encode()).rstrip(b"=").decode()
    return baking.bake_png_bytes(fixture(name), payload=f"{header}.{forged}.{signature}", version="3.0")


@pytest.mark.parametrize("name", ["ob3-didkey.png", "ob3-didkey-proof.png"])
def test_a_tampered_ob3_credential_does_not_verify(client, session, student, name):
    login(client, student)
    assert upload(client, "robotics.png", _tampered_ob3(name)).status_code == 303
    badge = session.exec(select(BadgeAssertion)).one()
    assert (badge.achievement_name, badge.verification) == ("Robotics Level 5", BadgeCheck.does_not_verify)
    page = page_text(client.get(f"/artefacts/{badge.artefact_id}"))
    assert "Does not verify: this badge was changed after it was issued" in page and "Verified:" not in page


def test_an_ob3_credential_signed_by_a_key_that_is_not_its_issuers_does_not_verify(client, session, student):
    from cryptography.hazmat.primitives.asymmetric import ed25519

    from tests.fixtures.badges import make_fixtures as made

    stranger = ed25519.Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
    credential = made.ob3_credential(made.issuer_did())  # names the club as issuer...
    token = made.ob3_vc_jwt(credential, stranger)  # ...but a stranger signed it
    login(client, student)
    assert upload(client, "robotics.png", made.baked_png("openbadgecredential", token)).status_code == 303
    assert session.exec(select(BadgeAssertion)).one().verification is BadgeCheck.does_not_verify


def test_an_svg_badge_is_kept_as_a_drawn_picture_and_its_assertion(client, session, student, settings):
    login(client, student)
    assert upload(client, "debate.svg", fixture("ob2-baked.svg"), "image/svg+xml").status_code == 303
    artefact = _only_artefact(session)
    assert (artefact.media_kind, artefact.content_type, artefact.original_name) == (
        MediaKind.image, "image/png", "debate.svg")
    stored = stored_bytes(settings, artefact.stored_name)
    assert stored.startswith(b"\x89PNG") and b"<svg" not in stored  # SVG can run scripts: its drawing isn't kept
    badge = session.exec(select(BadgeAssertion)).one()
    assert (badge.version, badge.achievement_name, badge.verification) == (
        "2.0", "Debate Finalist", BadgeCheck.needs_internet)
    page = page_text(client.get(f"/artefacts/{artefact.id}"))
    assert "Debate Finalist" in page and "Reached the final of the regional schools' debate." in page


def test_an_svg_without_a_badge_or_with_entities_is_still_refused_and_leaves_nothing(client, session, student, settings):
    login(client, student)
    plain = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
    bomb = (b'<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>'
            b'<svg xmlns="http://www.w3.org/2000/svg" xmlns:openbadges="http://openbadges.org">'
            b'<openbadges:assertion verify="https://example.org/a">&b;</openbadges:assertion></svg>')
    for data in (plain, bomb):
        response = upload(client, "drawing.svg", data, "image/svg+xml")
        assert response.status_code == 422
        assert "could run scripts" in page_text(response)
    assert session.exec(select(func.count()).select_from(Artefact)).one() == 0
    assert session.exec(select(func.count()).select_from(BadgeAssertion)).one() == 0
    assert stored_keys(settings) == []
    assert not [p for p in (settings.upload_dir / ".incoming").rglob("*") if p.is_file()]


def test_a_badge_whose_assertion_is_broken_is_kept_as_a_plain_picture_with_a_note(client, session, student):
    login(client, student)
    assert upload(client, "broken.png", fixture("ob2-malformed.png")).status_code == 303
    artefact = _only_artefact(session)
    badge = session.exec(select(BadgeAssertion)).one()
    assert badge.verification is BadgeCheck.unreadable and badge.payload.startswith('{"@context"')
    response = client.get(f"/artefacts/{artefact.id}")
    assert response.status_code == 200
    assert "This picture carried a badge Folio couldn't read, so it is kept as a plain picture." in page_text(response)


def test_a_camera_photo_loses_its_gps_and_is_no_badge(client, session, student, settings):
    login(client, student)
    original = fixture("camera-gps.jpg")
    assert Image.open(io.BytesIO(original)).getexif().get_ifd(GPS_IFD)
    assert upload(client, "playground.jpg", original, "image/jpeg").status_code == 303
    artefact = _only_artefact(session)
    for name in (artefact.stored_name, artefact.thumb_small, artefact.thumb_large, artefact.thumb_print):
        data = stored_bytes(settings, name)
        assert len(Image.open(io.BytesIO(data)).getexif()) == 0 and b"PhoneMaker" not in data, name
    assert session.exec(select(func.count()).select_from(BadgeAssertion)).one() == 0
    assert "imported-badge" not in client.get(f"/artefacts/{artefact.id}").text


def test_a_badge_follows_its_artefacts_audience(client, session, new_client):
    school = make_school(session)
    student, classmate = make_user(session, school), make_user(session, school)
    guardian = make_user(session, school, Role.guardian)
    make_class(session, school, students=[student, classmate])
    link_guardian(session, guardian, student)
    login(client, student)
    upload(client, "robotics.png", fixture("ob3-didkey.png"), audience=Audience.family.value)
    artefact = _only_artefact(session)
    family, other = new_client(), new_client()
    login(family, guardian)
    login(other, classmate)
    assert "Robotics Level 1" in family.get(f"/artefacts/{artefact.id}").text
    assert other.get(f"/artefacts/{artefact.id}").status_code == 404
    assert other.get(f"/files/{artefact.id}/original").status_code == 404


def test_a_refused_upload_keeps_no_badge_and_no_file_and_deleting_removes_the_badge(client, session, student, settings):
    login(client, student)
    data = fixture("ob3-didkey.png")
    user = session.get(User, student.id)
    user.storage_used_bytes = settings.student_quota_bytes - len(data) // 2  # no room for it
    session.add(user)
    session.commit()
    assert upload(client, "robotics.png", data).status_code == 422
    assert session.exec(select(func.count()).select_from(BadgeAssertion)).one() == 0
    assert stored_keys(settings) == []
    user.storage_used_bytes = 0
    session.add(user)
    session.commit()
    assert upload(client, "robotics.png", data).status_code == 303
    artefact = _only_artefact(session)
    assert client.post(f"/artefacts/{artefact.id}/delete").status_code == 303
    session.expire_all()
    assert session.exec(select(func.count()).select_from(BadgeAssertion)).one() == 0


def test_a_badge_travels_in_the_archive_and_is_recognised_again_on_import(client, session, student, settings, tmp_path):
    import zipfile

    import jsonschema

    from app.services.exports import archive_export, archive_import, portfolio_json

    login(client, student)
    assert upload(client, "robotics.png", fixture("ob3-didkey.png")).status_code == 303
    original = session.exec(select(BadgeAssertion)).one()
    archive_export.build_archive(session=session, settings=settings, student=student, out_path=tmp_path / "a.zip")
    with zipfile.ZipFile(tmp_path / "a.zip") as archive:
        document = json.loads(archive.read("portfolio.json"))
    jsonschema.Draft202012Validator(portfolio_json.load_schema()).validate(document)
    assert document["artefacts"][0]["file"]["badge"] == {"version": "3.0", "payload": original.payload}
    other = make_user(session, make_school(session))
    archive_import.import_archive(session=session, settings=settings, student=other, archive_path=tmp_path / "a.zip")
    session.commit()
    copied = session.exec(select(BadgeAssertion).where(BadgeAssertion.id != original.id)).one()
    assert session.get(Artefact, copied.artefact_id).owner_id == other.id
    assert (copied.payload, copied.verification, copied.achievement_name) == (
        original.payload, BadgeCheck.verified, "Robotics Level 1")


def test_the_timeline_shows_which_evidence_is_a_badge_to_the_student_and_their_teacher(client, session, new_client):
    school = make_school(session)
    student, teacher = make_user(session, school), make_user(session, school, Role.teacher)
    make_class(session, school, teachers=[teacher], students=[student])
    login(client, student)
    upload(client, "robotics.png", _tampered_ob3("ob3-didkey.png"))
    upload(client, "plain.png", _plain_png())
    chip = 'class="chip chip--badge badge-check--does_not_verify">Badge · does not verify</span>'
    home = client.get("/", follow_redirects=True).text
    assert home.count("chip--badge") == 1 and chip in home
    staff = new_client()
    login(staff, teacher)
    assert chip in staff.get(f"/students/{student.id}").text


def _plain_png() -> bytes:
    from tests.media import png

    return png()


@pytest.mark.parametrize("kind", ["png", "svg"])
def test_a_credential_downloaded_as_a_badge_picture_carries_it_exactly_and_verifies_when_brought_back(
        client, session, new_client, kind):
    from tests.test_badges import award_one, build_world

    world = build_world(session)
    credential = award_one(client, session, world)
    maya = new_client()
    login(maya, world["maya"])
    page = page_text(maya.get(f"/credentials/{credential.public_id}"))
    assert f'href="/credentials/{credential.public_id}/image.{kind}"' in page
    assert f"Download as image ({kind.upper()})" in page
    picture = maya.get(f"/credentials/{credential.public_id}/image.{kind}")
    assert picture.status_code == 200 and picture.headers["content-type"].startswith(f"image/{kind}")
    assert picture.headers["content-disposition"] == f'attachment; filename="credential-{credential.public_id}.{kind}"'
    baked = baking.extract_png_bytes(picture.content) if kind == "png" else baking.extract_svg(picture.content)
    assert baked.version == "3.0" and baked.payload == credential.document  # exactly as issued

    # Brought back as evidence, it verifies offline against the school's own key; changed, it does not.
    content_type = "image/png" if kind == "png" else "image/svg+xml"
    assert upload(maya, f"badge.{kind}", picture.content, content_type).status_code == 303
    document = json.loads(baked.payload)
    document["credentialSubject"]["achievement"]["name"] = "Something else"
    bake = baking.bake_png_bytes if kind == "png" else baking.bake_svg
    assert upload(maya, f"changed.{kind}", bake(picture.content, payload=json.dumps(document), version="3.0"),
                  content_type).status_code == 303
    checks = [b.verification for b in session.exec(select(BadgeAssertion).order_by(BadgeAssertion.id)).all()]
    assert checks == [BadgeCheck.verified, BadgeCheck.does_not_verify]


def test_a_credential_picture_is_only_for_those_who_may_see_the_credential(client, session, new_client):
    from tests.test_badges import award_one, build_world

    world = build_world(session)
    credential = award_one(client, session, world)
    stranger = new_client()
    login(stranger, world["other"])
    for kind in ("png", "svg"):
        assert stranger.get(f"/credentials/{credential.public_id}/image.{kind}").status_code == 404


def test_a_credential_this_folio_revoked_says_so_when_brought_back(client, session, new_client):
    from tests.test_badges import award_one, build_world

    world = build_world(session)
    credential = award_one(client, session, world)  # Ms Shah is signed in on `client`
    assert client.post(f"/credentials/{credential.public_id}/revoke",
                       data={"reason": "Awarded to the wrong student"}).status_code == 303
    maya = new_client()
    login(maya, world["maya"])
    picture = maya.get(f"/credentials/{credential.public_id}/image.png").content
    assert upload(maya, "badge.png", picture).status_code == 303
    badge = session.exec(select(BadgeAssertion)).one()
    assert badge.verification is BadgeCheck.revoked
    page = page_text(maya.get(f"/artefacts/{badge.artefact_id}"))
    assert "Revoked: the signature is genuine, but the school that issued it has withdrawn it." in page
    assert "Verified:" not in page


@pytest.mark.parametrize("name, version, check, words, chip", [
    # genuine signatures, outside their dates: an embedded proof past validUntil, a VC 1.1 VC-JWT past its
    # expirationDate / exp, a VC-JWT whose validFrom / nbf is in 2099, a hosted 2.0 assertion past `expires`
    ("ob3-expired-proof.png", "3.0", BadgeCheck.verified,
     ["Expired on Jun 30, 2025: the signature is genuine, but the badge is no longer valid."], "expired"),
    ("ob3-expired-jwt.png", "3.0", BadgeCheck.verified,
     ["Expired on Aug 31, 2025: the signature is genuine, but the badge is no longer valid."], "expired"),
    ("ob3-future-jwt.png", "3.0", BadgeCheck.verified,
     ["Not valid until Jan 1, 2099: the signature is genuine, but the badge does not count yet."], "not-yet-valid"),
    ("ob2-expired.png", "2.0", BadgeCheck.needs_internet,
     ["Can't be checked without the internet", "Expired on Jan 31, 2025."], "expired"),
])
def test_a_badge_outside_its_dates_says_so_rather_than_verified(client, session, student, name, version, check, words,
                                                                chip):
    login(client, student)
    assert upload(client, name, fixture(name)).status_code == 303
    badge = session.exec(select(BadgeAssertion)).one()
    assert (badge.version, badge.verification) == (version, check)  # the signature is still checked
    page = page_text(client.get(f"/artefacts/{badge.artefact_id}"))
    for sentence in words:
        assert sentence in page, sentence
    assert "Verified: signed with" not in page
    listed = client.get("/artefacts").text
    assert f"badge-check--{chip}" in listed and "· verified" not in listed


def test_a_badge_within_its_dates_still_says_verified(client, session, student):
    login(client, student)
    upload(client, "robotics.png", fixture("ob3-didkey-proof.png"))
    badge = session.exec(select(BadgeAssertion)).one()
    page = page_text(client.get(f"/artefacts/{badge.artefact_id}"))
    assert "Verified: signed with the issuer's own key" in page and "Expired on" not in page


def test_the_family_feed_marks_a_badge_in_a_constant_number_of_queries(client, session, new_client, count_queries):
    school = make_school(session)
    student = make_user(session, school)
    guardian = make_user(session, school, Role.guardian)
    make_class(session, school, students=[student])
    link_guardian(session, guardian, student)
    login(client, student)
    upload(client, "robotics.png", fixture("ob3-didkey.png"), audience=Audience.family.value)
    family = new_client()
    login(family, guardian)
    chip = 'class="chip chip--badge badge-check--verified">Badge · verified</span>'
    for path in ("/family", f"/family/children/{student.id}"):
        assert chip in family.get(path).text, path
    with count_queries() as one:
        family.get(f"/family/children/{student.id}")
    for index in range(4):
        upload(client, f"badge-{index}.png", fixture("ob3-didkey-proof.png"), audience=Audience.family.value)
        upload(client, f"plain-{index}.png", _plain_png(), audience=Audience.family.value)
    with count_queries() as many:
        page = family.get(f"/family/children/{student.id}").text
    assert page.count("chip--badge") == 5
    assert many.count == one.count


def test_showcases_their_secret_links_and_slides_mark_a_badge_in_a_constant_number_of_queries(
        client, session, new_client, count_queries):
    from datetime import date, timedelta

    from app.models import ShowcaseItemType
    from app.services.showcases import share_links
    from tests.test_presentations import make_showcase

    school = make_school(session)
    student = make_user(session, school)
    guardian = make_user(session, school, Role.guardian)
    make_class(session, school, students=[student])
    link_guardian(session, guardian, student)
    login(client, student)
    upload(client, "robotics.png", fixture("ob3-expired-proof.png"), audience=Audience.family.value)
    upload(client, "plain.png", _plain_png(), audience=Audience.family.value)
    ids = [a.id for a in session.exec(select(Artefact).order_by(Artefact.id)).all()]
    showcase = make_showcase(session, student, items=[(ShowcaseItemType.artefact, i, "") for i in ids])
    _link, token = share_links.create_link(session=session, owner=student, showcase=showcase,
                                           expires_on=date.today() + timedelta(days=3), address=None)
    session.commit()
    family = new_client()
    login(family, guardian)
    chip = 'class="chip chip--badge badge-check--expired">Badge · expired</span>'
    pages = {"owner": (client, f"/showcases/{showcase.id}"), "family": (family, f"/showcases/{showcase.id}"),
             "slides": (client, f"/showcases/{showcase.id}/present"), "link": (new_client(), f"/s/{token}")}
    before = {}
    for name, (browser, path) in pages.items():
        with count_queries() as counter:
            text = browser.get(path).text
        assert text.count(chip) == 1, name
        before[name] = counter.count
    for index in range(3):
        upload(client, f"badge-{index}.png", fixture("ob3-didkey-proof.png"), audience=Audience.family.value)
    new_ids = [a.id for a in session.exec(select(Artefact).where(Artefact.id.not_in(ids))).all()]
    for position, artefact_id in enumerate(new_ids, start=len(ids)):
        from app.models import ShowcaseItem
        session.add(ShowcaseItem.to(showcase_id=showcase.id, item_type=ShowcaseItemType.artefact, target_id=artefact_id,
                                    position=position, talking_points=""))
    session.commit()
    for name, (browser, path) in pages.items():
        with count_queries() as counter:
            text = browser.get(path).text
        assert text.count("chip--badge") == 4, name
        assert counter.count == before[name], name


@pytest.mark.parametrize("name, version", [("ob3-didkey.png", "3.0"), ("ob2-hosted-badgr.png", "2.0")])
def test_a_badge_travels_in_the_leap2a_feed_baked_into_its_picture_and_is_recognised_again(
        client, session, student, settings, tmp_path, name, version):
    import zipfile
    import xml.etree.ElementTree as ET

    from app.services.exports import archive_export, archive_import

    login(client, student)
    assert upload(client, name, fixture(name), title="My badge").status_code == 303
    upload(client, "plain.png", _plain_png(), title="Plain")
    original = session.exec(select(BadgeAssertion)).one()
    archive_export.build_archive(session=session, settings=settings, student=student, out_path=tmp_path / "a.zip")
    with zipfile.ZipFile(tmp_path / "a.zip") as archive:
        feed = ET.fromstring(archive.read("leap2a.xml"))
        atom = "{http://www.w3.org/2005/Atom}"
        sources = {e.findtext(f"{atom}title"): e.find(f"{atom}content").get("src") for e in feed.iter(f"{atom}entry")
                   if e.find(f"{atom}content") is not None and e.find(f"{atom}content").get("src")}
        assert sources["My badge"].startswith("files/badges/") and not sources["Plain"].startswith("files/badges/")
        baked = baking.extract_png_bytes(archive.read(sources["My badge"]))
        assert (baked.version, baked.payload) == (version, original.payload)  # what Mahara keeps: the file's bytes
        # The stored copy portfolio.json describes stays the cleaned one.
        assert baking.extract_png_bytes(archive.read(sources["My badge"].replace("badges/", ""))) is None
        # As a Leap2A reader gets it: the feed and its files, no portfolio.json.
        with zipfile.ZipFile(tmp_path / "leap2a.zip", "w") as leap:
            for info in archive.infolist():
                if info.filename == "leap2a.xml" or info.filename.startswith("files/"):
                    leap.writestr(info.filename, archive.read(info.filename))
    other = make_user(session, make_school(session))
    archive_import.import_archive(session=session, settings=settings, student=other, archive_path=tmp_path / "leap2a.zip")
    session.commit()
    copied = session.exec(select(BadgeAssertion).where(BadgeAssertion.id != original.id)).one()
    artefact = session.get(Artefact, copied.artefact_id)
    assert (artefact.owner_id, artefact.title) == (other.id, "My badge")
    assert (copied.version, copied.payload, copied.verification, copied.achievement_name) == (
        version, original.payload, original.verification, original.achievement_name)
    assert session.exec(select(func.count()).select_from(BadgeAssertion)).one() == 2
