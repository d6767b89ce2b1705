"""The two `redact` walks (the plan's, `domain.normalize`; the store's, `store.redact`) answer exactly as
they did before they shared one walk (`domain.redactwalk`), on generated nested data (hypothesis).

`_old_domain_redact` and `_old_store_redact` below are FROZEN REFERENCES: verbatim copies of the two
functions (and their private helpers) as they were before the shared walk, at commit 3c99127. Do not
"fix" them: they are what the live functions are checked against. What counts as a secret name is not
frozen here (`SECRET_FIELDS`, `is_secret_key`, `is_secret_name` are imported): these tests are about the
walk and what each walk does with a field, not about the lists of names.
"""

from __future__ import annotations

import functools
import re
from collections import OrderedDict
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from mistctl.domain.desired import SECRET_FIELDS
from mistctl.domain.fleet import is_secret_key
from mistctl.domain.normalize import redact as domain_redact
from mistctl.store.redact import REDACTED, SECRET_NAMES, is_secret_name
from mistctl.store.redact import redact as store_redact

# --- FROZEN REFERENCE: domain/normalize.py `redact` at 3c99127 (verbatim but for the names) -------------

_LEAVES = frozenset({str, int, float, bool, type(None)})


@functools.lru_cache(maxsize=4096)
def _old_secret_field(key: Any) -> bool:
    return key in SECRET_FIELDS or is_secret_key(key)


def _old_domain_redact(value: Any) -> Any:
    """A copy with secret fields replaced by a marker (for plans, logs and the store)."""
    kind = type(value)
    if kind in _LEAVES:
        return value
    if kind is dict or isinstance(value, Mapping):
        return {k: ("<redacted>" if _old_secret_field(k) and v else v if type(v) in _LEAVES else _old_domain_redact(v))
                for k, v in value.items()}
    if isinstance(value, list):
        return [v if type(v) in _LEAVES else _old_domain_redact(v) for v in value]
    return value


# --- FROZEN REFERENCE: store/redact.py `redact` at 3c99127 (verbatim but for the names) ----------------

_KEY_MATERIAL = re.compile(r"-----BEGIN |^[A-Za-z0-9+/=]{32,}$")


def _old_store_redact(value: Any) -> Any:
    """A copy of `value` (JSON-like data) with every secret-named field's value replaced by `<redacted>`."""
    kind = type(value)
    if kind in _LEAVES:
        return value
    if kind is dict or isinstance(value, Mapping):
        return {k: (v if type(v) in _LEAVES else _old_store_redact(v)) if _old_plain_name(k)
                else _old_redact_field(str(k), v)
                for k, v in value.items()}
    if kind is list or isinstance(value, list | tuple):
        return [v if type(v) in _LEAVES else _old_store_redact(v) for v in value]
    return value


@functools.lru_cache(maxsize=4096)
def _old_is_key_name(name: str) -> bool:
    return name.lower() == "key"


@functools.lru_cache(maxsize=4096)
def _old_plain_name(key: Any) -> bool:
    name = str(key)
    return not is_secret_name(name) and not _old_is_key_name(name)


def _old_redact_field(name: str, value: Any) -> Any:
    if value is None or value == "":
        return value
    if is_secret_name(name) and not isinstance(value, Mapping):
        return "<redacted>"
    if _old_is_key_name(name) and isinstance(value, str) and _KEY_MATERIAL.search(value):
        return "<redacted>"
    return _old_store_redact(value)


# --- END OF FROZEN REFERENCES ---------------------------------------------------------------------------

