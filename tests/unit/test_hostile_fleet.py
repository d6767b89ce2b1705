"""Hostile fleet files (tests/fixtures/hostile): `validate` and `ipam` refuse each one with exit 2,
a message naming the item, and no traceback; none of them hangs or reads a file it should not."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mistctl.cli.main import app

HOSTILE = Path(__file__).resolve().parents[1] / "fixtures" / "hostile"
runner = CliRunner()


def refused(*args: str) -> str:
    """Run mistctl; assert exit 2 without a traceback; the output."""
    result = runner.invoke(app, list(args))
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    return result.output


@pytest.mark.parametrize(
    ("fixture", "expected"),
    [
        ("alias_bomb.yaml", "aliases (*name) expand the 66 values written to 490,329,102"),
        ("alias_loop.yaml", ":9: YAML: an alias refers to a value that contains it (a loop)"),
        ("deep_nesting.yaml", "nests deeper than 64 levels"),
        ("huge_int.yaml", ":6: YAML: an integer of 5000 digits"),
        ("zone_true.yaml", "site 's1': zone: must be a number, not true/false"),
        ("ssid_int.yaml", ":10: WLAN '12345' (template 't'): ssid: must be a string"),
        ("site_group_name_int.yaml", "site group '12345': name: must be a string"),
        ("auth_type_bogus.yaml", "auth.type: must be one of \"eap\""),
        ("hide_ssid_yes.yaml", "hide_ssid: must be true or false"),
        ("bands_int.yaml", "bands: must be a list"),
        ("nested_typo.yaml", ":11: RF template 'rf': band_5: unknown key 'power_mni'"),
    ],
)
@pytest.mark.parametrize("command", ["validate", "ipam"])
def test_hostile_fleet_is_refused_naming_the_item(command: str, fixture: str, expected: str) -> None:
    out = refused(command, str(HOSTILE / fixture))
    assert expected in out


@pytest.mark.parametrize("fixture", ["csv_parent.yaml", "csv_absolute.yaml", "csv_environ.yaml", "csv_dev_zero.yaml"])
def test_a_csv_outside_the_fleet_folder_is_refused(fixture: str) -> None:
    out = refused("validate", str(HOSTILE / fixture))
    assert "is outside the fleet file's folder" in out and "--allow-outside" in out
    assert "root:" not in out and "PATH=" not in out  # nothing of the file is echoed


def test_allow_outside_reads_it_but_never_echoes_it(tmp_path: Path) -> None:
    (tmp_path / "secret.csv").write_text("root:x:0:0:root:/root:/bin/bash\n")
    (tmp_path / "folder").mkdir()
    fleet = tmp_path / "folder" / "fleet.yaml"
    fleet.write_text((HOSTILE / "csv_absolute.yaml").read_text().replace("/etc/passwd", "../secret.csv"))
    assert "is outside the fleet file's folder" in refused("validate", str(fleet))
    out = refused("validate", "--allow-outside", str(fleet))
    assert "the first line must start with '#'" in out and "root:x" not in out


def test_a_header_that_is_no_header_is_not_echoed(tmp_path: Path) -> None:
    fleet = tmp_path / "fleet.yaml"
    fleet.write_text((HOSTILE / "csv_absolute.yaml").read_text().replace("/etc/passwd", "sites.csv"))
    (tmp_path / "sites.csv").write_text("# This is a configuration file: SECRET=hunter2\n")
    out = refused("validate", str(fleet))
    assert "hunter2" not in out and "CSV column 1: is not a column name" in out


def test_dev_zero_is_refused_even_when_outside_is_allowed() -> None:
    out = refused("validate", "--allow-outside", str(HOSTILE / "csv_dev_zero.yaml"))
    assert "cannot read the CSV file '/dev/zero': is not a regular file" in out
    assert "is not a regular file" in refused("validate", "/dev/zero")


def test_a_symlink_out_of_the_folder_is_refused(tmp_path: Path) -> None:
    outside = tmp_path / "outside.csv"
    outside.write_text("#name,zone,number\ns1,1,1\n")
    folder = tmp_path / "fleet"
    folder.mkdir()
    os.symlink(outside, folder / "sites.csv")
    fleet = folder / "fleet.yaml"
    fleet.write_text((HOSTILE / "csv_absolute.yaml").read_text().replace("/etc/passwd", "sites.csv"))
    assert "is outside the fleet file's folder" in refused("validate", str(fleet))
    inside = runner.invoke(app, ["validate", "--allow-outside", str(fleet)])
    assert inside.exit_code == 0 and "fleet OK: 1 sites" in inside.output


def test_a_csv_cell_over_128_kib_is_named(tmp_path: Path) -> None:
    fleet = tmp_path / "fleet.yaml"
    fleet.write_text((HOSTILE / "csv_absolute.yaml").read_text().replace("/etc/passwd", "sites.csv"))
    (tmp_path / "sites.csv").write_text('#name,zone,number\ns1,1,"' + "x" * 140_000 + '"\n')
    assert "a cell is larger than 128 KiB" in refused("validate", str(fleet))


def test_a_5000_digit_number_in_the_csv_is_named(tmp_path: Path) -> None:
    fleet = tmp_path / "fleet.yaml"
    fleet.write_text((HOSTILE / "csv_absolute.yaml").read_text().replace("/etc/passwd", "sites.csv"))
    (tmp_path / "sites.csv").write_text("#name,zone,number\ns1,1," + "9" * 5000 + "\n")
    out = refused("ipam", str(fleet))
    assert "sites.csv:2: site 's1': number: is too long for a number" in out and "9" * 30 not in out


def test_the_example_still_validates(tmp_path: Path) -> None:
    examples = Path(__file__).resolve().parents[2] / "examples"
    for name in ("fleet.yaml", "sites.csv"):
        shutil.copy(examples / name, tmp_path / name)
    result = runner.invoke(app, ["validate", str(tmp_path / "fleet.yaml")])
    assert result.exit_code == 0 and "27 org objects" in result.output


def test_ipam_csv_never_writes_a_formula(tmp_path: Path) -> None:
    fleet = tmp_path / "fleet.yaml"
    names = ["=HYPERLINK(\"http://x\")", "+1+2", "-3", "@SUM(A1)", "plain"]
    sites = "".join(f"  - {{name: '{n}', zone: 1, number: {i}}}\n" for i, n in enumerate(names, 1))
    fleet.write_text((HOSTILE / "csv_absolute.yaml").read_text().split("sites:")[0] + "sites:\n" + sites)
    result = runner.invoke(app, ["ipam", str(fleet), "--format", "csv"])
    assert result.exit_code == 0, result.output
    first_cells = [line.split(",")[0] for line in result.output.splitlines()[1:]]
    assert first_cells == ["\"'=HYPERLINK(\"\"http://x\"\")\"", "'+1+2", "'-3", "'@SUM(A1)", "plain"]


def test_a_design_that_is_no_regular_file_is_refused() -> None:
    from mistctl.designs import load_design
    from mistctl.domain.errors import FleetInvalid

    with pytest.raises(FleetInvalid) as refused_design:
        load_design(Path("/dev/zero"))
    assert "design file: cannot be read: is not a regular file" in str(refused_design.value)
