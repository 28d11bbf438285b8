"""The independent verifier of issued credentials: Digital Bazaar's @digitalbazaar/vc with the eddsa-rdfc-2022
cryptosuite and the Bitstring Status List checker (pinned in tests/badges/package-lock.json), run with Node by
tests/badges/verify.mjs.

Usage::

    result = node_verify(credential, documents={issuer_url: issuer_document, status_url: status_list})
    result["accepted"], result["verified"], result["status"], result["error"]

`documents` is what Folio published, fetched over HTTP by the test; the verifier loads nothing else (contexts come
from app/services/badges/contexts). Everything that can go wrong while getting Node and the packages raises
VerifierUnavailable with a one-line reason (the test skips with it, or fails under CI=true).
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from tests.node_tools import node_with_packages

FOLDER = Path(__file__).resolve().parent / "badges"


class VerifierUnavailable(RuntimeError):
    """Why the verifier could not be had (one line, human readable)."""


def node_verify(credential: dict, *, documents: dict[str, dict]) -> dict:
    """The verifier's verdict on one credential: `accepted` when its proof verifies and its status bit is clear;
    `verified` (the library's own answer: proof, dates, a status list it could check), `status`, `error`."""
    node = node_with_packages(FOLDER, unavailable=VerifierUnavailable)
    result = subprocess.run([node, str(FOLDER / "verify.mjs")], input=json.dumps({
        "credential": credential, "documents": documents}), capture_output=True, text=True, timeout=120)
    if result.returncode != 0:
        raise AssertionError(f"the verifier crashed: {result.stderr.strip()[-2000:]}")
    return json.loads(result.stdout)
