"""The anonymity primitive shared by pulse rounds and contract checks.

While a survey is open, a person's answers are stored under HMAC(key, "survey:person"),
with a random key kept in its own table; deleting the key at close leaves tokens that
nothing can link to a person. Confidential surveys use a stable per-person token."""

from __future__ import annotations

import hashlib
import hmac
import secrets


def new_key() -> str:
    return secrets.token_hex(32)


def anonymous_token(key: str, survey_id: int, person_id: int) -> str:
    digest = hmac.new(bytes.fromhex(key), f"{survey_id}:{person_id}".encode(), hashlib.sha256)
    return digest.hexdigest()[:40]


def confidential_token(person_id: int) -> str:
    return f"person-{person_id}"
