"""Folio's credentials checked by an independent implementation (Digital Bazaar's verifier, in Node): accepted as
issued, refused once changed or revoked; and what that verifier signs, Folio's own check accepts."""

import copy
import json

import pytest

from tests.badges_verifier import VerifierUnavailable, node_verify
from tests.conftest import unavailable
from tests.test_badges import award_one, world  # noqa: F401 (the fixture)


def published(client, document) -> dict[str, dict]:
    """What a verifier fetches for this credential, fetched over HTTP from Folio as a stranger."""
    urls = {document["issuer"]["id"], document["credentialStatus"]["statusListCredential"]}
    found = {}
    for url in urls:
        response = client.get(url.removeprefix("http://testserver"))
        assert response.status_code == 200, url
        found[url] = response.json()
    # The status list is signed by a key that must itself be published: its issuer document is already here.
    return found


def verify(credential, documents):
    try:
        return node_verify(credential, documents=documents)
    except VerifierUnavailable as error:
        unavailable(f"The independent credential verifier is not available: {error}")


def test_the_independent_verifier_accepts_what_folio_issues(client, session, world):  # noqa: F811
    credential = award_one(client, session, world)
    document = json.loads(credential.document)
    client.cookies.clear()
    result = verify(document, published(client, document))
    assert result["accepted"] and result["verified"], result
    assert result["status"] == {"verified": True, "revoked": False}


def test_the_independent_verifier_refuses_a_changed_credential(client, session, world):  # noqa: F811
    credential = award_one(client, session, world)
    client.cookies.clear()
    document = json.loads(credential.document)
    documents = published(client, document)
    for change in (lambda d: d["credentialSubject"]["achievement"].update(name="Top of the world"),
                   lambda d: d["credentialSubject"]["identifier"][0].update(identityHash="Someone Else"),
                   lambda d: d.update(validFrom="2020-01-01T00:00:00Z")):
        tampered = copy.deepcopy(document)
        change(tampered)
        result = verify(tampered, documents)
        assert not result["verified"] and not result["accepted"], result
        assert "Invalid signature" in result["error"], result


def test_the_independent_verifier_sees_the_revocation(client, session, world):  # noqa: F811
    credential = award_one(client, session, world)
    assert client.post(f"/credentials/{credential.public_id}/revoke", data={"reason": "A mistake"}).status_code == 303
    client.cookies.clear()
    document = json.loads(credential.document)
    result = verify(document, published(client, document))
    assert not result["accepted"], result
    assert result["status"] == {"verified": True, "revoked": True}, result


def test_a_retired_keys_credential_still_passes_the_independent_verifier(client, session, world):  # noqa: F811
    from app.services.badges import keys
    old = award_one(client, session, world)
    keys.retire_keys(session=session, school_id=world["school"].id)
    session.commit()
    award_one(client, session, world)
    client.cookies.clear()
    document = json.loads(old.document)
    result = verify(document, published(client, document))
    assert result["accepted"], result
