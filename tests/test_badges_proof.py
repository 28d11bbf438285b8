"""eddsa-rdfc-2022 proofs against the W3C vc-di-eddsa test vector, and what a proof check refuses."""

import copy
import json
from datetime import datetime, timezone
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from app.services.badges import loader as badge_loader
from app.services.badges.multibase import decode_base58btc, ed25519_from_multikey, ed25519_multikey
from app.services.badges.proof import UnsafeDocument, sign_document, verify_document

# The W3C Data Integrity EdDSA Cryptosuites v1.0 test vector (Appendix A, "Representation: eddsa-rdfc-2022";
# w3c/vc-di-eddsa TestVectors/keyPair.json and eddsa-rdfc-2022/signedDataInt.json).
VECTOR = json.loads((Path(__file__).parent / "data" / "badges" / "vc-di-eddsa-rdfc-2022-signed.json").read_text())
VECTOR_PUBLIC = "z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2"
VECTOR_PRIVATE = "z3u2en7t5LR2WtQH5PfFqMqwVHBeXouLzo6haApm8XHqvjxq"
EXAMPLES_V2 = "https://www.w3.org/ns/credentials/examples/v2"


def vector_loader(url, options=None):
    """The vendored contexts plus the VC examples context the vector uses (only here, in the test)."""
    if url == EXAMPLES_V2:
        document = {"@context": {"@vocab": "https://www.w3.org/ns/credentials/examples#"}}
        return {"contextUrl": None, "documentUrl": url, "document": document}
    return badge_loader.document_loader(url, options)


def vector_key(method):
    return Ed25519PublicKey.from_public_bytes(ed25519_from_multikey(VECTOR_PUBLIC))


def test_the_spec_test_vector_verifies():
    check = verify_document(document=VECTOR, public_key_for=vector_key, loader=vector_loader)
    assert check.valid, check


def test_signing_the_spec_vector_gives_its_proof_value():
    seed = decode_base58btc(VECTOR_PRIVATE)
    assert seed[:2] == b"\x80\x26"  # the ed25519-priv multicodec
    private = Ed25519PrivateKey.from_private_bytes(seed[2:])
    assert ed25519_multikey(private.public_key().public_bytes_raw()) == VECTOR_PUBLIC
    unsigned = {key: value for key, value in VECTOR.items() if key != "proof"}
    signed = sign_document(
        document=unsigned, private_key=private, verification_method=VECTOR["proof"]["verificationMethod"],
        created=datetime(2023, 2, 24, 23, 36, 38, tzinfo=timezone.utc), loader=vector_loader,
    )
    assert signed["proof"] == VECTOR["proof"]


@pytest.mark.parametrize("change", [
    lambda d: d.update(name="Another Credential"),
    lambda d: d["credentialSubject"].update(alumniOf="Another School"),
    lambda d: d.update(validFrom="2023-01-02T00:00:00Z"),
    lambda d: d["proof"].update(created="2023-02-24T23:36:39Z"),
    lambda d: d.update(type=["VerifiableCredential"]),
])
def test_any_change_breaks_the_signature(change):
    document = copy.deepcopy(VECTOR)
    change(document)
    check = verify_document(document=document, public_key_for=vector_key, loader=vector_loader)
    assert (check.valid, check.reason) == (False, "bad-signature")


def test_an_unknown_context_is_refused_and_never_fetched(monkeypatch):
    import urllib.request
    monkeypatch.setattr(urllib.request, "urlopen", lambda *a, **k: pytest.fail("a context was fetched"))
    document = copy.deepcopy(VECTOR)
    # With the vendored loader alone, the vector's examples context is one Folio does not hold.
    check = verify_document(document=document, public_key_for=vector_key)
    assert (check.valid, check.reason) == (False, "unknown-context")
    document["@context"] = ["https://www.w3.org/ns/credentials/v2", "https://evil.example/context.jsonld"]
    check = verify_document(document=document, public_key_for=vector_key)
    assert (check.valid, check.reason) == (False, "unknown-context")


def test_a_proof_by_an_unknown_key_or_of_another_kind_fails():
    assert verify_document(document=VECTOR, public_key_for=lambda m: None, loader=vector_loader).reason == "unknown-key"
    other = copy.deepcopy(VECTOR)
    other["proof"]["cryptosuite"] = "eddsa-jcs-2022"
    assert verify_document(document=other, public_key_for=vector_key, loader=vector_loader).reason == "unsupported-proof"
    unsigned = {key: value for key, value in VECTOR.items() if key != "proof"}
    assert verify_document(document=unsigned, public_key_for=vector_key).reason == "no-proof"
    garbled = copy.deepcopy(VECTOR)
    garbled["proof"]["proofValue"] = "not-multibase"
    assert verify_document(document=garbled, public_key_for=vector_key, loader=vector_loader).reason == "malformed"


