"""The CLI imports a command's modules only when that command runs (cli/lazy.py), and the table `--help`
lists from without importing them says what the commands themselves say."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import typer
from typer.testing import CliRunner

from mistctl.cli.helpfmt import unwrap
from mistctl.cli.lazy import COMMANDS, load_module
from mistctl.cli.main import app

SRC = str(Path(__file__).resolve().parents[2] / "src")
HEAVY = ("fastapi", "starlette", "uvicorn", "arq", "redis", "cryptography", "jsonschema", "mist_twin", "httpx")
#: What `--help` needs none of either: the fleet's parsing and models, Rich's Markdown and tracebacks.
HELP_SPARES = ("pydantic", "pydantic_core", "yaml", "markdown_it", "pygments", "tomllib", "pydantic_settings")


def _imported_after(code: str, *, full: bool = False) -> set[str]:
    """The top-level packages in sys.modules after running `code` in a fresh interpreter (`full`: the modules);
    a module with no spec (the stand-in of cli/standins.py) was not imported."""
    name = "m" if full else "m.split('.')[0]"
    probe = (f"{code}\nimport json, sys\nprint(json.dumps(sorted({{{name} for m, mod in list(sys.modules.items()) "
             "if getattr(mod, '__spec__', None) is not None})))")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True,
                          env={k: v for k, v in os.environ.items() if k != "PYDANTIC_DISABLE_PLUGINS"} | {
                              "PYTHONPATH": SRC})
    return set(json.loads(done.stdout.splitlines()[-1]))


def test_importing_the_cli_imports_no_service_twin_or_network_module() -> None:
    assert not _imported_after("import mistctl.cli.main") & set(HEAVY)


def test_help_imports_no_command_module() -> None:
    loaded = _imported_after(
        "import sys\nfrom mistctl.cli.main import main\nsys.argv = ['mistctl', '--help']\n"
        "try:\n    main()\nexcept SystemExit:\n    pass")
    assert not loaded & set(HEAVY)
    assert not loaded & set(HELP_SPARES)
    assert {"typer", "rich"} <= loaded  # it did render the help


def test_help_pages_still_get_the_real_markdown_and_traceback_when_used() -> None:
    probe = (
        "import sys\nfrom mistctl.cli.main import main\nsys.argv = ['mistctl', 'validate', '--help']\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "assert 'rich.markdown' not in sys.modules and 'rich.traceback' not in sys.modules\n"
        "from typer import rich_utils\n"
        "shown = rich_utils._make_rich_text(text='**bold**', markup_mode='markdown')\n"
        "import rich.markdown, rich.traceback\n"
        "assert type(shown) is rich.markdown.Markdown, type(shown)\n"
        "assert rich.markdown.Markdown.__module__ == 'rich.markdown' and rich.traceback.Traceback.__module__ == "
        "'rich.traceback'\n"
        "try:\n    1 / 0\nexcept ZeroDivisionError as exc:\n"
        "    tb = rich_utils.Traceback.from_exception(type(exc), exc, exc.__traceback__)\n"
        "assert type(tb) is rich.traceback.Traceback\nprint('ok')")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": SRC})
    assert done.returncode == 0 and done.stdout.splitlines()[-1] == "ok", done.stderr
    assert "--allow-outside" in done.stdout  # the command's own help was printed


def test_validate_does_not_import_the_service_the_twin_or_redis() -> None:
    example = Path(__file__).resolve().parents[2] / "examples" / "fleet.yaml"
    loaded = _imported_after(
        f"import sys\nfrom mistctl.cli.main import main\nsys.argv = ['mistctl', 'validate', {str(example)!r}]\n"
        "try:\n    main()\nexcept SystemExit as exc:\n    assert exc.code == 0, exc.code", full=True)
    tops = {m.split(".")[0] for m in loaded}
    assert not tops & {"fastapi", "starlette", "uvicorn", "arq", "redis", "mist_twin", "pydantic_settings", "httpx"}
    assert not tops & {"jsonschema", "markdown_it", "pygments"}  # a valid fleet: no schema error to word
    assert "rich" not in tops  # its one line, off a terminal, is plain text (cli/plainout.py)
    # pydantic's plugins are off: its loader's stand-in answered, without importlib.metadata (cli/standins.py)
    assert "importlib.metadata" not in loaded and "pydantic.plugin._schema_validator" in loaded


def test_validate_json_of_a_valid_fleet_imports_no_rich_either() -> None:
    example = Path(__file__).resolve().parents[2] / "examples" / "fleet.yaml"
    loaded = _imported_after(
        "import sys\nfrom mistctl.cli.main import main\n"
        f"sys.argv = ['mistctl', 'validate', '--json', {str(example)!r}]\n"
        "try:\n    main()\nexcept SystemExit as exc:\n    assert exc.code == 0, exc.code")
    assert "mistctl" in loaded and "rich" not in loaded


def test_the_plugin_loader_stand_in_answers_as_pydantic_does() -> None:
    probe = (
        "import os, sys\nos.environ['PYDANTIC_DISABLE_PLUGINS'] = '__all__'\n"
        "from mistctl.cli import standins\nstandins.install()\n"
        "import pydantic\nclass M(pydantic.BaseModel):\n    a: int\n"
        "assert M(a='1').a == 1 and 'importlib.metadata' not in sys.modules\n"
        "from pydantic.plugin._loader import get_plugins\nassert tuple(get_plugins()) == ()\n"
        "os.environ['PYDANTIC_DISABLE_PLUGINS'] = 'none-such'\n"  # switched on later: the real loader answers
        "assert list(get_plugins()) == [] and 'importlib.metadata' in sys.modules\n"
        "from pydantic.plugin import _loader\nassert _loader.get_plugins.__module__ == 'pydantic.plugin._loader'\n"
        "class N(pydantic.BaseModel):\n    b: str\nassert N(b='x').b == 'x'\nprint('ok')")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": SRC})
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr
    kept = _imported_after(  # plugins not switched off by the user's own setting: the stand-in stays out
        "import os\nos.environ['PYDANTIC_DISABLE_PLUGINS'] = 'some_plugin'\nfrom mistctl.cli import standins\n"
        "standins.install()\nimport pydantic\nclass M(pydantic.BaseModel):\n    a: int", full=True)
    assert "importlib.metadata" in kept


def test_a_named_profile_is_still_checked_against_the_settings(tmp_path: Path) -> None:
    (tmp_path / ".mistctl").mkdir()
    (tmp_path / ".mistctl" / "profiles.toml").write_text('[profiles.lab]\nmist_hots = "x"\n', encoding="utf-8")
    example = Path(__file__).resolve().parents[2] / "examples" / "fleet.yaml"
    done = subprocess.run([sys.executable, "-m", "mistctl", "--profile", "lab", "validate", str(example)],
                          capture_output=True, text=True, cwd=tmp_path, env={**os.environ, "PYTHONPATH": SRC})
    assert done.returncode != 0 and "mist_hots" in done.stdout + done.stderr
    assert "Traceback" not in done.stderr


def test_the_help_table_matches_every_command() -> None:
    real: dict[str, typer.core.TyperCommand] = {}
    for module in {module for module, _ in COMMANDS.values()}:
        real.update(load_module(module))
    assert set(real) == set(COMMANDS)  # no command missing from the table, none listed that does not exist
    for name, (_, line) in COMMANDS.items():
        help_text = unwrap(real[name].help or "")
        assert help_text.split("\n\n")[0] == line, name


def test_root_help_lists_every_command_and_a_command_still_runs() -> None:
    out = CliRunner().invoke(app, ["--help"], prog_name="mistctl", env={"COLUMNS": "300"})
    assert out.exit_code == 0
    listed = [line.split()[1] for line in out.output.splitlines() if line.startswith("│ ") and "  " in line[2:]]
    assert [name for name in listed if name in COMMANDS or name == "version"] == ["version", *COMMANDS]
    ran = CliRunner().invoke(app, ["ipam", str(Path(__file__).resolve().parents[2] / "examples" / "fleet.yaml")],
                             prog_name="mistctl")
    assert ran.exit_code == 0 and "/" in ran.output
    unknown = CliRunner().invoke(app, ["aply"], prog_name="mistctl")
    assert unknown.exit_code == 2 and "apply" in unknown.output  # the suggestion still sees the lazy names


def test_the_apply_commands_import_no_redis_service_or_twin() -> None:
    loaded = _imported_after(  # redis comes with a redis:// store
        "import mistctl.cli.deploy_cmds\nfrom mistctl.config import Settings\n"
        "from mistctl.mist.budget_redis import shared_budget\nfrom mistctl.store import open_store\n"
        "assert shared_budget(open_store('memory://'), Settings(_env_file=None)) is None")
    assert not loaded & {"fastapi", "starlette", "uvicorn", "arq", "redis", "cryptography", "jwt", "mist_twin"}


def test_httpx_is_imported_without_its_command_line_which_still_runs() -> None:
    probe = ("import sys\nfrom mistctl.cli import standins\nstandins.install()\nimport httpx\n"
             "assert not {'click', 'pygments', 'rich.syntax'} & set(sys.modules), 'httpx imported its command line'\n"
             "assert httpx.get and httpx.AsyncClient\nsys.argv = ['httpx', '--help']\nhttpx.main()")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": SRC, "COLUMNS": "100"})
    assert done.returncode == 0, done.stderr
    assert "Usage: httpx" in done.stdout and "--method" in done.stdout  # httpx's own command line answered


def test_apply_help_imports_no_mist_client_settings_or_store() -> None:
    loaded = _imported_after(
        "import sys\nfrom mistctl.cli.main import main\nsys.argv = ['mistctl', 'apply', '--help']\n"
        "try:\n    main()\nexcept SystemExit as exc:\n    assert exc.code == 0, exc.code", full=True)
    tops = {m.split(".")[0] for m in loaded}
    assert not tops & {"httpx", "aiohttp", "pydantic_settings", "click", "pygments"}, tops & {"httpx", "aiohttp"}
    assert not loaded & {"mistctl.bootstrap", "mistctl.config", "mistctl.mist.client", "mistctl.mist.models_day2",
                         "mistctl.cli.day2_gate", "mistctl.workflow.assure", "importlib.metadata"}
    assert "mistctl.cli.deploy_cmds" in loaded  # the command's own help was built from its module


def test_importing_one_mist_module_does_not_import_the_client() -> None:
    loaded = _imported_after("import mistctl.mist.errors\nfrom mistctl.mist import ManualClock", full=True)
    assert "mistctl.mist.client" not in loaded and "httpx" not in loaded
    everything = _imported_after("import mistctl.mist as m\nassert all(getattr(m, n) for n in m.__all__)\n"
                                 "assert m.MistClient.__module__ == 'mistctl.mist.client'", full=True)
    assert {"mistctl.mist.client", "httpx"} <= everything
