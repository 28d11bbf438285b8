"""Open Badges 3.0 credentials through HTTP: awarding, who may, the published documents, revocation, verification."""

import copy
import json

import pytest
from sqlmodel import select

from app.models import Competency, CompetencyRating, Credential, Goal, GoalStatus, IssuerKey, ProficiencyLevel, Role
from app.models.base import utcnow
from app.services.badges import keys
from app.services.badges.status import bit_is_set
from tests.factories import link_guardian, login, make_class, make_framework, make_note, make_school, make_user


@pytest.fixture
def world(session):
    return build_world(session)


def build_world(session):
    """Ms Shah teaches Maya; Mr Grey teaches another class; Maya's mother; the school's admin."""
    school = make_school(session, name="Hillside School")
    maya = make_user(session, school, display_name="Maya Patel")
    shah = make_user(session, school, Role.teacher, display_name="Ms Shah")
    grey = make_user(session, school, Role.teacher, display_name="Mr Grey")
    other = make_user(session, school, display_name="Leo")
    mother = make_user(session, school, Role.guardian, display_name="Maya's mother")
    admin = make_user(session, school, Role.admin, display_name="Admin")
    ours = make_class(session, school, teachers=[shah], students=[maya])
    make_class(session, school, teachers=[grey], students=[other])
    link_guardian(session, mother, maya)
    framework = make_framework(session, school, classes=[ours])
    competency = session.exec(select(Competency).where(Competency.framework_id == framework.id,
                                                       Competency.code == "COM.1")).one()
    level = session.exec(select(ProficiencyLevel).where(ProficiencyLevel.framework_id == framework.id,
                                                        ProficiencyLevel.label == "Proficient")).one()
    return dict(school=school, maya=maya, shah=shah, grey=grey, other=other, mother=mother, admin=admin,
                framework=framework, competency=competency, level=level)


def rate(client, w, *, award=False, artefact_ids=()):
    data = {"level_id": str(w["level"].id), "comment": "Clear and confident.",
            "artefact_ids": [str(a) for a in artefact_ids]}
    if award:
        data["award_credential"] = "true"
    return client.post(f"/students/{w['maya'].id}/competencies/{w['competency'].id}/ratings", data=data)


def issued(session, student):
    session.expire_all()
    return session.exec(select(Credential).where(Credential.student_id == student.id).order_by(Credential.id)).all()


def award_one(client, session, w, **kwargs):
    login(client, w["shah"])
    assert rate(client, w, award=True, **kwargs).status_code == 303
    return issued(session, w["maya"])[-1]


def test_a_teacher_awards_a_signed_credential_with_a_rating(client, session, world):
    w = world
    note = make_note(session, w["maya"], title="My persuasive speech")
    credential = award_one(client, session, w, artefact_ids=[note.id])
    document = json.loads(credential.document)
    assert document["type"] == ["VerifiableCredential", "OpenBadgeCredential"]
    assert document["@context"] == ["https://www.w3.org/ns/credentials/v2",
                                    "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"]
    assert document["id"] == f"http://testserver/badges/credentials/{credential.public_id}"
    assert document["issuer"]["id"] == f"http://testserver/badges/issuers/{w['school'].id}"
    assert document["issuer"]["name"] == "Hillside School"
    achievement = document["credentialSubject"]["achievement"]
    assert achievement["name"] == "COM.1 Communicating: Proficient"
    assert achievement["criteria"]["narrative"] == "Proficient descriptor"
    assert achievement["alignment"][0]["targetUrl"] == f"urn:uuid:{w['competency'].case_identifier}"
    assert document["credentialSubject"]["identifier"][0]["identityHash"] == "Maya Patel"
    assert document["evidence"] == [{"id": f"http://testserver/artefacts/{note.id}", "type": ["Evidence"],
                                     "name": "My persuasive speech"}]
    assert document["credentialStatus"]["statusListIndex"] == str(credential.status_index)
    assert document["credentialStatus"]["statusListCredential"].endswith(
        f"/badges/issuers/{w['school'].id}/status/{credential.status_list}")
    assert document["proof"]["cryptosuite"] == "eddsa-rdfc-2022"
    assert credential.rating_id and credential.level_id == w["level"].id and credential.issued_by_id == w["shah"].id
    # The student finds it in their list, opens it and downloads the JSON exactly as issued.
    login(client, w["maya"])
    page = client.get("/credentials")
    assert page.status_code == 200 and "COM.1 Communicating: Proficient" in page.text and "Hillside School" in page.text
    assert 'href="/credentials"' in page.text  # in the student's navigation
    assert client.get(f"/credentials/{credential.public_id}").status_code == 200
    download = client.get(f"/credentials/{credential.public_id}/download")
    assert download.status_code == 200 and download.text == credential.document
    assert "attachment" in download.headers["content-disposition"]


