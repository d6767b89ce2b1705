"""`mistctl plan --detail`: every changed value, before and after, with secrets shown as fingerprints.

An update lists each field it changes as a dotted path (`auth.pairwise`, `port_config.ge-0/0/1.usage`,
`auth_servers[0].host`) with the live value and the fleet's; a create lists all its values; a delete what
goes away (the live object's fields). Values print as compact JSON, so lists read as `["a", "b"]`.

A secret (any field `store/redact.py` redacts: PSK passphrases, a WLAN's `auth.psk`, RADIUS `secret`s,
`*_password`...) is never printed: it shows as `fingerprint:<12 hex>`, the keyed HMAC fingerprint PSKs
already use (`workflow/psk_fingerprint.py`), so one can tell whether a secret changes, not what it is.
Every line goes through `textsafe.printable`: hostile names cannot act on the terminal (print with
`markup=False`).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from mistctl.domain.desired import SECRET_FIELDS, SERVER_FIELDS
from mistctl.domain.fleet import is_secret_key
from mistctl.domain.normalize import same
from mistctl.domain.plan import Change, Plan
from mistctl.domain.textsafe import printable
from mistctl.store.redact import REDACTED
from mistctl.store.redact import redact as store_redact
from mistctl.workflow.psk_fingerprint import psk_fingerprint

UNSET = "(unset)"
UNREAD = "(not read from Mist)"
MAX_VALUE = 400  # characters of one value shown; longer ones end with "..."
MAX_DELETE_FIELDS = 15
Fingerprint = Callable[[str], str]
Paths = dict[str, Any]
_MISSING: Any = object()  # no value there (before a create, after a delete)
_UNREAD: Any = object()  # a value mistctl did not read (a site's variables it trusts its records for)


def fingerprinter(org_id: str) -> Fingerprint:
    """Secret -> `fingerprint:<12 hex>` (keyed, per org; one secret always gives one fingerprint)."""
    cache: dict[str, str] = {}

    def fp(secret: str) -> str:
        if secret not in cache:
            cache[secret] = "fingerprint:" + psk_fingerprint(secret, org_id).split(":", 1)[1][:12]
        return cache[secret]

    return fp


def is_secret(name: str, value: Any) -> bool:
    """True when a field `name` holding `value` is a secret (the store's rule, and the plan's own)."""
    return name in SECRET_FIELDS or is_secret_key(name) or store_redact({name: value}).get(name) == REDACTED


def flatten(value: Any, prefix: str, fp: Fingerprint, secret: bool = False) -> Paths:
    """Dotted path -> leaf value; a secret leaf becomes its fingerprint."""
    name = prefix.rsplit(".", 1)[-1].split("[", 1)[0]
    secret = secret or (bool(prefix) and is_secret(name, value))
    if isinstance(value, Mapping) and value:
        out: Paths = {}
        for k, v in value.items():
            out |= flatten(v, f"{prefix}.{k}" if prefix else str(k), fp, secret)
        return out
    if isinstance(value, list) and value and all(isinstance(v, Mapping) for v in value):
        out = {}
        for i, v in enumerate(value):
            out |= flatten(v, f"{prefix}[{i}]", fp, secret)
        return out
    if secret and value not in (None, "", [], {}):
        return {prefix: _Hidden(fp(json.dumps(value, sort_keys=True) if not isinstance(value, str) else value))}
    return {prefix: value}


class _Hidden(str):
    """A fingerprint standing for a secret: shown bare, never quoted as a value."""


def show(value: Any) -> str:
    """A value as compact JSON (a fingerprint as is), cut at MAX_VALUE characters."""
    if value is _MISSING:
        return UNSET
    if value is _UNREAD:
        return UNREAD
    text = str(value) if isinstance(value, _Hidden) else json.dumps(value, ensure_ascii=False, sort_keys=True)
    return text if len(text) <= MAX_VALUE else text[:MAX_VALUE] + "..."


def field_changes(change: Change, fp: Fingerprint, live: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
    """Each value a change sets or removes: [{"path", "before", "after"}] (before/after may be `_MISSING`)."""
    if change.action == "delete":
        whole = {k: v for k, v in (live or {}).items() if k not in SERVER_FIELDS}
        gone = flatten(whole, "", fp)
        return [{"path": p, "before": v, "after": _MISSING} for p, v in gone.items()]
    if change.kind == "site_vars" and change.diff:
        before = flatten({k: v[0] for k, v in change.diff.items()}, "vars", fp)
        after = flatten({k: v[1] for k, v in change.diff.items()}, "vars", fp)
        return _pairs(before, after)
    if change.diff:
        rows: list[dict[str, Any]] = []
        for name, (old, new) in sorted(change.diff.items()):
            rows += _pairs(flatten(old, name, fp), flatten(new, name, fp), only_after=True)
        return rows
    before_is = _MISSING if change.action in _NEW else _UNREAD
    return [{"path": p, "before": before_is, "after": v} for p, v in flatten(change.body, "", fp).items()]


def _pairs(before: Paths, after: Paths, only_after: bool = False) -> list[dict[str, Any]]:
    """Paths whose value differs; with `only_after`, only the paths the fleet sets (Mist keeps the rest)."""
    paths = list(after) if only_after else list(dict.fromkeys([*before, *after]))
    rows = []
    for path in paths:
        old, new = before.get(path, _MISSING), after.get(path, _MISSING)
        if old is not _MISSING and new is not _MISSING and same(new, old):
            continue
        rows.append({"path": path, "before": old, "after": new})
    if only_after and not rows and before != after:  # e.g. a list of objects shorter live: show it whole
        rows = [{"path": p, "before": before.get(p, _MISSING), "after": after.get(p, _MISSING)}
                for p in dict.fromkeys([*before, *after])]
    return rows


def live_lookup(objects: Mapping[str, list[dict[str, Any]]]) -> dict[str, dict[str, Any]]:
    """Mist id -> live object, for the deletes' "what goes away"."""
    return {str(o.get("id")): o for objs in objects.values() for o in objs if o.get("id") is not None}


