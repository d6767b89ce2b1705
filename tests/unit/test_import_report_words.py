"""`mistctl import` says how many sites fit no IP plan in words that agree with the number."""

from __future__ import annotations

import io
from types import SimpleNamespace

from rich.console import Console

from mistctl.cli.import_cmds import _report


def _said(misfits: dict[str, str]) -> str:
    out = io.StringIO()
    _report(SimpleNamespace(inference=None, misfits=misfits, secrets={}), Console(file=out, width=200))
    return out.getvalue()


def test_one_misfit_is_one_site() -> None:
    text = _said({"Store-099": "mgmt_subnet is not at the mgmt segment's place"})
    assert "1 site fits no IP plan and keeps its variables as its own:" in text
    assert "Store-099: mgmt_subnet" in text


def test_several_misfits_are_sites() -> None:
    text = _said({"Store-098": "a", "Store-099": "b"})
    assert "2 sites fit no IP plan and keep their variables as their own:" in text
