"""Validate httpx exchanges against the Mist OpenAPI spec with openapi-core.

Typical use (a whole test's traffic is checked):

    checker = ContractChecker(build_openapi(mist_spec))
    async with httpx.AsyncClient(..., event_hooks=checker.event_hooks()) as client:
        ...
    checker.assert_clean()          # or strict=True: fail at the first bad exchange

`build_openapi` applies the spec's known quirks once (see `normalise_spec`), where Mist's documented
behaviour differs from the schema text:

- `nullable: true` is an OpenAPI 3.0 keyword; this 3.1 document still uses it and 3.1 validators
  ignore it, so the nulls Mist sends (`rftemplate_id: null` on a site, `deviceprofile_id: null`...)
  would be refused. It is rewritten to a JSON Schema `null` type.
- `response_inventory.inventory_added` has `minItems: 1`, yet claiming only already-claimed codes
  answers 200 with an empty list.

Two request-side exceptions are applied by the checker, not the spec:
- PUT bodies may omit fields the schema marks required (`name` on `PUT /sites/{site_id}`...): Mist
  updates only the fields sent. A PUT whose only errors are top-level `required` ones passes.
- 5xx answers are not described by the spec (Mist's edge even answers 502 in HTML): not checked.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

import httpx
from werkzeug.datastructures import Headers, ImmutableMultiDict

MIST_HOST = "https://api.mist.com"
_CACHE: dict[int, Any] = {}


# --- the spec, with its known quirks fixed ------------------------------------------------------
def _allow_null(node: dict[str, Any]) -> None:
    kind = node.get("type")
    if isinstance(kind, str):
        node["type"] = [kind, "null"]
        if "enum" in node and None not in node["enum"]:
            node["enum"] = [*node["enum"], None]
    elif "type" not in node:
        inner = {k: node.pop(k) for k in list(node) if k != "nullable"}
        node["anyOf"] = [inner, {"type": "null"}]


def _walk(node: Any) -> None:
    if isinstance(node, dict):
        if node.get("nullable") is True:
            _allow_null(node)
        node.pop("nullable", None)
        for key, value in node.items():
            if key not in ("example", "examples", "default", "enum"):
                _walk(value)
    elif isinstance(node, list):
        for item in node:
            _walk(item)


def normalise_spec(spec: dict[str, Any]) -> dict[str, Any]:
    """A copy of the spec with the known quirks (module docstring) fixed."""
    fixed = copy.deepcopy(spec)
    _walk(fixed["components"])
    _walk(fixed["paths"])
    schemas = fixed["components"]["schemas"]
    schemas["response_inventory_inventory_added"].pop("minItems", None)
    return fixed


def build_openapi(spec: dict[str, Any]) -> Any:
    """An openapi-core `OpenAPI` for the normalised spec (cached per spec object)."""
    key = id(spec)
    if key not in _CACHE:
        from jsonschema_path import SchemaPath
        from openapi_core import Config, OpenAPI

        fixed = normalise_spec(spec)
        config = Config(spec_validator_cls=None)  # type: ignore[arg-type]  # the spec fails its self-check
        _CACHE[key] = OpenAPI(SchemaPath.from_dict(fixed), config=config)
    return _CACHE[key]


# --- httpx -> openapi-core adapters -------------------------------------------------------------
class OpenAPIRequestAdapter:
    """An httpx.Request seen as openapi-core's Request protocol (host rewritten to Mist's)."""

    def __init__(self, request: httpx.Request) -> None:
        from openapi_core.datatypes import RequestParameters

        self.request = request
        query = parse_qs(request.url.query.decode(), keep_blank_values=True)
        self.parameters = RequestParameters(
            query=ImmutableMultiDict(query),
            header=Headers(list(request.headers.items())),
            cookie=ImmutableMultiDict(),
        )

    @property
    def host_url(self) -> str:
        return MIST_HOST

    @property
    def path(self) -> str:
        return self.request.url.path

    @property
    def method(self) -> str:
        return self.request.method.lower()

    @property
    def body(self) -> bytes | None:
        content = self.request.content
        return content or None

    @property
    def content_type(self) -> str:
        return str(self.request.headers.get("content-type", "")).lower()


class OpenAPIResponseAdapter:
    """An httpx.Response (already read) seen as openapi-core's Response protocol."""

    def __init__(self, response: httpx.Response) -> None:
        self.response = response
        self.headers = Headers(list(response.headers.items()))

    @property
    def data(self) -> bytes:
        return self.response.content

    @property
    def status_code(self) -> int:
        return self.response.status_code

    @property
    def content_type(self) -> str:
        return str(self.response.headers.get("content-type", "")).lower()


# --- checks ------------------------------------------------------------------------------------
class ContractError(AssertionError):
    """An exchange that does not fit the spec."""


