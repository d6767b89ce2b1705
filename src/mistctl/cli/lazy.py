"""A lazy command registry: `mistctl --help` and each command import only the modules they use.

Importing every command module up front pulled in FastAPI, arq, redis, cryptography, jsonschema and the
twin for `mistctl --help` (0.6 s of CPU). The root group here knows each command's name, the module that
registers it and the one-line help `--help` lists; the module is imported when the command runs, or when
its own `--help` is asked for. `tests/unit/test_cli_lazy.py` checks the table against the real commands.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable
from difflib import get_close_matches
from typing import Any

import typer
from typer import _click
from typer.core import TyperCommand, TyperGroup

from mistctl.cli import helpfmt, startgc

# command -> (module whose register(app) adds it, the first paragraph of its help), in `--help` order
COMMANDS: dict[str, tuple[str, str]] = {
    "validate": ("mistctl.cli.fleet_cmds",
                 "Check a fleet file offline: syntax, keys, IP plan, references, variables, Mist's schemas."),
    "ipam": ("mistctl.cli.fleet_cmds",
             "Print the IP plan: every site's segments (VLAN, CIDR, gateway); json adds the site variables."),
    "probe": ("mistctl.cli.probe_cmds",
              "Check the Mist target: cloud reachable, token valid, org visible, write privilege, calls left."),
    "conformance": ("mistctl.cli.conformance_cmds",
                    "Check on a throwaway site what mistctl assumes about Mist (18 calls, at most 40), "
                    "then delete it."),
    "plan": ("mistctl.cli.deploy_cmds",
             "Show what `apply` would change, with the estimated API calls and ETA; writes nothing."),
    "apply": ("mistctl.cli.deploy_cmds",
              "Apply a fleet (plan, confirm, apply) or exactly a saved plan. Exit 0 done, 1 sites failed, "
              "2 bad input."),
    "status": ("mistctl.cli.deploy_cmds", "Runs and sites as the state store records them (no Mist calls)."),
    "audit": ("mistctl.cli.deploy_cmds", "The audit log: every write mistctl made to Mist (no bodies, no secrets)."),
    "demo": ("mistctl.cli.deploy_cmds",
             "Provision the example fleet into the built-in twin (never a real Mist), then show a second plan "
             "is empty."),
    "unlock": ("mistctl.cli.lock_cmds",
               "Free an org's lock left by a run whose process died (as `terraform force-unlock`)."),
    "dedupe": ("mistctl.cli.dedupe_cmds",
               "Delete the younger duplicates of the fleet's objects that mistctl itself created (its audit log)."),
    "serve": ("mistctl.cli.serve_cmds",
              "Serve the HTTP API until interrupted; prints one ready line (docs at /docs)."),
    "drift": ("mistctl.cli.day2_cmds",
              "Compare the live org (site settings included) with the fleet. Exit 0 none, 3 drift, 1 fix failed."),
    "assure": ("mistctl.cli.day2_cmds",
               "Check every fleet site's SLEs: pass, fail or no-data each; exit 0 only when all pass (exit 1 "
               "naming the rest)."),
    "upgrade": ("mistctl.cli.day2_cmds",
                "Roll a firmware version out in waves, gated on SLEs; a wave that hurts halts the rollout, is put "
                "back on the versions it ran, and later waves are left untouched. `--rollback RUN` undoes a "
                "rollout the same way."),
    "worker": ("mistctl.cli.worker_cmds",
               "Run queued deployments (MISTCTL_STATE=redis://...) until interrupted; start as many as you like."),
    "cancel": ("mistctl.cli.worker_cmds",
               "Ask a run to stop: sites not started yet are skipped; a re-run resumes where it stopped."),
    "rollback": ("mistctl.cli.rollback_cmds",
                 "Undo a run: delete what it created, restore what it updated, recreate what it deleted."),
    "import": ("mistctl.cli.import_cmds",
               "Write a fleet file for an existing org: org objects, sites, devices, the IP plan inferred."),
    "twin": ("mistctl.cli.twin_cmds", "Run the local twin of the Mist cloud API."),
    "psk": ("mistctl.cli.day2_cmds",
            "Rotate PSK passphrases safely (the old one keeps working for a grace period)."),
}


def load_module(module_name: str) -> dict[str, _click.Command]:
    """The click commands a command module registers, built as the root app would build them; each callback
    (a group's subcommands' too) resumes the garbage collector paused for the start-up (cli/startgc.py)."""
    module: Any = importlib.import_module(module_name)
    part = typer.Typer(pretty_exceptions_enable=False)
    module.register(part)
    helpfmt.tidy_help(part)
    commands = dict(typer.main.get_group(part).commands)
    _resuming_gc(commands.values())
    return commands


def _resuming_gc(commands: Iterable[_click.Command]) -> None:
    for command in commands:
        if command.callback is not None:
            command.callback = startgc.resuming(command.callback)
        if isinstance(command, TyperGroup):
            _resuming_gc(command.commands.values())


class LazyGroup(TyperGroup):
    """The root group: lists COMMANDS without importing them; imports a command's module when it is used."""

    _listing = False

    def list_commands(self, ctx: _click.Context) -> list[str]:  # noqa: ARG002 (click's signature)
        return [*(name for name in self.commands if name not in COMMANDS), *COMMANDS]

    def get_command(self, ctx: _click.Context, cmd_name: str) -> _click.Command | None:  # noqa: ARG002
        if cmd_name in self.commands or cmd_name not in COMMANDS:
            return self.commands.get(cmd_name)
        module_name, help_line = COMMANDS[cmd_name]
        if self._listing:  # the root's --help: the name and its line are all it shows
            return TyperCommand(cmd_name, help=help_line)
        for name, command in load_module(module_name).items():
            self.commands.setdefault(name, command)
        return self.commands.get(cmd_name)

    def resolve_command(
        self, ctx: _click.Context, args: list[str]
    ) -> tuple[str | None, _click.Command | None, list[str]]:
        try:
            return self._click_resolve_command(ctx, args)
        except _click.exceptions.UsageError as error:  # Typer's suggestion, from the lazy names too
            matches = get_close_matches(args[0], self.list_commands(ctx)) if args and self.suggest_commands else []
            if matches:
                error.message = f"{error.message.rstrip('.')}. Did you mean {', '.join(map(repr, matches))}?"
            raise

    def format_help(self, ctx: _click.Context, formatter: _click.HelpFormatter) -> None:
        self._listing = True
        try:
            super().format_help(ctx, formatter)
        finally:
            self._listing = False
