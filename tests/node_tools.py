"""Node.js and a folder's pinned npm packages for the tests that run a JavaScript tool in a subprocess
(tests/badges_verifier.py, tests/oidc_server.py).

Each caller passes its own exception class, so its tests keep one reason to skip with (or to fail on under CI=true,
through tests.conftest.unavailable) whatever went missing: Node, npm or the packages.
"""

from __future__ import annotations

import fcntl
import shutil
import subprocess
from pathlib import Path


def node_with_packages(folder: Path, *, unavailable: type[Exception]) -> str:
    """The path of `node`, once `npm ci` has filled folder/node_modules when it was missing (`make test` does it
    beforehand); raises `unavailable` with a one-line reason when Node, npm or the packages cannot be had."""
    node = shutil.which("node")
    if node is None:
        raise unavailable("node is not installed (apt-get install nodejs npm)")
    marker = folder / "node_modules" / ".package-lock.json"
    if marker.exists():
        return node
    npm = shutil.which("npm")
    if npm is None:
        raise unavailable("npm is not installed (apt-get install nodejs npm)")
    # pytest-xdist's workers may all get here at once: one installs, the others wait for it.
    with open(folder / "package-lock.json") as lock_file:
        fcntl.flock(lock_file, fcntl.LOCK_EX)
        if marker.exists():
            return node
        result = subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=folder,
                                capture_output=True, text=True, timeout=300)
    if result.returncode != 0:
        raise unavailable(f"npm ci in tests/{folder.name} failed: {result.stderr.strip()[-300:]}")
    return node
