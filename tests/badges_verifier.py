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

import fcntl
import json
import shutil
import subprocess
from pathlib import Path

FOLDER = Path(__file__).resolve().parent / "badges"


class VerifierUnavailable(RuntimeError):
    """Why the verifier could not be had (one line, human readable)."""


def install_packages() -> None:
    """`npm ci` in tests/badges when its node_modules is missing (`make test` does it beforehand)."""
    marker = FOLDER / "node_modules" / ".package-lock.json"
    if marker.exists():
        return
    npm = shutil.which("npm")
    if npm is None:
        raise VerifierUnavailable("npm is not installed (apt-get install nodejs npm)")
    # pytest-xdist's workers may all get here at once: one installs, the others wait for it.
    with open(FOLDER / "package-lock.json") as lock_file:
        fcntl.flock(lock_file, fcntl.LOCK_EX)
        if marker.exists():
            return
        result = subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=FOLDER,
                                capture_output=True, text=True, timeout=300)
    if result.returncode != 0:
        raise VerifierUnavailable(f"npm ci in tests/badges failed: {result.stderr.strip()[-300:]}")


def node_verify(credential: dict, *, documents: dict[str, dict]) -> dict:
    """The verifier's verdict on one credential: `accepted` when its proof verifies and its status bit is clear;
    `verified` (the library's own answer: proof, dates, a status list it could check), `status`, `error`."""
    node = shutil.which("node")
    if node is None:
        raise VerifierUnavailable("node is not installed (apt-get install nodejs npm)")
    install_packages()
    result = subprocess.run([node, str(FOLDER / "verify.mjs")], input=json.dumps({
        "credential": credential, "documents": documents}), capture_output=True, text=True, timeout=120)
    if result.returncode != 0:
        raise AssertionError(f"the verifier crashed: {result.stderr.strip()[-2000:]}")
    return json.loads(result.stdout)
