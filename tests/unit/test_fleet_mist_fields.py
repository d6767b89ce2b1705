"""`mistctl.domain.mist_fields` is generated from the vendored Mist OpenAPI spec: it must stay in step.

Regenerate with: .venv/bin/python -m tests.unit.test_fleet_mist_fields > src/mistctl/domain/mist_fields.py
"""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

from mistctl.domain import mist_fields

MODULE = Path(mist_fields.__file__)

HEADER = '''"""Mist's top-level field names per org kind, from the vendored OpenAPI spec (generated).

Regenerate with `.venv/bin/python -m tests.unit.test_fleet_mist_fields > src/mistctl/domain/mist_fields.py`;
the test of that name fails when this table and `spec/mist.openapi.yaml` disagree.
"""

from __future__ import annotations

#: The spec schema each fleet `org:` key is written in.
SCHEMAS: dict[str, str] = {
'''


def _fields_line(key: str, names: list[str]) -> str:
    chunks = textwrap.wrap(" ".join(names), width=96, break_on_hyphens=False)
    inner = "".join(f'        "{chunk} "\n' for chunk in chunks)
    return f'    "{key}": frozenset((\n{inner}    ).split()),\n'


def _required_line(key: str, names: list[str]) -> str:
    if not names:
        return f'    "{key}": frozenset(),\n'
    quoted = ", ".join(f'"{name}"' for name in names)
    return f'    "{key}": frozenset({{{quoted}}}),\n'


def render(spec: dict[str, Any]) -> str:
    """The module text for a spec."""
    schemas = spec["components"]["schemas"]
    out = [HEADER]
    out += [f'    "{key}": "{name}",\n' for key, name in mist_fields.SCHEMAS.items()]
    out.append("}\n\n#: Every top-level property the spec defines for the kind (server-set ones included).\n")
    out.append("FIELDS: dict[str, frozenset[str]] = {\n")
    for key, name in mist_fields.SCHEMAS.items():
        out.append(_fields_line(key, sorted(schemas[name].get("properties", {}))))
    out.append("}\n\n#: The properties the spec marks required.\nREQUIRED: dict[str, frozenset[str]] = {\n")
    for key, name in mist_fields.SCHEMAS.items():
        out.append(_required_line(key, sorted(schemas[name].get("required", []))))
    out.append("}\n")
    return "".join(out)


def test_generated_fields_match_the_spec(mist_spec):
    assert MODULE.read_text() == render(mist_spec), "regenerate mist_fields.py (see this module's docstring)"


def test_every_org_kind_has_a_schema():
    from mistctl.domain.kinds import ORG_KINDS

    assert set(mist_fields.SCHEMAS) == {k.key for k in ORG_KINDS}


if __name__ == "__main__":
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tests"))
    from conftest import load_spec_dict

    sys.stdout.write(render(load_spec_dict()))
