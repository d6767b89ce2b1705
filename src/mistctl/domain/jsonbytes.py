"""JSON text written by orjson where its bytes are sure to be the standard library's, else by `json`.

orjson writes strings, integers, booleans, objects and arrays as `json` does with compact separators; it
spells floats its own way, writes NaN and infinities as null, refuses big integers and non-string keys, and
writes some types (dataclasses, datetimes, subclasses of str or int) otherwise; with `ensure_ascii`, `json`
escapes every character past ASCII, and DEL. Text that may hold any of those goes to `json`, which decides
as it always did.
"""

from __future__ import annotations

import functools
import json
from typing import Any

#: A number's digits and sign taken out, its exponent read as a point, and `,` and `[` read as `:`: a float is
#: then a point just after the start or a `:` (a string holding such marks only sends the value to `json`).
_MARKS = bytes.maketrans(b",[eE", b"::..")


def _sure(data: bytes) -> bool:
    """Whether orjson's text holds no float and no null (NaN's and the infinities' spelling in orjson): a few
    passes in C, several times faster than one regular expression."""
    if b"null" in data:
        return False
    marks = data.translate(_MARKS, b"0123456789-")
    return not marks.startswith(b".") and b":." not in marks


def compact_json(value: Any, *, sort_keys: bool = False, ensure_ascii: bool = False, allow_nan: bool = True,
                 default: Any = None) -> bytes:
    """`json.dumps(value, separators=(",", ":"), ...)` as UTF-8 bytes, byte for byte, orjson's where they are
    the same (a hash, a request body: several times faster). `default` is json's, for what orjson leaves."""
    import orjson  # here: its import pulls uuid, dataclasses and inspect into a process that may not need them

    option = orjson.OPT_PASSTHROUGH_DATACLASS | orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_SUBCLASS
    try:
        data = orjson.dumps(value, option=option | orjson.OPT_SORT_KEYS if sort_keys else option)
    except TypeError:  # orjson.JSONEncodeError: a type, a key or an integer it does not write
        data = b"null"
    if _sure(data) and (not ensure_ascii or (data.isascii() and b"\x7f" not in data)):
        return data
    return _encoder(sort_keys, ensure_ascii, allow_nan, default).encode(value).encode()


def json_body(body: Any) -> bytes:
    """A request body as httpx's JSON settings spell it (compact, UTF-8, NaN refused), byte for byte: orjson's
    bytes where they are the same (but for a UUID or a plain Enum, which orjson writes and `json` refuses:
    mistctl's bodies are JSON data). The aiohttp sender (`mist.aio`) writes its bodies with it."""
    return compact_json(body, allow_nan=False)


@functools.lru_cache(maxsize=16)
def _encoder(sort_keys: bool, ensure_ascii: bool, allow_nan: bool, default: Any) -> json.JSONEncoder:
    """The encoder `json.dumps` would build for these settings (built once, not at every call)."""
    return json.JSONEncoder(separators=(",", ":"), sort_keys=sort_keys, ensure_ascii=ensure_ascii,
                            allow_nan=allow_nan, default=default)
