"""The console's session cookie (signed key id and expiry), its CSRF token, and the login redirect target."""

from __future__ import annotations

import hashlib
from types import SimpleNamespace
from typing import Any

from pydantic import SecretStr

from mistctl.config import Settings
from mistctl.store.memory import MemoryStore
from mistctl.web.access import safe_next
from mistctl.web.session import TTL, csrf_ok, issue, revoke, verify

KEY_A, KEY_B = "service-key-" + "a" * 24, "service-key-" + "b" * 24
NOW = 1_700_000_000.0
STORE = MemoryStore()  # the sessions' leases (every ctx of this module shares it, as replicas share one)


def ctx(keys: str | None) -> Any:
    """Just what the session reads of the app context: the configured service keys."""
    return SimpleNamespace(store=STORE, settings=Settings.model_validate(
        {"mistctl_api_keys": SecretStr(keys) if keys else None, "mistctl_state": "memory://"}))


def key_id(key: str) -> str:
    return f"key:{hashlib.sha256(key.encode()).hexdigest()[:8]}"


async def test_a_cookie_names_the_key_id_and_expiry_never_the_key() -> None:
    value = await issue(ctx(f"{KEY_A},{KEY_B}"), key_id(KEY_A), now=NOW)
    assert KEY_A not in value and KEY_B not in value
    session = await verify(ctx(f"{KEY_A},{KEY_B}"), value, clock=lambda: NOW + 60)
    assert session is not None and session.actor == key_id(KEY_A) and session.expires == int(NOW) + TTL


async def test_tampered_expired_or_unsigned_cookies_are_refused() -> None:
    keys = ctx(KEY_A)
    value = await issue(keys, key_id(KEY_A), now=NOW)
    actor, expires, sid, signature = value.split(".")
    assert await verify(keys, value, clock=lambda: NOW + TTL + 1) is None  # expired
    assert await verify(keys, f"{actor}.{int(expires) + 10}.{sid}.{signature}", clock=lambda: NOW) is None
    assert await verify(keys, f"{key_id(KEY_B)}.{expires}.{sid}.{signature}", clock=lambda: NOW) is None
    assert await verify(keys, f"{actor}.{expires}.{sid}", clock=lambda: NOW) is None
    for junk in ("", "a.b.c.d", "...", None):
        assert await verify(keys, junk, clock=lambda: NOW) is None


async def test_changing_the_service_keys_ends_every_session() -> None:
    value = await issue(ctx(f"{KEY_A},{KEY_B}"), key_id(KEY_A), now=NOW)
    assert await verify(ctx(KEY_A), value, clock=lambda: NOW) is None  # KEY_B removed: another secret
    assert await verify(ctx(None), value, clock=lambda: NOW) is None  # no keys at all: no console
    same_keys_reordered = ctx(f" {KEY_B} ,{KEY_A}")
    assert await verify(same_keys_reordered, value, clock=lambda: NOW) is not None


async def test_a_session_of_a_key_no_longer_configured_is_refused_even_when_signed() -> None:
    keys = ctx(KEY_A)
    forged_actor = await issue(keys, key_id(KEY_B), now=NOW)  # signed with the right secret, unknown key id
    assert await verify(keys, forged_actor, clock=lambda: NOW) is None


async def test_the_csrf_token_belongs_to_one_session() -> None:
    keys = ctx(KEY_A)
    first = await verify(keys, await issue(keys, key_id(KEY_A), now=NOW), clock=lambda: NOW)
    later = await verify(keys, await issue(keys, key_id(KEY_A), now=NOW + 5), clock=lambda: NOW)
    assert first is not None and later is not None
    assert csrf_ok(first, first.csrf) and not csrf_ok(first, later.csrf)
    assert not csrf_ok(first, None) and not csrf_ok(first, "")


async def test_a_revoked_session_is_refused_though_its_cookie_is_signed_and_unexpired() -> None:
    keys = ctx(KEY_A)
    value = await issue(keys, key_id(KEY_A), now=NOW)
    session = await verify(keys, value, clock=lambda: NOW)
    assert session is not None
    await revoke(keys, session)
    assert await verify(keys, value, clock=lambda: NOW) is None
    assert session.sid not in str(STORE._locks)  # the store holds a hash of the session id, not the id


def test_after_login_only_console_paths_are_followed() -> None:
    assert safe_next("/ui/sites/Store-1?x=1") == "/ui/sites/Store-1?x=1"
    assert safe_next("/ui?status=failed") == "/ui?status=failed"
    for elsewhere in (None, "", "/docs", "/uix", "//evil.example", "https://evil.example/ui", "/ui\\..\\x"):
        assert safe_next(elsewhere) == "/ui", elsewhere