def detail_lines(plan: Plan, fp: Fingerprint, live: Mapping[str, dict[str, Any]]) -> list[str]:
    """The human form: a header line per write, then one indented line per value."""
    lines: list[str] = []
    for c in plan.changes:
        if not c.writes:
            continue
        where = f" [{c.site}]" if c.site and c.kind != "sites" else ""
        lines.append(printable(f"  {_SIGN.get(c.action, ' ')} {c.action} {c.kind} {c.key}{where}"))
        rows = field_changes(c, fp, live.get(str(c.mist_id)))
        shown = rows[:MAX_DELETE_FIELDS] if c.action == "delete" else rows
        for row in shown:
            lines.append(printable(f"      {row['path'] or '(value)'}: {_arrow(c, row)}"))
        if len(rows) > len(shown):
            lines.append(f"      ... {len(rows) - len(shown)} more field(s)")
        if c.action == "delete" and c.body.get("devices"):
            lines.append(f"      releases {len(c.body['devices'])} device(s) to the org inventory")
    return lines


def _arrow(change: Change, row: dict[str, Any]) -> str:
    if change.action in _NEW:
        return show(row["after"])
    if change.action == "delete":
        return f"{show(row['before'])} (deleted)"
    return f"{show(row['before'])} -> {show(row['after'])}"


_NEW = ("create", "claim", "assign")  # all new values (an assign: devices to place on the site)
_SIGN = {"create": "+", "update": "~", "claim": "+", "assign": "~", "delete": "-"}


def detail_json(plan: Plan, fp: Fingerprint, live: Mapping[str, dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """The writes' values for `plan --json --detail`, in the order of the plan's `changes`."""
    out = []
    for c in plan.changes:
        if c.writes:
            rows = field_changes(c, fp, live.get(str(c.mist_id)))
            out.append([{"path": r["path"], "before": _plain(r["before"]), "after": _plain(r["after"])}
                        for r in rows])
    return out


def _plain(value: Any) -> Any:
    return None if value is _MISSING or value is _UNREAD else str(value) if isinstance(value, _Hidden) else value