def test_the_public_page_verifies_it(client, session, world):
    credential = award_one(client, session, world)
    client.cookies.clear()
    page = client.get(f"/badges/credentials/{credential.public_id}/verify")
    assert page.status_code == 200
    assert "This credential is genuine and valid." in page.text
    assert "The signature is valid" in page.text and "has not revoked it" in page.text
    as_json = client.get(f"/badges/credentials/{credential.public_id}")
    assert as_json.headers["content-type"].startswith("application/vc+ld+json")
    assert as_json.text == credential.document


def test_a_teacher_awards_later_from_an_existing_rating_but_only_once(client, session, world):
    w = world
    login(client, w["shah"])
    rate(client, w)
    assert issued(session, w["maya"]) == []
    rating = session.exec(select(CompetencyRating).where(CompetencyRating.student_id == w["maya"].id)).one()
    page = client.get(f"/students/{w['maya'].id}/competencies/{w['competency'].id}")
    assert f'action="/credentials/award/ratings/{rating.id}"' in page.text
    assert client.post(f"/credentials/award/ratings/{rating.id}").status_code == 303
    assert client.post(f"/credentials/award/ratings/{rating.id}").status_code == 303
    assert len(issued(session, w["maya"])) == 1


@pytest.mark.parametrize("who", ["grey", "maya", "mother", "other", "admin"])
def test_only_the_students_teacher_may_award(client, session, world, who):
    w = world
    login(client, w["shah"])
    rate(client, w)
    rating = session.exec(select(CompetencyRating).where(CompetencyRating.student_id == w["maya"].id)).one()
    client.cookies.clear()
    login(client, w[who])
    response = client.post(f"/credentials/award/ratings/{rating.id}")
    # Not one of hers: 404 for a teacher; other roles are turned away by the route's guard (403).
    assert response.status_code == (404 if who == "grey" else 403)
    assert issued(session, w["maya"]) == []


def test_a_goal_credential_for_an_achieved_goal(client, session, world):
    w = world
    goal = Goal(owner_id=w["maya"].id, title="Read ten novels", success_criteria="Ten novels, ten reviews",
                status=GoalStatus.achieved, achieved_at=utcnow())
    session.add(goal)
    session.commit()
    login(client, w["grey"])
    assert client.post(f"/credentials/award/goals/{goal.id}").status_code == 404
    client.cookies.clear()
    login(client, w["shah"])
    page = client.get(f"/goals/{goal.id}")
    assert f'action="/credentials/award/goals/{goal.id}"' in page.text
    assert client.post(f"/credentials/award/goals/{goal.id}").status_code == 303
    credential = issued(session, w["maya"])[0]
    achievement = json.loads(credential.document)["credentialSubject"]["achievement"]
    assert achievement["name"] == "Read ten novels" and achievement["criteria"]["narrative"] == "Ten novels, ten reviews"
    assert credential.goal_id == goal.id


