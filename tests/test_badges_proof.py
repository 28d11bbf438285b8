"""eddsa-rdfc-2022 proofs against the W3C vc-di-eddsa test vector, and what a proof check refuses."""

import copy
import json
from datetime import datetime, timezone
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from app.services.badges import loader as badge_loader
from app.services.badges.multibase import decode_base58btc, ed25519_from_multikey, ed25519_multikey
from app.services.badges.proof import sign_document, verify_document

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
