"""eddsa-rdfc-2022 Data Integrity proofs (W3C vc-di-eddsa): RDFC-1.0 canonical form, SHA-256, Ed25519. Checked too:
the older Ed25519Signature2020 proofs (W3C CCG, Digital Bazaar's suite), which hash and sign the same way."""

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cachetools import LRUCache
from pyld.canon import URDNA2015
from pyld.context_resolver import ContextResolver
from pyld.jsonld import JsonLdProcessor

from app.services.badges.loader import ED25519_2020, UnknownContext, document_loader
from app.services.badges.multibase import decode_base58btc, encode_base58btc

PROOF_TYPE = "DataIntegrityProof"
CRYPTOSUITE = "eddsa-rdfc-2022"
# The suite's own proof type: no `cryptosuite`, its terms from the suite context, which the document must name
# (jsonld-signatures matches no Ed25519Signature2020 proof in a document without it).
ED25519_2020_PROOF_TYPE = "Ed25519Signature2020"


@dataclass(frozen=True)
class ProofCheck:
    """What checking a proof found: `reason` is empty when it is valid, else a short code the pages explain."""

    valid: bool
    reason: str = ""
    verification_method: str = ""


def xsd_datetime(moment: datetime) -> str:
    """An XML Schema dateTime in UTC to the second ("2026-12-07T15:30:00Z"), as proofs and credentials carry."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")


Loader = Callable[[str, dict | None], dict]
# pyld's own cache of resolved contexts is shared by every loader and keyed by URL alone; one cache per loader
# keeps a context another loader served from ever standing in for a URL ours refuses.
_context_caches: dict[Loader, LRUCache] = {}


_ABSOLUTE_IRI = re.compile(r"^([A-Za-z][A-Za-z0-9+\-.]*|_):[^\s]*$")


class UnsafeDocument(ValueError):
    """Part of the document would silently fall out of its canonical form (a term no context defines, a relative
    IRI), so the signature would not cover it: refused, as jsonld.js's "safe mode" refuses it."""


def _check_iris(node) -> None:
    if isinstance(node, list):
        for item in node:
            _check_iris(item)
    elif isinstance(node, dict):
        for key, value in node.items():
            if key == "@id" and not _ABSOLUTE_IRI.match(value):
                raise UnsafeDocument(f"relative @id {value!r}")
            if key == "@type":
                for type_ in value if isinstance(value, list) else [value]:
                    if type_ != "@json" and not _ABSOLUTE_IRI.match(type_):
                        raise UnsafeDocument(f"relative @type {type_!r}")
            elif key != "@value":
                _check_iris(value)


# Blank nodes that look alike make RDFC-1.0 hash them "to the n-th degree", which a crafted document ("poison
# graph") can make take exponential time; like jsonld.js's maxDeepIterations, past this budget it is refused. A
# credential needs a handful of such calls at most (none when its blank nodes differ at first sight).
MAX_DEEP_ITERATIONS = 2000


class _BoundedRDFC(URDNA2015):
    def __init__(self) -> None:
        super().__init__()
        self.deep_iterations = 0

    def hash_n_degree_quads(self, id_, issuer):
        self.deep_iterations += 1
        if self.deep_iterations > MAX_DEEP_ITERATIONS:
            raise UnsafeDocument("too many look-alike blank nodes to canonicalise")
        return super().hash_n_degree_quads(id_, issuer)


def canonical_nquads(document: dict, *, loader: Loader = document_loader) -> str:
    """RDFC-1.0 (URDNA2015) canonical N-Quads of a JSON-LD document; contexts come only from the loader; raises
    UnsafeDocument for anything the canonical form would drop."""
    dropped: list = []
    processor = JsonLdProcessor(on_property_dropped=dropped.append)
    cache = _context_caches.setdefault(loader, LRUCache(maxsize=100))
    # No base IRI: a relative IRI stays relative (and is refused below) instead of resolving against pyld's default.
    options = {"documentLoader": loader, "contextResolver": ContextResolver(cache, loader), "base": None}
    expanded = processor.expand(document, dict(options))
    if dropped:
        raise UnsafeDocument(f"terms no context defines: {dropped}")
    _check_iris(expanded)
    dataset = processor.to_rdf(expanded, {**options, "produceGeneralizedRdf": False})
    return _BoundedRDFC().main(dataset, {"algorithm": "URDNA2015", "format": "application/n-quads"})


