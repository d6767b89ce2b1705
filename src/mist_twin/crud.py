"""The generic collection engine: list (filtered, paginated), create, get, update, delete.

Per-collection differences live in `rules.py` (a table of `Rule`s): the operationIds whose schemas
validate the bodies, server defaults, list filters, and hooks for the few cross-object effects.
"""

from __future__ import annotations

import copy
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from starlette.datastructures import QueryParams

from mist_twin.errors import bad_request, not_found
from mist_twin.store import Obj
from mist_twin.validation import check_request

if TYPE_CHECKING:
    from mist_twin.state import TwinState

#: Fields the server owns: a body cannot set them.
SERVER_FIELDS = frozenset({"id", "org_id", "created_time", "modified_time"})
DEFAULT_LIMIT = 100
MAX_LIMIT = 1000

Hook = Callable[["TwinState", Obj], None]
UpdateHook = Callable[["TwinState", Obj, Obj], None]
Decorate = Callable[["TwinState", list[Obj]], list[Obj]]


@dataclass(frozen=True)
class Ops:
    """The spec's operationIds of a collection (their request schemas validate the bodies)."""

    list: str
    create: str
    get: str
    update: str
    delete: str


@dataclass(frozen=True)
class Rule:
    """One Mist collection: `/api/v1/orgs/{org_id}/<collection>` and its item path."""

    collection: str  # URL segment and store collection: "sitegroups"
    id_param: str  # the spec's path parameter: "sitegroup_id"
    title: str  # for messages: "site group"
    ops: Ops
    item_under_org: bool = True  # False: items live at /api/v1/<collection>/{id} (sites)
    defaults: Mapping[str, Any] = field(default_factory=dict)
    filters: tuple[str, ...] = ()  # list query parameters matched by equality
    upsert_key: str | None = None  # POST ?upsert=true replaces the object with this field's value
    check: Hook | None = None  # (twin, new object): raises a TwinError to refuse a create or an update
    after_create: Hook | None = None
    before_update: UpdateHook | None = None  # (twin, old, new): may adjust `new`
    after_delete: Hook | None = None
    decorate: Decorate | None = None  # computed fields added to answers


def query_int(query: QueryParams, name: str, default: int, minimum: int) -> int:
    """An integer query parameter, or a 400 naming it."""
    raw = query.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise bad_request(f"{name}: must be an integer") from None
    if value < minimum:
        raise bad_request(f"{name}: must be at least {minimum}")
    return value


def page_bounds(query: QueryParams) -> tuple[int, int]:
    """(limit, page) of a list call: `limit` default 100, max 1000 (0 means the default); `page` from 1."""
    limit = query_int(query, "limit", DEFAULT_LIMIT, 0) or DEFAULT_LIMIT
    return min(limit, MAX_LIMIT), query_int(query, "page", 1, 1)


def page_headers(limit: int, page: int, total: int) -> dict[str, str]:
    """Mist's X-Page headers."""
    return {"X-Page-Limit": str(limit), "X-Page-Page": str(page), "X-Page-Total": str(total)}


def paginate(items: list[Obj], query: QueryParams) -> tuple[list[Obj], dict[str, str]]:
    """One page of `items` and Mist's X-Page headers."""
    limit, page = page_bounds(query)
    start = (page - 1) * limit
    return items[start : start + limit], page_headers(limit, page, len(items))


def matches(obj: Obj, query: QueryParams, filters: tuple[str, ...]) -> bool:
    """True when every filter present in the query equals the object's field (as text)."""
    for name in filters:
        wanted = query.get(name)
        if wanted is not None and str(obj.get(name, "")) != wanted:
            return False
    return True


