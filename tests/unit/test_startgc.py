"""The garbage collector is off while the command line starts and on again, with the start-up's objects frozen,
when a command's own callback runs (cli/startgc.py); a caller's own choice to keep it off is left alone."""

from __future__ import annotations

import gc
import json
import subprocess
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path

import pytest
from typer import _click
from typer.core import TyperGroup

from mistctl.cli import startgc
from mistctl.cli.lazy import COMMANDS, load_module

SRC = str(Path(__file__).resolve().parents[2] / "src")
EXAMPLE = str(Path(__file__).resolve().parents[2] / "examples" / "fleet.yaml")


@pytest.fixture(autouse=True)
def _collector_restored() -> Iterator[None]:
    was = gc.isenabled()
    yield
    startgc.resume()
    gc.unfreeze()
    if was:
        gc.enable()


def test_pause_and_resume_turn_the_collector_off_and_on_with_the_heap_frozen() -> None:
    gc.enable()
    gc.unfreeze()
    startgc.pause()
    assert not gc.isenabled()
    startgc.pause()  # twice: still one pause
    ran = startgc.resuming(lambda x: (gc.isenabled(), x))(1)
    assert ran == (True, 1) and gc.isenabled() and gc.get_freeze_count() > 0
    gc.disable()
    startgc.resume()  # nothing paused any more: the collector is left as it is
    assert not gc.isenabled()


def test_a_collector_the_caller_turned_off_stays_off() -> None:
    gc.disable()
    startgc.pause()
    startgc.resuming(lambda: None)()
    assert not gc.isenabled()


def _leaves(commands: Iterable[_click.Command]) -> Iterator[_click.Command]:
    for command in commands:
        if isinstance(command, TyperGroup):
            yield from _leaves(command.commands.values())
        else:
            yield command


def test_every_command_resumes_the_collector_before_its_own_work() -> None:
    commands = [cmd for module in {module for module, _ in COMMANDS.values()}
                for cmd in load_module(module).values()]
    leaves = list(_leaves(commands))
    assert len(leaves) > len(COMMANDS)  # the groups' subcommands are in (psk, twin...)
    assert [c.name for c in leaves if not getattr(c.callback, "__resumes_gc__", False)] == []


PROBE = """
import gc, json, sys
from mistctl.cli import fleet_cmds
collections, seen = [], []
gc.callbacks.append(lambda phase, info: phase == "start" and collections.append(info["generation"]))
real = fleet_cmds.load_fleet
def spy(*args, **kwargs):
    seen.append({"enabled": gc.isenabled(), "collections": len(collections), "frozen": gc.get_freeze_count()})
    return real(*args, **kwargs)
fleet_cmds.load_fleet = spy
from mistctl.cli.main import main
sys.argv = ["mistctl", "validate", sys.argv[1]]
started = len(collections)
try:
    main()
except SystemExit as exc:
    assert exc.code in (0, None), exc.code
print(json.dumps({"started": started, "seen": seen}))
"""


def test_validate_starts_without_a_collection_and_runs_with_the_collector_on() -> None:
    done = subprocess.run([sys.executable, "-c", PROBE, EXAMPLE], capture_output=True, text=True, timeout=60,
                          env={"PYTHONPATH": SRC, "PATH": ""})
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout.splitlines()[-1])
    (seen,) = out["seen"]
    assert seen["enabled"] and seen["frozen"] > 0
    assert seen["collections"] == out["started"]  # none between `main()` and the command's own work