@pytest.mark.parametrize("who", ["grey", "other", "mother", "stranger_parent"])
def test_strangers_cannot_see_or_revoke(client, session, world, who):
    w = world
    w["stranger_parent"] = make_user(session, w["school"], Role.guardian, display_name="Leo's father")
    link_guardian(session, w["stranger_parent"], w["other"])
    credential = award_one(client, session, w)
    client.cookies.clear()
    login(client, w[who])
    # Maya's mother may look at her child's credential (app.access.rules.may_see_credential), never revoke it.
    hidden = ("revoke",) if who == "mother" else ("", "download", "revoke")
    for suffix in ("", "download", "revoke"):
        path = f"/credentials/{credential.public_id}" + (f"/{suffix}" if suffix else "")
        assert client.get(path).status_code == (404 if suffix in hidden else 200), path
    assert client.post(f"/credentials/{credential.public_id}/revoke", data={"reason": "x"}).status_code == 404
    assert issued(session, w["maya"])[0].revoked_at is None


def test_the_student_cannot_revoke_their_own(client, session, world):
    w = world
    credential = award_one(client, session, w)
    client.cookies.clear()
    login(client, w["maya"])
    assert client.post(f"/credentials/{credential.public_id}/revoke", data={"reason": "x"}).status_code == 404
    assert issued(session, w["maya"])[0].revoked_at is None


@pytest.mark.parametrize("who", ["shah", "admin"])
def test_revocation_sets_the_status_bit_and_the_page_says_revoked(client, session, world, who):
    w = world
    credential = award_one(client, session, w)
    status_url = json.loads(credential.document)["credentialStatus"]["statusListCredential"]
    path = status_url.removeprefix("http://testserver")
    before = client.get(path).json()
    assert not bit_is_set(before["credentialSubject"]["encodedList"], credential.status_index)
    client.cookies.clear()
    login(client, w[who])
    assert client.get(f"/credentials/{credential.public_id}/revoke").status_code == 200
    refused = client.post(f"/credentials/{credential.public_id}/revoke", data={"reason": "  "})
    assert refused.status_code == 422 and "Say why it is revoked" in refused.text
    assert client.post(f"/credentials/{credential.public_id}/revoke",
                       data={"reason": "Awarded to the wrong student"}).status_code == 303
    after = client.get(path)
    assert after.headers["content-type"].startswith("application/vc+ld+json")
    assert bit_is_set(after.json()["credentialSubject"]["encodedList"], credential.status_index)
    client.cookies.clear()
    page = client.get(f"/badges/credentials/{credential.public_id}/verify")
    assert "This credential was revoked by its issuer." in page.text
    assert "The school has revoked this credential." in page.text
    login(client, w["maya"])
    mine = client.get(f"/credentials/{credential.public_id}")
    assert "Awarded to the wrong student" in mine.text


def test_the_status_list_is_16_kb_and_signed(client, session, world):
    import base64
    import gzip
    credential = award_one(client, session, world)
    client.cookies.clear()
    status_list = client.get(json.loads(credential.document)["credentialStatus"]["statusListCredential"]
                             .removeprefix("http://testserver")).json()
    encoded = status_list["credentialSubject"]["encodedList"]
    assert encoded.startswith("u")
    bits = gzip.decompress(base64.urlsafe_b64decode(encoded[1:] + "=" * (-len(encoded[1:]) % 4)))
    assert len(bits) * 8 >= 131072
    assert status_list["proof"]["cryptosuite"] == "eddsa-rdfc-2022"
    assert status_list["issuer"] == json.loads(credential.document)["issuer"]["id"]


def test_the_issuer_document_publishes_every_key_and_retired_keys_still_verify(client, session, world, app):
    w = world
    first = award_one(client, session, w)
    keys.retire_keys(session=session, school_id=w["school"].id)
    session.commit()
    second = award_one(client, session, w)
    assert json.loads(first.document)["proof"]["verificationMethod"] != json.loads(second.document)["proof"]["verificationMethod"]
    client.cookies.clear()
    profile = client.get(f"/badges/issuers/{w['school'].id}")
    assert profile.status_code == 200 and profile.headers["content-type"].startswith("application/ld+json")
    body = profile.json()
    published = {method["id"] for method in body["verificationMethod"]}
    assert len(published) == 2 and set(body["assertionMethod"]) == published
    for method in body["verificationMethod"]:
        assert method["type"] == "Multikey" and method["publicKeyMultibase"].startswith("z6Mk")
        assert method["controller"] == body["id"]
    for credential in (first, second):
        assert json.loads(credential.document)["proof"]["verificationMethod"] in published
        page = client.get(f"/badges/credentials/{credential.public_id}/verify")
        assert "This credential is genuine and valid." in page.text


