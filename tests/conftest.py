"""Shared test fixtures: the Mist OpenAPI spec, loaded once per test run."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
SPEC_PATH = REPO / "spec" / "mist.openapi.yaml"


def load_spec_dict() -> dict[str, Any]:
    """The Mist OpenAPI document as a dict (CSafeLoader: about 2 s for the 3 MB file)."""
    with SPEC_PATH.open("rb") as fh:
        data: dict[str, Any] = yaml.load(fh, Loader=yaml.CSafeLoader)
    return data


@pytest.fixture(scope="session")
def mist_spec() -> dict[str, Any]:
    return load_spec_dict()


@pytest.fixture(scope="session")
def mist_openapi(mist_spec: dict[str, Any]) -> Any:
    """An openapi-core `OpenAPI` for the Mist spec, with the spec's own self-check turned off."""
    from jsonschema_path import SchemaPath
    from openapi_core import Config, OpenAPI

    return OpenAPI(SchemaPath.from_dict(mist_spec), config=Config(spec_validator_cls=None))


@pytest.fixture(scope="session")
def redis_url() -> Any:
    """A throwaway redis-server for the session (tests/support/redis_server.py); yields its URL.

    Tests share the server: give each test its own key prefix (redis://...?prefix=<unique>:).
    """
    from tests.support.redis_server import RedisServer, RedisServerMissing

    try:
        server = RedisServer()
    except RedisServerMissing as exc:
        pytest.fail(str(exc))
    try:
        yield server.start()
    finally:
        server.stop()
