"""Daily operations of the CLI (#14): version, completion, help, run ids, confirmation, --json, profiles."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from mistctl import __version__
from mistctl.cli.main import app


def _run(*args: str, env: dict[str, str] | None = None, stdin: str | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args), env=env, input=stdin)
    return result.exit_code, result.output


def test_version_flag_and_completion_are_offered() -> None:
    code, out = _run("--version")
    assert code == 0 and out.strip() == f"mistctl {__version__}"
    code, out = _run("--help", env={"COLUMNS": "120"})
    assert code == 0 and "--install-completion" in out and "--show-completion" in out
    # what the installed completion script asks: the words so far; the commands that fit
    done = CliRunner().invoke(app, [], prog_name="mistctl", env={
        "_MISTCTL_COMPLETE": "complete_bash", "COMP_WORDS": "mistctl psk ro", "COMP_CWORD": "2"})
    assert done.exit_code == 0 and done.output.split() == ["rotate"]


def test_boolean_options_are_shown_as_flags_and_help_wraps_to_the_width() -> None:
    code, out = _run("upgrade", "--help", env={"COLUMNS": "200"})
    assert code == 0
    dry = next(line for line in out.splitlines() if "--dry-run" in line)
    assert "<bool>" not in out and "bool" not in dry.lower()
    assert "<str>" in next(line for line in out.splitlines() if "--soak" in line)  # value options keep theirs
    assert "is put back on the versions it ran" in out  # the docstring's line break is gone
    code, narrow = _run("upgrade", "--help", env={"COLUMNS": "70"})
    assert code == 0 and max(len(line) for line in narrow.splitlines()) <= 70


def test_workdir_is_untouched_by_help(workdir: Path) -> None:
    assert _run("apply", "--help")[0] == 0
    assert not (workdir / ".mistctl").exists()
