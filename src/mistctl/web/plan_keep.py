"""Keeping a pasted fleet in the plan form after an error, without sending its secrets back.

The text goes back into the form with each secret value (`passphrase: ...`, `psk: ...`: a pair with a
secret name, as `store.redact` spots them) replaced by a placeholder `__kept_secret_N__`; the values
themselves ride in a hidden field sealed with AES-GCM (`scaleout.seal`) under a key derived from the
service keys and bound to the session, so only this service, for this session, can open it. Submitted
again, the placeholders are put back from the sealed field. When a secret the fleet holds would still show
(a form the masking does not know), nothing is kept and the page says to paste the fleet again.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

import yaml
from pydantic import SecretStr

from mistctl.api.auth import service_keys
from mistctl.api.context import AppContext
from mistctl.domain.errors import FleetInvalid, Issue
from mistctl.scaleout.seal import SealError, seal, unseal
from mistctl.store.redact import SECRET_PAIR, is_secret_name
from mistctl.web.session import Session

PLACEHOLDER = re.compile(r"__kept_secret_(\d{1,4})__")
MAX_KEPT = 2_000_000  # characters of pasted text kept in the form
_INDICATORS = frozenset("|>&!*")


@dataclass(frozen=True)
class KeptFleet:
    """The pasted text with its secrets masked, and the sealed secrets ('' when there were none)."""

    text: str
    sealed: str = ""


def _bound(session: Session) -> str:
    return f"console-plan:{session.sid}"


def _tokens(ctx: AppContext) -> list[SecretStr]:
    return [SecretStr(k) for k in service_keys(ctx)]


def mask(text: str) -> tuple[str, list[str]]:
    """The text with each secret pair's value replaced by a placeholder, and the values in order."""
    found: list[str] = []

    def replace(match: re.Match[str]) -> str:
        value = match["value"]
        quote = value[0] if value[:1] in ("'", '"') and value[-1:] == value[:1] and len(value) > 1 else ""
        found.append(value[1:-1] if quote else value)
        return f"{match['name']}{match['sep']}{quote}__kept_secret_{len(found)}__{quote}"

    return SECRET_PAIR.sub(replace, text), found


def _secret_values(text: str) -> set[str]:
    """Every string under a secret-named key, when the text parses as YAML (else none known)."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError:
        return set()
    values: set[str] = set()

    def walk(node: Any, secret: bool) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                walk(value, secret or is_secret_name(str(key)))
        elif isinstance(node, list):
            for item in node:
                walk(item, secret)
        elif secret and isinstance(node, str | int | float) and len(str(node)) >= 4 \
                and not PLACEHOLDER.fullmatch(str(node)):  # a kept secret's placeholder is no secret
            values.add(str(node))

    walk(data, False)
    return values


def keep(ctx: AppContext, session: Session, text: str) -> KeptFleet | None:
    """The pasted text to put back in the form, or None when it cannot go back without a secret."""
    if not text.strip() or len(text) > MAX_KEPT:
        return None
    masked, secrets = mask(text)
    if any(value[:1] in _INDICATORS for value in secrets):  # a block, anchor or tag: the value is elsewhere
        return None
    if any(value in masked for value in _secret_values(text)):
        return None
    if not secrets:
        return KeptFleet(masked)
    return KeptFleet(masked, seal(json.dumps(secrets).encode(), _tokens(ctx), _bound(session)))


def restore(ctx: AppContext, session: Session, text: str, sealed: str | None, source: str) -> str:
    """The submitted text with kept secrets put back; `FleetInvalid` when a placeholder cannot be."""
    if not PLACEHOLDER.search(text):
        return text
    try:
        secrets = json.loads(unseal(sealed or "", _tokens(ctx), _bound(session))) if sealed else []
    except (SealError, ValueError):
        secrets = []

    def put_back(match: re.Match[str]) -> str:
        index = int(match[1]) - 1
        if not 0 <= index < len(secrets):
            raise FleetInvalid([Issue(source, match[0], "is a secret kept from an earlier submission that this "
                                      "form no longer holds: write the passphrase in again")])
        return str(secrets[index])

    return PLACEHOLDER.sub(put_back, text)
