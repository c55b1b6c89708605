"""The plan library as a user meets it: `plan list`, `plan show NAME`, `flash --plan NAME`."""
import json
from pathlib import Path

import pytest

from host_tools import cli, flash, plan_library
from host_tools.pty_board import PtyBoard
from swcore import plan as planmod


def test_plan_list_shows_the_beginner_path_in_order_with_the_seed_warning(capsys):
    assert cli.main(["plan", "list"]) == 0
    out = capsys.readouterr().out
    assert "Beginner path: beginner-walk -> beginner-short -> descending-sprints" in out
    walk, short, full = (out.index(k) for k in ("beginner-walk  ", "beginner-short  ", "descending-sprints  "))
    assert walk < short < full
    assert "Downhill Fast Walk, beginner" in out and "Descending Sprints, intermediate" in out
    assert "Not recommended for beginners" in out


def test_plan_show_name_prints_the_steps_and_every_warning(capsys):
    assert cli.main(["plan", "show", "beginner-short"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Short Descents  [beginner]")
    assert "short steps to reduce impact" in out and "loose gravel" in out
    assert out.count("Short Descent ") == 4
    assert "next on the path: descending-sprints" in out
    assert cli.main(["plan", "show"]) == 0               # the built-in session carries the seed's warnings
    assert "Not recommended for beginners" in capsys.readouterr().out


def test_every_library_plan_passes_the_device_parser_and_says_its_level():
    for name in plan_library.names():
        doc = plan_library.get(name)
        title, steps = planmod.parse(plan_library.text(name))
        assert title == doc["name"] and doc["level"] in planmod.LEVELS
    assert [plan_library.get(n)["level"] for n in plan_library.PATH] == ["beginner", "beginner", "intermediate"]
    walk = planmod.parse(plan_library.get("beginner-walk"))[1]
    assert not [s for s in walk if s["kind"] == "sprint"]      # stage 1 walks: no running at all


def test_flash_plan_name_puts_the_library_plan_on_the_device(tmp_path, monkeypatch):
    monkeypatch.setenv("SPRINTWATCH_DATA", str(tmp_path / "host-data"))
    root = tmp_path / "flash"
    root.mkdir()
    with PtyBoard(root) as board:
        flash.flash("sim", board.port, plan="beginner-walk")
    doc = json.loads(Path(root, "plan.json").read_text())
    assert doc == plan_library.get("beginner-walk")
    with pytest.raises(flash.DeviceError, match="cannot read plan"):
        flash.check_plan(str(tmp_path / "no-such-plan"))