def _hash_data(*, unsecured: dict, proof_config: dict, loader: Loader) -> bytes:
    config_hash = hashlib.sha256(canonical_nquads(proof_config, loader=loader).encode("utf-8")).digest()
    document_hash = hashlib.sha256(canonical_nquads(unsecured, loader=loader).encode("utf-8")).digest()
    return config_hash + document_hash


def sign_document(
    *, document: dict, private_key: Ed25519PrivateKey, verification_method: str, created: datetime,
    proof_purpose: str = "assertionMethod", loader: Loader = document_loader,
) -> dict:
    """A copy of the document with an eddsa-rdfc-2022 DataIntegrityProof by this key added."""
    unsecured = {key: value for key, value in document.items() if key != "proof"}
    proof = {
        "type": PROOF_TYPE,
        "cryptosuite": CRYPTOSUITE,
        "created": xsd_datetime(created),
        "verificationMethod": verification_method,
        "proofPurpose": proof_purpose,
    }
    proof_config = {"@context": unsecured["@context"], **proof}
    signature = private_key.sign(_hash_data(unsecured=unsecured, proof_config=proof_config, loader=loader))
    return {**unsecured, "proof": {**proof, "proofValue": encode_base58btc(signature)}}


def _unknown_context(error: BaseException | None) -> bool:
    seen = 0
    while error is not None and seen < 20:
        if isinstance(error, UnknownContext):
            return True
        error = getattr(error, "cause", None) or error.__cause__ or error.__context__
        seen += 1
    return False


def _names_context(contexts, url: str) -> bool:
    return contexts == url or isinstance(contexts, list) and url in contexts


def verify_document(
    *, document: dict, public_key_for: Callable[[str], Ed25519PublicKey | None],
    proof_purpose: str = "assertionMethod", loader: Loader = document_loader,
) -> ProofCheck:
    """Check a document's eddsa-rdfc-2022 or Ed25519Signature2020 proof (both sign the SHA-256 of the canonical proof
    options, then of the document); `public_key_for` maps a verification method id to its key (or None)."""
    if not isinstance(document, dict) or "@context" not in document:
        return ProofCheck(False, "malformed")
    proof = document.get("proof")
    if isinstance(proof, list) and len(proof) == 1:
        proof = proof[0]
    if not isinstance(proof, dict):
        return ProofCheck(False, "no-proof")
    if not (proof.get("type") == PROOF_TYPE and proof.get("cryptosuite") == CRYPTOSUITE
            or proof.get("type") == ED25519_2020_PROOF_TYPE and "cryptosuite" not in proof):
        return ProofCheck(False, "unsupported-proof")
    method = proof.get("verificationMethod")
    if not isinstance(method, str) or proof.get("proofPurpose") != proof_purpose:
        return ProofCheck(False, "malformed")
    # A proof that names its own context must name the document's (vc-di-eddsa, "Verify Proof").
    if "@context" in proof and proof["@context"] != document["@context"]:
        return ProofCheck(False, "malformed", method)
    if proof["type"] == ED25519_2020_PROOF_TYPE and not _names_context(document["@context"], ED25519_2020):
        return ProofCheck(False, "malformed", method)
    try:
        signature = decode_base58btc(proof.get("proofValue"))
    except ValueError:
        return ProofCheck(False, "malformed", method)
    key = public_key_for(method)
    if key is None:
        return ProofCheck(False, "unknown-key", method)
    unsecured = {name: value for name, value in document.items() if name != "proof"}
    proof_config = {name: value for name, value in proof.items() if name != "proofValue"}
    proof_config["@context"] = document["@context"]
    try:
        hash_data = _hash_data(unsecured=unsecured, proof_config=proof_config, loader=loader)
    except UnsafeDocument:
        return ProofCheck(False, "unsafe", method)
    except Exception as error:  # pyld raises JsonLdError for any document it cannot process
        return ProofCheck(False, "unknown-context" if _unknown_context(error) else "malformed", method)
    try:
        key.verify(signature, hash_data)
    except InvalidSignature:
        return ProofCheck(False, "bad-signature", method)
    return ProofCheck(True, "", method)
