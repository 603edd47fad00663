"""Credentials of a source, encrypted at rest.

The key is derived (HKDF-SHA256, its own label) from the instance's secret key, so that
a copy of the database alone does not give the passwords away, and the cookie-signing key
itself is never used as an encryption key. Changing the secret key makes stored passwords
unreadable: the source's run then fails with ``credentials_unreadable`` and an owner types
the password again.
"""

from __future__ import annotations

import base64

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from corpora.sources.fetching import SourceFailure

_LABEL = b"guichet source credentials v1"


class SecretBox:
    """Encrypts and decrypts the passwords of sources (Fernet: AES-CBC with HMAC)."""

    def __init__(self, secret_key: str) -> None:
        derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_LABEL).derive(
            secret_key.encode("utf-8")
        )
        self._fernet = Fernet(base64.urlsafe_b64encode(derived))

    def seal(self, clear: str) -> str:
        return self._fernet.encrypt(clear.encode("utf-8")).decode("ascii")

    def open(self, sealed: str) -> str:
        try:
            return self._fernet.decrypt(sealed.encode("ascii")).decode("utf-8")
        except (InvalidToken, ValueError) as error:
            raise SourceFailure("credentials_unreadable") from error