def test_the_private_key_is_sealed(session, world, client, settings):
    award_one(client, session, world)
    key = session.exec(select(IssuerKey)).one()
    private, _public = key.sealed_private_key, key.public_key_multibase
    # Under another secret key it cannot be opened: a new key is made, the old one retired (still published).
    other = settings.model_copy(update={"secret_key": "another-secret-key-another-secret-key-1234"})
    new_key, _signer = keys.signing_key(session=session, settings=other, school_id=world["school"].id)
    assert new_key.id != key.id and key.retired_at is not None
    assert len(private) > 40 and b"PRIVATE" not in private.encode()


TAMPERINGS = {
    "achievement name": lambda d: d["credentialSubject"]["achievement"].update(name="Top of the world"),
    "student": lambda d: d["credentialSubject"]["identifier"][0].update(identityHash="Someone Else"),
    "issuer name": lambda d: d["issuer"].update(name="Another School"),
    "valid from": lambda d: d.update(validFrom="2020-01-01T00:00:00Z"),
    "criteria": lambda d: d["credentialSubject"]["achievement"]["criteria"].update(narrative="Anything"),
    "status index": lambda d: d["credentialStatus"].update(
        statusListIndex=str((int(d["credentialStatus"]["statusListIndex"]) + 1) % 131072)),
    "proof created": lambda d: d["proof"].update(created="2020-01-01T00:00:00Z"),
    "extra field": lambda d: d.update(description="Added later"),
}


def test_tampering_with_any_field_fails_verification(client, session, world):
    credential = award_one(client, session, world)
    client.cookies.clear()
    original = json.loads(credential.document)
    page = client.post("/badges/verify", data={"text": credential.document})
    assert page.status_code == 200 and "This credential is genuine and valid." in page.text
    for name, change in TAMPERINGS.items():
        document = copy.deepcopy(original)
        change(document)
        page = client.post("/badges/verify", data={"text": json.dumps(document)})
        assert page.status_code == 200, name
        assert "This credential could not be verified." in page.text, name
        assert "The signature does not match" in page.text, name
    # A term no context defines would fall out of what the signature covers: refused, not ignored.
    document = copy.deepcopy(original)
    document["credentialSubject"]["grade"] = "A+"
    page = client.post("/badges/verify", data={"text": json.dumps(document)})
    assert "could not be verified" in page.text and "its vocabulary does not define" in page.text


def test_uploading_the_file_verifies_it_too(client, session, world):
    credential = award_one(client, session, world)
    client.cookies.clear()
    page = client.post("/badges/verify", files={"file": ("credential.json", credential.document.encode(), "application/json")})
    assert page.status_code == 200 and "This credential is genuine and valid." in page.text


def test_an_unknown_context_is_refused(client, session, world):
    credential = award_one(client, session, world)
    document = json.loads(credential.document)
    document["@context"].append("https://evil.example/context.jsonld")
    page = client.post("/badges/verify", data={"text": json.dumps(document)})
    assert "could not be verified" in page.text and "Folio does not know" in page.text


def test_bad_input_and_unknown_ids(client, session, world):
    credential = award_one(client, session, world)
    client.cookies.clear()
    for text, message in (("", "Paste a credential"), ("not json", "That is not JSON"),
                          ("[1, 2]", "That is JSON, but not a credential")):
        page = client.post("/badges/verify", data={"text": text})
        assert page.status_code == 422 and message in page.text
    unknown = client.get("/badges/credentials/00000000-0000-4000-8000-000000000000/verify")
    malformed = client.get("/badges/credentials/nonsense/verify")
    assert unknown.status_code == malformed.status_code == 404
    assert unknown.text.replace("00000000-0000-4000-8000-000000000000", "nonsense") == malformed.text
    assert client.get("/badges/credentials/nonsense").status_code == 404
    assert client.get(f"/badges/issuers/{world['school'].id + 1000}").status_code == 404
    assert client.get(f"/badges/credentials/{credential.public_id}/verify").status_code == 200


