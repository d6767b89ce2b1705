"""Sealing a queued deployment's fleet: AES-GCM under a key derived from the Mist token(s) it runs with.

The fleet holds secrets (PSK passphrases, RADIUS secrets) and waits in Redis until a worker runs it. Sealed
with a key only holders of the same `MIST_APITOKEN` can derive, and bound to the run id, it is useless to
anyone who can merely read Redis, and cannot be replayed under another run.
"""

from __future__ import annotations

import base64
import hashlib
import os
from collections.abc import Sequence

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from pydantic import SecretStr

from mistctl.errors import UserError
from mistctl.mist.budget import token_fingerprint

_SEAL_INFO = b"mistctl queued fleet v1"


class SealError(UserError):
    """The sealed fleet cannot be opened with this process's Mist token(s)."""


def _seal_key(tokens: Sequence[SecretStr]) -> bytes:
    material = "\n".join(sorted(t.get_secret_value() for t in tokens)).encode()
    return hashlib.sha256(_SEAL_INFO + b"\0" + material).digest()


def seal(data: bytes, tokens: Sequence[SecretStr], run_id: str) -> str:
    """AES-GCM under a key derived from the tokens, bound to the run id; base64 text."""
    nonce = os.urandom(12)
    return base64.b64encode(nonce + AESGCM(_seal_key(tokens)).encrypt(nonce, data, run_id.encode())).decode()


def unseal(blob: str, tokens: Sequence[SecretStr], run_id: str, sealed_for: str = "") -> bytes:
    """Open what `seal` sealed; `SealError` naming the tokens it was sealed for when these do not fit."""
    raw = base64.b64decode(blob)
    try:
        return AESGCM(_seal_key(tokens)).decrypt(raw[:12], raw[12:], run_id.encode())
    except InvalidTag:
        mine = ", ".join(token_fingerprint(t) for t in tokens)
        raise SealError(
            f"run {run_id} was queued with Mist token(s) {sealed_for or '(unknown)'} but this worker has "
            f"{mine}: give the workers the same MIST_APITOKEN as the service or CLI that queues deployments"
        ) from None
