"""Keep secrets out of the state store: redaction of plans, errors and events; secret fingerprints.

What counts as a secret, by the name of the field holding it (case-insensitive, `-` read as `_`):

* exactly one of `SECRET_NAMES` (`passphrase`, `old_passphrase`, `apitoken`, `token`, `password`,
  `secret`, `psk`, `mesh_psk`, `default_psk`, `keys`, `auth_keys`, `sitekey`, `api_key`, ...);
* or ending in one of `SECRET_SUFFIXES` (`_password`, `_passphrase`, `_secret`, `_token`, `_apitoken`,
  `_key`): Mist's `root_password`, `client_secret`, `splunk_token`, `auth_key`, `partner_key`...;
* `key` itself is Mist's word both for key material (a PEM private key, an API token's value) and for a
  plain identifier (an app key such as `gmail`, mistctl's own natural keys). Its value is redacted only
  when it looks like key material: a PEM block or a run of 32+ base64/alphanumeric characters.

Names such as `psk_id`, `key_idx`, `key_mgmt`, `passphrase_rules` or `password_policy` are settings,
not secrets, and stay. A redacted value becomes the string `<redacted>`; `None` and `""` stay as they are;
an object under a secret name (`{"psk": {"name": ..., "passphrase": ...}}`) is searched, not dropped.
The walk itself is `domain.redactwalk` (shared with the plan's `domain.normalize.redact`).
Free text (error messages) loses `Token ...`/`Bearer ...` credentials (16+ characters),
`name=value` / `"name": "value"` pairs with a secret name (bare `key=` excepted), and PEM private keys.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import re
from collections.abc import Mapping
from typing import Any

from mistctl.domain.redactwalk import Walk, redacting_walk

REDACTED = "<redacted>"

SECRET_NAMES = frozenset(
    {
        "passphrase",
        "old_passphrase",
        "new_passphrase",
        "apitoken",
        "token",
        "password",
        "passwd",
        "secret",
        "psk",
        "mesh_psk",
        "default_psk",
        "keys",
        "auth_keys",
        "sitekey",
        "apikey",
        "private_key",
        "authorization",
    }
)
SECRET_SUFFIXES = ("_password", "_passphrase", "_secret", "_token", "_apitoken", "_key")

_KEY_MATERIAL = re.compile(r"-----BEGIN |^[A-Za-z0-9+/=]{32,}$")
_TEXT_CREDENTIAL = re.compile(r"\b(Token|Bearer|Basic)\s+[A-Za-z0-9._~+/=-]{16,}", re.IGNORECASE)
_PEM_BLOCK = re.compile(
    r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?(-----END [A-Z ]*PRIVATE KEY-----|$)", re.DOTALL
)
_SUFFIX_ALT = "|".join(s.lstrip("_") for s in SECRET_SUFFIXES)
_TEXT_PAIR = re.compile(
    r"(?<!\w)(?P<name>[\"']?(?:\w*_)?(?:"
    + "|".join(sorted(SECRET_NAMES - {"keys"}))
    + "|"
    + _SUFFIX_ALT
    + r")[\"']?)"
    r"(?P<sep>\s*[:=]\s*)"
    r"(?P<value>\"[^\"]*\"|'[^']*'|[^\s,;&}\]]+)",
    re.IGNORECASE,
)
#: `name: value` / `name=value` pairs with a secret name in free text (the console masks a pasted fleet's)
SECRET_PAIR = _TEXT_PAIR
_KEYED_FINGERPRINT = re.compile(r"^hk-[0-9a-f]{8}:[0-9a-f]{64}$")
_FINGERPRINT = re.compile(r"^[a-z0-9_-]{2,32}:[0-9a-f]{16,128}$")


@functools.lru_cache(maxsize=4096)  # a plan of thousands of sites repeats a few dozen field names
def is_secret_name(name: str) -> bool:
    """True when a field called `name` holds a secret (see the module docstring for the rule)."""
    norm = name.strip().lower().replace("-", "_")
    return norm in SECRET_NAMES or norm.endswith(SECRET_SUFFIXES)


@functools.lru_cache(maxsize=4096)
def _is_key_name(name: str) -> bool:
    return name.lower() == "key"


@functools.lru_cache(maxsize=4096)
def _plain_name(key: Any) -> bool:
    """Whether a field called `key` is neither secret-named nor `key` (its plain values are kept as they are)."""
    name = str(key)
    return not is_secret_name(name) and not _is_key_name(name)


def _redact_field(key: Any, value: Any, walk: Walk) -> Any:
    name = str(key)
    if value is None or value == "":
        return value
    if is_secret_name(name) and not isinstance(value, Mapping):
        return REDACTED
    if _is_key_name(name) and isinstance(value, str) and _KEY_MATERIAL.search(value):
        return REDACTED
    return walk(value)  # an object under a secret name is searched; a `key` that is not key material stays


redact = redacting_walk(
    _plain_name, _redact_field, (list, tuple),
    doc="A copy of `value` (JSON-like data) with every secret-named field's value replaced by `<redacted>`.",
)


#: pydantic's error texts quote the offending input (`input_value='...'`): it may be a passphrase.
_INPUT_VALUE = re.compile(r"input_value=.*?(?=, input_type=)|input_value=[^\n]*")


#: What every redaction of free text needs to find first: a `:`/`=` separator (pairs, `input_value=`), a
#: credential scheme followed by a space, or a PEM header. Text without any (a Mist path) is left as it is.
_MAY_HOLD_SECRET = re.compile(r"[:=]|(?:token|bearer|basic)\s|-----BEGIN ", re.IGNORECASE)
#: Each of those holds a `:`, a `=` or a space: one character class answers most text (a path) five times faster.
_SEPARATOR_OR_SPACE = re.compile(r"[:=\s]")
_TOKEN_SHAPE = re.compile(r"[A-Za-z0-9]{32,}")


def redact_text(text: str) -> str:
    """`text` (an error message, a URL path) without credentials, secret-named pairs, private keys or the
    input values a validation error quotes."""
    if not _SEPARATOR_OR_SPACE.search(text) or not _MAY_HOLD_SECRET.search(text):  # one scan, not four
        return text  # (an audited call's path, per write)
    text = _INPUT_VALUE.sub(f"input_value={REDACTED}", text)
    text = _PEM_BLOCK.sub(REDACTED, text)
    text = _TEXT_CREDENTIAL.sub(lambda m: f"{m.group(1)} {REDACTED}", text)
    return _TEXT_PAIR.sub(_redact_pair, text)


def _redact_pair(match: re.Match[str]) -> str:
    name = match.group("name")
    if name.strip("\"'").lower() == "key":  # a bare `key` is usually an identifier in messages
        return match.group(0)
    return f"{name}{match.group('sep')}{REDACTED}"


def looks_like_token(text: str) -> bool:
    """True for a string shaped like an API token (32+ alphanumeric characters, nothing else)."""
    return bool(_TOKEN_SHAPE.fullmatch(text))


def fingerprint_secret(secret: str, salt: str, algo: str = "sha256") -> str:
    """A one-way fingerprint of `secret` (keyed by `salt`, e.g. the org id), as `sha256:<hex>`."""
    digest = hmac.new(salt.encode(), secret.encode(), algo).hexdigest()
    return f"{algo}:{digest}"


def is_fingerprint(value: str) -> bool:
    """True for `algo:hex` fingerprints as made by `fingerprint_secret`, and `hk-<key id>:<hex>` ones (keyed
    with a secret outside the store: `workflow.psk_fingerprint`); a plain passphrase is not one."""
    if _KEYED_FINGERPRINT.fullmatch(value):
        return True
    return bool(_FINGERPRINT.fullmatch(value)) and value.split(":", 1)[0] in hashlib.algorithms_available
