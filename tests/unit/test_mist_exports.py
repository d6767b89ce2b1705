"""`mistctl.mist` spells its exported names once (`_EXPORTS`); the imports type checkers read (its
`TYPE_CHECKING` block) must name the same ones from the same modules, or mypy and the runtime disagree."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import mistctl.mist as mist


def _type_checking_imports() -> set[tuple[str, str]]:
    """(module, name) of every import in the package's `if TYPE_CHECKING:` block, each re-exported (`X as X`)."""
    tree = ast.parse(Path(mist.__file__).read_text(encoding="utf-8"))
    block = next(node for node in tree.body if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING")
    found = set()
    for node in block.body:
        assert isinstance(node, ast.ImportFrom) and node.module is not None, ast.unparse(node)
        assert node.module.startswith("mistctl.mist."), node.module
        for alias in node.names:
            assert alias.asname == alias.name, f"{alias.name}: not re-exported for mypy --strict (write `X as X`)"
            found.add((node.module.removeprefix("mistctl.mist."), alias.name))
    return found


def test_the_type_checkers_imports_are_the_tables_names() -> None:
    table = {(module, name) for module, names in mist._EXPORTS.items() for name in names}
    assert _type_checking_imports() == table
    assert mist.__all__ == sorted(name for _, name in table)  # each name once
    assert len(mist.__all__) == len(set(mist.__all__))


def test_each_name_is_its_modules_own_and_listed_by_dir() -> None:
    for module, names in mist._EXPORTS.items():
        home = importlib.import_module(f"mistctl.mist.{module}")
        for name in names:
            assert getattr(mist, name) is getattr(home, name)
    assert set(mist.__all__) <= set(dir(mist))
