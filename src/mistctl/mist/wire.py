"""Small wire-level pieces of the Mist client: tokens, answers, query spelling, secret scrubbing."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any, Protocol
from urllib.parse import quote

import httpx
import orjson
from pydantic import SecretStr

from mistctl.mist.budget import token_fingerprint
from mistctl.mist.http import API_PREFIX
from mistctl.mist.reply import Reply

Query = Mapping[str, Any]


@dataclass(frozen=True)
class Token:
    """An API token, its fingerprint (the only form of it that is ever shown) and the budget it draws on.

    `budget` is the key of the call budget that Mist counts the token against: the token's own
    fingerprint (an org token, or one not grouped yet) or its admin's key (`mistctl.mist.owners`).
    """

    secret: SecretStr
    key: str
    budget: str = ""

    @classmethod
    def of(cls, token: SecretStr | str) -> Token:
        """Wrap a token, computing its fingerprint (its budget is its own until grouped)."""
        secret = token if isinstance(token, SecretStr) else SecretStr(token)
        key = token_fingerprint(secret)
        return cls(secret=secret, key=key, budget=key)

    def drawing_on(self, budget: str) -> Token:
        """The same token, counted against `budget`."""
        return replace(self, budget=budget)

    def __repr__(self) -> str:
        return f"Token({self.key})"


@dataclass(frozen=True)
class Answer:
    """A successful answer: parsed JSON (None when empty), headers, and which token was used."""

    status: int
    headers: Mapping[str, str]  # looked up case-insensitively (httpx's or aiohttp's headers)
    data: Any
    token: str


#: What one request came to: an answer, or the httpx error standing for its failure (`retry.NOTHING_SENT`).
Outcome = Reply | httpx.RequestError


class Wire(Protocol):
    """Sends one request to the Mist host: `path` is quoted and starts with /api/v1."""

    async def send(
        self, method: str, path: str, query: Mapping[str, str], headers: Mapping[str, str], body: Any
    ) -> Outcome: ...


class HttpxWire:
    """A handed `httpx.AsyncClient` (any transport: tests, the in-process twin, a proxy) as a `Wire`."""

    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http

    async def send(
        self, method: str, path: str, query: Mapping[str, str], headers: Mapping[str, str], body: Any
    ) -> Outcome:
        kwargs: dict[str, Any] = {"headers": headers}
        if query:  # an empty params= still costs httpx a URL merge
            kwargs["params"] = query
        if body is not None:
            kwargs["json"] = body
        try:
            resp = await self.http.request(method, path, **kwargs)
        except httpx.RequestError as exc:
            return exc
        return Reply(resp.status_code, resp.headers, resp.content)


def _query_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return ",".join(str(v) for v in value)
    return str(value)


def encode_query(query: Query | None) -> dict[str, str]:
    """Mist's query spelling: lower-case booleans, comma-joined lists, None dropped."""
    return {k: _query_value(v) for k, v in (query or {}).items() if v is not None}


#: What `quote(value, safe="")` leaves as it is (ids are mostly UUIDs: no call to quote for them).
_UNRESERVED = re.compile(r"[A-Za-z0-9_.~-]*")


def _path_value(value: object) -> str:
    text = str(value)
    return text if _UNRESERVED.fullmatch(text) else quote(text, safe="")


@dataclass(slots=True)  # not frozen: a frozen dataclass sets each field through object.__setattr__
class Request:
    """One Mist operation as the session sends it: the path filled and quoted, the query spelled."""

    method: str
    template: str
    path: str
    query: dict[str, str]
    body: Any
    retryable: bool

    @classmethod
    def of(
        cls,
        method: str,
        template: str,
        params: Mapping[str, str] | None,
        query: Query | None,
        body: Any,
        idempotent: bool | None,
    ) -> Request:
        ids = {k: _path_value(v) for k, v in params.items()} if params else {}
        return cls(
            method=method,
            template=API_PREFIX + template,
            path=API_PREFIX + template.format(**ids),
            query=encode_query(query),
            body=body,
            retryable=method != "POST" if idempotent is None else idempotent,
        )


def scrub(text: str, secrets: Iterable[SecretStr]) -> str:
    """Mask every token in `text` (an answer might echo the Authorization header back)."""
    for secret in secrets:
        raw = secret.get_secret_value()
        if raw:
            text = text.replace(raw, "***")
    return text


def scrub_json(data: Any, secrets: Iterable[SecretStr]) -> Any:
    """`scrub` applied to every string of a parsed JSON body."""
    if isinstance(data, str):
        return scrub(data, secrets)
    if isinstance(data, list):
        return [scrub_json(v, secrets) for v in data]
    if isinstance(data, dict):
        return {k: scrub_json(v, secrets) for k, v in data.items()}
    return data


#: A run of 19 digits may not fit 64 bits: orjson would read such a number as a float, silently. Digits are
#: read as ones to look for a run (translate and find, in C: several times faster than `\d{19}`).
_DIGITS_AS_ONES = bytes.maketrans(b"0123456789", b"1111111111")
_LONG_DIGITS = b"1" * 19


def json_or_none(resp: Reply | httpx.Response) -> Any:
    """The answer's JSON, or None when it is empty or not JSON.

    orjson reads it when it can read it exactly; the standard library (what httpx used) reads the rest: a
    number too long for 64 bits, NaN or an infinity, a byte-order mark."""
    content = resp.content
    if not content.strip():
        return None
    if _LONG_DIGITS not in content.translate(_DIGITS_AS_ONES):
        try:
            return orjson.loads(content)
        except orjson.JSONDecodeError:
            pass
    try:
        return json.loads(content)
    except ValueError:
        return None
