"""A fleet request's body in any of three forms, for `POST /plans` and `POST /deployments`:

- `application/json`: `{"fleet": "<YAML text>" | {...}, "files": {"sites.csv": "<CSV text>"}, "org_id": ...}`;
- `application/yaml` (or `text/yaml`): the fleet file as it is, `org_id` and `concurrency` in the query;
- `multipart/form-data`: the fleet file in the part `fleet`, every CSV it names as a file part of that file
  name (`curl -F fleet=@fleet.yaml -F files=@sites.csv`), `org_id`, `concurrency`, `plan` as fields.

The CSV files a fleet names are read from the files sent with it, never from the service's disk.
"""

from __future__ import annotations

import errno
import json
import posixpath
from collections.abc import Mapping
from typing import Any, TypeVar

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ValidationError
from starlette.datastructures import UploadFile

from mistctl.api.errors import ApiError
from mistctl.domain.parse import ReadFile

M = TypeVar("M", bound=BaseModel)
YAML_TYPES = frozenset({"application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml"})
JSON_TYPES = frozenset({"application/json", ""})
MULTIPART = "multipart/form-data"
QUERY_FIELDS = ("org_id", "concurrency", "take_ownership", "fleet_file")
LIST_FIELDS = ("sites", "kinds")  # a target (`domain/targets.py`): repeated query parameters or form fields
NOT_SENT = "was not sent with the fleet: add it as a file part named after it (multipart) or in \"files\" (JSON)"


def openapi_body(model: type[BaseModel]) -> dict[str, Any]:
    """The route's `openapi_extra`: the request body in its three forms."""
    schema = model.model_json_schema()
    form = {"type": "object", "required": ["fleet"], "properties": {
        "fleet": {"type": "string", "format": "binary", "description": "The fleet file"},
        "files": {"type": "array", "items": {"type": "string", "format": "binary"},
                  "description": "The CSV files the fleet names, each under its own file name"},
        "org_id": {"type": "string"}, "concurrency": {"type": "integer", "minimum": 1, "maximum": 64},
        **{k: {"type": "array", "items": {"type": "string"}} for k in LIST_FIELDS if k in schema["properties"]}}}
    return {"requestBody": {"required": True, "content": {
        "application/json": {"schema": schema},
        "application/yaml": {"schema": {"type": "string", "description": "The fleet file as it is"}},
        MULTIPART: {"schema": form}}}}


async def read_fleet_request(request: Request, model: type[M]) -> M:
    """The body as `model` (422 naming the fields when it does not fit, 415 for another content type)."""
    ctype = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if ctype in YAML_TYPES:
        data: Any = {"fleet": _text(await request.body(), "the fleet file"), **_query(request)}
    elif ctype == MULTIPART:
        data = {**_query(request), **await _multipart(request)}
    elif ctype in JSON_TYPES:
        data = _json(await request.body())
    else:
        raise ApiError(415, f"a fleet is sent as application/json, application/yaml or {MULTIPART}, "
                            f"not {ctype}")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise RequestValidationError(exc.errors(include_url=False, include_context=False)) from None


def files_reader(files: Mapping[str, str] | None) -> ReadFile:
    """Reads the CSV files sent with the fleet by name (`sites.csv`, `./sites.csv`); nothing else."""
    sent = {posixpath.normpath(name): text for name, text in (files or {}).items()}

    def read_file(name: str) -> str:
        text = sent.get(posixpath.normpath(name))
        if text is None:
            raise OSError(errno.ENOENT, NOT_SENT)
        return text

    return read_file


def _query(request: Request) -> dict[str, Any]:
    data: dict[str, Any] = {k: request.query_params[k] for k in QUERY_FIELDS if k in request.query_params}
    return data | {k: request.query_params.getlist(k) for k in LIST_FIELDS if k in request.query_params}


def _json(body: bytes) -> Any:
    try:
        return json.loads(body) if body.strip() else None
    except (ValueError, RecursionError):
        raise RequestValidationError([{"type": "json_invalid", "loc": ("body",), "msg": "the body is not JSON",
                                       "input": None}]) from None


def _text(raw: bytes, what: str) -> str:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ApiError(422, f"{what} is not UTF-8 text: save it as UTF-8") from None


async def _multipart(request: Request) -> dict[str, Any]:
    form = await request.form()
    data: dict[str, Any] = {}
    files: dict[str, str] = {}
    for key, value in form.multi_items():
        if isinstance(value, UploadFile):
            text = _text(await value.read(), f"the file part '{value.filename or key}'")
            if key == "fleet":
                data["fleet"] = text
                if value.filename:  # the owner of a fleet without `name:` (domain.owners)
                    data["fleet_file"] = posixpath.basename(value.filename)
            else:
                files[posixpath.basename(value.filename or key)] = text
        elif key == "plan":
            data["plan"] = _json(value.encode())
        elif key in LIST_FIELDS:
            data.setdefault(key, []).append(value)
        else:
            data[key] = value
    return {**data, "files": files}
