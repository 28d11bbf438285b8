"""Open Badges 3.0 credentials with an Ed25519Signature2020 proof (Digital Bazaar's older suite, which many issuers
built on its libraries still use), checked offline. The fixtures in tests/fixtures/badges were signed by
@digitalbazaar/vc with @digitalbazaar/ed25519-signature-2020 (tests/badges-2020/sign.mjs, which also had Digital
Bazaar's own verifier accept them); ob3-ed25519-2020.png is ob3-ed25519-2020.json baked by make_fixtures.py."""

from __future__ import annotations

import copy
import html
import json
import socket
from pathlib import Path

import pytest
from sqlmodel import select

from app.models import BadgeAssertion, BadgeCheck
from app.services.badges import baking, did_key, imported
from app.services.badges.loader import ED25519_2020
from app.services.badges.proof import verify_document
from tests.factories import login, make_school, make_user

FIXTURES = Path(__file__).parent / "fixtures" / "badges"
# VC 2.0 + OB 3.0.3 contexts; VC 1.1 + OB 3.0.2 (the Digital Credentials Consortium issuer's shape).
SIGNED = ["ob3-ed25519-2020.json", "ob3-ed25519-2020-vc1.json"]


def signed(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def did_key_of(method: str):
    return did_key.public_key(method)


def baked(credential: dict) -> bytes:
    """The credential baked (by Folio's baker) into the committed fixture's picture, in place of what it carries."""
    return baking.bake_png_bytes((FIXTURES / "ob3-ed25519-2020.png").read_bytes(), payload=json.dumps(credential),
                                 version="3.0")


def upload(client, data: bytes):
    return client.post("/artefacts/upload", files=[("files", ("soldering.png", data, "image/png"))])


@pytest.fixture
def student(session):
    return make_user(session, make_school(session))


@pytest.fixture
def offline(monkeypatch):
    """Fails the test on any web request, and records every host name looked up."""
    import urllib.request

    looked_up: list[str] = []
    real_getaddrinfo = socket.getaddrinfo

    def getaddrinfo(host, *args, **kwargs):
        looked_up.append(str(host))
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    monkeypatch.setattr(urllib.request, "urlopen", lambda *a, **k: pytest.fail("something was fetched"))
    return looked_up


@pytest.mark.parametrize("name", SIGNED)
def test_a_credential_digital_bazaar_signed_verifies_and_any_change_breaks_it(name, offline):
    document = signed(name)
    assert document["proof"]["type"] == "Ed25519Signature2020" and ED25519_2020 in document["@context"]
    check = verify_document(document=document, public_key_for=did_key_of)
    assert check.valid, check
    for change in (lambda d: d["credentialSubject"]["achievement"].update(name="Soldering Mastery"),
                   lambda d: d["credentialSubject"]["identifier"][0].update(identityHash="someone@example.org"),
                   lambda d: d["issuer"].update(name="Another Guild"),
                   lambda d: d["proof"].update(created="2026-03-15T10:00:00Z"),
                   lambda d: d["proof"].update(proofPurpose="authentication"),
                   lambda d: d.update(name="Something else")):
        tampered = copy.deepcopy(document)
        change(tampered)
        check = verify_document(document=tampered, public_key_for=did_key_of)
        assert not check.valid and check.reason in ("bad-signature", "malformed"), check
    assert not any("example.org" in host for host in offline)


def test_its_proof_must_be_of_its_own_kind_and_name_its_suites_context():
    document = signed("ob3-ed25519-2020.json")
    # The same signature presented as an eddsa-rdfc-2022 proof: the proof options are signed too, so it fails.
    relabelled = copy.deepcopy(document)
    relabelled["proof"].update(type="DataIntegrityProof", cryptosuite="eddsa-rdfc-2022")
    relabelled["@context"].append("https://w3id.org/security/data-integrity/v2")
    assert verify_document(document=relabelled, public_key_for=did_key_of).reason == "bad-signature"
    mixed = copy.deepcopy(document)
    mixed["proof"]["cryptosuite"] = "eddsa-rdfc-2022"
    assert verify_document(document=mixed, public_key_for=did_key_of).reason == "unsupported-proof"
    # Without the suite's context its terms are undefined; jsonld-signatures matches no such proof either.
    without = copy.deepcopy(document)
    without["@context"].remove(ED25519_2020)
    assert verify_document(document=without, public_key_for=did_key_of).reason == "malformed"
    # A term no context defines is refused, as for eddsa-rdfc-2022, rather than left out of what is signed.
    extra = copy.deepcopy(document)
    extra["credentialSubject"]["grade"] = "A+"
    assert verify_document(document=extra, public_key_for=did_key_of).reason == "unsafe"


@pytest.mark.parametrize("name", SIGNED)
def test_an_uploaded_ed25519_2020_badge_is_shown_verified_with_its_issuer_and_criteria(
        client, session, student, name, offline):
    login(client, student)
    data = (FIXTURES / "ob3-ed25519-2020.png").read_bytes() if name == SIGNED[0] else baked(signed(name))
    assert upload(client, data).status_code == 303
    badge = session.exec(select(BadgeAssertion)).one()
    assert json.loads(badge.payload) == signed(name)
    assert (badge.version, badge.verification) == ("3.0", BadgeCheck.verified)
    assert (badge.achievement_name, badge.issuer_name, str(badge.issued_on)) == (
        "Soldering Safety", "Northside Makers Guild", "2026-03-14")
    page = html.unescape(client.get(f"/artefacts/{badge.artefact_id}").text)
    for words in ("Verified: signed with the issuer's own key, and unchanged since it was issued.",
                  "Soldering Safety", "Northside Makers Guild", "https://makers.example.org",
                  "Solder ten joints on a practice board with eye protection and a fume extractor."):
        assert words in page, words
    assert "Does not verify" not in page and "Can't be checked" not in page
    assert "badge-check--verified" in client.get("/artefacts").text
    assert not any("example.org" in host for host in offline)


@pytest.mark.parametrize("name", SIGNED)
def test_a_tampered_ed25519_2020_badge_does_not_verify(client, session, student, name):
    credential = signed(name)
    credential["credentialSubject"]["achievement"]["name"] = "Soldering Mastery"
    login(client, student)
    assert upload(client, baked(credential)).status_code == 303
    badge = session.exec(select(BadgeAssertion)).one()
    assert (badge.achievement_name, badge.verification) == ("Soldering Mastery", BadgeCheck.does_not_verify)
    page = html.unescape(client.get(f"/artefacts/{badge.artefact_id}").text)
    assert "Does not verify: this badge was changed after it was issued" in page and "Verified:" not in page


def test_a_badge_whose_key_is_on_the_issuers_website_says_it_needs_the_internet_and_nothing_is_fetched(
        client, session, student, offline):
    credential = signed("ob3-ed25519-2020-https-key.json")
    assert credential["proof"]["verificationMethod"] == "https://makers.example.org/issuer#key-1"
    login(client, student)
    assert upload(client, baked(credential)).status_code == 303
    badge = session.exec(select(BadgeAssertion)).one()
    assert (badge.achievement_name, badge.verification) == ("Soldering Safety", BadgeCheck.needs_internet)
    page = html.unescape(client.get(f"/artefacts/{badge.artefact_id}").text)
    assert "Can't be checked without the internet: shown as the issuer described it." in page
    assert "Verified:" not in page and "Does not verify" not in page
    assert not any("example.org" in host for host in offline)


def test_a_verification_method_a_did_key_does_not_have_cannot_be_checked_rather_than_verifies():
    # A did:key has one verification method, "<did>#<its key>" (Digital Bazaar's resolver finds no other): a proof
    # naming another is not checked, even when the did's key did make the signature.
    from datetime import UTC, datetime

    from app.services.badges.proof import sign_document
    from tests.fixtures.badges import make_fixtures as made

    did = made.issuer_did()
    for method, check in ((f"{did}#{did.removeprefix('did:key:')}", BadgeCheck.verified),
                          (f"{did}#key-1", BadgeCheck.cannot_check), (did, BadgeCheck.cannot_check)):
        document = sign_document(document=made.ob3_credential(did), private_key=made.issuer_key(),
                                 verification_method=method, created=datetime(2026, 5, 2, tzinfo=UTC))
        assert imported.read_badge(version="3.0", payload=json.dumps(document)).check is check, method
    document = signed("ob3-ed25519-2020.json")
    document["proof"]["verificationMethod"] = f"{document['issuer']['id']}#key-1"
    assert imported.read_badge(version="3.0", payload=json.dumps(document)).check is BadgeCheck.cannot_check


def test_the_verify_page_treats_it_as_any_credential_from_elsewhere(client):
    # /badges/verify checks credentials issued by schools on this Folio; one signed elsewhere, by any suite, is
    # "not signed by a key of a school on this Folio" (not "signed in a way Folio does not check").
    eddsa = baking.extract_png_bytes((FIXTURES / "ob3-didkey-proof.png").read_bytes()).payload
    for text in (json.dumps(signed("ob3-ed25519-2020.json")), eddsa):
        page = html.unescape(client.post("/badges/verify", data={"text": text}).text)
        assert "This credential could not be verified." in page
        assert "The credential was not signed by a key of a school on this Folio, so it cannot be checked here." in page
        assert "signed in a way Folio does not check" not in page