def test_my_credentials_lists_in_constant_queries(client, session, world, count_queries):
    w = world
    login(client, w["shah"])
    rate(client, w, award=True)
    client.cookies.clear()
    login(client, w["maya"])
    with count_queries() as one:
        assert client.get("/credentials").status_code == 200
    client.cookies.clear()
    login(client, w["shah"])
    for _ in range(4):
        rate(client, w, award=True)
    client.cookies.clear()
    login(client, w["maya"])
    with count_queries() as five:
        page = client.get("/credentials")
    assert page.text.count("/credentials/") >= 5
    assert five.count == one.count


def test_the_admin_finds_every_credential_of_the_school_and_revokes_one(client, session, world, count_queries):
    w = world
    credential = award_one(client, session, w)
    client.cookies.clear()
    login(client, w["admin"])
    with count_queries() as one:
        page = client.get("/admin/credentials")
    assert page.status_code == 200 and "Maya Patel" in page.text and 'href="/admin/credentials"' in page.text
    assert f'href="/credentials/{credential.public_id}"' in page.text
    shown = client.get(f"/credentials/{credential.public_id}")
    assert f'href="/credentials/{credential.public_id}/revoke"' in shown.text
    client.cookies.clear()
    login(client, w["shah"])
    for _ in range(3):
        rate(client, w, award=True)
    client.cookies.clear()
    login(client, w["admin"])
    with count_queries() as four:
        assert client.get("/admin/credentials").text.count("Maya Patel") == 4
    assert four.count == one.count
    # Another school's admin sees none of them.
    elsewhere = make_user(session, make_school(session), Role.admin)
    client.cookies.clear()
    login(client, elsewhere)
    assert "Maya Patel" not in client.get("/admin/credentials").text
    assert client.get(f"/credentials/{credential.public_id}").status_code == 404
    assert client.get(f"/credentials/{credential.public_id}/revoke").status_code == 404


def test_the_rule_for_many_credentials_agrees_with_the_rule_for_one(client, session, world, count_queries):
    from app.access.rules import credentials_visible_among, may_see_credential

    w = world
    award_one(client, session, w)
    revoked = award_one(client, session, w)
    assert client.post(f"/credentials/{revoked.public_id}/revoke", data={"reason": "Wrong level"}).status_code == 303
    standing, revoked = issued(session, w["maya"])
    stranger = make_user(session, w["school"], Role.guardian)
    link_guardian(session, stranger, w["other"])
    elsewhere = make_user(session, make_school(session), Role.admin)
    expected = {"maya": [standing, revoked], "shah": [standing, revoked], "admin": [standing, revoked],
                "mother": [standing], "grey": [], "other": [], "stranger": [], "elsewhere": []}
    viewers = {**{name: w[name] for name in ("maya", "shah", "admin", "mother", "grey", "other")},
               "stranger": stranger, "elsewhere": elsewhere}
    for name, viewer in viewers.items():
        one_by_one = [c for c in (standing, revoked) if may_see_credential(
            session=session, viewer=viewer, student_id=c.student_id, school_id=c.school_id,
            issued_by_id=c.issued_by_id, revoked=c.revoked_at is not None)]
        with count_queries() as counter:
            together = credentials_visible_among(session=session, viewer=viewer, credentials=[standing, revoked])
        assert together == one_by_one == expected[name], name
        assert counter.count <= 1, name


def test_both_credential_lists_page_past_twenty(client, session, world):
    """The student's list and the school's share one table (templates/credentials/_table.html), pagination included."""
    w = world
    login(client, w["shah"])
    for _ in range(21):
        assert rate(client, w, award=True).status_code == 303
    for who, path in ((w["maya"], "/credentials"), (w["admin"], "/admin/credentials")):
        client.cookies.clear()
        login(client, who)
        first, second = client.get(path), client.get(f"{path}?page=2")
        assert first.text.count('<a href="/credentials/') == 20 and f'rel="next" href="http://testserver{path}?page=2"' in first.text
        assert second.text.count('<a href="/credentials/') == 1 and "Page 2 of 2" in second.text
