"""PSK fingerprints that a copy of the state store cannot be used to guess passphrases from.

A fingerprint is `HMAC-SHA256(fingerprint key, org id + passphrase)`, stored as `hk-<key id>:<hex>`
(the key id: 8 hex of an HMAC of the key, so a fingerprint made with another key is told apart from a
passphrase that changed). The key is never in the store:

    MISTCTL_FINGERPRINT_KEY     when set (32+ characters): the same on every CLI, service replica and
                                worker that manages the org (they compare each other's fingerprints)
    ~/.mistctl/fingerprint.key  otherwise: made on first use (32 random bytes, mode 0600), per user and
                                machine; fine for one machine, wrong for several (see README)

Fingerprints made before (`sha256:<hex>`, keyed by the org id alone: a wordlist recovers a passphrase
at 600k guesses per second) are still recognised, and rewritten in the keyed form the first time one
is matched (`psk_records`); a rotation rewrites its own records anyway.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
from pathlib import Path

from mistctl.errors import UserError
from mistctl.store.redact import fingerprint_secret

KEY_ENV = "MISTCTL_FINGERPRINT_KEY"
MIN_KEY = 32
_KEYED = re.compile(r"^hk-([0-9a-f]{8}):([0-9a-f]{64})$")
_LEGACY_PREFIX = "sha256:"


class FingerprintKeyError(UserError, ValueError):
    """The fingerprint key is unusable, or the store's fingerprints were made with another one."""


def key_file() -> Path:
    """Where the key is kept when `MISTCTL_FINGERPRINT_KEY` is not set."""
    return Path.home() / ".mistctl" / "fingerprint.key"


def load_key() -> bytes:
    """The fingerprint key: the environment's, else the key file's (made on first use)."""
    given = os.environ.get(KEY_ENV, "").strip()
    if given:
        if len(given) < MIN_KEY:
            raise FingerprintKeyError(f"{KEY_ENV} is {len(given)} characters long; it needs at least {MIN_KEY} "
                                      "(make one with `openssl rand -hex 32`)")
        return given.encode()
    path = key_file()
    if not path.exists():
        _make_key_file(path)
    return path.read_text().strip().encode()


def _make_key_file(path: Path) -> None:
    """Write a new key whole, then link it in place: two processes racing both end up with the winner's."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    draft = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(secrets.token_hex(32))
    try:
        os.link(draft, path)
    except FileExistsError:
        pass  # another process made it first: use theirs
    finally:
        draft.unlink()


def key_id(key: bytes) -> str:
    return hmac.new(key, b"mistctl fingerprint key id", hashlib.sha256).hexdigest()[:8]


def psk_fingerprint(passphrase: str, org_id: str, key: bytes | None = None) -> str:
    """The keyed fingerprint of a passphrase of an org."""
    key = key if key is not None else load_key()
    digest = hmac.new(key, f"{org_id}\0{passphrase}".encode(), hashlib.sha256).hexdigest()
    return f"hk-{key_id(key)}:{digest}"


def is_legacy(fingerprint: str) -> bool:
    """A fingerprint of the old kind (keyed by the org id alone)."""
    return fingerprint.startswith(_LEGACY_PREFIX)


def fingerprint_matches(fingerprint: str, passphrase: str, org_id: str, key: bytes | None = None) -> bool:
    """Whether a stored fingerprint is this passphrase's; `FingerprintKeyError` for one made with another
    key (the answer cannot be known: mistctl refuses rather than revert a rotation it made)."""
    if is_legacy(fingerprint):
        return hmac.compare_digest(fingerprint, fingerprint_secret(passphrase, org_id))
    found = _KEYED.match(fingerprint)
    if found is None:
        return False
    key = key if key is not None else load_key()
    if found.group(1) != key_id(key):
        raise FingerprintKeyError(
            f"the state store's PSK fingerprints were made with another fingerprint key (id {found.group(1)}; "
            f"this process has {key_id(key)}): set {KEY_ENV} to the same value on every CLI, service and "
            "worker that manages this org")
    return hmac.compare_digest(fingerprint, psk_fingerprint(passphrase, org_id, key))