def listing(twin: TwinState, rule: Rule, query: QueryParams) -> tuple[list[Obj], dict[str, str]]:
    """The filtered, paginated list of a collection and its headers."""
    if any(name in query for name in rule.filters):
        items = [obj for obj in twin.store.all(rule.collection) if matches(obj, query, rule.filters)]
        page, headers = paginate(items, query)
    else:  # most lists are asked for unfiltered: only the page is read from the store
        limit, number = page_bounds(query)
        start = (number - 1) * limit
        page = twin.store.page(rule.collection, start, start + limit)
        headers = page_headers(limit, number, twin.store.count(rule.collection))
    if twin.quirks.no_page_total:
        del headers["X-Page-Total"]
    return shown(twin, rule, page), headers


def shown(twin: TwinState, rule: Rule, objs: list[Obj]) -> list[Obj]:
    """Objects as answered: with computed fields when the collection has any."""
    return rule.decorate(twin, objs) if rule.decorate else objs


def stamp(body: Obj, rule: Rule, twin: TwinState) -> Obj:
    """A new object: defaults, then the body, then the server fields."""
    now = twin.now()
    sent = {k: v for k, v in body.items() if k not in SERVER_FIELDS}
    return {
        **_copy_defaults(rule.defaults),
        **sent,
        "id": str(uuid.uuid4()),
        "org_id": twin.org_id,
        "created_time": now,
        "modified_time": now,
    }


def without_server_fields(obj: Obj, fixed: frozenset[str] = SERVER_FIELDS) -> Obj:
    """The fields a client may send: what a stored object is checked against the request schema with."""
    return {k: v for k, v in obj.items() if k not in fixed}


def _copy_defaults(defaults: Mapping[str, Any]) -> Obj:
    return copy.deepcopy(dict(defaults)) if defaults else {}


def create(twin: TwinState, rule: Rule, body: Any, upsert: bool = False) -> Obj:
    """Validate and store a new object (or, with `upsert`, replace the one with the same key)."""
    check_request(rule.ops.create, body)
    if upsert and rule.upsert_key:
        key = body.get(rule.upsert_key)
        existing = next((o for o in twin.store.all(rule.collection) if o.get(rule.upsert_key) == key), None)
        if existing is not None:
            return replace(twin, rule, existing, body)
    obj = stamp(body, rule, twin)
    if rule.check:
        rule.check(twin, obj)
    with twin.store.batch():
        twin.store.put(rule.collection, obj["id"], obj)
        if rule.after_create:
            rule.after_create(twin, obj)
    return obj


def fetch(twin: TwinState, rule: Rule, object_id: str) -> Obj:
    """The stored object, or the spec's 404."""
    obj = twin.store.get(rule.collection, object_id)
    if obj is None:
        raise not_found(rule.title, object_id)
    return obj


def update(twin: TwinState, rule: Rule, obj: Obj, body: Any) -> Obj:
    """PUT: only the fields sent change; the result must still fit the schema."""
    if not isinstance(body, dict):
        raise bad_request("body: must be of type object")
    sent = {k: v for k, v in body.items() if k not in SERVER_FIELDS}
    return _save(twin, rule, obj, {**obj, **sent})


def replace(twin: TwinState, rule: Rule, obj: Obj, body: Obj) -> Obj:
    """Upsert: the body replaces the object's fields; id and created_time stay."""
    sent = {k: v for k, v in body.items() if k not in SERVER_FIELDS}
    fresh = {**_copy_defaults(rule.defaults), **sent}
    return _save(twin, rule, obj, {**fresh, **{k: obj[k] for k in SERVER_FIELDS if k in obj}})


def _save(twin: TwinState, rule: Rule, old: Obj, new: Obj) -> Obj:
    check_request(rule.ops.update, without_server_fields(new))
    if rule.check:
        rule.check(twin, new)
    new["modified_time"] = twin.now()
    if rule.before_update:
        rule.before_update(twin, old, new)
    twin.store.put(rule.collection, new["id"], new)
    return new


def delete(twin: TwinState, rule: Rule, obj: Obj) -> None:
    """Remove the object and apply its collection's clean-up."""
    with twin.store.batch():
        twin.store.delete(rule.collection, obj["id"])
        if rule.after_delete:
            rule.after_delete(twin, obj)
