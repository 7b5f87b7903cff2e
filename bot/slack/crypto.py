"""Encryption of Slack tokens at rest: Fernet keys derived from PULSECOACH_SECRET_KEY.

The setting may hold several secrets, comma-separated, newest first: new ciphertext
uses the first, and any of them opens old ciphertext, so a key can be rotated by
prepending a new secret, re-sealing (done at startup), then dropping the old one.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

SALT = b"pulsecoach"
INFO = b"pulsecoach/slack/installation-tokens/v1"


class SealError(ValueError):
    """Ciphertext none of the configured keys can open (wrong or dropped key)."""


def derive(secret: str) -> Fernet:
    """A Fernet key from one secret; HKDF keeps the key separate from other uses of it."""
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=SALT, info=INFO).derive(secret.encode())
    return Fernet(base64.urlsafe_b64encode(key))


class Sealer:
    """Seals dicts of secrets into one ciphertext string and opens them again."""

    def __init__(self, secret_keys: str) -> None:
        secrets = [s.strip() for s in secret_keys.split(",") if s.strip()]
        if not secrets:
            raise ValueError("PULSECOACH_SECRET_KEY is empty")
        self.key_count = len(secrets)
        self._fernet = MultiFernet([derive(s) for s in secrets])

    def seal(self, values: dict[str, Any]) -> str:
        return self._fernet.encrypt(json.dumps(values, sort_keys=True).encode()).decode()

    def open(self, ciphertext: str) -> dict[str, Any]:
        try:
            opened: dict[str, Any] = json.loads(self._fernet.decrypt(ciphertext.encode()))
        except InvalidToken:
            raise SealError("no configured PULSECOACH_SECRET_KEY opens this token") from None
        return opened

    def reseal(self, ciphertext: str) -> str:
        """The same secrets under the newest key."""
        try:
            return self._fernet.rotate(ciphertext.encode()).decode()
        except InvalidToken:
            raise SealError("no configured PULSECOACH_SECRET_KEY opens this token") from None
