"""The README's HTTP examples, run as pasted: the service section's bash block (the one that starts `mistctl
serve`) is read from README.md, its `export` sets the service's environment, and every `curl` command runs
with bash against a real `mistctl serve` on a served twin (`--inventory-count 10`, as the README says). Each
answer must hold what the `# {...}` line under its command shows (`...` stands for the rest of a text).

Only the address changes: `localhost:8000` becomes the free port the service was started on.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from mist_twin.config import TwinConfig
from tests.e2e.test_api_serve import running_service
from tests.support.twin import running_twin
from tests.support.workers import DumpedTwin, mistctl_env

REPO = Path(__file__).resolve().parents[2]
SECTION = "## The provisioning service (HTTP API)"


@dataclass
class Example:
    command: str
    expected: Any | None


def _service_block() -> list[str]:
    text = (REPO / "README.md").read_text()
    start = text.index(SECTION)
    section = text[start:text.index("\n## ", start + len(SECTION))]
    blocks = re.findall(r"```bash\n(.*?)```", section, flags=re.S)
    block = next(b for b in blocks if "\nmistctl serve " in "\n" + b)
    return block.replace("\\\n", " ").splitlines()  # continuation lines joined


def _examples(lines: list[str]) -> list[Example]:
    out: list[Example] = []
    for line in lines:
        if line.startswith("curl "):
            out.append(Example(line, None))
        elif line.startswith("# {") and out and out[-1].expected is None:
            out[-1].expected = json.loads(line[2:])
    return out


def _matches(expected: Any, actual: Any, where: str = "") -> list[str]:
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            return [f"{where}: {actual!r} is not an object"]
        return [p for k, v in expected.items()
                for p in (_matches(v, actual[k], f"{where}.{k}") if k in actual else [f"{where}.{k}: missing"])]
    if isinstance(expected, str) and "..." in expected:
        head, _, tail = expected.partition("...")
        ok = isinstance(actual, str) and actual.startswith(head) and actual.endswith(tail)
        return [] if ok else [f"{where}: {actual!r} is not {expected!r}"]
    return [] if expected == actual else [f"{where}: {actual!r} != {expected!r}"]


def _env_of(lines: list[str]) -> dict[str, str]:
    """The variables the block's `export` lines set, as bash sets them (`$(openssl rand -hex 32)` run)."""
    exports = [line.split("#", 1)[0] for line in lines if line.startswith("export ")]
    names = [shlex.split(line)[1].split("=", 1)[0] for line in exports]
    dump = subprocess.run(["bash", "-c", "\n".join([*exports, "env -0"])], capture_output=True, text=True,
                          check=True, timeout=30).stdout
    values = dict(item.split("=", 1) for item in dump.split("\0") if "=" in item)
    return {name: values[name] for name in names}


def test_the_readme_http_examples_answer_as_shown(tmp_path: Path) -> None:
    lines = _service_block()
    examples = _examples(lines)
    serve = shlex.split(next(ln for ln in lines if ln.startswith("mistctl serve ")).split("#", 1)[0])
    assert len(examples) >= 5 and all(e.expected is not None for e in examples), examples
    args = tuple(serve[1:serve.index("--port") + 1]) + ("0",)
    with running_twin(TwinConfig(inventory_count=10)) as (twin_url, org_id, token):
        exported = _env_of(lines)
        env = mistctl_env(twin_url, token, org_id, f"sqlite:///{tmp_path / 'state.db'}", **exported)
        with running_service(env, tmp_path, args=args) as (url, _log):
            answers = []
            for example in examples:
                command = example.command.replace("localhost:8000", url.removeprefix("http://"))
                done = subprocess.run(["bash", "-c", command], cwd=REPO, capture_output=True, text=True,
                                      timeout=120, env={**os.environ, **exported})
                assert done.returncode == 0, (example.command, done.stderr)
                answers.append(json.loads(done.stdout))
            run = _until_ended(url, answers[-1]["id"], env["MISTCTL_API_KEYS"].split(",")[0])
        twin = DumpedTwin(twin_url)
    problems = [(e.command[:60], p) for e, a in zip(examples, answers, strict=True)
                for p in _matches(e.expected, a)]
    assert problems == [], problems
    assert run["status"] == "completed", run
    sites = {s["name"] for s in twin.objects("sites")}
    assert {"Branch-NYC-001", "Store-NYC-001", "Store-PIT-005"} <= sites and "Branch-BOS-002" not in sites
    branch = next(s["id"] for s in twin.objects("sites") if s["name"] == "Branch-NYC-001")
    serials = re.findall(r'"device_serials": \[([^\]]*)\]', "\n".join(lines))[0]
    for serial in json.loads(f"[{serials}]"):
        assert next(d for d in twin.inventory() if d["serial"] == serial).get("site_id") == branch


def _until_ended(url: str, run_id: str, key: str, timeout: float = 180) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        view: dict[str, Any] = httpx.get(f"{url}/deployments/{run_id}", timeout=30,
                                         headers={"Authorization": f"Bearer {key}"}).json()["run"]
        if view["finished_at"] or time.monotonic() > deadline:
            return view
        time.sleep(0.3)
