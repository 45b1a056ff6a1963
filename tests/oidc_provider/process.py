"""Start and stop the test identity provider (``serve.py``) as a real second process on a free port."""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Provider:
    issuer: str
    client_id: str
    client_secret: str


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _rsa_key() -> str:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


@contextmanager
def running_provider(*, users: list[tuple[str, str, str]], redirect_uris: list[str]) -> Iterator[Provider]:
    """A provider with these (username, password, email) accounts and one confidential client that may
    redirect to ``redirect_uris`` (a loopback address matches on any port, as RFC 8252 asks)."""
    work = Path(tempfile.mkdtemp(prefix="oidc-provider-"))
    port = _free_port()
    provider = Provider(
        issuer=f"http://127.0.0.1:{port}/o",
        client_id="samverkan-" + secrets.token_hex(4),
        client_secret=secrets.token_urlsafe(24),
    )
    environment = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": str(ROOT),
        "OIDC_PROVIDER_SECRET_KEY": secrets.token_urlsafe(40),
        "OIDC_PROVIDER_DB": str(work / "provider.sqlite3"),
        "OIDC_PROVIDER_RSA_KEY": _rsa_key(),
        "OIDC_PROVIDER_ISSUER": provider.issuer,
        "OIDC_PROVIDER_CLIENT_ID": provider.client_id,
        "OIDC_PROVIDER_CLIENT_SECRET": provider.client_secret,
        "OIDC_PROVIDER_REDIRECT_URIS": " ".join(redirect_uris),
        "OIDC_PROVIDER_USERS": " ".join(":".join(user) for user in users),
    }
    log = open(work / "provider.log", "wb")  # noqa: SIM115 - closed after the process stops
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.oidc_provider.serve", str(port)],
        cwd=ROOT,
        env=environment,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/ready", timeout=2) as answer:  # noqa: S310
                    if answer.status == 200:
                        break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    process.kill()
                    raise RuntimeError((work / "provider.log").read_text()) from None
                time.sleep(0.2)
        yield provider
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()
        shutil.rmtree(work, ignore_errors=True)
