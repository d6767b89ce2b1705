"""PyYAML's reader and constructor patterns are compiled on first use under the command line (cli/standins.py),
and PyYAML answers exactly as it does with them compiled at import."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

SRC = str(Path(__file__).resolve().parents[2] / "src")
EXAMPLE = str(Path(__file__).resolve().parents[2] / "examples" / "fleet.yaml")

#: What PyYAML's pure-Python loader makes of a few documents (an error's text included), printed as JSON.
ANSWERS = """
import json, yaml
docs = ["when: 2001-12-14t21:59:43.10-05:00\\nday: 2002-12-14", "bell: \\x07", "a: [1, 2.5, yes, ~]",
        "bad: \\x1b"]
out = []
for doc in docs:
    try:
        out.append(repr(yaml.load(doc, Loader=yaml.SafeLoader)))
    except yaml.YAMLError as exc:
        out.append(f"{type(exc).__name__}: {exc}")
print(json.dumps(out))
"""

HOOKED = """
import re, sys
from mistctl.cli import standins
standins.install()
import yaml
from yaml.constructor import SafeConstructor
from yaml.reader import Reader
lazy = [Reader.NON_PRINTABLE, SafeConstructor.timestamp_regexp]
assert all(type(p) is standins.LazyPattern and list(vars(p)) == ["_args"] for p in lazy), lazy  # not compiled
assert re.compile is standins._REAL_COMPILE  # put back
assert all(isinstance(r, re.Pattern) for rs in yaml.resolver.Resolver.yaml_implicit_resolvers.values()
           for _, r in rs)  # the resolver's own, used on every scalar, are compiled as usual
assert Reader.NON_PRINTABLE.pattern == re.compile(Reader.NON_PRINTABLE.pattern).pattern
"""


def _run(code: str, *args: str) -> str:
    done = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=60,
                          env={**os.environ, "PYTHONPATH": SRC})
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines()[-1]


def test_the_patterns_are_compiled_on_first_use_and_pyyaml_answers_the_same() -> None:
    plain = json.loads(_run(ANSWERS))
    hooked = json.loads(_run(HOOKED + ANSWERS))
    assert hooked == plain
    assert "datetime.datetime(2001, 12, 14, 21, 59, 43, 100000" in plain[0]  # the timestamp pattern was used
    assert "special characters are not allowed" in plain[1] and "#x001b" in plain[3]  # so was NON_PRINTABLE


def test_validate_of_a_valid_fleet_compiles_neither() -> None:
    probe = ("import sys\nfrom mistctl.cli.main import main\nsys.argv = ['mistctl', 'validate', sys.argv[1]]\n"
             "try:\n    main()\nexcept SystemExit as exc:\n    assert exc.code in (0, None), exc.code\n"
             "from yaml.reader import Reader\nfrom yaml.constructor import SafeConstructor\n"
             "print([sorted(vars(p)) for p in (Reader.NON_PRINTABLE, SafeConstructor.timestamp_regexp)])")
    assert _run(probe, EXAMPLE) == "[['_args'], ['_args']]"
