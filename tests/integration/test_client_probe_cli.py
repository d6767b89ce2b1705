"""`mistctl probe` end to end: the built-in twin by default, a real HTTP twin through MIST_HOST."""

from __future__ import annotations

import httpx
import pytest
import typer
from typer.testing import CliRunner

from mist_twin.config import TwinConfig
from mistctl.cli import probe_cmds
from mistctl.mist import token_fingerprint
from tests.support.twin import running_twin

NO_CLOUD = {"MIST_HOST": None, "MIST_APITOKEN": None, "MIST_ORG_ID": None}


def cli() -> typer.Typer:
    app = typer.Typer(pretty_exceptions_enable=False)

    @app.callback()
    def root() -> None:
        """mistctl (probe only)."""

    probe_cmds.register(app)
    return app


def probe(*args: str, **env: str | None) -> tuple[int, str]:
    result = CliRunner().invoke(cli(), ["probe", *args], env={**NO_CLOUD, **env})
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.output


def test_without_cloud_settings_the_built_in_twin_is_probed(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, out = probe()
    assert code == 0, out
    assert out.splitlines()[0].startswith("target: built-in Mist twin (state .mistctl/twin.db)")
    assert "MIST_HOST and MIST_APITOKEN" in out.splitlines()[0]
    assert "probe ok" in out
    assert (tmp_path / ".mistctl" / "twin.db").exists()
    org_line = next(line for line in out.splitlines() if line.startswith("probe ok"))
    code, again = probe()
    assert code == 0 and org_line in again  # the twin kept its org id in its state file


def test_a_wrong_org_id_fails_with_exit_1(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, out = probe("--org-id", "00000000-0000-0000-0000-000000000000")
    assert code == 1
    assert "not visible" in out


@pytest.mark.parametrize(
    ("env", "words"),
    [
        ({"MIST_APITOKEN": "x"}, "MIST_HOST is not"),
        ({"MIST_HOST": "api.mist.com"}, "MIST_APITOKEN is not set"),
        ({"MIST_HOST": "not a host", "MIST_APITOKEN": "x"}, "MIST_HOST 'not a host'"),
        ({"MIST_CONCURRENCY": "many"}, "MIST_CONCURRENCY"),
        ({"MIST_HOST": "api.mist.com", "MIST_APITOKEN": "abc def"}, "MIST_APITOKEN: the only entry has a space"),
    ],
)
def test_bad_settings_exit_2_with_the_fix(tmp_path, monkeypatch, env, words):
    monkeypatch.chdir(tmp_path)
    code, out = probe(**env)
    assert code == 2
    assert words in out and "Traceback" not in out


@pytest.mark.slow
def test_a_real_http_target_with_good_bad_and_read_only_tokens():
    with running_twin(TwinConfig(device_count=0)) as (base_url, org_id, token):
        reader = httpx.post(f"{base_url}/__twin/tokens", json={"role": "read"}).json()["token"]

        code, out = probe(MIST_HOST=base_url, MIST_APITOKEN=token)
        assert code == 0, out
        assert out.splitlines()[0].startswith(f"target: Mist cloud {base_url}")
        assert org_id in out and token not in out

        code, out = probe(MIST_HOST=base_url, MIST_APITOKEN="wrong-token")
        assert code == 1
        assert "Mist rejected the API token" in out and "wrong-token" not in out

        code, out = probe("--org-id", org_id, MIST_HOST=base_url, MIST_APITOKEN=reader)
        assert code == 1
        assert "cannot change org" in out and "read" in out


def test_an_unreachable_host_exits_1(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, out = probe("--mist-host", "http://127.0.0.1:9", MIST_APITOKEN="x", MIST_MAX_ATTEMPTS="1")
    assert code == 1
    assert "cannot reach Mist" in out


def test_probe_says_which_tokens_share_a_budget():
    with running_twin(TwinConfig(device_count=0)) as (base_url, _org_id, token):
        same_user = httpx.post(f"{base_url}/__twin/tokens", json={"role": "admin", "user": "twin-admin@example.com"})
        org_token = httpx.post(f"{base_url}/__twin/tokens", json={"role": "admin"})
        tokens = [token, same_user.json()["token"], org_token.json()["token"]]
        code, out = probe(MIST_HOST=base_url, MIST_APITOKEN=",".join(tokens))
    keys = [token_fingerprint(t) for t in tokens]
    assert code == 0, out
    assert f"API budget: tokens {keys[0]}, {keys[1]} share one budget of user twin-admin@example.com" in out
    assert f"API budget: token {keys[2]} is an org token" in out
    assert "an org token (Organization > Settings > API Token) has a budget of its own" in out
    assert not any(t in out for t in tokens)


async def test_the_plan_eta_counts_one_budget_for_one_admins_tokens(tmp_path):
    from types import SimpleNamespace

    from mistctl.bootstrap import open_services
    from mistctl.config import Settings
    from tests.support.twin import twin_app, twin_transport

    app = twin_app(rate_limit=10, device_count=0)
    twin = app.state.twin
    second = twin.add_token("admin", user="twin-admin@example.com").token
    settings = Settings(mist_host="http://twin", mist_apitoken=f"{twin.token},{second}", mist_rate_limit=10,
                        mistctl_state=str(tmp_path / "state.db"))
    async with app.router.lifespan_context(app), open_services(
        settings=settings, transport=twin_transport(app), org_id=twin.org_id
    ) as svc:
        lines = await svc.budget_lines()
        states = await svc.mist.budget_states()
        eta = await svc.eta(SimpleNamespace(estimated_calls=15))
    assert len(states) == 1 and states[0].limit == 10
    assert lines == [f"tokens {', '.join(svc.mist.token_keys)} share one budget of user twin-admin@example.com"]
    assert eta >= states[0].reset_in - 1, "15 calls cannot fit in one admin's 10: the ETA waits for the reset"
