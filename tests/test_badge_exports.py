"""A student's credentials in exports: the portfolio PDF's Credentials section and showcase PDFs, and the portable
archive, which carries each credential's signed JSON byte for byte (so it still verifies) and which an import
never re-issues."""

import json
import re
import zipfile

import jsonschema
from pypdf import PdfReader
from sqlmodel import select

from app.models import Credential, Showcase, ShowcaseItem, ShowcaseItemType
from app.services.badges import keys
from app.services.badges.proof import verify_document
from app.services.exports import archive_export, archive_import, portfolio_json
from app.services.exports.pdf_export import build_portfolio_pdf
from tests.factories import login, make_school, make_user
from tests.test_badges import award_one, issued, world  # noqa: F401 (a fixture)
from tests.test_showcases import add, new_showcase


def flat(text: str) -> str:
    """PDF text without line breaks or spaces, so a long address wrapped over two lines still matches."""
    return re.sub(r"\s+", "", text)


def pdf_text(path) -> str:
    return "\n".join(page.extract_text() or "" for page in PdfReader(path).pages)


def two_credentials(client, session, w):
    """Two credentials for Maya; the first revoked by Ms Shah, the second in a showcase of Maya's."""
    revoked = award_one(client, session, w)
    assert client.post(f"/credentials/{revoked.public_id}/revoke",
                       data={"reason": "Awarded to the wrong student"}).status_code == 303
    valid = award_one(client, session, w)
    assert valid.id != revoked.id
    client.cookies.clear()
    login(client, w["maya"])
    showcase_id = new_showcase(client, title="Proud of")
    assert add(client, showcase_id, "credential", valid.id).status_code == 303
    session.expire_all()
    return session.get(Credential, revoked.id), session.get(Credential, valid.id), session.get(Showcase, showcase_id)


def test_the_portfolio_pdf_has_a_credentials_section(client, session, settings, world, tmp_path):
    w = world
    revoked, valid, _showcase = two_credentials(client, session, w)
    out = tmp_path / "maya.pdf"
    build_portfolio_pdf(session=session, settings=settings, student=w["maya"], sections=["credentials"], out_path=out)
    text = pdf_text(out)
    assert "Credentials" in PdfReader(out).pages[1].extract_text()  # in the contents
    assert text.count("COM.1 Communicating: Proficient") >= 2 and "Hillside School" in text
    assert "Revoked on" in text and "Valid when this PDF was made" in text
    for credential in (revoked, valid):
        assert f"http://testserver/badges/credentials/{credential.public_id}/verify" in flat(text)


def test_a_showcase_pdf_shows_its_credential_and_no_other(client, session, settings, world, tmp_path):
    w = world
    revoked, valid, showcase = two_credentials(client, session, w)
    out = tmp_path / "showcase.pdf"
    build_portfolio_pdf(session=session, settings=settings, student=w["maya"], sections=[], out_path=out,
                        showcase=showcase)
    text = flat(pdf_text(out))
    assert f"/badges/credentials/{valid.public_id}/verify" in text
    assert revoked.public_id not in text


def test_the_pdf_form_offers_the_credentials_section(client, session, world):
    login(client, world["maya"])
    page = client.get("/exports").text
    assert re.search(r'<input type="checkbox" id="section-credentials" name="sections" value="credentials"[^>]* checked>',
                     page)


def test_the_archive_carries_each_signed_credential_unchanged(client, session, settings, world, tmp_path):
    w = world
    revoked, valid, _showcase = two_credentials(client, session, w)
    path = tmp_path / "maya.zip"
    archive_export.build_archive(session=session, settings=settings, student=w["maya"], out_path=path)
    with zipfile.ZipFile(path) as archive:
        document = json.loads(archive.read("portfolio.json"))
        jsonschema.validate(document, portfolio_json.load_schema())
        listed = {entry["ref"]: entry for entry in document["credentials"]}
        assert [entry["achievement"] for entry in document["credentials"]] == ["COM.1 Communicating: Proficient"] * 2
        for credential in (revoked, valid):
            entry = next(e for e in listed.values() if e["id"].endswith(credential.public_id))
            content = archive.read(entry["path"])
            assert entry["path"] == f"credentials/credential-{credential.public_id}.json"
            assert content == credential.document.encode("utf-8")  # byte for byte as issued
            proof = verify_document(document=json.loads(content),
                                    public_key_for=keys.key_resolver(session=session, settings=settings))
            assert proof.valid, proof
            assert entry["verify_url"] == f"http://testserver/badges/credentials/{credential.public_id}/verify"
            assert entry["issuer"] == "Hillside School"
            assert (entry["revoked_at"] is not None) == (credential is revoked)
        showcase_doc = next(s for s in document["showcases"] if s["title"] == "Proud of")
        valid_ref = next(ref for ref, e in listed.items() if e["id"].endswith(valid.public_id))
        assert showcase_doc["items"] == [{"type": "credential", "ref": valid_ref, "position": 1, "talking_points": ""}]

        # The offline site lists them and links each to its file in the archive.
        page = archive.read("site/credentials.html").decode()
        assert page.count("COM.1 Communicating: Proficient") == 2 and "Revoked on" in page
        assert f'href="../credentials/credential-{valid.public_id}.json"' in page
        assert "credentials.html" in archive.read("site/index.html").decode()
        showcase_page = next(name for name in archive.namelist() if name.startswith("site/showcases/"))
        assert f"credentials.html#credential-{valid.public_id}" in archive.read(showcase_page).decode()


def test_importing_the_archive_never_reissues_or_changes_a_credential(client, session, settings, world, tmp_path):
    w = world
    _revoked, valid, _showcase = two_credentials(client, session, w)
    before = {c.id: (c.document, c.revoked_at) for c in session.exec(select(Credential)).all()}
    path = tmp_path / "maya.zip"
    archive_export.build_archive(session=session, settings=settings, student=w["maya"], out_path=path)
    elsewhere = make_user(session, make_school(session, name="Newtown School"))
    summary = archive_import.import_archive(session=session, settings=settings, student=elsewhere, archive_path=path)
    session.commit()
    session.expire_all()
    assert summary.credentials == 2
    assert "2 credentials stay as they were" in summary.as_text() and "verifiable where they were issued" in summary.as_text()
    assert {c.id: (c.document, c.revoked_at) for c in session.exec(select(Credential)).all()} == before
    assert issued(session, elsewhere) == []
    imported = session.exec(select(Showcase).where(Showcase.owner_id == elsewhere.id)).one()
    assert imported.title == "Proud of"
    assert session.exec(select(ShowcaseItem).where(ShowcaseItem.showcase_id == imported.id,
                                                   ShowcaseItem.item_type == ShowcaseItemType.credential)).all() == []


def test_the_offline_site_on_its_own_writes_the_credential_files_it_links(client, session, settings, world, tmp_path):
    from app.services.exports import offline_site

    w = world
    _revoked, valid, _showcase = two_credentials(client, session, w)
    with zipfile.ZipFile(tmp_path / "site.zip", "w") as archive:
        offline_site.write_site(session=session, settings=settings, student=w["maya"], archive=archive, prefix="site/")
    with zipfile.ZipFile(tmp_path / "site.zip") as archive:
        name = f"site/credentials/credential-{valid.public_id}.json"
        assert archive.read(name) == valid.document.encode("utf-8")
        assert f'href="credentials/credential-{valid.public_id}.json"' in archive.read("site/credentials.html").decode()
