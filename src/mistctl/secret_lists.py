"""Secrets given as lists in one environment variable: `MIST_APITOKEN` and `MISTCTL_API_KEYS`.

Either holds one secret per line or several separated by commas (or both). Each is checked when it is
read, so a bad one stops the command or the service at start-up with an error that names the variable,
which secret by position and which character by position: never the secret itself.

    MIST_APITOKEN      visible ASCII only (it goes into an HTTP header as `Token <token>`)
    MISTCTL_API_KEYS   visible ASCII only, and at least 32 characters (a key is guessed online otherwise)
"""

from __future__ import annotations

import re

from mistctl.errors import UserError

MIN_SERVICE_KEY = 32
_SPLIT = re.compile(r"[,\r\n]+")
_VISIBLE = re.compile(r"[\x21-\x7e]")


class SecretListInvalid(UserError, ValueError):
    """A secret in a list variable is unusable; the message names it by position only."""


def split_secrets(raw: str) -> list[str]:
    """The secrets of a list variable, in order: split on newlines and commas, blanks dropped."""
    return [part.strip() for part in _SPLIT.split(raw) if part.strip()]


def _ordinal(index: int, count: int) -> str:
    return "the only entry" if count == 1 else f"entry #{index + 1} of {count}"


def _check_characters(variable: str, secrets: list[str]) -> None:
    for index, secret in enumerate(secrets):
        for at, char in enumerate(secret):
            if not _VISIBLE.fullmatch(char):
                what = "a space" if char in " \t" else f"character U+{ord(char):04X}"
                raise SecretListInvalid(
                    f"{variable}: {_ordinal(index, len(secrets))} has {what} at position {at + 1}; only "
                    "visible ASCII characters are allowed (separate several with newlines or commas)")


def parse_tokens(raw: str) -> list[str]:
    """The Mist API tokens of `MIST_APITOKEN`; `SecretListInvalid` naming a bad one by position."""
    tokens = split_secrets(raw)
    _check_characters("MIST_APITOKEN", tokens)
    return tokens


def parse_service_keys(raw: str) -> list[str]:
    """The service keys of `MISTCTL_API_KEYS`; `SecretListInvalid` for a bad or short one (by position)."""
    keys = split_secrets(raw)
    _check_characters("MISTCTL_API_KEYS", keys)
    for index, key in enumerate(keys):
        if len(key) < MIN_SERVICE_KEY:
            raise SecretListInvalid(
                f"MISTCTL_API_KEYS: {_ordinal(index, len(keys))} is {len(key)} characters long; a service "
                f"key needs at least {MIN_SERVICE_KEY} (make one with `openssl rand -hex 32`)")
    return keys
