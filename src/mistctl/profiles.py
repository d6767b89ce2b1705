"""Named profiles: the settings of several orgs or clouds, chosen with `mistctl --profile NAME`.

A profile is a table of `profiles.toml`, read from `.mistctl/profiles.toml` (the project's, first) and
then `~/.config/mistctl/profiles.toml` (`$XDG_CONFIG_HOME`): the first file that has the profile wins.

    [profiles.eu]
    mist_host = "api.eu.mist.com"
    mist_org_id = "..."
    mistctl_state = "sqlite:///.mistctl/eu.db"

Keys are the settings' names (`mist_host` or `MIST_HOST`). A profile is the lowest layer: `MIST_*` and
`MISTCTL_*` environment variables come first, then a `.env` file, then the profile, then the defaults
(config.py). The active profile is set once per command by the CLI (or `MISTCTL_PROFILE`).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from mistctl.errors import UserError

_active: str | None = None


def profile_files() -> list[Path]:
    """Where profiles are looked for, first match wins."""
    config = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    return [Path(".mistctl") / "profiles.toml", config / "mistctl" / "profiles.toml"]


def activate(name: str | None, known: frozenset[str] = frozenset()) -> None:
    """Make `name` the profile every `Settings()` of this process reads (None: no profile); checked now
    against the setting names `known` (`Settings.model_fields`)."""
    global _active
    if name is not None:
        load_profile(name, known)  # an unknown profile or a bad key is an error before any command runs
    _active = name


def active() -> str | None:
    """The active profile's name, if any."""
    return _active


def _read(path: Path) -> dict[str, Any]:
    import tomllib  # only a named profile reads TOML: `mistctl --help` does without it

    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError:
        return {}
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise UserError(f"{path}: not valid TOML ({exc}); fix it or remove it") from None
    profiles = data.get("profiles", {})
    if not isinstance(profiles, dict):
        raise UserError(f"{path}: `profiles` must be a table of tables ([profiles.NAME])")
    return profiles


def load_profile(name: str, fields: frozenset[str]) -> dict[str, Any]:
    """The settings of profile `name` (lower-case keys, among `fields`); `UserError` naming the files and
    profiles otherwise."""
    seen: list[str] = []
    for path in profile_files():
        profiles = _read(path)
        seen += [f"{n} ({path})" for n in profiles]
        if name in profiles:
            return _checked(path, name, profiles[name], fields)
    where = " or ".join(str(p) for p in profile_files())
    have = f"; profiles found: {', '.join(seen)}" if seen else ""
    raise UserError(f"no profile {name!r} in {where}{have}")


def _checked(path: Path, name: str, table: Any, fields: frozenset[str]) -> dict[str, Any]:
    if not isinstance(table, dict):
        raise UserError(f"{path}: profile {name!r} must be a table of settings ([profiles.{name}])")
    values = {str(k).lower(): v for k, v in table.items()}
    unknown = sorted(set(values) - fields)
    if unknown:
        raise UserError(f"{path}: profile {name!r}: unknown setting(s) {', '.join(unknown)}; "
                        f"settings are {', '.join(sorted(fields))}")
    return values