_ODD_NAMES = [
    # the fleet's suffixes (domain), the store's suffixes, `key` and its look-alikes, settings that are not secrets
    "macsec_kek", "cak_mack", "root_password", "client_secret", "splunk_token", "auth_key", "partner_key",
    "org_apitoken", "x_passphrase", "key", "KEY", "Key", " key ", "psk_id", "key_idx", "key_mgmt",
    "passphrase_rules", "password_policy", "multi_psk_only", "keywrap_enabled", "org_apitoken_name",
    # case, `-` and spaces
    "PSK", "Passphrase", "OLD_PASSPHRASE", "Old-Passphrase", " psk ", "api-key", "Api-Key", "SECRET", "Token",
    # ordinary ones
    "name", "ssid", "vlan_id", "enabled", "auth", "servers", "host", "", "${X}",
]
_STR_KEYS = st.one_of(
    st.sampled_from(sorted(SECRET_FIELDS | SECRET_NAMES) + _ODD_NAMES),
    st.text(max_size=12),
)
_KEYS = st.one_of(
    _STR_KEYS, _STR_KEYS, st.sampled_from(["key", "KEY", "Key", " key ", "psk", "keys"]),
    st.integers(-3, 3), st.none(), st.booleans(), st.floats(allow_nan=False), st.tuples(st.just("psk")),
)

_PEM = "-----BEGIN PRIVATE KEY-----\nMIIBVgIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----"
_TOKEN = "Zq3x9T1aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789abcdEFGH"


class _Opaque:
    """Neither a leaf nor a container: both walks return it as it is."""

    def __repr__(self) -> str:
        return "<opaque>"


_ODD_VALUES = st.sampled_from(
    ["", "${X}", "${STORE_WIFI_PSK}", "gmail", _PEM, _TOKEN, "x" * 31, "x" * 32, "<redacted>", "***", "0"]
)
_SCALARS = st.one_of(
    _ODD_VALUES, _ODD_VALUES, st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=20),
    st.binary(max_size=4), st.builds(_Opaque),
)


def _containers(children: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    dicts = st.dictionaries(_KEYS, children, max_size=5)
    return st.one_of(
        dicts,
        st.lists(children, max_size=4),
        st.lists(children, max_size=3).map(tuple),
        dicts.map(MappingProxyType),  # a Mapping that is not a dict
        dicts.map(OrderedDict),  # a dict that is not `dict`
    )


_DATA = st.recursive(_SCALARS, _containers, max_leaves=40)


def _check(new: Any, old: Any, data: Any) -> None:
    before = repr(data)
    got, want = new(data), old(data)
    # repr, not ==: True == 1 == 1.0, a tuple != a list, a mappingproxy is not a dict
    assert repr(got) == repr(want)
    assert type(got) is type(want)
    assert repr(data) == before  # the input is left alone


@settings(max_examples=1000, deadline=None)
@given(_DATA)
def test_domain_redact_answers_as_before(data):
    _check(domain_redact, _old_domain_redact, data)


@settings(max_examples=1000, deadline=None)
@given(_DATA)
def test_store_redact_answers_as_before(data):
    _check(store_redact, _old_store_redact, data)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(_KEYS, _DATA, max_size=6))
def test_both_answer_as_before_on_top_level_objects(body):
    _check(domain_redact, _old_domain_redact, body)
    _check(store_redact, _old_store_redact, body)


def test_the_two_walks_differ_where_they_always_did():
    """Pinned by hand, so a generator that drifted cannot hide them."""
    body = {
        "psk": {"name": "n", "passphrase": "p"},  # domain: the whole object; store: searched
        "keys": ["a"],  # a store-only name; a list under it: replaced by the store
        "password": 0,  # falsy: domain keeps it, the store does not
        "passphrase": "",  # empty: both keep it
        "macsec_kek": "k",  # a fleet-only suffix
        "apps": ({"key": _TOKEN}, {"key": "gmail"}),  # a tuple: walked (to a list) by the store only
    }
    assert domain_redact(body) == {
        "psk": "<redacted>", "keys": ["a"], "password": 0, "passphrase": "", "macsec_kek": "<redacted>",
        "apps": ({"key": _TOKEN}, {"key": "gmail"}),
    }
    assert store_redact(body) == {
        "psk": {"name": "n", "passphrase": REDACTED}, "keys": REDACTED, "password": REDACTED, "passphrase": "",
        "macsec_kek": "k", "apps": [{"key": REDACTED}, {"key": "gmail"}],
    }
