"""Pydantic's validation errors of the fleet's own models, worded for the user (parse.py's helper).

Input values are never echoed (they may be secrets); an unknown key gets the closest known key as a hint.
"""

from __future__ import annotations

import difflib
from typing import Any

from pydantic import BaseModel, ValidationError

from mistctl.domain.errors import Issue, Origin
from mistctl.domain.fleet import DeviceRef, IpPlanSpec, LatLng, SegmentSpec, Site, SiteDefaults, Zone

_MODELS: tuple[type[BaseModel], ...] = (IpPlanSpec, SegmentSpec, Zone, Site, SiteDefaults, DeviceRef, LatLng)
_VOCABULARY = sorted({name for model in _MODELS for name in model.model_fields})
_PATTERN_FIXES = {"country_code": "country_code must be two capital letters (ISO 3166-1), e.g. US"}


def hint(key: Any, choices: list[str]) -> str:
    close = difflib.get_close_matches(str(key), choices, n=1)
    return f"; did you mean '{close[0]}'?" if close else ""


def _loc(parts: tuple[int | str, ...]) -> str:
    out = ""
    for part in parts:
        out += f" #{part + 1}" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out.strip()


def pydantic_issues(exc: ValidationError, origin: Origin, item: str) -> list[Issue]:
    """A pydantic error as issues in the user's words (input values are never echoed)."""
    issues = []
    for err in exc.errors(include_url=False, include_input=False):
        loc, kind, last = _loc(err["loc"]), err["type"], err["loc"][-1] if err["loc"] else ""
        if kind == "extra_forbidden":
            message = f"unknown key '{last}'{hint(last, _VOCABULARY)}"
            where = _loc(err["loc"][:-1])
            message = f"{where}: {message}" if where else message
        elif kind == "missing":
            message = f"'{loc}' is missing: add it"
        elif kind == "string_pattern_mismatch" and last in _PATTERN_FIXES:
            message = _PATTERN_FIXES[str(last)]
        else:
            text = str(err["msg"]).removeprefix("Value error, ")
            message = f"{loc}: {text}" if loc else text
        issues.append(Issue.at(origin, item, message))
    return issues
