"""The `mistctl` command line: one Typer app; each area registers its commands from its own module, imported
only when one of its commands runs (cli/lazy.py)."""

from __future__ import annotations

import gc
import os

import typer

from mistctl import __version__, profiles
from mistctl.cli import helpfmt, richhelp, standins, startgc
from mistctl.cli.errors import fail
from mistctl.cli.lazy import LazyGroup
from mistctl.errors import UserError

richhelp.install()  # help pages without rich.markdown and rich.traceback (cli/richhelp.py)

app = typer.Typer(
    name="mistctl",
    cls=LazyGroup,  # each command's module is imported when that command runs (cli/lazy.py)
    help="Plan, provision and operate Juniper Mist networks across many sites, as code.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=True,
)


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"mistctl {__version__}")
        raise typer.Exit(0)


@app.callback()
def _root(
    ctx: typer.Context,
    _version: bool = typer.Option(False, "--version", is_eager=True, callback=_print_version,
                                  help="Print mistctl's version and exit."),
    profile: str | None = typer.Option(
        None, "--profile", envvar="MISTCTL_PROFILE", show_default=False,
        help="Use this named profile's settings (.mistctl/profiles.toml, ~/.config/mistctl/profiles.toml); "
             "environment variables and .env still come first."),
) -> None:
    """Plan, provision and operate Juniper Mist networks across many sites, as code."""
    known: frozenset[str] = frozenset()
    if profile is not None:  # only a named profile needs the settings' names (pydantic-settings: 0.1 s to import)
        from mistctl.config import Settings

        known = frozenset(Settings.model_fields)
    try:
        profiles.activate(profile, known)
    except UserError as exc:
        fail(str(exc))
    ctx.call_on_close(lambda: profiles.activate(None))  # for this command only (tests run many in one process)


@app.command()
def version() -> None:
    """Print mistctl's version."""
    typer.echo(f"mistctl {__version__}")


helpfmt.tidy_help(app)


def main() -> None:
    """Console-script entry point."""
    startgc.pause()  # until the command's own callback runs (cli/startgc.py)
    # pydantic looks for plugins in every installed package's entry points when it builds the first model
    # (40 ms); mistctl uses none, and Typer turns the search off for its own models the same way.
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    standins.install()  # ... and its plugin loader need not import importlib.metadata (cli/standins.py)
    try:
        app()
    finally:
        startgc.resume()
        # The process ends here: the interpreter's last collections would walk every object of every
        # imported module (0.05 s after `--help`, 0.1 s after `validate`) to find nothing worth freeing.
        # Frozen, they are skipped; objects are still freed by reference counting as the modules go.
        gc.freeze()