def test_what_the_canonical_form_would_drop_is_refused():
    private = Ed25519PrivateKey.generate()
    method = "https://school.example/badges/issuers/1#key"
    document = {"@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiableCredential"],
                "issuer": "https://school.example/badges/issuers/1", "validFrom": "2026-01-01T00:00:00Z",
                "credentialSubject": {"id": "urn:uuid:0b1f3a36-2b4c-4c1e-9d5e-2f6f0c1b7a11"}}
    signed = sign_document(document=document, private_key=private, verification_method=method,
                           created=datetime(2026, 1, 1, tzinfo=timezone.utc))
    public = lambda m: private.public_key()  # noqa: E731
    assert verify_document(document=signed, public_key_for=public).valid
    # The VC 2.0 context has no @vocab: a term it does not define would vanish from what the signature covers.
    for change in (lambda d: d.update(favouriteColour="blue"),
                   lambda d: d["credentialSubject"].update(grade="A+"),
                   lambda d: d.update(type=["VerifiableCredential", "MadeUpCredential"]),
                   lambda d: d["credentialSubject"].update(id="relative/path")):
        tampered = copy.deepcopy(signed)
        change(tampered)
        assert verify_document(document=tampered, public_key_for=public).reason == "unsafe"
    with pytest.raises(UnsafeDocument):
        sign_document(document={**document, "favouriteColour": "blue"}, private_key=private,
                      verification_method=method, created=datetime(2026, 1, 1, tzinfo=timezone.utc))


@pytest.mark.parametrize("contexts", [
    ["https://www.w3.org/2018/credentials/v1", "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.2.json",
     "https://w3id.org/security/data-integrity/v2"],
    ["https://www.w3.org/ns/credentials/v2", "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"],
])
def test_badges_on_the_held_contexts_sign_and_verify_offline(contexts, monkeypatch):
    import urllib.request
    monkeypatch.setattr(urllib.request, "urlopen", lambda *a, **k: pytest.fail("a context was fetched"))
    private = Ed25519PrivateKey.generate()
    document = {
        "@context": contexts, "id": "urn:uuid:4d4d8e8e-8f0a-4a33-9a58-0f8f6f3c2b10",
        "type": ["VerifiableCredential", "OpenBadgeCredential"], "issuer": {
            "id": "https://elsewhere.example/issuer", "type": ["Profile"], "name": "Elsewhere"},
        "credentialSubject": {"type": ["AchievementSubject"], "achievement": {
            "id": "https://elsewhere.example/a/1", "type": ["Achievement"], "name": "Knots",
            "description": "Ties knots.", "criteria": {"narrative": "Ties ten knots."}}},
    }
    document["issuanceDate" if "2018" in contexts[0] else "validFrom"] = "2026-01-01T00:00:00Z"
    signed = sign_document(document=document, private_key=private, verification_method="https://elsewhere.example/issuer#k",
                           created=datetime(2026, 1, 1, tzinfo=timezone.utc))
    assert verify_document(document=signed, public_key_for=lambda m: private.public_key()).valid
    signed["credentialSubject"]["achievement"]["name"] = "Sailing"
    assert verify_document(document=signed, public_key_for=lambda m: private.public_key()).reason == "bad-signature"


def test_a_poison_graph_is_refused_quickly():
    import time

    from app.services.badges.proof import canonical_nquads
    # Eight blank nodes all linked to each other look alike at every depth: canonicalising them takes RDFC-1.0
    # tens of thousands of deep iterations (a 7-node clique took 7.5 s, each node more ~10x).
    size = 8
    document = {"@context": {"p": {"@id": "https://x.example/p", "@type": "@id"}}, "@graph": [
        {"@id": f"_:n{i}", "p": [{"@id": f"_:n{j}"} for j in range(size) if j != i]} for i in range(size)]}
    started = time.monotonic()
    with pytest.raises(UnsafeDocument, match="look-alike blank nodes"):
        canonical_nquads(document)
    assert time.monotonic() - started < 5
    # Through the proof check too (its proof's terms defined, so the poison is what stops it): refused, not left running.
    document["@context"] = ["https://www.w3.org/ns/credentials/v2", document["@context"]]
    signed = {**document, "proof": {"type": "DataIntegrityProof", "cryptosuite": "eddsa-rdfc-2022",
                                    "created": "2026-01-01T00:00:00Z", "verificationMethod": "urn:k",
                                    "proofPurpose": "assertionMethod", "proofValue": "z2"}}
    check = verify_document(document=signed, public_key_for=lambda m: Ed25519PrivateKey.generate().public_key())
    assert (check.valid, check.reason) == (False, "unsafe")
