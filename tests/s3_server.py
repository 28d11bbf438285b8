"""A throwaway S3 API server for the test suite: moto's standalone server (moto[server]) in a subprocess.

Usage::

    server = ThrowawayS3(); server.start()      # listens on 127.0.0.1 at a free port
    server.create_bucket("t-1")                  # an empty bucket for one test
    server.stop()                                # also run atexit if the run forgets

It is a real HTTP S3 API (signatures, multipart uploads, ranged GETs, CopyObject), so Folio's S3 storage is
tested through boto3 exactly as it talks to AWS, MinIO or Garage. Everything that can go wrong while getting a
server raises S3Unavailable with a one-line reason (the fixture skips with it, or fails under CI=true).
"""

from __future__ import annotations

import atexit
import importlib.util
import os
import socket
import subprocess
import sys
import tempfile
import time
from tests.live_server import free_port

ACCESS_KEY = "folio-test"
SECRET_KEY = "folio-test-secret"
REGION = "us-east-1"


class S3Unavailable(RuntimeError):
    """Why an S3 server could not be had (one line, human readable)."""


class ThrowawayS3:
    def __init__(self) -> None:
        self.process: subprocess.Popen | None = None
        self.port: int | None = None
        self._log = None
        self._client = None

    @property
    def endpoint_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30.0) -> None:
        if importlib.util.find_spec("moto") is None or importlib.util.find_spec("flask") is None:
            raise S3Unavailable("moto[server] is not installed (make install-test)")
        self._log = tempfile.TemporaryFile()
        for _attempt in range(3):  # another process may take the free port between probing and binding
            self.port = free_port()
            env = dict(os.environ, AWS_ACCESS_KEY_ID=ACCESS_KEY, AWS_SECRET_ACCESS_KEY=SECRET_KEY,
                       AWS_DEFAULT_REGION=REGION)
            self.process = subprocess.Popen(
                [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
                stdout=self._log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env)
            atexit.register(self.stop)
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    break
                try:
                    with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                        return
                except OSError:
                    time.sleep(0.1)
            self.stop()
        self._log.seek(0)
        tail = self._log.read()[-300:].decode("utf-8", "replace").strip().replace("\n", " | ")
        raise S3Unavailable(f"moto_server did not start: {tail or 'no output'}")

    def client(self):
        import boto3

        if self._client is None:
            self._client = boto3.session.Session().client(
                "s3", endpoint_url=self.endpoint_url, region_name=REGION,
                aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY)
        return self._client

    def create_bucket(self, name: str) -> None:
        self.client().create_bucket(Bucket=name)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None
