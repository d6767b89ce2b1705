"""schemas.json is what scripts/extract_twin_schemas.py makes of the vendored spec, and matches the routes."""

from __future__ import annotations

import importlib.util
import json
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from starlette.routing import Route

from mist_twin.errors import TwinError
from mist_twin.validation import check_request, operations, response_errors
from tests.support.twin import twin_app

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "extract_twin_schemas.py"


def _extractor() -> Any:
    spec = importlib.util.spec_from_file_location("extract_twin_schemas", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_committed_schemas_match_the_spec(mist_spec: dict[str, Any]) -> None:
    committed = json.loads(resources.files("mist_twin").joinpath("schemas.json").read_text())
    assert _extractor().extract(mist_spec) == committed, "re-run scripts/extract_twin_schemas.py"


def test_every_api_route_has_its_operation_and_back() -> None:
    app = twin_app(device_count=0)
    routes = {
        (method, route.path)
        for route in app.router.routes
        if isinstance(route, Route) and route.path.startswith("/api/")
        for method in route.methods or ()
        if method != "HEAD"
    }
    served = {(op["method"], op["path"]) for op in operations().values()}
    assert routes == served


def test_nullable_fields_accept_null_and_wrong_types_are_named() -> None:
    check_request("updateSiteInfo", {"name": "a", "rftemplate_id": None})
    with pytest.raises(TwinError) as refused:
        check_request("updateSiteInfo", {"name": "a", "rftemplate_id": 5})
    assert refused.value.status == 400
    assert refused.value.body == {"detail": "rftemplate_id: must be of type string, null"}
    assert response_errors("getSiteInfo", {"name": 5}) == ["name: must be of type string"]
    assert response_errors("getSiteInfo", {"name": "ok", "sitegroup_ids": []}) == []
