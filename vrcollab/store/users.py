"""Users and bearer tokens: the records both the auth store (:mod:`.base`) and the identity
store (:mod:`.identity`) build on."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

TOKEN_PREFIX = "vrc_"


@dataclass(frozen=True, slots=True)
class User:
    """A person (or bot) who can hold tokens and project memberships."""

    user_id: str
    name: str
    created: float


def new_token() -> str:
    """A fresh bearer token (shown once; only its hash is stored)."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    """SHA-256 hex of a token (tokens are 256-bit random, so a fast hash is enough)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()
