"""`mistctl validate` and `mistctl ipam` as a user runs them: exit codes, output, no tracebacks."""

from __future__ import annotations

import csv
import io
import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mistctl.cli.main import app

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
runner = CliRunner()


@pytest.fixture()
def example(tmp_path: Path) -> Path:
    for name in ("fleet.yaml", "sites.csv"):
        shutil.copy(EXAMPLES / name, tmp_path / name)
    return tmp_path / "fleet.yaml"


def test_validate_the_example(example):
    result = runner.invoke(app, ["validate", str(example)])
    assert result.exit_code == 0, result.output
    assert "fleet OK: 20 sites in 3 zones, 27 org objects" in result.output


def test_validate_reports_every_problem_and_exits_2(example):
    text = example.read_text()
    text = text.replace("number: 2\n", "number: 1\n", 1)  # Store-BOS-002 takes NYC's number
    text = text.replace(
        "template: store-wifi\n      auth: {type: open}", "template: store-wify\n      auth: {type: open}"
    )
    text = text.replace('passphrase: "scanner-example-pass-01"', 'passphrase: "tiny"')
    example.write_text(text)
    csv_file = example.parent / "sites.csv"
    csv_file.write_text(csv_file.read_text().replace('CO 80206",2,6,', 'CO 80206",9,6,'))
    result = runner.invoke(app, ["validate", str(example)])
    out = result.output
    assert result.exit_code == 2
    assert "Traceback" not in out
    assert "problems in the fleet" in out
    assert "site 'Store-BOS-002': zone 1 number 1 is also site 'Store-NYC-001'" in out
    assert "WLAN 'Store-Guest' (template 'store-wify'): template names WLAN template 'store-wify'" in out
    assert "PSK 'handheld-scanners': passphrase is 4 characters" in out
    assert "sites.csv:" in out and "site 'Store-DEN-006': zone 9 is not defined in zones" in out
    assert "tiny" not in out


def test_validate_a_yaml_syntax_error(tmp_path):
    bad = tmp_path / "fleet.yaml"
    bad.write_text("ip_plan:\n  segments: [\n    {name: mgmt\n")
    result = runner.invoke(app, ["validate", str(bad)])
    assert result.exit_code == 2 and "YAML syntax error" in result.output and "Traceback" not in result.output


def test_validate_a_missing_file(tmp_path):
    result = runner.invoke(app, ["validate", str(tmp_path / "nope.yaml")])
    assert result.exit_code == 2 and "does not exist: check the path" in result.output


def test_ipam_json(example):
    result = runner.invoke(app, ["ipam", str(example), "--format", "json"])
    assert result.exit_code == 0, result.output
    records = json.loads(result.output)
    assert len(records) == 20
    nyc = records[0]
    assert (nyc["site"], nyc["zone"], nyc["number"]) == ("Store-NYC-001", 1, 1)
    assert nyc["segments"][0] == {"name": "mgmt", "vlan": 10, "cidr": "10.0.0.0/24", "gateway": "10.0.0.1"}
    assert nyc["vars"]["store_code"] == "NYC001" and nyc["vars"]["iot_subnet"] == "10.0.3.0/25"


def test_ipam_csv_for_one_site(example):
    result = runner.invoke(app, ["ipam", str(example), "--format", "csv", "--site", "Store-PHX-006"])
    assert result.exit_code == 0, result.output
    rows = list(csv.reader(io.StringIO(result.output)))
    assert rows[0] == ["site", "zone", "number", "segment", "vlan", "cidr", "gateway"]
    assert rows[1] == ["Store-PHX-006", "3", "6", "mgmt", "10", "10.64.20.0/24", "10.64.20.1"]
    assert len(rows) == 6


def test_ipam_table(example):
    result = runner.invoke(app, ["ipam", str(example), "--site", "Store-SEA-001"])
    assert result.exit_code == 0, result.output
    assert "Store-SEA-001" in result.output and "10.64.2.128/25" in result.output and "10.64.2.129" in result.output


def test_ipam_unknown_site_and_bad_format(example):
    result = runner.invoke(app, ["ipam", str(example), "--site", "Store-XYZ"])
    assert result.exit_code == 2 and "no site named 'Store-XYZ'" in result.output
    result = runner.invoke(app, ["ipam", str(example), "--format", "xml"])
    assert result.exit_code == 2
