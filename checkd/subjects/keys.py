"""Keyed hashing of personal identity numbers, so they are never stored or logged in clear."""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

from checkd.subjects.ids import Identifier

_FINGERPRINT_LABEL = b"checkd key fingerprint v1"


class SubjectKeyer:
    """Turns an identifier into the key the index and store use.

    Organisations keep their public code in clear; persons get an HMAC, so the same person
    always gets the same key under the same secret and the number itself is never stored.
    """

    def __init__(self, secret: bytes) -> None:
        if len(secret) < 16:
            raise ValueError("the personal-data secret must be at least 16 bytes")
        self._secret = secret

    def key(self, identifier: Identifier) -> str:
        """The lookup key of an identifier."""
        if not identifier.personal:  # a possible person's number is keyed too
            return identifier.value
        return self.person_key(identifier.value)

    def person_key(self, canonical_id: str) -> str:
        """The keyed hash of a canonical 18-character person number."""
        digest = hmac.new(self._secret, canonical_id.encode(), hashlib.sha256).hexdigest()
        return "p:" + digest[:40]

    def fingerprint(self) -> str:
        """A short value that identifies the secret without revealing it (kept in the store)."""
        return hmac.new(self._secret, _FINGERPRINT_LABEL, hashlib.sha256).hexdigest()[:16]


def load_secret(path: Path, env_value: str | None = None, create: bool = True) -> bytes:
    """The secret from the environment if set, else from `path` (created, mode 0600, if absent)."""
    if env_value:
        return env_value.encode()
    if not path.exists():
        if not create:
            raise FileNotFoundError(f"personal-data secret file {path} does not exist")
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_hex(32))
    return path.read_text().strip().encode()
