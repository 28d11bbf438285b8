"""A throwaway OpenID Connect provider for the single sign-on tests: the npm package oidc-provider (pinned in
tests/oidc/package-lock.json), run with Node in a subprocess by tests/oidc/provider.mjs.

Usage::

    provider = ThrowawayOidcProvider(redirect_uris=["http://testserver/sso/callback"]); provider.start()
    provider.issuer, provider.client_id, provider.client_secret
    callback = provider.sign_in(authorization_url, login="ana@school.test")   # its login page, driven by httpx
    provider.stop()                                                          # also run atexit

Anyone can sign in at its login page; the login typed is the account (see provider.mjs). Everything that can go
wrong while getting a provider raises OidcUnavailable with a one-line reason (the fixture skips with it, or fails
under CI=true).
"""

from __future__ import annotations

import atexit
import json
import re
import socket
import subprocess
import tempfile
import time
from html import unescape
from pathlib import Path
from urllib.parse import urljoin

import httpx

from tests.node_tools import node_with_packages
from tests.live_server import free_port

FOLDER = Path(__file__).resolve().parent / "oidc"
CLIENT_ID = "folio-tests"
CLIENT_SECRET = "folio-tests-client-secret"


class OidcUnavailable(RuntimeError):
    """Why a provider could not be had (one line, human readable)."""


class ThrowawayOidcProvider:
    def __init__(self, redirect_uris: list[str]) -> None:
        self.redirect_uris = redirect_uris
        self.client_id = CLIENT_ID
        self.client_secret = CLIENT_SECRET
        self.process: subprocess.Popen | None = None
        self.port: int | None = None
        self._log = None

    @property
    def issuer(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 15.0) -> None:
        node = node_with_packages(FOLDER, unavailable=OidcUnavailable)
        options = json.dumps({"client_id": self.client_id, "client_secret": self.client_secret,
                              "redirect_uris": self.redirect_uris})
        self._log = tempfile.TemporaryFile()
        for _attempt in range(3):  # another process may take the free port between probing and binding
            self.port = free_port()
            self.process = subprocess.Popen([node, str(FOLDER / "provider.mjs"), str(self.port), options],
                                            stdout=self._log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
            atexit.register(self.stop)
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline and self.process.poll() is None:
                try:
                    with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                        return
                except OSError:
                    time.sleep(0.05)
            self.stop()
        self._log.seek(0)
        tail = self._log.read()[-300:].decode("utf-8", "replace").strip().replace("\n", " | ")
        raise OidcUnavailable(f"oidc-provider did not start: {tail or 'no output'}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def sign_in(self, authorization_url: str, *, login: str) -> str:
        """Go through the provider's own pages as a browser would (its login form, typed `login`), from the
        authorization request to the redirect back; returns that redirect's full address."""
        with httpx.Client(follow_redirects=False, timeout=10) as browser:
            response = browser.get(authorization_url)
            for _step in range(10):
                if response.is_redirect:
                    location = urljoin(str(response.url), response.headers["location"])
                    if not location.startswith(self.issuer):
                        return location
                    response = browser.get(location)
                    continue
                form = re.search(r'<form[^>]*action="([^"]+)"[^>]*>(.*?)</form>', response.text, re.S)
                if response.status_code != 200 or form is None:
                    raise AssertionError(f"the provider answered {response.status_code}: {response.text[:500]}")
                fields = dict(re.findall(r'<input[^>]*type="hidden"[^>]*name="([^"]+)"[^>]*value="([^"]*)"',
                                         form.group(2)))
                fields = {name: unescape(value) for name, value in fields.items()}
                fields |= {"login": login, "password": "anything"}
                response = browser.post(urljoin(str(response.url), unescape(form.group(1))), data=fields)
        raise AssertionError("the provider never sent the browser back")
