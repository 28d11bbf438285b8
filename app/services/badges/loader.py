"""The JSON-LD document loader: serves the vendored contexts (contexts/README.md) and refuses every other URL."""

import copy
import json
from functools import cache
from pathlib import Path

_FOLDER = Path(__file__).parent / "contexts"

VC_V2 = "https://www.w3.org/ns/credentials/v2"
OB_V3 = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
DATA_INTEGRITY_V2 = "https://w3id.org/security/data-integrity/v2"
MULTIKEY_V1 = "https://w3id.org/security/multikey/v1"
DID_V1 = "https://www.w3.org/ns/did/v1"
# Not used by what Folio issues; held so that badges issued elsewhere on them can be checked offline too.
VC_V1 = "https://www.w3.org/2018/credentials/v1"
OB_V3_0_0 = "https://purl.imsglobal.org/spec/ob/v3p0/context.json"
OB_V3_0_1 = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.1.json"
OB_V3_0_2 = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.2.json"
# The Ed25519Signature2020 suite's terms, which badges signed with Digital Bazaar's older suite name in @context.
ED25519_2020 = "https://w3id.org/security/suites/ed25519-2020/v1"

CONTEXT_FILES = {
    VC_V2: "credentials-v2.jsonld",
    OB_V3: "ob-context-3.0.3.json",
    DATA_INTEGRITY_V2: "data-integrity-v2.jsonld",
    MULTIKEY_V1: "multikey-v1.jsonld",
    DID_V1: "did-v1.jsonld",
    VC_V1: "credentials-v1.jsonld",
    OB_V3_0_0: "ob-context-3.0.json",
    OB_V3_0_1: "ob-context-3.0.1.json",
    OB_V3_0_2: "ob-context-3.0.2.json",
    ED25519_2020: "ed25519-signature-2020-v1.jsonld",
}


class UnknownContext(ValueError):
    """A document names a context Folio does not hold; it is refused, never fetched."""


@cache
def _context(url: str) -> dict:
    return json.loads((_FOLDER / CONTEXT_FILES[url]).read_text(encoding="utf-8"))


def context_document(url: str) -> dict:
    """The vendored context for a URL (a copy); UnknownContext for any other URL."""
    if url not in CONTEXT_FILES:
        raise UnknownContext(url)
    return copy.deepcopy(_context(url))


def document_loader(url: str, options: dict | None = None) -> dict:
    """pyld's loader interface over the vendored contexts: no request ever leaves the server."""
    return {"contextUrl": None, "documentUrl": url, "document": context_document(url)}