def _schema_errors(exc: BaseException) -> list[Any]:
    seen: BaseException | None = exc
    while seen is not None:
        errors = getattr(seen, "schema_errors", None)
        if errors:
            return list(errors)
        seen = seen.__cause__ or seen.__context__
    return []


def _only_top_level_required(exc: BaseException) -> bool:
    errors = _schema_errors(exc)
    required = all(getattr(e, "validator", None) == "required" for e in errors)
    top_level = all(not list(getattr(e, "absolute_path", [1])) for e in errors)
    return bool(errors) and required and top_level


def _explain(exc: BaseException) -> str:
    parts = [f"{type(exc).__name__}: {exc}"]
    for error in _schema_errors(exc):
        parts.append(f"  - {getattr(error, 'message', error)} at {list(getattr(error, 'absolute_path', []))}")
    return "\n".join(parts)


def check_request(openapi: Any, request: httpx.Request) -> None:
    """Raise ContractError when the request does not fit the spec (partial PUT bodies allowed)."""
    try:
        openapi.validate_request(OpenAPIRequestAdapter(request))
    except Exception as exc:  # openapi-core raises a tree of its own exceptions
        if request.method == "PUT" and _only_top_level_required(exc):
            return
        where = f"{request.method} {request.url.path}"
        raise ContractError(f"{where}: request off-spec\n{_explain(exc)}") from exc


def check_response(openapi: Any, request: httpx.Request, response: httpx.Response) -> None:
    """Raise ContractError when the (read) response does not fit the spec; 5xx are not checked."""
    if response.status_code >= 500:
        return
    try:
        openapi.validate_response(OpenAPIRequestAdapter(request), OpenAPIResponseAdapter(response))
    except Exception as exc:
        where = f"{request.method} {request.url.path} -> {response.status_code}"
        body = response.text[:500]
        raise ContractError(f"{where}: response off-spec\n{_explain(exc)}\nbody: {body}") from exc


# --- path templates, for coverage --------------------------------------------------------------
def path_matcher(spec: dict[str, Any]) -> Callable[[str, str], str | None]:
    """A function (method, path) -> the spec's path template, preferring literal segments."""
    entries = []
    for template, item in spec["paths"].items():
        pattern = re.compile("^" + re.sub(r"\{[^}]+\}", "[^/]+", template) + "$")
        methods = {m.upper() for m in item if m in ("get", "put", "post", "delete", "patch")}
        entries.append((template.count("{"), template, pattern, methods))
    entries.sort(key=lambda entry: entry[0])

    def match(method: str, path: str) -> str | None:
        for _params, template, pattern, methods in entries:
            if method in methods and pattern.match(path):
                return str(template)
        return None

    return match


def answers_checker(spec: dict[str, Any]) -> ContractChecker:
    """A strict checker of the answers only (for tests that send bad requests on purpose)."""
    return ContractChecker(build_openapi(spec), strict=True, check_requests=False, spec=spec)


# --- the checker, as httpx event hooks ---------------------------------------------------------
@dataclass
class ContractChecker:
    """Checks every exchange of a client; records what it saw for coverage assertions."""

    openapi: Any
    strict: bool = True  # raise at the first off-spec exchange (else collect in `failures`)
    check_requests: bool = True
    spec: dict[str, Any] | None = None  # for `seen` templates; optional
    failures: list[str] = field(default_factory=list)
    seen: set[tuple[str, str, int]] = field(default_factory=set)  # (method, template, status)
    checked: int = 0

    def __post_init__(self) -> None:
        self._match = path_matcher(self.spec) if self.spec is not None else None

    def event_hooks(self) -> dict[str, list[Any]]:
        """`event_hooks=` for an httpx.AsyncClient."""
        return {"response": [self.on_response]}

    async def on_response(self, response: httpx.Response) -> None:
        """The async response hook: read the body, then check both directions."""
        await response.aread()
        self.check(response.request, response)

    def check(self, request: httpx.Request, response: httpx.Response) -> None:
        """Check one exchange (usable from sync code too); only Mist API paths (`/api/...`) are checked."""
        if not request.url.path.startswith("/api/"):
            return  # the twin's /__twin/ control endpoints are not Mist's
        self.checked += 1
        try:
            if self.check_requests:
                check_request(self.openapi, request)
            check_response(self.openapi, request, response)
        except ContractError as exc:
            if self.strict:
                raise
            self.failures.append(str(exc))
        if self._match is not None:
            template = self._match(request.method, request.url.path) or request.url.path
            self.seen.add((request.method, template, response.status_code))

    @contextmanager
    def sending_bad_requests(self) -> Iterator[None]:
        """Skip request checks in a block that sends off-spec requests on purpose (answers still checked)."""
        before, self.check_requests = self.check_requests, False
        try:
            yield
        finally:
            self.check_requests = before

    def assert_clean(self) -> None:
        """Fail with every collected failure (non-strict mode)."""
        assert not self.failures, "\n\n".join(self.failures)
